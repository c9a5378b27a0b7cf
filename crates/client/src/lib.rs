//! `nivesh-client`: the async Rust client of nivesh-ml's HTTP API.
//!
//! - **Typed**: requests and answers are `nivesh-api`'s types, the ones the server is built
//!   from (not a copy); the five prediction routes are [`Endpoint`]s, called with
//!   [`Client::predict`] / [`Client::predict_batch`] or the named methods.
//! - **Timeouts** per attempt ([`ClientBuilder::timeout`], or per call with
//!   [`Client::with_timeout`]).
//! - **Retries** ([`RetryPolicy`]): exponential backoff with full jitter; `Retry-After`
//!   honoured. Idempotent calls (every prediction, reads, feedback) are retried after a lost
//!   connection, a timeout, 429, 502, 503 or 504; the others (admin actions) only after 429
//!   or 503, which the server answers before doing anything.
//! - **A circuit breaker per route** ([`BreakerConfig`]): while open, calls fail at once with
//!   [`Error::CircuitOpen`] (no network I/O), then probes half-open and closes on success.
//! - **Fallback** ([`ClientBuilder::fallback_to_last_answer`]): when the server fails (not when
//!   it refuses the request), answer a read (a prediction, online features) with the last
//!   answer it gave to the same request, and tell the [`Hooks`]; never a write (feedback).
//! - **Metrics hooks** ([`Hooks`]): attempts, responses with their latency, retries, breaker
//!   transitions, fast failures, fallbacks — to feed Prometheus, OpenTelemetry or logs.

pub mod breaker;
pub mod retry;

pub use breaker::{BreakerConfig, BreakerState};
pub use nivesh_api as api;
pub use nivesh_api::{BatchPredicted, Endpoint, ErrorBody, ModelKind, Predicted, endpoint};
pub use retry::RetryPolicy;

use breaker::{Breaker, Transition};
use nivesh_api::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Everything a call can end in.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error: its status and body (`error_type`, `field`).
    #[error("{route}: HTTP {status} {}: {}", body.error_type, body.error)]
    Api { route: String, status: u16, body: ErrorBody, retry_after: Option<Duration> },
    /// No answer within the timeout.
    #[error("{route}: no answer within {after:?}")]
    Timeout { route: String, after: Duration },
    /// The connection failed (refused, reset, DNS).
    #[error("{route}: connection failed: {message}")]
    Connect { route: String, message: String },
    /// The route's breaker is open: the call was not made.
    #[error("{route}: circuit open, call not made (next probe in {retry_in:?})")]
    CircuitOpen { route: String, retry_in: Duration },
    /// The answer was not the JSON the route promises.
    #[error("{route}: unreadable answer: {message}")]
    Decode { route: String, message: String },
    /// The client was built with settings that cannot work.
    #[error("client configuration: {0}")]
    Config(String),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// The server's `error_type` (`validation_error`, `rate_limited`, …).
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Error::Api { body, .. } => Some(&body.error_type),
            _ => None,
        }
    }
    /// The field a refused value was in (`applicant_data.age`, `inputs[3].query`).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Api { body, .. } => body.field.as_deref(),
            _ => None,
        }
    }
    /// The server failed (or could not be reached), as opposed to refusing the request.
    pub fn is_server_failure(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status >= 500,
            Error::Timeout { .. } | Error::Connect { .. } | Error::CircuitOpen { .. } => true,
            Error::Decode { .. } | Error::Config(_) => false,
        }
    }
}

/// How an attempt ended, for [`Hooks::on_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Status(u16),
    Timeout,
    ConnectFailed,
}

/// Callbacks for metrics and logs; every method does nothing unless overridden. `route` is
/// the route's pattern (`/predict/intent`, `/models/{name}/reload`).
pub trait Hooks: Send + Sync {
    /// Attempt number `attempt` (0 first) is about to be sent.
    fn on_attempt(&self, _route: &str, _attempt: u32) {}
    /// An attempt ended, after `elapsed`.
    fn on_response(&self, _route: &str, _outcome: Outcome, _elapsed: Duration) {}
    /// Retry number `attempt` will be sent after `delay`.
    fn on_retry(&self, _route: &str, _attempt: u32, _delay: Duration) {}
    /// The route's breaker changed state.
    fn on_breaker(&self, _route: &str, _from: BreakerState, _to: BreakerState) {}
    /// A call failed fast: the breaker was open.
    fn on_rejected(&self, _route: &str) {}
    /// The server failed and the last answer to the same request was returned instead.
    fn on_fallback(&self, _route: &str) {}
}

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    breaker: BreakerConfig,
    hooks: Option<Arc<dyn Hooks>>,
    fallback_bytes: usize,
    max_idle_per_host: usize,
}

