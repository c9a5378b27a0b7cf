//! The web dashboard at `/ui`: this module reads what a page shows (registry, monitoring store,
//! feature store, statistics, health) and hands it to `nivesh-ui`, which renders it; it holds
//! no HTML of its own.
//!
//! Auth follows the API's keys. Without keys (loopback only) every page and action is open.
//! With keys, a browser signs in once at `/ui/login` with a key; the server answers with a
//! session cookie (`HttpOnly`, `SameSite=Strict`, `Path=/ui`, 8 hours) holding the expiry, the
//! role and the key's position in its list, signed with HMAC-SHA256 under the key itself — no server
//! state, valid on every replica with the same keys, void when the key is removed. A request
//! may also carry the key as `X-API-Key` / `Authorization: Bearer` (scripts). Promote, roll
//! back and train need an admin key (any API key when `ML_ADMIN_KEYS` is unset, as for
//! `/admin`). Every form post must come from this origin (`Origin` / `Sec-Fetch-Site`), and
//! every page carries a content security policy allowing only this origin's script and style.

use super::middleware as mw;
use crate::auth::{constant_time_eq, presented_key};
use crate::error::ApiError;
use crate::served::{ForKind, Served, for_kind};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Extension, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{KeyInit, Mac};
use nivesh_models::ModelKind;
use nivesh_ui::pages::{self, Notice};
use nivesh_ui::{Markup, Session};
use serde::Deserialize;
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;

const COOKIE: &str = "nivesh_ui";
const SESSION_SECS: i64 = 8 * 3600;
/// Runs the list shows at most.
const RUNS_SHOWN: usize = 200;
/// Alias changes a model's page shows at most.
const HISTORY_SHOWN: usize = 200;

/// Who is signed in: what the page shows and the name the alias history records.
#[derive(Debug, Clone)]
struct Sess {
    view: Session,
    actor: String,
}

/// The dashboard's routes; pages behind [`gate`], sign-in and assets open; all rate-limited.
pub fn routes(state: AppState) -> Router<AppState> {
    let gated = Router::new()
        .route("/ui", get(overview))
        .route("/ui/", get(overview))
        .route("/ui/live", get(live))
        .route("/ui/models", get(models))
        .route("/ui/models/{model}", get(model))
        .route("/ui/models/{model}/promote", post(promote))
        .route("/ui/models/{model}/rollback", post(rollback))
        .route("/ui/train", post(train))
        .route("/ui/train/{id}", get(job))
        .route("/ui/runs", get(runs))
        .route("/ui/runs/{id}", get(run))
        .route("/ui/runs/{id}/artifact", get(artifact))
        .route("/ui/compare", get(compare))
        .route("/ui/drift", get(drift))
        .route("/ui/drift/{model}", get(drift_model))
        .route("/ui/features", get(features))
        .route("/ui/try", get(try_page))
        .route("/ui/try/{model}", post(try_model))
        .route_layer(from_fn_with_state(state.clone(), gate))
        .route_layer(from_fn_with_state(state.clone(), mw::limit));
    let open = Router::new()
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/assets/ui.css", get(|| async { asset("text/css; charset=utf-8", nivesh_ui::CSS) }))
        .route("/ui/assets/ui.js", get(|| async { asset("text/javascript; charset=utf-8", nivesh_ui::JS) }))
        .route_layer(from_fn_with_state(state, mw::limit));
    gated.merge(open)
}

// ---------------------------------------------------------------------------------------------
// responses

fn secure_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(nivesh_ui::CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

fn html(status: StatusCode, m: Markup) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], m.into_string()).into_response();
    secure_headers(&mut r);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r =
        ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response();
    secure_headers(&mut r);
    r
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A page's failure, shown as a page with the API error's status and message.
struct UiError(StatusCode, String, Session);

type UiResult = Result<Response, UiError>;

