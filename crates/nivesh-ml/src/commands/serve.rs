//! `nivesh-ml serve`: bootstrap what is missing (sample data, feature store, champions), then
//! serve the champions over HTTP until SIGTERM/SIGINT.

use super::pipeline;
use crate::cli::{ModelKind, ServeArgs, TrainArgs};
use anyhow::Context;
use nivesh_core::config::Config;
use nivesh_server::{AppState, ServerConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ALL: [ModelKind; 5] =
    [ModelKind::Intent, ModelKind::Ner, ModelKind::Spending, ModelKind::Anomaly, ModelKind::Credit];

/// Generate sample data whose 13 months end yesterday (so the sample users' features are
/// fresh), train the models without a champion, ingest and materialize the feature store.
fn bootstrap(config: &Config) -> anyhow::Result<()> {
    let (registry, _) = pipeline::open_store(config)?;
    let missing: Vec<ModelKind> = ALL
        .into_iter()
        .filter(|k| registry.alias(pipeline::registry_name(*k), "champion").ok().flatten().is_none())
        .collect();
    drop(registry);
    let dir = config.generated_data_dir();
    if !dir.join(nivesh_datagen::MANIFEST_FILE).exists() {
        let start = chrono::Utc::now().date_naive() - chrono::Duration::days(396);
        println!("bootstrap: generating the sample data into {} (transactions {start} to yesterday)", dir.display());
        nivesh_datagen::generate_from(&dir, 42, nivesh_datagen::Scale::Full, start)?;
    }
    if !missing.is_empty() {
        println!(
            "bootstrap: training {} (no champion yet)",
            missing.iter().map(|k| pipeline::registry_name(*k)).collect::<Vec<_>>().join(", ")
        );
        let args = TrainArgs { models: missing, margin: 0.005, ..TrainArgs::default() };
        let code = pipeline::run(&args, config)?;
        anyhow::ensure!(code == ExitCode::SUCCESS, "bootstrap training failed (see above)");
    }
    let fs = super::features::open(config, None)?;
    if fs.offline().event_count()? == 0 {
        let file = dir.join(nivesh_datagen::TRANSACTIONS_FILE);
        let events: Vec<nivesh_core::Transaction> = nivesh_core::dataset::read_records(&file)?;
        let (n, _) = fs.ingest(&events)?;
        println!("bootstrap: ingested {n} transactions into the feature store");
    }
    if fs.list()?.iter().any(|v| v.last_materialized.is_none()) {
        let started = Instant::now();
        let now = chrono::Utc::now().timestamp();
        let reports = fs.materialize(&[], now, now, false, &mut |_, _| {})?;
        let written: usize = reports.iter().map(|r| r.written).sum();
        println!("bootstrap: materialized {written} feature rows in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if !args.no_bootstrap {
        bootstrap(config).context("bootstrap")?;
    }
    let mut host = args.host.clone().unwrap_or_else(|| config.host.clone());
    if config.api_keys.is_empty() && !is_loopback(&host) && !args.allow_unauthenticated {
        println!(
            "warning: ML_API_KEYS is empty, so the server binds to 127.0.0.1 instead of {host}; set ML_API_KEYS, or pass --allow-unauthenticated"
        );
        host = "127.0.0.1".into();
    } else if config.api_keys.is_empty() {
        println!("note: ML_API_KEYS is empty: requests are not authenticated");
    }
    let port = args.port.unwrap_or(config.port);
    let (registry, artifacts) = pipeline::open_store(config)?;
    let features = super::features::open(config, None).map(Arc::new);
    let features = match features {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!("warning: feature store unavailable: {e:#}");
            None
        }
    };
    let server_config = ServerConfig {
        api_keys: config.api_keys.clone(),
        admin_keys: config.admin_keys.clone(),
        cors_origins: config.cors_origins.clone(),
        max_batch: args.max_batch,
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        max_in_flight: args.max_in_flight,
        rate_limit_per_second: args.rate_limit,
        rate_limit_burst: args.rate_limit_burst,
        reload_interval: Duration::from_secs_f64(args.reload_interval.max(0.1)),
        cache_bytes: args.cache_mb * 1024 * 1024,
        mlflow_uri: config.mlflow_tracking_uri.clone(),
        redis_cache_url: config.redis.as_ref().map(|r| r.url.clone()),
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(w) = args.workers {
        rt.worker_threads(w.max(1));
    }
    let rt = rt.build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        let state = AppState::build(server_config, Arc::new(registry), artifacts, features).await;
        let announce = state.clone();
        tokio::spawn(async move {
            while !announce.startup_complete() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let url = format!("http://{addr}");
            println!("nivesh-ml serving {} models at {url} (ready {:.1} s after start)", announce.loaded().len(), started.elapsed().as_secs_f64());
            println!("  docs:   {url}/docs");
            println!("  health: {url}/health/ready");
            println!(
                "  try:    curl -s {url}/predict/intent -H 'Content-Type: application/json' -d '{{\"query\": \"How much did I spend on Swiggy last month?\"}}'"
            );
        });
        nivesh_server::serve(state, listener, nivesh_server::shutdown::signal()).await
    })?;
    println!("nivesh-ml: stopped");
    Ok(ExitCode::SUCCESS)
}
