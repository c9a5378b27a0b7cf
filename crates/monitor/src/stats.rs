//! The statistics of drift detection, computed as SciPy and Evidently compute them (a test
//! compares them with SciPy on the same arrays): the two-sample Kolmogorov-Smirnov test with
//! SciPy's exact p-value, Pearson's chi-squared test, the two-proportion Z-test, the first
//! Wasserstein distance, the Jensen-Shannon distance and the population stability index, with
//! Evidently's binning (`get_binned_data`).
//!
//! Written here rather than taken from a crate: no maintained Rust crate has the two-sample
//! KS exact distribution or NumPy's histogram rules, and the rest is a few lines each; the
//! special functions come from `libm`.

use std::collections::HashMap;

/// Samples larger than this use the asymptotic KS distribution (SciPy's `MAX_AUTO_N`).
pub const KS_EXACT_MAX_N: usize = 10_000;

/// A two-sample Kolmogorov-Smirnov test result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ks {
    pub statistic: f64,
    pub p_value: f64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `scipy.stats.ks_2samp(a, b)` (two-sided, method `auto`): the largest distance between the
/// two empirical CDFs, and its exact p-value when both samples have at most
/// [`KS_EXACT_MAX_N`] values (else Kolmogorov's limiting distribution). NaNs must be removed
/// first; an empty sample gives NaN.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Ks {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return Ks { statistic: f64::NAN, p_value: f64::NAN };
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    // both ECDFs at every pooled value (counts of values <= it)
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < n1 || j < n2 {
        let v = match (x.get(i), y.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        while i < n1 && x[i] <= v {
            i += 1;
        }
        while j < n2 && y[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n1 as f64 - j as f64 / n2 as f64).abs());
    }
    let d = d.clamp(0.0, 1.0);
    let exact = n1.max(n2) <= KS_EXACT_MAX_N;
    let p = if exact { ks_exact_p(n1 as u64, n2 as u64, d) } else { None };
    let p = p.unwrap_or_else(|| {
        let en = (n1 * n2) as f64 / (n1 + n2) as f64;
        kolmogorov_sf(en.sqrt() * d)
    });
    Ks { statistic: d, p_value: p.clamp(0.0, 1.0) }
}

/// The exact two-sided p-value of a KS distance `d` between samples of `n1` and `n2` values
/// (Hodges' lattice-path count, with Viehmann's recursion for 1 - p); `None` when it cannot be
/// computed in floating point.
fn ks_exact_p(n1: u64, n2: u64, d: f64) -> Option<f64> {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round() as u64;
    if h == 0 {
        return Some(1.0);
    }
    let p = if n1 == n2 { prob_outside_square(n1, h) } else { outer_prob_inside(n1, n2, g, h)? };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some(p)
}

/// Pr(D ≥ h/n) for two samples of n: the share of lattice paths leaving the band |x - y| < h.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    // 2 * (A0 - A0 A1 + A0 A1 A2 - …), each term a ratio of binomials, in Horner form
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut term = 1.0;
        let mut j = 0.0;
        while j < h {
            term = (n - k * h - j) * term / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = term * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// 1 - (share of lattice paths from (0, 0) to (m, n) that stay strictly inside
/// |x/m - y/n| < h / lcm(m, n)), one column at a time over a sliding window.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as f64, (n / g) as f64);
    let (hf, nf) = (h as f64, n as f64);
    let mut minj = 0usize;
    let mut maxj = ((hf / mg).ceil() as usize).min(n as usize + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n as usize + 1);
    let mut a = vec![1.0f64; len];
    for v in a.iter_mut().take(maxj) {
        *v = 0.0;
    }
    for i in 1..=m {
        let fi = i as f64;
        let (lastminj, lastlen) = (minj, curlen);
        minj = (((ng * fi - hf) / mg).floor() + 1.0).max(0.0).min(nf) as usize;
        maxj = (((ng * fi + hf) / mg).ceil()).min(nf + 1.0) as usize;
        if maxj <= minj {
            return Some(1.0);
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..maxj - minj {
            let j = (jj + minj) as f64;
            let carried = *a.get(jj + minj - lastminj)?;
            val = (carried * fi + val * j) / (fi + j);
            *a.get_mut(jj)? = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let end = (curlen + (lastlen - curlen)).min(a.len());
            for v in &mut a[curlen.min(end)..end] {
                *v = 1.0;
            }
        }
    }
    a.get(maxj - minj - 1).copied()
}

/// Survival function of Kolmogorov's limiting distribution: 2 Σ (-1)^(k-1) e^(-2 k² x²).
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let k = k as f64;
        let term = (-2.0 * k * k * x * x).exp();
        sum += if k as u64 % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The regularised upper incomplete gamma function Q(a, x) (a series below a + 1, Lentz's
/// continued fraction above).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x.is_nan() || a <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let ln_prefix = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        // P(a, x) by its series
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * ln_prefix.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_prefix.exp() * h
    }
}