impl UiError {
    fn of(s: &Sess, e: ApiError) -> Self {
        if let ApiError::Internal(detail) = &e {
            tracing::error!(detail, "dashboard: internal error");
        }
        UiError(e.status(), e.to_string(), s.view.clone())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = self.0.canonical_reason().unwrap_or("Error");
        html(self.0, nivesh_ui::error_page(&self.2, title, &self.1))
    }
}

fn fragment_wanted(h: &HeaderMap) -> bool {
    h.get("x-fragment").is_some()
}

// ---------------------------------------------------------------------------------------------
// sessions

fn signature(key: &str, message: &str) -> String {
    match hmac::Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut m) => {
            m.update(message.as_bytes());
            nivesh_core::hex::lower(&m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Every configured key with its position: API keys first, then admin keys.
fn all_keys(state: &AppState) -> impl Iterator<Item = (usize, &String)> {
    state.config.api_keys.iter().chain(&state.config.admin_keys).enumerate()
}

/// How pages and the alias history name a key: its place in its list (`admin key 2`), which
/// says nothing about the key itself (a hash of it could be brute-forced offline).
fn label(state: &AppState, key: &str) -> String {
    let c = &state.config;
    let position = |keys: &[String]| keys.iter().position(|k| constant_time_eq(k.as_bytes(), key.as_bytes()));
    match (position(&c.admin_keys), position(&c.api_keys)) {
        (Some(i), _) => format!("admin key {}", i + 1),
        (None, Some(i)) => format!("api key {}", i + 1),
        (None, None) => "unknown key".into(),
    }
}

/// Whether `key` may view (Some) and act as admin (Some(true)), as the API's middleware decides.
fn role_of(state: &AppState, key: &str) -> Option<bool> {
    let c = &state.config;
    let admin = crate::auth::accepted(&c.admin_keys, key)
        || (c.admin_keys.is_empty() && crate::auth::accepted(&c.api_keys, key));
    if admin {
        Some(true)
    } else if crate::auth::accepted(&c.api_keys, key) {
        Some(false)
    } else {
        None
    }
}

fn sess(state: &AppState, admin: bool, key: &str) -> Sess {
    let name = label(state, key);
    Sess { actor: format!("ui:{}", name.replace(' ', "-")), view: Session { auth_required: true, admin, who: name } }
}

/// `v1.<expiry>.<role a|u>.<key's position>.<HMAC-SHA256 of those under the key>`.
fn cookie_value(state: &AppState, key: &str, admin: bool, now: i64) -> String {
    let index = all_keys(state).find(|(_, k)| constant_time_eq(k.as_bytes(), key.as_bytes())).map_or(0, |(i, _)| i);
    let (exp, role) = (now + SESSION_SECS, if admin { "a" } else { "u" });
    let sig = signature(key, &format!("nivesh-ui-v1|{exp}|{role}|{index}"));
    format!("v1.{exp}.{role}.{index}.{sig}")
}

/// The session a cookie carries, if it is well signed, unexpired and its key still accepted.
fn from_cookie(state: &AppState, value: &str, now: i64) -> Option<Sess> {
    let mut parts = value.split('.');
    let (v, exp, role, index, sig) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if v != "v1" || parts.next().is_some() || exp.parse::<i64>().ok()? <= now {
        return None;
    }
    let i: usize = index.parse().ok()?;
    let (_, key) = all_keys(state).find(|(j, _)| *j == i)?;
    let expected = signature(key, &format!("nivesh-ui-v1|{exp}|{role}|{index}"));
    if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return None;
    }
    let admin = role_of(state, key)?;
    // a session signed as admin stays admin only while its key is
    Some(sess(state, admin && role == "a", key))
}

fn cookie_of<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Without keys, the dashboard answers only requests sent to an allowed host name
/// (`MCP_ALLOWED_HOSTS`: loopback by default), so a site that rebinds its DNS name to the
/// loopback address cannot drive it.
fn host_allowed(state: &AppState, h: &HeaderMap) -> bool {
    let c = &state.config;
    let keys = !c.api_keys.is_empty() || !c.admin_keys.is_empty() || c.user_tokens.is_some();
    let allowed = &state.config.mcp_allowed_hosts;
    if keys || allowed.iter().any(|a| a == "*") {
        return true;
    }
    let Some(host) = h.get(header::HOST).and_then(|v| v.to_str().ok()) else { return true };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    allowed.iter().any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(name))
}

