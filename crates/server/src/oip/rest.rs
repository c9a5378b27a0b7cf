//! OIP over HTTP (`/v2/...`), with Triton's binary tensor extension: an input whose
//! `parameters.binary_data_size` is set is read from the bytes after the JSON header (its
//! length in `Inference-Header-Content-Length`), in input order; outputs go in binary when
//! `parameters.binary_data` (per output) or `parameters.binary_data_output` (the request) asks,
//! and the answer then carries the same header. Any `Content-Type` is accepted, or none
//! (`tritonclient.http` sends none). Errors are `{"error": ...}` with 400 for anything the
//! caller sent wrong.

use super::{Describe, InferRequest, InferResponse, Requested};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tensor::{self, Datatype};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The largest OIP request body: a batch of texts or JSON requests in binary.
pub const MAX_BODY_BYTES: usize = 16 << 20;

const HEADER_LENGTH: &str = "inference-header-content-length";

/// An OIP error: the usual body, 400 where the JSON routes say 422 (OIP has one status for
/// a bad request).
#[derive(Debug)]
struct OipError(ApiError);

impl From<ApiError> for OipError {
    fn from(e: ApiError) -> Self {
        OipError(e)
    }
}

impl IntoResponse for OipError {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        if r.status() == StatusCode::UNPROCESSABLE_ENTITY {
            *r.status_mut() = StatusCode::BAD_REQUEST;
        }
        r
    }
}

type OipResult<T> = Result<T, OipError>;

fn bad(message: impl Into<String>) -> OipError {
    OipError(ApiError::BadRequest { message: message.into() })
}

/// The protected OIP routes (the caller adds auth and limits); health is in [`open`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/models/{model}", get(model_metadata))
        .route("/v2/models/{model}/versions/{version}", get(model_metadata_at))
        .route("/v2/models/{model}/ready", get(model_ready))
        .route("/v2/models/{model}/versions/{version}/ready", get(model_ready_at))
        .route("/v2/models/{model}/config", get(model_config))
        .route("/v2/models/{model}/versions/{version}/config", get(model_config_at))
        .route("/v2/models/{model}/infer", post(infer))
        .route("/v2/models/{model}/versions/{version}/infer", post(infer_at))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// `GET /v2/health/live` and `/v2/health/ready`, open like `/health/*`.
pub fn open() -> Router<AppState> {
    Router::new()
        .route("/v2/health/live", get(|| async { axum::Json(json!({"live": true})) }))
        .route("/v2/health/ready", get(ready))
}

/// 200 `{"ready": true}` when every champion is loaded and required dependencies answer;
/// else 503 with the reason.
async fn ready(State(state): State<AppState>) -> Response {
    let checks = crate::readiness::checks(&state).await;
    match crate::readiness::readiness(&state, &checks) {
        (true, _) => axum::Json(json!({"ready": true})).into_response(),
        (false, reason) => OipError(ApiError::Unavailable(reason.unwrap_or_default())).into_response(),
    }
}

async fn server_metadata() -> axum::Json<Value> {
    axum::Json(super::server_metadata())
}

fn describe(state: &AppState, model: &str, version: Option<&str>, what: Describe) -> OipResult<axum::Json<Value>> {
    let kind = super::model_kind(model)?;
    Ok(axum::Json(super::describe(kind, what, state, version)?))
}

async fn model_metadata(State(s): State<AppState>, Path(m): Path<String>) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, None, Describe::Metadata)
}
async fn model_metadata_at(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, Some(&v), Describe::Metadata)
}
async fn model_ready(State(s): State<AppState>, Path(m): Path<String>) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, None, Describe::Ready)
}
async fn model_ready_at(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, Some(&v), Describe::Ready)
}
async fn model_config(State(s): State<AppState>, Path(m): Path<String>) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, None, Describe::Config)
}
async fn model_config_at(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
) -> OipResult<axum::Json<Value>> {
    describe(&s, &m, Some(&v), Describe::Config)
}

