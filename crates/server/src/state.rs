//! What every request shares: the loaded champions (swapped atomically on reload), the
//! registry and artifact store they come from, the feature store, limits, cache, metrics and
//! statistics.

use crate::cache::PredictionCache;
use crate::prometheus::Metrics;
use crate::served::{ForKind, Loaded, Models, Served, for_kind};
use crate::stats::Stats;
use crate::types::ModelInfo;
use nivesh_features::FeatureStore;
use nivesh_models::ModelKind;
use nivesh_store::{ArtifactStore, Registry};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Limits and switches of the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Accepted API keys; empty: no authentication.
    pub api_keys: Vec<String>,
    /// Keys for the admin routes; empty: any API key.
    pub admin_keys: Vec<String>,
    /// Open connections at most; past it new ones wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a request's headers within this (slow or stalled clients are cut).
    pub header_read_timeout: Duration,
    /// The backend's user tokens (JWT), scoped to their subject; `None`: not accepted.
    pub user_tokens: Option<std::sync::Arc<crate::tokens::UserTokens>>,
    pub cors_origins: Vec<String>,
    /// `Host` names MCP's streamable HTTP transport (`/mcp`) answers (DNS-rebinding guard);
    /// empty: any.
    pub mcp_allowed_hosts: Vec<String>,
    pub max_batch: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_in_flight: usize,
    /// Requests per second per API key (or client IP), with a burst allowance.
    pub rate_limit_per_second: f64,
    pub rate_limit_burst: f64,
    /// How often the registry is polled for new champions.
    pub reload_interval: Duration,
    /// Byte budget of the prediction cache (0 disables it).
    pub cache_bytes: u64,
    /// Which answers the prediction cache keeps.
    pub cache_admission: crate::cache::Admission,
    /// MLflow server to report in /health (optional dependency).
    pub mlflow_uri: Option<String>,
    /// Redis as the shared second level of the prediction cache.
    pub redis_cache_url: Option<String>,
    /// What `POST /admin/train` runs (its `models` pick from this spec); `None`: training over
    /// HTTP is off (503).
    pub training: Option<nivesh_training::TrainSpec>,
    /// The prediction log (when a monitoring store is given); `None`: predictions are not logged.
    pub log: Option<nivesh_monitor::log::LogConfig>,
    /// Drift checks: the periodic one, the window and thresholds, retraining on drift.
    pub drift: DriftConfig,
}

/// How the server checks drift.
#[derive(Debug, Clone)]
pub struct DriftConfig {
    /// Check every model this often (with a monitoring store); `None`: only when asked.
    pub interval: Option<Duration>,
    /// The current window: the last this long.
    pub window: Duration,
    pub options: nivesh_monitor::drift::Options,
    /// Start a training run for the models a periodic check finds drifted.
    pub retrain: bool,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            interval: None,
            window: Duration::from_secs(7 * 86_400),
            options: nivesh_monitor::drift::Options::default(),
            retrain: false,
        }
    }
}

/// Loopback only, with or without a port: the safe default for a server that binds 127.0.0.1.
pub fn default_mcp_hosts() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_keys: Vec::new(),
            admin_keys: Vec::new(),
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            user_tokens: None,
            cors_origins: Vec::new(),
            mcp_allowed_hosts: default_mcp_hosts(),
            max_batch: 256,
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            max_in_flight: 1024,
            rate_limit_per_second: 1000.0,
            rate_limit_burst: 2000.0,
            reload_interval: Duration::from_secs(10),
            cache_bytes: 16 * 1024 * 1024,
            cache_admission: crate::cache::Admission::default(),
            mlflow_uri: None,
            redis_cache_url: None,
            training: None,
            log: Some(nivesh_monitor::log::LogConfig::default()),
            drift: DriftConfig::default(),
        }
    }
}