fn session_of(state: &AppState, h: &HeaderMap) -> Option<Sess> {
    let c = &state.config;
    if c.api_keys.is_empty() && c.admin_keys.is_empty() && c.user_tokens.is_none() {
        return Some(Sess {
            view: Session { auth_required: false, admin: true, who: "no keys (loopback)".into() },
            actor: "ui:local".into(),
        });
    }
    if let Some(k) = presented_key(h) {
        return role_of(state, k).map(|admin| sess(state, admin, k));
    }
    from_cookie(state, cookie_of(h, COOKIE)?, chrono::Utc::now().timestamp())
}

/// Same-origin (or not a browser): the one rule in [`crate::auth::from_another_site`].
fn same_origin(h: &HeaderMap) -> bool {
    !crate::auth::from_another_site(h)
}

/// Sign-in wall and cross-site check for every gated page and action.
async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !host_allowed(&state, req.headers()) {
        let anonymous = Session { auth_required: false, admin: false, who: "".into() };
        return html(
            StatusCode::FORBIDDEN,
            nivesh_ui::error_page(&anonymous, "Refused", "This host name is not allowed (MCP_ALLOWED_HOSTS)."),
        );
    }
    let Some(session) = session_of(&state, req.headers()) else {
        if req.method() == Method::GET && !fragment_wanted(req.headers()) {
            let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/ui");
            return see_other(&format!("/ui/login?next={}", nivesh_ui::urlencode(next)));
        }
        let anonymous = Session { auth_required: true, admin: false, who: "not signed in".into() };
        return html(
            StatusCode::UNAUTHORIZED,
            nivesh_ui::error_page(&anonymous, "Sign in needed", "Sign in at /ui/login with an API key."),
        );
    };
    if req.method() == Method::POST && !same_origin(req.headers()) {
        return html(
            StatusCode::FORBIDDEN,
            nivesh_ui::error_page(&session.view, "Refused", "A form from another site cannot act on this server."),
        );
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Where a sign-in may send the browser: a dashboard path only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui") && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/ui".into(),
    }
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    html(StatusCode::OK, nivesh_ui::login(&safe_next(q.next.as_deref()), None))
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
    next: Option<String>,
}

async fn login(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref());
    if !same_origin(&headers) {
        return html(StatusCode::FORBIDDEN, nivesh_ui::login(&next, Some("A sign-in from another site is refused.")));
    }
    let key = f.key.trim();
    let Some(admin) = role_of(&state, key) else {
        return html(StatusCode::FORBIDDEN, nivesh_ui::login(&next, Some("That key is not accepted.")));
    };
    let secure = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes() == b"https");
    let cookie = format!(
        "{COOKIE}={}; Path=/ui; Max-Age={SESSION_SECS}; HttpOnly; SameSite=Strict{}",
        cookie_value(&state, key, admin, chrono::Utc::now().timestamp()),
        if secure { "; Secure" } else { "" }
    );
    let mut r = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout() -> Response {
    let mut r = see_other("/ui/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("nivesh_ui=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// reading the stores

/// Run a blocking read of the registry (or another store) off the async threads.
async fn blocking<T: Send + 'static>(
    s: &Sess,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, UiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| UiError::of(s, e)),
        Err(e) => Err(UiError::of(s, ApiError::from(e))),
    }
}

fn store_error(e: nivesh_store::StoreError) -> ApiError {
    match e {
        nivesh_store::StoreError::NotFound(m) => ApiError::NotFound(m),
        other => ApiError::Unavailable(format!("registry: {}", nivesh_core::error_chain(&other))),
    }
}

fn kind_of(s: &Sess, name: &str) -> Result<ModelKind, UiError> {
    name.parse().map_err(|e: nivesh_models::kind::UnknownModel| UiError::of(s, ApiError::NotFound(e.to_string())))
}

