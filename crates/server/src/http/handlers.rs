//! Route handlers: validate, predict (through the cache), record statistics. Models and
//! algorithms stay behind `nivesh_models`' `Predict`; nothing here knows how they work.

use super::extract::Json;
use super::types::*;
use crate::error::ApiError;
use crate::state::{AppState, Loaded, ReloadOutcome};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nivesh_models::Predict;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

type ApiResult<T> = Result<T, ApiError>;

fn loaded<M>(slot: &crate::state::Slot<M>, name: &str) -> ApiResult<Arc<Loaded<M>>> {
    slot.get().ok_or_else(|| ApiError::Unavailable(format!("the {name} model is not loaded yet")))
}

/// A response body, serialised once (it is what the cache keeps).
fn to_bytes<T: Serialize>(v: &T) -> ApiResult<Bytes> {
    serde_json::to_vec(v).map(Bytes::from).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Run one prediction through the cache and record it. `key` is the canonical request's JSON
/// (the cache key, with the version); `confidence` picks the number statistics summarise from
/// a fresh response (cached ones keep theirs).
async fn predict_cached<F, Fut>(
    state: &AppState,
    model: &'static str,
    version: u32,
    key: String,
    confidence: fn(&[u8]) -> Option<f64>,
    compute: F,
) -> ApiResult<Bytes>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<Bytes>>,
{
    let started = Instant::now();
    let key = format!("{version}:{key}");
    let fresh = async {
        let body = compute().await?;
        let confidence = confidence(&body);
        Ok(crate::cache::Cached { body, confidence })
    };
    let result = state.cache.get_or_compute(model, key, fresh).await;
    let us = started.elapsed().as_secs_f64() * 1e6;
    match &result {
        Ok((v, hit)) => {
            state.metrics.prediction(model, version, *hit);
            state.stats.record(model, us, true, v.confidence, Some(*hit));
        }
        Err(_) => state.stats.record(model, us, false, None, None),
    }
    result.map(|(v, _)| v.body)
}

fn key_of<T: Serialize + ?Sized>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A number at `key` of a serialised JSON object (for statistics), without parsing it all.
fn number_at(body: &[u8], key: &str) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        confidence: Option<f64>,
        #[serde(default)]
        anomaly_score: Option<f64>,
        #[serde(default)]
        default_probability: Option<f64>,
    }
    let p: Probe = serde_json::from_slice(body).ok()?;
    match key {
        "confidence" => p.confidence,
        "anomaly_score" => p.anomaly_score,
        _ => p.default_probability,
    }
}

fn json_response(body: Bytes) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

// ---------------------------------------------------------------- intent

async fn intent_one(
    state: &AppState,
    m: &Arc<Loaded<nivesh_models::intent::IntentClassifier>>,
    req: IntentRequest,
) -> ApiResult<Bytes> {
    let version = m.info.version;
    let canonical = key_of(&req.query)?;
    let model = m.clone();
    predict_cached(
        state,
        "intent",
        version,
        canonical,
        |v| number_at(v, "confidence"),
        || async move {
            let prediction = model.model.predict(req.query.as_str()).map_err(|e| match e {
                nivesh_models::ModelError::InvalidInput { message, .. } => ApiError::invalid("query", message),
                other => ApiError::from(other),
            })?;
            to_bytes(&IntentResponse { prediction, model_version: version.to_string() })
        },
    )
    .await
}

