//! The Open Inference Protocol (KServe v2, as Triton and Seldon MLServer speak it) for the five
//! models, beside the JSON routes. This module is the protocol's core — each model's tensors,
//! metadata, configuration, and `infer` over decoded tensors — independent of the transport;
//! [`rest`] is the HTTP binding (with Triton's binary tensor extension).
//!
//! Every model takes a batch of `N` requests: each input tensor has shape `[N]` (or `[N, 1]`,
//! Triton's shape for a model with `dims: [1]`), element `i` of every tensor belonging to
//! request `i`. Each request is put together as the JSON route's body (a tensor's `field` is
//! its place in that body) and answered by the same code as `POST /predict/{route}` — checks,
//! cache, prediction log, statistics — so the two protocols cannot disagree.

pub mod grpc;
pub mod rest;

use crate::error::ApiError;
use crate::served::{ForKind, Loaded, Served, for_kind};
use crate::state::AppState;
pub use crate::tensor::TensorSpec;
use crate::tensor::{Data, Datatype, Tensor};
use nivesh_models::ModelKind;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type ApiResult<T> = Result<T, ApiError>;

/// Every model answers this output too: the id to send `POST /feedback` with.
pub const PREDICTION_ID: TensorSpec = TensorSpec::new("prediction_id", Datatype::Bytes, "prediction_id");

/// The OIP name of a model: its kind's name (`credit`); the JSON route's name is accepted too.
pub fn model_kind(name: &str) -> ApiResult<ModelKind> {
    ModelKind::ALL.into_iter().find(|k| k.name() == name || for_kind(*k, RouteName) == name).ok_or_else(|| {
        let names: Vec<&str> = ModelKind::ALL.iter().map(|k| k.name()).collect();
        ApiError::NotFound(format!("no model named {name:?}; models: {}", names.join(", ")))
    })
}

struct RouteName;
impl ForKind for RouteName {
    type Output = &'static str;
    fn call<M: Served>(self) -> &'static str {
        M::ROUTE
    }
}

/// The loaded champion of `M`, checked against a requested version.
fn loaded<M: Served>(state: &AppState, version: Option<&str>) -> ApiResult<Arc<Loaded<M>>> {
    let m = crate::answer::loaded::<M>(state)?;
    match version {
        Some(v) if v != m.info.version.to_string() => Err(ApiError::NotFound(format!(
            "model {} version {v:?} is not served: version {} is (the champion)",
            M::MODEL,
            m.info.version
        ))),
        _ => Ok(m),
    }
}

fn tensor_meta(specs: &[TensorSpec]) -> Vec<Value> {
    specs.iter().map(|s| json!({"name": s.name, "datatype": s.datatype.name(), "shape": [-1]})).collect()
}

fn outputs_of<M: Served>() -> impl Iterator<Item = &'static TensorSpec> {
    M::OIP_OUTPUTS.iter().chain(std::iter::once(&PREDICTION_ID))
}

/// `GET /v2/models/{m}`: name, versions, platform, inputs and outputs (`-1`: the batch).
pub fn metadata<M: Served>(state: &AppState, version: Option<&str>) -> ApiResult<Value> {
    let m = loaded::<M>(state, version)?;
    let outputs: Vec<TensorSpec> = outputs_of::<M>().copied().collect();
    Ok(json!({
        "name": M::MODEL.name(),
        "versions": [m.info.version.to_string()],
        "platform": "nivesh-ml",
        "inputs": tensor_meta(M::OIP_INPUTS),
        "outputs": tensor_meta(&outputs),
    }))
}

/// `GET /v2/models/{m}/config`: Triton's model configuration — a batching model
/// (`max_batch_size`) whose every tensor holds one scalar per request (`dims: [1]`, reshaped
/// to `[]`).
pub fn config<M: Served>(state: &AppState, version: Option<&str>) -> ApiResult<Value> {
    loaded::<M>(state, version)?;
    let tensor = |s: &TensorSpec, input: bool| {
        let mut t = json!({
            "name": s.name,
            "data_type": s.datatype.config_name(),
            "dims": [1],
            "reshape": {"shape": []},
        });
        if input {
            t["format"] = json!("FORMAT_NONE");
            t["optional"] = json!(!s.required);
        } else {
            t["label_filename"] = json!("");
        }
        t
    };
    Ok(json!({
        "name": M::MODEL.name(),
        "platform": "nivesh-ml",
        "backend": "nivesh-ml",
        "max_batch_size": state.config.max_batch,
        "input": M::OIP_INPUTS.iter().map(|s| tensor(s, true)).collect::<Vec<_>>(),
        "output": outputs_of::<M>().map(|s| tensor(s, false)).collect::<Vec<_>>(),
    }))
}

/// A requested output: its name and, for REST, whether it goes in binary.
#[derive(Debug, Clone)]
pub struct Requested {
    pub name: String,
    pub binary: Option<bool>,
}

/// A decoded inference request.
#[derive(Debug, Clone, Default)]
pub struct InferRequest {
    pub id: Option<String>,
    pub inputs: Vec<Tensor>,
    /// Empty: every output.
    pub outputs: Vec<Requested>,
}

