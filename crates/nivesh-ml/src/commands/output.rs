//! What commands print and write about training: evaluation reports as tables, the pipeline's
//! progress (a spinner on a terminal) and summary, the MLflow mirror, report files with plots.

use anyhow::Context;
use nivesh_models::algo::gbdt::{TuneRow, Tuning};
use nivesh_models::credit::GroupFairness;
use nivesh_training::pipeline::{Mirror, Outcome, Progress, Status};
use nivesh_training::report::*;
use nivesh_training::{Report, Trained};
use std::path::Path;

/// A table with the house style.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

/// One row per metric; with intervals, a third column holds each one's (empty where none).
fn metric_rows(rows: &[(&str, f64)], ci: &Intervals) -> comfy_table::Table {
    metric_rows_headed("value", rows, ci)
}

/// [`metric_rows`] with `value` as the values' column header.
fn metric_rows_headed(value: &str, rows: &[(&str, f64)], ci: &Intervals) -> comfy_table::Table {
    let mut t = if ci.is_empty() { table(&["metric", value]) } else { table(&["metric", value, "95 % interval"]) };
    for (k, v) in rows {
        t.add_row(with_interval(vec![k.to_string(), format!("{v:.4}")], ci, k));
    }
    t
}

/// `row` with the interval of `name` after it when there are intervals.
fn with_interval(mut row: Vec<String>, ci: &Intervals, name: &str) -> Vec<String> {
    if !ci.is_empty() {
        row.push(ci.get(name).map(|i| format!("{i:.4}")).unwrap_or_default());
    }
    row
}

/// The line under a table of intervals: what was drawn again.
fn interval_note(ci: &Intervals, what: &str) {
    if !ci.is_empty() {
        println!("95 % intervals: {what}");
    }
}

/// Print what was trained and its evaluation (as `train MODEL` and the pipeline do).
pub fn trained(t: &Trained) {
    println!("{}", t.summary);
    if let Some(v) = t.params.get("tuning") {
        match serde_json::from_value::<Tuning>(v.clone()) {
            Ok(tuning) => self::tuning(&tuning),
            Err(e) => println!("(the tuning table cannot be shown: {e}; it is recorded with the run)"),
        }
    }
    let Some(report) = &t.report else {
        if let Some(f) = &t.training_fairness {
            println!("no held-out data (use --holdout or --eval); fairness on the training rows:");
            fairness(f.threshold, &f.groups);
        }
        return;
    };
    match report {
        Report::Intent(r) => println!("evaluation on {} held-out utterances:", r.n),
        Report::Ner(r) => println!("evaluation on {} held-out sentences:", r.n),
        Report::Credit(CreditReport::Holdout(r)) => println!("evaluation on {} held-out rows:", r.metrics.binary.n),
        Report::Anomaly(AnomalyReport::Holdout(r)) => println!("evaluation on {} held-out rows:", r.n),
        Report::Spending(_) | Report::Credit(_) | Report::Anomaly(_) => {}
    }
    self::report(report);
    if let Some(c) = &t.comparison {
        comparison(c);
    }
}

