//! `nivesh-ml registry list|show|promote|rollback`.

use super::pipeline::open_store;
use crate::cli::RegistryCommand;
use nivesh_core::config::Config;
use std::process::ExitCode;

pub fn run(cmd: RegistryCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let (registry, _) = open_store(config)?;
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
            let mut t = super::table(&["version", "metric", "aliases", "run", "artifact", "created"]);
            for v in versions {
                t.add_row(vec![
                    format!("v{}", v.version),
                    format!("{} {:.4}", v.metric_name, v.metric),
                    v.aliases.join(", "),
                    v.run_id.clone(),
                    v.digest.0[..12].to_string(),
                    v.created_at.clone(),
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
        }
        RegistryCommand::Rollback { model, alias } => {
            let v = registry.rollback(&model, &alias)?;
            println!("{model} {alias} -> v{v} (rollback)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
