//! Health probes: liveness, startup, readiness (every champion loaded, required dependencies
//! answering) and the full report with each dependency's latency.

use crate::state::AppState;
use crate::types::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nivesh_models::ModelKind;
use serde_json::{Value, json};
use std::time::Instant;

/// 200 while the process runs.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Object)))]
pub async fn live() -> axum::Json<Value> {
    axum::Json(json!({"status": "alive"}))
}

/// 503 until the models have been loaded at start.
#[utoipa::path(get, path = "/health/startup", tag = "health", responses((status = 200, body = Object), (status = 503, body = Object)))]
pub async fn startup(State(state): State<AppState>) -> impl IntoResponse {
    if state.startup_complete() {
        (StatusCode::OK, axum::Json(json!({"status": "started"})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "starting", "reason": "loading models"})))
    }
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

async fn checks(state: &AppState) -> Vec<Check> {
    let mut out = Vec::new();
    let timed = |name: &str, required: bool, r: Result<(), String>, started: Instant| Check {
        name: name.to_string(),
        status: if r.is_ok() { "ok" } else { "down" }.into(),
        required,
        latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        detail: r.err(),
    };
    let started = Instant::now();
    let reg = state.registry.clone();
    let r = tokio::task::spawn_blocking(move || reg.models().map(|_| ()).map_err(|e| nivesh_core::error_chain(&e)))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    out.push(timed(&format!("registry ({})", state.registry.location()), true, r, started));
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
            name: format!("prediction cache: redis ({at})"),
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

fn readiness(state: &AppState, checks: &[Check]) -> (bool, Option<String>) {
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

/// 200 only when every champion is loaded and required dependencies answer; else 503 with why.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200, body = Object), (status = 503, body = Object)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let checks = checks(&state).await;
    match readiness(&state, &checks) {
        (true, _) => (StatusCode::OK, axum::Json(json!({"status": "ready"}))),
        (false, reason) => {
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "not_ready", "reason": reason})))
        }
    }
}

/// Everything: dependencies with latency, model versions, uptime, memory.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let checks = checks(&state).await;
    let (ready, reason) = readiness(&state, &checks);
    let degraded = checks.iter().any(|c| !c.required && c.status == "down");
    let status = if !ready {
        "unavailable"
    } else if degraded {
        "degraded"
    } else {
        "ok"
    };
    let body = HealthResponse {
        status: status.into(),
        ready,
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        rss_bytes: rss_bytes(),
        models: state.loaded(),
        checks,
        reason,
    };
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, axum::Json(body))
}
