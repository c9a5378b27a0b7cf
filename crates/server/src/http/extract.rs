//! `Json<T>` that accepts a body without `Content-Type` (some clients omit it) or a JSON body
//! sent as form data (curl's `-d` default), refuses any other media type with 415, a body over the limit with 413, bad JSON with 400, and a body of
//! the wrong shape with 422 naming the field (`inputs[3].query`). [`Query`] does the same for
//! the query string (`?windows=x`: 422 naming `windows`).

use crate::error::{ApiError, FieldPath};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

/// Like [`Json`], but an empty body is `T::default()` (`POST /admin/train` with no body).
pub struct OptionalJson<T>(pub T);

/// The body, after the media-type and size checks; `form`: it came labelled as form data
/// (curl's `-d` default), then it must look like JSON. From another site's page only
/// `application/json` is taken — the type that makes a browser ask CORS first — so a web page
/// cannot post a form or a no-CORS fetch to a server on the user's machine.
async fn read_body(req: Request, state: &AppState) -> Result<(Bytes, Option<String>), ApiError> {
    let mut form = None;
    if let Some(enc) =
        req.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        && !enc.is_empty()
        && enc != "identity"
    {
        return Err(ApiError::UnsupportedMediaType(format!("Content-Encoding {enc} (send the body uncompressed)")));
    }
    let ct = req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
    let json = ct
        .as_deref()
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .is_some_and(|e| e == "application/json" || e.ends_with("+json"));
    if !json && crate::auth::from_another_site(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {:?} from another site's page: send application/json",
            ct.as_deref().unwrap_or("no content type")
        )));
    }
    if let Some(ct) = ct {
        let essence = ct.split(';').next().unwrap_or("").trim().to_string();
        if essence == "application/x-www-form-urlencoded" {
            form = Some(essence);
        } else if !(essence == "application/json" || essence.ends_with("+json") || essence.is_empty()) {
            return Err(ApiError::UnsupportedMediaType(format!("Content-Type {essence:?}: send application/json")));
        }
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            // the router's `DefaultBodyLimit` is set from the same value
            ApiError::TooLarge(state.config.max_body_bytes)
        } else {
            ApiError::BadRequest { message: format!("reading the body: {e}") }
        }
    })?;
    Ok((bytes, form))
}

/// Every request body is a JSON object (serde would read a struct from an array too).
fn object(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() => Ok(()), // malformed: 400 below
        Some(_) => Err(ApiError::Invalid { field: None, reason: "the body must be a JSON object".into() }),
    }
}

fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A form-labelled body is taken only if it is JSON (an object or array).
fn check_form(bytes: &[u8], form: Option<String>) -> Result<(), ApiError> {
    match form {
        Some(essence) if !matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{') | Some(b'[')) => Err(
            ApiError::UnsupportedMediaType(format!("Content-Type {essence:?} holding no JSON: send application/json")),
        ),
        _ => Ok(()),
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, form) = read_body(req, state).await?;
        check_form(&bytes, form)?;
        object(&bytes)?;
        parse(&bytes).map(Json)
    }
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, form) = read_body(req, state).await?;
        // no body, or a JSON `null`: the defaults
        if blank(&bytes) || bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        check_form(&bytes, form)?;
        parse(&bytes).map(OptionalJson)
    }
}

/// The query string as `T`: a value of the wrong type, a repeated or an unknown parameter is a
/// 422 naming the parameter in `field` (axum's own `Query` answers a plain-text 400 that no route
/// documents).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

fn query<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = FieldPath::from_serde(e.path());
        let reason = e.into_inner().to_string();
        // a repeated or unknown parameter fails at the top, with no path: serde's message
        // (`unknown field `x`, expected …`, `duplicate field `x``) names it
        let field = if path.is_empty() { named_in(&reason).map(FieldPath::parse) } else { Some(path) };
        ApiError::Invalid { field, reason }
    })
}

/// The parameter serde's top-level message names: `unknown field `x`…` or `duplicate field `x``.
fn named_in(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("unknown field `").or_else(|| reason.strip_prefix("duplicate field `"))?;
    rest.split_once('`').map(|(name, _)| name).filter(|name| !name.is_empty())
}

pub use crate::parse::parse;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Req {
        inputs: Vec<Item>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        query: String,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Q {
        windows: Option<usize>,
        format: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        window: Option<String>,
    }

    #[test]
    fn query_errors_are_422_naming_the_parameter() {
        assert_eq!(query::<Q>("").unwrap(), Q { windows: None, format: None });
        assert_eq!(query::<Q>("windows=3&format=mcp").unwrap(), Q { windows: Some(3), format: Some("mcp".into()) });
        let e = query::<Q>("windows=null").unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "windows"), "{e:?}");
        let e = query::<Q>("windows=-1").unwrap_err();
        assert!(matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "windows"), "{e:?}");
        // a repeated parameter: refused, in words
        let e = query::<Q>("format=mcp&format=mcp").unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(e.to_string().contains("duplicate field `format`"), "{e}");
        assert!(matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "format"), "{e:?}");
        // an unknown parameter: named too (the struct denies unknown fields)
        let e = query::<Strict>("window=7d&widnow=1h").unwrap_err();
        assert!(matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "widnow"), "{e:?}");
        assert_eq!(named_in("invalid digit found in string"), None);
    }

    #[test]
    fn shape_errors_name_the_field_and_syntax_errors_are_400() {
        let e = parse::<Req>(br#"{"inputs": [{"query": "a"}, {"query": 3}]}"#).unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(matches!(&e, ApiError::Invalid { field: Some(f), .. } if f.to_string() == "inputs[1].query"), "{e:?}");
        let e = parse::<Req>(b"{\"inputs\": [").unwrap_err();
        assert_eq!(e.status(), 400);
        let e = parse::<Req>(b"  ").unwrap_err();
        assert_eq!(e.status(), 400);
        let e = parse::<Req>(b"{}").unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(
            matches!(&e, ApiError::Invalid { field: Some(f), reason } if f.to_string() == "inputs" && reason == "is required"),
            "{e:?}"
        );
        // messages in the API's words, not Rust's
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Typed {
            months: u32,
            amount: f64,
        }
        let e = parse::<Typed>(br#"{"months": "x", "amount": 1}"#).unwrap_err();
        assert_eq!(e.to_string(), "months: invalid type: string \"x\", expected a whole number ≥ 0");
        let e = parse::<Typed>(br#"{"months": 1, "amount": "y"}"#).unwrap_err();
        assert_eq!(e.to_string(), "amount: invalid type: string \"y\", expected a number");
        // a body must be an object, not an array serde would read as a struct
        assert_eq!(object(b" [1, 2]").unwrap_err().to_string(), "the body must be a JSON object");
        assert!(object(b"{}").is_ok() && object(b"[").is_ok());
    }
}
