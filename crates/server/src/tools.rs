//! The models as tools for AI agents — one definition of each tool, served two ways: as MCP
//! tools (`mcp.rs`, over stdio and streamable HTTP at `/mcp`) and as function-calling schemas
//! (`GET /tools`: OpenAI tools, Gemini function declarations, MCP's own list).
//!
//! A model's tool is its [`Served`] impl: the name (`Served::TOOL`), the description, the input
//! schema (the JSON route's request body's OpenAPI schema with every `$ref` inlined, so the API
//! and the tools cannot disagree) and the one-line summary. A call is
//! answered by [`crate::answer::answer`], as the JSON route, OIP and gRPC are: same checks,
//! cache, statistics, prediction log and `prediction_id`. Two tools read rather than predict:
//! `get_user_features` (the online feature store) and `list_models` (the served champions).

use crate::error::ApiError;
use crate::served::{ForKind, Served, for_kind};
use crate::state::AppState;
use crate::types::{ModelsResponse, OnlineFeaturesRequest};
use nivesh_models::ModelKind;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use utoipa::ToSchema;

/// One tool as agents see it.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// A self-contained JSON Schema (no `$ref`) of the arguments: an object.
    pub input_schema: Map<String, Value>,
    /// It reads and predicts, never changes anything (every tool here does only that).
    pub read_only: bool,
}

/// What a tool answered: the JSON (the route's answer, with `model_version` and
/// `prediction_id` for a model) and a line of text for the agent.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub structured: Value,
    pub summary: String,
}

/// Why a call failed.
#[derive(Debug)]
pub enum ToolError {
    /// No tool by that name (a protocol error: the agent asked for something that is not there).
    Unknown(String),
    /// The call was refused or failed: told to the agent as the tool's result.
    Failed(ApiError),
}

/// `get_user_features`' arguments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserFeaturesArgs {
    /// The user whose features to read.
    pub user_id: String,
    /// Feature views to read (`user_spending_profile`, `transaction_behaviour`, …); default all.
    #[serde(default)]
    pub views: Vec<String>,
}

/// `list_models`' arguments: none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

const USER_FEATURES: &str = "get_user_features";
const LIST_MODELS: &str = "list_models";

/// Every tool: the five models' in `ModelKind::ALL` order, then the two readers.
pub fn all() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let mut tools: Vec<Tool> = ModelKind::ALL.into_iter().map(|k| for_kind(k, Describe)).collect();
        tools.push(Tool {
            name: USER_FEATURES,
            title: "User features",
            description: "Read a Nivesh user's current features from the online feature store: spending \
                profile (monthly averages, category shares, …) and transaction behaviour, each view with \
                its age and status (`ok`, `expired` past its TTL, `missing`). Use it to ground advice in \
                the user's actual numbers.",
            input_schema: schema_of::<UserFeaturesArgs>(),
            read_only: true,
        });
        tools.push(Tool {
            name: LIST_MODELS,
            title: "Served models",
            description: "List the models being served: each one's registered version, its primary \
                metric on held-out data and when it was loaded.",
            input_schema: schema_of::<NoArgs>(),
            read_only: true,
        });
        tools
    })
}

/// The tool that answers with `kind`'s model.
pub fn model_tool(kind: ModelKind) -> &'static str {
    for_kind(kind, ToolName)
}

/// The tool named `name`.
pub fn find(name: &str) -> Option<&'static Tool> {
    all().iter().find(|t| t.name == name)
}

