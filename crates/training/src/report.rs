//! Evaluation reports, typed per model. Each serialises to the JSON that a run stores as
//! `metrics.json` (and `--report` writes); the pipeline logs its top-level numbers as metrics and
//! judges a version by [`Report::primary_metric`]. Fields marked `skip` are for people (the
//! CLI's tables) and are not stored.

use nivesh_models::credit::{CreditReport as CreditMetrics, GroupFairness};
use nivesh_models::metrics::{BinaryReport, Interval, Prf};
use nivesh_models::{ModelKind, PrimaryMetric};
use serde::Serialize;
use std::collections::BTreeMap;

/// Confidence intervals by metric name.
pub type Intervals = BTreeMap<&'static str, Interval>;

/// A model's evaluation.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    Intent(IntentReport),
    Ner(NerReport),
    Spending(SpendingReport),
    Anomaly(AnomalyReport),
    Credit(CreditReport),
}

/// A metric's name, value and direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub higher_is_better: bool,
}

impl Report {
    pub fn kind(&self) -> ModelKind {
        match self {
            Report::Intent(_) => ModelKind::Intent,
            Report::Ner(_) => ModelKind::Ner,
            Report::Spending(_) => ModelKind::Spending,
            Report::Anomaly(_) => ModelKind::Anomaly,
            Report::Credit(_) => ModelKind::Credit,
        }
    }

    /// The value of the model's primary metric ([`ModelKind::primary_metric`]) in this report.
    pub fn primary_metric(&self) -> Metric {
        let PrimaryMetric { name, higher_is_better } = self.kind().primary_metric();
        let value = match self {
            Report::Intent(r) => r.accuracy,
            Report::Ner(r) => r.f1,
            Report::Spending(SpendingReport::Backtest(r)) => r.mase,
            Report::Spending(SpendingReport::Benchmark(r)) => r.mase,
            Report::Anomaly(AnomalyReport::Holdout(r)) => r.auc_roc,
            Report::Anomaly(AnomalyReport::CrossValidated(r)) => r.mean.auc_roc,
            Report::Credit(CreditReport::Holdout(r)) => r.metrics.binary.auc_roc,
            Report::Credit(CreditReport::CrossValidated(r)) => r.mean.auc_roc,
        };
        Metric { name, value, higher_is_better }
    }

    /// The report as stored (`metrics.json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Every top-level finite number of the stored report, in its order, then the bounds of
    /// its intervals (`accuracy_ci95_low`, `accuracy_ci95_high`, …): the run's metrics.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let serde_json::Value::Object(m) = self.to_json() else { return Vec::new() };
        let mut out: Vec<(String, f64)> =
            m.iter().filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k.clone(), x))).collect();
        for (k, i) in m.get("ci95").and_then(|c| c.as_object()).into_iter().flatten() {
            for (side, at) in [("low", 0), ("high", 1)] {
                if let Some(x) = i.get(at).and_then(|x| x.as_f64()).filter(|x| x.is_finite()) {
                    out.push((format!("{k}_ci95_{side}"), x));
                }
            }
        }
        out
    }

    /// Name the model file the report is about (`evaluate`).
    pub fn set_model_path(&mut self, path: String) {
        let slot = match self {
            Report::Intent(r) => &mut r.model_path,
            Report::Ner(r) => &mut r.model_path,
            Report::Anomaly(AnomalyReport::Holdout(r)) => &mut r.model_path,
            Report::Credit(CreditReport::Holdout(r)) => &mut r.model_path,
            Report::Spending(_) | Report::Anomaly(_) | Report::Credit(_) => return,
        };
        *slot = Some(path);
    }
}

