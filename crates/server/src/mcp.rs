//! The Model Context Protocol server (the official Rust SDK, `rmcp`): the tools of
//! [`crate::tools`] and a model card per served model as resources. Two transports:
//! streamable HTTP at `/mcp` on the server ([`http_service`], behind the same API keys, rate
//! and in-flight limits and metrics as every protected route), and stdio (`nivesh-ml mcp`,
//! [`serve_stdio`]), where the same limits are taken per call.
//!
//! A refused or failed call is the tool's result with `isError: true` (the agent reads why and
//! which field); only an unknown tool or resource is a protocol error.

use crate::error::ApiError;
use crate::state::AppState;
use crate::tools::{self, ToolError};
use nivesh_models::ModelKind;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Resource, ResourceContents, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::sync::Arc;

/// What an agent is told about the server when it connects.
const INSTRUCTIONS: &str = "Nivesh's machine-learning models for Indian personal finance. \
    classify_intent and extract_entities read a user's message (intent; amounts in rupees, dates, \
    merchants); forecast_spending, score_transaction and assess_credit_risk answer about money \
    (monthly spending ahead, whether a transaction is unusual, a loan applicant's default risk \
    with reasons); get_user_features reads a user's current spending profile; list_models says \
    which model versions answer. Every prediction carries a prediction_id: quote it when the \
    user reports what really happened. Resources nivesh://models/{name} are the model cards.";

const CARD_PREFIX: &str = "nivesh://models/";

/// The MCP server over the application's state.
#[derive(Clone)]
pub struct McpServer {
    state: AppState,
    /// Take the rate and in-flight limits per call (stdio: no HTTP middleware does).
    per_call_limits: bool,
}

impl McpServer {
    /// For streamable HTTP: the routes' middleware already limits and authenticates.
    pub fn http(state: AppState) -> Self {
        McpServer { state, per_call_limits: false }
    }

    /// For stdio: the server limits each call itself.
    pub fn stdio(state: AppState) -> Self {
        McpServer { state, per_call_limits: true }
    }

    async fn call(&self, name: &str, args: Value) -> Result<tools::ToolOutput, ToolError> {
        if !self.per_call_limits {
            return tools::call(&self.state, name, args).await;
        }
        let _permit = self.state.admit("mcp:stdio").map_err(ToolError::Failed)?;
        self.state.within_timeout(tools::call(&self.state, name, args)).await.map_err(ToolError::Failed)?
    }

    /// The model card of `kind`: the served champion, its metrics, and the run that trained it.
    async fn card(&self, kind: ModelKind) -> Result<Value, McpError> {
        let Some(info) = self.state.info(kind) else {
            return Err(McpError::resource_not_found(format!("the {kind} model is not loaded yet"), None));
        };
        let (registry, artifacts) = (self.state.registry.clone(), self.state.artifacts.clone());
        let (name, version) = (kind.registry_name(), info.version);
        let found = tokio::task::spawn_blocking(move || {
            let v = registry.versions(name).ok()?.into_iter().find(|v| v.version == version)?;
            let run = registry.run(&v.run_id).ok()?;
            // the training profile: the evaluation data's summaries (not its reference sample)
            let profile = run
                .artifacts
                .iter()
                .find(|(n, _)| n == "profile.json")
                .and_then(|(_, d)| artifacts.get(d).ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .map(|p| json!({"rows": p["rows"], "features": p["features"], "prediction": p["prediction"]}));
            Some((run, profile))
        })
        .await
        .ok()
        .flatten();
        let training = found.map(|(r, profile)| {
            json!({
                "run_id": r.id, "started_at": r.started_at, "ended_at": r.ended_at,
                "git_commit": r.git_commit, "dataset_hash": r.dataset_hash, "dataset_rows": r.dataset_rows,
                "params": r.params, "evaluation_data": profile,
            })
        });
        Ok(json!({
            "model": kind.name(),
            "description": kind.description(),
            "tool": tools::model_tool(kind),
            "version": info.version,
            "alias": info.alias,
            "primary_metric": {"name": info.metric_name, "value": info.metric},
            "metrics": info.metrics,
            "digest": info.digest,
            "loaded_at": info.loaded_at,
            "training": training,
        }))
    }
}

fn tool_of(t: &tools::Tool) -> Tool {
    let mut annotations = ToolAnnotations::default();
    annotations.title = Some(t.title.to_string());
    annotations.read_only_hint = Some(t.read_only);
    annotations.open_world_hint = Some(false);
    let mut tool = Tool::new(t.name, t.description, Arc::new(t.input_schema.clone()));
    tool.title = Some(t.title.to_string());
    tool.annotations = Some(annotations);
    tool
}

/// A refused or failed call as the agent sees it: the reason (and field) in text and JSON.
fn failed(e: &ApiError) -> CallToolResult {
    let body = e.body();
    let mut result = CallToolResult::error(vec![ContentBlock::text(format!("{}: {}", body.error_type, body.error))]);
    result.structured_content = serde_json::to_value(&body).ok();
    result
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("nivesh-ml", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all().iter().map(tool_of).collect()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        match self.call(&request.name, args).await {
            Ok(out) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(out.summary)]);
                result.structured_content = Some(out.structured);
                Ok(result.into())
            }
            Err(ToolError::Failed(e)) => Ok(failed(&e).into()),
            Err(ToolError::Unknown(name)) => {
                let names: Vec<&str> = tools::all().iter().map(|t| t.name).collect();
                Err(McpError::invalid_params(format!("no tool named {name:?}; tools: {}", names.join(", ")), None))
            }
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let cards = ModelKind::ALL
            .into_iter()
            .filter(|k| self.state.info(*k).is_some())
            .map(|k| {
                Resource::new(format!("{CARD_PREFIX}{}", k.name()), format!("{} model card", k.name()))
                    .with_title(k.description())
                    .with_description("The served version, its metrics on held-out data and the run that trained it")
                    .with_mime_type("application/json")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(cards))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let kind = request
            .uri
            .strip_prefix(CARD_PREFIX)
            .and_then(|n| n.parse::<ModelKind>().ok())
            .ok_or_else(|| McpError::resource_not_found(format!("no resource {:?}", request.uri), None))?;
        let card = self.card(kind).await?;
        let text = serde_json::to_string_pretty(&card).map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri).with_mime_type("application/json")])
            .into())
    }
}

/// The streamable HTTP transport, for `/mcp` (stateless: each POST is answered with JSON, so
/// any replica can take any request). `allowed_hosts` guards against DNS rebinding: the
/// `Host` names a browser may reach the server by (empty: any).
pub fn http_service(
    state: AppState,
    allowed_hosts: Vec<String>,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    McpServer,
    rmcp::transport::streamable_http_server::session::never::NeverSessionManager,
> {
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    let max_body = state.config.max_body_bytes;
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(max_body);
    config = if allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(allowed_hosts)
    };
    StreamableHttpService::new(move || Ok(McpServer::http(state.clone())), Default::default(), config)
}

/// Serve MCP over this process's stdin and stdout until the client closes them, picking up new
/// champions from the registry meanwhile; then write what the prediction log holds.
pub async fn serve_stdio(state: AppState) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reloader = state.spawn_reloader(stop_rx);
    let served = async {
        McpServer::stdio(state.clone()).serve(rmcp::transport::stdio()).await?.waiting().await?;
        anyhow::Ok(())
    }
    .await;
    let _ = stop_tx.send(true);
    let _ = reloader.await;
    state.close_log().await;
    served
}
