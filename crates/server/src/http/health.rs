//! Health probes: liveness, startup, readiness (every champion loaded, required dependencies
//! answering) and the full report with each dependency's latency.

use crate::readiness::{checks, readiness};
use crate::state::AppState;
use crate::types::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

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
    let body = report(&state).await;
    (if body.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, axum::Json(body))
}

/// The health report: dependencies checked now, readiness, models, uptime, memory.
pub(crate) async fn report(state: &AppState) -> HealthResponse {
    let mut checks = checks(state).await;
    let (ready, reason) = readiness(state, &checks);
    checks.extend(crate::readiness::online_content(state).await);
    let degraded = checks.iter().any(|c| !c.required && c.status == "down");
    let status = if !ready {
        "unavailable"
    } else if degraded {
        "degraded"
    } else {
        "ok"
    };
    HealthResponse {
        status: status.into(),
        ready,
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        rss_bytes: rss_bytes(),
        models: state.loaded(),
        checks,
        reason,
    }
}
