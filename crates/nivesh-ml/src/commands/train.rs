use super::{evaluate, inputs};
use crate::cli::{ModelKind, TrainArgs};
use anyhow::Context;
use nivesh_core::config::Config;
use nivesh_core::rng::Rng;
use nivesh_models::anomaly::{AnomalyMode, AnomalyParams};
use nivesh_models::credit::CreditParams;
use nivesh_models::forecast::ForecastParams;
use nivesh_models::gbdt::GbdtParams;
use nivesh_models::iforest::ForestParams;
use nivesh_models::intent::IntentParams;
use nivesh_models::ner::NerParams;
use nivesh_models::{Fit, Persist};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// File name of a model inside a model directory.
pub fn model_file_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Intent => "intent.model",
        ModelKind::Ner => "ner.model",
        ModelKind::Credit => "credit.model",
        ModelKind::Anomaly => "anomaly.model",
        ModelKind::Spending => "spending.model",
    }
}

/// A deterministic random split of `n` rows: (training indices, held-out indices).
fn holdout_indices(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    let test = idx.split_off(n - ((n as f64) * fraction).round().min(n as f64) as usize);
    (idx, test)
}

/// Split off a deterministic share of the data for evaluation.
fn holdout<T: Clone>(data: Vec<T>, fraction: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let (train, test) = holdout_indices(data.len(), fraction, seed);
    (train.iter().map(|&i| data[i].clone()).collect(), test.iter().map(|&i| data[i].clone()).collect())
}