/// Each model's last drift check (empty without monitoring).
async fn last_checks(state: &AppState) -> Vec<(String, Option<nivesh_api::monitoring::DriftReport>)> {
    let mut out = Vec::new();
    if state.monitor.is_none() {
        return out;
    }
    for kind in ModelKind::ALL {
        let last = super::monitoring::drift_checks(state, kind, 1).await.ok().and_then(|v| v.into_iter().next());
        out.push((kind.name().to_string(), last));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// pages

async fn overview_markup(state: &AppState, s: &Sess, whole: bool) -> UiResult {
    let health = super::health::report(state).await;
    let traffic = state.stats.traffic(std::time::SystemTime::now());
    let drift = last_checks(state).await;
    let (registry, monitor) = (state.registry.clone(), state.monitor.clone());
    let (runs_total, recent, logged) = blocking(s, move || {
        let total = registry.run_count().map_err(store_error)?;
        let recent =
            registry.list_runs(&nivesh_store::RunFilter { limit: 8, ..Default::default() }).map_err(store_error)?;
        let logged = monitor.map(|m| {
            let to = chrono::Utc::now().timestamp_millis();
            ModelKind::ALL.iter().filter_map(|k| m.count(k.name(), to - 3_600_000, to).ok()).sum::<u64>()
        });
        Ok((total, recent, logged))
    })
    .await?;
    let o = pages::overview::Overview {
        health: &health,
        traffic: &traffic,
        drift: &drift,
        runs_total,
        recent_runs: &recent,
        logged_last_hour: logged,
    };
    Ok(html(
        StatusCode::OK,
        if whole { pages::overview::page_html(&s.view, &o) } else { pages::overview::fragment(&o) },
    ))
}

async fn overview(State(state): State<AppState>, Extension(s): Extension<Sess>) -> UiResult {
    overview_markup(&state, &s, true).await
}

async fn live(State(state): State<AppState>, Extension(s): Extension<Sess>) -> UiResult {
    overview_markup(&state, &s, false).await
}

fn job_view(j: crate::jobs::Job) -> pages::models::JobView {
    let word = |v: serde_json::Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    pages::models::JobView {
        id: j.id,
        state: word(serde_json::to_value(j.state).unwrap_or_default()),
        created_at: j.created_at,
        finished_at: j.finished_at,
        error: j.error,
        models: j
            .models
            .into_iter()
            .map(|m| pages::models::JobModel {
                model: m.model.name().to_string(),
                state: word(serde_json::to_value(m.state).unwrap_or_default()),
                seconds: m.seconds,
                run_id: m.run_id,
                version: m.version,
                alias: m.alias.map(|a| word(serde_json::to_value(a).unwrap_or_default())),
                detail: m.error.or(m.gate),
            })
            .collect(),
    }
}

async fn models(State(state): State<AppState>, Extension(s): Extension<Sess>) -> UiResult {
    let registry = state.registry.clone();
    let versions = blocking(&s, move || {
        ModelKind::ALL
            .iter()
            .map(|k| registry.versions(k.registry_name()).map_err(store_error))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let loaded: Vec<_> = ModelKind::ALL.iter().map(|k| state.info(*k)).collect();
    let rows: Vec<pages::models::ModelRow> = ModelKind::ALL
        .iter()
        .zip(&versions)
        .zip(&loaded)
        .map(|((k, v), l)| pages::models::ModelRow { name: k.name(), versions: v, loaded: l.as_ref() })
        .collect();
    let jobs: Vec<_> = state.jobs.list().into_iter().take(10).map(job_view).collect();
    Ok(html(StatusCode::OK, pages::models::list(&s.view, &rows, &jobs, state.config.training.is_some())))
}

async fn model_page(state: &AppState, s: &Sess, kind: ModelKind, notice: Option<Notice>) -> UiResult {
    let registry = state.registry.clone();
    let name = kind.registry_name();
    let (versions, events) = blocking(s, move || {
        Ok((
            registry.versions(name).map_err(store_error)?,
            registry.alias_events(name, HISTORY_SHOWN).map_err(store_error)?,
        ))
    })
    .await?;
    let loaded = state.info(kind);
    let status = if notice.as_ref().is_some_and(|n| !n.ok) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(html(
        status,
        pages::models::detail(
            &s.view,
            kind.name(),
            &versions,
            &events,
            loaded.as_ref(),
            state.config.training.is_some(),
            notice.as_ref(),
        ),
    ))
}

async fn model(State(state): State<AppState>, Extension(s): Extension<Sess>, Path(name): Path<String>) -> UiResult {
    let kind = kind_of(&s, &name)?;
    model_page(&state, &s, kind, None).await
}

fn admin_only(s: &Sess) -> Result<(), UiError> {
    if s.view.admin {
        Ok(())
    } else {
        Err(UiError(StatusCode::FORBIDDEN, "This needs an admin key (ML_ADMIN_KEYS).".into(), s.view.clone()))
    }
}

#[derive(Deserialize)]
struct PromoteForm {
    version: u32,
    alias: String,
    force: Option<String>,
}

/// After an alias moves, the server serves the new champion now, not at the next poll.
async fn reload_now(state: &AppState, kind: ModelKind) -> Option<String> {
    match state.reload(kind).await {
        Ok(_) => None,
        Err(e) => Some(format!(" (reload failed: {e}; the poller retries)")),
    }
}

async fn promote(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Path(name): Path<String>,
    Form(f): Form<PromoteForm>,
) -> UiResult {
    admin_only(&s)?;
    let kind = kind_of(&s, &name)?;
    let alias = f.alias.trim().to_string();
    if alias.is_empty() || alias.len() > 64 || !alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        let n = Notice { ok: false, text: "alias: 1-64 letters, digits, _ or -".into() };
        return model_page(&state, &s, kind, Some(n)).await;
    }
    let (registry, actor, force) = (state.registry.clone(), s.actor.clone(), f.force.is_some());
    let margin = state.config.training.as_ref().map_or(0.0, |t| t.margin);
    let a = alias.clone();
    let p = blocking(&s, move || {
        registry.promote_as(kind.registry_name(), f.version, &a, margin, force, Some(&actor)).map_err(store_error)
    })
    .await?;
    let notice = if p.promoted {
        let reload = if alias == "champion" { reload_now(&state, kind).await } else { None };
        Notice {
            ok: true,
            text: format!(
                "{alias} → v{} ({}; was {}){}",
                f.version,
                p.reason,
                p.previous.map(|v| format!("v{v}")).unwrap_or("none".into()),
                reload.unwrap_or_default()
            ),
        }
    } else {
        Notice { ok: false, text: format!("Not promoted: {}", p.reason) }
    };
    model_page(&state, &s, kind, Some(notice)).await
}

#[derive(Deserialize)]
struct RollbackForm {
    alias: String,
}

async fn rollback(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Path(name): Path<String>,
    Form(f): Form<RollbackForm>,
) -> UiResult {
    admin_only(&s)?;
    let kind = kind_of(&s, &name)?;
    let (registry, actor, alias) = (state.registry.clone(), s.actor.clone(), f.alias.clone());
    let done =
        tokio::task::spawn_blocking(move || registry.rollback_as(kind.registry_name(), &alias, Some(&actor))).await;
    let notice = match done {
        Ok(Ok(v)) => {
            let reload = if f.alias == "champion" { reload_now(&state, kind).await } else { None };
            Notice { ok: true, text: format!("{} → v{v} (rollback){}", f.alias, reload.unwrap_or_default()) }
        }
        Ok(Err(e)) => Notice { ok: false, text: format!("Not rolled back: {e}") },
        Err(e) => return Err(UiError::of(&s, ApiError::from(e))),
    };
    model_page(&state, &s, kind, Some(notice)).await
}

#[derive(Deserialize)]
struct TrainForm {
    model: Option<String>,
}

async fn train(State(state): State<AppState>, Extension(s): Extension<Sess>, Form(f): Form<TrainForm>) -> UiResult {
    admin_only(&s)?;
    let kinds = match f.model.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => vec![kind_of(&s, m)?],
        None => ModelKind::ALL.to_vec(),
    };
    let id = super::handlers::start_job(&state, kinds).map_err(|e| UiError::of(&s, e))?;
    Ok(see_other(&format!("/ui/train/{}", nivesh_ui::urlencode(&id))))
}

async fn job(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> UiResult {
    let j = state.jobs.get(&id).ok_or_else(|| {
        UiError::of(&s, ApiError::NotFound(format!("no training job {id:?} (jobs are kept in memory)")))
    })?;
    let v = job_view(j);
    Ok(html(
        StatusCode::OK,
        if fragment_wanted(&headers) { pages::models::job_fragment(&v) } else { pages::models::job_page(&s.view, &v) },
    ))
}

#[derive(Deserialize, Default)]
struct RunsQuery {
    model: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn date(s: &Sess, field: &str, v: Option<String>) -> Result<Option<chrono::NaiveDate>, UiError> {
    blank(v)
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                UiError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{field}: {d:?} is not a YYYY-MM-DD date"),
                    s.view.clone(),
                )
            })
        })
        .transpose()
}

