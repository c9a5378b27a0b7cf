//! Confidence intervals of evaluation metrics by the bootstrap (percentile method): the
//! evaluated items (queries, sentences, rows, series, folds) are drawn again with replacement,
//! as many as there are, the metric is computed on each such sample, and the interval is the
//! middle `level` share of those values. A metric on 67 frauds or 79 entities moves by more
//! than the differences people read into it; the interval says by how much.
//!
//! Each sample is handed to the metric as a multiplicity per item (how many times it was
//! drawn: 0, 1, 2, …), which every metric here takes as a weight, so nothing is copied and a
//! ranking metric sorts its scores once ([`SortedScores`]), not once per sample. Items can be
//! drawn within strata (the two classes of a binary metric), keeping each stratum's size: an
//! AUC is then never computed on a sample without positives.

use super::{BinaryReport, sweep_order, sweep_sorted, sweep_sorted_by};
use nivesh_core::rng::Rng;
use serde::Serialize;

/// A confidence interval, serialised as `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval(pub f64, pub f64);

impl Interval {
    pub fn low(&self) -> f64 {
        self.0
    }

    pub fn high(&self) -> f64 {
        self.1
    }

    pub fn contains(&self, x: f64) -> bool {
        self.0 <= x && x <= self.1
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = f.precision().unwrap_or(4);
        write!(f, "[{:.p$}, {:.p$}]", self.0, self.1)
    }
}

/// How intervals are drawn: the number of samples (0: no intervals), the seed, the level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub samples: usize,
    pub seed: u64,
    /// Coverage, e.g. 0.95.
    pub level: f64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap { samples: Bootstrap::DEFAULT_SAMPLES, seed: Bootstrap::SEED, level: 0.95 }
    }
}

impl Bootstrap {
    /// 1,000 samples: the percentiles at 2.5 % and 97.5 % move by a few hundredths of the
    /// interval's width between seeds.
    pub const DEFAULT_SAMPLES: usize = 1000;
    /// The fixed seed: an evaluation prints the same interval every time it is run.
    pub const SEED: u64 = 0x5EED_B007;
    /// The most samples asked for (each one computes the metric once).
    pub const MAX_SAMPLES: usize = 100_000;
    /// The fewest items a stratum needs for an interval (a class with fewer: none).
    pub const MIN_STRATUM: usize = 5;

    /// `samples` samples at 95 %, with the fixed seed; an error naming the number when it is
    /// above [`Self::MAX_SAMPLES`].
    pub fn with_samples(samples: usize) -> Result<Bootstrap, crate::ModelError> {
        if samples > Bootstrap::MAX_SAMPLES {
            return Err(crate::ModelError::param(
                "bootstrap",
                format!("{samples} samples (at most {})", Bootstrap::MAX_SAMPLES),
            ));
        }
        Ok(Bootstrap { samples, ..Bootstrap::default() })
    }

    /// The interval of `metric` over samples of the items, drawn within the strata
    /// (`strata[i]` is item i's: items are drawn only from their own stratum, as many as it
    /// has; all zeros for one stratum). `metric` gets each item's multiplicity in the sample and
    /// returns the metric's value (a non-finite value drops that sample). `None` when off,
    /// without items, when a stratum has fewer than [`Self::MIN_STRATUM`] items, or when fewer
    /// than half the samples gave a finite value.
    pub fn interval(&self, strata: &[usize], mut metric: impl FnMut(&[f64]) -> f64) -> Option<Interval> {
        let [i] = self.intervals(strata, |times| [metric(times)]);
        i
    }