/// Call a tool with its arguments (a JSON object; `null` reads as `{}`).
pub async fn call(state: &AppState, name: &str, args: Value) -> Result<ToolOutput, ToolError> {
    let args = if args.is_null() { Value::Object(Map::new()) } else { args };
    let result = match name {
        USER_FEATURES => user_features(state, args).await,
        LIST_MODELS => {
            crate::parse::parse_value::<NoArgs>(args).map_err(ToolError::Failed)?;
            let models = ModelsResponse { models: state.loaded() };
            let summary = if models.models.is_empty() {
                "no models loaded yet".to_string()
            } else {
                let each: Vec<String> = models
                    .models
                    .iter()
                    .map(|m| format!("{} v{} ({} {:.3})", m.name, m.version, m.metric_name, m.metric))
                    .collect();
                format!("{} models: {}", models.models.len(), each.join(", "))
            };
            Ok(ToolOutput { structured: to_value(&models)?, summary })
        }
        _ => match ModelKind::ALL.into_iter().find(|k| for_kind(*k, ToolName) == name) {
            Some(kind) => for_kind(kind, Run { state, args }).await,
            None => Err(ToolError::Unknown(name.to_string())),
        },
    };
    // an unknown name is counted under one label: callers cannot grow the metric without bound
    match &result {
        Ok(_) => state.metrics.tool_call(name, "ok"),
        Err(ToolError::Unknown(_)) => state.metrics.tool_call("unknown", "unknown"),
        Err(ToolError::Failed(e)) => state.metrics.tool_call(name, e.kind()),
    }
    result
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ToolError> {
    serde_json::to_value(v).map_err(|e| ToolError::Failed(ApiError::Internal(e.to_string())))
}

async fn user_features(state: &AppState, args: Value) -> Result<ToolOutput, ToolError> {
    let a: UserFeaturesArgs = crate::parse::parse_value(args).map_err(ToolError::Failed)?;
    if a.user_id.trim().is_empty() {
        return Err(ToolError::Failed(ApiError::invalid("user_id", "must not be empty")));
    }
    let req = OnlineFeaturesRequest { entity_ids: vec![a.user_id.clone()], views: a.views };
    let results = crate::answer::online_features(state, req).await.map_err(ToolError::Failed)?;
    let Some(entity) = results.into_iter().next() else {
        return Err(ToolError::Failed(ApiError::NotFound(format!("no features for user {:?}", a.user_id))));
    };
    let each: Vec<String> = entity
        .views
        .iter()
        .map(|(view, v)| {
            let known = v.values.values().filter(|x| x.is_some()).count();
            format!("{view}: {} ({known} values)", v.status)
        })
        .collect();
    let summary = format!("features of {}: {}", entity.entity, each.join(", "));
    Ok(ToolOutput { structured: to_value(&entity)?, summary })
}

struct ToolName;
impl ForKind for ToolName {
    type Output = &'static str;
    fn call<M: Served>(self) -> &'static str {
        M::TOOL
    }
}

struct Describe;
impl ForKind for Describe {
    type Output = Tool;
    fn call<M: Served>(self) -> Tool {
        Tool {
            name: M::TOOL,
            title: M::MODEL.description(),
            description: M::TOOL_DESCRIPTION,
            input_schema: schema_of::<M::Request>(),
            read_only: true,
        }
    }
}

type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send + 'a>>;

struct Run<'a> {
    state: &'a AppState,
    args: Value,
}
impl<'a> ForKind for Run<'a> {
    type Output = ToolFuture<'a>;
    fn call<M: Served>(self) -> ToolFuture<'a> {
        Box::pin(run::<M>(self.state, self.args))
    }
}

/// A model's tool: the arguments are the JSON route's body, answered by the same code.
async fn run<M: Served>(state: &AppState, args: Value) -> Result<ToolOutput, ToolError> {
    let req: M::Request = crate::parse::parse_value(args).map_err(ToolError::Failed)?;
    let m = crate::answer::loaded::<M>(state).map_err(ToolError::Failed)?;
    let (body, id) = crate::answer::answer::<M>(state, &m, req).await.map_err(ToolError::Failed)?;
    let mut structured: Value =
        serde_json::from_slice(&body).map_err(|e| ToolError::Failed(ApiError::Internal(e.to_string())))?;
    // the summary reads the typed answer; one that does not read back (a NaN written as null
    // into a plain number) still answers, with the JSON only
    let summary = match M::Output::deserialize(&structured) {
        Ok(output) => M::summary(&output),
        Err(_) => format!("{} answered: see the structured content", M::MODEL),
    };
    if let Some(o) = structured.as_object_mut() {
        o.insert("model_version".into(), json!(m.info.version.to_string()));
        o.insert("prediction_id".into(), json!(id));
    }
    Ok(ToolOutput { summary, structured })
}

