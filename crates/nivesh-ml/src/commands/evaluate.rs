//! `nivesh-ml evaluate MODEL --model PATH --data FILE`: a saved model on labelled data.

use super::output;
use crate::cli::{EvaluateArgs, ModelKind};
use crate::config::Config;
use nivesh_training::evaluate::EvalSpec;
use std::process::ExitCode;

pub fn run(args: EvaluateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    // intent and credit are evaluated at the configured threshold unless --threshold says otherwise
    let threshold = match args.model {
        ModelKind::Intent => Some(args.threshold.unwrap_or(config.intent_confidence_threshold)),
        ModelKind::Credit => Some(args.threshold.unwrap_or(config.credit_risk_threshold)),
        ModelKind::Ner | ModelKind::Spending | ModelKind::Anomaly => None,
    };
    let spec = EvalSpec {
        model: args.model,
        model_path: args.model_path.clone(),
        input: args.input.clone(),
        oos_split: args.oos_split.clone(),
        threshold,
        benchmark: args.benchmark.clone(),
        method: args.method,
        cv_column: args.cv_column.clone(),
        bootstrap: args.bootstrap,
        against: args.against.clone(),
    };
    let evaluated = nivesh_training::evaluate::evaluate(&spec)?;
    if let Some(d) = &evaluated.description {
        println!("{d}");
    }
    output::report(&evaluated.report);
    if let Some(c) = &evaluated.comparison {
        output::comparison(c);
    }
    if let Some(out) = &args.report {
        output::write_report(out, &evaluated.report, evaluated.comparison.as_ref())?;
    }
    Ok(ExitCode::SUCCESS)
}
