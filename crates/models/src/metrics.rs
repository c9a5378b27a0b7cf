//! Evaluation metrics: classification (accuracy, per-class precision/recall/F1, macro and
//! weighted F1, confusion matrix) and entity-level span matching with seqeval semantics (an
//! entity counts only when its label, start and end all match exactly).

use serde::Serialize;
use std::collections::BTreeMap;

pub mod bootstrap;

pub use bootstrap::{Bootstrap, Interval};

/// Precision, recall, F1 and support of one class or label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

impl Prf {
    pub fn from_counts(tp: usize, predicted: usize, actual: usize) -> Self {
        let (precision, recall, f1) = prf(tp as f64, predicted as f64, actual as f64);
        Prf { precision, recall, f1, support: actual }
    }
}

/// Precision, recall and F1 from (weighted) counts of true positives, predictions and actual
/// positives; 0 where a denominator is 0.
pub fn prf(tp: f64, predicted: f64, actual: f64) -> (f64, f64, f64) {
    let precision = if predicted == 0.0 { 0.0 } else { tp / predicted };
    let recall = if actual == 0.0 { 0.0 } else { tp / actual };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    (precision, recall, f1)
}

/// Classification report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationReport {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    pub per_class: BTreeMap<String, Prf>,
    /// Class names in the order of the confusion matrix rows (true) and columns (predicted).
    pub labels: Vec<String>,
    pub confusion: Vec<Vec<usize>>,
}

impl ClassificationReport {
    pub fn new<S: AsRef<str>>(truth: &[S], predicted: &[S]) -> Self {
        let mut labels: Vec<String> = truth
            .iter()
            .chain(predicted)
            .map(|s| s.as_ref().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        labels.sort();
        let pos = |s: &str| labels.binary_search_by(|l| l.as_str().cmp(s)).unwrap_or(0);
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (t, p) in truth.iter().zip(predicted) {
            confusion[pos(t.as_ref())][pos(p.as_ref())] += 1;
        }
        let n = truth.len().min(predicted.len());
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let mut per_class = BTreeMap::new();
        let (mut macro_sum, mut weighted_sum, mut classes_with_support) = (0.0, 0.0, 0usize);
        for (i, label) in labels.iter().enumerate() {
            let actual: usize = confusion[i].iter().sum();
            let predicted: usize = (0..k).map(|r| confusion[r][i]).sum();
            let prf = Prf::from_counts(confusion[i][i], predicted, actual);
            if actual > 0 {
                macro_sum += prf.f1;
                classes_with_support += 1;
                weighted_sum += prf.f1 * actual as f64;
            }
            per_class.insert(label.clone(), prf);
        }
        ClassificationReport {
            n,
            accuracy: if n == 0 { 0.0 } else { correct as f64 / n as f64 },
            macro_f1: if classes_with_support == 0 { 0.0 } else { macro_sum / classes_with_support as f64 },
            weighted_f1: if n == 0 { 0.0 } else { weighted_sum / n as f64 },
            per_class,
            labels,
            confusion,
        }
    }
}

/// An entity for span matching.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanKey {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

/// Entity-level report: overall micro P/R/F1 and per label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanReport {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub per_label: BTreeMap<String, Prf>,
}

