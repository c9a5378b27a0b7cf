//! The HTTP layer: routes, middleware order, the OpenAPI document and the docs UI.

pub mod extract;
pub mod handlers;
pub mod health;
pub mod middleware;
pub mod monitoring;
pub mod predict;
pub mod ui;

use crate::served::{ForKind, Served, for_kind};
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use handlers as h;
use health as hl;
use middleware as mw;
use monitoring as mo;
use nivesh_models::ModelKind;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "nivesh-ml", description = "Intent, NER, spending forecasts, transaction anomalies and credit risk for Nivesh"),
    paths(
        h::list_models, h::reload_model, h::statistics, h::traffic, h::clear_cache, h::online_features,
        h::start_training, h::training_job, h::training_jobs, h::tools,
        mo::last_drift, mo::check_drift, mo::drift_history, mo::feedback, mo::performance,
        hl::live, hl::startup, hl::ready, hl::health,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&ApiKeyScheme),
    tags((name = "predict"), (name = "models"), (name = "monitoring"), (name = "features"), (name = "agents"), (name = "health"))
)]
pub struct ApiDoc;

struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
    }
}

/// The prediction routes of every model.
struct PredictRoutes(Router<AppState>);

impl ForKind for PredictRoutes {
    type Output = Router<AppState>;
    fn call<M: Served>(self) -> Router<AppState> {
        self.0
            .route(&format!("/predict/{}", M::ROUTE), post(predict::predict::<M>))
            .route(&format!("/predict/{}/batch", M::ROUTE), post(predict::batch::<M>))
    }
}

/// Their operations in the OpenAPI document.
struct PredictDocs<'a>(&'a mut utoipa::openapi::OpenApi);

impl ForKind for PredictDocs<'_> {
    type Output = ();
    fn call<M: Served>(self) {
        predict::document::<M>(self.0);
    }
}

/// The OpenAPI document: the routes above, and each model's prediction routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for kind in ModelKind::ALL {
        for_kind(kind, PredictDocs(&mut doc));
    }
    document_errors(&mut doc);
    document_alternatives(&mut doc);
    doc
}

/// `GET /openapi.json`: the document as JSON, serialised on the first request and kept as bytes.
/// The built [`openapi()`] value is ~2.4 MB of heap (measured with heaptrack: schemas, paths and
/// their strings as separate allocations) against 70 KB as JSON, so the server never holds the
/// value, and holds the bytes only once someone has asked for the document.
async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    static DOC: std::sync::OnceLock<axum::body::Bytes> = std::sync::OnceLock::new();
    let body = match DOC.get() {
        Some(b) => b.clone(),
        None => match serde_json::to_vec(&openapi()) {
            Ok(v) => DOC.get_or_init(|| axum::body::Bytes::from(v)).clone(),
            Err(e) => return crate::error::ApiError::Internal(format!("the OpenAPI document: {e}")).into_response(),
        },
    };
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The request bodies that need one of two fields, said in the schema (`allOf` the body's
/// object and an `anyOf` of the alternatives) so that clients and schema-driven testers know:
/// an anomaly needs `user_id` or `transaction.user_id`; a spending forecast `user_id` or
/// `transactions`; feedback `prediction_id`, or `model` with `input_hash`. The rules JSON
/// Schema cannot say (a spending history of at least 7 days; `payments_missed` ≤
/// `total_payments`) are in the descriptions and answered with 422 naming the field.
fn document_alternatives(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String).min_length(Some(1));
    let needs =
        |fields: &[&str]| fields.iter().fold(ObjectBuilder::new(), |o, f| o.property(*f, text()).required(*f)).build();
    let rules: [(&str, Vec<utoipa::openapi::schema::Schema>); 3] = [
        (
            "AnomalyRequest",
            vec![
                needs(&["user_id"]).into(),
                ObjectBuilder::new()
                    .property("transaction", needs(&["user_id"]))
                    .required("transaction")
                    .build()
                    .into(),
            ],
        ),
        (
            "SpendingRequest",
            vec![
                needs(&["user_id"]).into(),
                ObjectBuilder::new()
                    .property(
                        "transactions",
                        utoipa::openapi::schema::ArrayBuilder::new().items(ObjectBuilder::new()).min_items(Some(1)),
                    )
                    .required("transactions")
                    .build()
                    .into(),
            ],
        ),
        ("FeedbackRequest", vec![needs(&["prediction_id"]).into(), needs(&["model", "input_hash"]).into()]),
    ];
    let Some(components) = doc.components.as_mut() else { return };
    for (name, alternatives) in rules {
        let Some(body) = components.schemas.remove(name) else { continue };
        let any = alternatives.into_iter().fold(AnyOfBuilder::new(), |a, s| a.item(s));
        components.schemas.insert(name.to_string(), AllOfBuilder::new().item(body).item(any).into());
    }
}