/// Print a report's tables.
pub fn report(report: &Report) {
    match report {
        Report::Intent(r) => intent(r),
        Report::Ner(r) => ner(r),
        Report::Credit(CreditReport::Holdout(r)) => {
            println!("{}", metric_rows(&CreditMeans::of(&r.metrics).rows(), &r.ci95));
            interval_note(&r.ci95, "percentile bootstrap over the rows (the AUC within each class)");
            fairness(r.threshold, &r.fairness);
            if let Some(auc) = r.achievable_auc {
                println!("achievable AUC on these rows (the generator's true default logit): {auc:.4}");
            }
        }
        Report::Credit(CreditReport::CrossValidated(r)) => {
            println!("{}", metric_rows(&r.mean.rows(), &r.ci95));
            interval_note(&r.ci95, "Student's t over the folds' values (approximate: the folds share training rows)");
        }
        Report::Anomaly(AnomalyReport::Holdout(r)) => {
            let mut t = metric_rows(
                &[
                    ("auc_roc", r.auc_roc),
                    ("average_precision", r.average_precision),
                    ("recall_at_1pct_fpr", r.recall_at_1pct_fpr),
                ],
                &r.ci95,
            );
            t.add_row(with_interval(
                vec![format!("flagged above threshold {:.4}", r.threshold), format!("{} of {}", r.flagged, r.n)],
                &r.ci95,
                "",
            ));
            println!("{t}");
            interval_note(&r.ci95, "percentile bootstrap over the rows, within each class");
        }
        Report::Anomaly(AnomalyReport::CrossValidated(r)) => {
            let m = &r.mean;
            let t = metric_rows_headed(
                "mean over folds",
                &[
                    ("auc_roc", m.auc_roc),
                    ("average_precision", m.average_precision),
                    ("recall_at_1pct_fpr", m.recall_at_1pct_fpr),
                ],
                &r.ci95,
            );
            println!("{t}");
            interval_note(&r.ci95, "Student's t over the folds' values (approximate: the folds share training rows)");
        }
        Report::Spending(SpendingReport::Backtest(r)) => {
            let mut t = table(&["model", "MAE", "RMSE", "sMAPE (%)", "MASE", "30-day total MAE"]);
            let ours = ErrorSummary { mae: r.mae, rmse: r.rmse, smape: r.smape, mase: r.mase };
            for (name, e, month, ci) in [
                ("nivesh-ml", ours, r.monthly_total_mae, &r.ci95),
                ("seasonal naive (7)", r.seasonal_naive, r.seasonal_naive_monthly_total_mae, &Intervals::new()),
            ] {
                let shown = |v: f64, key: &str, digits: usize| match ci.get(key) {
                    Some(i) => format!("{v:.digits$} {i:.digits$}"),
                    None => format!("{v:.digits$}"),
                };
                t.add_row(vec![
                    name.to_string(),
                    shown(e.mae, "mae", 1),
                    format!("{:.1}", e.rmse),
                    shown(e.smape, "smape", 2),
                    shown(e.mase, "mase", 4),
                    shown(month, "monthly_total_mae", 0),
                ]);
            }
            println!(
                "rolling-origin backtest: {} users × {} origins of {} days over the last {} days ({:.2} s){}\n{t}",
                r.users,
                r.origins,
                r.horizon_days,
                r.holdout_days,
                r.seconds,
                if r.previous_model { "; festival priors from the previous model" } else { "" }
            );
            interval_note(
                &r.ci95,
                "percentile bootstrap over the users, each with all its forecasts (value [interval])",
            );
            if let Some(c) = &r.chosen {
                println!("method auto, chosen on the days before the cut: {c}");
            }
            comparison(&r.vs_seasonal_naive);
            let mut d = table(&[
                "forecast days",
                "user-days",
                "mean spend",
                "mean forecast",
                "MAE",
                "seasonal naive MAE",
                "MAE of the days' total",
            ]);
            for (name, s) in [("inside festival windows", &r.festival_days), ("the other days", &r.other_days)] {
                d.add_row(vec![
                    name.to_string(),
                    s.days.to_string(),
                    format!("{:.1}", s.mean_actual),
                    format!("{:.1}", s.mean_forecast),
                    format!("{:.1}", s.mae),
                    format!("{:.1}", s.seasonal_naive_mae),
                    format!("{:.0}", s.total_mae),
                ]);
            }
            println!("{d}");
        }
        Report::Spending(SpendingReport::Benchmark(r)) => {
            let mut t = table(&["model", "mean MASE", "mean sMAPE (%)"]);
            let shown = |v: f64, name: &str, digits: usize| match r.ci95.get(name) {
                Some(i) => format!("{v:.digits$} {i:.digits$}"),
                None => format!("{v:.digits$}"),
            };
            t.add_row(vec!["nivesh-ml".to_string(), shown(r.mase, "mase", 4), shown(r.smape, "smape", 2)]);
            t.add_row(vec![
                "seasonal naive".to_string(),
                format!("{:.4}", r.seasonal_naive_mase),
                format!("{:.2}", r.seasonal_naive_smape),
            ]);
            println!(
                "{} series from {} in {:.2} s; models used: {:?}\n{t}",
                r.series, r.benchmark, r.seconds, r.models_used
            );
            interval_note(&r.ci95, "percentile bootstrap over the series (value [interval])");
            if let Some(c) = &r.chosen {
                println!("method auto, chosen on the series' training parts (their last horizon): {c}");
            }
            comparison(&r.vs_seasonal_naive);
        }
    }
}

