//! The prediction routes, one generic pair for every [`Served`] model: `POST /predict/{route}`
//! and `POST /predict/{route}/batch`, with their OpenAPI operations. A request is checked
//! (422 naming the field), answered through the cache (the model's output serialised once;
//! identical concurrent requests computed once), recorded in the statistics and metrics, and
//! returned with `model_version` added — no JSON is parsed back.

use super::extract::Json;
use crate::answer::{answer, loaded};
use crate::error::ApiError;
use crate::served::Served;
use crate::state::AppState;
use crate::tokens::UserScope;
use crate::types::BatchRequest;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};

type ApiResult<T> = Result<T, ApiError>;

/// The answer, with the version that made it as `X-Model-Version` (the access log reads it).
fn json_response(body: Vec<u8>, version: u32) -> Response {
    let version = version.to_string();
    let mut r = ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&version) {
        r.headers_mut().insert(MODEL_VERSION, v);
    }
    r
}

/// The response header naming the model version that answered.
pub const MODEL_VERSION: &str = "x-model-version";

/// `{...output, <tail>}` from the output's JSON object (`tail` is `"key":value` pairs).
fn with_fields(output: &[u8], tail: &str) -> Vec<u8> {
    let tail = format!("{tail}}}");
    let mut out = Vec::with_capacity(output.len() + tail.len() + 1);
    match output.strip_suffix(b"}") {
        Some(head) if head.len() > 1 => {
            out.extend_from_slice(head);
            out.push(b',');
        }
        // `{}` (or, never, not an object): the version alone
        _ => out.push(b'{'),
    }
    out.extend_from_slice(tail.as_bytes());
    out
}

/// One prediction: the output with its `prediction_id` (for `POST /feedback`) and `model_version`.
pub async fn predict<M: Served>(
    State(state): State<AppState>,
    scope: Option<Extension<UserScope>>,
    Json(req): Json<M::Request>,
) -> ApiResult<Response> {
    in_scope::<M>(scope.as_ref().map(|s| &s.0), &req, None)?;
    let (body, version) = predict_body::<M>(&state, req).await?;
    Ok(json_response(body, version))
}

/// A user token may name only its own user (`inputs[i].user_id` in a batch).
fn in_scope<M: Served>(scope: Option<&UserScope>, req: &M::Request, item: Option<usize>) -> ApiResult<()> {
    let Some(UserScope(me)) = scope else { return Ok(()) };
    match M::users(req).into_iter().find(|u| *u != me) {
        None => Ok(()),
        Some(other) => Err(ApiError::NotYours(format!(
            "{}: this token is for user {me:?}, not {other:?}",
            item.map(|i| format!("inputs[{i}]")).unwrap_or_else(|| "user_id".into())
        ))),
    }
}

/// The body `POST /predict/{route}` answers `req` with (the dashboard's forms answer with it too).
pub(crate) async fn predict_body<M: Served>(state: &AppState, req: M::Request) -> ApiResult<(Vec<u8>, u32)> {
    let m = loaded::<M>(state)?;
    let (output, id) = answer(state, &m, req).await?;
    let tail = format!("\"prediction_id\":\"{id}\",\"model_version\":\"{}\"", m.info.version);
    Ok((with_fields(&output, &tail), m.info.version))
}

/// Up to the batch limit of predictions, all by one version: `{"outputs": [...], "model_version"}`.
/// The first refused input fails the batch, naming it (`inputs[3].query`).
pub async fn batch<M: Served>(
    State(state): State<AppState>,
    scope: Option<Extension<UserScope>>,
    Json(req): Json<BatchRequest<M::Request>>,
) -> ApiResult<Response> {
    for (i, input) in req.inputs.iter().enumerate() {
        in_scope::<M>(scope.as_ref().map(|s| &s.0), input, Some(i))?;
    }
    if req.inputs.is_empty() {
        return Err(ApiError::invalid("inputs", "must not be empty"));
    }
    if req.inputs.len() > state.config.max_batch {
        return Err(ApiError::invalid(
            "inputs",
            format!("{} inputs; at most {} per batch", req.inputs.len(), state.config.max_batch),
        ));
    }
    let m = loaded::<M>(&state)?;
    let mut body = b"{\"outputs\":[".to_vec();
    for (i, input) in req.inputs.into_iter().enumerate() {
        let (output, id) = answer(&state, &m, input).await.map_err(|e| e.in_batch(i))?;
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&with_fields(&output, &format!("\"prediction_id\":\"{id}\"")));
    }
    body.extend_from_slice(format!("],\"model_version\":\"{}\"}}", m.info.version).as_bytes());
    Ok(json_response(body, m.info.version))
}

