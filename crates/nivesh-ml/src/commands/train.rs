//! `nivesh-ml train MODEL` (one model to a file) and `nivesh-ml train` (the pipeline): the
//! arguments become a [`ModelSpec`] or a [`TrainSpec`]; `nivesh-training` does the rest.

use super::output;
use crate::cli::{ModelKind, TrainArgs};
use crate::config::Config;
use anyhow::Context;
use nivesh_models::algo::gbdt::{GbdtParams, TuneMetric, TuneSpec};
use nivesh_models::anomaly::AnomalyMode;
use nivesh_training::{DataSource, ModelParams, ModelSpec, Split, TrainSpec};
use std::process::ExitCode;

pub fn run(args: TrainArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(kind) = args.model else {
        anyhow::ensure!(
            args.previous.is_none(),
            "--previous is for `train spending`: the pipeline reads the registry's champion"
        );
        anyhow::ensure!(
            args.against.is_none(),
            "--against is for `train MODEL`: the pipeline compares each model with its champion by itself"
        );
        return pipeline(&pipeline_spec(&args, config)?, config);
    };
    let spec = model_spec(&args, kind, config);
    let previous = match &args.previous {
        Some(path) => {
            anyhow::ensure!(spec.params.learns_from_previous(), "--previous applies to `train spending` only");
            let bytes = std::fs::read(path).with_context(|| format!("reading --previous {}", path.display()))?;
            Some(nivesh_training::Previous { bytes, source: format!("--previous {}", path.display()), required: true })
        }
        None => None,
    };
    let against = match &args.against {
        Some(path) => {
            let file = nivesh_training::evaluate::model_file(kind, path);
            let bytes = std::fs::read(&file).with_context(|| format!("reading --against {}", file.display()))?;
            Some(nivesh_training::Previous { bytes, source: file.display().to_string(), required: true })
        }
        None => None,
    };
    let trained = nivesh_training::train_prepared(&spec, None, previous.as_ref(), against.as_ref())?;
    output::trained(&trained);
    let out = args.out.clone().unwrap_or_else(|| config.model_storage_path.clone()).join(kind.artifact_file());
    nivesh_core::fsutil::atomic_write(&out, &trained.bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), trained.bytes.len());
    if let (Some(path), Some(report)) = (&args.report, &trained.report) {
        output::write_report(path, report, trained.comparison.as_ref())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The parameters of `kind`: the configuration's defaults, then the flags that apply to it.
fn params(args: &TrainArgs, kind: ModelKind, config: &Config) -> ModelParams {
    let mut params = ModelParams::new(kind, &super::stores::training_defaults(config));
    match &mut params {
        ModelParams::Intent(spec) => {
            let p = &mut spec.params;
            p.svm.c = args.c.unwrap_or(p.svm.c);
            p.tfidf.min_df = args.min_df.unwrap_or(p.tfidf.min_df);
            p.embedding_weight = args.embedding_weight.unwrap_or(p.embedding_weight);
            if let Some(f) = &args.fallback_label {
                p.fallback_label = f.clone();
            }
            if let Some(e) = &args.embeddings {
                spec.embeddings = e.clone();
            }
        }
        ModelParams::Ner(spec) => {
            if let Some(e) = &args.embeddings {
                spec.embeddings = e.clone();
            }
            let p = &mut spec.params;
            p.c1 = args.c1.unwrap_or(p.c1);
            p.c2 = args.c2.unwrap_or(p.c2);
            p.max_iterations = args.max_iterations.unwrap_or(p.max_iterations);
        }
        ModelParams::Credit(p) => {
            boosting(args, &mut p.gbdt, TuneMetric::LogLoss);
            let g = &mut p.gbdt;
            g.calibration_fraction = args.calibration_fraction.unwrap_or(g.calibration_fraction);
            g.one_hot = args.one_hot;
            p.bureau_features = args.bureau_features;
        }
        ModelParams::Anomaly(p) => {
            p.mode = if args.supervised { AnomalyMode::Supervised } else { AnomalyMode::Unsupervised };
            p.forest.n_trees = args.n_trees.unwrap_or(p.forest.n_trees);
            p.forest.sample_size = args.sample_size.unwrap_or(p.forest.sample_size);
            boosting(args, &mut p.gbdt, TuneMetric::Auc);
        }
        ModelParams::Spending(p) => {
            p.method = args.method.unwrap_or(p.method);
        }
    }
    params
}

/// The boosting flags shared by the credit scorer and the supervised anomaly detector.
fn boosting(args: &TrainArgs, g: &mut GbdtParams, metric: TuneMetric) {
    g.iterations = args.iterations.unwrap_or(g.iterations);
    g.learning_rate = args.learning_rate.unwrap_or(g.learning_rate);
    g.max_depth = args.max_depth.unwrap_or(g.max_depth);
    g.min_leaf_weight = args.min_leaf_weight.unwrap_or(g.min_leaf_weight);
    g.class_balance = args.class_balance.unwrap_or(g.class_balance);
    g.seed = args.seed;
    if args.tune {
        g.tune = Some(TuneSpec::with_metric(args.tune_metric.unwrap_or(metric)));
    }
}

/// One model from `--data`, with `--holdout` or `--eval`.
fn model_spec(args: &TrainArgs, kind: ModelKind, config: &Config) -> ModelSpec {
    let split = match (args.eval.as_slice(), args.holdout) {
        ([], Some(fraction)) => Split::Holdout { fraction, seed: args.seed },
        ([], None) => Split::None,
        (paths, _) => Split::Files { paths: paths.to_vec(), split: args.eval_split.clone() },
    };
    ModelSpec {
        params: params(args, kind, config),
        input: args.input.clone(),
        split,
        time_column: args.time_column.clone(),
        bootstrap: args.bootstrap,
    }
}

/// The pipeline over `--models`, on the sample data (generated once) or `--data DIR`.
fn pipeline_spec(args: &TrainArgs, config: &Config) -> anyhow::Result<TrainSpec> {
    let data = match args.input.paths.as_slice() {
        [] => DataSource::Sample { dir: config.generated_data_dir() },
        [d] if d.is_dir() => DataSource::Directory { dir: d.clone() },
        _ => anyhow::bail!("the pipeline takes --data DIR (a directory of generated files), or nothing"),
    };
    Ok(TrainSpec {
        data,
        models: args.models.iter().map(|&k| params(args, k, config)).collect(),
        split: Split::PIPELINE,
        margin: args.margin,
        promote: !args.no_promote,
        continue_on_error: args.continue_on_error,
        suites: config.validation_suites.clone(),
        tags: args.tag.iter().cloned().collect(),
        bootstrap: args.bootstrap,
    })
}

/// Run the pipeline with a spinner per model and a summary table; exit code 0 only if every
/// model succeeded.
pub fn pipeline(spec: &TrainSpec, config: &Config) -> anyhow::Result<ExitCode> {
    let stores = super::stores::Stores::open(config)?;
    let outcomes = stores.pipeline(config).run(spec, &mut output::CliProgress::default())?;
    output::outcomes(&outcomes);
    Ok(if outcomes.iter().all(|o| o.succeeded()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