/// `T`'s schema with every `$ref` replaced by the schema it names (the ones `T` refers to,
/// as the OpenAPI document's components hold them).
fn schema_of<T: ToSchema>() -> Map<String, Value> {
    let mut refs = Vec::new();
    T::schemas(&mut refs);
    let components: Map<String, Value> =
        refs.into_iter().map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default())).collect();
    let schema = serde_json::to_value(T::schema()).unwrap_or_default();
    match inline(schema, &components, 0) {
        Value::Object(mut o) => {
            o.entry("type").or_insert(json!("object"));
            o.entry("properties").or_insert(json!({}));
            o
        }
        _ => Map::from_iter([("type".into(), json!("object")), ("properties".into(), json!({}))]),
    }
}

/// `v` with its references replaced, `hops` references deep (a bound against a type that
/// contains itself; none of the API's does).
fn inline(v: Value, components: &Map<String, Value>, hops: usize) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
                && let Some(target) = components.get(name)
                && hops < 32
            {
                let mut target = inline(target.clone(), components, hops + 1);
                // a description beside the reference (a field's doc comment) wins
                if let (Some(d), Some(t)) = (o.get("description"), target.as_object_mut()) {
                    t.insert("description".into(), d.clone());
                }
                return target;
            }
            Value::Object(o.into_iter().map(|(k, v)| (k, inline(v, components, hops))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| inline(v, components, hops)).collect()),
        other => other,
    }
}

/// The tools as OpenAI's `tools` array (`{"type": "function", "function": {...}}`).
pub fn openai() -> Value {
    Value::Array(
        all()
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema,
                }})
            })
            .collect(),
    )
}

/// The tools as Gemini's `tools` entry (`[{"functionDeclarations": [...]}]`), whose
/// `parameters` take OpenAPI 3.0's schema subset: one `type` (with `nullable`), no
/// `additionalProperties`, no `$schema`, `anyOf` for alternatives.
pub fn gemini() -> Value {
    let declarations: Vec<Value> = all()
        .iter()
        .map(|t| {
            let mut d = json!({"name": t.name, "description": t.description});
            // an object without properties is refused by Gemini: a tool without arguments has none
            if t.input_schema.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty()) {
                d["parameters"] = to_openapi3(Value::Object(t.input_schema.clone()));
            }
            d
        })
        .collect();
    json!([{ "functionDeclarations": declarations }])
}

/// The tools as MCP lists them (`tools/list`).
pub fn mcp() -> Value {
    Value::Array(
        all()
            .iter()
            .map(|t| {
                json!({"name": t.name, "title": t.title, "description": t.description, "inputSchema": t.input_schema,
                    "annotations": {"readOnlyHint": t.read_only, "openWorldHint": false}})
            })
            .collect(),
    )
}

/// Keys Gemini's schema subset takes.
const GEMINI_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "properties",
    "required",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "anyOf",
    "default",
];

