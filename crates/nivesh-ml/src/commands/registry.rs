//! `nivesh-ml registry list|show|promote|rollback|sync`, and the MLflow mirroring they share
//! with the pipeline.

use super::pipeline::open_store;
use crate::cli::RegistryCommand;
use nivesh_core::config::Config;
use nivesh_store::mlflow::{MlflowClient, sync_pending};
use nivesh_store::{ArtifactStore, Registry};
use std::process::ExitCode;

/// Send whatever is pending to MLflow when MLFLOW_TRACKING_URI is set. An unreachable server
/// is a warning, not an error: the local registry has everything, and `registry sync` retries.
/// Returns false when something was left pending.
pub fn mirror(config: &Config, registry: &Registry, store: &ArtifactStore) -> anyhow::Result<bool> {
    let Some(uri) = &config.mlflow_tracking_uri else { return Ok(true) };
    let client = MlflowClient::new(uri);
    match sync_pending(&client, registry, store) {
        Ok(r) => {
            println!("MLflow {uri}: mirrored {} runs, {} versions, {} aliases", r.runs, r.versions, r.aliases);
            for f in &r.failures {
                eprintln!("warning: MLflow: {f} (left pending)");
            }
            Ok(r.failures.is_empty())
        }
        Err(e) => {
            let pending = registry.pending_runs()?.len();
            eprintln!(
                "warning: {e}; {pending} run(s) marked mlflow_sync: pending; `nivesh-ml registry sync` sends them later"
            );
            Ok(false)
        }
    }
}

pub fn run(cmd: RegistryCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let (registry, store) = open_store(config)?;
    match cmd {
        RegistryCommand::List => {
            let mut t = super::table(&["model", "versions", "champion", "metric"]);
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
            let mut t = super::table(&["version", "metric", "aliases", "run", "artifact", "created", "mlflow"]);
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
                        None => v.mlflow_sync.clone(),
                    },
                ]);
            }
            println!("{t}");
        }
        RegistryCommand::Promote { model, version, alias, margin, force } => {
            let p = registry.promote(&model, version, &alias, margin, force)?;
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
            let v = registry.rollback(&model, &alias)?;
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
