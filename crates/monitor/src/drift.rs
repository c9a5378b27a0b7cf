//! Drift between a reference sample and a current one, column by column, with the test
//! Evidently chooses by default (`_get_default_stattest`) and its threshold, plus the PSI of
//! every column; a dataset (a model's inputs) drifts when at least `drift_share` of its
//! feature columns do.
//!
//! | reference rows | numerical, > 5 distinct values | otherwise |
//! |---|---|---|
//! | ≤ 1,000 | Kolmogorov-Smirnov, drift at p ≤ 0.05 | chi-squared (> 2 distinct), Z-test (≤ 2): drift at p < 0.05 |
//! | > 1,000 | Wasserstein distance / max(σ_ref, 0.001), drift at ≥ 0.1 | Jensen-Shannon distance, drift at ≥ 0.1 |
//!
//! Distinct values are counted over both samples; missing values (NaN, ±∞, empty) are dropped
//! before testing.

use crate::sample::{Column, Sample};
use crate::stats::{self, Key};
pub use nivesh_api::monitoring::{Bin, ColumnDrift, DriftReport, Test};
use serde::{Deserialize, Serialize};

/// Thresholds of a drift check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Share of drifted feature columns at which the dataset drifts (Evidently: 0.5).
    pub drift_share: f64,
    /// PSI at which a column is flagged (`DRIFT_ALERT_THRESHOLD`; 0.1 moderate, 0.25 significant).
    pub psi_threshold: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { drift_share: 0.5, psi_threshold: 0.1 }
    }
}

/// Drift of one column; `None` when either side has no values left.
pub fn column_drift(reference: &Column, current: &Column, options: &Options) -> Option<ColumnDrift> {
    let (rk, rn) = reference.present();
    let (ck, cn) = current.present();
    if rk.is_empty() || ck.is_empty() {
        return None;
    }
    let mut all: Vec<&Key> = rk.iter().chain(&ck).collect();
    all.sort();
    all.dedup();
    let distinct = all.len();
    let test = Test::choose(reference.kind, rk.len(), distinct);
    let numeric = match (&rn, &cn) {
        (Some(r), Some(c)) => Some((r.as_slice(), c.as_slice())),
        _ => None,
    };
    let score = match test {
        Test::Ks => numeric.map_or(f64::NAN, |(r, c)| stats::ks_2samp(r, c).p_value),
        Test::Wasserstein => numeric.map_or(f64::NAN, |(r, c)| stats::wasserstein(r, c) / stats::std_dev(r).max(0.001)),
        Test::ChiSquare => {
            let (rc, cc) = (stats::value_counts(&rk), stats::value_counts(&ck));
            let k_norm = ck.len() as f64 / rk.len() as f64;
            let expected: Vec<f64> = all.iter().map(|k| rc.get(k).copied().unwrap_or(0.0) * k_norm).collect();
            let observed: Vec<f64> = all.iter().map(|k| cc.get(k).copied().unwrap_or(0.0)).collect();
            stats::chi_square(&observed, &expected).1
        }
        Test::Z => {
            let one_value = |keys: &[Key]| keys.iter().all(|k| *k == keys[0]);
            if one_value(&rk) && one_value(&ck) && rk[0] == ck[0] {
                1.0
            } else {
                // the share of values other than the smallest
                let first = all[0];
                let share = |keys: &[Key]| keys.iter().filter(|k| *k != first).count() as f64 / keys.len() as f64;
                stats::two_proportion_z_p(share(&rk), rk.len() as f64, share(&ck), ck.len() as f64)
            }
        }
        Test::JensenShannon => {
            let (r, c) = stats::binned_shares(&rk, &ck, numeric, false);
            stats::jensen_shannon(&r, &c)
        }
    };
    let (r, c) = stats::binned_shares(&rk, &ck, numeric, true);
    let psi = stats::psi(&r, &c);
    let bins = bins(stats::binned(&rk, &ck, numeric));
    let threshold = test.default_threshold();
    Some(ColumnDrift {
        feature: reference.name.clone(),
        kind: reference.kind,
        test,
        score,
        threshold,
        drift_detected: test.drifted(score, threshold),
        psi,
        psi_alert: psi >= options.psi_threshold,
        reference_rows: rk.len(),
        current_rows: ck.len(),
        bins,
    })
}