async fn runs(State(state): State<AppState>, Extension(s): Extension<Sess>, Query(q): Query<RunsQuery>) -> UiResult {
    let model = blank(q.model);
    if let Some(m) = &model {
        kind_of(&s, m)?;
    }
    let status = match blank(q.status).as_deref() {
        None => None,
        Some("finished") => Some(nivesh_store::registry::RunStatus::Finished),
        Some("running") => Some(nivesh_store::registry::RunStatus::Running),
        Some("failed") => Some(nivesh_store::registry::RunStatus::Failed),
        Some(other) => {
            return Err(UiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("status: {other:?} is not finished, running or failed"),
                s.view.clone(),
            ));
        }
    };
    let (since, until) = (date(&s, "since", q.since)?, date(&s, "until", q.until)?);
    let filter = nivesh_store::RunFilter {
        experiment: model.clone(),
        status,
        since: since.map(|d| d.to_string()),
        // the whole "to" day
        until: until.and_then(|d| d.succ_opt()).map(|d| d.to_string()),
        limit: RUNS_SHOWN,
    };
    let registry = state.registry.clone();
    let list = blocking(&s, move || registry.list_runs(&filter).map_err(store_error)).await?;
    let shown = pages::runs::RunQuery {
        model,
        status: status.map(|s| s.as_str().to_string()),
        since: since.map(|d| d.to_string()),
        until: until.map(|d| d.to_string()),
    };
    let names: Vec<String> = ModelKind::ALL.iter().map(|k| k.name().to_string()).collect();
    Ok(html(StatusCode::OK, pages::runs::list(&s.view, &shown, &names, &list, RUNS_SHOWN)))
}

