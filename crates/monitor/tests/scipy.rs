//! The statistics against SciPy on the same arrays, to 1e-6: KS statistic and p-value,
//! chi-squared, the Z-test's normal tail, Wasserstein, Jensen-Shannon, and NumPy's Sturges
//! histogram with Evidently's binning (PSI). Needs a Python with NumPy and SciPy in
//! `NIVESH_TEST_PYTHON` (`.ci/run` sets it); prints SKIPPED without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::rng::Rng;
use nivesh_monitor::stats::{self, Key};
use serde_json::{Value, json};

const SCRIPT: &str = r#"
import json, sys
import numpy as np
from scipy import stats
from scipy.spatial import distance
cases = json.load(open(sys.argv[1]))
out = {"ks": [], "chi": [], "wasserstein": [], "js": [], "z": [], "hist": []}
for a, b in cases["ks"]:
    r = stats.ks_2samp(a, b)
    out["ks"].append([float(r.statistic), float(r.pvalue)])
for obs, exp in cases["chi"]:
    r = stats.chisquare(obs, exp)
    out["chi"].append([float(r.statistic), float(r.pvalue)])
for a, b in cases["wasserstein"]:
    out["wasserstein"].append(float(stats.wasserstein_distance(a, b)))
for p, q in cases["js"]:
    out["js"].append(float(distance.jensenshannon(p, q)))
for z in cases["z"]:
    out["z"].append(float(2 * (1 - stats.norm.cdf(abs(z)))))
for a, b in cases["hist"]:
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
    out["hist"].append([edges.tolist(), np.histogram(a, edges)[0].tolist(), np.histogram(b, edges)[0].tolist()])
json.dump(out, sys.stdout)
"#;

fn normal(rng: &mut Rng, n: usize, mean: f64, sd: f64, round: bool) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let x = mean + sd * rng.normal();
            if round { x.round() } else { x }
        })
        .collect()
}

fn close(what: &str, ours: f64, theirs: f64) {
    assert!((ours - theirs).abs() <= 1e-6 || (ours.is_nan() && theirs.is_nan()), "{what}: ours {ours}, SciPy {theirs}");
}

#[test]
fn statistics_match_scipy() {
    let Ok(python) = std::env::var("NIVESH_TEST_PYTHON") else {
        println!("SKIPPED: set NIVESH_TEST_PYTHON to a Python with NumPy and SciPy");
        return;
    };
    let mut rng = Rng::new(7);
    // sizes: equal, unequal, co-prime, with ties (rounded), large (exact path up to 10,000)
    let sizes =
        [(5, 5), (20, 20), (37, 53), (100, 250), (300, 299), (1000, 800), (999, 1000), (3000, 4500), (10_000, 7_000)];
    let mut ks = Vec::new();
    for (i, &(n1, n2)) in sizes.iter().enumerate() {
        let shift = [0.0, 0.1, 0.3][i % 3];
        let round = i % 2 == 1;
        ks.push((normal(&mut rng, n1, 0.0, 1.0, round), normal(&mut rng, n2, shift, 1.0 + shift, round)));
    }
    ks.push((vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]));
    let chi: Vec<(Vec<f64>, Vec<f64>)> = (0..6)
        .map(|i| {
            let k = 2 + i * 3;
            let obs: Vec<f64> = (0..k).map(|_| (rng.f64() * 100.0).floor()).collect();
            let total: f64 = obs.iter().sum();
            let raw: Vec<f64> = (0..k).map(|_| rng.f64() + 0.1).collect();
            let s: f64 = raw.iter().sum();
            (obs, raw.iter().map(|r| r / s * total).collect())
        })
        .collect();
    let wasserstein: Vec<(Vec<f64>, Vec<f64>)> = (0..4)
        .map(|i| (normal(&mut rng, 50 + i * 200, 0.0, 1.0, false), normal(&mut rng, 80 + i * 100, 0.5, 2.0, i == 2)))
        .collect();
    let js: Vec<(Vec<f64>, Vec<f64>)> = (0..5)
        .map(|i| {
            let k = 2 + i * 4;
            let p: Vec<f64> = (0..k).map(|j| if j % 3 == 2 { 0.0 } else { rng.f64() }).collect();
            let q: Vec<f64> = (0..k).map(|_| rng.f64()).collect();
            (p, q)
        })
        .collect();
    let z: Vec<f64> = vec![0.0, 0.5, 1.96, 3.2, -2.5];
    let hist: Vec<(Vec<f64>, Vec<f64>)> = (0..3)
        .map(|i| (normal(&mut rng, 100 + 400 * i, 0.0, 1.0, false), normal(&mut rng, 300, 0.3, 1.0, i == 1)))
        .collect();
    let cases = json!({"ks": ks, "chi": chi, "wasserstein": wasserstein, "js": js, "z": z, "hist": hist});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.json");
    std::fs::write(&path, cases.to_string()).unwrap();
    let script = dir.path().join("scipy_stats.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = std::process::Command::new(&python).arg(&script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scipy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);

    for (i, (a, b)) in ks.iter().enumerate() {
        let r = stats::ks_2samp(a, b);
        close(&format!("ks[{i}] statistic"), r.statistic, f(&scipy["ks"][i][0]));
        close(&format!("ks[{i}] p-value ({}×{})", a.len(), b.len()), r.p_value, f(&scipy["ks"][i][1]));
    }
    for (i, (obs, exp)) in chi.iter().enumerate() {
        let (s, p) = stats::chi_square(obs, exp);
        close(&format!("chi[{i}] statistic"), s, f(&scipy["chi"][i][0]));
        close(&format!("chi[{i}] p-value"), p, f(&scipy["chi"][i][1]));
    }
    for (i, (a, b)) in wasserstein.iter().enumerate() {
        close(&format!("wasserstein[{i}]"), stats::wasserstein(a, b), f(&scipy["wasserstein"][i]));
    }
    for (i, (p, q)) in js.iter().enumerate() {
        close(&format!("js[{i}]"), stats::jensen_shannon(p, q), f(&scipy["js"][i]));
    }
    for (i, &zv) in z.iter().enumerate() {
        close(&format!("z[{i}]"), 2.0 * (1.0 - stats::normal_cdf(zv.abs())), f(&scipy["z"][i]));
    }
    for (i, (a, b)) in hist.iter().enumerate() {
        let all: Vec<f64> = a.iter().chain(b).copied().collect();
        let edges = stats::sturges_edges(&all);
        let theirs: Vec<f64> = scipy["hist"][i][0].as_array().unwrap().iter().map(f).collect();
        assert_eq!(edges.len(), theirs.len(), "hist[{i}] edges");
        for (e, t) in edges.iter().zip(&theirs) {
            close(&format!("hist[{i}] edge"), *e, *t);
        }
        for (k, sample) in [a, b].iter().enumerate() {
            let counts = stats::histogram(sample, &edges);
            let theirs: Vec<f64> = scipy["hist"][i][k + 1].as_array().unwrap().iter().map(f).collect();
            assert_eq!(counts, theirs, "hist[{i}] counts of sample {k}");
        }
        // and Evidently's shares (over more than 20 distinct values: the same bins)
        let keys = |v: &[f64]| v.iter().map(|&x| Key::num(x)).collect::<Vec<_>>();
        let (r, _) = stats::binned_shares(&keys(a), &keys(b), Some((a, b)), false);
        let total: f64 = r.iter().sum();
        close(&format!("hist[{i}] shares"), total, 1.0);
    }
}
