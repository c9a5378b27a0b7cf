//! `nivesh-ml features ingest|materialize|get|list`.

use super::output::table;
use crate::cli::{FeaturesArgs, FeaturesCommand};
use crate::config::Config;
use anyhow::Context;
use std::process::ExitCode;

/// RFC 3339, or a date (midnight IST).
fn parse_instant(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--as-of {s:?}: expected RFC 3339 or YYYY-MM-DD"))?;
    let midnight = d.and_hms_opt(0, 0, 0).context("midnight")?;
    Ok(midnight.and_local_timezone(nivesh_core::records::IST).single().context("IST midnight")?.timestamp())
}

pub fn run(args: FeaturesArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let fs = super::stores::features(config, args.definitions.as_deref())?;
    match args.command {
        FeaturesCommand::Ingest { source } => {
            let started = std::time::Instant::now();
            let events: Vec<nivesh_core::Transaction> =
                nivesh_core::dataset::read_records(&source).with_context(|| format!("reading {}", source.display()))?;
            let (inserted, skipped) = fs.ingest(&events)?;
            println!(
                "ingested {inserted} events from {} ({skipped} already stored) into {} in {:.2} s",
                source.display(),
                fs.offline().location(),
                started.elapsed().as_secs_f64()
            );
        }
        FeaturesCommand::Materialize { view, as_of, full, shard } => {
            let now = chrono::Utc::now().timestamp();
            let as_of = as_of.as_deref().map(parse_instant).transpose()?.unwrap_or(now);
            let views: Vec<&str> = view.iter().map(String::as_str).collect();
            let started = std::time::Instant::now();
            let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
                let b = indicatif::ProgressBar::new(0);
                b.set_style(
                    indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} entities ({eta})")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b.set_message("materializing");
                b
            });
            let mut last_logged = 0;
            let shard = shard.unwrap_or(nivesh_core::shard::Shard::ALL);
            let reports = fs.materialize_shard(&views, as_of, now, full, shard, &mut |done, total| match &bar {
                Some(b) => {
                    b.set_length(total as u64);
                    b.set_position(done as u64);
                }
                None if done == total || done >= last_logged + 500 => {
                    last_logged = done;
                    tracing::info!(done, total, "materializing");
                }
                None => {}
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let mut t = table(&["view", "version", "entities", "written", "mode", "seconds"]);
            for r in &reports {
                t.add_row(vec![
                    r.view.clone(),
                    r.version.to_string(),
                    r.entities.to_string(),
                    r.written.to_string(),
                    if r.incremental { "incremental" } else { "full" }.to_string(),
                    format!("{:.2}", r.seconds),
                ]);
            }
            println!("{t}");
            println!(
                "materialized as of {} into {} in {:.2} s",
                chrono::DateTime::from_timestamp(as_of, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
                fs.online_description(),
                started.elapsed().as_secs_f64()
            );
        }
        FeaturesCommand::Get { entity, view } => {
            let ids: Vec<&str> = entity
                .iter()
                .map(|e| {
                    e.strip_prefix("user_id=")
                        .filter(|v| !v.is_empty())
                        .with_context(|| format!("--entity {e:?}: expected user_id=ID"))
                })
                .collect::<anyhow::Result<_>>()?;
            let views: Vec<&str> = view.iter().map(String::as_str).collect();
            let got = fs.get_online_features(&ids, &views, chrono::Utc::now().timestamp(), false)?;
            let out = if got.len() == 1 {
                serde_json::to_string_pretty(&got[0])?
            } else {
                serde_json::to_string_pretty(&got)?
            };
            println!("{out}");
        }
        FeaturesCommand::List { json } => {
            let list = fs.list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let mut t = table(&[
                    "view",
                    "version",
                    "kind",
                    "features",
                    "ttl",
                    "online entities",
                    "last materialized",
                    "as of",
                ]);
                for v in &list {
                    t.add_row(vec![
                        v.view.clone(),
                        v.version.to_string(),
                        v.kind.clone(),
                        v.features.to_string(),
                        format!("{} d", v.ttl_days),
                        v.online_entities.to_string(),
                        v.last_materialized.clone().unwrap_or_else(|| "never".into()),
                        v.materialized_as_of.clone().unwrap_or_default(),
                    ]);
                }
                println!("{t}");
                println!(
                    "offline: {} ({} events); online: {}",
                    fs.offline().location(),
                    fs.offline().event_count()?,
                    fs.online_description()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
