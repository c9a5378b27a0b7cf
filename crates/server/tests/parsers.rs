//! Every request parser of the server on arbitrary input (10,000 cases per property; failures
//! kept in `proptest-regressions/`): the JSON bodies of the five prediction routes (parsed, then
//! checked as the routes check them), batches, and the Open Inference Protocol's tensor
//! decoders. Never a panic; a refusal is 400 or 422, and a 422 names a field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_server::error::ApiError;
use nivesh_server::parse::parse;
use nivesh_server::served::Served;
use nivesh_server::tensor::{Datatype, from_binary, from_json};
use nivesh_server::types::BatchRequest;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};

/// JSON values shaped like the requests, with wrong types, extremes and noise mixed in.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        prop_oneof![Just(1e308), Just(-1e308), Just(0.0), Just(-0.0), Just(4294967296.0)].prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        prop_oneof![
            Just("2026-03-15T14:05:00+05:30"),
            Just("+262142-12-31"),
            Just("-262143-01-01"),
            Just("2026-02-30"),
            Just("upi"),
            Just("salaried"),
            Just("graduate"),
            Just("U0001"),
            Just(""),
            Just("   "),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("query"),
        Just("user_id"),
        Just("text"),
        Just("reference_date"),
        Just("months"),
        Just("category"),
        Just("transactions"),
        Just("transaction"),
        Just("timestamp"),
        Just("amount"),
        Just("applicant_data"),
        Just("age"),
        Just("monthly_income"),
        Just("channel"),
        Just("inputs"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn refusal_is_well_formed(e: &ApiError) -> Result<(), TestCaseError> {
    let status = e.status().as_u16();
    prop_assert!(status == 400 || status == 422, "{status}: {e}");
    if let ApiError::Invalid { field, reason } = e {
        prop_assert!(!reason.is_empty());
        prop_assert!(!reason.contains("expected struct") && !reason.contains(" at line "), "{reason}");
        let _ = field;
    }
    Ok(())
}

/// Parse `bytes` as `M`'s request (and as a batch of them), check what parses.
fn route<M: Served>(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse::<M::Request>(bytes) {
        Ok(req) => {
            if let Err(e) = M::check(req) {
                prop_assert!(!matches!(e, ApiError::Internal(_)), "{e}");
            }
        }
        Err(e) => refusal_is_well_formed(&e)?,
    }
    if let Err(e) = parse::<BatchRequest<M::Request>>(bytes) {
        refusal_is_well_formed(&e)?;
    }
    Ok(())
}

fn all_routes(bytes: &[u8]) -> Result<(), TestCaseError> {
    use nivesh_models::anomaly::AnomalyModel;
    use nivesh_models::credit::CreditModel;
    use nivesh_models::forecast::SpendingForecaster;
    use nivesh_models::intent::IntentClassifier;
    use nivesh_models::ner::FinancialNer;
    route::<IntentClassifier>(bytes)?;
    route::<FinancialNer>(bytes)?;
    route::<SpendingForecaster>(bytes)?;
    route::<AnomalyModel>(bytes)?;
    route::<CreditModel>(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/parsers.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn request_shaped_json_is_parsed_or_refused_with_a_field(v in value()) {
        all_routes(v.to_string().as_bytes())?;
    }

    #[test]
    fn arbitrary_bytes_are_refused_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        all_routes(&bytes)?;
    }

    #[test]
    fn tensors_decode_or_say_why(
        dt in prop::sample::select(vec![
            Datatype::Bool, Datatype::Uint8, Datatype::Uint32, Datatype::Uint64, Datatype::Int8, Datatype::Int32,
            Datatype::Int64, Datatype::Fp16, Datatype::Fp32, Datatype::Fp64, Datatype::Bf16, Datatype::Bytes,
        ]),
        shape in prop::collection::vec(prop_oneof![-2i64..8, Just(i64::MAX), Just(1i64 << 40)], 0..4),
        data in value(),
        raw in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Err(e) = from_json("x", dt, &shape, &data) {
            prop_assert!(e.starts_with("input `x`"), "{e}");
        }
        if let Err(e) = from_binary("x", dt, &shape, &raw) {
            prop_assert!(e.starts_with("input `x`"), "{e}");
        }
    }
}
