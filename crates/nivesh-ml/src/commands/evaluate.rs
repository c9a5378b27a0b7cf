//! `nivesh-ml evaluate MODEL --model PATH --data FILE`: a saved model on labelled data
//! (`--against`: with another on the same items). A path `registry:ALIAS` or `registry:vN`
//! names a registered version instead of a file.

use super::output;
use crate::cli::{EvaluateArgs, ModelKind};
use crate::config::Config;
use anyhow::Context;
use nivesh_training::evaluate::EvalSpec;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A registered version of `kind` named `registry:ALIAS` or `registry:vN` (`registry:N`): its
/// model file in the artifact store, checked against its digest, and a line naming it. Any
/// other path is itself.
fn resolve(path: &Path, kind: ModelKind, config: &Config) -> anyhow::Result<(PathBuf, Option<String>)> {
    let Some(which) = path.to_str().and_then(|s| s.strip_prefix("registry:")) else {
        return Ok((path.to_path_buf(), None));
    };
    let (registry, artifacts) = super::stores::registry(config)?;
    let name = kind.registry_name();
    let number = which.strip_prefix('v').unwrap_or(which).parse::<u32>().ok();
    let version = match number {
        Some(v) => registry
            .versions(name)?
            .into_iter()
            .find(|m| m.version == v)
            .with_context(|| format!("{name} has no version {v} (`nivesh-ml registry show {name}`)"))?,
        None => registry.alias(name, which)?.with_context(|| {
            format!("{name} has no version with the alias {which:?} (`nivesh-ml registry show {name}`)")
        })?,
    };
    artifacts.get(&version.digest).with_context(|| format!("{name} v{}", version.version))?;
    let said = format!("{} = {name} v{} ({})", path.display(), version.version, version.aliases.join(", "));
    Ok((artifacts.path(&version.digest), Some(said)))
}

pub fn run(args: EvaluateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    // intent and credit are evaluated at the configured threshold unless --threshold says otherwise
    let threshold = match args.model {
        ModelKind::Intent => Some(args.threshold.unwrap_or(config.intent_confidence_threshold)),
        ModelKind::Credit => Some(args.threshold.unwrap_or(config.credit_risk_threshold)),
        ModelKind::Ner | ModelKind::Spending | ModelKind::Anomaly => None,
    };
    let (model_path, named) = resolve(&args.model_path, args.model, config)?;
    let against = match &args.against {
        Some(p) => {
            let (path, said) = resolve(p, args.model, config)?;
            Some((path, said))
        }
        None => None,
    };
    for said in named.iter().chain(against.as_ref().and_then(|a| a.1.as_ref())) {
        println!("{said}");
    }
    let spec = EvalSpec {
        model: args.model,
        model_path,
        input: args.input.clone(),
        oos_split: args.oos_split.clone(),
        threshold,
        benchmark: args.benchmark.clone(),
        method: args.method,
        cv_column: args.cv_column.clone(),
        bootstrap: args.bootstrap,
        against: against.map(|a| a.0),
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
