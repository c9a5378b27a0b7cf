//! Evaluation: a model and labelled data give a typed [`Report`]. The same functions serve
//! `train` (on held-out data), the pipeline and `evaluate` (a saved model on a file).

use crate::inputs;
use crate::report::*;
use crate::spec::Input;
use anyhow::Context;
use nivesh_core::{NerExample, Transaction, Utterance};
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::{CreditModel, credit_report};
use nivesh_models::forecast::{ForecastParams, SpendingForecaster};
use nivesh_models::intent::IntentClassifier;
use nivesh_models::metrics::bootstrap::{SortedScores, t_interval};
use nivesh_models::metrics::{BinaryReport, Bootstrap, ClassificationReport, SpanKey, span_report};
use nivesh_models::ner::{FinancialNer, NerInput};
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
    pub method: Option<nivesh_models::forecast::SeriesMethod>,
    /// Credit and anomaly: k-fold cross-validation over this column's values.
    pub cv_column: Option<String>,
    /// Bootstrap samples for the metrics' 95 % intervals (0: none).
    #[serde(default = "crate::spec::default_bootstrap")]
    pub bootstrap: usize,
}

/// An evaluation and a line saying what was evaluated on what (the report says it already
/// for a series benchmark).
pub struct Evaluated {
    pub report: Report,
    pub description: Option<String>,
}