async fn run(State(state): State<AppState>, Extension(s): Extension<Sess>, Path(id): Path<String>) -> UiResult {
    let registry = state.registry.clone();
    let (record, versions) = blocking(&s, move || {
        let record = registry.run(&id).map_err(store_error)?;
        let mut versions = Vec::new();
        if let Ok(kind) = record.experiment.parse::<ModelKind>() {
            for v in registry.versions(kind.registry_name()).map_err(store_error)? {
                if v.run_id == record.id {
                    versions.push((kind.name().to_string(), v.version));
                }
            }
        }
        Ok((record, versions))
    })
    .await?;
    Ok(html(StatusCode::OK, pages::runs::detail(&s.view, &record, &versions)))
}

#[derive(Deserialize)]
struct ArtifactQuery {
    name: String,
}

/// A run's artifact, checked against its digest: PNG and JSON shown inline, everything else a
/// download (an HTML report never runs as a page of this origin).
async fn artifact(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Path(id): Path<String>,
    Query(q): Query<ArtifactQuery>,
) -> UiResult {
    if q.name == "model" {
        // the weights: the API never serves them to a read-only key either
        admin_only(&s)?;
    }
    let (registry, artifacts, name) = (state.registry.clone(), state.artifacts.clone(), q.name.clone());
    let bytes = blocking(&s, move || {
        let record = registry.run(&id).map_err(store_error)?;
        let digest = record
            .artifacts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| ApiError::NotFound(format!("run {id} has no artifact {name:?}")))?;
        artifacts.get(&digest).map_err(|e| ApiError::Unavailable(format!("artifact {name}: {e}")))
    })
    .await?;
    let file =
        q.name.rsplit('/').next().unwrap_or("artifact").replace(|c: char| !c.is_ascii_graphic() || c == '"', "_");
    let (content_type, inline) = match q.name.rsplit('.').next() {
        Some("png") => ("image/png", true),
        Some("json") => ("application/json", true),
        _ => ("application/octet-stream", false),
    };
    let disposition = format!("{}; filename=\"{file}\"", if inline { "inline" } else { "attachment" });
    let mut r = ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response();
    secure_headers(&mut r);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