/// A model against its baseline on the same items: both values, the difference, its paired
/// interval and what that shows.
pub fn comparison(c: &Comparison) {
    let mut t = table(&["metric", "this model", "baseline", "difference", "95 % interval", "shows"]);
    for d in &c.metrics {
        // four decimals for rates and scores, one for amounts
        let digits = if d.value.abs().max(d.baseline.abs()) >= 100.0 { 1 } else { 4 };
        t.add_row(vec![
            d.metric.to_string(),
            format!("{:.digits$}", d.value),
            format!("{:.digits$}", d.baseline),
            format!("{:+.digits$}", d.difference),
            d.ci95.map(|i| format!("{i:.digits$}")).unwrap_or_default(),
            format!("{} ({} is better)", d.verdict.as_str(), if d.higher_is_better { "higher" } else { "lower" }),
        ]);
    }
    println!("against {}, paired over {}:\n{t}", c.against, c.paired_over);
}

fn intent(r: &IntentReport) {
    let ci = &r.ci95;
    let mut t = metric_rows(&[("accuracy", r.accuracy), ("macro_f1", r.macro_f1), ("weighted_f1", r.weighted_f1)], ci);
    t.add_row(with_interval(
        vec![format!("accuracy with threshold {:.2}", r.threshold), format!("{:.4}", r.accuracy_with_threshold)],
        ci,
        "accuracy_with_threshold",
    ));
    if let (Some(recall), Some(n)) = (r.oos_recall, r.oos_n) {
        t.add_row(with_interval(
            vec![format!("out-of-scope recall ({n} queries)"), format!("{recall:.4}")],
            ci,
            "oos_recall",
        ));
    }
    t.add_row(with_interval(vec!["mean predict time".to_string(), format!("{:.1} µs", r.mean_predict_us)], ci, ""));
    println!("{t}");
    interval_note(ci, "percentile bootstrap over the queries (in scope and out of scope apart)");
    if !r.oos_curve.is_empty() {
        let mut c = table(&["threshold", "in-scope accuracy", "out-of-scope recall"]);
        for p in &r.oos_curve {
            c.add_row(vec![
                format!("{:.2}", p.threshold),
                format!("{:.4}", p.in_scope_accuracy),
                format!("{:.4}", p.oos_recall),
            ]);
        }
        println!("threshold choices (pick on a development split, never on test):\n{c}");
    }
    // the weakest classes, to see where the errors are
    let mut worst: Vec<_> = r.per_class.iter().filter(|(_, p)| p.support > 0).collect();
    worst.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1));
    let mut t = table(&["intent", "precision", "recall", "f1", "support"]);
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
}

fn ner(r: &NerReport) {
    let mut t = table(&["label", "precision", "recall", "f1", "support", "value accuracy"]);
    for (label, p) in &r.per_label {
        let va = r.value_accuracy.get(label).map(|v| format!("{:.4} ({})", v.accuracy, v.n)).unwrap_or_default();
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
        r.per_label.values().map(|p| p.support).sum::<usize>().to_string(),
        String::new(),
    ]);
    println!("{t}");
    if let (Some(f1), Some(p), Some(rc)) = (r.ci95.get("f1"), r.ci95.get("precision"), r.ci95.get("recall")) {
        println!(
            "micro 95 % intervals (percentile bootstrap over the sentences): precision {p:.4}, recall {rc:.4}, F1 {f1:.4}"
        );
    }
    println!("mean predict time {:.1} µs per sentence", r.mean_predict_us);
}

/// The tuning's grid points, best first (the ten best, and the chosen one).
fn tuning(t: &Tuning) {
    let mut rows: Vec<(usize, &TuneRow)> = t.rows.iter().enumerate().collect();
    rows.sort_by(|a, b| {
        if t.metric.better(a.1.score, b.1.score) {
            std::cmp::Ordering::Less
        } else if t.metric.better(b.1.score, a.1.score) {
            std::cmp::Ordering::Greater
        } else {
            a.0.cmp(&b.0)
        }
    });
    let metric = format!("CV {}", t.metric);
    let mut table =
        table(&["depth", "learning rate", "min leaf weight", "class balance", "rounds", &metric, "± (folds)", ""]);
    // the ten best, and the chosen point wherever it ranks
    let shown: Vec<(usize, &TuneRow)> =
        rows.iter().enumerate().filter(|(rank, (i, _))| *rank < 10 || *i == t.chosen).map(|(_, r)| *r).collect();
    for (i, r) in shown {
        table.add_row(vec![
            r.point.max_depth.to_string(),
            r.point.learning_rate.to_string(),
            r.point.min_leaf_weight.to_string(),
            r.point.class_balance.to_string(),
            r.rounds.to_string(),
            format!("{:.4}", r.score),
            format!("{:.4}", r.fold_sd),
            if i == t.chosen { "chosen".into() } else { String::new() },
        ]);
    }
    println!("tuning ({}-fold CV, {} grid points; the best 10 and the chosen one):\n{table}", t.folds, t.rows.len());
}

