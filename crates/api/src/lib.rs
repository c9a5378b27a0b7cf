//! `nivesh-api`: every request and response body of nivesh-ml's HTTP API, with their OpenAPI
//! schemas — the one definition of the wire format, used by the server (`nivesh-server`) and
//! the Rust client (`nivesh-client`); the TypeScript client's types are generated from the
//! OpenAPI document these schemas make. The contracts follow the original FastAPI service, so
//! its NestJS caller keeps working; every prediction carries `model_version` and
//! `prediction_id` (added to a model's output by the server).

pub use nivesh_core::CreditApplication;
use nivesh_core::{Channel, Direction, Transaction};
pub use nivesh_models::ModelKind;
pub use nivesh_models::anomaly::{AnomalyReason, AnomalyScore};
pub use nivesh_models::credit::{CreditScore, ReasonCode};
pub use nivesh_models::forecast::MonthlyForecast;
pub use nivesh_models::intent::{IntentPrediction, IntentScore};
pub use nivesh_models::ner::Entity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentRequest {
    /// The user's question (1-512 characters are read; longer is truncated and flagged).
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000-\\u001f\\u007f-\\u009f]"
    )]
    pub query: String,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NerRequest {
    /// At most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub text: String,
    /// Date that "yesterday", "next month" … are resolved against (1900-01-01 to 2999-12-31);
    /// default today (IST).
    #[schema(value_type = Option<String>, format = Date, pattern = "^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$")]
    pub reference_date: Option<chrono::NaiveDate>,
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
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub transaction_id: Option<String>,
    #[serde(default)]
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub user_id: Option<String>,
    /// RFC 3339 (`2026-03-15T14:05:00+05:30`); also read without an offset (as IST), with a
    /// space for the `T`, or as a bare date.
    #[serde(with = "nivesh_core::records::flexible_timestamp")]
    #[schema(value_type = String, format = DateTime, example = "2026-03-15T14:05:00+05:30")]
    pub timestamp: chrono::DateTime<chrono::FixedOffset>,
    /// Positive; `direction` says which way the money went.
    #[schema(exclusive_minimum = 0.0, maximum = 1e12)]
    pub amount: f64,
    /// ISO 4217 (default `INR`).
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub category: Option<String>,
    #[serde(default)]
    pub merchant: Option<String>,
    /// `upi` (default), `card`, `netbanking`, `wallet`, `cash`, `other` (aliases such as
    /// `credit_card`, `neft`, `atm` are read too).
    #[serde(default)]
    pub channel: Option<Channel>,
    /// `debit` (default) or `credit`.
    #[serde(default)]
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
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub user_id: Option<String>,
    /// … or the history itself (it wins over `user_id`): at least `timestamp` and `amount`
    /// per transaction, its debits (of `category`, when given) spanning at least 7 days from
    /// the first to the last.
    pub transactions: Option<Vec<TransactionInput>>,
    /// Months to forecast, 1-24 (default 12).
    #[schema(minimum = 1, maximum = 24)]
    #[serde(default, deserialize_with = "nivesh_core::records::whole::option")]
    pub months: Option<u32>,
    /// Only this category's spending.
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
    /// The user (or give `transaction.user_id`; when both are given they must be the same).
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub user_id: Option<String>,
    /// The transaction to score.
    pub transaction: TransactionInput,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
    pub applicant_data: nivesh_core::CreditApplication,
}

/// `{"inputs": [...]}`: up to the server's batch limit.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest<T> {
    #[schema(min_items = 1, max_items = 256)]
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
    #[schema(min_items = 1, max_items = 256)]
    pub entity_ids: Vec<String>,
    /// Views to read; default all.
    #[serde(default)]
    pub views: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnlineFeaturesResponse {
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<EntityFeatures>,
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

/// One model's traffic over the last hour, minute by minute (`GET /monitoring/traffic`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Traffic {
    pub model: String,
    /// Requests per second over the hour.
    pub requests_per_second: f64,
    /// Failed answers / requests over the hour (None without requests).
    pub error_rate: Option<f64>,
    /// Requests refused for their input (4xx) over the hour.
    pub rejected: u64,
    /// 99th percentile of the answer time over the hour, ms (from a log-bucketed histogram:
    /// within 10 %).
    pub latency_p99_ms: Option<f64>,
    /// Prediction-cache hits / (hits + misses) over the hour.
    pub cache_hit_rate: Option<f64>,
    pub requests: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// The minutes with traffic, oldest first.
    pub minutes: Vec<MinuteTraffic>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MinuteTraffic {
    /// The minute's start (RFC 3339).
    pub at: String,
    pub requests: u64,
    pub errors: u64,
    pub latency_p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrafficResponse {
    pub models: Vec<Traffic>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatisticsResponse {
    pub models: Vec<ModelStatistics>,
    pub uptime_seconds: f64,
}

/// Where the user history behind an anomaly score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistorySource {
    /// The `transaction_behaviour` state in the online store (no replay).
    FeatureStore,
    /// The user's offline events before the transaction, replayed.
    OfflineEvents,
    /// No history: a new user (or no feature store).
    None,
}

/// One view's values for one entity, as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewValues {
    pub version: u32,
    /// The instant the values describe (RFC 3339), if any are stored.
    pub as_of: Option<String>,
    /// Seconds since `as_of`.
    pub age_seconds: Option<i64>,
    /// `ok`; `missing` because nothing was materialized; `expired`: older than the view's TTL.
    pub status: String,
    pub values: BTreeMap<String, Option<f64>>,
    /// A state view's state (JSON), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
}

/// An entity's values of the requested views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityFeatures {
    pub entity: String,
    pub views: BTreeMap<String, ViewValues>,
}

