use super::{inputs, train::model_file_name};
use crate::cli::{EvaluateArgs, ModelKind};
use anyhow::Context;
use nivesh_core::config::Config;
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::{CreditModel, credit_report};
use nivesh_models::intent::{IntentClassifier, clean_query};
use nivesh_models::metrics::{ClassificationReport, SpanKey, span_report};
use nivesh_models::ner::{FinancialNer, NerInput};
use nivesh_models::{Persist, Predict};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn model_path(p: &Path, kind: ModelKind) -> PathBuf {
    if p.is_dir() { p.join(model_file_name(kind)) } else { p.to_path_buf() }
}

pub fn load<T: Persist>(path: &Path) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading model {}", path.display()))?;
    T::from_bytes(&bytes).with_context(|| format!("loading model {}", path.display()))
}

pub fn run(args: EvaluateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let path = model_path(&args.model_path, args.model);
    let report = match args.model {
        ModelKind::Intent => evaluate_intent(&args, &path, config)?,
        ModelKind::Ner => evaluate_ner(&args, &path)?,
        ModelKind::Credit => evaluate_credit(&args, &path, config)?,
        ModelKind::Spending => evaluate_spending(&args, &path)?,
        ModelKind::Anomaly => evaluate_anomaly(&args, &path)?,
    };
    if let Some(out) = &args.report {
        write_report(out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn write_report(out: &Path, report: &serde_json::Value) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(report)?;
    nivesh_core::fsutil::atomic_write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("report written to {}", out.display());
    // the plots beside it: metrics.json → metrics.roc_curve.png
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    for plot in crate::plots::for_report(report)? {
        let path = out.with_file_name(format!("{stem}.{}", plot.name));
        nivesh_core::fsutil::atomic_write(&path, &plot.png).with_context(|| format!("writing {}", path.display()))?;
        println!("plot written to {}", path.display());
    }
    Ok(())
}

fn evaluate_intent(args: &EvaluateArgs, path: &Path, config: &Config) -> anyhow::Result<serde_json::Value> {
    let mut model: IntentClassifier = load(path)?;
    model.set_confidence_threshold(args.threshold.unwrap_or(config.intent_confidence_threshold))?;
    let data = inputs::utterances(&args.input, "test")?;
    let oos: Vec<String> = match &args.oos_split {
        Some(split) => {
            inputs::utterances_from(&args.input.data, args.input.format, split)?.into_iter().map(|u| u.text).collect()
        }
        None => Vec::new(),
    };
    println!("{} — {} utterances, {} intents", path.display(), data.len(), model.labels().len());
    let mut report = intent_report(&model, &data, &oos)?;
    report["model_path"] = json!(path.display().to_string());
    Ok(report)
}

/// Evaluate an intent model on labelled utterances (and out-of-scope queries), print a summary
/// and return the metrics as JSON.
pub fn intent_report(
    model: &IntentClassifier,
    data: &[nivesh_core::Utterance],
    oos: &[String],
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let mut truth = Vec::with_capacity(data.len());
    let mut argmax = Vec::with_capacity(data.len());
    let mut thresholded = Vec::with_capacity(data.len());
    for u in data {
        let p = model.predict(&u.text)?;
        truth.push(u.intent.clone());
        argmax.push(p.alternatives.first().map(|a| a.intent.clone()).unwrap_or_default());
        thresholded.push(p.intent);
    }
    let per_query_us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
    let r = ClassificationReport::new(&truth, &argmax);
    let in_scope_with_threshold =
        truth.iter().zip(&thresholded).filter(|(t, p)| t == p).count() as f64 / truth.len().max(1) as f64;

    let mut t = super::table(&["metric", "value"]);
    t.add_row(vec!["accuracy".to_string(), format!("{:.4}", r.accuracy)]);
    t.add_row(vec!["macro_f1".to_string(), format!("{:.4}", r.macro_f1)]);
    t.add_row(vec!["weighted_f1".to_string(), format!("{:.4}", r.weighted_f1)]);
    t.add_row(vec![
        format!("accuracy with threshold {:.2}", model.confidence_threshold()),
        format!("{in_scope_with_threshold:.4}"),
    ]);
    let mut report = json!({
        "model": "intent",
        "n": r.n,
        "accuracy": r.accuracy,
        "macro_f1": r.macro_f1,
        "weighted_f1": r.weighted_f1,
        "accuracy_with_threshold": in_scope_with_threshold,
        "threshold": model.confidence_threshold(),
        "per_class": r.per_class,
        "labels": r.labels,
        "confusion_matrix": r.confusion,
        "mean_predict_us": per_query_us,
    });

    // out-of-scope recall: share of out-of-scope queries whose top probability is below the threshold
    if !oos.is_empty() {
        let mut caught = 0usize;
        for text in oos {
            let (clean, _) = clean_query(text)?;
            let probs = model.probabilities(&clean);
            let top = probs.iter().copied().fold(0.0f32, f32::max) as f64;
            if top < model.confidence_threshold() {
                caught += 1;
            }
        }
        let recall = caught as f64 / oos.len() as f64;
        t.add_row(vec![format!("out-of-scope recall ({} queries)", oos.len()), format!("{recall:.4}")]);
        report["oos_recall"] = json!(recall);
        report["oos_n"] = json!(oos.len());
    }
    t.add_row(vec!["mean predict time".to_string(), format!("{per_query_us:.1} µs")]);
    println!("{t}");
    // the weakest classes, to see where the errors are
    let mut worst: Vec<_> = r.per_class.iter().filter(|(_, p)| p.support > 0).collect();
    worst.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1));
    let mut t = super::table(&["intent", "precision", "recall", "f1", "support"]);
    for (label, p) in worst.iter().take(5) {
        t.add_row(vec![
            label.to_string(),
            format!("{:.3}", p.precision),
            format!("{:.3}", p.recall),
            format!("{:.3}", p.f1),
            p.support.to_string(),
        ]);
    }
    println!("weakest intents:\n{t}");
    Ok(report)
}

