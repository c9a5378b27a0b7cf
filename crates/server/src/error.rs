//! The one error type of the HTTP layer, mapped to a status and a JSON body in one place:
//! `{"error": message, "error_type": kind, "field": name?}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: not JSON, wrong JSON types, unreadable body.
    #[error("{message}")]
    BadRequest { message: String, field: Option<String> },
    /// Well-formed, but a value is not acceptable.
    #[error("{message}")]
    Invalid { message: String, field: Option<String> },
    #[error("missing API key: send X-API-Key or Authorization: Bearer")]
    Unauthorized,
    #[error("invalid API key")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("unsupported Content-Type {0:?}: send application/json")]
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
    /// A bug or an internal failure: logged, reported without detail.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub error_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        ApiError::Invalid { message: format!("{field}: {message}"), field: Some(field) }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) | ApiError::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Invalid { .. } => "validation_error",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Overloaded => "overloaded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout => "timeout",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl From<nivesh_models::ModelError> for ApiError {
    fn from(e: nivesh_models::ModelError) -> Self {
        match e {
            nivesh_models::ModelError::InvalidInput { field, message } => ApiError::invalid(field, message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<nivesh_features::FeatureError> for ApiError {
    fn from(e: nivesh_features::FeatureError) -> Self {
        match e {
            nivesh_features::FeatureError::NotFound(m) => ApiError::NotFound(m),
            nivesh_features::FeatureError::Invalid(m) => ApiError::Invalid { message: m, field: None },
            other => ApiError::Unavailable(format!("feature store: {other}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(detail, "internal error");
        }
        let (message, field) = match &self {
            ApiError::BadRequest { field, .. } | ApiError::Invalid { field, .. } => (self.to_string(), field.clone()),
            _ => (self.to_string(), None),
        };
        let body = ErrorBody { error: message, error_type: self.kind(), field };
        let mut resp = (status, axum::Json(body)).into_response();
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
            _ => {}
        }
        resp
    }
}