/// At most this many bins are kept in a report (the rest of a categorical column's values,
/// the least frequent, become one `other` bin).
pub const MAX_BINS: usize = 30;

fn bins((labels, r, c): (Vec<String>, Vec<f64>, Vec<f64>)) -> Vec<Bin> {
    let round = |x: f64| (x * 1e6).round() / 1e6;
    let mut all: Vec<Bin> = labels
        .into_iter()
        .zip(r.into_iter().zip(c))
        .map(|(label, (reference, current))| Bin { label, reference, current })
        .collect();
    if all.len() > MAX_BINS {
        all.sort_by(|a, b| (b.reference + b.current).total_cmp(&(a.reference + a.current)));
        let rest = all.split_off(MAX_BINS - 1);
        all.push(Bin {
            label: format!("other ({} values)", rest.len()),
            reference: rest.iter().map(|b| b.reference).sum(),
            current: rest.iter().map(|b| b.current).sum(),
        });
    }
    for b in &mut all {
        b.reference = round(b.reference);
        b.current = round(b.current);
    }
    all
}

/// Compare `current` with `reference` column by column (features named as in the reference;
/// `prediction` is the name of the prediction column, tested but not counted in the share).
pub fn compare(
    reference: &Sample,
    current: &Sample,
    prediction: &str,
    options: &Options,
) -> (Vec<ColumnDrift>, Option<ColumnDrift>) {
    let mut features = Vec::new();
    let mut pred = None;
    for r in &reference.columns {
        let Some(c) = current.column(&r.name) else { continue };
        let Some(d) = column_drift(r, c, options) else { continue };
        if r.name == prediction {
            pred = Some(d);
        } else {
            features.push(d);
        }
    }
    (features, pred)
}

/// The share of drifted features, and whether that makes the dataset drift.
pub fn share(features: &[ColumnDrift], options: &Options) -> (f64, bool) {
    if features.is_empty() {
        return (0.0, false);
    }
    let drifted = features.iter().filter(|f| f.drift_detected).count() as f64 / features.len() as f64;
    (drifted, drifted >= options.drift_share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Kind;

    #[test]
    fn evidently_default_tests() {
        assert_eq!(Test::choose(Kind::Numerical, 1000, 6), Test::Ks);
        assert_eq!(Test::choose(Kind::Numerical, 1000, 5), Test::ChiSquare);
        assert_eq!(Test::choose(Kind::Numerical, 1000, 2), Test::Z);
        assert_eq!(Test::choose(Kind::Categorical, 10, 3), Test::ChiSquare);
        assert_eq!(Test::choose(Kind::Categorical, 10, 2), Test::Z);
        assert_eq!(Test::choose(Kind::Numerical, 1001, 6), Test::Wasserstein);
        assert_eq!(Test::choose(Kind::Numerical, 1001, 5), Test::JensenShannon);
        assert_eq!(Test::choose(Kind::Categorical, 5000, 50), Test::JensenShannon);
        assert!(Test::Ks.drifted(0.05, 0.05) && !Test::ChiSquare.drifted(0.05, 0.05));
        assert!(Test::Wasserstein.drifted(0.1, 0.1));
    }

    #[test]
    fn a_shifted_column_drifts_and_an_equal_one_does_not() {
        let a: Vec<f64> = (0..500).map(|i| (i % 97) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v * 1.5 + 20.0).collect();
        let r = Column::numbers("amount", a.clone());
        let d = column_drift(&r, &Column::numbers("amount", b), &Options::default()).unwrap();
        assert_eq!(d.test, Test::Ks);
        assert!(d.drift_detected && d.score < 1e-6, "{d:?}");
        let same = column_drift(&r, &Column::numbers("amount", a), &Options::default()).unwrap();
        assert!(!same.drift_detected && same.psi.abs() < 1e-12, "{same:?}");
        let empty = Column::numbers("amount", vec![f64::NAN]);
        assert!(column_drift(&r, &empty, &Options::default()).is_none());
    }
}
