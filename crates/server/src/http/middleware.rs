//! The middleware of the routes, in the order the router applies it: metrics on every request
//! ([`track`]); then, on protected and admin routes, one layer ([`protect`], [`protect_admin`]):
//! the rate and in-flight limits with the timeout, then the API key or user token
//! (`require_key`, `require_admin`). The dashboard's routes take [`limit`] with their own gate.

use crate::auth::{accepted, presented_key};
use crate::error::ApiError;
use crate::state::AppState;
pub use crate::tokens::UserScope;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Instant;

/// Count and time every request by its route pattern (`/models/{name}/reload`, not the path).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let id = request_id(req.headers());
    let method = req.method().clone();
    let started = Instant::now();
    state.metrics.in_flight.inc();
    let mut resp = next.run(req).instrument(tracing::info_span!("request", request_id = %id)).await;
    state.metrics.in_flight.dec();
    let (status, seconds) = (resp.status().as_u16(), started.elapsed().as_secs_f64());
    access_log(&id, method.as_str(), &route, status, seconds, resp.headers());
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    state.metrics.request(route, status, seconds);
    resp
}

const REQUEST_ID: &str = "x-request-id";

/// The caller's `X-Request-Id` when it is a plain token (≤ 64 of `A-Za-z0-9._-`), else a new one.
fn request_id(h: &axum::http::HeaderMap) -> String {
    h.get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(crate::answer::prediction_id)
}

/// One line per request (`target: nivesh::access`): request id, method, route template (never
/// the path's values or the body), status, latency and the model version that answered.
/// Server errors at WARN, refused requests at INFO, the rest at DEBUG (`LOG_LEVEL=debug`, or
/// `RUST_LOG=nivesh::access=debug`, shows every request).
fn access_log(id: &str, method: &str, route: &str, status: u16, seconds: f64, h: &axum::http::HeaderMap) {
    let version = h.get(super::predict::MODEL_VERSION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ms = (seconds * 1e5).round() / 100.0;
    match status {
        500.. => {
            tracing::warn!(target: "nivesh::access", request_id = id, method, route, status, ms, model_version = version)
        }
        400..=499 => {
            tracing::info!(target: "nivesh::access", request_id = id, method, route, status, ms, model_version = version)
        }
        _ => {
            tracing::debug!(target: "nivesh::access", request_id = id, method, route, status, ms, model_version = version)
        }
    }
}

/// The client a rate limit applies to: its API key when that key is valid, else its IP address
/// (so made-up keys cannot each get a fresh allowance).
fn client_of(state: &AppState, req: &Request) -> String {
    if let Some(key) = presented_key(req.headers())
        && (accepted(&state.config.api_keys, key) || accepted(&state.config.admin_keys, key))
    {
        return format!("key:{key}");
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| format!("ip:{}", c.0.ip()))
        .unwrap_or_else(|| "ip:unknown".into())
}

/// 429 over the client's rate, 429 "overloaded" (at once, no queue) without room in flight,
/// 503 past the request timeout.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    within_limits(&state, req, |req| next.run(req)).await
}

/// The protected routes' one layer: [`limit`], then `require_key` inside it — one
/// middleware rather than two, since each layer costs every request its boxed futures.
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    within_limits(&state, req, |req| require_key(&state, req, next)).await
}

/// The admin routes' one layer: [`limit`], then `require_admin` inside it.
pub async fn protect_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    within_limits(&state, req, |req| require_admin(&state, req, next)).await
}

async fn within_limits<F>(state: &AppState, req: Request, run: impl FnOnce(Request) -> F) -> Response
where
    F: std::future::Future<Output = Response>,
{
    let _permit = match state.admit(&client_of(state, &req)) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    state.within_timeout(run(req)).await.unwrap_or_else(IntoResponse::into_response)
}

/// Any of `ML_API_KEYS` (no keys and no user tokens configured: open), or a valid user token
/// (JWT) on a route user tokens may call, which then carries its [`UserScope`] to the handler.
async fn require_key(state: &AppState, mut req: Request, next: Next) -> Response {
    if let Some(tokens) = &state.config.user_tokens {
        // a JWT-shaped string that is one of the API keys is still a key
        let token = presented_key(req.headers())
            .filter(|t| crate::tokens::looks_like_jwt(t) && !accepted(&state.config.api_keys, t))
            .map(str::to_string);
        match token {
            Some(t) => {
                return match tokens.verify(&t) {
                    Err(why) => ApiError::InvalidToken(why).into_response(),
                    Ok(_) if !crate::tokens::user_route(req.uri().path()) => ApiError::NotYours(
                        "a user token may call the prediction routes and /features/online only".into(),
                    )
                    .into_response(),
                    Ok(scope) => {
                        req.extensions_mut().insert(scope);
                        next.run(req).await
                    }
                };
            }
            // user tokens configured and no API keys: every request needs a token
            None if state.config.api_keys.is_empty() => return ApiError::Unauthorized.into_response(),
            None => {}
        }
    }
    check(&state.config.api_keys, req, next).await
}

/// The admin routes: one of `ML_ADMIN_KEYS` when set, else any API key.
async fn require_admin(state: &AppState, req: Request, next: Next) -> Response {
    let keys = if state.config.admin_keys.is_empty() { &state.config.api_keys } else { &state.config.admin_keys };
    if keys.is_empty() && state.config.user_tokens.is_some() {
        // user tokens never reach the admin routes; without keys nothing does
        return ApiError::Unauthorized.into_response();
    }
    check(keys, req, next).await
}

async fn check(keys: &[String], req: Request, next: Next) -> Response {
    if keys.is_empty() {
        return next.run(req).await;
    }
    match presented_key(req.headers()) {
        None => ApiError::Unauthorized.into_response(),
        Some(k) if accepted(keys, k) => next.run(req).await,
        Some(_) => ApiError::Forbidden.into_response(),
    }
}
