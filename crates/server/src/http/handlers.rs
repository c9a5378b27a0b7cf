//! Route handlers other than predictions (`predict.rs`) and health (`health.rs`): the served
//! models and their reload, statistics, the cache, online features, training runs.

use super::extract::{Json, Query};
use crate::error::ApiError;
use crate::state::{AppState, ReloadOutcome};
use crate::types::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use nivesh_models::ModelKind;
use serde_json::{Value, json};

type ApiResult<T> = Result<T, ApiError>;

/// The models being served, with versions and metrics.
#[utoipa::path(get, path = "/models", tag = "models", responses((status = 200, body = ModelsResponse)))]
pub async fn list_models(State(state): State<AppState>) -> axum::Json<ModelsResponse> {
    axum::Json(ModelsResponse { models: state.loaded() })
}

/// Load the model's current champion now (admin).
#[utoipa::path(post, path = "/models/{name}/reload", tag = "models",
    params(("name" = String, Path, description = "intent, ner, spending, anomaly or credit")),
    responses((status = 200, body = ReloadResponse), (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn reload_model(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ReloadResponse>> {
    let kind: ModelKind =
        name.parse().map_err(|e: nivesh_models::kind::UnknownModel| ApiError::NotFound(e.to_string()))?;
    match state.reload(kind).await {
        Ok(ReloadOutcome::Unchanged(v)) => Ok(axum::Json(ReloadResponse { model: name, version: v, changed: false })),
        Ok(ReloadOutcome::Loaded { to, .. }) => {
            Ok(axum::Json(ReloadResponse { model: name, version: to, changed: true }))
        }
        Ok(ReloadOutcome::NoChampion) => Err(ApiError::NotFound(format!("{name} has no champion in the registry"))),
        Err(e) => Err(ApiError::Unavailable(format!(
            "{name}: the champion did not load ({e:#}); the previous version keeps serving"
        ))),
    }
}

/// Per-model counts, errors, latency percentiles and confidence.
#[utoipa::path(get, path = "/monitoring/statistics", tag = "monitoring", responses((status = 200, body = StatisticsResponse)))]
pub async fn statistics(State(state): State<AppState>) -> axum::Json<StatisticsResponse> {
    let version = |kind: ModelKind| state.info(kind).map(|i| i.version);
    axum::Json(StatisticsResponse {
        models: state.stats.snapshot(&version),
        uptime_seconds: state.started.elapsed().as_secs_f64(),
    })
}

/// Each model's traffic over the last hour, minute by minute: rate, error rate, p99, cache hits.
#[utoipa::path(get, path = "/monitoring/traffic", tag = "monitoring", responses((status = 200, body = TrafficResponse)))]
pub async fn traffic(State(state): State<AppState>) -> axum::Json<TrafficResponse> {
    axum::Json(TrafficResponse { models: state.stats.traffic(std::time::SystemTime::now()) })
}

/// Empty the prediction cache (admin).
#[utoipa::path(post, path = "/cache/clear", tag = "monitoring", responses((status = 200, body = Object)))]
pub async fn clear_cache(State(state): State<AppState>) -> axum::Json<Value> {
    state.cache.clear().await;
    axum::Json(json!({"cleared": true}))
}

/// Online features of users, with their age; older than a view's TTL → missing.
#[utoipa::path(post, path = "/features/online", request_body = OnlineFeaturesRequest, tag = "features",
    responses((status = 200, body = OnlineFeaturesResponse), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn online_features(
    State(state): State<AppState>,
    scope: Option<axum::extract::Extension<crate::tokens::UserScope>>,
    Json(req): Json<OnlineFeaturesRequest>,
) -> ApiResult<axum::Json<OnlineFeaturesResponse>> {
    if let Some(axum::extract::Extension(crate::tokens::UserScope(me))) = &scope
        && let Some((i, other)) = req.entity_ids.iter().enumerate().find(|(_, e)| *e != me)
    {
        return Err(ApiError::NotYours(format!("entity_ids[{i}]: this token is for user {me:?}, not {other:?}")));
    }
    let results = crate::answer::online_features(&state, req).await?;
    Ok(axum::Json(OnlineFeaturesResponse { results }))
}

/// Which shape `GET /tools` answers in.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ToolsQuery {
    /// `openai` (a `tools` array), `gemini` (`[{functionDeclarations}]`), `mcp` (as `tools/list`
    /// lists them); omitted: all three, by name.
    #[param(value_type = String, required = false, pattern = "^(openai|gemini|mcp)$")]
    pub format: Option<String>,
}

/// The models as tools for AI agents, in the shapes function-calling APIs take: the same
/// definitions the MCP server (`/mcp`, `nivesh-ml mcp`) lists.
#[utoipa::path(get, path = "/tools", tag = "agents", params(ToolsQuery),
    responses((status = 200, body = Value, description = "with `format`: that shape (an array for openai and gemini, `{tools}` for mcp); without: an object of all three by name")))]
pub async fn tools(Query(q): Query<ToolsQuery>) -> ApiResult<axum::Json<Value>> {
    use crate::tools;
    Ok(axum::Json(match q.format.as_deref() {
        None => json!({"openai": tools::openai(), "gemini": tools::gemini(), "mcp": tools::mcp()}),
        Some("openai") => tools::openai(),
        Some("gemini") => tools::gemini(),
        Some("mcp") => tools::mcp(),
        Some(other) => {
            return Err(ApiError::invalid("format", format!("{other:?}: expected openai, gemini or mcp")));
        }
    }))
}

/// No work at all: the floor of the load benchmark.
pub async fn noop() -> &'static str {
    "ok"
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    if let Some(log) = &state.log {
        use std::sync::atomic::Ordering::Relaxed;
        state.metrics.log(log.counters.written.load(Relaxed), log.counters.dropped.load(Relaxed));
    }
    let loaded = state.loaded().len();
    let redis = match (&state.cache_redis_unreachable, state.cache.redis_status()) {
        (Some(_), _) => Some(false),
        (None, status) => status.map(|(healthy, _)| healthy),
    };
    state.metrics.serving(loaded, state.startup_complete() && loaded == ModelKind::ALL.len(), redis);
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.render(),
    )
}

