//! `nivesh-monitor`: watching the models — is today's input still like the training data, did
//! the predictions move, is the model still right?
//!
//! - [`stats`]: the statistics (KS with SciPy's exact p-value, chi-squared, Z, Wasserstein,
//!   Jensen-Shannon, PSI, NumPy/Evidently binning), checked against SciPy;
//! - [`sample`]: columns of observed features and predictions;
//! - [`drift`]: per-column drift with Evidently's default tests and thresholds, dataset drift.

//! - [`observe`]: what is recorded of a prediction, per model (shared by training and serving);
//! - [`profile`]: the training profile stored with each model version;
//! - [`log`]: the prediction log (bounded, batched, never blocking), feedback, drift history;
//! - [`check`]: a drift check of logged traffic against a training profile or a window;
//! - [`validate`]: data validation suites (`data/validation.toml`);
//! - [`html`]: self-contained HTML reports of drift checks and validation runs;
//! - [`performance`]: live metrics from the outcomes fed back for logged predictions.

pub mod check;
pub mod drift;
pub mod html;
pub mod log;
mod nan;
pub mod observe;
pub mod performance;
pub mod profile;
pub mod sample;
pub mod stats;
pub mod validate;

/// Everything that can go wrong in monitoring.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("monitoring database")]
    Db(#[from] nivesh_store::db::DbError),
    #[error("decoding {what}")]
    Decode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("encoding {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}