/// Exact-match span scoring over documents: `gold[i]` and `pred[i]` are the entities of doc i.
pub fn span_report(gold: &[Vec<SpanKey>], pred: &[Vec<SpanKey>]) -> SpanReport {
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new(); // tp, predicted, actual
    for (g, p) in gold.iter().zip(pred) {
        for e in g {
            counts.entry(e.label.clone()).or_default().2 += 1;
        }
        for e in p {
            let c = counts.entry(e.label.clone()).or_default();
            c.1 += 1;
            if g.contains(e) {
                c.0 += 1;
            }
        }
    }
    let (tp, pr, ac) = counts.values().fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    let overall = Prf::from_counts(tp, pr, ac);
    SpanReport {
        precision: overall.precision,
        recall: overall.recall,
        f1: overall.f1,
        per_label: counts.into_iter().map(|(l, (tp, p, a))| (l, Prf::from_counts(tp, p, a))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_report_on_a_known_case() {
        let truth = ["a", "a", "b", "b", "c"];
        let pred = ["a", "b", "b", "b", "a"];
        let r = ClassificationReport::new(&truth, &pred);
        assert_eq!(r.accuracy, 0.6);
        assert_eq!(r.confusion, vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]);
        let a = r.per_class["a"];
        assert_eq!((a.precision, a.recall), (0.5, 0.5));
        let b = r.per_class["b"];
        assert!((b.precision - 2.0 / 3.0).abs() < 1e-12 && b.recall == 1.0);
        assert_eq!(r.per_class["c"].f1, 0.0);
        let f1b = 0.8;
        assert!((r.macro_f1 - (0.5 + f1b + 0.0) / 3.0).abs() < 1e-12);
        assert!((r.weighted_f1 - (0.5 * 2.0 + f1b * 2.0) / 5.0).abs() < 1e-12);
    }

    #[test]
    fn spans_match_only_exactly() {
        let k = |s, e, l: &str| SpanKey { start: s, end: e, label: l.into() };
        let gold = vec![vec![k(0, 4, "MONEY"), k(8, 14, "MERCHANT")], vec![k(2, 5, "DATE")]];
        let pred = vec![vec![k(0, 4, "MONEY"), k(8, 13, "MERCHANT")], vec![k(2, 5, "DATE"), k(6, 7, "MONEY")]];
        let r = span_report(&gold, &pred);
        assert_eq!(r.precision, 0.5);
        assert!((r.recall - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.per_label["MONEY"].precision, 0.5);
        assert_eq!(r.per_label["MERCHANT"].f1, 0.0);
        assert_eq!(r.per_label["DATE"].f1, 1.0);
    }
}

/// Points of a weighted ROC sweep, from the highest score down: cumulative (true positive
/// weight, false positive weight) after each group of tied scores.
fn roc_sweep(scores: &[f64], labels: &[bool], weights: Option<&[f64]>) -> Sweep {
    sweep_sorted(&sweep_order(scores), scores, labels, weights)
}

/// A sweep's points `(score, tp, fp)` and the total positive and negative weights.
type Sweep = (Vec<(f64, f64, f64)>, f64, f64);

/// The rows' indices by score, highest first.
fn sweep_order(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// [`roc_sweep`] over rows already in [`sweep_order`].
fn sweep_sorted(idx: &[usize], scores: &[f64], labels: &[bool], weights: Option<&[f64]>) -> Sweep {
    sweep_sorted_by(idx, scores, labels, |i| weights.map_or(1.0, |w| w[i]))
}

/// [`sweep_sorted`] with row i weighing `w(i)`.
fn sweep_sorted_by(idx: &[usize], scores: &[f64], labels: &[bool], w: impl Fn(usize) -> f64) -> Sweep {
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let s = scores[idx[i]];
        // a NaN score ties with the other NaNs (`==` would never hold, and the loop not advance)
        while i < idx.len() && (scores[idx[i]] == s || (s.is_nan() && scores[idx[i]].is_nan())) {
            if labels[idx[i]] {
                tp += w(idx[i])
            } else {
                fp += w(idx[i])
            }
            i += 1;
        }
        points.push((s, tp, fp));
    }
    (points, tp, fp)
}

/// Area under the ROC curve with optional row weights (ties get half credit; NaN without both
/// classes).
pub fn weighted_auc(scores: &[f64], labels: &[bool], weights: Option<&[f64]>) -> f64 {
    let (points, p, n) = roc_sweep(scores, labels, weights);
    sweep_auc(&points, p, n)
}

/// The trapezoid area under a [`roc_sweep`]'s points in (FPR, TPR); NaN without both classes.
fn sweep_auc(points: &[(f64, f64, f64)], p: f64, n: f64) -> f64 {
    if p <= 0.0 || n <= 0.0 {
        return f64::NAN;
    }
    let (mut auc, mut prev_tp, mut prev_fp) = (0.0, 0.0, 0.0);
    for &(_, tp, fp) in points {
        auc += (fp - prev_fp) / n * (tp + prev_tp) / (2.0 * p);
        (prev_tp, prev_fp) = (tp, fp);
    }
    auc
}

/// The ROC curve as (false-positive rate, true-positive rate) points from (0, 0) to (1, 1),
/// thinned to at most `max_points` (kept points are spread evenly along the sweep).
pub fn roc_curve(scores: &[f64], labels: &[bool], weights: Option<&[f64]>, max_points: usize) -> Vec<(f64, f64)> {
    let (points, p, n) = roc_sweep(scores, labels, weights);
    if p <= 0.0 || n <= 0.0 {
        return Vec::new();
    }
    let step = points.len().div_ceil(max_points.max(2)).max(1);
    let mut curve = vec![(0.0, 0.0)];
    for (i, &(_, tp, fp)) in points.iter().enumerate() {
        if i % step == step - 1 || i + 1 == points.len() {
            curve.push((fp / n, tp / p));
        }
    }
    curve
}

/// Counts of scores in `bins` equal-width bins between the lowest and highest score, split by
/// label: (bin edges, counts of negatives, counts of positives).
pub fn score_histogram(scores: &[f64], labels: &[bool], bins: usize) -> (Vec<f64>, Vec<u64>, Vec<u64>) {
    let bins = bins.max(1);
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(s), hi.max(s)));
    if lo > hi {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
    let (mut neg, mut pos) = (vec![0u64; bins], vec![0u64; bins]);
    for (&s, &l) in scores.iter().zip(labels) {
        if !s.is_finite() {
            continue;
        }
        let b = (((s - lo) / width) as usize).min(bins - 1);
        if l { pos[b] += 1 } else { neg[b] += 1 }
    }
    (edges, neg, pos)
}

/// Binary-classification metrics, all honouring sample weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinaryReport {
    pub n: usize,
    pub positives: f64,
    pub auc_roc: f64,
    pub average_precision: f64,
    /// Highest recall at a false-positive rate of at most 1 %.
    pub recall_at_1pct_fpr: f64,
    /// Kolmogorov-Smirnov statistic: max |TPR - FPR|.
    pub ks: f64,
    /// Highest precision among thresholds with recall >= 80 %.
    pub precision_at_80_recall: f64,
}

