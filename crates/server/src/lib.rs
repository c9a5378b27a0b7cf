//! `nivesh-server`: the HTTP face of nivesh-ml.
//!
//! - [`served`]: the [`Served`](served::Served) trait — what the server knows of each model —
//!   and [`for_kind`](served::for_kind), the one map from a model kind to its type;
//! - [`state`]: the loaded champions (atomic hot swap from the registry), shared services,
//!   training runs in the background;
//! - [`types`]: every request and response body (the wire format), with OpenAPI schemas;
//! - [`http`]: the router, the generic prediction routes, health, the other handlers, the JSON
//!   extractor and the middleware;
//! - [`error`]: the one error type, mapped to HTTP in one place;
//! - [`tools`]: the models as tools for AI agents (one definition); [`mcp`]: them over the
//!   Model Context Protocol (stdio and streamable HTTP at `/mcp`);
//! - [`auth`], [`limits`], [`cache`], [`prometheus`], [`stats`], [`jobs`], [`shutdown`]: one concern each.

pub mod answer;
pub mod auth;
pub mod cache;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod mcp;
pub mod oip;
pub mod parse;
pub mod prometheus;
pub mod readiness;
pub mod served;
pub mod shutdown;
pub mod state;
pub mod stats;
pub mod tensor;
pub mod tokens;
pub mod tools;
pub mod types;

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
    serve_with_grpc(state, listener, None, shutdown).await
}

/// [`serve`], and the Open Inference Protocol over gRPC on `grpc` when given (HTTP/2, the
/// same auth, limits and metrics); both stop on `shutdown`.
pub async fn serve_with_grpc(
    state: AppState,
    listener: tokio::net::TcpListener,
    grpc: Option<tokio::net::TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let grpc_server = grpc.map(|listener| {
        let app = http::grpc_router(state.clone());
        let mut done = done_rx.clone();
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = done.wait_for(|d| *d).await;
                })
                .await
        })
    });
    let shutdown = async move {
        shutdown.await;
        let _ = done_tx.send(true);
    };
    let app = http::router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let loader = {
        let state = state.clone();
        tokio::spawn(async move { state.load_all().await })
    };
    let drift = state.spawn_drift_checker(stop_rx.clone());
    let reloader = state.spawn_reloader(stop_rx);
    serve_http(listener, app, &state.config, shutdown).await?;
    if let Some(g) = grpc_server
        && let Ok(Err(e)) = g.await
    {
        tracing::warn!(error = %e, "the gRPC listener stopped with an error");
    }
    let _ = stop_tx.send(true);
    // a training run stops after its current model; the prediction log writes what it holds
    state.jobs.cancel();
    loader.abort();
    state.close_log().await;
    let _ = reloader.await;
    if let Some(d) = drift {
        let _ = d.await;
    }
    Ok(())
}

/// The HTTP accept loop (HTTP/1.1 and h2c): at most `max_connections` open at once (past it,
/// new ones wait in the kernel's backlog), a request's headers due within
/// `header_read_timeout` (a client that stalls, or trickles its headers, is cut), the client's
/// address as `ConnectInfo`; on `shutdown`, stop accepting and let open connections finish
/// their requests (at most 30 s). `axum::serve` has no header timeout or connection cap, and
/// ~20k stalled connections could exhaust the file descriptors.
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout).keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            _ = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // out of file descriptors, a reset before accept: wait a little, go on
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // the router answers each request, with the client's address for the rate limiter
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
            let mut router = router.clone();
            async move { tower_service::Service::call(&mut router, req).await }
        });
        let (builder, watcher, wait) = (builder.clone(), graceful.watcher(), config.header_read_timeout);
        tokio::spawn(async move {
            // hyper's header timer starts at the first byte: a client that connects and sends
            // nothing would hold its connection (and a permit) for ever
            let mut first = [0u8; 1];
            match tokio::time::timeout(wait, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return drop(permit),
            }
            let conn =
                watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned());
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            tracing::warn!("connections still open 30 s after shutdown began; closing them");
        }
    }
    Ok(())
}
