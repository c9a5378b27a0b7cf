//! Paired comparisons: a model against a baseline (`evaluate --against`, a series method
//! against seasonal naive) on the same items. Two separate intervals overlap even when one
//! model is better on nearly every item, because most of each interval's width is what the
//! items have in common; drawing the same samples for both and taking the interval of the
//! difference cancels that. Held-out data: the percentile bootstrap of the difference, the
//! items drawn as for the report's own intervals (within class for a ranking metric). Folds:
//! Student's t over the per-fold differences.

use crate::items::{IntentAnswers, cost_and_brier, labels_of, sample_prf, sentence_counts};
use crate::report::{Comparison, Difference};
use nivesh_core::Utterance;
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::CreditModel;
use nivesh_models::metrics::bootstrap::{SortedScores, t_interval};
use nivesh_models::metrics::{BinaryReport, Bootstrap, Interval, SpanKey};
use nivesh_models::tabular::Tabular;

/// A metric of one fold's report: its name, how to read it, and whether higher is better.
pub type FoldMetric<F> = (&'static str, fn(&F) -> f64, bool);

/// Per-item means (metric k is the mean over items of `model[i]` against `baseline[i]`), the
/// interval by the bootstrap of the per-item differences; a metric without items (or with
/// lengths that differ) is left out, and so is an item that is not finite on either side.
pub fn means(metrics: &[(&'static str, &[f64], &[f64], bool)], ci: &Bootstrap) -> Vec<Difference> {
    mean_differences(metrics, None, ci)
}

/// [`means`] with the items drawn in clusters (`cluster[i]` is item i's: a user's forecasts).
pub fn clustered_means(
    metrics: &[(&'static str, &[f64], &[f64], bool)],
    cluster: &[usize],
    ci: &Bootstrap,
) -> Vec<Difference> {
    mean_differences(metrics, Some(cluster), ci)
}

fn mean_differences(
    metrics: &[(&'static str, &[f64], &[f64], bool)],
    cluster: Option<&[usize]>,
    ci: &Bootstrap,
) -> Vec<Difference> {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    metrics
        .iter()
        .filter(|(_, a, b, _)| !a.is_empty() && a.len() == b.len())
        .map(|&(name, a, b, higher)| {
            // an item without a finite value on either side (a series with no scale) is left out
            let kept: Vec<usize> = (0..a.len()).filter(|&i| a[i].is_finite() && b[i].is_finite()).collect();
            let (a, b): (Vec<f64>, Vec<f64>) = kept.iter().map(|&i| (a[i], b[i])).unzip();
            let d: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - b).collect();
            let interval = match cluster {
                Some(c) => ci.clustered_mean_interval(&d, &kept.iter().map(|&i| c[i]).collect::<Vec<_>>()),
                None => ci.mean_interval(&d),
            };
            Difference::new(name, mean(&a), mean(&b), interval, higher)
        })
        .collect()
}

/// Intent: top-1 accuracy, accuracy with the threshold (in-scope queries) and out-of-scope
/// recall (out-of-scope queries), each query answered by both models.
pub(crate) fn intent(
    model: &IntentAnswers,
    baseline: &IntentAnswers,
    data: &[Utterance],
    ci: &Bootstrap,
) -> Vec<Difference> {
    let [a, b] = [model.hits(data), baseline.hits(data)];
    means(
        &[
            ("accuracy", &a[0], &b[0], true),
            ("accuracy_with_threshold", &a[1], &b[1], true),
            ("oos_recall", &a[2], &b[2], true),
        ],
        ci,
    )
}

/// NER: micro precision, recall and F1, the same sentences drawn for both.
pub fn ner(
    gold: &[Vec<SpanKey>],
    model: &[Vec<SpanKey>],
    baseline: &[Vec<SpanKey>],
    ci: &Bootstrap,
) -> Vec<Difference> {
    let (a, b) = (sentence_counts(gold, model), sentence_counts(gold, baseline));
    let ones = vec![1.0; a.len()];
    let (va, vb) = (sample_prf(&a, &ones), sample_prf(&b, &ones));
    let d = ci.intervals(&vec![0; a.len()], |t| {
        let (x, y) = (sample_prf(&a, t), sample_prf(&b, t));
        [x[0] - y[0], x[1] - y[1], x[2] - y[2]]
    });
    ["precision", "recall", "f1"]
        .iter()
        .enumerate()
        .map(|(k, &name)| Difference::new(name, va[k], vb[k], d[k], true))
        .collect()
}

/// Binary scores of two models on the same labelled rows: AUC-ROC, average precision and
/// recall at 1 % false-positive rate, rows drawn within their class.
pub fn ranking(
    model: &[f64],
    baseline: &[f64],
    labels: &[bool],
    weight: Option<&[f64]>,
    ci: &Bootstrap,
) -> Vec<Difference> {
    let (sa, sb) = (SortedScores::new(model, labels), SortedScores::new(baseline, labels));
    let (ra, rb) = (BinaryReport::new(model, labels, weight), BinaryReport::new(baseline, labels, weight));
    let d = ci.intervals(&sa.strata(), |t| {
        let (x, y) = (sa.sample_report(weight, t), sb.sample_report(weight, t));
        [x.auc_roc - y.auc_roc, x.average_precision - y.average_precision, x.recall_at_1pct_fpr - y.recall_at_1pct_fpr]
    });
    vec![
        Difference::new("auc_roc", ra.auc_roc, rb.auc_roc, d[0], true),
        Difference::new("average_precision", ra.average_precision, rb.average_precision, d[1], true),
        Difference::new("recall_at_1pct_fpr", ra.recall_at_1pct_fpr, rb.recall_at_1pct_fpr, d[2], true),
    ]
}

/// Credit: AUC-ROC (rows drawn within their class), the Statlog cost and the Brier score
/// (rows drawn from all of them), as the credit report draws them.
pub fn credit(
    model: &[f64],
    baseline: &[f64],
    labels: &[bool],
    weight: Option<&[f64]>,
    ci: &Bootstrap,
) -> Vec<Difference> {
    let (sa, sb) = (SortedScores::new(model, labels), SortedScores::new(baseline, labels));
    let auc = |s: &SortedScores, t: &[f64]| s.sample_report(weight, t).auc_roc;
    let ones = vec![1.0; labels.len()];
    let [d_auc] = ci.intervals(&sa.strata(), |t| [auc(&sa, t) - auc(&sb, t)]);
    let mut out = vec![Difference::new("auc_roc", auc(&sa, &ones), auc(&sb, &ones), d_auc, true)];
    let (va, vb) = (cost_and_brier(model, labels, weight, &ones), cost_and_brier(baseline, labels, weight, &ones));
    let d = ci.intervals(&vec![0; labels.len()], |t| {
        let (x, y) = (cost_and_brier(model, labels, weight, t), cost_and_brier(baseline, labels, weight, t));
        [x[0] - y[0], x[1] - y[1]]
    });
    out.push(Difference::new("statlog_cost", va[0], vb[0], d[0], false));
    out.push(Difference::new("brier", va[1], vb[1], d[1], false));
    out
}

/// Two credit models on the same held-out rows ([`credit`]): `data` as the model reads it,
/// `own` the same rows as the baseline reads them (its columns and categorical levels).
pub fn credit_rows(
    against: &str,
    model: &CreditModel,
    baseline: &CreditModel,
    data: &Tabular,
    own: &Tabular,
    ci: &Bootstrap,
) -> anyhow::Result<Comparison> {
    let labels = labels_of(data)?;
    let (x, y) = (model.probabilities(data)?, baseline.probabilities(own)?);
    Ok(comparison(against, drawn_again(data.rows, "rows"), credit(&x, &y, &labels, data.weight.as_deref(), ci)))
}

/// Two anomaly detectors on the same labelled rows ([`ranking`]); `own` as in [`credit_rows`].
pub fn anomaly_rows(
    against: &str,
    model: &AnomalyModel,
    baseline: &AnomalyModel,
    data: &Tabular,
    own: &Tabular,
    ci: &Bootstrap,
) -> anyhow::Result<Comparison> {
    let labels = labels_of(data)?;
    let m = ranking(&model.scores(data), &baseline.scores(own), &labels, data.weight.as_deref(), ci);
    Ok(comparison(against, drawn_again(data.rows, "rows"), m))
}

/// Cross-validation: the mean over folds of each metric for both, the interval Student's t
/// over the per-fold differences with Nadeau and Bengio's correction (none when the intervals
/// are off): k folds share their training rows, so the differences are not independent and the
/// plain `s²/k` understates the variance; the corrected `s²·(1/k + 1/(k−1))` (a test fold is
/// 1/(k−1) of the training rows) is the usual remedy (Nadeau & Bengio 2003; Bouckaert & Frank
/// 2004).
pub fn folds<F>(
    against: impl Into<String>,
    model: &[F],
    baseline: &[F],
    metrics: &[FoldMetric<F>],
    ci: &Bootstrap,
) -> Comparison {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let differences = metrics
        .iter()
        .map(|&(name, g, higher)| {
            let (a, b): (Vec<f64>, Vec<f64>) = (model.iter().map(g).collect(), baseline.iter().map(g).collect());
            let d: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a - b).collect();
            let interval = if ci.samples == 0 { None } else { corrected_t_interval(&d) };
            Difference::new(name, mean(&a), mean(&b), interval, higher)
        })
        .collect();
    comparison(against, format!("{} folds (corrected Student's t)", model.len()), differences)
}

/// [`t_interval`] widened by Nadeau and Bengio's factor `√(1 + k/(k−1))` (their `1/k + 1/(k−1)`
/// over the plain `1/k`) around the same mean.
fn corrected_t_interval(d: &[f64]) -> Option<Interval> {
    let i = t_interval(d)?;
    let k = d.len() as f64;
    let (mid, half) = ((i.low() + i.high()) / 2.0, (i.high() - i.low()) / 2.0);
    let half = half * (1.0 + k / (k - 1.0)).sqrt();
    Some(Interval(mid - half, mid + half))
}

/// What a bootstrap comparison drew: "N queries drawn again" (folds say so in [`folds`]).
pub fn drawn_again(n: usize, what: &str) -> String {
    format!("{n} {what} drawn again")
}

/// A comparison of `metrics` against `against`.
pub fn comparison(against: impl Into<String>, paired_over: String, metrics: Vec<Difference>) -> Comparison {
    Comparison { against: against.into(), paired_over, metrics }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    #[test]
    fn a_model_better_on_nearly_every_item_is_shown_better_when_separate_intervals_overlap() {
        // 200 items: the model gets right what the baseline does, and 6 more
        let base: Vec<f64> = (0..200).map(|i| f64::from(u8::from(i % 5 != 0))).collect();
        let model: Vec<f64> =
            base.iter().enumerate().map(|(i, &b)| if i % 5 == 0 && i < 30 { 1.0 } else { b }).collect();
        let ci = Bootstrap::default();
        let d = &means(&[("accuracy", &model, &base, true)], &ci)[0];
        assert!((d.difference - 0.03).abs() < 1e-12, "{}", d.difference);
        assert_eq!(d.verdict, Verdict::Better, "{:?}", d.ci95);
        // the separate intervals overlap
        let (a, b) = (ci.mean_interval(&model).unwrap(), ci.mean_interval(&base).unwrap());
        assert!(a.low() < b.high(), "{a} {b}");
        // the other way round it is worse; a lower-is-better metric flips it
        assert_eq!(means(&[("accuracy", &base, &model, true)], &ci)[0].verdict, Verdict::Worse);
        assert_eq!(means(&[("error", &model, &base, false)], &ci)[0].verdict, Verdict::Worse);
    }

    #[test]
    fn identical_models_differ_by_nothing_and_nothing_is_shown() {
        let a: Vec<f64> = (0..50).map(|i| f64::from(i % 3)).collect();
        let d = &means(&[("m", &a, &a, true)], &Bootstrap::default())[0];
        assert_eq!((d.difference, d.verdict), (0.0, Verdict::NotShown));
        assert_eq!(d.ci95.map(|i| (i.low(), i.high())), Some((0.0, 0.0)));
        // off: no interval, nothing shown, the values still there
        let off = &means(&[("m", &a, &a, true)], &Bootstrap::with_samples(0).unwrap())[0];
        assert_eq!((off.ci95, off.verdict), (None, Verdict::NotShown));
        assert!(means(&[("m", &[], &[], true)], &Bootstrap::default()).is_empty());
    }

    #[test]
    fn ranking_differences_are_paired_within_class() {
        // 40 rows, 8 positives; the model ranks every positive on top, the baseline misses two
        let labels: Vec<bool> = (0..40).map(|i| i % 5 == 0).collect();
        let model: Vec<f64> =
            labels.iter().enumerate().map(|(i, &y)| if y { 1.0 + i as f64 } else { i as f64 / 100.0 }).collect();
        let baseline: Vec<f64> =
            model.iter().enumerate().map(|(i, &s)| if i == 0 || i == 5 { 0.0 } else { s }).collect();
        let d = ranking(&model, &baseline, &labels, None, &Bootstrap::default());
        assert_eq!(d[0].metric, "auc_roc");
        assert_eq!(d[0].value, 1.0);
        // the two positives scored 0 rank below every one of the 32 negatives
        assert!((d[0].baseline - (1.0 - 2.0 / 8.0)).abs() < 1e-12, "{}", d[0].baseline);
        let i = d[0].ci95.unwrap();
        assert!(i.low() >= 0.0 && i.contains(d[0].difference), "{i}");
    }

    #[test]
    fn pairing_cancels_what_two_models_share() {
        // two rankings that agree on most rows, with crossing scores: the paired interval of
        // the AUC difference is much narrower than the two AUCs' own intervals
        let mut rng = nivesh_core::rng::Rng::new(7);
        let labels: Vec<bool> = (0..400).map(|i| i % 4 == 0).collect();
        let model: Vec<f64> = labels.iter().map(|&y| rng.f64() + if y { 0.6 } else { 0.0 }).collect();
        let baseline: Vec<f64> = model.iter().map(|s| s + 0.05 * rng.f64()).collect();
        let ci = Bootstrap::default();
        let d = &ranking(&model, &baseline, &labels, None, &ci)[0];
        let paired = d.ci95.unwrap();
        let own = |s: &[f64]| {
            let sorted = SortedScores::new(s, &labels);
            ci.interval(&sorted.strata(), |t| sorted.sample_report(None, t).auc_roc).unwrap()
        };
        let width = |i: Interval| i.high() - i.low();
        assert!(width(paired) * 4.0 < width(own(&model)).min(width(own(&baseline))), "{paired} {}", own(&model));
        assert!(paired.contains(d.difference));
    }

    #[test]
    fn pairs_that_are_not_finite_are_left_out() {
        let (a, b) = ([1.0, f64::NAN, 3.0, 2.0, 1.0, 2.0], [0.5, 1.0, f64::INFINITY, 1.0, 1.0, 1.0]);
        let d = &means(&[("mase", &a, &b, false)], &Bootstrap::default())[0];
        assert_eq!((d.value, d.baseline), (1.5, 0.875));
        assert!(d.ci95.is_none(), "4 items: too few to draw again");
    }

    #[test]
    fn folds_use_student_t_of_the_differences() {
        let metrics: [FoldMetric<f64>; 1] = [("cost", |f| *f, false)];
        let (a, b) = ([0.50, 0.52, 0.48, 0.51], [0.55, 0.56, 0.54, 0.57]);
        let c = folds("defaults", &a, &b, &metrics, &Bootstrap::default());
        assert_eq!(c.paired_over, "4 folds (corrected Student's t)");
        let d = &c.metrics[0];
        assert!((d.difference - (-0.0525)).abs() < 1e-12);
        // differences -0.05, -0.04, -0.06, -0.06: mean -0.0525, sd 0.009574, t(3) 3.182, and
        // Nadeau-Bengio's variance s²·(1/4 + 1/3)
        let i = d.ci95.unwrap();
        let half = 3.182 * 0.009574 * (0.25f64 + 1.0 / 3.0).sqrt();
        assert!((i.high() - (-0.0525 + half)).abs() < 1e-3 && (i.low() - (-0.0525 - half)).abs() < 1e-3, "{i}");
        assert_eq!(d.verdict, Verdict::Better);
    }
}