impl ClientBuilder {
    /// The API key sent as `X-API-Key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// The longest one attempt may take (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The longest opening a connection may take (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// The settings of every route's breaker.
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }
    pub fn hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }
    /// Keep the last answers of reads (predictions, online features) in up to `max_bytes`
    /// (requests and answers; the oldest forgotten first), and give one when the server fails
    /// the byte-identical request again. 0 (the default): off.
    pub fn fallback_to_last_answer(mut self, max_bytes: usize) -> Self {
        self.fallback_bytes = max_bytes;
        self
    }
    /// Idle connections kept per host (default 32).
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle_per_host = n;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let base = self.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!("base URL {base:?}: expected http://… or https://…")));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::Config("timeouts must be above zero".into()));
        }
        self.breaker.validate().map_err(Error::Config)?;
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // another thread may win the race: either way one provider is installed
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(self.max_idle_per_host)
            .user_agent(concat!("nivesh-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let fallback = (self.fallback_bytes > 0).then(|| Mutex::new(Fallback::new(self.fallback_bytes)));
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                base,
                api_key: self.api_key,
                breaker: self.breaker,
                breakers: Mutex::new(HashMap::new()),
                hooks: self.hooks,
                fallback,
            }),
            timeout: self.timeout,
            retry: self.retry,
        })
    }
}

/// The last answers to recent reads, for [`ClientBuilder::fallback_to_last_answer`]: bounded by
/// bytes, the oldest entry forgotten first.
struct Fallback {
    max_bytes: usize,
    bytes: usize,
    answers: HashMap<(String, Vec<u8>), Vec<u8>>,
    order: VecDeque<(String, Vec<u8>)>,
}

impl Fallback {
    fn new(max_bytes: usize) -> Self {
        Fallback { max_bytes, bytes: 0, answers: HashMap::new(), order: VecDeque::new() }
    }
    fn size(key: &(String, Vec<u8>), answer: &[u8]) -> usize {
        key.0.len() + key.1.len() + answer.len()
    }
    fn put(&mut self, key: (String, Vec<u8>), answer: Vec<u8>) {
        let size = Self::size(&key, &answer);
        if size > self.max_bytes {
            return;
        }
        match self.answers.get_mut(&key) {
            Some(old) => {
                self.bytes = self.bytes - old.len() + answer.len();
                *old = answer;
            }
            None => {
                self.bytes += size;
                self.order.push_back(key.clone());
                self.answers.insert(key, answer);
            }
        }
        while self.bytes > self.max_bytes {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(a) = self.answers.remove(&old) {
                self.bytes -= Self::size(&old, &a);
            }
        }
    }
}

struct Shared {
    http: reqwest::Client,
    base: String,
    api_key: Option<String>,
    breaker: BreakerConfig,
    breakers: Mutex<HashMap<String, Arc<Breaker>>>,
    hooks: Option<Arc<dyn Hooks>>,
    fallback: Option<Mutex<Fallback>>,
}

/// A client of one nivesh-ml server. Cheap to clone: clones share connections, breakers and
/// the fallback answers.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    timeout: Duration,
    retry: RetryPolicy,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// How a call may be repeated or stood in for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// A read (a prediction, features): may be sent again, and answered from the fallback.
    Read,
    /// May be sent again, but never answered from the fallback (feedback: it records).
    Idempotent,
    /// Sent again only when the server refused it unprocessed (admin actions).
    Once,
}

/// A breaker's permit while its call runs: recorded with the outcome, or given back if the
/// call's future is dropped first (so an abandoned probe does not hold the half-open slot).
struct Held<'a> {
    breaker: &'a Breaker,
    permit: Option<breaker::Permit>,
}