/// Every error answer an operation can give, documented on it with the one error body: the
/// middleware's (401/403 keys and tokens, 429 rate and in-flight limits, 503 timeout) on the
/// protected routes, the body's (400, 413, 415, 422) on those that take one, and 422 on those
/// with query parameters.
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let open = path.starts_with("/health");
        for (has_body, op) in [(false, item.get.as_mut()), (true, item.post.as_mut())] {
            let Some(op) = op else { continue };
            let r = &mut op.responses.responses;
            let mut add = |code: &str, what: &str| {
                r.entry(code.to_string()).or_insert_with(|| error(what));
            };
            if !open {
                add("401", "no API key or user token, or a token that does not verify");
                add("403", "a wrong API key, or a user token asking for another user or route");
                add("429", "over the client's rate limit, or too many requests in flight (Retry-After)");
                add("503", "not ready, or past the request timeout (Retry-After)");
            }
            let has_query = op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
            if has_body {
                add("400", "malformed JSON, or an empty body");
                add("413", "the body is over the size limit");
                add("415", "a media type other than JSON, a compressed body, or a form from another site");
                add("422", "a value refused; `field` names it");
            } else if has_query {
                add("422", "a query parameter refused (out of range, of the wrong type, repeated or unknown)");
            }
        }
    }
}

/// The Open Inference Protocol over gRPC (served on its own port): Triton's service, counted
/// by the metrics middleware like every route; keys and limits are checked per call.
pub fn grpc_router(state: AppState) -> Router {
    Router::new()
        .route_service("/inference.GRPCInferenceService/{*method}", crate::oip::grpc::service(state.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), mw::track))
        .with_state(state)
}

/// The whole application: protected routes (auth, rate and in-flight limits, timeout) and
/// open ones (health, metrics, docs), all counted by the metrics middleware.
pub fn router(state: AppState) -> Router {
    let predict = ModelKind::ALL.into_iter().fold(Router::new(), |r, kind| for_kind(kind, PredictRoutes(r)));
    let protected = predict
        .route("/models", get(h::list_models))
        .route("/models/list", get(h::list_models))
        .route("/monitoring/statistics", get(h::statistics))
        .route("/monitoring/traffic", get(h::traffic))
        .route("/features/online", post(h::online_features))
        .route("/feedback", post(mo::feedback))
        .route("/monitoring/drift/{model}", get(mo::last_drift))
        .route("/monitoring/drift/{model}/check", post(mo::check_drift))
        .route("/monitoring/drift/{model}/history", get(mo::drift_history))
        .route("/monitoring/performance/{model}", get(mo::performance))
        .route("/tools", get(h::tools))
        .nest_service("/mcp", crate::mcp::http_service(state.clone(), state.config.mcp_allowed_hosts.clone()))
        .merge(crate::oip::rest::routes())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), mw::protect));
    let admin = Router::new()
        .route("/models/{name}/reload", post(h::reload_model))
        .route("/cache/clear", post(h::clear_cache))
        .route("/admin/train", post(h::start_training).get(h::training_jobs))
        .route("/admin/train/{id}", get(h::training_job))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), mw::protect_admin));
    let open = Router::new()
        .route("/health", get(hl::health))
        .route("/health/live", get(hl::live))
        .route("/health/startup", get(hl::startup))
        .route("/health/ready", get(hl::ready))
        .route("/metrics", get(h::metrics))
        .route("/noop", get(h::noop))
        .route("/openapi.json", get(openapi_json))
        .merge(crate::oip::rest::open());
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::from("/openapi.json"));
    let mut app = Router::new()
        .merge(protected)
        .merge(admin)
        .merge(open)
        .merge(ui::routes(state.clone()))
        .merge(docs)
        .fallback(|| async { crate::error::ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), mw::track))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(crate::error::ApiError::Internal("a handler panicked".into()))
        }));
    if !state.config.cors_origins.is_empty() {
        let origins: Vec<axum::http::HeaderValue> =
            state.config.cors_origins.iter().filter_map(|o| o.parse().ok()).collect();
        app = app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([
                    axum::http::header::CONTENT_TYPE,
                    axum::http::header::AUTHORIZATION,
                    axum::http::HeaderName::from_static("x-api-key"),
                ]),
        );
    }
    app.with_state(state)
}
