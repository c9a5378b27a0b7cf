//! Readiness, shared by the HTTP probes and the gRPC `ServerReady`: every champion loaded and
//! every required dependency answering, with each dependency's check and latency.

use crate::state::AppState;
use crate::types::Check;
use nivesh_models::ModelKind;
use std::time::Instant;

/// Check each dependency (registry, online store, cache's Redis, MLflow) once.
pub async fn checks(state: &AppState) -> Vec<Check> {
    let mut out = Vec::new();
    // names and details can hold URLs (MLflow's, Redis's): never their passwords — /health is open
    let redact = nivesh_core::redact::redact;
    let timed = |name: &str, required: bool, r: Result<(), String>, started: Instant| Check {
        name: redact(name),
        status: if r.is_ok() { "ok" } else { "down" }.into(),
        required,
        latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        detail: r.err().map(|d| redact(&d)),
    };
    let started = Instant::now();
    let reg = state.registry.clone();
    let r = tokio::task::spawn_blocking(move || reg.models().map(|_| ()).map_err(|e| nivesh_core::error_chain(&e)))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    // needed to load the champions; once they are loaded they serve from memory, and a
    // registry outage only stops new versions (degraded, not unready: every replica would
    // otherwise leave the load balancer together)
    let required = ModelKind::ALL.into_iter().any(|k| state.info(k).is_none());
    out.push(timed(&format!("registry ({})", state.registry.location()), required, r, started));
    if let Some(e) = state.features_error() {
        out.push(Check {
            name: "feature store".into(),
            status: "down".into(),
            required: false,
            latency_ms: None,
            detail: Some(redact(&format!("not opened at start, served without it: {e}"))),
        });
    }
    if let Some(fs) = state.features.clone() {
        let started = Instant::now();
        let desc = fs.online_description();
        let required = !desc.starts_with("redis");
        let r = tokio::task::spawn_blocking(move || {
            fs.get_online_features(&["__health__"], &[], 0, false).map(|_| ()).map_err(|e| nivesh_core::error_chain(&e))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        out.push(timed(&format!("online store: {desc}"), required, r, started));
    }
    if let Some(at) = &state.cache_redis_unreachable {
        out.push(Check {
            name: redact(&format!("prediction cache: redis ({at})")),
            status: "down".into(),
            required: false,
            latency_ms: None,
            detail: Some("unreachable at start; serving with the in-process cache".into()),
        });
    } else if let Some((_, at)) = state.cache.redis_status() {
        let started = Instant::now();
        let r = state.cache.ping_redis().await.unwrap_or(Ok(()));
        out.push(timed(&format!("prediction cache: redis ({at})"), false, r, started));
    }
    match &state.config.mlflow_uri {
        Some(uri) => {
            let started = Instant::now();
            let uri2 = uri.clone();
            let r = tokio::task::spawn_blocking(move || {
                nivesh_store::mlflow::MlflowClient::new(&uri2).health().map_err(|e| nivesh_core::error_chain(&e))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            out.push(timed(&format!("mlflow ({uri})"), false, r, started));
        }
        None => out.push(Check {
            name: "mlflow".into(),
            status: "not_configured".into(),
            required: false,
            latency_ms: None,
            detail: None,
        }),
    }
    out
}

/// What the online store holds against what was materialized (for the full `/health` report
/// and the start-up log, not the probes: it reads every view): `down` (not required: the
/// server degrades, features come back missing) when a materialized view has no record there
/// or all of it is past its TTL.
pub async fn online_content(state: &AppState) -> Option<Check> {
    let fs = state.features.clone()?;
    let started = Instant::now();
    let desc = fs.online_description();
    let problems = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now().timestamp();
        fs.online_content(now).map(|views| {
            views.iter().filter_map(|(view, c)| c.problem(view, &fs.online_description())).collect::<Vec<_>>()
        })
    })
    .await
    .unwrap_or_else(|e| Ok(vec![e.to_string()]));
    let (status, detail) = match problems {
        Ok(p) if p.is_empty() => ("ok", None),
        Ok(p) => ("down", Some(p.join("; "))),
        Err(e) => ("down", Some(nivesh_core::error_chain(&e))),
    };
    let redact = nivesh_core::redact::redact;
    Some(Check {
        name: redact(&format!("online store contents: {desc}")),
        status: status.into(),
        required: false,
        latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        detail: detail.map(|d| redact(&d)),
    })
}

/// Ready, or why not.
pub fn readiness(state: &AppState, checks: &[Check]) -> (bool, Option<String>) {
    let missing: Vec<&str> =
        ModelKind::ALL.into_iter().filter(|&k| state.info(k).is_none()).map(ModelKind::name).collect();
    if !state.startup_complete() {
        return (false, Some("starting: loading models".into()));
    }
    if !missing.is_empty() {
        return (false, Some(format!("models not loaded: {}", missing.join(", "))));
    }
    if let Some(c) = checks.iter().find(|c| c.required && c.status != "ok") {
        return (false, Some(format!("{} is down: {}", c.name, c.detail.clone().unwrap_or_default())));
    }
    (true, None)
}