impl BinaryReport {
    pub fn new(scores: &[f64], labels: &[bool], weights: Option<&[f64]>) -> Self {
        BinaryReport::from_sweep(scores.len(), roc_sweep(scores, labels, weights))
    }

    /// The report of `rows` rows from their sweep.
    fn from_sweep(rows: usize, (points, p, n): Sweep) -> Self {
        let (mut ap, mut ks) = (0.0, 0.0f64);
        let mut prev_tp = 0.0;
        let (mut rec_at_fpr, mut prec_at_rec) = (0.0f64, 0.0f64);
        for &(_, tp, fp) in &points {
            if p > 0.0 && n > 0.0 {
                ks = ks.max((tp / p - fp / n).abs());
                if fp / n <= 0.01 {
                    rec_at_fpr = rec_at_fpr.max(tp / p);
                }
            }
            if p > 0.0 && tp + fp > 0.0 {
                let precision = tp / (tp + fp);
                ap += (tp - prev_tp) / p * precision;
                if tp / p >= 0.8 {
                    prec_at_rec = prec_at_rec.max(precision);
                }
            }
            prev_tp = tp;
        }
        BinaryReport {
            n: rows,
            positives: p,
            auc_roc: sweep_auc(&points, p, n),
            average_precision: ap,
            recall_at_1pct_fpr: rec_at_fpr,
            ks,
            precision_at_80_recall: prec_at_rec,
        }
    }
}