async fn compare(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Query(q): Query<Vec<(String, String)>>,
) -> UiResult {
    let ids: Vec<String> = q.into_iter().filter(|(k, v)| k == "run" && !v.is_empty()).map(|(_, v)| v).collect();
    if ids.len() != 2 {
        return Err(UiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("run: tick exactly two runs to compare ({} given)", ids.len()),
            s.view.clone(),
        ));
    }
    let registry = state.registry.clone();
    let (a, b) = blocking(&s, move || {
        Ok((registry.run(&ids[0]).map_err(store_error)?, registry.run(&ids[1]).map_err(store_error)?))
    })
    .await?;
    Ok(html(StatusCode::OK, pages::runs::compare(&s.view, &a, &b)))
}

async fn drift(State(state): State<AppState>, Extension(s): Extension<Sess>) -> UiResult {
    let mut checks = last_checks(&state).await;
    if checks.is_empty() {
        checks = ModelKind::ALL.iter().map(|k| (k.name().to_string(), None)).collect();
    }
    Ok(html(StatusCode::OK, pages::drift::list(&s.view, &checks, state.monitor.is_some())))
}

async fn drift_model(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Path(name): Path<String>,
) -> UiResult {
    let kind = kind_of(&s, &name)?;
    let monitoring = state.monitor.is_some();
    let (history, performance) = if monitoring {
        let history = super::monitoring::drift_checks(&state, kind, 50).await.map_err(|e| UiError::of(&s, e))?;
        let performance = super::monitoring::performance_of(&state, kind, state.config.drift.window, 8).await.ok();
        (history, performance)
    } else {
        (Vec::new(), None)
    };
    Ok(html(StatusCode::OK, pages::drift::detail(&s.view, kind.name(), &history, performance.as_ref(), monitoring)))
}

#[derive(Deserialize)]
struct FeaturesQuery {
    user: Option<String>,
}

