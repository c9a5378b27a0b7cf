//! Prometheus metrics (`/metrics`, text format): requests by route and status, latency
//! histograms with microsecond-resolution buckets, predictions by model and version, cache
//! hits and misses, model load failures, requests in flight, rate-limited requests; the
//! prediction log's written and dropped rows; the last drift check of each model (score per
//! feature and test, detected, share); agent tool calls by tool and outcome; champions loaded,
//! ready, and whether the cache's Redis answers (the alert rules in `deploy/prometheus/`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelVersion {
    model: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Model {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolOutcome {
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DriftColumn {
    model: String,
    feature: String,
    test: String,
}

type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram>,
    predictions: Family<ModelVersion, Counter>,
    cache_hits: Family<Model, Counter>,
    cache_misses: Family<Model, Counter>,
    load_failures: Family<Model, Counter>,
    pub in_flight: Gauge,
    rate_limited: Counter,
    log_written: Gauge,
    log_dropped: Gauge,
    drift_score: Family<DriftColumn, FloatGauge>,
    drift_detected: Family<Model, Gauge>,
    drift_share: Family<Model, FloatGauge>,
    tool_calls: Family<ToolOutcome, Counter>,
    models_loaded: Gauge,
    ready: Gauge,
    cache_redis_up: Gauge,
}

fn latency_histogram() -> Histogram {
    // 10 µs … ~10 s, ×2 per bucket
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.000_01, 2.0, 21))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nivesh");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency = Family::<Route, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let predictions = Family::<ModelVersion, Counter>::default();
        let cache_hits = Family::<Model, Counter>::default();
        let cache_misses = Family::<Model, Counter>::default();
        let load_failures = Family::<Model, Counter>::default();
        let in_flight = Gauge::default();
        let rate_limited = Counter::default();
        let (log_written, log_dropped) = (Gauge::default(), Gauge::default());
        let drift_score = Family::<DriftColumn, FloatGauge>::default();
        let drift_detected = Family::<Model, Gauge>::default();
        let drift_share = Family::<Model, FloatGauge>::default();
        let tool_calls = Family::<ToolOutcome, Counter>::default();
        let (models_loaded, ready, cache_redis_up) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        registry.register("predictions", "Predictions by model and version", predictions.clone());
        registry.register("cache_hits", "Prediction cache hits by model", cache_hits.clone());
        registry.register("cache_misses", "Prediction cache misses by model", cache_misses.clone());
        registry.register("model_load_failures", "Champion versions that failed to load", load_failures.clone());
        registry.register("http_requests_in_flight", "Requests being served", in_flight.clone());
        registry.register("rate_limited", "Requests refused by the rate limit", rate_limited.clone());
        registry.register("prediction_log_written_rows", "Predictions written to the log", log_written.clone());
        registry.register(
            "prediction_log_dropped_rows",
            "Predictions not logged because the log's queue was full",
            log_dropped.clone(),
        );
        registry.register("drift_score", "Last drift check: the score of each feature's test", drift_score.clone());
        registry.register(
            "drift_detected",
            "Last drift check: 1 if the model's inputs drifted",
            drift_detected.clone(),
        );
        registry.register("drift_share", "Last drift check: the share of drifted features", drift_share.clone());
        registry.register("models_loaded", "Champions loaded and serving", models_loaded.clone());
        registry.register(
            "ready",
            "1 when every champion is loaded (the readiness probe also checks the stores)",
            ready.clone(),
        );
        registry.register(
            "cache_redis_up",
            "The prediction cache's Redis: 1 answering, 0 degraded (in-process cache only), -1 not configured",
            cache_redis_up.clone(),
        );
        registry.register(
            "tool_calls",
            "Agent tool calls (MCP) by tool and outcome (ok or the error type)",
            tool_calls.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            predictions,
            cache_hits,
            cache_misses,
            load_failures,
            in_flight,
            rate_limited,
            log_written,
            log_dropped,
            drift_score,
            drift_detected,
            drift_share,
            tool_calls,
            models_loaded,
            ready,
            cache_redis_up,
        }
    }

    /// The prediction log's counters (set before each render).
    pub fn log(&self, written: u64, dropped: u64) {
        self.log_written.set(written.min(i64::MAX as u64) as i64);
        self.log_dropped.set(dropped.min(i64::MAX as u64) as i64);
    }

    /// A model's last drift check.
    pub fn drift(&self, report: &nivesh_monitor::drift::DriftReport) {
        for d in report.features.iter().chain(&report.prediction) {
            let test =
                serde_json::to_value(d.test).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let labels = DriftColumn { model: report.model.clone(), feature: d.feature.clone(), test };
            self.drift_score.get_or_create(&labels).set(d.score);
        }
        let m = Model { model: report.model.clone() };
        self.drift_detected.get_or_create(&m).set(i64::from(report.drift_detected));
        self.drift_share.get_or_create(&m).set(report.drift_share);
    }

    pub fn prediction(&self, model: &str, version: u32, cache_hit: bool) {
        self.predictions.get_or_create(&ModelVersion { model: model.into(), version: version.to_string() }).inc();
        let m = Model { model: model.into() };
        if cache_hit {
            self.cache_hits.get_or_create(&m).inc();
        } else {
            self.cache_misses.get_or_create(&m).inc();
        }
    }

    pub fn model_load_failure(&self, model: &str) {
        self.load_failures.get_or_create(&Model { model: model.into() }).inc();
    }

    /// What is serving (set before each render): champions loaded, ready, the cache's Redis.
    pub fn serving(&self, models_loaded: usize, ready: bool, redis: Option<bool>) {
        self.models_loaded.set(models_loaded as i64);
        self.ready.set(i64::from(ready));
        self.cache_redis_up.set(redis.map_or(-1, i64::from));
    }

    /// An agent's call of `tool`: `ok`, `unknown` or the error type.
    pub fn tool_call(&self, tool: &str, outcome: &str) {
        self.tool_calls.get_or_create(&ToolOutcome { tool: tool.into(), outcome: outcome.into() }).inc();
    }

    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// A request to `route` (its pattern) answered with `status` after `seconds`.
    pub fn request(&self, route: String, status: u16, seconds: f64) {
        self.requests.get_or_create(&RouteStatus { route: route.clone(), status }).inc();
        self.latency.get_or_create(&Route { route }).observe(seconds);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
