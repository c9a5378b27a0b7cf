//! Every request and response body of the HTTP API, with their OpenAPI schemas: the one place
//! that knows the wire format. The contracts follow the original FastAPI service, so its NestJS
//! caller keeps working; every prediction carries `model_version` (added to a model's output by
//! `http/predict.rs`).

use nivesh_core::{Channel, Direction, Transaction};
use nivesh_features::HistorySource;
use nivesh_models::anomaly::{AnomalyReason, AnomalyScore};
use nivesh_models::credit::ReasonCode;
use nivesh_models::forecast::MonthlyForecast;
use nivesh_models::intent::IntentScore;
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

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NerRequest {
    /// At most 2,000 characters.
    pub text: String,
    /// Date that "yesterday", "next month" … are resolved against; default today (IST).
    pub reference_date: Option<chrono::NaiveDate>,
}

/// A checked NER request: the text and the date it is read against (the cache key).
#[derive(Debug, Clone, Serialize)]
pub struct NerQuery {
    pub text: String,
    pub reference_date: chrono::NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NerOutput {
    pub entities: Vec<Entity>,
}

/// A transaction as a caller describes it: `timestamp` and `amount` are required; the rest
/// defaults (currency `INR`, category `other`, channel `upi`, direction `debit`, no merchant).
/// Full stored-transaction records are accepted as they are.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TransactionInput {
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// RFC 3339; without an offset it is read as IST.
    #[serde(with = "nivesh_core::records::flexible_timestamp")]
    #[schema(value_type = String, example = "2026-03-15T14:05:00+05:30")]
    pub timestamp: chrono::DateTime<chrono::FixedOffset>,
    /// Positive; `direction` says which way the money went.
    pub amount: f64,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub merchant: Option<String>,
    /// `upi`, `card`, `netbanking`, `wallet`, `cash`, …
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub channel: Option<Channel>,
    /// `debit` (default) or `credit`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub direction: Option<Direction>,
    /// Ignored (labels of stored records).
    #[serde(default, deserialize_with = "nivesh_core::records::flexible_bool::option")]
    pub is_anomaly: Option<bool>,
}

impl TransactionInput {
    /// The transaction with its defaults, as `user_id`'s; `id` names it when the caller did not.
    pub fn into_transaction(self, user_id: &str, id: impl FnOnce() -> String) -> Transaction {
        Transaction {
            transaction_id: self.transaction_id.unwrap_or_else(id),
            user_id: user_id.to_string(),
            timestamp: self.timestamp,
            amount: self.amount,
            currency: self.currency.unwrap_or_else(|| "INR".into()),
            category: self.category.unwrap_or_else(|| "other".into()),
            merchant: self.merchant.unwrap_or_default(),
            channel: self.channel.unwrap_or(Channel::Upi),
            direction: self.direction.unwrap_or(Direction::Debit),
            is_anomaly: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingRequest {
    /// A user whose history is in the feature store's offline events …
    pub user_id: Option<String>,
    /// … or the history itself: at least `timestamp` and `amount` per transaction.
    pub transactions: Option<Vec<TransactionInput>>,
    /// Months to forecast, 1-24 (default 12).
    pub months: Option<u32>,
    /// Only this category's spending.
    pub category: Option<String>,
}

/// A checked spending request (the cache key).
#[derive(Debug, Clone, Serialize)]
pub struct SpendingQuery {
    pub user_id: Option<String>,
    pub transactions: Option<Vec<Transaction>>,
    pub months: u32,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpendingOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub forecast: Vec<MonthlyForecast>,
    pub model_used: String,
    pub history_points: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyRequest {
    /// The user (or give `transaction.user_id`).
    pub user_id: Option<String>,
    /// The transaction to score.
    pub transaction: TransactionInput,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnomalyOutput {
    #[serde(flatten)]
    pub score: AnomalyScore,
    /// Where the user's history came from: `feature_store` (the online state), `offline_events`
    /// (replayed) or `none` (a new user).
    #[schema(value_type = String)]
    pub history_source: HistorySource,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    #[schema(value_type = Object)]
    pub applicant_data: nivesh_core::CreditApplication,
}

/// `{"inputs": [...]}`: up to the server's batch limit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest<T> {
    pub inputs: Vec<T>,
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

/// `POST /admin/train`: which models to train.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// Models to train, in order (`intent`, `ner`, `spending`, `anomaly`, `credit`); all five when omitted.
    #[schema(value_type = Option<Vec<String>>)]
    pub models: Option<Vec<nivesh_models::ModelKind>>,
}

/// `POST /admin/train` answered: the run's id and state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainStarted {
    pub id: String,
    pub state: crate::jobs::State,
}