    /// [`Self::interval`] of `K` metrics computed together from each sample (one pass over the
    /// sample for all of them), on the same samples.
    pub fn intervals<const K: usize>(
        &self,
        strata: &[usize],
        mut metrics: impl FnMut(&[f64]) -> [f64; K],
    ) -> [Option<Interval>; K] {
        if self.samples == 0 || strata.is_empty() {
            return [None; K];
        }
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, &s) in strata.iter().enumerate() {
            if members.len() <= s {
                members.resize_with(s + 1, Vec::new);
            }
            members[s].push(i);
        }
        // a stratum of a few items gives every sample (nearly) the same: an interval of no
        // width would look certain where the data says little
        members.retain(|m| !m.is_empty());
        if members.iter().any(|m| m.len() < Bootstrap::MIN_STRATUM) {
            return [None; K];
        }
        let mut rng = Rng::new(self.seed);
        let mut times = vec![0.0; strata.len()];
        let mut values: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(self.samples));
        for _ in 0..self.samples {
            times.fill(0.0);
            for m in &members {
                for _ in 0..m.len() {
                    times[m[rng.below(m.len())]] += 1.0;
                }
            }
            for (v, x) in values.iter_mut().zip(metrics(&times)) {
                if x.is_finite() {
                    v.push(x);
                }
            }
        }
        let tail = (1.0 - self.level.clamp(0.0, 1.0)) / 2.0;
        values.map(|mut v| {
            if v.len() * 2 < self.samples {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(Interval(quantile(&v, tail), quantile(&v, 1.0 - tail)))
        })
    }

    /// The interval of a mean of per-item values (`values[i]` for item i), all items one stratum.
    pub fn mean_interval(&self, values: &[f64]) -> Option<Interval> {
        self.interval(&vec![0; values.len()], |times| weighted_mean(values, times))
    }

    /// [`Self::mean_interval`] with the values drawn in clusters: `cluster[i]` is value i's, and a cluster is drawn with all its values (a user's forecasts at every
    /// origin go together: they share the user). The clusters are the items: fewer than
    /// [`Self::MIN_STRATUM`] give none.
    pub fn clustered_mean_interval(&self, values: &[f64], cluster: &[usize]) -> Option<Interval> {
        if values.len() != cluster.len() {
            return None;
        }
        // the clusters numbered 0.. in order of first appearance (ids need not be contiguous)
        let mut ids = std::collections::HashMap::new();
        let cluster: Vec<usize> = cluster
            .iter()
            .map(|&c| {
                let n = ids.len();
                *ids.entry(c).or_insert(n)
            })
            .collect();
        let mut weights = vec![0.0; values.len()];
        self.interval(&vec![0; ids.len()], |times| {
            for (w, &c) in weights.iter_mut().zip(&cluster) {
                *w = times[c];
            }
            weighted_mean(values, &weights)
        })
    }
}

/// The 95 % interval of the mean of a few values by Student's t, `mean ± t(k−1) · sd / √k`:
/// for the means over cross-validation folds, where drawing 4 to 10 folds again would give
/// intervals too narrow (and folds that share their training rows are not independent either,
/// so read this one as approximate). `None` for fewer than two values or a non-finite one.
pub fn t_interval(values: &[f64]) -> Option<Interval> {
    let k = values.len();
    if k < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = values.iter().sum::<f64>() / k as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let half = t975(k - 1) * (var / k as f64).sqrt();
    Some(Interval(mean - half, mean + half))
}

/// Student's t at 0.975 with `df` degrees of freedom (tabled to 30, then 1.96 + 2.4 / df,
/// within 0.002 of it).
fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => 1.96 + 2.4 / df as f64,
    }
}

/// `Σ times[i]·values[i] / Σ times[i]` (NaN when every multiplicity is 0).
pub fn weighted_mean(values: &[f64], times: &[f64]) -> f64 {
    let (num, den) = values.iter().zip(times).fold((0.0, 0.0), |(n, d), (v, t)| (n + v * t, d + t));
    if den > 0.0 { num / den } else { f64::NAN }
}

/// The `q` quantile of sorted values, linearly interpolated between the two nearest ranks (the
/// default of NumPy's `percentile`).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let at = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
        }
    }
}

/// Scores sorted once, highest first, for the binary metrics of many weightings of the same
/// rows (each bootstrap sample is one).
pub struct SortedScores<'a> {
    scores: &'a [f64],
    labels: &'a [bool],
    order: Vec<usize>,
}

impl<'a> SortedScores<'a> {
    pub fn new(scores: &'a [f64], labels: &'a [bool]) -> Self {
        SortedScores { scores, labels, order: sweep_order(scores) }
    }

    /// The rows' labels, as strata for [`Bootstrap::interval`]: 1 for a positive.
    pub fn strata(&self) -> Vec<usize> {
        self.labels.iter().map(|&l| usize::from(l)).collect()
    }

    /// [`BinaryReport::new`] with row i weighted `weights[i]`.
    pub fn report(&self, weights: &[f64]) -> BinaryReport {
        BinaryReport::from_sweep(self.scores.len(), sweep_sorted(&self.order, self.scores, self.labels, Some(weights)))
    }