fn evaluate_ner(args: &EvaluateArgs, path: &Path) -> anyhow::Result<serde_json::Value> {
    let model: FinancialNer = load(path)?;
    let data = inputs::ner_examples(&args.input.data, args.input.format)?;
    println!("{} — {} sentences", path.display(), data.len());
    let mut report = ner_report(&model, &data)?;
    report["model_path"] = json!(path.display().to_string());
    Ok(report)
}

/// Evaluate a NER model on labelled sentences, print a summary and return the metrics as JSON.
pub fn ner_report(model: &FinancialNer, data: &[nivesh_core::NerExample]) -> anyhow::Result<serde_json::Value> {
    let today = chrono::Local::now().date_naive();
    let started = Instant::now();
    let (mut gold, mut pred) = (Vec::new(), Vec::new());
    // value accuracy: gold entities with a value, found with the exact span and label
    let mut value_counts: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
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
    let per_sentence_us = started.elapsed().as_secs_f64() * 1e6 / data.len().max(1) as f64;
    let r = span_report(&gold, &pred);
    let mut t = super::table(&["label", "precision", "recall", "f1", "support", "value accuracy"]);
    for (label, p) in &r.per_label {
        let va = value_counts
            .get(label)
            .map(|(ok, n)| format!("{:.4} ({n})", *ok as f64 / (*n).max(1) as f64))
            .unwrap_or_default();
        t.add_row(vec![
            label.clone(),
            format!("{:.4}", p.precision),
            format!("{:.4}", p.recall),
            format!("{:.4}", p.f1),
            p.support.to_string(),
            va,
        ]);
    }
    t.add_row(vec![
        "micro".to_string(),
        format!("{:.4}", r.precision),
        format!("{:.4}", r.recall),
        format!("{:.4}", r.f1),
        gold.iter().map(Vec::len).sum::<usize>().to_string(),
        String::new(),
    ]);
    println!("{t}");
    println!("mean predict time {per_sentence_us:.1} µs per sentence");
    let value_accuracy: serde_json::Map<String, serde_json::Value> = value_counts
        .iter()
        .map(|(l, (ok, n))| (l.clone(), json!({"accuracy": *ok as f64 / (*n).max(1) as f64, "n": n})))
        .collect();
    Ok(json!({
        "model": "ner",
        "n": data.len(),
        "precision": r.precision,
        "recall": r.recall,
        "f1": r.f1,
        "per_label": r.per_label,
        "value_accuracy": value_accuracy,
        "mean_predict_us": per_sentence_us,
    }))
}

