//! `nivesh-ml mcp`: the Model Context Protocol server over stdio, for an agent that starts it
//! as a child process (Claude Desktop, an IDE, the MCP SDKs' stdio clients). The champions are
//! loaded from the registry, as `serve` loads them, and swapped when new ones are promoted;
//! the tools answer through the server's own code (cache, prediction log, limits). Stdout is
//! the protocol's: everything else goes to stderr.

use super::serve::Serving;
use crate::cli::McpArgs;
use crate::config::Config;
use nivesh_server::{AppState, ServerConfig};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(args: McpArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Serving { registry, artifacts, features, monitor, log, .. } = Serving::open(config)?;
    let server_config = ServerConfig {
        mlflow_uri: config.mlflow_tracking_uri.clone(),
        redis_cache_url: config.redis.as_ref().map(|r| r.url.clone()),
        log,
        ..args.limits.server_config()
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let served = rt.block_on(async move {
        let state = AppState::build_with(server_config, Arc::new(registry), artifacts, features, monitor).await;
        state.load_all().await;
        let loaded = state.loaded().len();
        if loaded < nivesh_models::ModelKind::ALL.len() {
            eprintln!(
                "nivesh-ml mcp: {loaded} of {} models loaded (run `nivesh-ml bootstrap` to train the rest)",
                nivesh_models::ModelKind::ALL.len()
            );
        }
        nivesh_server::mcp::serve_stdio(state).await
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    served?;
    Ok(ExitCode::SUCCESS)
}