/// An inference answer: the output tensors in the order asked for (or declared).
#[derive(Debug, Clone)]
pub struct InferResponse {
    pub model_name: &'static str,
    pub model_version: String,
    pub id: Option<String>,
    pub outputs: Vec<(Tensor, Option<bool>)>,
}

/// The batch size of a request's inputs: all `[N]` or `[N, 1]`, the same `N`, 1 ≤ N ≤ max.
fn batch_size(inputs: &[Tensor], max: usize) -> ApiResult<usize> {
    let mut n = None;
    for t in inputs {
        let rows = match t.shape.as_slice() {
            [n] | [n, 1] if *n >= 0 => *n as usize,
            s => {
                return Err(ApiError::BadRequest {
                    message: format!(
                        "input `{}`: shape {s:?}; expected [N] or [N, 1], one element per request",
                        t.name
                    ),
                });
            }
        };
        match n {
            Some(m) if m != rows => {
                return Err(ApiError::BadRequest {
                    message: format!("input `{}` has {rows} rows where the other inputs have {m}", t.name),
                });
            }
            _ => n = Some(rows),
        }
    }
    match n {
        None => Err(ApiError::BadRequest { message: "the request has no inputs".into() }),
        Some(0) => Err(ApiError::BadRequest { message: "the batch is empty (N = 0)".into() }),
        Some(n) if n > max => {
            Err(ApiError::BadRequest { message: format!("a batch of {n}; at most {max} per request") })
        }
        Some(n) => Ok(n),
    }
}

/// Put `value` at the dotted `path` of `object` (`""`: merge an object into it).
fn put(object: &mut Map<String, Value>, path: &str, value: Value, name: &str) -> ApiResult<()> {
    if path.is_empty() {
        let Value::Object(fields) = value else {
            return Err(ApiError::BadRequest {
                message: format!("input `{name}`: each element must be a JSON object"),
            });
        };
        object.extend(fields);
        return Ok(());
    }
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
            Ok(())
        }
        Some((head, rest)) => {
            let inner = object.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
            match inner {
                Value::Object(o) => put(o, rest, value, name),
                _ => Err(ApiError::BadRequest {
                    message: format!("input `{name}` conflicts with another input at `{head}`"),
                }),
            }
        }
    }
}

/// May a tensor of `given` type fill a field declared `declared`?
fn compatible(declared: Datatype, given: Datatype, data: &Data) -> bool {
    match declared {
        Datatype::Fp64 | Datatype::Fp32 => matches!(data, Data::Float(_) | Data::Int(_) | Data::Uint(_)),
        Datatype::Int64 => matches!(data, Data::Int(_) | Data::Uint(_)),
        d => d == given,
    }
}

/// The JSON route's request bodies of a batch, from its tensors.
fn requests<M: Served>(inputs: &[Tensor], n: usize) -> ApiResult<Vec<Value>> {
    let mut bodies = vec![Map::new(); n];
    for t in inputs {
        let spec = M::OIP_INPUTS.iter().find(|s| s.name == t.name).ok_or_else(|| {
            let names: Vec<&str> = M::OIP_INPUTS.iter().map(|s| s.name).collect();
            ApiError::BadRequest {
                message: format!("unknown input `{}` for model {}; its inputs: {}", t.name, M::MODEL, names.join(", ")),
            }
        })?;
        if !compatible(spec.datatype, t.datatype, &t.data) {
            return Err(ApiError::BadRequest {
                message: format!(
                    "input `{}`: datatype {}; expected {}",
                    t.name,
                    t.datatype.name(),
                    spec.datatype.name()
                ),
            });
        }
        for (i, body) in bodies.iter_mut().enumerate() {
            let mut v =
                t.data.json(i).map_err(|e| ApiError::BadRequest { message: format!("input `{}`: {e}", t.name) })?;
            if spec.json {
                let text = v.as_str().unwrap_or_default();
                v = serde_json::from_str(text).map_err(|e| ApiError::BadRequest {
                    message: format!("input `{}`: element {i} is not JSON: {e}", t.name),
                })?;
            }
            put(body, spec.field, v, spec.name)?;
        }
    }
    for spec in M::OIP_INPUTS.iter().filter(|s| s.required) {
        if !inputs.iter().any(|t| t.name == spec.name) {
            return Err(ApiError::BadRequest {
                message: format!("input `{}` ({}) is required by model {}", spec.name, spec.datatype.name(), M::MODEL),
            });
        }
    }
    Ok(bodies.into_iter().map(Value::Object).collect())
}