/// The intent classifier on labelled utterances (and out-of-scope queries).
#[derive(Debug, Clone, Serialize)]
pub struct IntentReport {
    pub model: ModelKind,
    pub n: usize,
    /// Top-1 accuracy, ignoring the confidence threshold.
    pub accuracy: f64,
    pub macro_f1: f64,
    pub weighted_f1: f64,
    /// Accuracy when answers below the threshold fall back to the fallback intent.
    pub accuracy_with_threshold: f64,
    pub threshold: f64,
    pub per_class: BTreeMap<String, Prf>,
    pub labels: Vec<String>,
    pub confusion_matrix: Vec<Vec<usize>>,
    pub mean_predict_us: f64,
    /// Share of out-of-scope queries answered with the fallback intent: top probability below
    /// the threshold, or the fallback intent itself on top (when it was trained as a class).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oos_n: Option<usize>,
    /// With out-of-scope queries: in-scope accuracy (with the threshold) and out-of-scope
    /// recall at thresholds 0.05, 0.10, …, 0.95, to choose a threshold on a development split.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oos_curve: Vec<OosPoint>,
    /// 95 % bootstrap intervals of the headline metrics (`--bootstrap`; none when off or when
    /// a class or the items are too few).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_path: Option<String>,
}

/// In-scope accuracy and out-of-scope recall at one confidence threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OosPoint {
    pub threshold: f64,
    pub in_scope_accuracy: f64,
    pub oos_recall: f64,
}

/// Per-label accuracy of normalised values (amounts, dates) on exactly matched spans.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueAccuracy {
    pub accuracy: f64,
    pub n: usize,
}

/// The recogniser on labelled sentences: seqeval-style span metrics.
#[derive(Debug, Clone, Serialize)]
pub struct NerReport {
    pub model: ModelKind,
    pub n: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub per_label: BTreeMap<String, Prf>,
    pub value_accuracy: BTreeMap<String, ValueAccuracy>,
    pub mean_predict_us: f64,
    /// 95 % bootstrap intervals of the headline metrics (`--bootstrap`; none when off or when
    /// a class or the items are too few).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_path: Option<String>,
}

/// Mean errors of forecasts against actuals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorSummary {
    pub mae: f64,
    pub rmse: f64,
    pub smape: f64,
    pub mase: f64,
}

/// The summed actual and forecast spend over every user, per holdout day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastVsActual {
    /// First holdout day.
    pub start: String,
    pub actual: Vec<f64>,
    pub forecast: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
// one report per training run: its size does not matter
#[allow(clippy::large_enum_variant)]
pub enum SpendingReport {
    Backtest(Box<SpendingBacktest>),
    Benchmark(SpendingBenchmark),
}

/// Errors on one kind of forecast day (inside festival windows, or outside them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DaySplit {
    /// User-days scored.
    pub days: usize,
    pub mae: f64,
    pub seasonal_naive_mae: f64,
    /// Mean actual spend on those days (to read the errors against).
    pub mean_actual: f64,
    /// Mean forecast on those days (against `mean_actual`: the bias).
    pub mean_forecast: f64,
    /// Mean absolute error of each user's total over those days of one forecast (what a user
    /// sees: "₹X in the Diwali fortnight").
    pub total_mae: f64,
}

/// Rolling-origin backtest of the forecaster on users' daily spend.
#[derive(Debug, Clone, Serialize)]
pub struct SpendingBacktest {
    pub model: ModelKind,
    /// The method the model fitted before the cut forecast with (`auto`: chosen on those days).
    pub method: nivesh_models::forecast::SeriesMethod,
    /// With `auto`: how it was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Box<nivesh_models::forecast::MethodChoice>>,
    pub forecasts: usize,
    pub origins: usize,
    pub horizon_days: usize,
    pub holdout_days: usize,
    pub mae: f64,
    pub rmse: f64,
    pub smape: f64,
    pub mase: f64,
    pub seasonal_naive: ErrorSummary,
    pub monthly_total_mae: f64,
    pub seasonal_naive_monthly_total_mae: f64,
    /// Daily mean absolute error on the forecast days inside a festival window, and on the rest.
    pub festival_days: DaySplit,
    pub other_days: DaySplit,
    pub forecast_vs_actual: ForecastVsActual,
    /// Whether the previous model (trained on data before the cut) was the festival
    /// multipliers' prior.
    pub previous_model: bool,
    /// 95 % intervals of `mae`, `mase`, `smape` and `monthly_total_mae`, from drawing the users
    /// again with all their forecasts (`--bootstrap`; none when off or under 5 users).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    /// The forecasts against seasonal naive's, paired over the same users.
    pub vs_seasonal_naive: Comparison,
    /// Users backtested.
    #[serde(skip)]
    pub users: usize,
    #[serde(skip)]
    pub seconds: f64,
    /// What monitoring observes of each forecast (its training profile).
    #[serde(skip)]
    pub observations: Vec<nivesh_monitor::sample::Observation>,
}

