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
    pub fn param(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::InvalidParam { field, message: message.into() }
    }
    pub fn input(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::InvalidInput { field, message: message.into() }
    }
}
