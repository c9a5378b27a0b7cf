use super::{evaluate, inputs};
use crate::cli::{ModelKind, TrainArgs};
use anyhow::Context;
use nivesh_core::config::Config;
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
    }
}

pub fn run(args: TrainArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let out_dir = args.out.clone().unwrap_or_else(|| config.model_storage_path.clone());
    let out: PathBuf = out_dir.join(model_file_name(args.model));
    let started = Instant::now();
    let bytes = match args.model {
        ModelKind::Intent => {
            let data = inputs::utterances(&args.input, "train")?;
            let mut params =
                IntentParams { confidence_threshold: config.intent_confidence_threshold, ..Default::default() };
            if let Some(c) = args.c {
                params.svm.c = c;
            }
            tracing::info!(rows = data.len(), "training intent classifier");
            let model = params.fit(&data)?;
            println!(
                "trained intent classifier on {} utterances, {} intents, {} features in {:.2} s",
                data.len(),
                model.labels().len(),
                model.n_features(),
                started.elapsed().as_secs_f64()
            );
            model.to_bytes()?
        }
        ModelKind::Ner => {
            let data = inputs::ner_examples(&args.input.data, args.input.format)?;
            tracing::info!(rows = data.len(), "training NER");
            let model = NerParams::default().fit(&data)?;
            println!(
                "trained NER on {} sentences, labels {}, {} CRF state features in {:.2} s",
                data.len(),
                model.labels().join(", "),
                model.n_features(),
                started.elapsed().as_secs_f64()
            );
            model.to_bytes()?
        }
    };
    nivesh_core::fsutil::atomic_write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    if let Some(eval) = &args.eval {
        let eval_args = crate::cli::EvaluateArgs {
            model: args.model,
            model_path: out,
            input: crate::cli::DataArgs {
                data: vec![eval.clone()],
                format: args.input.format,
                split: Some(args.eval_split.clone().unwrap_or_else(|| "test".into())),
            },
            oos_split: None,
            threshold: None,
            report: None,
        };
        evaluate::run(eval_args, config)?;
    }
    Ok(ExitCode::SUCCESS)
}