/// The series model on a benchmark of series (each with its own season).
#[derive(Debug, Clone, Serialize)]
pub struct SpendingBenchmark {
    pub model: ModelKind,
    pub benchmark: String,
    pub series: usize,
    pub mase: f64,
    pub smape: f64,
    pub seasonal_naive_mase: f64,
    pub seasonal_naive_smape: f64,
    /// The method against seasonal naive on the same series.
    pub vs_seasonal_naive: Comparison,
    pub models_used: BTreeMap<String, usize>,
    /// With the method `auto`: the one chosen on the series' training parts, and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Box<nivesh_models::forecast::MethodChoice>>,
    /// 95 % bootstrap intervals of the headline metrics (`--bootstrap`; none when off or when
    /// a class or the items are too few).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    #[serde(skip)]
    pub seconds: f64,
}

/// A score histogram by class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreHistogram {
    pub edges: Vec<f64>,
    pub normal: Vec<u64>,
    pub anomalous: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AnomalyReport {
    Holdout(AnomalyHoldout),
    CrossValidated(CrossValidated<AnomalyMeans, BinaryReport>),
}

/// The detector on labelled rows.
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyHoldout {
    pub model: ModelKind,
    pub roc_curve: Vec<(f64, f64)>,
    pub score_histogram: ScoreHistogram,
    /// `unsupervised` or `supervised`.
    pub mode: String,
    pub n: usize,
    pub auc_roc: f64,
    pub average_precision: f64,
    pub recall_at_1pct_fpr: f64,
    pub threshold: f64,
    /// Rows scored above the threshold.
    pub flagged: usize,
    pub mean_score_us: f64,
    /// 95 % bootstrap intervals of the headline metrics (`--bootstrap`; none when off or when
    /// a class or the items are too few).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_path: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CreditReport {
    Holdout(CreditHoldout),
    CrossValidated(CrossValidated<CreditMeans, CreditMetrics>),
}

/// The credit model on labelled applications: discrimination, calibration, cost, fairness.
#[derive(Debug, Clone, Serialize)]
pub struct CreditHoldout {
    #[serde(flatten)]
    pub metrics: CreditMetrics,
    pub model: ModelKind,
    pub fairness: Vec<GroupFairness>,
    pub mean_predict_us: f64,
    pub roc_curve: Vec<(f64, f64)>,
    /// Generated applications: the AUC of the generator's own default logit on these rows, the
    /// best any model can reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achievable_auc: Option<f64>,
    /// 95 % bootstrap intervals of the headline metrics (`--bootstrap`; none when off or when
    /// a class or the items are too few).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_path: Option<String>,
    /// The decision threshold fairness was computed at.
    #[serde(skip)]
    pub threshold: f64,
}

/// k-fold cross-validation over a column's values: the mean of each metric, and every fold's.
#[derive(Debug, Clone, Serialize)]
pub struct CrossValidated<M, F> {
    pub model: ModelKind,
    pub cv_column: String,
    pub folds: usize,
    #[serde(flatten)]
    pub mean: M,
    /// 95 % intervals of the headline means: Student's t over the folds' values (none with
    /// `--bootstrap 0`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ci95: Intervals,
    pub per_fold: Vec<F>,
}

/// The mean of `g` over folds.
pub fn mean_of<F>(folds: &[F], g: impl Fn(&F) -> f64) -> f64 {
    folds.iter().map(g).sum::<f64>() / folds.len().max(1) as f64
}

/// Means over folds of the credit metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CreditMeans {
    pub auc_roc: f64,
    pub ks: f64,
    pub brier: f64,
    pub precision_at_80_recall: f64,
    pub average_precision: f64,
    pub statlog_cost: f64,
}

impl CreditMeans {
    /// The headline numbers of one evaluation.
    pub fn of(m: &CreditMetrics) -> Self {
        CreditMeans {
            auc_roc: m.binary.auc_roc,
            ks: m.binary.ks,
            brier: m.brier,
            precision_at_80_recall: m.binary.precision_at_80_recall,
            average_precision: m.binary.average_precision,
            statlog_cost: m.statlog_cost,
        }
    }