/// Every error answer: what went wrong, its kind, and the field it is about (a path such as
/// `inputs[3].applicant_data.age`) when one value was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// `bad_request`, `validation_error`, `unauthorized`, `forbidden`, `not_found`,
    /// `payload_too_large`, `unsupported_media_type`, `rate_limited`, `overloaded`,
    /// `unavailable`, `timeout`, `conflict`, `internal_error`.
    pub error_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `POST /feedback`: what really happened for a logged prediction.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The `prediction_id` the prediction was answered with …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    /// … or the model and the SHA-256 (hex) of the input's canonical JSON, as logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<nivesh_models::ModelKind>)]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<String>,
    /// intent: the right intent; ner: `[{start, end, label}]`; spending: the month's actual
    /// spend; anomaly: a confirmed fraud (bool); credit: a default (bool).
    #[schema(schema_with = outcome_schema)]
    pub outcome: serde_json::Value,
}

/// The outcome's schema: one of the five models' kinds of outcome.
fn outcome_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    let of = |t: Type| ObjectBuilder::new().schema_type(t);
    let index = || of(Type::Integer).minimum(Some(0));
    let span = of(Type::Object)
        .property("start", index())
        .property("end", index())
        .property("label", of(Type::String))
        .required("start")
        .required("end")
        .required("label");
    AnyOfBuilder::new()
        .item(of(Type::String))
        .item(ArrayBuilder::new().items(span))
        .item(of(Type::Number).minimum(Some(0.0)))
        .item(of(Type::Boolean))
        .into()
}

/// `POST /feedback` answered: the prediction the outcome was joined to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedbackRecorded {
    pub prediction_id: String,
    pub model: String,
    pub version: u32,
    pub recorded: bool,
}

/// One prediction as `POST /predict/{route}` answers it: the model's output with the id to
/// send feedback with and the version that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted<T> {
    #[serde(flatten)]
    pub output: T,
    pub prediction_id: String,
    pub model_version: String,
}

/// One answer of a batch (`outputs[i]`): the output and its `prediction_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem<T> {
    #[serde(flatten)]
    pub output: T,
    pub prediction_id: String,
}

/// `POST /predict/{route}/batch` answered: the outputs in input order, all by one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchPredicted<T> {
    pub outputs: Vec<BatchItem<T>>,
    pub model_version: String,
}

/// Monitoring's reports as the routes answer them: drift checks (`/monitoring/drift/…`) and
/// live performance (`/monitoring/performance/…`); `nivesh-monitor` computes them.
pub mod monitoring {
    use serde::{Deserialize, Serialize};
    use utoipa::ToSchema;

