//! OIP over gRPC: Triton's `inference.GRPCInferenceService` (the vendored
//! `proto/grpc_service.proto`; the code in `inference.rs` is generated from it by
//! `tools/oip-codegen` and committed, so no `protoc` is needed to build). Served on its own
//! port (`GRPC_PORT`) by the same process, through the same core as REST ([`super::infer_kind`]),
//! with the same API keys (`x-api-key` or `authorization: Bearer` metadata), rate limit,
//! in-flight limit, timeout and request metrics. Tensors come in `raw_input_contents` (what
//! `tritonclient.grpc` sends) or the typed `contents`; outputs go in `raw_output_contents`, one
//! entry per output, as `tritonclient.grpc` reads them.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod inference;

use super::{Describe, InferRequest, Requested};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tensor::{self, Data, Datatype, Tensor};
use inference::grpc_inference_service_server::{GrpcInferenceService, GrpcInferenceServiceServer};
use inference::model_infer_response::InferOutputTensor;
use inference::*;
use serde_json::Value;
use tonic::{Request, Response, Status};

/// The service for a router: `Router::route_service("/inference.GRPCInferenceService/{*m}", ..)`.
pub fn service(state: AppState) -> GrpcInferenceServiceServer<Service> {
    GrpcInferenceServiceServer::new(Service { state })
        .max_decoding_message_size(super::rest::MAX_BODY_BYTES)
        .max_encoding_message_size(super::rest::MAX_BODY_BYTES)
}

pub struct Service {
    state: AppState,
}

/// An [`ApiError`] as a gRPC status (the message is the REST error's).
fn status(e: ApiError) -> Status {
    let message = e.message();
    match e {
        ApiError::BadRequest { .. }
        | ApiError::Invalid { .. }
        | ApiError::TooLarge(_)
        | ApiError::UnsupportedMediaType(_) => Status::invalid_argument(message),
        ApiError::Unauthorized | ApiError::InvalidToken(_) => Status::unauthenticated(message),
        ApiError::Forbidden | ApiError::NotYours(_) => Status::permission_denied(message),
        ApiError::NotFound(_) => Status::not_found(message),
        ApiError::RateLimited(_) | ApiError::Overloaded => Status::resource_exhausted(message),
        ApiError::Conflict(_) => Status::failed_precondition(message),
        ApiError::Unavailable(_) => Status::unavailable(message),
        ApiError::Timeout => Status::deadline_exceeded(message),
        ApiError::Internal(_) => Status::internal(message),
    }
}

impl Service {
    /// The API key check, the rate limit and an in-flight permit, as the REST middleware.
    fn admit<T>(&self, req: &Request<T>) -> Result<tokio::sync::OwnedSemaphorePermit, Status> {
        let headers = req.metadata().clone().into_headers();
        let keys = &self.state.config.api_keys;
        // user tokens are for the JSON prediction routes; with them and no keys, gRPC is closed
        if keys.is_empty() && self.state.config.user_tokens.is_some() {
            return Err(status(ApiError::Unauthorized));
        }
        if !keys.is_empty() {
            match crate::auth::presented_key(&headers) {
                None => return Err(status(ApiError::Unauthorized)),
                Some(k) if crate::auth::accepted(keys, k) => {}
                Some(_) => return Err(status(ApiError::Forbidden)),
            }
        }
        // the same client identity as the REST limiter: the key, else the peer's address
        let client = match crate::auth::presented_key(&headers).filter(|k| crate::auth::accepted(keys, k)) {
            Some(key) => format!("key:{key}"),
            None => req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "ip:unknown".to_string(), |c| format!("ip:{}", c.0.ip())),
        };
        self.state.admit(&client).map_err(status)
    }

    fn describe(&self, name: &str, version: &str, what: Describe) -> Result<Value, Status> {
        let kind = super::model_kind(name).map_err(status)?;
        let version = (!version.is_empty()).then_some(version);
        super::describe(kind, what, &self.state, version).map_err(status)
    }
}

