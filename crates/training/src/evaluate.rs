//! Evaluation: a model and labelled data give a typed [`Report`]. The same functions serve
//! `train` (on held-out data), the pipeline and `evaluate` (a saved model on a file).

use crate::compare;
use crate::inputs;
use crate::items::*;
use crate::report::*;
use crate::spec::Input;
use anyhow::Context;
use nivesh_core::{NerExample, Transaction, Utterance};
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::{CreditModel, credit_report};
use nivesh_models::forecast::{ForecastParams, SeriesMethod, SpendingForecaster};
use nivesh_models::intent::IntentClassifier;
use nivesh_models::metrics::bootstrap::{SortedScores, t_interval};
use nivesh_models::metrics::{BinaryReport, Bootstrap, ClassificationReport, span_report};
use nivesh_models::ner::FinancialNer;
use nivesh_models::tabular::Tabular;
use nivesh_models::{Fit, ModelKind, Persist, Predict};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Read a model file (checksum verified).
pub fn load<T: Persist>(path: &Path) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading model {}", path.display()))?;
    T::from_bytes(&bytes).with_context(|| format!("loading model {}", path.display()))
}

/// A saved model evaluated on a file (`nivesh-ml evaluate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSpec {
    pub model: ModelKind,
    /// The model file, or a directory holding `<model>.model`.
    pub model_path: PathBuf,
    pub input: Input,
    /// Intent: CLINC150 split of out-of-scope queries (scored for out-of-scope recall).
    pub oos_split: Option<String>,
    /// Intent and credit: the decision threshold to evaluate at (default: the model's).
    pub threshold: Option<f64>,
    /// Spending: a series benchmark, JSONL of `{"id", "train", "test", "season_length"}`.
    pub benchmark: Option<PathBuf>,
    /// Spending: the series method (default: the saved model's).
    #[serde(default)]
    pub method: Option<SeriesMethod>,
    /// Credit and anomaly: k-fold cross-validation over this column's values.
    pub cv_column: Option<String>,
    /// Bootstrap samples for the metrics' 95 % intervals (0: none).
    #[serde(default = "crate::spec::default_bootstrap")]
    pub bootstrap: usize,
    /// A second model of the same kind, evaluated on the same items as the baseline of a
    /// paired comparison (for a series benchmark: its method).
    #[serde(default)]
    pub against: Option<PathBuf>,
}

/// An evaluation, a line saying what was evaluated on what (the report says it already for a
/// series benchmark), and the comparison with `--against`.
pub struct Evaluated {
    pub report: Report,
    pub description: Option<String>,
    pub comparison: Option<Comparison>,
}

/// The model file a path names: itself, or `<model>.model` in a directory.
pub fn model_file(kind: ModelKind, path: &Path) -> PathBuf {
    if path.is_dir() { path.join(kind.artifact_file()) } else { path.to_path_buf() }
}

/// The metrics compared over cross-validation folds.
const CREDIT_FOLD_METRICS: [compare::FoldMetric<nivesh_models::credit::CreditReport>; 3] = [
    ("auc_roc", |f| f.binary.auc_roc, true),
    ("statlog_cost", |f| f.statlog_cost, false),
    ("brier", |f| f.brier, false),
];
const ANOMALY_FOLD_METRICS: [compare::FoldMetric<BinaryReport>; 3] = [
    ("auc_roc", |f| f.auc_roc, true),
    ("average_precision", |f| f.average_precision, true),
    ("recall_at_1pct_fpr", |f| f.recall_at_1pct_fpr, true),
];