/// Evaluate a saved model as `spec` says.
pub fn evaluate(spec: &EvalSpec) -> anyhow::Result<Evaluated> {
    let path = if spec.model_path.is_dir() {
        spec.model_path.join(spec.model.artifact_file())
    } else {
        spec.model_path.clone()
    };
    let shown = path.display().to_string();
    let ci = &Bootstrap::with_samples(spec.bootstrap)?;
    let (mut report, description) = match spec.model {
        ModelKind::Intent => {
            let mut model: IntentClassifier = load(&path)?;
            if let Some(t) = spec.threshold {
                model.set_confidence_threshold(t)?;
            }
            let data = inputs::utterances(&spec.input, "test")?;
            let oos: Vec<String> = match &spec.oos_split {
                Some(split) => inputs::utterances_from(&spec.input.paths, spec.input.format, split)?
                    .into_iter()
                    .map(|u| u.text)
                    .collect(),
                None => Vec::new(),
            };
            let d = format!("{shown} — {} utterances, {} intents", data.len(), model.labels().len());
            (Report::Intent(intent(&model, &data, &oos, ci)?), d)
        }
        ModelKind::Ner => {
            let model: FinancialNer = load(&path)?;
            let data = inputs::ner_examples(&spec.input.paths, spec.input.format)?;
            let d = format!("{shown} — {} sentences", data.len());
            (Report::Ner(ner(&model, &data, ci)?), d)
        }
        ModelKind::Credit => {
            let mut model: CreditModel = load(&path)?;
            if let Some(t) = spec.threshold {
                model.set_threshold(t)?;
            }
            let data = inputs::credit_table(&spec.input, Some(model.schema()), spec.cv_column.as_deref())?;
            match &spec.cv_column {
                None => (
                    Report::Credit(CreditReport::Holdout(credit(&model, &data, ci)?)),
                    format!("{shown} — {} rows", data.rows),
                ),
                Some(cv) => {
                    let fit = |train: &Tabular, test: &Tabular| {
                        let probs = model.params().fit(train)?.probabilities(test)?;
                        Ok(credit_report(&probs, test.y.as_deref().unwrap_or_default(), test.weight.as_deref()))
                    };
                    let (d, mut r) = cross_validate(ModelKind::Credit, &data, cv, &shown, fit, CreditMeans::mean)?;
                    r.ci95 = over_folds(
                        &r.per_fold,
                        ci,
                        &[
                            ("auc_roc", |f: &nivesh_models::credit::CreditReport| f.binary.auc_roc),
                            ("statlog_cost", |f| f.statlog_cost),
                            ("brier", |f| f.brier),
                        ],
                    );
                    (Report::Credit(CreditReport::CrossValidated(r)), d)
                }
            }
        }
        ModelKind::Anomaly => {
            let model: AnomalyModel = load(&path)?;
            let (data, _) = inputs::anomaly_table(&spec.input, Some(model.schema()), None, spec.cv_column.as_deref())?;
            match &spec.cv_column {
                None => (
                    Report::Anomaly(AnomalyReport::Holdout(anomaly(&model, &data, ci)?)),
                    format!("{shown} — {} rows", data.rows),
                ),
                Some(cv) => {
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
                    let (d, mut r) = cross_validate(ModelKind::Anomaly, &data, cv, &shown, fit, mean)?;
                    r.ci95 = over_folds(
                        &r.per_fold,
                        ci,
                        &[
                            ("auc_roc", |f: &BinaryReport| f.auc_roc),
                            ("average_precision", |f| f.average_precision),
                            ("recall_at_1pct_fpr", |f| f.recall_at_1pct_fpr),
                        ],
                    );
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
                let r = spending_benchmark(bench, method, ci)?;
                (Report::Spending(SpendingReport::Benchmark(r)), String::new())
            }
            None => {
                // a backtest on transactions with the saved model's parameters
                let model: SpendingForecaster = load(&path)?;
                anyhow::ensure!(!spec.input.paths.is_empty(), "give --benchmark FILE or --data transactions");
                let txns: Vec<Transaction> = nivesh_core::dataset::read_records(&spec.input.paths[0])?;
                // the saved model is the prior of the refit when it was trained before the cut
                let r = spending_backtest(model.params(), &txns, 90, Some(&model))?;
                let d = format!("{shown} — backtest on {}", spec.input.paths[0].display());
                (Report::Spending(SpendingReport::Backtest(r)), d)
            }
        },
    };
    report.set_model_path(shown);
    Ok(Evaluated { report, description: (!description.is_empty()).then_some(description) })
}

/// The intent classifier on labelled utterances and out-of-scope queries.
pub fn intent(
    model: &IntentClassifier,
    data: &[Utterance],
    oos: &[String],
    ci: &Bootstrap,
) -> anyhow::Result<IntentReport> {
    let started = Instant::now();
    let fallback = model.fallback_label();
    let mut truth = Vec::with_capacity(data.len());
    let mut argmax = Vec::with_capacity(data.len());
    let mut thresholded = Vec::with_capacity(data.len());
    // (top probability, top intent right, truth is the fallback) of each in-scope query
    let mut in_scope = Vec::with_capacity(data.len());
    for u in data {
        let p = model.predict(&u.text)?;
        truth.push(u.intent.clone());
        let top = p.alternatives.first().map(|a| a.intent.clone()).unwrap_or_default();
        in_scope.push((p.confidence, top == u.intent, u.intent == fallback));
        argmax.push(top);
        thresholded.push(p.intent);
    }
    let mean_predict_us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
    let r = ClassificationReport::new(&truth, &argmax);
    let accuracy_with_threshold =
        truth.iter().zip(&thresholded).filter(|(t, p)| t == p).count() as f64 / truth.len().max(1) as f64;
    // out-of-scope queries: (top probability, whether the fallback intent is on top)
    let mut out = Vec::with_capacity(oos.len());
    for text in oos {
        let p = model.predict(text)?;
        let top_is_fallback = p.alternatives.first().is_some_and(|a| a.intent == fallback);
        out.push((p.confidence, top_is_fallback));
    }
    // each out-of-scope query answered with the fallback intent at threshold t
    let caught = |t: f64| out.iter().map(move |&(c, fb)| fb || c < t);
    let caught_at = |t: f64| caught(t).filter(|&x| x).count() as f64 / out.len().max(1) as f64;
    let oos_recall = (!oos.is_empty()).then(|| caught_at(model.confidence_threshold()));
    let right = |a: &[String]| -> Vec<f64> { truth.iter().zip(a).map(|(t, p)| f64::from(u8::from(t == p))).collect() };
    let caught: Vec<f64> = caught(model.confidence_threshold()).map(|x| f64::from(u8::from(x))).collect();
    let ci95 = intervals([
        ("accuracy", ci.mean_interval(&right(&argmax))),
        ("accuracy_with_threshold", ci.mean_interval(&right(&thresholded))),
        ("oos_recall", ci.mean_interval(&caught)),
    ]);
    let oos_curve = if oos.is_empty() {
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
    Ok(IntentReport {
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
        oos_n: oos_recall.map(|_| oos.len()),
        oos_curve,
        ci95,
        model_path: None,
    })
}

/// The recogniser on labelled sentences (those without a reference date are read as of today).
pub fn ner(model: &FinancialNer, data: &[NerExample], ci: &Bootstrap) -> anyhow::Result<NerReport> {
    let today = chrono::Local::now().date_naive();
    let started = Instant::now();
    let (mut gold, mut pred) = (Vec::new(), Vec::new());
    // value accuracy: gold entities with a value, found with the exact span and label
    let mut value_counts: BTreeMapCounts = Default::default();
    for ex in data {
        let reference_date = ex.reference_date.unwrap_or(today);
        let ents = model.predict(&NerInput { text: &ex.text, reference_date })?;
        let key = |s: usize, e: usize, l: &str| SpanKey { start: s, end: e, label: l.to_string() };
        for g in &ex.entities {
            let (Some(gv), true) = (&g.value, g.label == "MONEY" || g.label == "DATE") else { continue };
            if let Some(p) = ents.iter().find(|p| p.start == g.start && p.end == g.end && p.label == g.label) {
                let c = value_counts.entry(g.label.clone()).or_default();
                c.1 += 1;
                if p.value.as_ref() == Some(gv) {
                    c.0 += 1;
                }
            }
        }
        gold.push(ex.entities.iter().map(|e| key(e.start, e.end, &e.label)).collect::<Vec<_>>());
        pred.push(ents.iter().map(|e| key(e.start, e.end, &e.label)).collect::<Vec<_>>());
    }
    let mean_predict_us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
    let r = span_report(&gold, &pred);
    // per sentence: entities found exactly, predicted, labelled
    let counts: Vec<[f64; 3]> = gold
        .iter()
        .zip(&pred)
        .map(|(g, p)| [p.iter().filter(|e| g.contains(e)).count() as f64, p.len() as f64, g.len() as f64])
        .collect();
    let [precision, recall, f1] = ci.intervals(&vec![0; counts.len()], |t| {
        let (tp, p, g) =
            counts.iter().zip(t).fold((0.0, 0.0, 0.0), |s, (c, t)| (s.0 + t * c[0], s.1 + t * c[1], s.2 + t * c[2]));
        // as `span_report` scores them: 0 where a denominator is 0
        let (precision, recall, f1) = nivesh_models::metrics::prf(tp, p, g);
        [precision, recall, f1]
    });
    let ci95 = intervals([("precision", precision), ("recall", recall), ("f1", f1)]);
    let value_accuracy = value_counts
        .into_iter()
        .map(|(l, (ok, n))| (l, ValueAccuracy { accuracy: ok as f64 / n.max(1) as f64, n }))
        .collect();
    Ok(NerReport {
        model: ModelKind::Ner,
        n: data.len(),
        precision: r.precision,
        recall: r.recall,
        f1: r.f1,
        per_label: r.per_label,
        value_accuracy,
        mean_predict_us,
        ci95,
        model_path: None,
    })
}

/// The intervals that could be drawn, by name.
fn intervals<const N: usize>(pairs: [(&'static str, Option<nivesh_models::metrics::Interval>); N]) -> Intervals {
    pairs.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// A metric of one fold's report, by name.
type FoldMetric<F> = (&'static str, fn(&F) -> f64);

/// Intervals of the means over folds of each `(name, metric)`: Student's t over the folds'
/// values (none when the bootstrap is off).
fn over_folds<F>(folds: &[F], ci: &Bootstrap, metrics: &[FoldMetric<F>]) -> Intervals {
    if ci.samples == 0 {
        return Intervals::new();
    }
    metrics
        .iter()
        .filter_map(|&(name, g)| Some((name, t_interval(&folds.iter().map(g).collect::<Vec<_>>())?)))
        .collect()
}

type BTreeMapCounts = std::collections::BTreeMap<String, (usize, usize)>;

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
    let [cost, brier] = ci.intervals(&vec![0; probs.len()], |t| {
        let w: Vec<f64> = match data.weight.as_deref() {
            Some(w) => w.iter().zip(t).map(|(w, t)| w * t).collect(),
            None => t.to_vec(),
        };
        [
            nivesh_models::metrics::statlog_cost(&probs, &labels, Some(&w), 1.0 / 6.0),
            nivesh_models::metrics::brier(&probs, &labels, Some(&w)),
        ]
    });
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

/// The series model on a benchmark file (each series with its own season) against seasonal naive.
pub fn spending_benchmark(
    bench: &Path,
    method: nivesh_models::forecast::SeriesMethod,
    ci: &Bootstrap,
) -> anyhow::Result<SpendingBenchmark> {
    use nivesh_models::forecast::{forecast_errors, forecast_series_with, seasonal_naive};
    #[derive(serde::Deserialize)]
    struct Series {
        train: Vec<f64>,
        test: Vec<f64>,
        season_length: usize,
    }
    let text = std::fs::read_to_string(bench).with_context(|| format!("reading {}", bench.display()))?;
    let started = Instant::now();
    let (mut sn_mase, mut sn_smape) = (0.0, 0.0);
    // each series' errors, for the means and their intervals
    let (mut mase, mut smape) = (Vec::new(), Vec::new());
    let mut models_used: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", bench.display(), i + 1);
        let s: Series = serde_json::from_str(line).with_context(at)?;
        let f = forecast_series_with(&s.train, &[s.season_length], s.test.len(), method).with_context(at)?;
        *models_used.entry(f.model_used.clone()).or_default() += 1;
        let e = forecast_errors(&s.train, &s.test, &f.point, s.season_length);
        let naive = seasonal_naive(&s.train, s.season_length, s.test.len());
        let b = forecast_errors(&s.train, &s.test, &naive, s.season_length);
        mase.push(e.mase);
        smape.push(e.smape);
        sn_mase += b.mase;
        sn_smape += b.smape;
    }
    let n = mase.len();
    anyhow::ensure!(n > 0, "{} has no series", bench.display());
    let nf = n as f64;
    Ok(SpendingBenchmark {
        model: ModelKind::Spending,
        benchmark: bench.display().to_string(),
        series: n,
        mase: mase.iter().sum::<f64>() / nf,
        smape: smape.iter().sum::<f64>() / nf,
        seasonal_naive_mase: sn_mase / nf,
        seasonal_naive_smape: sn_smape / nf,
        models_used,
        ci95: intervals([("mase", ci.mean_interval(&mase)), ("smape", ci.mean_interval(&smape))]),
        seconds: started.elapsed().as_secs_f64(),
    })
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
/// errors against the actuals next to seasonal naive (season 7), averaged over users and origins.
/// `previous` (a model trained before) is the prior of the festival multipliers only when its
/// training data ended before the cut: it must know nothing of the held-out days.
pub fn spending_backtest(
    params: &ForecastParams,
    txns: &[Transaction],
    holdout_days: usize,
    previous: Option<&SpendingForecaster>,
) -> anyhow::Result<SpendingBacktest> {
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
    for part in per_user {
        for (day0, test, point, sn, train, offset) in part?.into_iter().flatten() {
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
            month_m += (sum(&test) - sum(&point)).abs();
            month_b += (sum(&test) - sum(&sn)).abs();
            n += 1;
        }
    }
    anyhow::ensure!(n > 0, "no user series to backtest");
    let nf = n as f64;
    Ok(SpendingBacktest {
        model: ModelKind::Spending,
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
        users: users.len().min(USERS),
        seconds: started.elapsed().as_secs_f64(),
        observations,
    })
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