    /// [`Self::report`] with row i weighted `base[i] × times[i]` (`times[i]` alone without
    /// `base`): a bootstrap sample of weighted rows, without building the product.
    pub fn sample_report(&self, base: Option<&[f64]>, times: &[f64]) -> BinaryReport {
        match base {
            Some(b) => BinaryReport::from_sweep(
                self.scores.len(),
                sweep_sorted_by(&self.order, self.scores, self.labels, |i| b[i] * times[i]),
            ),
            None => self.report(times),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_t_interval_of_fold_means_is_scipys() {
        // scipy.stats.t.interval(0.95, 3, loc=mean, scale=sem) of [0.5, 0.6, 0.7, 0.8]:
        // mean 0.65, sem 0.0645497, t 3.182446 → (0.44457, 0.85543)
        let i = t_interval(&[0.5, 0.6, 0.7, 0.8]).unwrap();
        assert!((i.low() - 0.44457).abs() < 5e-5 && (i.high() - 0.85543).abs() < 5e-5, "{i}");
        assert_eq!(t_interval(&[0.5]), None);
        assert_eq!(t_interval(&[0.5, f64::NAN]), None);
        let same = t_interval(&[0.7, 0.7, 0.7]).unwrap();
        assert!((same.low() - 0.7).abs() < 1e-12 && (same.high() - 0.7).abs() < 1e-12, "{same}");
        assert!((t975(40) - 2.021).abs() < 0.002 && (t975(120) - 1.980).abs() < 0.002);
    }

    #[test]
    fn quantiles_interpolate_between_ranks_as_numpy_does() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        // numpy.percentile([1, 2, 3, 4, 5], 2.5) = 1.1, 97.5 → 4.9
        assert!((quantile(&v, 0.025) - 1.1).abs() < 1e-12);
        assert!((quantile(&v, 0.975) - 4.9).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn every_sample_draws_as_many_items_as_each_stratum_has() {
        let strata = [0, 0, 0, 1, 1, 0, 2, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0];
        let b = Bootstrap { samples: 200, ..Bootstrap::default() };
        let mut seen = 0;
        b.interval(&strata, |times| {
            let per = |s: usize| strata.iter().zip(times).filter(|(k, _)| **k == s).map(|(_, t)| t).sum::<f64>();
            assert_eq!((per(0), per(1), per(2)), (7.0, 5.0, 5.0));
            assert!(times.iter().all(|t| t.fract() == 0.0 && *t >= 0.0));
            seen += 1;
            0.0
        });
        assert_eq!(seen, 200);
        // a stratum of four: no interval at all
        assert_eq!(b.interval(&[0, 0, 0, 0, 0, 1, 1, 1, 1], |_| 0.5), None);
    }

    #[test]
    fn the_interval_of_a_mean_covers_it_and_narrows_with_more_items() {
        let b = Bootstrap::default();
        // accuracy 0.9 on 100 and on 10,000 items
        let few: Vec<f64> = (0..100).map(|i| if i % 10 == 0 { 0.0 } else { 1.0 }).collect();
        let many: Vec<f64> = (0..10_000).map(|i| if i % 10 == 0 { 0.0 } else { 1.0 }).collect();
        let (a, c) = (b.mean_interval(&few).unwrap(), b.mean_interval(&many).unwrap());
        assert!(a.contains(0.9) && c.contains(0.9), "{a} {c}");
        // the normal approximation's 95 % half-width is 1.96 · 0.3 / √n: 0.059 and 0.0059
        let (wa, wc) = (a.high() - a.low(), c.high() - c.low());
        assert!((wa / 2.0 - 0.059).abs() < 0.012, "{wa}");
        assert!((wc / 2.0 - 0.0059).abs() < 0.0012, "{wc}");
        // seeded: the same interval again
        assert_eq!(b.mean_interval(&few), Some(a));
    }

    #[test]
    fn no_interval_when_off_empty_or_mostly_undefined() {
        let off = Bootstrap::with_samples(0).unwrap();
        assert_eq!(off.mean_interval(&[1.0; 10]), None);
        assert_eq!(Bootstrap::default().mean_interval(&[]), None);
        // a metric defined only where item 0 was drawn twice or more (about 26 % of samples)
        let b = Bootstrap::default();
        assert_eq!(b.interval(&[0; 8], |t| if t[0] >= 2.0 { 1.0 } else { f64::NAN }), None);
        // one positive among 20 rows: a third of the samples drawn from all rows lack it (their
        // AUC is undefined); drawn within the classes, the lone positive is a stratum too small
        // for an interval
        let mut labels = vec![false; 20];
        labels[0] = true;
        let scores: Vec<f64> = (0..20).map(|i| if i == 0 { 0.99 } else { f64::from(i) / 100.0 }).collect();
        let s = SortedScores::new(&scores, &labels);
        let mut undefined = 0;
        b.interval(&[0; 20], |t| {
            let auc = s.report(t).auc_roc;
            undefined += usize::from(auc.is_nan());
            auc
        });
        assert!((250..480).contains(&undefined), "{undefined}");
        assert_eq!(b.interval(&s.strata(), |t| s.report(t).auc_roc), None);
        // five positives, all above every negative: drawn within the classes, every sample
        // ranks perfectly
        for l in &mut labels[..5] {
            *l = true;
        }
        let scores: Vec<f64> =
            (0..20).map(|i| if i < 5 { 0.9 + f64::from(i) / 100.0 } else { f64::from(i) / 100.0 }).collect();
        let s = SortedScores::new(&scores, &labels);
        let within = b.interval(&s.strata(), |t| s.report(t).auc_roc).unwrap();
        assert!((within.low() - 1.0).abs() < 1e-12 && (within.high() - 1.0).abs() < 1e-12, "{within}");
        assert!(Bootstrap::with_samples(Bootstrap::MAX_SAMPLES + 1).is_err());
    }

    #[test]
    fn nan_scores_tie_with_each_other_and_end_the_sweep() {
        let scores = [0.9, f64::NAN, 0.4, f64::NAN, 0.1];
        let labels = [true, false, true, true, false];
        let r = BinaryReport::new(&scores, &labels, None);
        assert_eq!(r.n, 5);
        assert!(r.auc_roc.is_finite());
        assert_eq!(SortedScores::new(&scores, &labels).report(&[1.0; 5]), r);
    }

    #[test]
    fn sorted_scores_give_the_report_of_weighted_rows() {
        let scores = [0.9, 0.8, 0.8, 0.6, 0.5, 0.4, 0.3];
        let labels = [true, false, true, false, false, true, false];
        let w = [1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 2.0];
        let s = SortedScores::new(&scores, &labels);
        assert_eq!(s.report(&w), BinaryReport::new(&scores, &labels, Some(&w)));
        assert_eq!(s.report(&[1.0; 7]), BinaryReport::new(&scores, &labels, None));
        let times = [2.0, 0.0, 1.0, 1.0, 3.0, 1.0, 0.0];
        let product: Vec<f64> = w.iter().zip(&times).map(|(w, t)| w * t).collect();
        assert_eq!(s.sample_report(Some(&w), &times), BinaryReport::new(&scores, &labels, Some(&product)));
        assert_eq!(s.sample_report(None, &times), BinaryReport::new(&scores, &labels, Some(&times)));
    }

    #[test]
    fn clustered_intervals_draw_whole_clusters() {
        let b = Bootstrap::default();
        // 40 clusters of 5 equal values: drawing clusters is drawing 40 items, not 200
        let per: Vec<f64> = (0..40).map(|c| f64::from(c % 4)).collect();
        let values: Vec<f64> = per.iter().flat_map(|&v| [v; 5]).collect();
        let cluster: Vec<usize> = (0..200).map(|i| i / 5).collect();
        let (c, flat, few) = (
            b.clustered_mean_interval(&values, &cluster).unwrap(),
            b.mean_interval(&values).unwrap(),
            b.mean_interval(&per).unwrap(),
        );
        assert!(c.contains(1.5) && flat.contains(1.5));
        // as wide as the 40 cluster values alone, about √5 wider than the 200 taken apart
        let width = |i: Interval| i.high() - i.low();
        assert!((width(c) / width(few) - 1.0).abs() < 0.15, "{c} {few}");
        assert!(width(c) / width(flat) > 1.8, "{c} {flat}");
        // one cluster per value is the plain interval; too few clusters give none
        let own: Vec<usize> = (0..40).collect();
        assert_eq!(b.clustered_mean_interval(&per, &own), b.mean_interval(&per));
        assert_eq!(
            b.clustered_mean_interval(&values[..20], &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3]),
            None
        );
        assert_eq!(b.clustered_mean_interval(&values, &cluster[..10]), None);
        // ids need not be contiguous: only the grouping counts
        let sparse: Vec<usize> = cluster.iter().map(|c| c * 7 + 3).collect();
        assert_eq!(b.clustered_mean_interval(&values, &sparse), Some(c));
    }
}