/// Evaluate a saved model as `spec` says.
pub fn evaluate(spec: &EvalSpec) -> anyhow::Result<Evaluated> {
    let path = model_file(spec.model, &spec.model_path);
    let shown = path.display().to_string();
    let against = spec.against.as_deref().map(|p| model_file(spec.model, p));
    let against_shown = against.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let ci = &Bootstrap::with_samples(spec.bootstrap)?;
    let mut comparison = None;
    let (mut report, description) = match spec.model {
        ModelKind::Intent => {
            let with_threshold = |path: &Path| -> anyhow::Result<IntentClassifier> {
                let mut model: IntentClassifier = load(path)?;
                if let Some(t) = spec.threshold {
                    model.set_confidence_threshold(t)?;
                }
                Ok(model)
            };
            let model = with_threshold(&path)?;
            let data = inputs::utterances(&spec.input, "test")?;
            let oos: Vec<String> = match &spec.oos_split {
                Some(split) => inputs::utterances_from(&spec.input.paths, spec.input.format, split)?
                    .into_iter()
                    .map(|u| u.text)
                    .collect(),
                None => Vec::new(),
            };
            let baseline = against.as_deref().map(with_threshold).transpose()?;
            let started = Instant::now();
            let x = intent_answers(&model, &data, &oos)?;
            let us = started.elapsed().as_secs_f64() * 1e6 / (data.len() + oos.len()).max(1) as f64;
            if let Some(b) = &baseline {
                let y = intent_answers(b, &data, &oos)?;
                let over = compare::drawn_again(data.len() + oos.len(), "queries");
                comparison = Some(compare::comparison(&against_shown, over, compare::intent(&x, &y, &data, ci)));
            }
            let d = format!("{shown} — {} utterances, {} intents", data.len(), model.labels().len());
            (Report::Intent(intent_report(&model, &x, &data, us, ci)), d)
        }
        ModelKind::Ner => {
            let model: FinancialNer = load(&path)?;
            let data = inputs::ner_examples(&spec.input.paths, spec.input.format)?;
            let baseline: Option<FinancialNer> = against.as_deref().map(load).transpose()?;
            let started = Instant::now();
            let spans = ner_spans(&model, &data)?;
            let us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
            if let Some(b) = &baseline {
                let (_, y, _) = ner_spans(b, &data)?;
                let over = compare::drawn_again(data.len(), "sentences");
                comparison = Some(compare::comparison(&against_shown, over, compare::ner(&spans.0, &spans.1, &y, ci)));
            }
            let d = format!("{shown} — {} sentences", data.len());
            (Report::Ner(ner_report(spans, data.len(), us, ci)), d)
        }
        ModelKind::Credit => {
            let mut model: CreditModel = load(&path)?;
            if let Some(t) = spec.threshold {
                model.set_threshold(t)?;
            }
            let baseline: Option<CreditModel> = against.as_deref().map(load).transpose()?;
            let data = inputs::credit_table(&spec.input, Some(model.schema()), spec.cv_column.as_deref())?;
            match &spec.cv_column {
                None => {
                    if let Some(b) = &baseline {
                        // the same rows read with the baseline's own columns and levels
                        let own = inputs::credit_table(&spec.input, Some(b.schema()), None)
                            .with_context(|| format!("reading the data for --against {against_shown}"))?;
                        comparison = Some(compare::credit_rows(&against_shown, &model, b, &data, &own, ci)?);
                    }
                    (
                        Report::Credit(CreditReport::Holdout(credit(&model, &data, ci)?)),
                        format!("{shown} — {} rows", data.rows),
                    )
                }
                Some(cv) => {
                    let folds = |model: &CreditModel| {
                        let fit = |train: &Tabular, test: &Tabular| {
                            let probs = model.params().fit(train)?.probabilities(test)?;
                            Ok(credit_report(&probs, test.y.as_deref().unwrap_or_default(), test.weight.as_deref()))
                        };
                        cross_validate(ModelKind::Credit, &data, cv, &shown, fit, CreditMeans::mean)
                    };
                    let (d, r, c) =
                        folds_against(&model, baseline.as_ref(), &against_shown, &CREDIT_FOLD_METRICS, ci, folds)?;
                    comparison = c;
                    (Report::Credit(CreditReport::CrossValidated(r)), d)
                }
            }
        }
        ModelKind::Anomaly => {
            let model: AnomalyModel = load(&path)?;
            let baseline: Option<AnomalyModel> = against.as_deref().map(load).transpose()?;
            let (data, _) = inputs::anomaly_table(&spec.input, Some(model.schema()), None, spec.cv_column.as_deref())?;
            match &spec.cv_column {
                None => {
                    if let Some(b) = &baseline {
                        // the same rows read with the baseline's own columns and levels
                        let (own, _) = inputs::anomaly_table(&spec.input, Some(b.schema()), None, None)
                            .with_context(|| format!("reading the data for --against {against_shown}"))?;
                        comparison = Some(compare::anomaly_rows(&against_shown, &model, b, &data, &own, ci)?);
                    }
                    (
                        Report::Anomaly(AnomalyReport::Holdout(anomaly(&model, &data, ci)?)),
                        format!("{shown} — {} rows", data.rows),
                    )
                }
                Some(cv) => {
                    let folds = |model: &AnomalyModel| {
                        let fit = |train: &Tabular, test: &Tabular| {
                            let scores = model.params().fit(train)?.scores(test);
                            let labels: Vec<bool> =
                                test.y.as_deref().unwrap_or_default().iter().map(|&v| v > 0.5).collect();
                            Ok(BinaryReport::new(&scores, &labels, test.weight.as_deref()))
                        };
                        let mean = |folds: &[BinaryReport]| AnomalyMeans {
                            auc_roc: mean_of(folds, |r| r.auc_roc),
                            average_precision: mean_of(folds, |r| r.average_precision),
                            recall_at_1pct_fpr: mean_of(folds, |r| r.recall_at_1pct_fpr),
                        };
                        cross_validate(ModelKind::Anomaly, &data, cv, &shown, fit, mean)
                    };
                    let (d, r, c) =
                        folds_against(&model, baseline.as_ref(), &against_shown, &ANOMALY_FOLD_METRICS, ci, folds)?;
                    comparison = c;
                    (Report::Anomaly(AnomalyReport::CrossValidated(r)), d)
                }
            }
        }
        ModelKind::Spending => match &spec.benchmark {
            Some(bench) => {
                let method = match spec.method {
                    Some(m) => m,
                    None => load::<SpendingForecaster>(&path)?.params().method,
                };
                let (r, x) = spending_benchmark(bench, method, ci)?;
                // on a benchmark only the method counts
                if let Some((other, name)) = spending_against(spec, &against_shown, &ForecastParams::default())? {
                    let y = benchmark_errors(bench, other.method)?;
                    let m =
                        compare::means(&[("mase", &x.mase, &y.mase, false), ("smape", &x.smape, &y.smape, false)], ci);
                    comparison = Some(compare::comparison(name, compare::drawn_again(r.series, "series"), m));
                }
                (Report::Spending(SpendingReport::Benchmark(r)), String::new())
            }
            None => {
                // a backtest on transactions with the saved model's parameters
                let model: SpendingForecaster = load(&path)?;
                anyhow::ensure!(!spec.input.paths.is_empty(), "give --benchmark FILE or --data transactions");
                // the baseline's parameters (`auto` chooses again before the cut)
                let baseline = spending_against(spec, &against_shown, model.params())?;
                let txns: Vec<Transaction> = nivesh_core::dataset::read_records(&spec.input.paths[0])?;
                // the saved model is the prior of the refit when it was trained before the cut
                let (r, ours) = spending_backtest(model.params(), &txns, 90, Some(&model), ci)?;
                if let Some((params, name)) = &baseline {
                    let b = (model.params(), params);
                    comparison = Some(backtest_against(&ours, b, &txns, Some(&model), name.as_str(), ci)?);
                }
                let d = format!("{shown} — backtest on {}", spec.input.paths[0].display());
                (Report::Spending(SpendingReport::Backtest(Box::new(r))), d)
            }
        },
    };
    report.set_model_path(shown);
    Ok(Evaluated { report, description: (!description.is_empty()).then_some(description), comparison })
}

