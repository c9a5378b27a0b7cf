//! API keys: when `ML_API_KEYS` is set, protected routes need one of them as `X-API-Key` or
//! `Authorization: Bearer …` (compared in constant time). Missing → 401, wrong → 403. The
//! admin routes take `ML_ADMIN_KEYS` when it is set.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// Equal in time independent of where the bytes differ (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    check(&state.config.api_keys, req, next).await
}

/// The admin routes (reload, cache clear): one of `ML_ADMIN_KEYS` when set, else any API key.
pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let keys = if state.config.admin_keys.is_empty() { &state.config.api_keys } else { &state.config.admin_keys };
    check(keys, req, next).await
}

async fn check(keys: &[String], req: Request, next: Next) -> Response {
    if keys.is_empty() {
        return next.run(req).await;
    }
    match presented_key(req.headers()) {
        None => ApiError::Unauthorized.into_response(),
        Some(k) => {
            // check every key, so the time does not tell which one nearly matched
            let ok = keys.iter().fold(false, |ok, key| ok | constant_time_eq(k.as_bytes(), key.as_bytes()));
            if ok { next.run(req).await } else { ApiError::Forbidden.into_response() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_either_header_and_compared_exactly() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(presented_key(&h), Some("abc"));
        h.insert("x-api-key", "xyz".parse().unwrap());
        assert_eq!(presented_key(&h), Some("xyz"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
