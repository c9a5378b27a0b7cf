//! `nivesh-server`: the HTTP face of nivesh-ml.
//!
//! - [`state`]: the loaded champions (atomic hot swap from the registry), shared services;
//! - [`http`]: routes, request/response types (`http/types.rs`, with OpenAPI schemas), the JSON
//!   extractor, the router and its middleware;
//! - [`error`]: the one error type, mapped to HTTP in one place;
//! - [`auth`], [`limits`], [`cache`], [`prometheus`], [`stats`], [`shutdown`]: one concern each.

pub mod auth;
pub mod cache;
pub mod error;
pub mod http;
pub mod limits;
pub mod prometheus;
pub mod shutdown;
pub mod state;
pub mod stats;

pub use state::{AppState, ServerConfig};

use std::future::Future;
use std::net::SocketAddr;

/// Serve on `listener` until `shutdown` resolves: load the champions (readiness turns 200
/// when they are in), poll the registry for new ones, then finish in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = http::router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let loader = {
        let state = state.clone();
        tokio::spawn(async move { state.load_all().await })
    };
    let reloader = state.spawn_reloader(stop_rx);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    loader.abort();
    let _ = reloader.await;
    Ok(())
}