/// The forecaster's `--against`: a method by name (`theta`: `own` parameters with that method) or a
/// saved model (its parameters), and the name shown.
fn spending_against(
    spec: &EvalSpec,
    against_shown: &str,
    own: &ForecastParams,
) -> anyhow::Result<Option<(ForecastParams, String)>> {
    let Some(b) = &spec.against else { return Ok(None) };
    Ok(Some(match b.to_str().and_then(|s| s.parse::<SeriesMethod>().ok()) {
        Some(m) => (ForecastParams { method: m, ..own.clone() }, m.to_string()),
        None => {
            let params = load::<SpendingForecaster>(&model_file(spec.model, b))?.params().clone();
            let name = format!("{against_shown} ({})", params.method);
            (params, name)
        }
    }))
}

/// The baseline's parameters (`params.1`) backtested on the same transactions with the same
/// prior as the model's (`params.0`, whose errors are `ours`), so that only the parameters
/// differ, and paired with it ([`BacktestErrors::against`]). The same parameters give the same
/// forecasts (the backtest is deterministic): they are not run again.
pub(crate) fn backtest_against(
    ours: &BacktestErrors,
    params: (&ForecastParams, &ForecastParams),
    txns: &[Transaction],
    prior: Option<&SpendingForecaster>,
    name: &str,
    ci: &Bootstrap,
) -> anyhow::Result<Comparison> {
    if params.0 == params.1 {
        return ours.against(ours, name, ci);
    }
    let (_, theirs) = spending_backtest(params.1, txns, 90, prior, ci)?;
    ours.against(&theirs, name, ci)
}

/// The intent classifier on labelled utterances and out-of-scope queries.
pub fn intent(
    model: &IntentClassifier,
    data: &[Utterance],
    oos: &[String],
    ci: &Bootstrap,
) -> anyhow::Result<IntentReport> {
    let started = Instant::now();
    let answers = intent_answers(model, data, oos)?;
    let mean_predict_us = started.elapsed().as_secs_f64() * 1e6 / (data.len() + oos.len()).max(1) as f64;
    Ok(intent_report(model, &answers, data, mean_predict_us, ci))
}

/// The intent report from the model's answers to `data` (and its out-of-scope queries).
pub(crate) fn intent_report(
    model: &IntentClassifier,
    answers: &IntentAnswers,
    data: &[Utterance],
    mean_predict_us: f64,
    ci: &Bootstrap,
) -> IntentReport {
    let fallback = model.fallback_label();
    let truth: Vec<String> = data.iter().map(|u| u.intent.clone()).collect();
    let argmax: Vec<String> = answers.queries.iter().map(|q| q.0.clone()).collect();
    // (top probability, top intent right, truth is the fallback) of each in-scope query
    let in_scope: Vec<(f64, bool, bool)> =
        answers.queries.iter().zip(data).map(|(q, u)| (q.2, q.0 == u.intent, u.intent == fallback)).collect();
    let r = ClassificationReport::new(&truth, &argmax);
    let [right_top, right_answer, caught] = answers.hits(data);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let accuracy_with_threshold = mean(&right_answer);
    let n_oos = answers.oos.len();
    let caught_at = |t: f64| answers.caught(t).filter(|&x| x).count() as f64 / n_oos.max(1) as f64;
    let oos_recall = (n_oos > 0).then(|| mean(&caught));
    let ci95 = intervals([
        ("accuracy", ci.mean_interval(&right_top)),
        ("accuracy_with_threshold", ci.mean_interval(&right_answer)),
        ("oos_recall", ci.mean_interval(&caught)),
    ]);
    let oos_curve = if n_oos == 0 {
        Vec::new()
    } else {
        (1..20)
            .map(|i| {
                let t = f64::from(i) * 0.05;
                OosPoint {
                    threshold: t,
                    // right as `predict` would answer at threshold t: the fallback intent is
                    // right for a query labelled with it, on top or below the threshold
                    in_scope_accuracy: in_scope
                        .iter()
                        .filter(
                            |&&(c, top_right, is_fallback)| {
                                if is_fallback { top_right || c < t } else { top_right && c >= t }
                            },
                        )
                        .count() as f64
                        / in_scope.len().max(1) as f64,
                    oos_recall: caught_at(t),
                }
            })
            .collect()
    };
    IntentReport {
        model: ModelKind::Intent,
        n: r.n,
        accuracy: r.accuracy,
        macro_f1: r.macro_f1,
        weighted_f1: r.weighted_f1,
        accuracy_with_threshold,
        threshold: model.confidence_threshold(),
        per_class: r.per_class,
        labels: r.labels,
        confusion_matrix: r.confusion,
        mean_predict_us,
        oos_recall,
        oos_n: oos_recall.map(|_| n_oos),
        oos_curve,
        ci95,
        model_path: None,
    }
}

