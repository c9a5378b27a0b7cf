use std::sync::Arc;
use thiserror::Error;

/// The error a solver reported, kept as the source of [`ModelError::Training`] (shared, so the
/// error stays `Clone`).
pub type SolverError = Arc<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong inside a model. Each variant says which input or field.
#[derive(Debug, Error, Clone)]
pub enum ModelError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter {field}: {message}")]
    InvalidParam { field: &'static str, message: String },
    /// The training data cannot train this model.
    #[error("training data: {0}")]
    Data(String),
    /// A prediction input was rejected: `field` is its path in the input (`transaction.amount`),
    /// `message` the reason.
    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },
    /// Saved bytes are not a model of this kind, or are damaged.
    #[error("model artifact: {0}")]
    Artifact(String),
    /// Training failed inside a solver (`solver` names it, e.g. `crfs`, `forust`); its error is
    /// the source.
    #[error("training failed in {solver}")]
    Training {
        solver: &'static str,
        #[source]
        source: SolverError,
    },
}

/// Equal when the same variant carries the same values; training failures compare their solver
/// and the source's message (the source itself has no equality).
impl PartialEq for ModelError {
    fn eq(&self, other: &Self) -> bool {
        use ModelError::*;
        match (self, other) {
            (InvalidParam { field: a, message: m }, InvalidParam { field: b, message: n }) => a == b && m == n,
            (InvalidInput { field: a, message: m }, InvalidInput { field: b, message: n }) => a == b && m == n,
            (Data(a), Data(b)) | (Artifact(a), Artifact(b)) => a == b,
            (Training { solver: a, source: s }, Training { solver: b, source: t }) => {
                a == b && s.to_string() == t.to_string()
            }
            _ => false,
        }
    }
}

/// A solver failure that is only a message (a malformed dump line, a thread that panicked).
#[derive(Debug, Error)]
#[error("{0}")]
struct SolverMessage(String);

impl ModelError {
    /// Check a prediction input with its record rules; a failure names the record's own field
    /// under `field` (`transaction.amount: -10 must be positive`).
    pub fn check_record<R: nivesh_core::Record>(record: &R, field: &str) -> Result<(), ModelError> {
        record
            .validate()
            .map_err(|e| ModelError::InvalidInput { field: format!("{field}.{}", e.field), message: e.message })
    }

    pub fn param(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::InvalidParam { field, message: message.into() }
    }
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError::InvalidInput { field: field.into(), message: message.into() }
    }
    /// `solver` failed with `source`.
    pub fn training(solver: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ModelError::Training { solver, source: Arc::new(source) }
    }
    /// `solver` failed, and all it says is `message`.
    pub fn training_message(solver: &'static str, message: impl Into<String>) -> Self {
        ModelError::Training { solver, source: Arc::new(SolverMessage(message.into())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_errors_keep_their_source() {
        let io = std::io::Error::other("disk full");
        let e = ModelError::training("crfs", io);
        assert_eq!(e.to_string(), "training failed in crfs");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk full"));
    }
}