/// Add `M`'s two routes to the OpenAPI document: request and output schemas from its types.
pub fn document<M: Served>(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
    use utoipa::{PartialSchema, ToSchema};

    let components = doc.components.get_or_insert_with(Default::default);
    let mut schemas = vec![
        (M::Request::name().to_string(), M::Request::schema()),
        (M::Output::name().to_string(), M::Output::schema()),
    ];
    M::Request::schemas(&mut schemas);
    M::Output::schemas(&mut schemas);
    components.schemas.extend(schemas);
    let request = || Ref::from_schema_name(M::Request::name());
    let output = || Ref::from_schema_name(M::Output::name());
    let version = || RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::String).build()));
    let json = |schema: RefOr<Schema>| ContentBuilder::new().schema(Some(schema)).build();
    let error = || {
        ResponseBuilder::new()
            .description("a refused request (the field is named) or the model is not loaded")
            .content("application/json", json(Ref::from_schema_name("ErrorBody").into()))
            .build()
    };
    let id = || {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The prediction's id: send it with POST /feedback"))
                .build(),
        ))
    };
    let one = AllOfBuilder::new().item(output()).item(
        ObjectBuilder::new()
            .property("prediction_id", id())
            .property("model_version", version())
            .required("prediction_id")
            .required("model_version"),
    );
    let item = AllOfBuilder::new()
        .item(output())
        .item(ObjectBuilder::new().property("prediction_id", id()).required("prediction_id"));
    let many = ObjectBuilder::new()
        .property("outputs", ArrayBuilder::new().items(item).build())
        .property("model_version", version())
        .required("outputs")
        .required("model_version");
    // the batch limit is the server's `--max-batch` (256 by default)
    let batch_request = ObjectBuilder::new()
        .property("inputs", ArrayBuilder::new().items(request()).min_items(Some(1)).max_items(Some(256)).build())
        .required("inputs")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    let operation = |id: String, summary: String, body: RefOr<Schema>, answer: RefOr<Schema>| {
        OperationBuilder::new()
            .operation_id(Some(id))
            .tag("predict")
            .summary(Some(summary))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json(body))
                    .required(Some(utoipa::openapi::Required::True))
                    .build(),
            ))
            .response(
                "200",
                ResponseBuilder::new().description("the prediction").content("application/json", json(answer)).build(),
            )
            .response("422", error())
            .response("503", error())
            .response(
                "404",
                ResponseBuilder::new()
                    .description("the user named has no history in the feature store (spending, anomaly)")
                    .content("application/json", json(Ref::from_schema_name("ErrorBody").into()))
                    .build(),
            )
            .build()
    };
    let path = format!("/predict/{}", M::ROUTE);
    let kind = M::MODEL.description();
    doc.paths.add_path_operation(
        &path,
        vec![HttpMethod::Post],
        operation(format!("predict_{}", M::MODEL.name()), kind.to_string(), request().into(), one.into()),
    );
    doc.paths.add_path_operation(
        format!("{path}/batch"),
        vec![HttpMethod::Post],
        operation(
            format!("predict_{}_batch", M::MODEL.name()),
            format!("{kind}: a batch (all answered by one version)"),
            batch_request.into(),
            many.into(),
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_joins_the_output_object() {
        assert_eq!(with_fields(br#"{"a":1}"#, r#""v":"3""#), br#"{"a":1,"v":"3"}"#);
        assert_eq!(with_fields(b"{}", r#""v":"3""#), br#"{"v":"3"}"#);
    }
}
