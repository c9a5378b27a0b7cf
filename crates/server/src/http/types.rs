//! Every request and response body of the HTTP API, with their OpenAPI schemas. The
//! contracts follow the original FastAPI service, so its NestJS caller keeps working; every
//! prediction carries `model_version`.

use nivesh_models::anomaly::{AnomalyReason, AnomalyScore};
use nivesh_models::credit::{CreditScore, ReasonCode};
use nivesh_models::forecast::MonthlyForecast;
use nivesh_models::intent::{IntentPrediction, IntentScore};
use nivesh_models::ner::Entity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentRequest {
    /// The user's question (1-512 characters are read; longer is truncated and flagged).
    pub query: String,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntentResponse {
    #[serde(flatten)]
    pub prediction: IntentPrediction,
    pub model_version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NerRequest {
    pub text: String,
    /// Date that "yesterday", "next month" … are resolved against; default today (IST).
    pub reference_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NerResponse {
    pub entities: Vec<Entity>,
    pub model_version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingRequest {
    /// A user whose history is in the feature store's offline events …
    pub user_id: Option<String>,
    /// … or the history itself.
    #[schema(value_type = Option<Vec<Object>>)]
    pub transactions: Option<Vec<nivesh_core::Transaction>>,
    /// Months to forecast, 1-24 (default 12).
    pub months: Option<u32>,
    /// Only this category's spending.
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpendingResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub forecast: Vec<MonthlyForecast>,
    pub model_used: String,
    pub history_points: usize,
    pub model_version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyRequest {
    pub user_id: Option<String>,
    /// The transaction to score (`user_id` inside it may be omitted).
    #[schema(value_type = Object)]
    pub transaction: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnomalyResponse {
    #[serde(flatten)]
    pub score: AnomalyScore,
    /// Where the user's history came from: `feature_store` (the online state), `offline_events`
    /// (replayed) or `none` (a new user).
    pub history_source: String,
    pub model_version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    #[schema(value_type = Object)]
    pub applicant_data: nivesh_core::CreditApplication,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditResponse {
    #[serde(flatten)]
    pub score: CreditScore,
    pub model_version: String,
}

/// `{"inputs": [...]}`: up to the server's batch limit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest<T> {
    pub inputs: Vec<T>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse<T> {
    pub outputs: Vec<T>,
    pub model_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    pub name: String,
    pub version: u32,
    pub alias: String,
    pub metric_name: String,
    pub metric: f64,
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    pub digest: String,
    pub loaded_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelsResponse {
    pub models: Vec<ModelInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReloadResponse {
    pub model: String,
    pub version: u32,
    pub changed: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlineFeaturesRequest {
    /// User ids (at most the batch limit).
    pub entity_ids: Vec<String>,
    /// Views to read; default all.
    #[serde(default)]
    pub views: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnlineFeaturesResponse {
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<nivesh_features::EntityFeatures>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Check {
    pub name: String,
    /// `ok`, `down` or `not_configured`.
    pub status: String,
    pub required: bool,
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`, `degraded` (an optional dependency is down) or `unavailable`.
    pub status: String,
    pub ready: bool,
    pub uptime_seconds: f64,
    pub rss_bytes: Option<u64>,
    pub models: Vec<ModelInfo>,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelStatistics {
    pub model: String,
    pub version: Option<u32>,
    pub requests: u64,
    pub errors: u64,
    pub latency_us_p50: Option<f64>,
    pub latency_us_p95: Option<f64>,
    pub latency_us_p99: Option<f64>,
    pub confidence_mean: Option<f64>,
    pub confidence_min: Option<f64>,
    pub cache_hits: u64,
    pub cache_misses: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatisticsResponse {
    pub models: Vec<ModelStatistics>,
    pub uptime_seconds: f64,
}

/// Silence "unused" for types only referenced by the OpenAPI document.
#[allow(dead_code)]
type SchemaOnly = (IntentScore, ReasonCode, AnomalyReason);
