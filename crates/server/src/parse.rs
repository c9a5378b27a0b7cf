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
    if let Ok(v) = nivesh_core::records::strict_json(|| serde_json::from_slice(bytes)) {
        return Ok(v);
    }
    if blank(bytes) {
        return Err(ApiError::BadRequest { message: "empty body: expected a JSON object".into() });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    nivesh_core::records::strict_json(|| serde_path_to_error::deserialize(de)).map_err(|e| {
        let mut field = FieldPath::from_serde(e.path());
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest { message: format!("malformed JSON: {inner}") };
        }
        let mut reason = plain(&inner.to_string());
        // serde names a missing field in the message, not the path: put it in the path
        if let Some(name) = reason.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            field = FieldPath::parse(&if field.is_empty() { name.to_string() } else { format!("{field}.{name}") });
            reason = "is required".into();
        }
        ApiError::Invalid { field: (!field.is_empty()).then_some(field), reason }
    })
}

/// A serde message in the API's words: no Rust type names (`expected u32` → `expected a whole
/// number ≥ 0`, `expected struct CreditRequest` → `expected a JSON object`), no position.
fn plain(message: &str) -> String {
    let mut m = message.to_string();
    if let Some(at) = m.rfind(" at line ") {
        m.truncate(at);
    }
    if let Some(i) = m.find("expected struct ") {
        m.truncate(i);
        m.push_str("expected a JSON object");
    }
    for (rust, words) in [
        ("expected u8", "expected a whole number ≥ 0"),
        ("expected u16", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a JSON object"),
    ] {
        if m.ends_with(rust) {
            m.truncate(m.len() - rust.len());
            m.push_str(words);
        }
    }
    m
}

/// [`parse`] of a JSON value already built: taken as it is when it fits, serialised and parsed
/// again (for the field's path) only when it does not.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    match nivesh_core::records::strict_json(|| T::deserialize(&value)) {
        Ok(v) => Ok(v),
        Err(_) => parse(&serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Req {
        inputs: Vec<Item>,
    }
    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Item {
        age: u32,
    }

    #[test]
    fn a_value_that_fits_is_taken_and_one_that_does_not_is_named() {
        let ok: Req = parse_value(serde_json::json!({"inputs": [{"age": 3}]})).unwrap();
        assert_eq!(ok, Req { inputs: vec![Item { age: 3 }] });
        let e = parse_value::<Req>(serde_json::json!({"inputs": [{"age": 3}, {"age": -1}]})).unwrap_err();
        assert!(e.to_string().starts_with("inputs[1].age: "), "{e}");
    }
}