fn to_openapi3(v: Value) -> Value {
    let Value::Object(mut o) = v else { return v };
    // `type: ["string", "null"]` → `type: "string", nullable: true`
    if let Some(Value::Array(types)) = o.get("type").cloned() {
        let non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        if non_null.len() < types.len() {
            o.insert("nullable".into(), json!(true));
        }
        o.insert("type".into(), non_null.into_iter().next().unwrap_or(json!("string")));
    }
    // `oneOf: [{type: null}, X]` (an optional reference) → X, nullable
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = o.get(key).cloned() {
            let non_null: Vec<Value> = alts.into_iter().filter(|a| a.get("type") != Some(&json!("null"))).collect();
            o.remove(key);
            if non_null.len() == 1 {
                let inner = to_openapi3(non_null.into_iter().next().unwrap_or_default());
                let description = o.remove("description");
                let mut merged = inner.as_object().cloned().unwrap_or_default();
                merged.insert("nullable".into(), json!(true));
                if let Some(d) = description {
                    merged.insert("description".into(), d);
                }
                return Value::Object(merged);
            }
            o.insert("anyOf".into(), Value::Array(non_null.into_iter().map(to_openapi3).collect()));
        }
    }
    // Gemini's string formats are `enum` and `date-time`; numbers take int32/int64/float/double
    if let Some(f) = o.get("format").and_then(Value::as_str)
        && !["date-time", "enum", "int32", "int64", "float", "double"].contains(&f)
    {
        o.remove("format");
    }
    let mut out = Map::new();
    for (k, v) in o {
        if !GEMINI_KEYS.contains(&k.as_str()) {
            continue;
        }
        let v = match k.as_str() {
            "properties" => match v {
                Value::Object(p) => Value::Object(p.into_iter().map(|(k, v)| (k, to_openapi3(v))).collect()),
                v => v,
            },
            "items" => to_openapi3(v),
            "anyOf" => match v {
                Value::Array(a) => Value::Array(a.into_iter().map(to_openapi3).collect()),
                v => v,
            },
            _ => v,
        };
        out.insert(k, v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(v: &Value, f: &mut impl FnMut(&Map<String, Value>)) {
        match v {
            Value::Object(o) => {
                f(o);
                o.values().for_each(|v| walk(v, f));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, f)),
            _ => {}
        }
    }

    #[test]
    fn seven_tools_with_self_contained_object_schemas() {
        let names: Vec<&str> = all().iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "classify_intent",
                "extract_entities",
                "forecast_spending",
                "score_transaction",
                "assess_credit_risk",
                "get_user_features",
                "list_models"
            ]
        );
        for t in all() {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
            walk(&Value::Object(t.input_schema.clone()), &mut |o| {
                assert!(!o.contains_key("$ref"), "{}: {o:?}", t.name)
            });
            assert!(t.description.len() > 80, "{}: say when to use it", t.name);
        }
    }

    #[test]
    fn model_tools_take_the_json_routes_bodies() {
        let intent = find("classify_intent").unwrap();
        assert_eq!(intent.input_schema["required"], json!(["query"]));
        // the credit applicant is spelled out, enums and all, for an agent to fill in
        let credit = &find("assess_credit_risk").unwrap().input_schema;
        let applicant = &credit["properties"]["applicant_data"];
        assert_eq!(applicant["properties"]["age"]["type"], "integer");
        assert_eq!(
            applicant["properties"]["employment_type"]["enum"],
            json!(["salaried", "self_employed", "business", "unemployed", "student", "retired"])
        );
        let spending = &find("forecast_spending").unwrap().input_schema;
        let txn = &spending["properties"]["transactions"];
        assert!(txn.to_string().contains("\"timestamp\""), "{txn}");
        assert!(find("nothing").is_none());
    }

    #[test]
    fn gemini_declarations_use_the_openapi3_subset() {
        let g = gemini();
        let decls = g[0]["functionDeclarations"].as_array().unwrap();
        assert_eq!(decls.len(), all().len());
        walk(&g, &mut |o| {
            if let Some(t) = o.get("type") {
                assert!(t.is_string(), "one type per schema: {o:?}");
            }
            for banned in ["$ref", "oneOf", "additionalProperties", "$schema"] {
                assert!(!o.contains_key(banned), "{banned} in {o:?}");
            }
        });
        // a tool without arguments has no parameters (Gemini refuses an empty object)
        assert_eq!(decls[6]["name"], "list_models");
        assert!(decls[6].get("parameters").is_none(), "{}", decls[6]);
        // an optional string keeps its type and says it may be null
        let user = &decls[0]["parameters"]["properties"]["user_id"];
        assert_eq!((user["type"].as_str(), user["nullable"].as_bool()), (Some("string"), Some(true)), "{user}");
        let openai = openai();
        assert_eq!(openai[2]["function"]["name"], "forecast_spending");
        assert_eq!(openai[2]["type"], "function");
    }

    #[test]
    fn optional_references_become_nullable_objects() {
        let v =
            to_openapi3(json!({"oneOf": [{"type": "null"}, {"type": "object", "properties": {}}], "description": "d"}));
        assert_eq!(v, json!({"type": "object", "properties": {}, "nullable": true, "description": "d"}));
        let v = to_openapi3(json!({"type": ["integer", "null"], "format": "int32", "minimum": 0}));
        assert_eq!(v, json!({"type": "integer", "format": "int32", "minimum": 0, "nullable": true}));
    }
}
