//! The store's one error type: artifacts, registry and the database under them.

use crate::db::DbError;
use std::path::Path;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: corrupt artifact: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("registry database")]
    Db(#[from] DbError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io { path: path.display().to_string(), source }
    }
}
