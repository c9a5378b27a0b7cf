//! JSON bodies into request types, naming the field of a value that does not fit
//! (`inputs[3].query`): shared by the JSON routes, OIP and the batch scorer.

use crate::error::{ApiError, FieldPath};
use serde::de::DeserializeOwned;

fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Deserialize a JSON body, naming the field of a shape error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // the fast path; on failure, parse again tracking the path, for the message
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    if blank(bytes) {
        return Err(ApiError::BadRequest { message: "empty body: expected a JSON object".into() });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = FieldPath::from_serde(e.path());
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest { message: format!("malformed JSON: {inner}") }
        } else {
            ApiError::Invalid { field: (!field.is_empty()).then_some(field), reason: inner.to_string() }
        }
    })
}
