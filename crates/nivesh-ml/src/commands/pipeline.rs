//! `nivesh-ml train` with no model: for each model, load the data, validate it, split, fit,
//! evaluate, record the run, store the artifact, register a version and promote it through the
//! champion gate. Uses the generator's data (generated once into the data directory) unless
//! `--data DIR` names a directory with the same file names.

use super::train::{Prepared, Trained, train_prepared};
use crate::cli::{DataArgs, ModelKind, TrainArgs};
use anyhow::Context;
use nivesh_core::config::Config;
use nivesh_store::registry::{RunInfo, RunStatus};
use nivesh_store::{ArtifactStore, Digest, Registry};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Name of a model in the registry.
pub fn registry_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Intent => "intent",
        ModelKind::Ner => "ner",
        ModelKind::Credit => "credit",
        ModelKind::Anomaly => "anomaly",
        ModelKind::Spending => "spending",
    }
}

/// The primary metric of each model's evaluation report, and whether higher is better.
fn primary_metric(kind: ModelKind) -> (&'static str, bool) {
    match kind {
        ModelKind::Intent => ("accuracy", true),
        ModelKind::Ner => ("f1", true),
        ModelKind::Credit | ModelKind::Anomaly => ("auc_roc", true),
        ModelKind::Spending => ("mase", false),
    }
}

fn data_file(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Intent => nivesh_datagen::INTENTS_FILE,
        ModelKind::Ner => nivesh_datagen::NER_FILE,
        ModelKind::Credit => nivesh_datagen::CREDIT_FILE,
        ModelKind::Anomaly | ModelKind::Spending => nivesh_datagen::TRANSACTIONS_FILE,
    }
}