/// The value at the dotted `path` of an answer.
fn field<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// One output tensor of `answers` (shape `[N]`).
fn output_tensor(spec: &TensorSpec, answers: &[Value]) -> ApiResult<Tensor> {
    let missing = || ApiError::Internal(format!("output `{}` missing from an answer", spec.name));
    let values: Vec<&Value> =
        answers.iter().map(|a| field(a, spec.field).ok_or_else(missing)).collect::<Result<_, _>>()?;
    let data = match spec.datatype {
        Datatype::Bool => Data::Bool(values.iter().map(|v| v.as_bool().ok_or_else(missing)).collect::<Result<_, _>>()?),
        Datatype::Int64 => Data::Int(
            values
                .iter()
                .map(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).ok_or_else(missing))
                .collect::<Result<_, _>>()?,
        ),
        Datatype::Fp32 | Datatype::Fp64 => Data::Float(
            values
                .iter()
                .map(|v| if v.is_null() { Ok(f64::NAN) } else { v.as_f64().ok_or_else(missing) })
                .collect::<Result<_, _>>()?,
        ),
        _ => Data::Bytes(
            values
                .iter()
                .map(|v| match v {
                    Value::String(s) if !spec.json => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                })
                .collect(),
        ),
    };
    Ok(Tensor { name: spec.name.to_string(), datatype: spec.datatype, shape: vec![answers.len() as i64], data })
}

/// Answer an inference request for `M`: every row through the JSON route's code path.
pub async fn infer<M: Served>(state: &AppState, version: Option<&str>, req: InferRequest) -> ApiResult<InferResponse> {
    let m = loaded::<M>(state, version)?;
    let wanted: Vec<(&'static TensorSpec, Option<bool>)> = if req.outputs.is_empty() {
        outputs_of::<M>().map(|s| (s, None)).collect()
    } else {
        req.outputs
            .iter()
            .map(|r| {
                outputs_of::<M>().find(|s| s.name == r.name).map(|s| (s, r.binary)).ok_or_else(|| {
                    let names: Vec<&str> = outputs_of::<M>().map(|s| s.name).collect();
                    ApiError::BadRequest {
                        message: format!(
                            "unknown output `{}` for model {}; its outputs: {}",
                            r.name,
                            M::MODEL,
                            names.join(", ")
                        ),
                    }
                })
            })
            .collect::<Result<_, _>>()?
    };
    let n = batch_size(&req.inputs, state.config.max_batch)?;
    let bodies = requests::<M>(&req.inputs, n)?;
    let mut answers = Vec::with_capacity(n);
    for (i, body) in bodies.into_iter().enumerate() {
        let request: M::Request = crate::parse::parse_value(body).map_err(|e| ApiError::BadRequest {
            message: format!(
                "request {i}: {e} (inputs: {})",
                M::OIP_INPUTS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            ),
        })?;
        let (output, id) = crate::answer::answer(state, &m, request).await.map_err(|e| match e {
            ApiError::Invalid { .. } | ApiError::BadRequest { .. } => {
                ApiError::BadRequest { message: format!("request {i}: {e}") }
            }
            other => other,
        })?;
        let mut v: Value = serde_json::from_slice(&output).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Value::Object(o) = &mut v {
            o.insert("prediction_id".into(), Value::String(id));
        }
        answers.push(v);
    }
    let outputs = wanted
        .into_iter()
        .map(|(spec, binary)| output_tensor(spec, &answers).map(|t| (t, binary)))
        .collect::<Result<_, _>>()?;
    Ok(InferResponse { model_name: M::MODEL.name(), model_version: m.info.version.to_string(), id: req.id, outputs })
}

/// Something to do per model, boxed (the REST and gRPC handlers dispatch through it).
pub type Boxed<T> = Pin<Box<dyn Future<Output = ApiResult<T>> + Send>>;

/// `infer` for the model `kind`.
pub fn infer_kind(
    kind: ModelKind,
    state: AppState,
    version: Option<String>,
    req: InferRequest,
) -> Boxed<InferResponse> {
    struct Call(AppState, Option<String>, InferRequest);
    impl ForKind for Call {
        type Output = Boxed<InferResponse>;
        fn call<M: Served>(self) -> Boxed<InferResponse> {
            let Call(state, version, req) = self;
            Box::pin(async move { infer::<M>(&state, version.as_deref(), req).await })
        }
    }
    for_kind(kind, Call(state, version, req))
}

/// What to describe of a model.
#[derive(Debug, Clone, Copy)]
pub enum Describe {
    Metadata,
    Config,
    /// Loaded (at that version): `{}`, else the error.
    Ready,
}

/// Metadata, configuration or readiness of the model `kind`.
pub fn describe(kind: ModelKind, what: Describe, state: &AppState, version: Option<&str>) -> ApiResult<Value> {
    struct Call<'a>(Describe, &'a AppState, Option<&'a str>);
    impl ForKind for Call<'_> {
        type Output = ApiResult<Value>;
        fn call<M: Served>(self) -> ApiResult<Value> {
            let Call(what, state, version) = self;
            match what {
                Describe::Metadata => metadata::<M>(state, version),
                Describe::Config => config::<M>(state, version),
                Describe::Ready => loaded::<M>(state, version)
                    .map(|m| json!({"name": M::MODEL.name(), "version": m.info.version.to_string(), "ready": true})),
            }
        }
    }
    for_kind(kind, Call(what, state, version))
}

/// `GET /v2`: the server's name, version and protocol extensions.
pub fn server_metadata() -> Value {
    json!({
        "name": "nivesh-ml",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": ["binary_tensor_data", "model_configuration"],
    })
}