#[derive(Debug, Deserialize)]
struct RestRequest {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    parameters: Map<String, Value>,
    inputs: Vec<RestInput>,
    #[serde(default)]
    outputs: Vec<RestOutput>,
}

#[derive(Debug, Deserialize)]
struct RestInput {
    name: String,
    datatype: String,
    shape: Vec<i64>,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct RestOutput {
    name: String,
    #[serde(default)]
    parameters: Map<String, Value>,
}

fn flag(parameters: &Map<String, Value>, key: &str) -> OipResult<Option<bool>> {
    match parameters.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(bad(format!("parameter `{key}` must be a boolean, not {other}"))),
    }
}

/// Split a body into the JSON header and the binary part, and decode the request.
fn decode(headers: &HeaderMap, body: &[u8]) -> OipResult<(InferRequest, bool)> {
    let json_len = match headers.get(HEADER_LENGTH) {
        None => body.len(),
        Some(v) => {
            let n: usize = v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| bad(format!("header Inference-Header-Content-Length: {v:?} is not a byte count")))?;
            if n > body.len() {
                return Err(bad(format!(
                    "header Inference-Header-Content-Length is {n} but the body has only {} bytes",
                    body.len()
                )));
            }
            n
        }
    };
    let (head, mut binary) = body.split_at(json_len);
    let req: RestRequest =
        serde_json::from_slice(head).map_err(|e| bad(format!("the inference request is not valid: {e}")))?;
    let binary_output = flag(&req.parameters, "binary_data_output")?.unwrap_or(false);
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for input in &req.inputs {
        let datatype = Datatype::parse(&input.datatype)
            .ok_or_else(|| bad(format!("input `{}`: unknown datatype {:?}", input.name, input.datatype)))?;
        let size = match input.parameters.get("binary_data_size") {
            None => None,
            Some(v) => Some(v.as_u64().map(|n| n as usize).ok_or_else(|| {
                bad(format!("input `{}`: parameter binary_data_size must be a byte count, not {v}", input.name))
            })?),
        };
        let t = match (size, &input.data) {
            (Some(n), _) => {
                if n > binary.len() {
                    return Err(bad(format!(
                        "input `{}`: binary_data_size is {n} but only {} bytes of the binary part are left (truncated?)",
                        input.name,
                        binary.len()
                    )));
                }
                let (raw, rest) = binary.split_at(n);
                binary = rest;
                tensor::from_binary(&input.name, datatype, &input.shape, raw)
            }
            (None, Some(data)) => tensor::from_json(&input.name, datatype, &input.shape, data),
            (None, None) => {
                return Err(bad(format!("input `{}` has neither `data` nor parameters.binary_data_size", input.name)));
            }
        }
        .map_err(bad)?;
        inputs.push(t);
    }
    if !binary.is_empty() {
        return Err(bad(format!("{} bytes after the inputs' binary data belong to no input", binary.len())));
    }
    let outputs = req
        .outputs
        .iter()
        .map(|o| Ok(Requested { name: o.name.clone(), binary: flag(&o.parameters, "binary_data")? }))
        .collect::<OipResult<_>>()?;
    Ok((InferRequest { id: req.id, inputs, outputs }, binary_output))
}