/// Start a training run of `models` (all five when omitted) in the background (admin). One
/// runs at a time; a new version becomes champion only through the champion gate, and a
/// model that fails to train leaves its champion serving.
#[utoipa::path(post, path = "/admin/train", tag = "models", request_body(content = Option<TrainRequest>),
    responses((status = 202, body = TrainStarted), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn start_training(
    State(state): State<AppState>,
    super::extract::OptionalJson(req): super::extract::OptionalJson<TrainRequest>,
) -> ApiResult<(StatusCode, axum::Json<TrainStarted>)> {
    let id = start_job(&state, req.models.unwrap_or_else(|| ModelKind::ALL.to_vec()))?;
    Ok((StatusCode::ACCEPTED, axum::Json(TrainStarted { id, state: crate::jobs::State::Queued })))
}

/// Start training `kinds` (duplicates dropped) in the background: the job's id.
pub(crate) fn start_job(state: &AppState, mut kinds: Vec<ModelKind>) -> ApiResult<String> {
    let template = state
        .config
        .training
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("training over HTTP is not configured on this server".into()))?;
    if kinds.is_empty() {
        return Err(ApiError::invalid("models", "must not be empty (leave it out to train all five)"));
    }
    let mut seen = Vec::with_capacity(kinds.len());
    kinds.retain(|k| {
        !seen.contains(k) && {
            seen.push(*k);
            true
        }
    });
    let spec = template.with_models(&kinds).map_err(|e| ApiError::invalid("models", e.to_string()))?;
    let job = state.jobs.start(&kinds).map_err(|running| {
        ApiError::Conflict(format!("training run {running} is still running; start another when it is done"))
    })?;
    let id = job.lock().map(|j| j.id.clone()).unwrap_or_default();
    state.run_training(spec, job);
    Ok(id)
}

/// A training run's state and each model's outcome (admin).
#[utoipa::path(get, path = "/admin/train/{id}", tag = "models",
    params(("id" = String, Path, description = "the id POST /admin/train answered with")),
    responses((status = 200, body = crate::jobs::Job), (status = 404, body = crate::error::ErrorBody)))]
pub async fn training_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<crate::jobs::Job>> {
    state.jobs.get(&id).map(axum::Json).ok_or_else(|| ApiError::NotFound(format!("no training run {id:?}")))
}

/// The last training runs started over HTTP, newest first (admin).
#[utoipa::path(get, path = "/admin/train", tag = "models", responses((status = 200, body = Vec<crate::jobs::Job>)))]
pub async fn training_jobs(State(state): State<AppState>) -> axum::Json<Vec<crate::jobs::Job>> {
    axum::Json(state.jobs.list())
}