/// Pearson's chi-squared statistic and p-value of observed against expected counts
/// (`scipy.stats.chisquare(obs, exp)`, k - 1 degrees of freedom).
pub fn chi_square(observed: &[f64], expected: &[f64]) -> (f64, f64) {
    let stat: f64 = observed.iter().zip(expected).map(|(o, e)| (o - e) * (o - e) / e).sum();
    let dof = observed.len().saturating_sub(1) as f64;
    if stat.is_nan() {
        return (stat, f64::NAN);
    }
    (stat, gamma_q(dof / 2.0, stat / 2.0))
}

/// Φ, the standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// The two-sided p-value of a difference of two proportions (`p1` of `n1`, `p2` of `n2`),
/// with the pooled proportion, as Evidently's `proportions_diff_z_test`.
pub fn two_proportion_z_p(p1: f64, n1: f64, p2: f64, n2: f64) -> f64 {
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    2.0 * (1.0 - normal_cdf(z.abs()))
}

/// The first Wasserstein distance between two samples (`scipy.stats.wasserstein_distance`):
/// the area between their empirical CDFs.
pub fn wasserstein(u: &[f64], v: &[f64]) -> f64 {
    if u.is_empty() || v.is_empty() {
        return f64::NAN;
    }
    let mut us = u.to_vec();
    let mut vs = v.to_vec();
    us.sort_by(f64::total_cmp);
    vs.sort_by(f64::total_cmp);
    let mut all: Vec<f64> = us.iter().chain(&vs).copied().collect();
    all.sort_by(f64::total_cmp);
    let (mut i, mut j, mut sum) = (0usize, 0usize, 0.0);
    for w in all.windows(2) {
        while i < us.len() && us[i] <= w[0] {
            i += 1;
        }
        while j < vs.len() && vs[j] <= w[0] {
            j += 1;
        }
        let diff = (i as f64 / us.len() as f64 - j as f64 / vs.len() as f64).abs();
        sum += diff * (w[1] - w[0]);
    }
    sum
}

/// The population standard deviation (NumPy's `std`, ddof 0).
pub fn std_dev(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// The Jensen-Shannon distance of two distributions (`scipy.spatial.distance.jensenshannon`,
/// natural logarithm): each is normalised to sum to 1 first.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    let rel_entr = |x: f64, y: f64| {
        if x > 0.0 && y > 0.0 {
            x * (x / y).ln()
        } else if x == 0.0 && y >= 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    };
    let mut js = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        js += rel_entr(a, m) + rel_entr(b, m);
    }
    (js / 2.0).sqrt()
}

/// The population stability index of two binned distributions: Σ (r - c) ln(r / c).
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference.iter().zip(current).map(|(r, c)| (r - c) * (r / c).ln()).sum()
}

/// NumPy's `histogram_bin_edges(data, bins="sturges")`: ⌈log₂ n + 1⌉ equal bins over the range
/// (a zero-width range is widened by 0.5 on each side).
pub fn sturges_edges(data: &[f64]) -> Vec<f64> {
    let (lo, hi) = data.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if data.is_empty() || !lo.is_finite() {
        return vec![0.0, 1.0];
    }
    let (first, last, bins) = if hi > lo {
        let width = (hi - lo) / ((data.len() as f64).log2() + 1.0);
        (lo, hi, ((hi - lo) / width).ceil().max(1.0) as usize)
    } else {
        (lo - 0.5, hi + 0.5, 1)
    };
    // as NumPy's linspace: i·step + first, the last edge exactly `last`
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|i| i as f64 * step + first).collect();
    edges.push(last);
    edges
}

/// NumPy's `histogram(data, edges)` for equal-width edges: counts per bin, the last bin closed
/// on the right, values outside the edges dropped.
pub fn histogram(data: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0.0; bins];
    if bins == 0 {
        return counts;
    }
    let (first, last) = (edges[0], edges[bins]);
    let norm = bins as f64 / (last - first);
    for &v in data {
        if !(first..=last).contains(&v) {
            continue;
        }
        let mut i = (((v - first) * norm) as usize).min(bins - 1);
        // the float index can be one off at an edge: NumPy corrects it against the edges
        if v < edges[i] {
            i = i.saturating_sub(1);
        } else if i + 1 < bins && v >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1.0;
    }
    counts
}

pub use nivesh_api::monitoring::Kind;

/// A hashable, ordered key for a value of either kind: a number by an order-preserving map of
/// its bits (-0 as 0), so keys sort as the numbers do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Num(u64),
    Cat(String),
}

