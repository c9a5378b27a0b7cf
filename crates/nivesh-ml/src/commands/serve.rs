//! `nivesh-ml serve`: bootstrap what is missing (in a child process: sample data, champions,
//! feature store), then serve the champions over HTTP until SIGTERM/SIGINT.

use super::{Globals, bootstrap};
use crate::cli::ServeArgs;
use crate::config::Config;
use anyhow::Context;
use nivesh_server::{AppState, ServerConfig};
use nivesh_training::{DataSource, TrainSpec};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What a server's state is built on (`serve`, `mcp`): the registry and artifacts, and the
/// feature and monitoring stores when they open (a warning on stderr when they do not).
pub(super) struct Serving {
    pub registry: nivesh_store::Registry,
    pub artifacts: nivesh_store::ArtifactStore,
    pub features: Option<Arc<nivesh_features::FeatureStore>>,
    /// Why the feature store did not open (reported by `/health`).
    pub features_error: Option<String>,
    pub monitor: Option<Arc<nivesh_monitor::log::LogStore>>,
    pub log: Option<nivesh_monitor::log::LogConfig>,
}

impl Serving {
    pub fn open(config: &Config) -> anyhow::Result<Serving> {
        let (registry, artifacts) = super::stores::registry(config)?;
        let (features, features_error) = match super::stores::features(config, None) {
            Ok(f) => (Some(Arc::new(f)), None),
            Err(e) => {
                let why = nivesh_core::redact::redact(&format!("{e:#}"));
                eprintln!("warning: feature store unavailable (serving without it; /health says so): {why}");
                (None, Some(why))
            }
        };
        let monitor = match super::stores::monitor(config) {
            Ok(m) => Some(Arc::new(m)),
            Err(e) => {
                eprintln!("warning: monitoring store unavailable, predictions are not logged: {e:#}");
                None
            }
        };
        let log = (config.prediction_log_sample_rate > 0.0).then(|| nivesh_monitor::log::LogConfig {
            sample_rate: config.prediction_log_sample_rate,
            retention_days: config.prediction_log_retention_days,
            retention_rows: config.prediction_log_retention_rows,
            ..nivesh_monitor::log::LogConfig::default()
        });
        Ok(Serving { registry, artifacts, features, features_error, monitor, log })
    }
}

/// The blocking pool's bound. tokio's default (512) let a load on the routes that read the
/// feature store start ~100 threads on two cores, all queued on one database connection: ~13 MB
/// of stacks and allocator caches, and no throughput (docs/BENCHMARKS.md, "Memory"). 8 per
/// core, at least 16: on two cores 8 threads cost the anomaly route ~10 % more CPU per request
/// than 512, 16 and 64 the same as 512.
fn blocking_threads(asked: Option<usize>, cores: usize) -> usize {
    match asked {
        // the flag refuses 0; tokio panics on a bound of 0, so it is kept out here too
        Some(n) => n.max(1),
        None => (8 * cores).max(16),
    }
}