async fn features(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    Query(q): Query<FeaturesQuery>,
) -> UiResult {
    let Some(store) = state.features.clone() else {
        return Err(UiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "The feature store is not configured on this server.".into(),
            s.view.clone(),
        ));
    };
    let st = store.clone();
    let materialized = blocking(&s, move || {
        st.definitions()
            .views
            .iter()
            .map(|v| st.offline().materializations(v).map_err(ApiError::from))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let user = blank(q.user);
    let found = match &user {
        None => None,
        Some(u) if u.len() > 128 => Some(Err("user: at most 128 characters".to_string())),
        Some(u) => {
            let req = nivesh_api::OnlineFeaturesRequest { entity_ids: vec![u.clone()], views: Vec::new() };
            Some(match crate::answer::online_features(&state, req).await {
                Ok(mut v) if !v.is_empty() => Ok(v.remove(0)),
                Ok(_) => Err(format!("no online features for {u:?}")),
                Err(e) => Err(e.to_string()),
            })
        }
    };
    let views: Vec<pages::features::ViewState> = store
        .definitions()
        .views
        .iter()
        .zip(materialized)
        .map(|(view, materializations)| pages::features::ViewState { view, materializations })
        .collect();
    let lookup = match (&user, &found) {
        (Some(u), Some(Ok(f))) => pages::features::Lookup::Found(u, f),
        (Some(u), Some(Err(e))) => pages::features::Lookup::Failed(u, e.clone()),
        _ => pages::features::Lookup::None,
    };
    Ok(html(StatusCode::OK, pages::features::page_html(&s.view, &views, lookup, chrono::Utc::now().timestamp())))
}

/// Now in IST as a `datetime-local` value (the anomaly form's default).
fn now_ist() -> String {
    let now = chrono::Utc::now();
    match chrono::FixedOffset::east_opt(19_800) {
        Some(ist) => now.with_timezone(&ist).format("%Y-%m-%dT%H:%M").to_string(),
        None => now.format("%Y-%m-%dT%H:%M").to_string(),
    }
}

async fn try_page(Extension(s): Extension<Sess>) -> UiResult {
    Ok(html(StatusCode::OK, pages::try_it::page_html(&s.view, None, &now_ist())))
}

/// Answers a form's body as `POST /predict/{route}` does.
struct TryIt(AppState, serde_json::Value);

type Answer = Pin<Box<dyn Future<Output = Result<Vec<u8>, ApiError>> + Send>>;

impl ForKind for TryIt {
    type Output = Answer;
    fn call<M: Served>(self) -> Answer {
        Box::pin(async move {
            let req: M::Request = crate::parse::parse_value(self.1)?;
            super::predict::predict_body::<M>(&self.0, req).await.map(|(body, _)| body)
        })
    }
}

async fn try_model(
    State(state): State<AppState>,
    Extension(s): Extension<Sess>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult {
    let kind = kind_of(&s, &name)?;
    let (status, request, body) = match pages::try_it::request(kind, &form) {
        Err(e) => {
            let field = e.split(':').next().unwrap_or("").to_string();
            let err = ApiError::invalid(field.as_str(), e.split_once(": ").map(|x| x.1).unwrap_or(&e).to_string());
            (err.status(), serde_json::Value::Null, serde_json::to_value(err.body()).unwrap_or_default())
        }
        Ok(request) => match for_kind(kind, TryIt(state.clone(), request.clone())).await {
            Ok(bytes) => (StatusCode::OK, request, serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) => (e.status(), request, serde_json::to_value(e.body()).unwrap_or_default()),
        },
    };
    let answer = pages::try_it::answer(kind, &request, status.as_u16(), &body);
    if fragment_wanted(&headers) {
        return Ok(html(StatusCode::OK, answer));
    }
    Ok(html(StatusCode::OK, pages::try_it::page_html(&s.view, Some((kind, &form, answer)), &now_ist())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(safe_next(Some("/ui/runs?model=intent")), "/ui/runs?model=intent");
        for bad in ["https://evil.example/ui", "//evil.example", "/ui\\..\\x", "/metrics"] {
            assert_eq!(safe_next(Some(bad)), "/ui", "{bad}");
        }
        assert_eq!(safe_next(None), "/ui");
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "no browser headers: a script");
        h.insert(header::HOST, "127.0.0.1:8000".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:8000.evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h), "an opaque origin is not this server");
        // behind a proxy that rewrites Host
        h.insert(header::HOST, "nivesh-ml:8000".parse().unwrap());
        h.insert("x-forwarded-host", "ml.example.in".parse().unwrap());
        h.insert(header::ORIGIN, "https://ml.example.in".parse().unwrap());
        assert!(same_origin(&h));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; nivesh_ui=v1.2.a.f.s; b=2".parse().unwrap());
        assert_eq!(cookie_of(&h, COOKIE), Some("v1.2.a.f.s"));
        assert_eq!(cookie_of(&h, "c"), None);
    }
}