impl Key {
    pub fn num(v: f64) -> Key {
        let bits = if v == 0.0 { 0.0f64.to_bits() } else { v.to_bits() };
        Key::Num(if bits >> 63 == 1 { !bits } else { bits | (1 << 63) })
    }

    /// The value as text (a number back from its ordered bits).
    pub fn label(&self) -> String {
        match self {
            Key::Cat(s) => s.clone(),
            Key::Num(k) => {
                let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
                short(f64::from_bits(bits))
            }
        }
    }
}

/// Count each value, keyed.
pub fn value_counts(keys: &[Key]) -> HashMap<&Key, f64> {
    let mut m = HashMap::new();
    for k in keys {
        *m.entry(k).or_insert(0.0) += 1.0;
    }
    m
}

/// Evidently's `get_binned_data`: the share of each sample per bin — Sturges bins over both
/// samples for a numerical column with more than 20 distinct reference values, else per
/// distinct value; with `fill_zeroes`, empty bins get a small share (PSI needs no zeros).
pub fn binned_shares(
    reference: &[Key],
    current: &[Key],
    numeric: Option<(&[f64], &[f64])>,
    fill_zeroes: bool,
) -> (Vec<f64>, Vec<f64>) {
    let (_, mut r, mut c) = binned(reference, current, numeric);
    if fill_zeroes {
        for v in [&mut r, &mut c] {
            let min = v.iter().copied().filter(|x| *x != 0.0).fold(f64::INFINITY, f64::min);
            let fill = if min <= 0.0001 { min / 1e6 } else { 0.0001 };
            for x in v.iter_mut().filter(|x| **x == 0.0) {
                *x = fill;
            }
        }
    }
    (r, c)
}

/// The bins of [`binned_shares`] (without filling) with a label each: `lo – hi` for a range,
/// the value itself for a distinct value.
pub fn binned(
    reference: &[Key],
    current: &[Key],
    numeric: Option<(&[f64], &[f64])>,
) -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let ref_distinct = value_counts(reference).len();
    match numeric {
        Some((rv, cv)) if ref_distinct > 20 => {
            let all: Vec<f64> = rv.iter().chain(cv).copied().collect();
            let edges = sturges_edges(&all);
            let share = |v: &[f64]| histogram(v, &edges).into_iter().map(|n| n / v.len() as f64).collect::<Vec<_>>();
            let labels = edges.windows(2).map(|w| format!("{} – {}", short(w[0]), short(w[1]))).collect();
            (labels, share(rv), share(cv))
        }
        _ => {
            let (rc, cc) = (value_counts(reference), value_counts(current));
            let mut keys: Vec<&Key> = rc.keys().chain(cc.keys()).copied().collect();
            keys.sort();
            keys.dedup();
            let share = |counts: &HashMap<&Key, f64>, n: usize| {
                keys.iter().map(|k| counts.get(k).copied().unwrap_or(0.0) / n as f64).collect::<Vec<_>>()
            };
            let labels = keys.iter().map(|k| k.label()).collect();
            (labels, share(&rc, reference.len()), share(&cc, current.len()))
        }
    }
}

/// A number in four significant digits at most (bin labels).
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_on_known_cases() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let same = ks_2samp(&a, &a);
        assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
        let apart = ks_2samp(&a, &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(apart.statistic, 1.0);
        // scipy.stats.ks_2samp([1..5], [6..10]).pvalue = 2 / C(10, 5)
        assert!((apart.p_value - 2.0 / 252.0).abs() < 1e-12, "{apart:?}");
        let r = ks_2samp(&[1.0, 2.0, 3.0], &[1.5, 2.5, 3.5, 4.5]);
        assert!((r.statistic - 0.5).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn special_functions_on_known_values() {
        // chi2.sf(3.84, 1) ≈ 0.05004; Q(1, x) = e^-x
        assert!((gamma_q(0.5, 3.841458820694124 / 2.0) - 0.05).abs() < 1e-12);
        assert!((gamma_q(1.0, 2.0) - (-2.0f64).exp()).abs() < 1e-15);
        assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-12);
        assert!((kolmogorov_sf(1.3580986393225505) - 0.05).abs() < 1e-9);
    }

    #[test]
    fn distances_on_known_values() {
        assert_eq!(wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]), 5.0);
        assert_eq!(jensen_shannon(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        // scipy: jensenshannon([1, 0], [0, 1]) = sqrt(ln 2)
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]) - 2f64.ln().sqrt()).abs() < 1e-15);
        assert_eq!(sturges_edges(&[1.0, 1.0]), vec![0.5, 1.5]);
        assert_eq!(histogram(&[0.0, 0.5, 1.0, 2.0], &[0.0, 1.0, 2.0]), vec![2.0, 2.0]);
    }
}
