use thiserror::Error;

/// Everything that can go wrong inside a model. Each variant says which input or field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter {field}: {message}")]
    InvalidParam { field: &'static str, message: String },
    /// The training data cannot train this model.
    #[error("training data: {0}")]
    Data(String),
    /// A prediction input was rejected.
    #[error("{field}: {message}")]
    InvalidInput { field: &'static str, message: String },
    /// Saved bytes are not a model of this kind, or are damaged.
    #[error("model artifact: {0}")]
    Artifact(String),
    /// Training failed inside a solver.
    #[error("training failed: {0}")]
    Training(String),
}

impl ModelError {
    /// Check a prediction input with its record rules; a failure names `field` and the
    /// record's own field (`transaction: amount: -10 must be positive`).
    pub fn check_record<R: nivesh_core::Record>(record: &R, field: &'static str) -> Result<(), ModelError> {
        record.validate().map_err(|e| ModelError::InvalidInput { field, message: e.to_string() })
    }

    pub fn param(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::InvalidParam { field, message: message.into() }
    }
    pub fn input(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::InvalidInput { field, message: message.into() }
    }
}
