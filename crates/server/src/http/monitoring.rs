//! Monitoring routes: drift checks (the last, or one now), outcomes fed back for logged
//! predictions, and the live performance they give.

use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use nivesh_models::ModelKind;
use nivesh_monitor::drift::DriftReport;
use nivesh_monitor::performance::Performance;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::IntoParams;

type ApiResult<T> = Result<T, ApiError>;

fn kind(name: &str) -> ApiResult<ModelKind> {
    name.parse().map_err(|e: nivesh_models::kind::UnknownModel| ApiError::NotFound(e.to_string()))
}

fn store(state: &AppState) -> ApiResult<Arc<nivesh_monitor::log::LogStore>> {
    state.monitor.clone().ok_or_else(|| ApiError::Unavailable("monitoring is not configured on this server".into()))
}

fn monitor_error(e: nivesh_monitor::MonitorError) -> ApiError {
    match e {
        nivesh_monitor::MonitorError::NotFound(m) => ApiError::NotFound(m),
        nivesh_monitor::MonitorError::Invalid(reason) => ApiError::Invalid { field: None, reason },
        other => ApiError::Unavailable(format!("monitoring store: {}", nivesh_core::error_chain(&other))),
    }
}

/// `?window=7d`: a drift check's traffic.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// The current window, the last `7d`, `24h`, `30m`… (default: the server's drift window).
    // the pattern is `nivesh_monitor::performance::WINDOW_PATTERN` (tests/server.rs checks it)
    #[param(value_type = String, required = false, pattern = "^0*[1-9][0-9]{0,5}[smhd]?$")]
    pub window: Option<String>,
}

/// `?window=7d&windows=4`: consecutive windows of outcomes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PerformanceQuery {
    /// Each window's length, `7d`, `24h`, `30m`… (default: the server's drift window).
    // the same pattern as `WindowQuery`'s (utoipa takes only a literal; tests/server.rs checks both)
    #[param(value_type = String, required = false, pattern = "^0*[1-9][0-9]{0,5}[smhd]?$")]
    pub window: Option<String>,
    /// How many consecutive windows, newest last (default 4, at most 52).
    #[param(value_type = u32, required = false, minimum = 1, maximum = 52)]
    pub windows: Option<usize>,
}

fn window(state: &AppState, w: Option<&str>) -> ApiResult<std::time::Duration> {
    match w {
        Some(w) => nivesh_monitor::performance::parse_window(w).map_err(|e| ApiError::invalid("window", e)),
        None => Ok(state.config.drift.window),
    }
}

/// The model's last drift check (404 when none has run).
#[utoipa::path(get, path = "/monitoring/drift/{model}", tag = "monitoring",
    params(("model" = String, Path, description = "intent, ner, spending, anomaly or credit")),
    responses((status = 200, body = DriftReport), (status = 404, body = crate::error::ErrorBody)))]
pub async fn last_drift(State(state): State<AppState>, Path(model): Path<String>) -> ApiResult<axum::Json<Value>> {
    let kind = kind(&model)?;
    let store = store(&state)?;
    let last = tokio::task::spawn_blocking(move || store.checks(kind.name(), 1)).await?.map_err(monitor_error)?;
    last.into_iter().next().map(axum::Json).ok_or_else(|| {
        ApiError::NotFound(format!("no drift check of {model} yet (POST /monitoring/drift/{model}/check)"))
    })
}