fn evaluate_credit(args: &EvaluateArgs, path: &Path, config: &Config) -> anyhow::Result<serde_json::Value> {
    use nivesh_models::Fit;
    let mut model: CreditModel = load(path)?;
    model.set_threshold(args.threshold.unwrap_or(config.credit_risk_threshold))?;
    let data = inputs::credit_table(&args.input, Some(model.schema()), args.cv_column.as_deref())?;
    let Some(cv) = &args.cv_column else {
        println!("{} — {} rows", path.display(), data.rows);
        let mut r = credit_report_of(&model, &data)?;
        r["model_path"] = json!(path.display().to_string());
        return Ok(r);
    };
    // k-fold cross-validation: retrain with the model's parameters on all other folds
    let per_fold = cross_validate(&data, cv, path, |train, test| {
        let probs = model.params().fit(train)?.probabilities(test);
        Ok(credit_report(&probs, test.y.as_deref().unwrap_or_default(), test.weight.as_deref()))
    })?;
    let folds = per_fold.len();
    let mean = |g: &dyn Fn(&nivesh_models::credit::CreditReport) -> f64| {
        per_fold.iter().map(g).sum::<f64>() / per_fold.len().max(1) as f64
    };
    let report = json!({
        "model": "credit",
        "cv_column": cv,
        "folds": folds,
        "auc_roc": mean(&|r| r.binary.auc_roc),
        "ks": mean(&|r| r.binary.ks),
        "brier": mean(&|r| r.brier),
        "precision_at_80_recall": mean(&|r| r.binary.precision_at_80_recall),
        "average_precision": mean(&|r| r.binary.average_precision),
        "statlog_cost": mean(&|r| r.statlog_cost),
        "per_fold": per_fold,
    });
    print_credit_table(&report);
    Ok(report)
}

fn print_credit_table(r: &serde_json::Value) {
    let mut t = super::table(&["metric", "value"]);
    for k in ["auc_roc", "ks", "brier", "precision_at_80_recall", "average_precision", "statlog_cost"] {
        if let Some(v) = r[k].as_f64() {
            t.add_row(vec![k.to_string(), format!("{v:.4}")]);
        }
    }
    println!("{t}");
}

/// Evaluate a credit model on a labelled table; print metrics and fairness.
pub fn credit_report_of(
    model: &CreditModel,
    data: &nivesh_models::tabular::Tabular,
) -> anyhow::Result<serde_json::Value> {
    let y = data.y.as_deref().ok_or_else(|| anyhow::anyhow!("the evaluation data has no label"))?;
    let started = Instant::now();
    let probs = model.probabilities(data);
    let per_row_us = started.elapsed().as_secs_f64() * 1e6 / data.rows.max(1) as f64;
    let r = credit_report(&probs, y, data.weight.as_deref());
    let fairness = model.fairness(data);
    let mut report = serde_json::to_value(&r)?;
    report["model"] = json!("credit");
    report["fairness"] = serde_json::to_value(&fairness)?;
    report["mean_predict_us"] = json!(per_row_us);
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    report["roc_curve"] = json!(nivesh_models::metrics::roc_curve(&probs, &labels, data.weight.as_deref(), 200));
    print_credit_table(&report);
    print_fairness(model, &fairness);
    Ok(report)
}

/// Evaluate an anomaly detector on labelled rows: AUC-ROC, average precision, recall at 1 %
/// false-positive rate (all weighted when the data has weights).
pub fn anomaly_report_of(
    model: &AnomalyModel,
    data: &nivesh_models::tabular::Tabular,
) -> anyhow::Result<serde_json::Value> {
    let y = data.y.as_deref().ok_or_else(|| anyhow::anyhow!("the evaluation data has no label"))?;
    let started = Instant::now();
    let scores = model.scores(data);
    let per_row_us = started.elapsed().as_secs_f64() * 1e6 / data.rows.max(1) as f64;
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    let r = nivesh_models::metrics::BinaryReport::new(&scores, &labels, data.weight.as_deref());
    let flagged = scores.iter().filter(|&&s| s > model.threshold()).count();
    let mut t = super::table(&["metric", "value"]);
    t.add_row(vec!["auc_roc".to_string(), format!("{:.4}", r.auc_roc)]);
    t.add_row(vec!["average_precision".to_string(), format!("{:.4}", r.average_precision)]);
    t.add_row(vec!["recall_at_1pct_fpr".to_string(), format!("{:.4}", r.recall_at_1pct_fpr)]);
    t.add_row(vec![format!("flagged above threshold {:.4}", model.threshold()), format!("{flagged} of {}", data.rows)]);
    println!("{t}");
    let (edges, normal, anomalous) = nivesh_models::metrics::score_histogram(&scores, &labels, 40);
    Ok(json!({
        "model": "anomaly",
        "roc_curve": nivesh_models::metrics::roc_curve(&scores, &labels, data.weight.as_deref(), 200),
        "score_histogram": {"edges": edges, "normal": normal, "anomalous": anomalous},
        "mode": format!("{:?}", model.mode()).to_lowercase(),
        "n": data.rows,
        "auc_roc": r.auc_roc,
        "average_precision": r.average_precision,
        "recall_at_1pct_fpr": r.recall_at_1pct_fpr,
        "threshold": model.threshold(),
        "flagged": flagged,
        "mean_score_us": per_row_us,
    }))
}

