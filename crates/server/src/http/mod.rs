//! The HTTP layer: routes, middleware order, the OpenAPI document and the docs UI.

pub mod extract;
pub mod handlers;
pub mod types;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use handlers as h;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "nivesh-ml", description = "Intent, NER, spending forecasts, transaction anomalies and credit risk for Nivesh"),
    paths(
        h::predict_intent, h::predict_ner, h::predict_spending, h::predict_anomaly, h::predict_credit,
        h::batch_intent, h::batch_ner, h::batch_spending, h::batch_anomaly, h::batch_credit,
        h::list_models, h::reload_model, h::statistics, h::clear_cache, h::online_features,
        h::live, h::startup, h::ready, h::health,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&ApiKeyScheme),
    tags((name = "predict"), (name = "models"), (name = "monitoring"), (name = "features"), (name = "health"))
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

/// The whole application: protected routes (auth, rate and in-flight limits, timeout) and
/// open ones (health, metrics, docs), all counted by the metrics middleware.
pub fn router(state: AppState) -> Router {
    crate::http::extract::BODY_LIMIT.store(state.config.max_body_bytes, std::sync::atomic::Ordering::Relaxed);
    let protected = Router::new()
        .route("/predict/intent", post(h::predict_intent))
        .route("/predict/ner", post(h::predict_ner))
        .route("/predict/spending", post(h::predict_spending))
        .route("/predict/anomaly", post(h::predict_anomaly))
        .route("/predict/credit-risk", post(h::predict_credit))
        .route("/predict/intent/batch", post(h::batch_intent))
        .route("/predict/ner/batch", post(h::batch_ner))
        .route("/predict/spending/batch", post(h::batch_spending))
        .route("/predict/anomaly/batch", post(h::batch_anomaly))
        .route("/predict/credit-risk/batch", post(h::batch_credit))
        .route("/models", get(h::list_models))
        .route("/models/list", get(h::list_models))
        .route("/monitoring/statistics", get(h::statistics))
        .route("/features/online", post(h::online_features))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::require_key))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::limits::limit));
    let admin = Router::new()
        .route("/models/{name}/reload", post(h::reload_model))
        .route("/cache/clear", post(h::clear_cache))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::require_admin))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::limits::limit));
    let open = Router::new()
        .route("/health", get(h::health))
        .route("/health/live", get(h::live))
        .route("/health/startup", get(h::startup))
        .route("/health/ready", get(h::ready))
        .route("/metrics", get(crate::prometheus::metrics))
        .route("/noop", get(h::noop));
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi());
    let mut app = Router::new()
        .merge(protected)
        .merge(admin)
        .merge(open)
        .merge(docs)
        .fallback(|| async { crate::error::ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::prometheus::track))
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
