//! `nivesh-ml drift check|history`: the served models' traffic (the prediction log) against
//! their training profiles, with Evidently's default tests; retraining what drifted.

use super::output::table;
use crate::cli::{DriftCheckArgs, DriftCommand};
use crate::config::Config;
use anyhow::Context;
use nivesh_models::ModelKind;
use nivesh_monitor::check::{Check, Checked, Reference};
use nivesh_training::{DataSource, TrainSpec};
use std::process::ExitCode;

pub fn run(cmd: DriftCommand, config: &Config) -> anyhow::Result<ExitCode> {
    match cmd {
        DriftCommand::Check(args) => check(args, config),
        DriftCommand::History { model, last } => {
            let store = super::stores::monitor(config)?;
            let mut t = table(&[
                "checked at",
                "version",
                "window",
                "reference",
                "rows (ref / cur)",
                "drifted features",
                "drift",
            ]);
            for r in store.checks(model.name(), last)? {
                let r: nivesh_monitor::drift::DriftReport =
                    serde_json::from_value(r).context("a stored drift report")?;
                t.add_row(vec![
                    r.checked_at.clone(),
                    r.version.map(|v| format!("v{v}")).unwrap_or_default(),
                    r.window.clone(),
                    r.reference.clone(),
                    format!("{} / {}", r.reference_rows, r.current_rows),
                    format!("{:.0} %", r.drift_share * 100.0),
                    if r.drift_detected { "DRIFT".into() } else { "no".into() },
                ]);
            }
            println!("{t}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An instant: RFC 3339, or a date (midnight IST); unix milliseconds.
fn instant(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("{s:?}: expected RFC 3339 or YYYY-MM-DD"))?;
    let midnight = d.and_hms_opt(0, 0, 0).context("midnight")?;
    Ok(midnight.and_local_timezone(nivesh_core::records::IST).single().context("IST midnight")?.timestamp_millis())
}

fn check(args: DriftCheckArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = super::stores::monitor(config)?;
    let (registry, artifacts) = super::stores::registry(config)?;
    let window = match &args.window {
        Some(w) => nivesh_monitor::performance::parse_window(w.trim()).map_err(|e| anyhow::anyhow!("--window {e}"))?,
        None => config.drift_window,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let from = now - window.as_millis().min(i64::MAX as u128) as i64;
    let window_ref = match args.reference.as_str() {
        "training" => None,
        other => {
            let (a, b) = other
                .split_once("..")
                .with_context(|| format!("--reference {other:?}: expected training or FROM..TO"))?;
            Some((instant(a)?, instant(b)?))
        }
    };
    let kinds: Vec<ModelKind> = match args.model {
        Some(k) => vec![k],
        None => {
            let logged = store.models()?;
            ModelKind::ALL.into_iter().filter(|k| logged.iter().any(|m| m == k.name())).collect()
        }
    };
    anyhow::ensure!(!kinds.is_empty(), "no logged predictions in {}: nothing to check", store.location());
    let mut checks: Vec<Checked> = Vec::new();
    for kind in kinds {
        let (version, reference) = match window_ref {
            Some((from_ms, to_ms)) => (
                registry.alias(kind.registry_name(), "champion")?.map(|v| v.version),
                Reference::Window { from_ms, to_ms },
            ),
            None => match nivesh_training::pipeline::champion_profile(&registry, &artifacts, kind)? {
                Some((v, p)) => (Some(v), Reference::Training(Box::new(p))),
                None => {
                    eprintln!("{kind}: no champion with a training profile; skipped");
                    continue;
                }
            },
        };
        let spec = Check {
            model: kind,
            version,
            from_ms: from,
            to_ms: now + 1,
            reference,
            options: super::stores::drift_options(config),
        };
        match nivesh_monitor::check::run_and_save(&store, &spec, now) {
            Ok(c) => checks.push(c),
            Err(nivesh_monitor::MonitorError::NotFound(why)) if args.model.is_none() => {
                eprintln!("{kind}: {why}; skipped")
            }
            Err(e) => return Err(e).with_context(|| format!("checking {kind}")),
        }
    }
    for c in &checks {
        print(&c.report);
    }
    if let Some(out) = &args.report {
        let bytes = match out.extension().and_then(|e| e.to_str()) {
            Some("html") | Some("htm") => nivesh_monitor::html::drift(&checks).into_bytes(),
            Some("json") => {
                let reports: Vec<_> = checks.iter().map(|c| &c.report).collect();
                match reports.as_slice() {
                    [one] => serde_json::to_vec_pretty(one)?,
                    many => serde_json::to_vec_pretty(many)?,
                }
            }
            _ => anyhow::bail!("--report {}: expected a .html or .json file", out.display()),
        };
        nivesh_core::fsutil::atomic_write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        println!("report written to {}", out.display());
    }
    let drifted: Vec<ModelKind> =
        checks.iter().filter(|c| c.report.drift_detected).filter_map(|c| c.report.model.parse().ok()).collect();
    if args.retrain && !drifted.is_empty() {
        println!("retraining {} (drifted)", drifted.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "));
        let spec = TrainSpec {
            suites: config.validation_suites.clone(),
            tags: Default::default(),
            ..TrainSpec::all(
                DataSource::Sample { dir: config.generated_data_dir() },
                &super::stores::training_defaults(config),
            )
        }
        .with_models(&drifted)?;
        return super::train::pipeline(&spec, config);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &nivesh_monitor::drift::DriftReport) {
    let mut t = table(&["column", "kind", "test", "score", "threshold", "drift", "PSI"]);
    for d in r.prediction.iter().chain(&r.features) {
        t.add_row(vec![
            d.feature.clone(),
            format!("{:?}", d.kind).to_lowercase(),
            serde_json::to_value(d.test).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            format!("{:.4}", d.score),
            d.threshold.to_string(),
            if d.drift_detected { "DRIFT".into() } else { String::new() },
            format!("{:.3}{}", d.psi, if d.psi_alert { " (alert)" } else { "" }),
        ]);
    }
    println!(
        "{}{}: {} — {:.0} % of {} features drifted ({} reference rows: {}, {} current rows: {})\n{t}",
        r.model,
        r.version.map(|v| format!(" v{v}")).unwrap_or_default(),
        if r.drift_detected { "DRIFT DETECTED" } else { "no drift" },
        r.drift_share * 100.0,
        r.features.len(),
        r.reference_rows,
        r.reference,
        r.current_rows,
        r.window
    );
}
