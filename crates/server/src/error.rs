//! The one error type of the HTTP layer, mapped to a status and a JSON body in one place:
//! `{"error": message, "error_type": kind, "field": name?}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Where a value is in a request body: `inputs[3].transaction.amount`. Built from parts (or
/// parsed from that notation), never by editing strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// A path from its dotted notation (`applicant_data.monthly_income`, `entities[2].start`).
    pub fn parse(path: &str) -> Self {
        let mut out = Vec::new();
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            if !key.is_empty() {
                out.push(Segment::Key(key.to_string()));
            }
            // indexes: `[2]`, `[2][0]`; anything else inside brackets is kept as a key
            while !rest.is_empty() {
                let (inside, after) = rest.split_once(']').unwrap_or((rest, ""));
                out.push(inside.parse().map_or_else(|_| Segment::Key(inside.to_string()), Segment::Index));
                rest = after.strip_prefix('[').unwrap_or(after);
            }
        }
        FieldPath(out)
    }

    /// The path serde took to a value that failed to deserialise.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        FieldPath(
            path.iter()
                .filter_map(|s| match s {
                    S::Seq { index } => Some(Segment::Index(*index)),
                    S::Map { key } => Some(Segment::Key(key.clone())),
                    S::Enum { variant } => Some(Segment::Key(variant.clone())),
                    S::Unknown => None,
                })
                .collect(),
        )
    }

    /// This path inside item `index` of a batch: `inputs[index].<self>`.
    pub fn in_batch(self, index: usize) -> Self {
        let mut out = vec![Segment::Key("inputs".into()), Segment::Index(index)];
        out.extend(self.0);
        FieldPath(out)
    }

    /// `self` followed by `rest`.
    pub fn join(mut self, rest: FieldPath) -> Self {
        self.0.extend(rest.0);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for FieldPath {
    fn from(path: &str) -> Self {
        FieldPath::parse(path)
    }
}

impl From<String> for FieldPath {
    fn from(path: String) -> Self {
        FieldPath::parse(&path)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// `field: reason`, or the reason alone.
fn with_field(field: &Option<FieldPath>, reason: &str) -> String {
    match field {
        Some(f) if !f.is_empty() => format!("{f}: {reason}"),
        _ => reason.to_string(),
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: not JSON, unreadable body.
    #[error("{message}")]
    BadRequest { message: String },
    /// Well-formed, but a value is not acceptable; `field` says which.
    #[error("{}", with_field(.field, .reason))]
    Invalid { field: Option<FieldPath>, reason: String },
    #[error("missing API key: send X-API-Key or Authorization: Bearer")]
    Unauthorized,
    #[error("invalid API key")]
    Forbidden,
    /// A user token that does not verify (expired, wrong signature, issuer or audience).
    #[error("{0}")]
    InvalidToken(String),
    /// A user token asking for another user's data, or for a route user tokens may not call.
    #[error("{0}")]
    NotYours(String),
    #[error("{0}")]
    NotFound(String),
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// What is unsupported, in words (`Content-Type "text/csv": send application/json`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("rate limit exceeded; retry after {0} s")]
    RateLimited(u64),
    #[error("server overloaded: too many requests in flight; retry shortly")]
    Overloaded,
    /// A model or a dependency is not ready.
    #[error("{0}")]
    Unavailable(String),
    #[error("request timed out")]
    Timeout,
    /// The request conflicts with work in progress (a training run is already running).
    #[error("{0}")]
    Conflict(String),
    /// A bug or an internal failure: logged, reported without detail.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error (its one definition is in `nivesh-api`).
pub use nivesh_api::ErrorBody;

impl ApiError {
    /// `field` (a path, `applicant_data.age`) holds a value that is refused for `reason`.
    pub fn invalid(field: impl Into<FieldPath>, reason: impl Into<String>) -> Self {
        ApiError::Invalid { field: Some(field.into()), reason: reason.into() }
    }

    /// The same error, for item `index` of a batch: the field becomes `inputs[index].…`.
    pub fn in_batch(self, index: usize) -> Self {
        match self {
            ApiError::Invalid { field, reason } => {
                ApiError::Invalid { field: Some(field.unwrap_or_default().in_batch(index)), reason }
            }
            other => other,
        }
    }

    /// The error as every protocol tells it: message, kind, and the refused field if any.
    pub fn body(&self) -> ErrorBody {
        let field = match self {
            ApiError::Invalid { field: Some(f), .. } if !f.is_empty() => {
                Some(nivesh_core::redact::redact(&f.to_string()))
            }
            _ => None,
        };
        ErrorBody { error: self.message(), error_type: self.kind().to_string(), field }
    }

    /// The message callers see: values a request carried are echoed in it (`no spending history
    /// for user …`, `invalid type: string …`), so identifiers and secrets are redacted
    /// (`nivesh_core::redact`: PANs, Aadhaar and card numbers, passwords, bearer tokens, URL
    /// credentials), as in the logs.
    pub fn message(&self) -> String {
        nivesh_core::redact::redact(&self.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::NotYours(_) => StatusCode::FORBIDDEN,
            ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) | ApiError::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Invalid { .. } => "validation_error",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden | ApiError::NotYours(_) => "forbidden",
            ApiError::InvalidToken(_) => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Overloaded => "overloaded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout => "timeout",
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl From<nivesh_models::ModelError> for ApiError {
    fn from(e: nivesh_models::ModelError) -> Self {
        match e {
            nivesh_models::ModelError::InvalidInput { field, message } => ApiError::invalid(field, message),
            other => ApiError::Internal(nivesh_core::error_chain(&other)),
        }
    }
}

impl From<nivesh_features::FeatureError> for ApiError {
    fn from(e: nivesh_features::FeatureError) -> Self {
        use nivesh_features::FeatureError as F;
        match e {
            F::NotFound(m) => ApiError::NotFound(m),
            F::Invalid(reason) => ApiError::Invalid { field: None, reason },
            F::Model(m) => m.into(),
            other => ApiError::Unavailable(format!("feature store: {}", nivesh_core::error_chain(&other))),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    /// A blocking task that panicked or was cancelled.
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(detail, "internal error");
        }
        let mut resp = (status, axum::Json(self.body())).into_response();
        match &self {
            ApiError::RateLimited(secs) => {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Overloaded | ApiError::Unavailable(_) | ApiError::Timeout => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unauthorized => {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::InvalidToken(_) => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_parse_print_and_nest_in_batches() {
        for p in ["query", "applicant_data.monthly_income", "entities[2].start", "inputs[1].transactions[0][3]"] {
            assert_eq!(FieldPath::parse(p).to_string(), p);
        }
        let e = ApiError::invalid("transaction.amount", "-5 must be positive").in_batch(3);
        assert_eq!(e.to_string(), "inputs[3].transaction.amount: -5 must be positive");
        assert!(
            matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "inputs[3].transaction.amount")
        );
        // an error without a field names the batch item
        let e = ApiError::Invalid { field: None, reason: "no such view".into() }.in_batch(0);
        assert_eq!(e.to_string(), "inputs[0]: no such view");
        assert_eq!(ApiError::invalid("", "bad").to_string(), "bad");
    }
}