fn evaluate_spending(args: &EvaluateArgs, path: &Path) -> anyhow::Result<serde_json::Value> {
    use nivesh_models::forecast::{forecast_errors, forecast_series, seasonal_naive};
    let Some(bench) = &args.benchmark else {
        // a backtest on transactions with the saved model's parameters
        let model: nivesh_models::forecast::SpendingForecaster = load(path)?;
        anyhow::ensure!(!args.input.data.is_empty(), "give --benchmark FILE or --data transactions");
        let txns: Vec<nivesh_core::Transaction> = nivesh_core::dataset::read_records(&args.input.data[0])?;
        return spending_backtest(model.params(), &txns, 90);
    };
    // the benchmark gives each series its own season, so only the series model is used
    let text = std::fs::read_to_string(bench).with_context(|| format!("reading {}", bench.display()))?;
    let started = Instant::now();
    let (mut mase, mut smape, mut sn_mase, mut sn_smape, mut n) = (0.0, 0.0, 0.0, 0.0, 0usize);
    let mut models: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        #[derive(serde::Deserialize)]
        struct Series {
            train: Vec<f64>,
            test: Vec<f64>,
            season_length: usize,
        }
        let s: Series = serde_json::from_str(line).with_context(|| format!("{}:{}", bench.display(), i + 1))?;
        let f = forecast_series(&s.train, &[s.season_length], s.test.len())
            .with_context(|| format!("{}:{}", bench.display(), i + 1))?;
        *models.entry(f.model_used.clone()).or_default() += 1;
        let e = forecast_errors(&s.train, &s.test, &f.point, s.season_length);
        let b = forecast_errors(
            &s.train,
            &s.test,
            &seasonal_naive(&s.train, s.season_length, s.test.len()),
            s.season_length,
        );
        mase += e.mase;
        smape += e.smape;
        sn_mase += b.mase;
        sn_smape += b.smape;
        n += 1;
    }
    anyhow::ensure!(n > 0, "{} has no series", bench.display());
    let nf = n as f64;
    let mut t = super::table(&["model", "mean MASE", "mean sMAPE (%)"]);
    t.add_row(vec!["nivesh-ml".to_string(), format!("{:.4}", mase / nf), format!("{:.2}", smape / nf)]);
    t.add_row(vec!["seasonal naive".to_string(), format!("{:.4}", sn_mase / nf), format!("{:.2}", sn_smape / nf)]);
    println!(
        "{} series from {} in {:.2} s; models used: {models:?}\n{t}",
        n,
        bench.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(json!({
        "model": "spending",
        "benchmark": bench.display().to_string(),
        "series": n,
        "mase": mase / nf,
        "smape": smape / nf,
        "seasonal_naive_mase": sn_mase / nf,
        "seasonal_naive_smape": sn_smape / nf,
        "models_used": models,
    }))
}