/// The recogniser on labelled sentences (those without a reference date are read as of today).
pub fn ner(model: &FinancialNer, data: &[NerExample], ci: &Bootstrap) -> anyhow::Result<NerReport> {
    let started = Instant::now();
    let spans = ner_spans(model, data)?;
    let mean_predict_us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
    Ok(ner_report(spans, data.len(), mean_predict_us, ci))
}

/// The NER report from the gold and predicted spans of `n` sentences.
pub(crate) fn ner_report(spans: NerSpans, n: usize, mean_predict_us: f64, ci: &Bootstrap) -> NerReport {
    let (gold, pred, value_counts) = spans;
    let r = span_report(&gold, &pred);
    let counts = sentence_counts(&gold, &pred);
    let [precision, recall, f1] = ci.intervals(&vec![0; counts.len()], |t| sample_prf(&counts, t));
    let ci95 = intervals([("precision", precision), ("recall", recall), ("f1", f1)]);
    let value_accuracy = value_counts
        .into_iter()
        .map(|(l, (ok, n))| (l, ValueAccuracy { accuracy: ok as f64 / n.max(1) as f64, n }))
        .collect();
    NerReport {
        model: ModelKind::Ner,
        n,
        precision: r.precision,
        recall: r.recall,
        f1: r.f1,
        per_label: r.per_label,
        value_accuracy,
        mean_predict_us,
        ci95,
        model_path: None,
    }
}