pub fn run(args: TrainArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(kind) = args.model else {
        return super::pipeline::run(&args, config);
    };
    let trained = train_model(&args, kind, config)?;
    let out_dir = args.out.clone().unwrap_or_else(|| config.model_storage_path.clone());
    let out: PathBuf = out_dir.join(model_file_name(kind));
    save(&out, &trained.bytes)?;
    if let (Some(path), Some(report)) = (&args.report, &trained.report) {
        evaluate::write_report(path, report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A trained model: its bytes, its evaluation (when something was held out) and parameters.
pub struct Trained {
    pub bytes: Vec<u8>,
    pub report: Option<serde_json::Value>,
    pub params: serde_json::Value,
}

/// Training data already prepared by the caller (the pipeline reads the transaction models'
/// data through the feature store) instead of read from `--data`.
pub enum Prepared {
    /// The anomaly detector's point-in-time rows and each row's time.
    Anomaly(nivesh_models::tabular::Tabular, Vec<f64>),
    /// Every transaction, for the spending forecaster.
    Transactions(Vec<nivesh_core::Transaction>),
}

/// Train one model as `args` says (data, hold-out, hyper-parameters) and evaluate it.
pub fn train_model(args: &TrainArgs, kind: ModelKind, config: &Config) -> anyhow::Result<Trained> {
    train_prepared(args, kind, config, None)
}

/// [`train_model`], with the training data given (`None`: read from `args`).
pub fn train_prepared(
    args: &TrainArgs,
    kind: ModelKind,
    config: &Config,
    prepared: Option<Prepared>,
) -> anyhow::Result<Trained> {
    if let Some(f) = args.holdout {
        anyhow::ensure!(f > 0.0 && f < 1.0, "--holdout {f}: expected a fraction between 0 and 1");
    }
    let started = Instant::now();
    let bytes: Vec<u8>;
    let params_json: serde_json::Value;
    let report = match kind {
        ModelKind::Intent => {
            let data = inputs::utterances(&args.input, "train")?;
            let (data, held) = match args.holdout {
                Some(f) => holdout(data, f, args.seed),
                None => (data, Vec::new()),
            };
            let mut params =
                IntentParams { confidence_threshold: config.intent_confidence_threshold, ..Default::default() };
            if let Some(c) = args.c {
                params.svm.c = c;
            }
            if let Some(m) = args.min_df {
                params.tfidf.min_df = m;
            }
            if let Some(w) = args.embedding_weight {
                params.embedding_weight = w;
            }
            let table = args
                .embeddings
                .as_deref()
                .or(config.intent_embeddings.as_deref())
                .map(super::embeddings::load)
                .transpose()?;
            tracing::info!(rows = data.len(), "training intent classifier");
            let model = params.fit_with_embeddings(&data, table.as_ref())?;
            println!(
                "trained intent classifier on {} utterances, {} intents, {} features in {:.2} s",
                data.len(),
                model.labels().len(),
                model.n_features(),
                started.elapsed().as_secs_f64()
            );
            bytes = model.to_bytes()?;
            let mut p = serde_json::to_value(&params)?;
            if let (Some(source), Some(obj)) = (model.embeddings_source(), p.as_object_mut()) {
                obj.insert("embeddings".into(), serde_json::json!(source));
            }
            params_json = p;
            let eval = if args.eval.is_empty() {
                held
            } else {
                inputs::utterances_from(&args.eval, args.input.format, args.eval_split.as_deref().unwrap_or("test"))?
            };
            if eval.is_empty() {
                None
            } else {
                println!("evaluation on {} held-out utterances:", eval.len());
                Some(evaluate::intent_report(&model, &eval, &[])?)
            }
        }
        ModelKind::Ner => {
            let data = inputs::ner_examples(&args.input.data, args.input.format)?;
            let (data, held) = match args.holdout {
                Some(f) => holdout(data, f, args.seed),
                None => (data, Vec::new()),
            };
            tracing::info!(rows = data.len(), "training NER");
            let defaults = NerParams::default();
            let params = NerParams {
                c1: args.c1.unwrap_or(defaults.c1),
                c2: args.c2.unwrap_or(defaults.c2),
                max_iterations: args.max_iterations.unwrap_or(defaults.max_iterations),
                ..defaults
            };
            let model = params.fit(&data)?;
            println!(
                "trained NER on {} sentences, labels {}, {} CRF state features in {:.2} s",
                data.len(),
                model.labels().join(", "),
                model.n_features(),
                started.elapsed().as_secs_f64()
            );
            bytes = model.to_bytes()?;
            params_json = serde_json::json!({
                "c1": params.c1,
                "c2": params.c2,
                "max_iterations": params.max_iterations,
                "merge_rules": params.merge_rules,
            });
            let eval = if args.eval.is_empty() { held } else { inputs::ner_examples(&args.eval, args.input.format)? };
            if eval.is_empty() {
                None
            } else {
                println!("evaluation on {} held-out sentences:", eval.len());
                Some(evaluate::ner_report(&model, &eval)?)
            }
        }
        ModelKind::Credit => {
            let data = inputs::credit_table(&args.input, None, None)?;
            let mut held_idx = Vec::new();
            let (train, held) = match args.holdout {
                Some(f) => {
                    let (train, test) = holdout_indices(data.rows, f, args.seed);
                    let split = (data.subset(&train), Some(data.subset(&test)));
                    held_idx = test;
                    split
                }
                None => (data, None),
            };
            let defaults = CreditParams::default();
            let g = defaults.gbdt.clone();
            let params = CreditParams {
                threshold: config.credit_risk_threshold,
                gbdt: GbdtParams {
                    iterations: args.iterations.unwrap_or(g.iterations),
                    learning_rate: args.learning_rate.unwrap_or(g.learning_rate),
                    max_depth: args.max_depth.unwrap_or(g.max_depth),
                    calibration_fraction: args.calibration_fraction.unwrap_or(g.calibration_fraction),
                    one_hot: args.one_hot,
                    ..g
                },
            };
            tracing::info!(rows = train.rows, "training credit model");
            let model = params.fit(&train)?;
            println!(
                "trained credit model on {} rows, {} features, {} trees in {:.2} s",
                train.rows,
                train.n_cols(),
                model.n_trees(),
                started.elapsed().as_secs_f64()
            );
            bytes = model.to_bytes()?;
            params_json = serde_json::to_value(&params)?;
            let eval = if args.eval.is_empty() {
                held
            } else {
                let eval_args = crate::cli::DataArgs { data: args.eval.clone(), ..args.input.clone() };
                Some(inputs::credit_table(&eval_args, Some(model.schema()), None)?)
            };
            match eval {
                Some(t) => {
                    println!("evaluation on {} held-out rows:", t.rows);
                    let mut report = evaluate::credit_report_of(&model, &t)?;
                    if let Some(auc) = achievable_credit_auc(args, &held_idx)? {
                        println!("achievable AUC on these rows (the generator's true default logit): {auc:.4}");
                        report["achievable_auc"] = serde_json::json!(auc);
                    }
                    Some(report)
                }
                None => {
                    println!("no held-out data (use --holdout or --eval); fairness on the training rows:");
                    evaluate::print_fairness(&model, &model.fairness(&train));
                    None
                }
            }
        }
        ModelKind::Anomaly => {
            let (data, times) = match prepared {
                Some(Prepared::Anomaly(table, times)) => (table, Some(times)),
                _ => inputs::anomaly_table(&args.input, None, args.time_column.as_deref(), None)?,
            };
            let (train, held) = match (args.holdout, &times) {
                (Some(f), Some(times)) => {
                    // the latest share by time is held out: the model never sees the future
                    let mut idx: Vec<usize> = (0..data.rows).collect();
                    idx.sort_by(|&a, &b| times[a].total_cmp(&times[b]).then(a.cmp(&b)));
                    let cut = data.rows - ((data.rows as f64) * f).round() as usize;
                    (data.subset(&idx[..cut]), Some(data.subset(&idx[cut..])))
                }
                (Some(f), None) => {
                    let (train, test) = holdout_indices(data.rows, f, args.seed);
                    (data.subset(&train), Some(data.subset(&test)))
                }
                (None, _) => (data, None),
            };
            let defaults = AnomalyParams::default();
            let params = AnomalyParams {
                mode: if args.supervised { AnomalyMode::Supervised } else { AnomalyMode::Unsupervised },
                contamination: config.anomaly_contamination,
                forest: ForestParams {
                    n_trees: args.n_trees.unwrap_or(defaults.forest.n_trees),
                    sample_size: args.sample_size.unwrap_or(defaults.forest.sample_size),
                    ..defaults.forest.clone()
                },
                ..defaults
            };
            tracing::info!(rows = train.rows, mode = ?params.mode, "training anomaly detector");
            let model = params.fit(&train)?;
            println!(
                "trained {:?} anomaly detector on {} rows, {} features in {:.2} s; threshold {:.4}",
                model.mode(),
                train.rows,
                train.n_cols(),
                started.elapsed().as_secs_f64(),
                model.threshold()
            );
            bytes = model.to_bytes()?;
            params_json = serde_json::to_value(&params)?;
            let eval = if args.eval.is_empty() {
                held
            } else {
                let eval_args = crate::cli::DataArgs { data: args.eval.clone(), ..args.input.clone() };
                Some(inputs::anomaly_table(&eval_args, Some(model.schema()), None, None)?.0)
            };
            match eval {
                Some(t) => {
                    println!("evaluation on {} held-out rows:", t.rows);
                    Some(evaluate::anomaly_report_of(&model, &t)?)
                }
                None => None,
            }
        }
        ModelKind::Spending => {
            let txns: Vec<nivesh_core::Transaction> = match prepared {
                Some(Prepared::Transactions(txns)) => txns,
                _ => {
                    anyhow::ensure!(!args.input.data.is_empty(), "--data is required");
                    args.input
                        .data
                        .iter()
                        .map(|p| {
                            nivesh_core::dataset::read_records(p).with_context(|| format!("reading {}", p.display()))
                        })
                        .collect::<anyhow::Result<Vec<Vec<_>>>>()?
                        .into_iter()
                        .flatten()
                        .collect()
                }
            };
            let params = ForecastParams::default();
            // backtest first: effects learned before the cut, forecasts of the last 90 days
            let report = evaluate::spending_backtest(&params, &txns, 90)?;
            let model = params.fit(&txns)?;
            println!(
                "trained spending forecaster on {} transactions in {:.2} s; festival multipliers: {}",
                txns.len(),
                started.elapsed().as_secs_f64(),
                model
                    .effects
                    .iter()
                    .map(|e| format!("{} ×{:.2}", e.festival, e.multiplier))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            bytes = model.to_bytes()?;
            params_json = serde_json::to_value(&params)?;
            Some(report)
        }
    };
    Ok(Trained { bytes, report, params: params_json })
}

fn save(out: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    nivesh_core::fsutil::atomic_write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

/// For generated credit applications, the AUC of the generator's own default logit on the
/// held-out rows: the best any model can reach there.
fn achievable_credit_auc(args: &TrainArgs, held: &[usize]) -> anyhow::Result<Option<f64>> {
    if args.input.label.is_some() || held.is_empty() || args.input.data.len() != 1 {
        return Ok(None);
    }
    let apps: Vec<nivesh_core::CreditApplication> = nivesh_core::dataset::read_records(&args.input.data[0])?;
    let scores: Vec<f64> = held.iter().map(|&i| nivesh_datagen::credit::default_logit(&apps[i])).collect();
    let labels: Vec<bool> = held.iter().map(|&i| apps[i].default == Some(true)).collect();
    let auc = nivesh_core::stats::auc(&scores, &labels);
    Ok(auc.is_finite().then_some(auc))
}