/// Weighted mean squared error of probabilities.
pub fn brier(probs: &[f64], labels: &[bool], weights: Option<&[f64]>) -> f64 {
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..probs.len() {
        let y = if labels[i] { 1.0 } else { 0.0 };
        num += w(i) * (probs[i] - y).powi(2);
        den += w(i);
    }
    if den > 0.0 { num / den } else { f64::NAN }
}

/// Statlog cost per case: 5 for each bad (positive) predicted good, 1 for each good predicted
/// bad, predicting bad when `P(bad) > threshold` (the Bayes threshold for these costs is 1/6).
pub fn statlog_cost(probs: &[f64], bad: &[bool], weights: Option<&[f64]>, threshold: f64) -> f64 {
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut cost, mut total) = (0.0, 0.0);
    for i in 0..probs.len() {
        let predicted_bad = probs[i] > threshold;
        cost += w(i)
            * match (bad[i], predicted_bad) {
                (true, false) => 5.0,
                (false, true) => 1.0,
                _ => 0.0,
            };
        total += w(i);
    }
    if total > 0.0 { cost / total } else { f64::NAN }
}

#[cfg(test)]
mod binary_tests {
    use super::*;

    #[test]
    fn binary_metrics_on_a_known_ranking() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let labels = [true, false, true, false, false, true];
        let r = BinaryReport::new(&scores, &labels, None);
        // pairs (pos, neg) ranked correctly: 0.9>all 3, 0.7>0.6,0.5 (2), 0.4>none → 5/9
        assert!((r.auc_roc - 5.0 / 9.0).abs() < 1e-12);
        assert_eq!(r.auc_roc, nivesh_core::stats::auc(&scores, &labels));
        // AP = (1/3)(1/1) + (1/3)(2/3) + (1/3)(3/6)
        assert!((r.average_precision - (1.0 + 2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert!((r.ks - (2.0 / 3.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(r.recall_at_1pct_fpr, 1.0 / 3.0);
        assert_eq!(r.precision_at_80_recall, 0.5);
        // a weight of 2 counts like a duplicated row
        let w = [2.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let dup = BinaryReport::new(
            &[0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
            &[true, true, false, true, false, false, true],
            None,
        );
        let weighted = BinaryReport::new(&scores, &labels, Some(&w));
        assert!((dup.auc_roc - weighted.auc_roc).abs() < 1e-12);
        assert!((dup.average_precision - weighted.average_precision).abs() < 1e-12);
    }

    #[test]
    fn roc_curve_and_histogram_on_a_known_case() {
        let scores = [0.1, 0.4, 0.35, 0.8];
        let labels = [false, false, true, true];
        let c = roc_curve(&scores, &labels, None, 100);
        assert_eq!(c, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        // thinned, but still ends at (1, 1)
        let c = roc_curve(&scores, &labels, None, 2);
        assert_eq!(c.last(), Some(&(1.0, 1.0)));
        assert!(c.len() <= 3);
        let (edges, neg, pos) = score_histogram(&scores, &labels, 7);
        assert_eq!(edges.len(), 8);
        assert_eq!((edges[0], edges[7]), (0.1, 0.8));
        assert_eq!(neg, vec![1, 0, 0, 1, 0, 0, 0]);
        assert_eq!(pos, vec![0, 0, 1, 0, 0, 0, 1]);
        assert!(roc_curve(&scores, &[true; 4], None, 10).is_empty());
    }

    #[test]
    fn brier_and_statlog_cost() {
        assert!((brier(&[1.0, 0.0, 0.5], &[true, false, true], None) - 0.25 / 3.0).abs() < 1e-12);
        // bad predicted good costs 5, good predicted bad costs 1
        let c = statlog_cost(&[0.1, 0.9, 0.1, 0.9], &[true, false, false, true], None, 1.0 / 6.0);
        assert!((c - 6.0 / 4.0).abs() < 1e-12);
    }
}