/// The answer's JSON header, and its binary part when an output goes in binary.
fn encode(resp: InferResponse, binary_output: bool) -> Response {
    let mut binary = Vec::new();
    let outputs: Vec<Value> = resp
        .outputs
        .iter()
        .map(|(t, asked)| {
            let mut o = json!({"name": t.name, "datatype": t.datatype.name(), "shape": t.shape});
            if asked.unwrap_or(binary_output) {
                let start = binary.len();
                tensor::to_binary(t.datatype, &t.data, &mut binary);
                o["parameters"] = json!({"binary_data_size": binary.len() - start});
            } else {
                o["data"] = tensor::to_json(t.datatype, &t.data);
            }
            o
        })
        .collect();
    let mut head = json!({"model_name": resp.model_name, "model_version": resp.model_version, "outputs": outputs});
    if let Some(id) = resp.id {
        head["id"] = Value::String(id);
    }
    let mut body = head.to_string().into_bytes();
    let json_len = body.len();
    let binary_present = !binary.is_empty() || resp.outputs.iter().any(|(_, a)| a.unwrap_or(binary_output));
    body.extend_from_slice(&binary);
    let mut r = body.into_response();
    let h = r.headers_mut();
    if binary_present {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        if let Ok(v) = HeaderValue::from_str(&json_len.to_string()) {
            h.insert(HEADER_LENGTH, v);
        }
    } else {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    r
}

async fn run(
    state: AppState,
    model: String,
    version: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> OipResult<Response> {
    let kind = super::model_kind(&model)?;
    let (req, binary_output) = decode(&headers, &body)?;
    drop(body);
    let resp = super::infer_kind(kind, state, version, req).await?;
    Ok(encode(resp, binary_output))
}

async fn infer(
    State(s): State<AppState>,
    Path(m): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> OipResult<Response> {
    run(s, m, None, headers, body).await
}

async fn infer_at(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> OipResult<Response> {
    run(s, m, Some(v), headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(len: Option<usize>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(n) = len {
            h.insert(HEADER_LENGTH, HeaderValue::from_str(&n.to_string()).unwrap());
        }
        h
    }

    fn message(r: OipResult<(InferRequest, bool)>) -> String {
        match r {
            Err(OipError(e)) => e.to_string(),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn binary_inputs_follow_the_header_in_input_order() {
        let head = br#"{"id":"r1","inputs":[{"name":"a","datatype":"FP64","shape":[1],"parameters":{"binary_data_size":8}},{"name":"t","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}],"parameters":{"binary_data_output":true}}"#;
        let mut body = head.to_vec();
        body.extend_from_slice(&2.5f64.to_le_bytes());
        body.extend_from_slice(b"\x02\0\0\0hi");
        let (req, binary) = decode(&headers(Some(head.len())), &body).unwrap();
        assert!(binary);
        assert_eq!(req.id.as_deref(), Some("r1"));
        assert_eq!(req.inputs[0].data, tensor::Data::Float(vec![2.5]));
        assert_eq!(req.inputs[1].data, tensor::Data::Bytes(vec![b"hi".to_vec()]));
        // cut off: the last input's bytes are short
        let e = message(decode(&headers(Some(head.len())), &body[..body.len() - 1]));
        assert!(e.contains("binary_data_size is 6 but only 5 bytes"), "{e}");
        // a header length past the body
        let e = message(decode(&headers(Some(body.len() + 1)), &body));
        assert!(e.contains("but the body has only"), "{e}");
        // bytes left over
        let mut extra = body.clone();
        extra.push(0);
        assert!(message(decode(&headers(Some(head.len())), &extra)).contains("belong to no input"));
    }

    #[test]
    fn malformed_json_requests_name_what_is_wrong() {
        let e =
            message(decode(&headers(None), br#"{"inputs":[{"name":"x","datatype":"FLOAT","shape":[1],"data":[1]}]}"#));
        assert_eq!(e, "input `x`: unknown datatype \"FLOAT\"");
        let e =
            message(decode(&headers(None), br#"{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1]}]}"#));
        assert_eq!(e, "input `x`: shape [2] holds 2 elements but `data` has 1");
        let e = message(decode(&headers(None), br#"{"inputs":[{"name":"x","datatype":"FP32","shape":[1]}]}"#));
        assert!(e.contains("neither `data` nor"), "{e}");
        let e = message(decode(&headers(None), b"{\"inputs\": 3}"));
        assert!(e.starts_with("the inference request is not valid"), "{e}");
    }
}