pub fn run(args: ServeArgs, config: &Config, globals: &Globals) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if !args.no_bootstrap && !bootstrap::missing(config).context("bootstrap")?.nothing() {
        bootstrap::in_child(globals).context("bootstrap")?;
    }
    let mut host = args.host.clone().unwrap_or_else(|| config.host.clone());
    let tokens = config.jwt_secret.is_some() || config.jwt_jwks_file.is_some();
    if config.api_keys.is_empty() && !tokens && !is_loopback(&host) && !args.allow_unauthenticated {
        println!(
            "warning: ML_API_KEYS is empty, so the server binds to 127.0.0.1 instead of {host}; set ML_API_KEYS, or pass --allow-unauthenticated"
        );
        host = "127.0.0.1".into();
    } else if config.api_keys.is_empty() && !tokens {
        println!("note: ML_API_KEYS is empty: requests are not authenticated");
    }
    let port = args.port.unwrap_or(config.port);
    let Serving { registry, artifacts, features, features_error, monitor, log } = Serving::open(config)?;
    let drift = nivesh_server::state::DriftConfig {
        interval: config.drift_check_interval,
        window: config.drift_window,
        options: super::stores::drift_options(config),
        retrain: config.retrain_on_drift,
    };
    let user_tokens = user_tokens(config)?;
    let server_config = ServerConfig {
        api_keys: config.api_keys.clone(),
        admin_keys: config.admin_keys.clone(),
        user_tokens,
        cors_origins: config.cors_origins.clone(),
        mcp_allowed_hosts: config.mcp_allowed_hosts.clone(),
        mlflow_uri: config.mlflow_tracking_uri.clone(),
        redis_cache_url: config.redis.as_ref().map(|r| r.url.clone()),
        // POST /admin/train retrains on the sample data, as the bootstrap did
        log,
        drift,
        training: Some(TrainSpec {
            suites: config.validation_suites.clone(),
            tags: Default::default(),
            ..TrainSpec::all(
                DataSource::Sample { dir: config.generated_data_dir() },
                &super::stores::training_defaults(config),
            )
        }),
        ..args.limits.server_config()
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(w) = args.workers {
        rt.worker_threads(w.max(1));
    }
    rt.max_blocking_threads(blocking_threads(
        args.blocking_threads,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    ));
    let rt = rt.build()?;
    // training over HTTP gets a feature store of its own (own connections), so a run's reads
    // and writes never wait on, or hold up, the serving one
    let training_features = match super::stores::features(config, None) {
        Ok(fs) => Some(Arc::new(fs)),
        Err(e) => {
            eprintln!("warning: no feature store for training runs: {e:#}");
            None
        }
    };
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        let grpc = match config.grpc_port {
            0 => None,
            grpc_port => Some(
                tokio::net::TcpListener::bind((host.as_str(), grpc_port))
                    .await
                    .with_context(|| format!("binding {host}:{grpc_port} for gRPC (GRPC_PORT; 0 turns it off)"))?,
            ),
        };
        let grpc_addr = grpc.as_ref().and_then(|l| l.local_addr().ok());
        let state = AppState::build_with(server_config, Arc::new(registry), artifacts, features, monitor).await;
        if let Some(fs) = training_features {
            state.set_training_features(fs);
        }
        if let Some(why) = features_error {
            state.set_features_error(why);
        }
        let announce = state.clone();
        tokio::spawn(async move {
            while !announce.startup_complete() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let url = format!("http://{addr}");
            println!("nivesh-ml serving {} models at {url} (ready {:.1} s after start)", announce.loaded().len(), started.elapsed().as_secs_f64());
            println!("  docs:   {url}/docs");
            if let Some(g) = grpc_addr {
                println!("  gRPC:   {g} (Open Inference Protocol; REST at {url}/v2)");
            }
            println!("  health: {url}/health/ready");
            println!(
                "  try:    curl -s {url}/predict/intent -H 'Content-Type: application/json' -d '{{\"query\": \"How much did I spend on Swiggy last month?\"}}'"
            );
            // an online store that lacks what was materialized (REDIS_URL set afterwards, an
            // emptied Redis, old data): features would come back missing; say so now
            if let Some(check) = nivesh_server::readiness::online_content(&announce).await
                && check.status != "ok"
            {
                tracing::warn!(target: "nivesh::features", "{}: {}", check.name, check.detail.unwrap_or_default());
            }
        });
        nivesh_server::serve_with_grpc(state, listener, grpc, nivesh_server::shutdown::signal()).await
    });
    // a training run in progress was told to stop after its current model; wait for that
    rt.shutdown_timeout(Duration::from_secs(60));
    served?;
    println!("nivesh-ml: stopped");
    Ok(ExitCode::SUCCESS)
}

/// The user-token verifier from `JWT_SECRET` / `JWT_JWKS_FILE` (read now), if configured.
pub fn user_tokens(config: &Config) -> anyhow::Result<Option<std::sync::Arc<nivesh_server::tokens::UserTokens>>> {
    let jwks = match &config.jwt_jwks_file {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("JWT_JWKS_FILE {}", path.display()))?),
        None => None,
    };
    let c = nivesh_server::tokens::TokenConfig {
        hs256_secret: config.jwt_secret.clone(),
        jwks,
        issuer: config.jwt_issuer.clone(),
        audience: config.jwt_audience.clone(),
    };
    let tokens = nivesh_server::tokens::UserTokens::new(&c).map_err(anyhow::Error::msg)?;
    if tokens.is_some() && (config.jwt_issuer.is_none() || config.jwt_audience.is_none()) {
        tracing::warn!(
            "user tokens are accepted without checking their issuer or audience: set JWT_ISSUER and JWT_AUDIENCE"
        );
    }
    Ok(tokens.map(std::sync::Arc::new))
}

#[cfg(test)]
mod tests {
    use super::blocking_threads;

    #[test]
    fn the_blocking_pool_is_bounded_by_the_cores_unless_asked() {
        assert_eq!(blocking_threads(None, 1), 16);
        assert_eq!(blocking_threads(None, 2), 16);
        assert_eq!(blocking_threads(None, 4), 32);
        assert_eq!(blocking_threads(Some(3), 2), 3);
        assert_eq!(blocking_threads(Some(0), 2), 1);
        assert_eq!(blocking_threads(Some(600), 2), 600);
    }
}