/// The intervals that could be drawn, by name.
fn intervals<const N: usize>(pairs: [(&'static str, Option<nivesh_models::metrics::Interval>); N]) -> Intervals {
    pairs.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// Cross-validation of `model`, with the intervals over its folds, and of `baseline` (when
/// given) on the same folds, paired with it ([`compare::folds`]): `folds` runs one model's.
fn folds_against<T, M, F>(
    model: &T,
    baseline: Option<&T>,
    against: &str,
    metrics: &[compare::FoldMetric<F>],
    ci: &Bootstrap,
    folds: impl Fn(&T) -> anyhow::Result<(String, CrossValidated<M, F>)>,
) -> anyhow::Result<(String, CrossValidated<M, F>, Option<Comparison>)> {
    let (description, mut r) = folds(model)?;
    r.ci95 = over_folds(&r.per_fold, ci, metrics);
    let comparison = match baseline {
        Some(b) => Some(compare::folds(against, &r.per_fold, &folds(b)?.1.per_fold, metrics, ci)),
        None => None,
    };
    Ok((description, r, comparison))
}

/// Intervals of the means over folds of each `(name, metric)`: Student's t over the folds'
/// values (none when the bootstrap is off).
fn over_folds<F>(folds: &[F], ci: &Bootstrap, metrics: &[compare::FoldMetric<F>]) -> Intervals {
    if ci.samples == 0 {
        return Intervals::new();
    }
    metrics
        .iter()
        .filter_map(|&(name, g, _)| Some((name, t_interval(&folds.iter().map(g).collect::<Vec<_>>())?)))
        .collect()
}

/// The credit model on a labelled table: metrics, ROC curve and fairness.
pub fn credit(model: &CreditModel, data: &Tabular, ci: &Bootstrap) -> anyhow::Result<CreditHoldout> {
    let y = data.y.as_deref().ok_or_else(|| anyhow::anyhow!("the evaluation data has no label"))?;
    let started = Instant::now();
    let probs = model.probabilities(data)?;
    let mean_predict_us = started.elapsed().as_secs_f64() * 1e6 / data.rows.max(1) as f64;
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    // the AUC with the class counts kept (a ranking needs both classes); the cost and the Brier
    // score, which depend on the share of defaults, with the rows drawn from all of them
    let sorted = SortedScores::new(&probs, &labels);
    let [auc] = ci.intervals(&sorted.strata(), |t| [sorted.sample_report(data.weight.as_deref(), t).auc_roc]);
    let [cost, brier] =
        ci.intervals(&vec![0; probs.len()], |t| cost_and_brier(&probs, &labels, data.weight.as_deref(), t));
    let ci95 = intervals([("auc_roc", auc), ("statlog_cost", cost), ("brier", brier)]);
    Ok(CreditHoldout {
        ci95,
        metrics: credit_report(&probs, y, data.weight.as_deref()),
        model: ModelKind::Credit,
        fairness: model.fairness(data)?,
        mean_predict_us,
        roc_curve: nivesh_models::metrics::roc_curve(&probs, &labels, data.weight.as_deref(), 200),
        achievable_auc: None,
        model_path: None,
        threshold: model.threshold(),
    })
}

/// The detector on labelled rows: AUC-ROC, average precision, recall at 1 % false-positive
/// rate (all weighted when the data has weights), the score histogram by class.
pub fn anomaly(model: &AnomalyModel, data: &Tabular, ci: &Bootstrap) -> anyhow::Result<AnomalyHoldout> {
    let y = data.y.as_deref().ok_or_else(|| anyhow::anyhow!("the evaluation data has no label"))?;
    let started = Instant::now();
    let scores = model.scores(data);
    let mean_score_us = started.elapsed().as_secs_f64() * 1e6 / data.rows.max(1) as f64;
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    let r = BinaryReport::new(&scores, &labels, data.weight.as_deref());
    let (edges, normal, anomalous) = nivesh_models::metrics::score_histogram(&scores, &labels, 40);
    let sorted = SortedScores::new(&scores, &labels);
    let strata = sorted.strata();
    let [auc, ap, recall] = ci.intervals(&strata, |t| {
        let r = sorted.sample_report(data.weight.as_deref(), t);
        [r.auc_roc, r.average_precision, r.recall_at_1pct_fpr]
    });
    let ci95 = intervals([("auc_roc", auc), ("average_precision", ap), ("recall_at_1pct_fpr", recall)]);
    Ok(AnomalyHoldout {
        model: ModelKind::Anomaly,
        roc_curve: nivesh_models::metrics::roc_curve(&scores, &labels, data.weight.as_deref(), 200),
        score_histogram: ScoreHistogram { edges, normal, anomalous },
        mode: format!("{:?}", model.mode()).to_lowercase(),
        n: data.rows,
        auc_roc: r.auc_roc,
        average_precision: r.average_precision,
        recall_at_1pct_fpr: r.recall_at_1pct_fpr,
        threshold: model.threshold(),
        flagged: scores.iter().filter(|&&s| s > model.threshold()).count(),
        mean_score_us,
        ci95,
        model_path: None,
    })
}

/// Each series' errors on a benchmark, in file order, and the candidate each forecast used.
pub(crate) struct SeriesErrors {
    pub mase: Vec<f64>,
    pub smape: Vec<f64>,
    pub naive_mase: Vec<f64>,
    pub naive_smape: Vec<f64>,
    pub models_used: std::collections::BTreeMap<String, usize>,
    /// With `auto`: the method chosen on the series' training parts.
    pub chosen: Option<nivesh_models::forecast::MethodChoice>,
}

/// Every series of a benchmark file (JSONL of `{"train", "test", "season_length"}`) forecast
/// by `method` and by seasonal naive; an error names the line. `auto` chooses the method by a
/// rolling-origin CV on the series' training parts (their last horizon), never their tests.
pub(crate) fn benchmark_errors(bench: &Path, method: SeriesMethod) -> anyhow::Result<SeriesErrors> {
    use nivesh_models::forecast::{HeldSeries, choose_method, forecast_errors, forecast_series_with, seasonal_naive};
    #[derive(serde::Deserialize)]
    struct Series {
        train: Vec<f64>,
        test: Vec<f64>,
        season_length: usize,
    }
    let text = std::fs::read_to_string(bench).with_context(|| format!("reading {}", bench.display()))?;
    let mut out = SeriesErrors {
        mase: Vec::new(),
        smape: Vec::new(),
        naive_mase: Vec::new(),
        naive_smape: Vec::new(),
        models_used: Default::default(),
        chosen: None,
    };
    let mut all = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", bench.display(), i + 1);
        all.push((serde_json::from_str::<Series>(line).with_context(at)?, i + 1));
    }
    let method = if method == SeriesMethod::Auto {
        let seasons: Vec<[usize; 1]> = all.iter().map(|(s, _)| [s.season_length]).collect();
        let held: Vec<HeldSeries<'_>> = all
            .iter()
            .zip(&seasons)
            .map(|((s, _), season)| HeldSeries {
                y: &s.train,
                seasons: season,
                mase_season: s.season_length,
                horizon: s.test.len(),
                max_history: usize::MAX,
            })
            .collect();
        out.chosen = choose_method(&held, 1);
        out.chosen.as_ref().map_or(SeriesMethod::DEFAULT, |c| c.method)
    } else {
        method
    };
    for (s, line) in &all {
        let at = || format!("{}:{line}", bench.display());
        let f = forecast_series_with(&s.train, &[s.season_length], s.test.len(), method).with_context(at)?;
        *out.models_used.entry(f.model_used.clone()).or_default() += 1;
        let e = forecast_errors(&s.train, &s.test, &f.point, s.season_length);
        let naive = seasonal_naive(&s.train, s.season_length, s.test.len());
        let b = forecast_errors(&s.train, &s.test, &naive, s.season_length);
        out.mase.push(e.mase);
        out.smape.push(e.smape);
        out.naive_mase.push(b.mase);
        out.naive_smape.push(b.smape);
    }
    anyhow::ensure!(!out.mase.is_empty(), "{} has no series", bench.display());
    Ok(out)
}

/// The series model on a benchmark file (each series with its own season) against seasonal
/// naive, paired over the series; and each series' errors.
pub(crate) fn spending_benchmark(
    bench: &Path,
    method: SeriesMethod,
    ci: &Bootstrap,
) -> anyhow::Result<(SpendingBenchmark, SeriesErrors)> {
    let started = Instant::now();
    let e = benchmark_errors(bench, method)?;
    let n = e.mase.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let vs_seasonal_naive = compare::comparison(
        "seasonal naive",
        compare::drawn_again(n, "series"),
        compare::means(&[("mase", &e.mase, &e.naive_mase, false), ("smape", &e.smape, &e.naive_smape, false)], ci),
    );
    let report = SpendingBenchmark {
        model: ModelKind::Spending,
        benchmark: bench.display().to_string(),
        series: n,
        mase: mean(&e.mase),
        smape: mean(&e.smape),
        seasonal_naive_mase: mean(&e.naive_mase),
        seasonal_naive_smape: mean(&e.naive_smape),
        ci95: intervals([("mase", ci.mean_interval(&e.mase)), ("smape", ci.mean_interval(&e.smape))]),
        vs_seasonal_naive,
        models_used: e.models_used.clone(),
        chosen: e.chosen.clone().map(Box::new),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((report, e))
}

fn day_split((days, err, naive, actual, forecast): (usize, f64, f64, f64, f64), totals: (usize, f64)) -> DaySplit {
    let n = days.max(1) as f64;
    DaySplit {
        days,
        mae: err / n,
        seasonal_naive_mae: naive / n,
        mean_actual: actual / n,
        mean_forecast: forecast / n,
        total_mae: totals.1 / totals.0.max(1) as f64,
    }
}

/// Rolling-origin backtest on users' daily spend: festival effects learned on the data before
/// the first origin; origins every 30 days over the last `holdout_days`, each forecasting the
/// next 30 days of every user's daily spend (the first 200 users) from everything before it;
/// errors against the actuals next to seasonal naive (season 7), averaged over users and origins,
/// with intervals (and the pairing with seasonal naive) from drawing the users again.
/// `previous` (a model trained before) is the prior of the festival multipliers only when its
/// training data ended before the cut: it must know nothing of the held-out days.
pub fn spending_backtest(
    params: &ForecastParams,
    txns: &[Transaction],
    holdout_days: usize,
    previous: Option<&SpendingForecaster>,
    ci: &Bootstrap,
) -> anyhow::Result<(SpendingBacktest, BacktestErrors)> {
    use nivesh_models::forecast::{
        DailyHistory, PlacedSpend, daily_spend, forecast_errors, seasonal_naive, users_daily_spend,
    };
    const STEP: usize = 30;
    const USERS: usize = 200;
    let all: Vec<&Transaction> = txns.iter().collect();
    let (start, y) = daily_spend(&all, None).ok_or_else(|| anyhow::anyhow!("no debit transactions"))?;
    anyhow::ensure!(
        y.len() > holdout_days + 14,
        "{} days of data is too short for a {holdout_days}-day holdout",
        y.len()
    );
    let cut = start + chrono::Duration::days((y.len() - holdout_days) as i64);
    let before: Vec<Transaction> = txns.iter().filter(|t| t.timestamp.date_naive() < cut).cloned().collect();
    let previous = previous.filter(|p| p.trained_through.is_some_and(|d| d < cut));
    let model = params.fit_with_previous(&before, previous)?;
    // every user's daily spend, grouped once (user-id order)
    let users = users_daily_spend(txns, start);
    let started = Instant::now();
    let (mut m, mut b, mut n) = ([0.0f64; 4], [0.0f64; 4], 0usize);
    let (mut month_m, mut month_b) = (0.0, 0.0);
    // the sum over users of actual and forecast spend on each holdout day
    let (mut total_actual, mut total_forecast) = (vec![0.0f64; holdout_days], vec![0.0f64; holdout_days]);
    let mut observations = Vec::new();
    // (days, |error|, |seasonal-naive error|, actual) inside festival windows and outside
    let mut split = [(0usize, 0.0f64, 0.0f64, 0.0f64, 0.0f64); 2];
    // per kind of day: (forecasts, Σ |total actual − total forecast|)
    let mut totals = [(0usize, 0.0f64); 2];
    // the configured windows, whether or not the data before the cut let the model learn them
    let windows = params.windows();
    let festive: Vec<bool> = (0..holdout_days)
        .map(|k| {
            let day = cut + chrono::Duration::days(k as i64);
            windows.iter().any(|e| nivesh_models::forecast::in_window(e, day))
        })
        .collect();
    // one user's forecasts at every origin: (first holdout day, actuals, forecast, seasonal naive,
    // training series, the user's offset)
    type Origin = (usize, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, usize);
    let one_user = |spend: &Option<PlacedSpend>| -> anyhow::Result<Vec<Origin>> {
        let Some((offset, uy)) = spend else { return Ok(Vec::new()) };
        let offset = *offset;
        // align to the global calendar
        let mut series = vec![0.0; offset];
        series.extend_from_slice(uy);
        series.resize(y.len(), 0.0);
        let mut out = Vec::new();
        for origin in (y.len() - holdout_days..y.len()).step_by(STEP) {
            let (train, rest) = series.split_at(origin);
            let test = &rest[..STEP.min(rest.len())];
            let f = model.predict(&DailyHistory { start, values: train, horizon_days: test.len() })?;
            let sn = seasonal_naive(train, 7, test.len());
            out.push((origin + holdout_days - y.len(), test.to_vec(), f.forecast.point, sn, train.to_vec(), offset));
        }
        Ok(out)
    };
    // users split over the cores; results read back in user order, so the figures do not
    // depend on the thread count
    let chosen: Vec<&Option<PlacedSpend>> = users.iter().take(USERS).map(|(_, spend)| spend).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = chosen.len().div_ceil(threads).max(1);
    let per_user: Vec<anyhow::Result<Vec<Vec<Origin>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chosen
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|u| one_user(u)).collect::<anyhow::Result<Vec<_>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a backtest thread panicked"))))
            .collect()
    });
    // per forecast: its user (from 0, users with a forecast only) and its errors, the model's
    // and seasonal naive's — [MAE, MASE, sMAPE, 30-day total error] — for the intervals
    let mut user_of = Vec::new();
    let mut errors: [Vec<f64>; 8] = Default::default();
    let mut users_forecast = 0usize;
    for part in per_user {
        for (user, (day0, test, point, sn, train, offset)) in part?.into_iter().flat_map(|origins| {
            let user = users_forecast;
            users_forecast += usize::from(!origins.is_empty());
            origins.into_iter().map(move |o| (user, o))
        }) {
            // as served: the user's own days (from their first spend) and the next 30 days' total
            let next: f64 = point.iter().sum();
            observations.push(nivesh_monitor::observe::spending(&train[offset.min(train.len())..], next));
            let mut sums = [(0.0f64, 0.0f64, 0usize); 2];
            for (k, ((a, f), s)) in test.iter().zip(&point).zip(&sn).enumerate() {
                total_actual[day0 + k] += a;
                total_forecast[day0 + k] += f;
                let kind = usize::from(!festive[day0 + k]);
                let part = &mut split[kind];
                *part = (part.0 + 1, part.1 + (a - f).abs(), part.2 + (a - s).abs(), part.3 + a, part.4 + f);
                sums[kind] = (sums[kind].0 + a, sums[kind].1 + f, sums[kind].2 + 1);
            }
            for (t, (a, f, days)) in totals.iter_mut().zip(sums) {
                if days > 0 {
                    *t = (t.0 + 1, t.1 + (a - f).abs());
                }
            }
            let e = forecast_errors(&train, &test, &point, 7);
            let s = forecast_errors(&train, &test, &sn, 7);
            for (acc, v) in m.iter_mut().zip([e.mae, e.rmse, e.smape, e.mase]) {
                *acc += v;
            }
            for (acc, v) in b.iter_mut().zip([s.mae, s.rmse, s.smape, s.mase]) {
                *acc += v;
            }
            // 30-day totals, the figure users see
            let sum = |v: &[f64]| v.iter().sum::<f64>();
            let (month_e, month_s) = ((sum(&test) - sum(&point)).abs(), (sum(&test) - sum(&sn)).abs());
            month_m += month_e;
            month_b += month_s;
            user_of.push(user);
            for (acc, v) in errors.iter_mut().zip([e.mae, e.mase, e.smape, month_e, s.mae, s.mase, s.smape, month_s]) {
                acc.push(v);
            }
            n += 1;
        }
    }
    anyhow::ensure!(n > 0, "no user series to backtest");
    let nf = n as f64;
    // the users are drawn again, each with all its forecasts: a user's origins share the user
    let [e0, e1, e2, e3, s0, s1, s2, s3] = errors;
    let ours = BacktestErrors { user_of, errors: [e0, e1, e2, e3] };
    let naive = BacktestErrors { user_of: ours.user_of.clone(), errors: [s0, s1, s2, s3] };
    let ci95 = BACKTEST_METRICS
        .iter()
        .zip(&ours.errors)
        .filter_map(|(&k, v)| Some((k, ci.clustered_mean_interval(v, &ours.user_of)?)))
        .collect();
    let vs_seasonal_naive = ours.against(&naive, "seasonal naive (7)", ci)?;
    let report = SpendingBacktest {
        model: ModelKind::Spending,
        method: model.method(),
        chosen: model.chosen().cloned().map(Box::new),
        forecasts: n,
        origins: holdout_days.div_ceil(STEP),
        horizon_days: STEP,
        holdout_days,
        mae: m[0] / nf,
        rmse: m[1] / nf,
        smape: m[2] / nf,
        mase: m[3] / nf,
        seasonal_naive: ErrorSummary { mae: b[0] / nf, rmse: b[1] / nf, smape: b[2] / nf, mase: b[3] / nf },
        monthly_total_mae: month_m / nf,
        festival_days: day_split(split[0], totals[0]),
        other_days: day_split(split[1], totals[1]),
        seasonal_naive_monthly_total_mae: month_b / nf,
        forecast_vs_actual: ForecastVsActual { start: cut.to_string(), actual: total_actual, forecast: total_forecast },
        previous_model: previous.is_some(),
        ci95,
        vs_seasonal_naive,
        users: users.len().min(USERS),
        seconds: started.elapsed().as_secs_f64(),
        observations,
    };
    Ok((report, ours))
}