fn tensor_metadata(v: &Value) -> Vec<model_metadata_response::TensorMetadata> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|t| model_metadata_response::TensorMetadata {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    datatype: t["datatype"].as_str().unwrap_or_default().to_string(),
                    shape: vec![-1],
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A configuration's `data_type` name (`TYPE_STRING`) as the proto enum.
fn data_type(name: &str) -> i32 {
    DataType::from_str_name(name).unwrap_or(DataType::TypeInvalid) as i32
}

/// A typed `contents` message as tensor data (`raw_input_contents` is the usual way).
fn from_contents(name: &str, datatype: Datatype, shape: &[i64], c: &InferTensorContents) -> Result<Tensor, String> {
    let data = match datatype {
        Datatype::Bool => Data::Bool(c.bool_contents.clone()),
        Datatype::Int8 | Datatype::Int16 | Datatype::Int32 => {
            Data::Int(c.int_contents.iter().map(|&x| i64::from(x)).collect())
        }
        Datatype::Int64 => Data::Int(c.int64_contents.clone()),
        Datatype::Uint8 | Datatype::Uint16 | Datatype::Uint32 => {
            Data::Uint(c.uint_contents.iter().map(|&x| u64::from(x)).collect())
        }
        Datatype::Uint64 => Data::Uint(c.uint64_contents.clone()),
        Datatype::Fp32 => Data::Float(c.fp32_contents.iter().map(|&x| f64::from(x)).collect()),
        Datatype::Fp64 => Data::Float(c.fp64_contents.clone()),
        Datatype::Fp16 | Datatype::Bf16 => {
            return Err(format!("input `{name}`: {} must be sent in raw_input_contents", datatype.name()));
        }
        Datatype::Bytes => Data::Bytes(c.bytes_contents.clone()),
    };
    let want = tensor::element_count(shape).ok_or_else(|| format!("input `{name}`: shape {shape:?} is not valid"))?;
    if data.len() != want {
        return Err(format!("input `{name}`: shape {shape:?} holds {want} elements but `contents` has {}", data.len()));
    }
    if let Data::Bytes(items) = &data {
        for (i, b) in items.iter().enumerate() {
            tensor::check_bytes_len(name, i, b.len())?;
        }
    }
    Ok(Tensor { name: name.to_string(), datatype, shape: shape.to_vec(), data })
}

fn decode(req: ModelInferRequest) -> Result<InferRequest, String> {
    if !req.raw_input_contents.is_empty() && req.raw_input_contents.len() != req.inputs.len() {
        return Err(format!(
            "{} raw_input_contents for {} inputs: give one per input, or none",
            req.raw_input_contents.len(),
            req.inputs.len()
        ));
    }
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for (i, input) in req.inputs.iter().enumerate() {
        let datatype = Datatype::parse(&input.datatype)
            .ok_or_else(|| format!("input `{}`: unknown datatype {:?}", input.name, input.datatype))?;
        let t = match (req.raw_input_contents.get(i), &input.contents) {
            (Some(raw), _) => tensor::from_binary(&input.name, datatype, &input.shape, raw)?,
            (None, Some(c)) => from_contents(&input.name, datatype, &input.shape, c)?,
            (None, None) => return Err(format!("input `{}` has neither contents nor raw_input_contents", input.name)),
        };
        inputs.push(t);
    }
    let outputs = req.outputs.iter().map(|o| Requested { name: o.name.clone(), binary: None }).collect();
    Ok(InferRequest { id: (!req.id.is_empty()).then_some(req.id), inputs, outputs })
}

#[tonic::async_trait]
impl GrpcInferenceService for Service {
    async fn server_live(&self, _: Request<ServerLiveRequest>) -> Result<Response<ServerLiveResponse>, Status> {
        Ok(Response::new(ServerLiveResponse { live: true }))
    }

    async fn server_ready(&self, _: Request<ServerReadyRequest>) -> Result<Response<ServerReadyResponse>, Status> {
        let checks = crate::readiness::checks(&self.state).await;
        let (ready, _) = crate::readiness::readiness(&self.state, &checks);
        Ok(Response::new(ServerReadyResponse { ready }))
    }

    async fn model_ready(&self, req: Request<ModelReadyRequest>) -> Result<Response<ModelReadyResponse>, Status> {
        let r = req.into_inner();
        let ready = self.describe(&r.name, &r.version, Describe::Ready).is_ok();
        Ok(Response::new(ModelReadyResponse { ready }))
    }

    async fn server_metadata(
        &self,
        _: Request<ServerMetadataRequest>,
    ) -> Result<Response<ServerMetadataResponse>, Status> {
        let m = super::server_metadata();
        Ok(Response::new(ServerMetadataResponse {
            name: m["name"].as_str().unwrap_or_default().to_string(),
            version: m["version"].as_str().unwrap_or_default().to_string(),
            extensions: m["extensions"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        }))
    }

    async fn model_metadata(
        &self,
        req: Request<ModelMetadataRequest>,
    ) -> Result<Response<ModelMetadataResponse>, Status> {
        let _permit = self.admit(&req)?;
        let r = req.into_inner();
        let m = self.describe(&r.name, &r.version, Describe::Metadata)?;
        Ok(Response::new(ModelMetadataResponse {
            name: m["name"].as_str().unwrap_or_default().to_string(),
            versions: m["versions"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            platform: m["platform"].as_str().unwrap_or_default().to_string(),
            inputs: tensor_metadata(&m["inputs"]),
            outputs: tensor_metadata(&m["outputs"]),
        }))
    }

    async fn model_config(&self, req: Request<ModelConfigRequest>) -> Result<Response<ModelConfigResponse>, Status> {
        let _permit = self.admit(&req)?;
        let r = req.into_inner();
        let c = self.describe(&r.name, &r.version, Describe::Config)?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let input = c["input"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| ModelInput {
                        name: text(&t["name"]),
                        data_type: data_type(t["data_type"].as_str().unwrap_or_default()),
                        format: model_input::Format::None as i32,
                        dims: vec![1],
                        optional: t["optional"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let output = c["output"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| ModelOutput {
                        name: text(&t["name"]),
                        data_type: data_type(t["data_type"].as_str().unwrap_or_default()),
                        dims: vec![1],
                        label_filename: String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Response::new(ModelConfigResponse {
            config: Some(ModelConfig {
                name: text(&c["name"]),
                platform: text(&c["platform"]),
                max_batch_size: c["max_batch_size"].as_i64().unwrap_or(0) as i32,
                input,
                output,
                backend: text(&c["backend"]),
                runtime: String::new(),
            }),
        }))
    }

    async fn model_infer(&self, req: Request<ModelInferRequest>) -> Result<Response<ModelInferResponse>, Status> {
        let _permit = self.admit(&req)?;
        let r = req.into_inner();
        let kind = super::model_kind(&r.model_name).map_err(status)?;
        let version = (!r.model_version.is_empty()).then(|| r.model_version.clone());
        let decoded = decode(r).map_err(Status::invalid_argument)?;
        let answer = super::infer_kind(kind, self.state.clone(), version, decoded);
        let resp = self.state.within_timeout(answer).await.map_err(status)?.map_err(status)?;
        let mut outputs = Vec::with_capacity(resp.outputs.len());
        let mut raw = Vec::with_capacity(resp.outputs.len());
        for (t, _) in resp.outputs {
            let mut bytes = Vec::new();
            tensor::to_binary(t.datatype, &t.data, &mut bytes);
            raw.push(bytes);
            outputs.push(InferOutputTensor {
                name: t.name,
                datatype: t.datatype.name().to_string(),
                shape: t.shape,
                parameters: Default::default(),
                contents: None,
            });
        }
        Ok(Response::new(ModelInferResponse {
            model_name: resp.model_name.to_string(),
            model_version: resp.model_version,
            id: resp.id.unwrap_or_default(),
            parameters: Default::default(),
            outputs,
            raw_output_contents: raw,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inference::model_infer_request::InferInputTensor;

    fn input(name: &str, datatype: &str, shape: Vec<i64>) -> InferInputTensor {
        InferInputTensor { name: name.into(), datatype: datatype.into(), shape, ..Default::default() }
    }

    #[test]
    fn raw_contents_are_one_per_input_and_checked_like_rest() {
        let req = ModelInferRequest {
            inputs: vec![input("text", "BYTES", vec![1])],
            raw_input_contents: vec![b"\x02\0\0\0hi".to_vec()],
            id: "r".into(),
            ..Default::default()
        };
        let d = decode(req.clone()).unwrap();
        assert_eq!((d.id.as_deref(), &d.inputs[0].data), (Some("r"), &Data::Bytes(vec![b"hi".to_vec()])));
        let two = ModelInferRequest { raw_input_contents: vec![vec![], vec![]], ..req.clone() };
        assert_eq!(decode(two).unwrap_err(), "2 raw_input_contents for 1 inputs: give one per input, or none");
        let short = ModelInferRequest { raw_input_contents: vec![b"\x05\0\0\0hi".to_vec()], ..req.clone() };
        assert!(decode(short).unwrap_err().contains("ends first"));
        let typed = ModelInferRequest {
            inputs: vec![InferInputTensor {
                contents: Some(InferTensorContents { fp64_contents: vec![1.0, 2.0], ..Default::default() }),
                ..input("x", "FP64", vec![3])
            }],
            ..Default::default()
        };
        assert_eq!(decode(typed).unwrap_err(), "input `x`: shape [3] holds 3 elements but `contents` has 2");
        assert_eq!(status(ApiError::BadRequest { message: "m".into() }).code(), tonic::Code::InvalidArgument);
        assert_eq!(status(ApiError::Unauthorized).code(), tonic::Code::Unauthenticated);
    }
}