pub struct Inner {
    pub config: ServerConfig,
    pub registry: Arc<Registry>,
    pub artifacts: ArtifactStore,
    pub features: Option<Arc<FeatureStore>>,
    pub models: Models,
    pub metrics: Metrics,
    pub stats: Stats,
    pub cache: PredictionCache,
    pub limiter: crate::limits::RateLimiter,
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Training runs started over HTTP.
    pub jobs: crate::jobs::Jobs,
    /// The monitoring store: prediction log, feedback, drift history.
    pub monitor: Option<Arc<nivesh_monitor::log::LogStore>>,
    /// The prediction log's writer, when logging is on.
    pub log: Option<nivesh_monitor::log::PredictionLog>,
    training_features: std::sync::OnceLock<Arc<FeatureStore>>,
    /// Why the feature store could not be opened (a damaged file, Redis unreachable at start):
    /// served without it, and `/health` says so.
    features_error: std::sync::OnceLock<String>,
    pub started: Instant,
    /// Redis was configured for the cache but did not answer at start (location).
    pub cache_redis_unreachable: Option<String>,
    startup_complete: AtomicBool,
    reload_lock: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What a reload of one model did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReloadOutcome {
    Unchanged(u32),
    Loaded { from: Option<u32>, to: u32 },
    NoChampion,
}

impl AppState {
    /// The state, with the prediction cache's Redis level when configured (an unreachable Redis
    /// is logged and reported by `/health`; the server runs without it).
    pub async fn build(
        config: ServerConfig,
        registry: Arc<Registry>,
        artifacts: ArtifactStore,
        features: Option<Arc<FeatureStore>>,
    ) -> Self {
        Self::build_with(config, registry, artifacts, features, None).await
    }