/// The backtest's metrics, in the order of [`BacktestErrors::errors`].
const BACKTEST_METRICS: [&str; 4] = ["mae", "mase", "smape", "monthly_total_mae"];

/// Every backtest forecast's errors — MAE, MASE, sMAPE and the 30-day total's — and its user
/// (numbered from 0 in user-id order, users with a forecast only): the backtest's intervals, and
/// the pairing of two backtests of the same transactions.
pub struct BacktestErrors {
    user_of: Vec<usize>,
    errors: [Vec<f64>; 4],
}

impl BacktestErrors {
    /// Paired with `baseline`'s forecasts of the same users at the same origins: the users are
    /// drawn again, each with all its forecasts.
    pub fn against(&self, baseline: &Self, name: impl Into<String>, ci: &Bootstrap) -> anyhow::Result<Comparison> {
        anyhow::ensure!(
            self.user_of == baseline.user_of,
            "the two backtests forecast different users or origins ({} and {} forecasts)",
            self.user_of.len(),
            baseline.user_of.len()
        );
        let metrics: Vec<_> = BACKTEST_METRICS
            .iter()
            .zip(self.errors.iter().zip(&baseline.errors))
            .map(|(&k, (a, b))| (k, &a[..], &b[..], false))
            .collect();
        let users = self.user_of.last().map_or(0, |u| u + 1);
        Ok(compare::comparison(
            name,
            compare::drawn_again(users, "users"),
            compare::clustered_means(&metrics, &self.user_of, ci),
        ))
    }
}