    /// Their means over folds.
    pub fn mean(folds: &[CreditMetrics]) -> Self {
        let all: Vec<CreditMeans> = folds.iter().map(CreditMeans::of).collect();
        CreditMeans {
            auc_roc: mean_of(&all, |m| m.auc_roc),
            ks: mean_of(&all, |m| m.ks),
            brier: mean_of(&all, |m| m.brier),
            precision_at_80_recall: mean_of(&all, |m| m.precision_at_80_recall),
            average_precision: mean_of(&all, |m| m.average_precision),
            statlog_cost: mean_of(&all, |m| m.statlog_cost),
        }
    }

    /// `(name, value)` in report order.
    pub fn rows(&self) -> [(&'static str, f64); 6] {
        [
            ("auc_roc", self.auc_roc),
            ("ks", self.ks),
            ("brier", self.brier),
            ("precision_at_80_recall", self.precision_at_80_recall),
            ("average_precision", self.average_precision),
            ("statlog_cost", self.statlog_cost),
        ]
    }
}

/// Means over folds of the detector's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnomalyMeans {
    pub auc_roc: f64,
    pub average_precision: f64,
    pub recall_at_1pct_fpr: f64,
}

/// A model against a baseline on the same items (`evaluate --against`, and every series
/// benchmark against seasonal naive): each headline metric of both, their difference and the
/// paired 95 % interval of that difference.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// What the model is compared with (the baseline model's file, or a method).
    pub against: String,
    /// What the pairs are: "3100 queries drawn again", "10 folds (corrected Student's t)".
    pub paired_over: String,
    pub metrics: Vec<Difference>,
}

/// One metric of a model and of its baseline on the same items.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub metric: &'static str,
    pub value: f64,
    pub baseline: f64,
    /// `value − baseline`.
    pub difference: f64,
    /// The paired 95 % interval of the difference: the same bootstrap samples (or folds) score
    /// both, so what the items share cancels out. None when the intervals are off or the
    /// items too few.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<Interval>,
    pub higher_is_better: bool,
    pub verdict: Verdict,
}

/// What a paired interval shows about a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval lies wholly on the better side of 0.
    Better,
    /// The interval lies wholly on the worse side of 0.
    Worse,
    /// The interval holds 0 (or there is none): these items cannot tell the two apart.
    NotShown,
}

impl Difference {
    pub fn new(
        metric: &'static str,
        value: f64,
        baseline: f64,
        ci95: Option<Interval>,
        higher_is_better: bool,
    ) -> Self {
        let sign = if higher_is_better { 1.0 } else { -1.0 };
        let verdict = match ci95 {
            Some(i) if i.low() * sign > 0.0 && i.high() * sign > 0.0 => Verdict::Better,
            Some(i) if i.low() * sign < 0.0 && i.high() * sign < 0.0 => Verdict::Worse,
            _ => Verdict::NotShown,
        };
        Difference { metric, value, baseline, difference: value - baseline, ci95, higher_is_better, verdict }
    }
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NotShown => "not shown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_metrics_are_the_top_level_numbers_then_the_interval_bounds() {
        let r = Report::Ner(NerReport {
            model: ModelKind::Ner,
            n: 10,
            precision: 0.5,
            recall: 0.25,
            f1: 1.0 / 3.0,
            per_label: BTreeMap::new(),
            value_accuracy: BTreeMap::new(),
            mean_predict_us: f64::NAN,
            ci95: [("f1", Interval(0.2, 0.45))].into_iter().collect(),
            model_path: None,
        });
        let names: Vec<(String, f64)> = r.scalars();
        assert_eq!(
            names,
            vec![
                ("n".to_string(), 10.0),
                ("precision".to_string(), 0.5),
                ("recall".to_string(), 0.25),
                ("f1".to_string(), 1.0 / 3.0),
                ("f1_ci95_low".to_string(), 0.2),
                ("f1_ci95_high".to_string(), 0.45),
            ]
        );
        assert_eq!(r.to_json()["ci95"], serde_json::json!({"f1": [0.2, 0.45]}));
    }
}