/// Rolling-origin backtest on generated users: festival effects learned on the data before the
/// first origin; origins every 30 days over the last `holdout_days`, each forecasting the next
/// 30 days of every user's daily spend from everything before it; errors against the actuals
/// next to seasonal naive (season 7), averaged over users and origins.
pub fn spending_backtest(
    params: &nivesh_models::forecast::ForecastParams,
    txns: &[nivesh_core::Transaction],
    holdout_days: usize,
) -> anyhow::Result<serde_json::Value> {
    use nivesh_models::forecast::{DailyHistory, daily_spend, forecast_errors, seasonal_naive};
    use nivesh_models::{Fit, Predict};
    const STEP: usize = 30;
    let all: Vec<&nivesh_core::Transaction> = txns.iter().collect();
    let (start, y) = daily_spend(&all, None).ok_or_else(|| anyhow::anyhow!("no debit transactions"))?;
    anyhow::ensure!(
        y.len() > holdout_days + 14,
        "{} days of data is too short for a {holdout_days}-day holdout",
        y.len()
    );
    let cut = start + chrono::Duration::days((y.len() - holdout_days) as i64);
    let before: Vec<nivesh_core::Transaction> =
        txns.iter().filter(|t| t.timestamp.date_naive() < cut).cloned().collect();
    let model = params.fit(&before)?;
    let mut users: Vec<&str> = txns.iter().map(|t| t.user_id.as_str()).collect();
    users.sort();
    users.dedup();
    let started = Instant::now();
    let (mut m, mut b, mut n) = ([0.0f64; 4], [0.0f64; 4], 0usize);
    let (mut month_m, mut month_b) = (0.0, 0.0);
    // the sum over users of actual and forecast spend on each holdout day
    let (mut total_actual, mut total_forecast) = (vec![0.0f64; holdout_days], vec![0.0f64; holdout_days]);
    for u in users.iter().take(200) {
        let mine: Vec<&nivesh_core::Transaction> = txns.iter().filter(|t| t.user_id == *u).collect();
        let Some((ustart, uy)) = daily_spend(&mine, None) else { continue };
        // align to the global calendar
        let offset = (ustart - start).num_days().max(0) as usize;
        let mut series = vec![0.0; offset];
        series.extend(uy);
        series.resize(y.len(), 0.0);
        for origin in (y.len() - holdout_days..y.len()).step_by(STEP) {
            let (train, rest) = series.split_at(origin);
            let test = &rest[..STEP.min(rest.len())];
            let f = model.predict(&DailyHistory { start, values: train, horizon_days: test.len() })?;
            let sn = seasonal_naive(train, 7, test.len());
            let day0 = origin + holdout_days - y.len();
            for (k, (a, f)) in test.iter().zip(&f.forecast.point).enumerate() {
                total_actual[day0 + k] += a;
                total_forecast[day0 + k] += f;
            }
            let e = forecast_errors(train, test, &f.forecast.point, 7);
            let s = forecast_errors(train, test, &sn, 7);
            for (acc, v) in m.iter_mut().zip([e.mae, e.rmse, e.smape, e.mase]) {
                *acc += v;
            }
            for (acc, v) in b.iter_mut().zip([s.mae, s.rmse, s.smape, s.mase]) {
                *acc += v;
            }
            // 30-day totals, the figure users see
            let sum = |v: &[f64]| v.iter().sum::<f64>();
            month_m += (sum(test) - sum(&f.forecast.point)).abs();
            month_b += (sum(test) - sum(&sn)).abs();
            n += 1;
        }
    }
    anyhow::ensure!(n > 0, "no user series to backtest");
    let nf = n as f64;
    let mut t = super::table(&["model", "MAE", "RMSE", "sMAPE (%)", "MASE", "30-day total MAE"]);
    for (name, v, mm) in [("nivesh-ml", m, month_m), ("seasonal naive (7)", b, month_b)] {
        t.add_row(vec![
            name.to_string(),
            format!("{:.1}", v[0] / nf),
            format!("{:.1}", v[1] / nf),
            format!("{:.2}", v[2] / nf),
            format!("{:.4}", v[3] / nf),
            format!("{:.0}", mm / nf),
        ]);
    }
    println!(
        "rolling-origin backtest: {} users × {} origins of {STEP} days over the last {holdout_days} days ({:.2} s)\n{t}",
        users.len().min(200),
        holdout_days.div_ceil(STEP),
        started.elapsed().as_secs_f64()
    );
    Ok(json!({
        "model": "spending",
        "forecasts": n,
        "origins": holdout_days.div_ceil(STEP),
        "horizon_days": STEP,
        "holdout_days": holdout_days,
        "mae": m[0] / nf, "rmse": m[1] / nf, "smape": m[2] / nf, "mase": m[3] / nf,
        "seasonal_naive": {"mae": b[0] / nf, "rmse": b[1] / nf, "smape": b[2] / nf, "mase": b[3] / nf},
        "monthly_total_mae": month_m / nf,
        "seasonal_naive_monthly_total_mae": month_b / nf,
        "forecast_vs_actual": {
            "start": cut.to_string(),
            "actual": total_actual,
            "forecast": total_forecast,
        },
    }))
}

