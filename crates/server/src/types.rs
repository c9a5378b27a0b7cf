//! The wire format is `nivesh-api`'s (re-exported here, so the server's code names it as
//! `crate::types`); this module adds what only the server sees: checked requests (the cache
//! keys) and the admin training bodies, which carry the training crate's types.

pub use nivesh_api::*;
use nivesh_core::Transaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A checked NER request: the text and the date it is read against (the cache key).
#[derive(Debug, Clone, Serialize)]
pub struct NerQuery {
    pub text: String,
    pub reference_date: chrono::NaiveDate,
}

/// A checked spending request (the cache key).
#[derive(Debug, Clone, Serialize)]
pub struct SpendingQuery {
    pub user_id: Option<String>,
    pub transactions: Option<Vec<Transaction>>,
    pub months: u32,
    pub category: Option<String>,
}

/// `POST /admin/train`: which models to train.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// Models to train, in order (`intent`, `ner`, `spending`, `anomaly`, `credit`); all five when omitted.
    #[schema(min_items = 1)]
    pub models: Option<Vec<nivesh_models::ModelKind>>,
}

/// `POST /admin/train` answered: the run's id and state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainStarted {
    pub id: String,
    pub state: crate::jobs::State,
}
