//! `nivesh-ml registry list|show|promote|rollback|sync`.

use super::output::{self, table};
use crate::cli::RegistryCommand;
use crate::config::Config;
use nivesh_store::{ArtifactStore, Registry};
use std::process::ExitCode;

/// Mirror to MLflow when MLFLOW_TRACKING_URI is set; false when something was left pending.
fn mirror(config: &Config, registry: &Registry, store: &ArtifactStore) -> anyhow::Result<bool> {
    match &config.mlflow_tracking_uri {
        Some(uri) => Ok(output::mirror(&nivesh_training::pipeline::mirror(uri, registry, store)?)),
        None => Ok(true),
    }
}

pub fn run(cmd: RegistryCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let (registry, store) = super::stores::registry(config)?;
    match cmd {
        RegistryCommand::List => {
            let mut t = table(&["model", "versions", "champion", "metric"]);
            for m in registry.models()? {
                let versions = registry.versions(&m)?;
                let champion = registry.alias(&m, "champion")?;
                t.add_row(vec![
                    m.clone(),
                    versions.len().to_string(),
                    champion.as_ref().map(|c| format!("v{}", c.version)).unwrap_or_else(|| "-".into()),
                    champion.map(|c| format!("{} {:.4}", c.metric_name, c.metric)).unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
        RegistryCommand::Show { model } => {
            let versions = registry.versions(&model)?;
            anyhow::ensure!(!versions.is_empty(), "no registered model named {model:?}");
            let mut t = table(&["version", "metric", "aliases", "run", "artifact", "created", "mlflow"]);
            for v in versions {
                t.add_row(vec![
                    format!("v{}", v.version),
                    format!("{} {:.4}", v.metric_name, v.metric),
                    v.aliases.join(", "),
                    v.run_id.clone(),
                    v.digest.0[..12].to_string(),
                    v.created_at.clone(),
                    match &v.mlflow_version {
                        Some(n) => format!("{} (v{n})", v.mlflow_sync),
                        None => v.mlflow_sync.to_string(),
                    },
                ]);
            }
            println!("{t}");
        }
        RegistryCommand::Promote { model, version, alias, margin, force } => {
            let p = registry.promote_as(&model, version, &alias, margin, force, Some(&cli_actor()))?;
            if !p.promoted {
                println!("not promoted: {}", p.reason);
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "{model} {alias} -> v{version} ({}; was {})",
                p.reason,
                p.previous.map(|v| format!("v{v}")).unwrap_or("-".into())
            );
            mirror(config, &registry, &store)?;
        }
        RegistryCommand::Rollback { model, alias } => {
            let v = registry.rollback_as(&model, &alias, Some(&cli_actor()))?;
            println!("{model} {alias} -> v{v} (rollback)");
            mirror(config, &registry, &store)?;
        }
        RegistryCommand::Sync => {
            anyhow::ensure!(
                config.mlflow_tracking_uri.is_some(),
                "MLFLOW_TRACKING_URI is not set: nothing to sync with"
            );
            if !mirror(config, &registry, &store)? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Who changes an alias from the command line, for the alias history: `cli:<login name>`.
fn cli_actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