/// Print a fairness table (group sizes, AUC, approval rates and the four-fifths flag).
pub fn print_fairness(model: &CreditModel, fairness: &[nivesh_models::credit::GroupFairness]) {
    if fairness.is_empty() {
        return;
    }
    let mut t = super::table(&["attribute", "group", "n", "auc", "approval rate", "ratio", "4/5 flag"]);
    for g in fairness {
        t.add_row(vec![
            g.attribute.clone(),
            g.group.clone(),
            g.n.to_string(),
            format!("{:.3}", g.auc),
            format!("{:.3}", g.approval_rate),
            format!("{:.3}", g.approval_ratio),
            if g.four_fifths_flag { "FLAG".into() } else { String::new() },
        ]);
    }
    println!("fairness at threshold {:.2}:\n{t}", model.threshold());
}

fn evaluate_anomaly(args: &EvaluateArgs, path: &Path) -> anyhow::Result<serde_json::Value> {
    use nivesh_models::Fit;
    let model: AnomalyModel = load(path)?;
    let (data, _) = inputs::anomaly_table(&args.input, Some(model.schema()), None, args.cv_column.as_deref())?;
    let Some(cv) = &args.cv_column else {
        println!("{} — {} rows", path.display(), data.rows);
        let mut r = anomaly_report_of(&model, &data)?;
        r["model_path"] = json!(path.display().to_string());
        return Ok(r);
    };
    let per_fold = cross_validate(&data, cv, path, |train, test| {
        let scores = model.params().fit(train)?.scores(test);
        let labels: Vec<bool> = test.y.as_deref().unwrap_or_default().iter().map(|&v| v > 0.5).collect();
        Ok(nivesh_models::metrics::BinaryReport::new(&scores, &labels, test.weight.as_deref()))
    })?;
    let folds = per_fold.len();
    let mean = |g: &dyn Fn(&nivesh_models::metrics::BinaryReport) -> f64| {
        per_fold.iter().map(g).sum::<f64>() / per_fold.len().max(1) as f64
    };
    let report = json!({
        "model": "anomaly",
        "cv_column": cv,
        "folds": folds,
        "auc_roc": mean(&|r| r.auc_roc),
        "average_precision": mean(&|r| r.average_precision),
        "recall_at_1pct_fpr": mean(&|r| r.recall_at_1pct_fpr),
        "per_fold": per_fold,
    });
    let mut t = super::table(&["metric", "mean over folds"]);
    for k in ["auc_roc", "average_precision", "recall_at_1pct_fpr"] {
        t.add_row(vec![k.to_string(), format!("{:.4}", report[k].as_f64().unwrap_or(f64::NAN))]);
    }
    println!("{t}");
    Ok(report)
}

/// k-fold cross-validation over the table's group column: `run(train, test)` for each fold
/// value, in sorted order.
fn cross_validate<R>(
    data: &nivesh_models::tabular::Tabular,
    cv: &str,
    model_path: &Path,
    mut run: impl FnMut(&nivesh_models::tabular::Tabular, &nivesh_models::tabular::Tabular) -> anyhow::Result<R>,
) -> anyhow::Result<Vec<R>> {
    let groups = data.group.clone().unwrap_or_default();
    let mut folds = groups.clone();
    folds.sort();
    folds.dedup();
    anyhow::ensure!(folds.len() >= 2, "--cv-column {cv:?} has {} distinct values; at least 2 are needed", folds.len());
    println!(
        "{}-fold cross-validation over {cv:?} ({} rows) with the parameters of {}",
        folds.len(),
        data.rows,
        model_path.display()
    );
    folds
        .iter()
        .map(|f| {
            let test: Vec<usize> = (0..data.rows).filter(|&i| &groups[i] == f).collect();
            let train: Vec<usize> = (0..data.rows).filter(|&i| &groups[i] != f).collect();
            run(&data.subset(&train), &data.subset(&test))
        })
        .collect()
}