/// The registry (PostgreSQL when DATABASE_URL is set, else SQLite under the data directory)
/// and the artifact store.
pub fn open_store(config: &Config) -> anyhow::Result<(Registry, ArtifactStore)> {
    let registry = match &config.database_url {
        Some(url) => Registry::open_url(url).context("opening the registry at DATABASE_URL")?,
        None => {
            let db = config.data_dir.join("registry.db");
            Registry::open(&db).with_context(|| format!("opening {}", db.display()))?
        }
    };
    Ok((registry, ArtifactStore::new(config.model_storage_path.join("artifacts"))))
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

struct Outcome {
    model: &'static str,
    status: String,
    metric: Option<(String, f64)>,
    version: Option<u32>,
    alias: String,
    seconds: f64,
}

pub fn run(args: &TrainArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let dir: PathBuf = match args.input.data.as_slice() {
        [] => {
            let dir = config.generated_data_dir();
            if !dir.join(nivesh_datagen::MANIFEST_FILE).exists() {
                println!("generating the sample data into {} (once)", dir.display());
                nivesh_datagen::generate(&dir, 42, nivesh_datagen::Scale::Full)?;
            }
            dir
        }
        [d] if d.is_dir() => d.clone(),
        _ => anyhow::bail!("the pipeline takes --data DIR (a directory of generated files), or nothing"),
    };
    let (registry, store) = open_store(config)?;
    let commit = git_commit();
    let mut outcomes = Vec::new();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for (i, &kind) in args.models.iter().enumerate() {
        let started = Instant::now();
        let name = registry_name(kind);
        println!("== {name}");
        // a spinner on a terminal, a log line otherwise
        let progress = terminal.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("[{}/{}] {name}: validate, fit, evaluate, register", i + 1, args.models.len()));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        if progress.is_none() {
            tracing::info!(model = name, step = i + 1, of = args.models.len(), "pipeline: training");
        }
        let result = run_one(args, kind, &dir, config, &registry, &store, commit.clone());
        let seconds = started.elapsed().as_secs_f64();
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        tracing::info!(model = name, seconds, ok = result.is_ok(), "pipeline: done");
        match result {
            Ok((metric, version, alias)) => outcomes.push(Outcome {
                model: name,
                status: "ok".into(),
                metric: Some(metric),
                version: Some(version),
                alias,
                seconds,
            }),
            Err(e) => {
                eprintln!("error: {name}: {e:#}");
                outcomes.push(Outcome {
                    model: name,
                    status: {
                        // the whole chain, kept to one table cell
                        let full = format!("failed: {e:#}");
                        if full.chars().count() > 100 {
                            full.chars().take(99).collect::<String>() + "…"
                        } else {
                            full
                        }
                    },
                    metric: None,
                    version: None,
                    alias: String::new(),
                    seconds,
                });
                if !args.continue_on_error {
                    break;
                }
            }
        }
    }
    super::registry::mirror(config, &registry, &store)?;
    let mut t = super::table(&["model", "status", "primary metric", "version", "alias", "duration"]);
    for o in &outcomes {
        t.add_row(vec![
            o.model.to_string(),
            o.status.clone(),
            o.metric.as_ref().map(|(k, v)| format!("{k} {v:.4}")).unwrap_or_default(),
            o.version.map(|v| format!("v{v}")).unwrap_or_default(),
            o.alias.clone(),
            format!("{:.1} s", o.seconds),
        ]);
    }
    println!("{t}");
    let all_ok = outcomes.len() == args.models.len() && outcomes.iter().all(|o| o.status == "ok");
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The checks a dataset must pass before a model trains on it: every record valid, enough rows,
/// and labels balanced enough to learn from. Returns the number of rows, and the transactions
/// themselves for the models that train on them (so the file is parsed once).
fn validate(kind: ModelKind, path: &Path) -> anyhow::Result<(usize, Option<Vec<nivesh_core::Transaction>>)> {
    use nivesh_core::dataset::read_records_lenient;
    use nivesh_core::summary::DatasetSummary;
    use nivesh_core::{CreditApplication, NerExample, Transaction, Utterance};
    fn check<T: nivesh_core::Record>(path: &Path) -> anyhow::Result<(DatasetSummary, Vec<T>)> {
        let outcome = read_records_lenient::<T>(path)?;
        if let Some(first) = outcome.errors.first() {
            anyhow::bail!("{} bad records; the first: {first}", outcome.errors.len());
        }
        Ok((DatasetSummary::of(&outcome.records), outcome.records))
    }
    let (summary, min_rows, transactions) = match kind {
        ModelKind::Intent => (check::<Utterance>(path)?.0, 20, None),
        ModelKind::Ner => (check::<NerExample>(path)?.0, 20, None),
        ModelKind::Credit => (check::<CreditApplication>(path)?.0, 50, None),
        ModelKind::Anomaly | ModelKind::Spending => {
            let (summary, records) = check::<Transaction>(path)?;
            (summary, 100, Some(records))
        }
    };
    anyhow::ensure!(
        summary.rows >= min_rows,
        "{}: {} rows; at least {min_rows} are needed",
        path.display(),
        summary.rows
    );
    let total: usize = summary.labels.values().sum();
    match kind {
        ModelKind::Intent => {
            anyhow::ensure!(summary.labels.len() >= 2, "{}: fewer than 2 intents", path.display());
            if let Some((label, n)) = summary.labels.iter().find(|(_, n)| **n < 5) {
                anyhow::bail!("{}: intent {label:?} has {n} examples; at least 5 are needed", path.display());
            }
        }
        ModelKind::Credit => {
            let defaults = summary.labels.get("default").copied().unwrap_or(0);
            anyhow::ensure!(
                total == summary.rows && defaults >= 5 && total - defaults >= 5,
                "{}: every application needs a default label, with at least 5 of each class ({defaults} defaults in {total} labelled)",
                path.display()
            );
        }
        _ => {}
    }
    Ok((summary.rows, transactions))
}

/// The transaction models train through the feature store: the file is ingested into the
/// offline store (idempotent), the anomaly detector's rows come from its point-in-time join and
/// the forecaster's history from the stored events. Other models read their file directly.
fn prepare(
    kind: ModelKind,
    transactions: Option<Vec<nivesh_core::Transaction>>,
    config: &Config,
) -> anyhow::Result<Option<Prepared>> {
    let Some(events) = transactions.filter(|_| matches!(kind, ModelKind::Anomaly | ModelKind::Spending)) else {
        return Ok(None);
    };
    let fs = super::features::open(config, None).context("opening the feature store")?;
    let (inserted, skipped) = fs.ingest(&events)?;
    tracing::info!(inserted, skipped, offline = fs.offline().location(), "feature store: events ingested");
    Ok(Some(match kind {
        ModelKind::Anomaly => {
            let (table, times) = fs.anomaly_training_table()?;
            Prepared::Anomaly(table, times)
        }
        _ => {
            let mut by_user: Vec<(String, Vec<nivesh_core::Transaction>)> = fs.events(None)?.into_iter().collect();
            by_user.sort_by(|a, b| a.0.cmp(&b.0));
            Prepared::Transactions(by_user.into_iter().flat_map(|(_, v)| v).collect())
        }
    }))
}

fn run_one(
    args: &TrainArgs,
    kind: ModelKind,
    dir: &Path,
    config: &Config,
    registry: &Registry,
    store: &ArtifactStore,
    git_commit: Option<String>,
) -> anyhow::Result<((String, f64), u32, String)> {
    let name = registry_name(kind);
    let data = dir.join(data_file(kind));
    let (rows, transactions) = validate(kind, &data).with_context(|| format!("validating {name}'s data"))?;
    let raw = std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
    let single = TrainArgs {
        model: Some(kind),
        input: DataArgs { data: vec![data.clone()], ..DataArgs::default() },
        holdout: (kind != ModelKind::Spending).then_some(0.2),
        seed: 42,
        ..args.clone()
    };
    let info = RunInfo {
        git_commit,
        dataset_hash: Some(Digest::of(&raw).0),
        dataset_rows: Some(rows as u64),
        params: serde_json::Value::Null,
        tags: serde_json::json!({"model": name, "data": data.display().to_string()}),
    };
    let run = registry.start_run(name, &info)?;
    let trained: anyhow::Result<Trained> =
        prepare(kind, transactions, config).and_then(|prepared| train_prepared(&single, kind, config, prepared));
    let trained = match trained {
        Ok(t) => t,
        Err(e) => {
            registry.finish_run(&run, RunStatus::Failed)?;
            if config.mlflow_tracking_uri.is_some() {
                nivesh_store::mlflow::mark_pending(registry, &run, &[])?;
            }
            return Err(e);
        }
    };
    let (metric_name, higher_is_better) = primary_metric(kind);
    let report = trained.report.clone().unwrap_or_default();
    let metric = report[metric_name].as_f64().with_context(|| format!("the evaluation has no {metric_name}"))?;
    for (k, v) in report.as_object().into_iter().flatten() {
        if let Some(x) = v.as_f64().filter(|x| x.is_finite()) {
            registry.log_metric(&run, k, x, 0)?;
        }
    }
    // the artifact first: nothing points at it until it is complete on disk
    let digest = store.put(&trained.bytes)?;
    registry.log_artifact(&run, "model", &digest)?;
    let report_digest = store.put(&serde_json::to_vec_pretty(&report)?)?;
    registry.log_artifact(&run, "metrics.json", &report_digest)?;
    for plot in crate::plots::for_report(&report).with_context(|| format!("plotting {name}'s evaluation"))? {
        let digest = store.put(&plot.png)?;
        registry.log_artifact(&run, &format!("plots/{}", plot.name), &digest)?;
    }
    registry.log_params(&run, &trained.params)?;
    registry.finish_run(&run, RunStatus::Finished)?;
    let version = registry.register(name, &run, &digest, metric_name, metric, higher_is_better)?;
    let alias = if args.no_promote {
        "(not promoted)".to_string()
    } else {
        let p = registry.promote(name, version, "champion", args.margin, false)?;
        if p.promoted {
            "champion".to_string()
        } else {
            println!("{name} v{version} not promoted: {}", p.reason);
            "challenger".to_string()
        }
    };
    if alias == "challenger" {
        registry.promote(name, version, "challenger", 0.0, false)?;
    }
    if config.mlflow_tracking_uri.is_some() {
        nivesh_store::mlflow::mark_pending(registry, &run, &[(name, version)])?;
    }
    Ok(((metric_name.to_string(), metric), version, alias))
}
