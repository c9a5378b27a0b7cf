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

/// [`parse`] of a JSON value already built: taken as it is when it fits, serialised and parsed
/// again (for the field's path) only when it does not.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    match T::deserialize(&value) {
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