    /// A column's values as drift tests see them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Kind {
        Numerical,
        Categorical,
    }

    /// Which test scored a column.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Test {
        /// Two-sample Kolmogorov-Smirnov; the score is the p-value.
        Ks,
        /// Pearson's chi-squared; the score is the p-value.
        ChiSquare,
        /// Two-proportion Z-test; the score is the p-value.
        Z,
        /// First Wasserstein distance over the reference standard deviation.
        Wasserstein,
        /// Jensen-Shannon distance.
        JensenShannon,
    }

    impl Test {
        /// The threshold Evidently uses by default.
        pub fn default_threshold(self) -> f64 {
            match self {
                Test::Ks | Test::ChiSquare | Test::Z => 0.05,
                Test::Wasserstein | Test::JensenShannon => 0.1,
            }
        }

        /// Whether `score` means drift at `threshold` (p-values drift below it, distances above).
        pub fn drifted(self, score: f64, threshold: f64) -> bool {
            match self {
                Test::Ks => score <= threshold,
                Test::ChiSquare | Test::Z => score < threshold,
                Test::Wasserstein | Test::JensenShannon => score >= threshold,
            }
        }

        /// Evidently's default test for a column of `kind` with `reference_rows` reference rows and
        /// `distinct` distinct values over both samples.
        pub fn choose(kind: Kind, reference_rows: usize, distinct: usize) -> Test {
            match (reference_rows <= 1000, kind) {
                (true, Kind::Numerical) if distinct > 5 => Test::Ks,
                (true, _) if distinct > 2 => Test::ChiSquare,
                (true, _) => Test::Z,
                (false, Kind::Numerical) if distinct > 5 => Test::Wasserstein,
                (false, _) => Test::JensenShannon,
            }
        }
    }

    /// One column's drift.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct ColumnDrift {
        pub feature: String,
        pub kind: Kind,
        pub test: Test,
        #[serde(with = "nivesh_core::nan::f64")]
        #[schema(value_type = Option<f64>)]
        pub score: f64,
        pub threshold: f64,
        pub drift_detected: bool,
        /// Population stability index of the same bins.
        #[serde(with = "nivesh_core::nan::f64")]
        #[schema(value_type = Option<f64>)]
        pub psi: f64,
        pub psi_alert: bool,
        pub reference_rows: usize,
        pub current_rows: usize,
        /// The shares of both samples per bin (the PSI's bins: Sturges ranges of a numerical
        /// column, else each value; at most 30), for a reference-vs-current histogram.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub bins: Vec<Bin>,
    }

    /// One histogram bin: its label and the share of each sample in it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Bin {
        pub label: String,
        pub reference: f64,
        pub current: f64,
    }

    /// A model's drift: its feature columns and its prediction.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct DriftReport {
        pub model: String,
        pub version: Option<u32>,
        pub reference_rows: usize,
        pub current_rows: usize,
        /// What the reference was: `training` (the version's profile) or a window `FROM..TO`.
        pub reference: String,
        /// The current window, `FROM..TO` (RFC 3339).
        pub window: String,
        pub drift_detected: bool,
        /// Share of feature columns that drifted.
        pub drift_share: f64,
        /// The share at which the model drifts.
        pub drift_share_threshold: f64,
        pub features: Vec<ColumnDrift>,
        pub prediction: Option<ColumnDrift>,
        /// When the check ran (RFC 3339).
        pub checked_at: String,
    }

    /// A `[from, to)` window's metric.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Window {
        pub from: String,
        pub to: String,
        /// Outcomes in the window.
        pub n: usize,
        /// `None` when the window has none (or, for AUC, only one class).
        pub value: Option<f64>,
    }

    /// A model's live performance.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Performance {
        pub model: String,
        pub metric: String,
        pub higher_is_better: bool,
        /// The served version's value on its evaluation data.
        pub training: Option<f64>,
        pub windows: Vec<Window>,
    }
}

/// A prediction endpoint: the model, its route, and the request and output types of
/// `POST /predict/{ROUTE}` — one definition, which the server's routes are built from (its
/// `Served` impls name their endpoint, and the compiler holds their types to it) and the
/// clients call.
pub trait Endpoint {
    const MODEL: nivesh_models::ModelKind;
    /// `POST /predict/{ROUTE}` and `POST /predict/{ROUTE}/batch`.
    const ROUTE: &'static str;
    type Request: Serialize + serde::de::DeserializeOwned + ToSchema + Send + 'static;
    type Output: Serialize + serde::de::DeserializeOwned + ToSchema + Send + 'static;
}

/// The five prediction endpoints.
pub mod endpoint {
    use super::*;
    use nivesh_models::ModelKind;

    /// `POST /predict/intent`.
    pub struct Intent;
    impl Endpoint for Intent {
        const MODEL: ModelKind = ModelKind::Intent;
        const ROUTE: &'static str = "intent";
        type Request = IntentRequest;
        type Output = IntentPrediction;
    }

    /// `POST /predict/ner`.
    pub struct Ner;
    impl Endpoint for Ner {
        const MODEL: ModelKind = ModelKind::Ner;
        const ROUTE: &'static str = "ner";
        type Request = NerRequest;
        type Output = NerOutput;
    }

    /// `POST /predict/spending`.
    pub struct Spending;
    impl Endpoint for Spending {
        const MODEL: ModelKind = ModelKind::Spending;
        const ROUTE: &'static str = "spending";
        type Request = SpendingRequest;
        type Output = SpendingOutput;
    }

    /// `POST /predict/anomaly`.
    pub struct Anomaly;
    impl Endpoint for Anomaly {
        const MODEL: ModelKind = ModelKind::Anomaly;
        const ROUTE: &'static str = "anomaly";
        type Request = AnomalyRequest;
        type Output = AnomalyOutput;
    }

    /// `POST /predict/credit-risk`.
    pub struct Credit;
    impl Endpoint for Credit {
        const MODEL: ModelKind = ModelKind::Credit;
        const ROUTE: &'static str = "credit-risk";
        type Request = CreditRequest;
        type Output = CreditScore;
    }
}