/// Check the model's logged traffic in the window against its champion's training profile
/// now; the result is kept (history, `GET` above, Prometheus gauges).
#[utoipa::path(post, path = "/monitoring/drift/{model}/check", tag = "monitoring",
    params(("model" = String, Path, description = "intent, ner, spending, anomaly or credit"), WindowQuery),
    responses((status = 200, body = DriftReport), (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn check_drift(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Query(q): Query<WindowQuery>,
) -> ApiResult<axum::Json<DriftReport>> {
    let kind = kind(&model)?;
    let window = window(&state, q.window.as_deref())?;
    state.check_drift(kind, window).await.map(axum::Json)
}

pub use nivesh_api::{FeedbackRecorded, FeedbackRequest};

/// Record the outcome of a logged prediction (a later one replaces it).
#[utoipa::path(post, path = "/feedback", tag = "monitoring", request_body = FeedbackRequest,
    responses((status = 200, body = FeedbackRecorded), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn feedback(
    State(state): State<AppState>,
    Json(req): Json<FeedbackRequest>,
) -> ApiResult<axum::Json<FeedbackRecorded>> {
    let store = store(&state)?;
    let answer = tokio::task::spawn_blocking(move || {
        let record = match (&req.prediction_id, &req.model, &req.input_hash) {
            (Some(id), _, _) => store.get(id).map_err(monitor_error)?.ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no logged prediction {id:?} (the log writes within a second; sampled-out predictions are not kept)"
                ))
            })?,
            (None, Some(m), Some(h)) => {
                let k = kind(m).map_err(|_| ApiError::invalid("model", format!("no model named {m:?}")))?;
                store
                    .find_by_hash(k.name(), h)
                    .map_err(monitor_error)?
                    .ok_or_else(|| ApiError::NotFound(format!("no logged {m} prediction with input_hash {h:?}")))?
            }
            (None, None, _) => {
                return Err(ApiError::invalid("prediction_id", "give prediction_id, or model and input_hash"));
            }
            (None, Some(_), None) => return Err(ApiError::invalid("input_hash", "give it with model")),
        };
        let k: ModelKind =
            record.model.parse().map_err(|e: nivesh_models::kind::UnknownModel| ApiError::Internal(e.to_string()))?;
        nivesh_monitor::performance::check_outcome(k, &req.outcome).map_err(|e| ApiError::invalid("outcome", e))?;
        store
            .put_feedback(&record.id, &record.model, &req.outcome, chrono::Utc::now().timestamp_millis())
            .map_err(monitor_error)?;
        Ok::<_, ApiError>(FeedbackRecorded {
            prediction_id: record.id,
            model: record.model,
            version: record.version,
            recorded: true,
        })
    })
    .await??;
    Ok(axum::Json(answer))
}

/// The model's primary metric on the outcomes fed back, per window (newest last), next to its
/// value on the champion's evaluation data.
#[utoipa::path(get, path = "/monitoring/performance/{model}", tag = "monitoring",
    params(("model" = String, Path, description = "intent, ner, spending, anomaly or credit"), PerformanceQuery),
    responses((status = 200, body = Performance), (status = 404, body = crate::error::ErrorBody)))]
pub async fn performance(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Query(q): Query<PerformanceQuery>,
) -> ApiResult<axum::Json<Performance>> {
    let kind = kind(&model)?;
    let width = window(&state, q.window.as_deref())?;
    let count = q.windows.unwrap_or(4);
    if !(1..=52).contains(&count) {
        return Err(ApiError::invalid("windows", format!("{count}: expected 1 to 52")));
    }
    performance_of(&state, kind, width, count).await.map(axum::Json)
}

/// `kind`'s metric on the outcomes fed back over `count` windows of `width`, newest last.
pub(crate) async fn performance_of(
    state: &AppState,
    kind: ModelKind,
    width: std::time::Duration,
    count: usize,
) -> ApiResult<Performance> {
    let store = store(state)?;
    let training = state.info(kind).map(|i| i.metric);
    let to = chrono::Utc::now().timestamp_millis();
    let width_ms = width.as_millis().min(i64::MAX as u128) as i64;
    let from = to.saturating_sub(width_ms.saturating_mul(count as i64));
    let outcomes =
        tokio::task::spawn_blocking(move || store.outcomes(kind.name(), from, to)).await?.map_err(monitor_error)?;
    let metric = kind.primary_metric();
    Ok(Performance {
        model: kind.name().to_string(),
        metric: metric.name.to_string(),
        higher_is_better: metric.higher_is_better,
        training,
        windows: nivesh_monitor::performance::windows(kind, &outcomes, to, width_ms, count),
    })
}

/// `?limit=20`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// How many checks, newest first (default 20, at most 500).
    #[param(value_type = u32, required = false, minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// The model's last drift checks, newest first.
#[utoipa::path(get, path = "/monitoring/drift/{model}/history", tag = "monitoring",
    params(("model" = String, Path, description = "intent, ner, spending, anomaly or credit"), LimitQuery),
    responses((status = 200, body = Vec<DriftReport>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn drift_history(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<axum::Json<Vec<DriftReport>>> {
    let kind = kind(&model)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("{limit}: expected 1 to 500")));
    }
    drift_checks(&state, kind, limit).await.map(axum::Json)
}

/// `kind`'s last `limit` drift checks, newest first (a stored report this build cannot read is
/// skipped).
pub(crate) async fn drift_checks(state: &AppState, kind: ModelKind, limit: usize) -> ApiResult<Vec<DriftReport>> {
    let store = store(state)?;
    let rows = tokio::task::spawn_blocking(move || store.checks(kind.name(), limit)).await?.map_err(monitor_error)?;
    Ok(rows.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
}