impl Held<'_> {
    fn record(&mut self, failed: bool) -> Transition {
        self.permit.take().and_then(|p| self.breaker.record(p, failed))
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.breaker.release(p);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    /// A client of the server at `base_url` (`http://ml:8000`), with the defaults: 10 s per
    /// attempt, 2 retries, a breaker per route that opens after 5 failures in a row.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            hooks: None,
            fallback_bytes: 0,
            max_idle_per_host: 32,
        }
    }

    /// This client with another timeout per attempt (sharing connections and breakers).
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client { timeout, ..self.clone() }
    }

    /// This client with another retry policy (sharing connections and breakers).
    pub fn with_retry(&self, retry: RetryPolicy) -> Client {
        Client { retry, ..self.clone() }
    }

    /// Where `route`'s breaker stands (closed for a route not called yet).
    pub fn breaker_state(&self, route: &str) -> BreakerState {
        lock(&self.shared.breakers).get(route).map_or(BreakerState::Closed, |b| b.state())
    }

    fn breaker(&self, route: &str) -> Arc<Breaker> {
        lock(&self.shared.breakers)
            .entry(route.to_string())
            .or_insert_with(|| Arc::new(Breaker::new(self.shared.breaker.clone())))
            .clone()
    }

    fn transition(&self, route: &str, t: Transition) {
        if let (Some((from, to)), Some(h)) = (t, &self.shared.hooks) {
            h.on_breaker(route, from, to);
        }
    }

    fn hook(&self, f: impl FnOnce(&dyn Hooks)) {
        if let Some(h) = &self.shared.hooks {
            f(h.as_ref());
        }
    }

    /// One attempt: the status, `Retry-After` and body, or how it failed.
    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Option<Duration>, Vec<u8>), Outcome> {
        let url = format!("{}{path}", self.shared.base);
        let mut req = match method {
            Method::Get => self.shared.http.get(url),
            Method::Post => self.shared.http.post(url),
        };
        req = req.timeout(self.timeout).header("Accept", "application/json");
        if let Some(key) = &self.shared.api_key {
            req = req.header("X-API-Key", key);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_vec());
        }
        let fail = |e: reqwest::Error| if e.is_timeout() { Outcome::Timeout } else { Outcome::ConnectFailed };
        let resp = req.send().await.map_err(fail)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(fail)?;
        Ok((status, retry_after, bytes.to_vec()))
    }

    /// Call `path` (its pattern `route` names the breaker), with retries, the breaker and the
    /// fallback; the answer's JSON bytes.
    async fn call_bytes(
        &self,
        method: Method,
        route: &str,
        path: &str,
        body: Option<Vec<u8>>,
        policy: Policy,
    ) -> Result<Vec<u8>, Error> {
        let breaker = self.breaker(route);
        let mut attempt = 0u32;
        let error = loop {
            let (permit, t) = breaker.acquire();
            self.transition(route, t);
            let mut permit = match permit {
                Ok(p) => Held { breaker: &breaker, permit: Some(p) },
                Err(retry_in) => {
                    self.hook(|h| h.on_rejected(route));
                    break Error::CircuitOpen { route: route.into(), retry_in };
                }
            };
            self.hook(|h| h.on_attempt(route, attempt));
            let started = Instant::now();
            let result = self.attempt(method, path, body.as_deref()).await;
            let elapsed = started.elapsed();
            let (error, retry_after, retryable) = match result {
                Ok((status, _, bytes)) if (200..300).contains(&status) => {
                    self.transition(route, permit.record(false));
                    self.hook(|h| h.on_response(route, Outcome::Status(status), elapsed));
                    if let (Policy::Read, Some(fb), Some(b)) = (policy, &self.shared.fallback, &body) {
                        lock(fb).put((route.to_string(), b.clone()), bytes.clone());
                    }
                    return Ok(bytes);
                }
                Ok((status, retry_after, bytes)) => {
                    self.transition(route, permit.record(status >= 500));
                    self.hook(|h| h.on_response(route, Outcome::Status(status), elapsed));
                    let body = error_body(&bytes);
                    let retryable = match policy {
                        Policy::Read | Policy::Idempotent => matches!(status, 429 | 502 | 503 | 504),
                        Policy::Once => matches!(status, 429 | 503),
                    };
                    (Error::Api { route: route.into(), status, body, retry_after }, retry_after, retryable)
                }
                Err(outcome) => {
                    self.transition(route, permit.record(true));
                    self.hook(|h| h.on_response(route, outcome, elapsed));
                    match outcome {
                        Outcome::Timeout => {
                            (Error::Timeout { route: route.into(), after: self.timeout }, None, policy != Policy::Once)
                        }
                        _ => (
                            Error::Connect { route: route.into(), message: "the server did not answer".into() },
                            None,
                            // reqwest cannot tell a refused connection from one lost mid-call:
                            // a non-idempotent call is not sent twice
                            policy != Policy::Once,
                        ),
                    }
                }
            };
            if retryable
                && attempt < self.retry.max_retries
                && let Some(delay) = self.retry.delay(attempt, retry_after)
            {
                attempt += 1;
                self.hook(|h| h.on_retry(route, attempt, delay));
                tokio::time::sleep(delay).await;
                continue;
            }
            break error;
        };
        if error.is_server_failure()
            && policy == Policy::Read
            && let (Some(fb), Some(b)) = (&self.shared.fallback, &body)
            && let Some(answer) = lock(fb).answers.get(&(route.to_string(), b.clone())).cloned()
        {
            self.hook(|h| h.on_fallback(route));
            return Ok(answer);
        }
        Err(error)
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        path: &str,
        body: Option<&B>,
        policy: Policy,
    ) -> Result<T, Error> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::Decode { route: route.into(), message: format!("request: {e}") })?;
        let bytes = self.call_bytes(method, route, path, body, policy).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode { route: route.into(), message: e.to_string() })
    }

    async fn get<T: DeserializeOwned>(&self, route: &str, path: &str) -> Result<T, Error> {
        self.call::<(), T>(Method::Get, route, path, None, Policy::Read).await
    }

    // --- predictions

    /// One prediction of `E`'s model: `client.predict::<endpoint::Credit>(&req)`.
    pub async fn predict<E: Endpoint>(&self, req: &E::Request) -> Result<Predicted<E::Output>, Error> {
        let route = predict_route::<E>(false);
        self.call(Method::Post, &route, &route, Some(req), Policy::Read).await
    }

    /// Up to the server's batch limit of predictions, answered in order by one version.
    pub async fn predict_batch<E: Endpoint>(&self, inputs: &[E::Request]) -> Result<BatchPredicted<E::Output>, Error>
    where
        E::Request: Clone,
    {
        let route = predict_route::<E>(true);
        let body = BatchRequest { inputs: inputs.to_vec() };
        self.call(Method::Post, &route, &route, Some(&body), Policy::Read).await
    }

    /// `POST /predict/intent`.
    pub async fn classify_intent(&self, req: &IntentRequest) -> Result<Predicted<IntentPrediction>, Error> {
        self.predict::<endpoint::Intent>(req).await
    }
    /// `POST /predict/ner`.
    pub async fn extract_entities(&self, req: &NerRequest) -> Result<Predicted<NerOutput>, Error> {
        self.predict::<endpoint::Ner>(req).await
    }
    /// `POST /predict/spending`.
    pub async fn forecast_spending(&self, req: &SpendingRequest) -> Result<Predicted<SpendingOutput>, Error> {
        self.predict::<endpoint::Spending>(req).await
    }
    /// `POST /predict/anomaly`.
    pub async fn score_transaction(&self, req: &AnomalyRequest) -> Result<Predicted<AnomalyOutput>, Error> {
        self.predict::<endpoint::Anomaly>(req).await
    }
    /// `POST /predict/credit-risk`.
    pub async fn assess_credit_risk(&self, req: &CreditRequest) -> Result<Predicted<CreditScore>, Error> {
        self.predict::<endpoint::Credit>(req).await
    }

    // --- models, features, monitoring, agents

    /// `GET /models`: the served champions.
    pub async fn models(&self) -> Result<ModelsResponse, Error> {
        self.get("/models", "/models").await
    }
    /// `POST /features/online`.
    pub async fn online_features(&self, req: &OnlineFeaturesRequest) -> Result<OnlineFeaturesResponse, Error> {
        self.call(Method::Post, "/features/online", "/features/online", Some(req), Policy::Read).await
    }
    /// `GET /monitoring/statistics`.
    pub async fn statistics(&self) -> Result<StatisticsResponse, Error> {
        self.get("/monitoring/statistics", "/monitoring/statistics").await
    }
    /// `POST /feedback`: what really happened for a prediction (a later report replaces it).
    pub async fn feedback(&self, req: &FeedbackRequest) -> Result<FeedbackRecorded, Error> {
        self.call(Method::Post, "/feedback", "/feedback", Some(req), Policy::Idempotent).await
    }
    /// `GET /monitoring/drift/{model}`: the last drift check (404 before one ran).
    pub async fn last_drift(&self, model: ModelKind) -> Result<monitoring::DriftReport, Error> {
        self.get("/monitoring/drift/{model}", &format!("/monitoring/drift/{}", model.name())).await
    }
    /// `POST /monitoring/drift/{model}/check`: check the logged traffic of the last `window`
    /// (`7d`, `24h`; default the server's) against the champion's training profile now.
    pub async fn check_drift(&self, model: ModelKind, window: Option<&str>) -> Result<monitoring::DriftReport, Error> {
        let mut path = format!("/monitoring/drift/{}/check", model.name());
        if let Some(w) = window {
            path.push_str(&format!("?window={}", encode(w)));
        }
        self.call::<(), _>(Method::Post, "/monitoring/drift/{model}/check", &path, None, Policy::Idempotent).await
    }
    /// `GET /monitoring/performance/{model}`: the primary metric on the outcomes fed back, per
    /// window, next to the training metric.
    pub async fn performance(&self, model: ModelKind) -> Result<monitoring::Performance, Error> {
        self.get("/monitoring/performance/{model}", &format!("/monitoring/performance/{}", model.name())).await
    }
    /// `GET /tools?format=…`: the agent tools (`openai`, `gemini`, `mcp`; `None`: all three).
    pub async fn tools(&self, format: Option<&str>) -> Result<serde_json::Value, Error> {
        match format {
            Some(f) => self.get("/tools", &format!("/tools?format={}", encode(f))).await,
            None => self.get("/tools", "/tools").await,
        }
    }

    // --- admin (never sent twice unless the server refused it unprocessed)

    /// `POST /models/{name}/reload`: load the model's champion now.
    pub async fn reload_model(&self, model: ModelKind) -> Result<ReloadResponse, Error> {
        let path = format!("/models/{}/reload", model.name());
        self.call::<(), _>(Method::Post, "/models/{name}/reload", &path, None, Policy::Once).await
    }
    /// `POST /cache/clear`.
    pub async fn clear_cache(&self) -> Result<serde_json::Value, Error> {
        self.call::<(), _>(Method::Post, "/cache/clear", "/cache/clear", None, Policy::Once).await
    }

    // --- health (no retries, no breaker: a probe reports what it sees)

    /// `GET /health`: status, models, checks of the dependencies.
    pub async fn health(&self) -> Result<HealthResponse, Error> {
        self.with_retry(RetryPolicy::none()).probe("/health").await
    }
    /// `GET /health/ready`: true when every champion is loaded.
    pub async fn ready(&self) -> Result<bool, Error> {
        match self.with_retry(RetryPolicy::none()).probe::<serde_json::Value>("/health/ready").await {
            Ok(_) => Ok(true),
            Err(Error::Api { status: 503, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn probe<T: DeserializeOwned>(&self, path: &'static str) -> Result<T, Error> {
        match self.attempt(Method::Get, path, None).await {
            Ok((status, _, bytes)) if (200..300).contains(&status) => {
                serde_json::from_slice(&bytes).map_err(|e| Error::Decode { route: path.into(), message: e.to_string() })
            }
            Ok((status, retry_after, bytes)) => {
                Err(Error::Api { route: path.into(), status, body: error_body(&bytes), retry_after })
            }
            Err(Outcome::Timeout) => Err(Error::Timeout { route: path.into(), after: self.timeout }),
            Err(_) => Err(Error::Connect { route: path.into(), message: "the server did not answer".into() }),
        }
    }
}

/// A query value percent-encoded (RFC 3986 unreserved characters kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The server's error body, or (from something else on the way: a proxy's page) its first
/// 200 characters as an `http_error`.
fn error_body(bytes: &[u8]) -> ErrorBody {
    serde_json::from_slice(bytes).unwrap_or_else(|_| ErrorBody {
        error: String::from_utf8_lossy(bytes).chars().take(200).collect(),
        error_type: "http_error".into(),
        field: None,
    })
}

/// `/predict/{route}` (or its `/batch`) of `E`: the path, and the breaker's name.
fn predict_route<E: Endpoint>(batch: bool) -> String {
    if batch { format!("/predict/{}/batch", E::ROUTE) } else { format!("/predict/{}", E::ROUTE) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_keeps_to_its_byte_budget_oldest_first() {
        let key = |n: u8| ("/predict/intent".to_string(), vec![n; 10]);
        // each entry: 15 + 10 + 25 = 50 bytes
        let mut f = Fallback::new(120);
        f.put(key(1), vec![0; 25]);
        f.put(key(2), vec![0; 25]);
        assert_eq!((f.bytes, f.answers.len()), (100, 2));
        f.put(key(3), vec![0; 25]);
        assert_eq!((f.bytes, f.answers.len()), (100, 2));
        assert!(!f.answers.contains_key(&key(1)) && f.answers.contains_key(&key(3)));
        // a new answer to a kept request replaces it in place
        f.put(key(3), vec![1; 5]);
        assert_eq!((f.bytes, f.answers[&key(3)].clone()), (80, vec![1; 5]));
        // one larger than the whole budget is not kept
        f.put(key(4), vec![0; 500]);
        assert!(!f.answers.contains_key(&key(4)) && f.bytes == 80);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("7d"), "7d");
        assert_eq!(encode("1h&x=y z"), "1h%26x%3Dy%20z");
    }
}