/// k-fold cross-validation over the table's group column: `run(train, test)` for each fold
/// value, in sorted order, summarised by `mean`. Also returns a line describing the folds.
fn cross_validate<M, F>(
    model: ModelKind,
    data: &Tabular,
    cv: &str,
    model_path: &str,
    mut run: impl FnMut(&Tabular, &Tabular) -> anyhow::Result<F>,
    mean: impl Fn(&[F]) -> M,
) -> anyhow::Result<(String, CrossValidated<M, F>)> {
    let groups = data.group.clone().unwrap_or_default();
    let mut folds = groups.clone();
    folds.sort();
    folds.dedup();
    anyhow::ensure!(folds.len() >= 2, "--cv-column {cv:?} has {} distinct values; at least 2 are needed", folds.len());
    let description = format!(
        "{}-fold cross-validation over {cv:?} ({} rows) with the parameters of {model_path}",
        folds.len(),
        data.rows
    );
    let per_fold = folds
        .iter()
        .map(|f| {
            let test: Vec<usize> = (0..data.rows).filter(|&i| &groups[i] == f).collect();
            let train: Vec<usize> = (0..data.rows).filter(|&i| &groups[i] != f).collect();
            run(&data.subset(&train), &data.subset(&test))
        })
        .collect::<anyhow::Result<Vec<F>>>()?;
    let r = CrossValidated {
        model,
        cv_column: cv.to_string(),
        folds: per_fold.len(),
        mean: mean(&per_fold),
        per_fold,
        ci95: Intervals::new(),
    };
    Ok((description, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    fn errors(user_of: Vec<usize>, mase: Vec<f64>) -> BacktestErrors {
        let other = vec![1.0; user_of.len()];
        BacktestErrors { user_of, errors: [other.clone(), mase, other.clone(), other] }
    }

    #[test]
    fn auto_on_a_benchmark_chooses_on_the_training_parts_only() {
        // 25 weekly-seasonal series; then every test part replaced: the same choice
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, test_of: &dyn Fn(usize) -> Vec<f64>| {
            let lines: Vec<String> = (0..25)
                .map(|s| {
                    let train: Vec<f64> =
                        (0..120).map(|i| 50.0 + 5.0 * ((i + s) % 7) as f64 + ((i * 31 + s * 7) % 13) as f64).collect();
                    serde_json::json!({"id": s, "train": train, "test": test_of(s), "season_length": 7}).to_string()
                })
                .collect();
            let path = dir.path().join(name);
            std::fs::write(&path, lines.join("\n")).unwrap();
            path
        };
        let a = benchmark_errors(&write("a.jsonl", &|_| vec![60.0; 14]), SeriesMethod::Auto).unwrap();
        let b = benchmark_errors(&write("b.jsonl", &|s| vec![1e4 * (s + 1) as f64; 14]), SeriesMethod::Auto).unwrap();
        let (ca, cb) = (a.chosen.unwrap(), b.chosen.unwrap());
        assert_eq!(ca, cb);
        assert_eq!((ca.series, ca.forecasts), (25, 25));
        assert_ne!(a.mase, b.mase, "the test parts were scored");
        // a method named is used as it is: no choice
        assert!(
            benchmark_errors(&write("c.jsonl", &|_| vec![60.0; 14]), SeriesMethod::Theta).unwrap().chosen.is_none()
        );
    }

    #[test]
    fn backtests_pair_by_user_and_refuse_different_forecasts() {
        // 30 users with two forecasts each; the model beats the baseline by 0.1 on every one
        let users: Vec<usize> = (0..60).map(|i| i / 2).collect();
        let base: Vec<f64> = (0..60).map(|i| 0.5 + f64::from(i % 7) * 0.1).collect();
        let model: Vec<f64> = base.iter().map(|b| b - 0.1).collect();
        let c = errors(users.clone(), model).against(&errors(users.clone(), base), "theta", &Bootstrap::default());
        let c = c.unwrap();
        assert_eq!((c.against.as_str(), c.paired_over.as_str()), ("theta", "30 users drawn again"));
        let mase = &c.metrics[1];
        assert_eq!(mase.metric, "mase");
        assert!((mase.difference + 0.1).abs() < 1e-12, "{}", mase.difference);
        assert_eq!(mase.verdict, Verdict::Better);
        // forecasts of other users (or another count) are not paired
        let fewer = errors(users[..58].to_vec(), vec![1.0; 58]);
        let err = errors(users, vec![1.0; 60]).against(&fewer, "x", &Bootstrap::default()).unwrap_err();
        assert!(err.to_string().contains("different users or origins (60 and 58 forecasts)"), "{err}");
    }
}