/// Classify what the user is asking.
#[utoipa::path(post, path = "/predict/intent", request_body = IntentRequest, tag = "predict",
    responses((status = 200, body = IntentResponse), (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn predict_intent(State(state): State<AppState>, Json(req): Json<IntentRequest>) -> ApiResult<Response> {
    let m = loaded(&state.models.intent, "intent")?;
    intent_one(&state, &m, req).await.map(json_response)
}

// ---------------------------------------------------------------- NER

async fn ner_one(
    state: &AppState,
    m: &Arc<Loaded<nivesh_models::ner::FinancialNer>>,
    req: NerRequest,
) -> ApiResult<Bytes> {
    if req.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    if req.text.chars().count() > 5000 {
        return Err(ApiError::invalid("text", "longer than 5000 characters"));
    }
    let version = m.info.version;
    let reference =
        req.reference_date.unwrap_or_else(|| chrono::Utc::now().with_timezone(&nivesh_core::records::IST).date_naive());
    let canonical = key_of(&(&req.text, reference))?;
    let model = m.clone();
    predict_cached(
        state,
        "ner",
        version,
        canonical,
        |v| {
            let v: Value = serde_json::from_slice(v).ok()?;
            let c: Vec<f64> = v["entities"].as_array()?.iter().filter_map(|e| e["confidence"].as_f64()).collect();
            (!c.is_empty()).then(|| c.iter().sum::<f64>() / c.len() as f64)
        },
        || async move {
            let entities =
                model.model.predict(&nivesh_models::ner::NerInput { text: &req.text, reference_date: reference })?;
            to_bytes(&NerResponse { entities, model_version: version.to_string() })
        },
    )
    .await
}

/// Find amounts, dates, merchants, categories and accounts, with normalised values.
#[utoipa::path(post, path = "/predict/ner", request_body = NerRequest, tag = "predict",
    responses((status = 200, body = NerResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn predict_ner(State(state): State<AppState>, Json(req): Json<NerRequest>) -> ApiResult<Response> {
    let m = loaded(&state.models.ner, "ner")?;
    ner_one(&state, &m, req).await.map(json_response)
}

// ---------------------------------------------------------------- spending

fn horizon_days(last: chrono::NaiveDate, months: u32) -> usize {
    use chrono::Datelike;
    // through the end of the `months`-th calendar month after the last day of history
    let mut y = last.year();
    let mut m = last.month() + months;
    while m > 12 {
        m -= 12;
        y += 1;
    }
    let end = chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(last);
    (end - last).num_days().max(1) as usize
}

async fn spending_one(
    state: &AppState,
    m: &Arc<Loaded<nivesh_models::forecast::SpendingForecaster>>,
    req: SpendingRequest,
) -> ApiResult<Bytes> {
    let months = req.months.unwrap_or(12);
    if !(1..=24).contains(&months) {
        return Err(ApiError::invalid("months", format!("{months}: expected 1 to 24")));
    }
    let version = m.info.version;
    let model = m.clone();
    let state2 = state.clone();
    let canonical = key_of(&(&req.user_id, &req.transactions, months, &req.category))?;
    predict_cached(
        state,
        "spending",
        version,
        canonical,
        |_| None,
        || async move {
            let txns: Vec<nivesh_core::Transaction> = match (&req.user_id, req.transactions) {
                (_, Some(txns)) => {
                    for (i, t) in txns.iter().enumerate() {
                        nivesh_core::Record::validate(t)
                            .map_err(|e| ApiError::invalid(format!("transactions[{i}].{}", e.field), e.message))?;
                    }
                    txns
                }
                (Some(user), None) => {
                    let fs = state2
                        .features
                        .clone()
                        .ok_or_else(|| ApiError::Unavailable("no feature store configured".into()))?;
                    let user = user.clone();
                    tokio::task::spawn_blocking(move || fs.offline().entity_events(&user, None))
                        .await
                        .map_err(|e| ApiError::Internal(e.to_string()))??
                }
                (None, None) => return Err(ApiError::invalid("user_id", "give user_id or transactions")),
            };
            let category = req.category.clone();
            let user_id = req.user_id.clone();
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&nivesh_core::Transaction> = txns.iter().collect();
                let Some((start, values)) = nivesh_models::forecast::daily_spend(&refs, category.as_deref()) else {
                    return Err(match &user_id {
                        Some(u) => ApiError::NotFound(format!("no spending history for user {u:?}")),
                        None => ApiError::invalid("transactions", "no debit transactions to forecast from"),
                    });
                };
                let last = start + chrono::Duration::days(values.len() as i64 - 1);
                let horizon = horizon_days(last, months);
                let f = model.model.predict(&nivesh_models::forecast::DailyHistory {
                    start,
                    values: &values,
                    horizon_days: horizon,
                })?;
                let mut forecast = f.monthly();
                // the first (partial) month is the rest of the current month; keep `months` full ones
                if forecast.len() > months as usize {
                    forecast.drain(..forecast.len() - months as usize);
                }
                to_bytes(&SpendingResponse {
                    user_id,
                    forecast,
                    model_used: f.forecast.model_used.clone(),
                    history_points: f.history_points,
                    model_version: version.to_string(),
                })
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        },
    )
    .await
}

/// Forecast monthly spending for a user (history from the feature store) or for given transactions.
#[utoipa::path(post, path = "/predict/spending", request_body = SpendingRequest, tag = "predict",
    responses((status = 200, body = SpendingResponse), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn predict_spending(State(state): State<AppState>, Json(req): Json<SpendingRequest>) -> ApiResult<Response> {
    let m = loaded(&state.models.spending, "spending")?;
    spending_one(&state, &m, req).await.map(json_response)
}

// ---------------------------------------------------------------- anomaly

async fn anomaly_one(
    state: &AppState,
    m: &Arc<Loaded<nivesh_models::anomaly::AnomalyModel>>,
    req: AnomalyRequest,
) -> ApiResult<Bytes> {
    let mut raw = req.transaction.clone();
    let obj = raw.as_object_mut().ok_or_else(|| ApiError::invalid("transaction", "expected an object"))?;
    if let Some(u) = &req.user_id {
        match obj.get("user_id").and_then(Value::as_str) {
            Some(inner) if inner != u => {
                return Err(ApiError::invalid("transaction.user_id", format!("{inner:?} differs from user_id {u:?}")));
            }
            Some(_) => {}
            None => {
                obj.insert("user_id".into(), json!(u));
            }
        }
    }
    for (k, default) in [
        ("transaction_id", json!("live")),
        ("currency", json!("INR")),
        ("category", json!("other")),
        ("channel", json!("upi")),
    ] {
        obj.entry(k).or_insert(default);
    }
    let txn: nivesh_core::Transaction = serde_path_to_error::deserialize(raw.clone()).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(format!("transaction.{path}"), e.into_inner().to_string())
    })?;
    nivesh_core::Record::validate(&txn)
        .map_err(|e| ApiError::invalid(format!("transaction.{}", e.field), e.message))?;
    let version = m.info.version;
    let model = m.clone();
    let fs = state.features.clone();
    predict_cached(
        state,
        "anomaly",
        version,
        key_of(&raw)?,
        |v| number_at(v, "anomaly_score"),
        || async move {
            tokio::task::spawn_blocking(move || {
                let at = txn.timestamp.timestamp();
                let now = chrono::Utc::now().timestamp();
                // the online state, if it was folded only from transactions before this one
                let online = match &fs {
                    Some(fs) => fs
                        .online_user_state(&txn.user_id, now)
                        .ok()
                        .flatten()
                        .filter(|s| s.last_seen().is_some_and(|l| l < at)),
                    None => None,
                };
                let (score, source) = match online {
                    Some(s) => (model.model.score_with_state(&s, &txn)?, "feature_store"),
                    None => {
                        let history = match &fs {
                            Some(fs) => fs.offline().entity_events(&txn.user_id, Some(at))?,
                            None => Vec::new(),
                        };
                        let source = if history.is_empty() { "none" } else { "offline_events" };
                        let input = nivesh_models::anomaly::AnomalyInput { transaction: &txn, history: &history };
                        (model.model.predict(&input)?, source)
                    }
                };
                to_bytes(&AnomalyResponse { score, history_source: source.into(), model_version: version.to_string() })
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
        },
    )
    .await
}

/// Score one card/UPI transaction against the user's history.
#[utoipa::path(post, path = "/predict/anomaly", request_body = AnomalyRequest, tag = "predict",
    responses((status = 200, body = AnomalyResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn predict_anomaly(State(state): State<AppState>, Json(req): Json<AnomalyRequest>) -> ApiResult<Response> {
    let m = loaded(&state.models.anomaly, "anomaly")?;
    anomaly_one(&state, &m, req).await.map(json_response)
}

// ---------------------------------------------------------------- credit

async fn credit_one(
    state: &AppState,
    m: &Arc<Loaded<nivesh_models::credit::CreditModel>>,
    req: CreditRequest,
) -> ApiResult<Bytes> {
    nivesh_core::Record::validate(&req.applicant_data)
        .map_err(|e| ApiError::invalid(format!("applicant_data.{}", e.field), e.message))?;
    let version = m.info.version;
    let model = m.clone();
    let canonical = key_of(&req)?;
    predict_cached(
        state,
        "credit",
        version,
        canonical,
        |v| number_at(v, "default_probability"),
        || async move {
            let score = model.model.predict(&req.applicant_data).map_err(|e| match e {
                nivesh_models::ModelError::InvalidInput { field, message } => ApiError::invalid(
                    format!(
                        "applicant_data.{}",
                        field.trim_start_matches("applicant_data.").trim_start_matches("applicant_data: ")
                    ),
                    message,
                ),
                other => other.into(),
            })?;
            to_bytes(&CreditResponse { score, model_version: version.to_string() })
        },
    )
    .await
}

/// Score a credit application, with reason codes.
#[utoipa::path(post, path = "/predict/credit-risk", request_body = CreditRequest, tag = "predict",
    responses((status = 200, body = CreditResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn predict_credit(State(state): State<AppState>, Json(req): Json<CreditRequest>) -> ApiResult<Response> {
    let m = loaded(&state.models.credit, "credit")?;
    credit_one(&state, &m, req).await.map(json_response)
}

// ---------------------------------------------------------------- batches

fn check_batch<T>(state: &AppState, inputs: &[T]) -> ApiResult<()> {
    if inputs.is_empty() {
        return Err(ApiError::invalid("inputs", "must not be empty"));
    }
    if inputs.len() > state.config.max_batch {
        return Err(ApiError::invalid(
            "inputs",
            format!("{} inputs; at most {} per batch", inputs.len(), state.config.max_batch),
        ));
    }
    Ok(())
}

/// Errors of one batch item name it: `inputs[3].query: …`.
fn in_batch(i: usize, e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid { message, field } => {
            let field = format!("inputs[{i}].{}", field.unwrap_or_default());
            ApiError::Invalid {
                message: format!("inputs[{i}].{message}"),
                field: Some(field.trim_end_matches('.').to_string()),
            }
        }
        other => other,
    }
}

macro_rules! batch_handler {
    ($name:ident, $path:literal, $req:ty, $slot:ident, $one:ident) => {
        #[utoipa::path(post, path = $path, request_body = BatchRequest<$req>, tag = "predict",
            responses((status = 200, body = Object), (status = 422, body = crate::error::ErrorBody)))]
        pub async fn $name(State(state): State<AppState>, Json(req): Json<BatchRequest<$req>>) -> ApiResult<axum::Json<Value>> {
            check_batch(&state, &req.inputs)?;
            // one version answers the whole batch
            let m = loaded(&state.models.$slot, stringify!($slot))?;
            let mut outputs = Vec::with_capacity(req.inputs.len());
            for (i, input) in req.inputs.into_iter().enumerate() {
                let bytes = $one(&state, &m, input).await.map_err(|e| in_batch(i, e))?;
                let mut v: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("model_version");
                }
                outputs.push(v);
            }
            Ok(axum::Json(json!({"outputs": outputs, "model_version": m.info.version.to_string()})))
        }
    };
}

batch_handler!(batch_intent, "/predict/intent/batch", IntentRequest, intent, intent_one);
batch_handler!(batch_ner, "/predict/ner/batch", NerRequest, ner, ner_one);
batch_handler!(batch_spending, "/predict/spending/batch", SpendingRequest, spending, spending_one);
batch_handler!(batch_anomaly, "/predict/anomaly/batch", AnomalyRequest, anomaly, anomaly_one);
batch_handler!(batch_credit, "/predict/credit-risk/batch", CreditRequest, credit, credit_one);

// ---------------------------------------------------------------- models, monitoring, cache, features

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
    if !crate::state::MODELS.contains(&name.as_str()) {
        return Err(ApiError::NotFound(format!(
            "no model named {name:?} (models: {})",
            crate::state::MODELS.join(", ")
        )));
    }
    match state.reload(&name).await {
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
    let loaded = state.loaded();
    let version = |m: &str| loaded.iter().find(|i| i.name == m).map(|i| i.version);
    axum::Json(StatisticsResponse {
        models: state.stats.snapshot(&version),
        uptime_seconds: state.started.elapsed().as_secs_f64(),
    })
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
    Json(req): Json<OnlineFeaturesRequest>,
) -> ApiResult<axum::Json<OnlineFeaturesResponse>> {
    if req.entity_ids.is_empty() {
        return Err(ApiError::invalid("entity_ids", "must not be empty"));
    }
    if req.entity_ids.len() > state.config.max_batch {
        return Err(ApiError::invalid("entity_ids", format!("at most {} per request", state.config.max_batch)));
    }
    let fs = state.features.clone().ok_or_else(|| ApiError::Unavailable("no feature store configured".into()))?;
    let results = tokio::task::spawn_blocking(move || {
        let ids: Vec<&str> = req.entity_ids.iter().map(String::as_str).collect();
        let views: Vec<&str> = req.views.iter().map(String::as_str).collect();
        fs.get_online_features(&ids, &views, chrono::Utc::now().timestamp(), false)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(axum::Json(OnlineFeaturesResponse { results }))
}

// ---------------------------------------------------------------- health

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
    let r = tokio::task::spawn_blocking(move || reg.models().map(|_| ()).map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    out.push(timed(&format!("registry ({})", state.registry.location()), true, r, started));
    if let Some(fs) = state.features.clone() {
        let started = Instant::now();
        let desc = fs.online_description();
        let required = !desc.starts_with("redis");
        let r = tokio::task::spawn_blocking(move || {
            fs.get_online_features(&["__health__"], &[], 0, false).map(|_| ()).map_err(|e| e.to_string())
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
                nivesh_store::mlflow::MlflowClient::new(&uri2).health().map_err(|e| e.to_string())
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
    let loaded = state.loaded();
    let missing: Vec<&str> =
        crate::state::MODELS.iter().copied().filter(|m| !loaded.iter().any(|i| i.name == *m)).collect();
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

/// No work at all: the floor of the load benchmark.
pub async fn noop() -> &'static str {
    "ok"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_run_to_the_end_of_the_last_month() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // from 15 Jan: the rest of January + February
        assert_eq!(horizon_days(d("2025-01-15"), 1), (d("2025-02-28") - d("2025-01-15")).num_days() as usize);
        assert_eq!(horizon_days(d("2025-11-30"), 2), (d("2026-01-31") - d("2025-11-30")).num_days() as usize);
    }
}