    /// [`AppState::build`] with a monitoring store: predictions are logged there (when
    /// `config.log` is set) and drift checks and feedback use it.
    pub async fn build_with(
        config: ServerConfig,
        registry: Arc<Registry>,
        artifacts: ArtifactStore,
        features: Option<Arc<FeatureStore>>,
        monitor: Option<Arc<nivesh_monitor::log::LogStore>>,
    ) -> Self {
        let mut cache = PredictionCache::new(config.cache_bytes, config.cache_admission);
        let mut cache_redis_unreachable = None;
        if let Some(url) = &config.redis_cache_url
            && let Err(e) = cache.add_redis(url).await
        {
            let at = nivesh_core::redact::redact_url(url);
            tracing::warn!(redis = %at, error = %e, "prediction cache: Redis unreachable; serving with the in-process cache only");
            cache_redis_unreachable = Some(at);
        }
        let metrics = Metrics::new();
        let limiter = crate::limits::RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(config.max_in_flight));
        let log = match (&monitor, &config.log) {
            (Some(store), Some(c)) => Some(nivesh_monitor::log::PredictionLog::start(store.clone(), c.clone())),
            _ => None,
        };
        AppState(Arc::new(Inner {
            config,
            registry,
            artifacts,
            features,
            models: Models::default(),
            metrics,
            stats: Stats::default(),
            cache,
            limiter,
            in_flight,
            jobs: crate::jobs::Jobs::default(),
            log,
            monitor,
            training_features: std::sync::OnceLock::new(),
            features_error: std::sync::OnceLock::new(),
            started: Instant::now(),
            cache_redis_unreachable,
            startup_complete: AtomicBool::new(false),
            reload_lock: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn startup_complete(&self) -> bool {
        self.startup_complete.load(Ordering::Acquire)
    }

    /// The loaded version of `kind`, if any.
    pub fn info(&self, kind: ModelKind) -> Option<ModelInfo> {
        struct Info<'a>(&'a Models);
        impl ForKind for Info<'_> {
            type Output = Option<ModelInfo>;
            fn call<M: Served>(self) -> Option<ModelInfo> {
                M::slot(self.0).info()
            }
        }
        for_kind(kind, Info(&self.models))
    }

    /// Every model's info, loaded ones only.
    pub fn loaded(&self) -> Vec<ModelInfo> {
        ModelKind::ALL.into_iter().filter_map(|k| self.info(k)).collect()
    }

    /// Load every champion (at start), then mark startup complete.
    pub async fn load_all(&self) {
        for kind in ModelKind::ALL {
            match self.reload(kind).await {
                Ok(outcome) => tracing::info!(model = kind.name(), ?outcome, "model load"),
                Err(e) => tracing::error!(model = kind.name(), error = %format!("{e:#}"), "model load failed"),
            }
        }
        self.startup_complete.store(true, Ordering::Release);
    }

    /// Load `kind`'s champion if it is not the version being served. A version that fails to
    /// load is logged and counted; the old one keeps serving.
    pub async fn reload(&self, kind: ModelKind) -> anyhow::Result<ReloadOutcome> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let state = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            struct Reload<'a>(&'a AppState);
            impl ForKind for Reload<'_> {
                type Output = anyhow::Result<ReloadOutcome>;
                fn call<M: Served>(self) -> Self::Output {
                    self.0.reload_slot::<M>()
                }
            }
            for_kind(kind, Reload(&state))
        })
        .await?;
        if result.is_err() {
            self.metrics.model_load_failure(kind.name());
        }
        result
    }

    fn reload_slot<M: Served>(&self) -> anyhow::Result<ReloadOutcome> {
        let name = M::MODEL.registry_name();
        let slot = M::slot(&self.models);
        let Some(v) = self.registry.alias(name, "champion")? else { return Ok(ReloadOutcome::NoChampion) };
        let current = slot.info().map(|i| i.version);
        if current == Some(v.version) {
            return Ok(ReloadOutcome::Unchanged(v.version));
        }
        let bytes = self.artifacts.get(&v.digest)?;
        let model = M::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{name} v{}: {e}", v.version))?;
        let run = self.registry.run(&v.run_id).ok();
        let metrics = run
            .map(|r| {
                serde_json::Value::Object(
                    r.metrics
                        .into_iter()
                        .filter(|(_, step, _)| *step == 0)
                        .map(|(k, _, x)| (k, serde_json::json!(x)))
                        .collect(),
                )
            })
            .unwrap_or_default();
        let info = ModelInfo {
            name: name.to_string(),
            version: v.version,
            alias: "champion".into(),
            metric_name: v.metric_name.clone(),
            metric: v.metric,
            metrics,
            digest: v.digest.0.clone(),
            loaded_at: chrono::Utc::now().to_rfc3339(),
        };
        slot.cell.store(Some(Arc::new(Loaded { model, info })));
        tracing::info!(model = name, from = ?current, to = v.version, "champion loaded");
        Ok(ReloadOutcome::Loaded { from: current, to: v.version })
    }

    /// The feature store training runs use: a second one, with its own connections, so a run
    /// never holds the serving store's (set once, before serving; else the serving one).
    pub fn set_training_features(&self, features: Arc<FeatureStore>) {
        let _ = self.training_features.set(features);
    }

    /// Record that the feature store did not open, and why (reported by `/health`).
    pub fn set_features_error(&self, error: String) {
        let _ = self.features_error.set(error);
    }

    pub fn features_error(&self) -> Option<&str> {
        self.features_error.get().map(String::as_str)
    }

    /// Run `spec` in the background as `job`: the pipeline on the blocking pool, then the
    /// champions of the models that succeeded loaded at once, then the job's final state and
    /// room for the next run in one step (also if anything here panics).
    pub fn run_training(&self, spec: nivesh_training::TrainSpec, job: crate::jobs::JobHandle) {
        /// Finishes the job when dropped: with the run's result, or as stopped.
        struct Finish {
            state: AppState,
            job: crate::jobs::JobHandle,
            result: Option<Option<String>>,
        }
        impl Drop for Finish {
            fn drop(&mut self) {
                let error = self.result.take().unwrap_or_else(|| Some("the training run stopped unexpectedly".into()));
                self.state.jobs.finish(&self.job, error);
            }
        }
        let state = self.clone();
        tokio::spawn(async move {
            let mut finish = Finish { state: state.clone(), job: job.clone(), result: None };
            let progress = state.jobs.progress(&job);
            progress.running();
            let st = state.clone();
            let ran = tokio::task::spawn_blocking(move || {
                let features = match st.training_features.get().or(st.features.as_ref()) {
                    Some(fs) => nivesh_training::Features::Store(fs),
                    None => nivesh_training::Features::Files,
                };
                let pipeline = nivesh_training::Pipeline {
                    registry: &st.registry,
                    artifacts: &st.artifacts,
                    features,
                    mlflow_uri: st.config.mlflow_uri.as_deref(),
                };
                let mut progress = st.jobs.progress(&job);
                pipeline.run(&spec, &mut progress).map(|outcomes| outcomes.len())
            })
            .await;
            let error = match ran {
                Ok(Ok(n)) => {
                    tracing::info!(models = n, "training run finished");
                    None
                }
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(e) => Some(format!("the training run stopped: {e}")),
            };
            for kind in progress.succeeded() {
                if let Err(e) = state.reload(kind).await {
                    tracing::warn!(model = kind.name(), error = %format!("{e:#}"), "after training: the champion did not load");
                }
            }
            if let Some(e) = &error {
                tracing::error!(error = %e, "training run failed");
            }
            finish.result = Some(error);
        });
    }

    /// Check `kind`'s logged traffic of the last `window` against its champion's training
    /// profile, keep the report (history, Prometheus) and return it.
    pub async fn check_drift(
        &self,
        kind: ModelKind,
        window: Duration,
    ) -> Result<nivesh_monitor::drift::DriftReport, crate::error::ApiError> {
        use crate::error::ApiError;
        let store = self
            .monitor
            .clone()
            .ok_or_else(|| ApiError::Unavailable("monitoring is not configured on this server".into()))?;
        let st = self.clone();
        let report = tokio::task::spawn_blocking(move || {
            let (version, profile) = nivesh_training::pipeline::champion_profile(&st.registry, &st.artifacts, kind)
                .map_err(|e| ApiError::Unavailable(format!("{e:#}")))?
                .ok_or_else(|| ApiError::NotFound(format!("{kind} has no champion with a training profile")))?;
            let now = chrono::Utc::now().timestamp_millis();
            let check = nivesh_monitor::check::Check {
                model: kind,
                version: Some(version),
                from_ms: now - window.as_millis().min(i64::MAX as u128) as i64,
                to_ms: now + 1,
                reference: nivesh_monitor::check::Reference::Training(Box::new(profile)),
                options: st.config.drift.options,
            };
            nivesh_monitor::check::run_and_save(&store, &check, now).map(|c| c.report).map_err(|e| match e {
                nivesh_monitor::MonitorError::NotFound(m) => ApiError::NotFound(m),
                other => ApiError::Unavailable(format!("monitoring store: {}", nivesh_core::error_chain(&other))),
            })
        })
        .await??;
        self.metrics.drift(&report);
        Ok(report)
    }

    /// Every `drift.interval`, check each model (those without traffic are skipped); with
    /// `drift.retrain`, start a training run of the models that drifted. Until `stop`.
    pub fn spawn_drift_checker(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let interval = self.config.drift.interval?;
        self.monitor.as_ref()?;
        let state = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let mut drifted = Vec::new();
                for kind in ModelKind::ALL {
                    match state.check_drift(kind, state.config.drift.window).await {
                        Ok(r) if r.drift_detected => {
                            tracing::warn!(model = kind.name(), share = r.drift_share, "drift detected");
                            drifted.push(kind);
                        }
                        Ok(r) => tracing::info!(model = kind.name(), share = r.drift_share, "no drift"),
                        Err(crate::error::ApiError::NotFound(why)) => {
                            tracing::debug!(model = kind.name(), why, "drift check skipped")
                        }
                        Err(e) => tracing::warn!(model = kind.name(), error = %e, "drift check failed"),
                    }
                }
                if state.config.drift.retrain && !drifted.is_empty() {
                    state.retrain(&drifted);
                }
            }
        }))
    }

    /// Start a training run of `kinds` (as `POST /admin/train` would), unless one is running.
    pub fn retrain(&self, kinds: &[ModelKind]) {
        let Some(spec) = self.config.training.as_ref().and_then(|t| t.with_models(kinds).ok()) else {
            tracing::warn!("retraining on drift: training is not configured on this server");
            return;
        };
        match self.jobs.start(kinds) {
            Ok(job) => {
                tracing::info!(models = ?kinds.iter().map(|k| k.name()).collect::<Vec<_>>(), "retraining on drift");
                self.run_training(spec, job);
            }
            Err(running) => tracing::info!(running, "retraining on drift: a training run is already going"),
        }
    }

    /// Admit one request of `client` (its API key, else its address), for every protocol: over
    /// its rate → `RateLimited` (counted), no room in flight → `Overloaded` at once (no queue).
    /// The permit is the request's room in flight: hold it until the request ends.
    pub fn admit(&self, client: &str) -> Result<tokio::sync::OwnedSemaphorePermit, crate::error::ApiError> {
        if let Err(retry) = self.limiter.check(client) {
            self.metrics.rate_limited();
            return Err(crate::error::ApiError::RateLimited(retry));
        }
        self.in_flight.clone().try_acquire_owned().map_err(|_| crate::error::ApiError::Overloaded)
    }

    /// `work` within the request timeout (else `Timeout`).
    pub async fn within_timeout<T>(
        &self,
        work: impl std::future::Future<Output = T>,
    ) -> Result<T, crate::error::ApiError> {
        tokio::time::timeout(self.config.request_timeout, work).await.map_err(|_| crate::error::ApiError::Timeout)
    }

    /// Write what the prediction log holds and stop its writer (at shutdown).
    pub async fn close_log(&self) {
        let state = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(log) = &state.log {
                log.close();
            }
        })
        .await;
    }

    /// Poll the registry every `reload_interval` and load changed champions, until `stop`.
    pub fn spawn_reloader(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.reload_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                for kind in ModelKind::ALL {
                    if let Err(e) = state.reload(kind).await {
                        tracing::warn!(model = kind.name(), error = %format!("{e:#}"), "hot swap: the new champion did not load; the old one keeps serving");
                    }
                }
            }
        })
    }
}