/// A fairness table (group sizes, AUC, approval rates and the four-fifths flag).
fn fairness(threshold: f64, groups: &[GroupFairness]) {
    if groups.is_empty() {
        return;
    }
    let mut t = table(&["attribute", "group", "n", "auc", "approval rate", "ratio", "4/5 flag"]);
    for g in groups {
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
    println!("fairness at threshold {threshold:.2}:\n{t}");
}

/// Write a report as JSON to `out` (with a comparison as its `comparison` field), and its plots
/// beside it (`metrics.json` → `metrics.roc_curve.png`).
pub fn write_report(out: &Path, report: &Report, comparison: Option<&Comparison>) -> anyhow::Result<()> {
    let mut json = report.to_json();
    if let (Some(c), serde_json::Value::Object(m)) = (comparison, &mut json) {
        m.insert("comparison".into(), serde_json::to_value(c)?);
    }
    let bytes = serde_json::to_vec_pretty(&json)?;
    nivesh_core::fsutil::atomic_write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("report written to {}", out.display());
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    for plot in nivesh_training::plots::for_report(report)? {
        let path = out.with_file_name(format!("{stem}.{}", plot.name));
        nivesh_core::fsutil::atomic_write(&path, &plot.png).with_context(|| format!("writing {}", path.display()))?;
        println!("plot written to {}", path.display());
    }
    Ok(())
}

/// Print what mirroring to MLflow did. Returns whether everything was sent.
pub fn mirror(m: &Mirror) -> bool {
    match m {
        Mirror::Done { uri, runs, versions, aliases, failures } => {
            println!("MLflow {uri}: mirrored {runs} runs, {versions} versions, {aliases} aliases");
            for f in failures {
                eprintln!("warning: MLflow: {f} (left pending)");
            }
        }
        Mirror::Unreachable { error, pending_runs, .. } => eprintln!(
            "warning: {error}; {pending_runs} run(s) marked mlflow_sync: pending; `nivesh-ml registry sync` sends them later"
        ),
    }
    m.complete()
}

/// The pipeline's progress on a terminal: a spinner per model (a log line otherwise), each
/// model's evaluation, errors as they happen.
#[derive(Default)]
pub struct CliProgress {
    spinner: Option<indicatif::ProgressBar>,
}

impl Progress for CliProgress {
    fn generating(&mut self, dir: &Path) {
        println!("generating the sample data into {} (once)", dir.display());
    }
    fn started(&mut self, kind: nivesh_models::ModelKind, index: usize, of: usize) {
        println!("== {kind}");
        self.spinner = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("[{}/{of}] {kind}: validate, fit, evaluate, register", index + 1));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
    }
    fn trained(&mut self, t: &Trained) {
        match &self.spinner {
            Some(bar) => bar.suspend(|| trained(t)),
            None => trained(t),
        }
    }
    fn finished(&mut self, o: &Outcome) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
        match &o.status {
            Status::Failed { error, .. } => eprintln!("error: {}: {error}", o.model),
            Status::Succeeded { version, gate: Some(reason), .. } => {
                println!("{} v{version} not promoted: {reason}", o.model)
            }
            Status::Succeeded { .. } | Status::Skipped => {}
        }
    }
    fn mirrored(&mut self, m: &Mirror) {
        mirror(m);
    }
}

/// The pipeline's summary table.
pub fn outcomes(outcomes: &[Outcome]) {
    let mut t = table(&["model", "status", "primary metric", "version", "alias", "duration"]);
    for o in outcomes {
        let (status, metric, version, alias) = match &o.status {
            Status::Succeeded { metric, version, alias, .. } => (
                "ok".to_string(),
                format!("{} {:.4}", metric.name, metric.value),
                format!("v{version}"),
                alias.as_str().to_string(),
            ),
            Status::Failed { error, .. } => {
                // the whole chain, kept to one table cell
                let full = format!("failed: {error}");
                let cell =
                    if full.chars().count() > 100 { full.chars().take(99).collect::<String>() + "…" } else { full };
                (cell, String::new(), String::new(), String::new())
            }
            Status::Skipped => ("skipped".to_string(), String::new(), String::new(), String::new()),
        };
        t.add_row(vec![o.model.to_string(), status, metric, version, alias, format!("{:.1} s", o.seconds)]);
    }
    println!("{t}");
}
