//! Behaviour of the trained text models: round trips, probabilities, fallbacks, input rules,
//! character offsets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_models::intent::{IntentClassifier, IntentParams, MAX_QUERY_CHARS};
use nivesh_models::ner::{FinancialNer, NerInput, NerParams};
use nivesh_models::{Fit, ModelError, Persist, Predict};
use std::sync::OnceLock;

fn intent_model() -> &'static IntentClassifier {
    static M: OnceLock<IntentClassifier> = OnceLock::new();
    M.get_or_init(|| {
        let data = nivesh_datagen::intents::generate(&mut Rng::new(5), 40, &Gazetteer::builtin());
        IntentParams::default().fit(&data).unwrap()
    })
}

fn ner_model() -> &'static FinancialNer {
    static M: OnceLock<FinancialNer> = OnceLock::new();
    M.get_or_init(|| {
        let data = nivesh_datagen::ner::generate(&mut Rng::new(6), 300, &Gazetteer::builtin());
        NerParams { max_iterations: 60, ..Default::default() }.fit(&data).unwrap()
    })
}

const QUERIES: &[&str] = &[
    "can I afford a 1.5 lakh bike?",
    "kitna tax lagega mujhe",
    "show my last 5 transactions",
    "best SIP to invest ₹5,000 monthly",
    "hello",
    "how do i pay off my personal loan faster",
];

#[test]
fn intent_probabilities_sum_to_one_and_alternatives_are_ranked() {
    let m = intent_model();
    for q in QUERIES {
        let cleaned = nivesh_models::intent::clean_query(q).unwrap().0;
        let p = m.probabilities(&cleaned).unwrap();
        assert_eq!(p.len(), 14);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{q}");
        let pred = m.predict(*q).unwrap();
        assert_eq!(pred.alternatives.len(), 3);
        assert!(pred.alternatives.windows(2).all(|w| w[0].confidence >= w[1].confidence));
        assert_eq!(pred.confidence, pred.alternatives[0].confidence);
    }
    assert_eq!(m.predict("can I afford a 1.5 lakh bike?").unwrap().intent, "affordability_check");
    assert_eq!(m.predict("kitna tax lagega mujhe").unwrap().intent, "tax_planning");
}

#[test]
fn intent_round_trip_gives_identical_predictions() {
    let m = intent_model();
    let bytes = m.to_bytes().unwrap();
    let back = IntentClassifier::from_bytes(&bytes).unwrap();
    for q in QUERIES {
        assert_eq!(back.predict(*q).unwrap(), m.predict(*q).unwrap());
    }
    // the NER loader refuses an intent model
    let e = FinancialNer::from_bytes(&bytes).unwrap_err();
    assert!(e.to_string().contains("this is a intent model, not ner"), "{e}");
}

#[test]
fn low_confidence_falls_back_and_says_so() {
    let m = intent_model();
    // no known n-gram: only the class biases speak, so no intent is confident
    let p = m.predict("zzzq xqvw").unwrap();
    assert!(p.confidence < 0.5, "{p:?}");
    assert_eq!(p.intent, "general_question");
    assert!(p.low_confidence);
    // a clear query stays above the threshold and keeps its intent
    let p = m.predict("can I afford a 1.5 lakh bike?").unwrap();
    assert!(!p.low_confidence && p.intent == "affordability_check", "{p:?}");
    // raising the threshold above that confidence makes it fall back, reporting the real ranking
    let mut strict = m.clone();
    strict.set_confidence_threshold(1.0).unwrap();
    let q = strict.predict("kitna tax").unwrap();
    assert_eq!(q.low_confidence, q.confidence < 1.0);
    if q.low_confidence {
        assert_eq!(q.intent, "general_question");
        assert_ne!(q.alternatives[0].intent, "");
    }
    assert!(strict.set_confidence_threshold(1.7).is_err());
}

#[test]
fn intent_input_rules() {
    let m = intent_model();
    for empty in ["", "   ", "\t\n", "\u{0007}"] {
        assert_eq!(m.predict(empty).unwrap_err(), ModelError::input("query", "is empty"), "{empty:?}");
    }
    let long = "how much did i spend on food ".repeat(40);
    let p = m.predict(long.as_str()).unwrap();
    assert!(p.truncated);
    assert_eq!(p.query_length, MAX_QUERY_CHARS);
    let p = m.predict("kitna\u{0000} tax\u{0008} lagega").unwrap();
    assert_eq!(p.query_length, "kitna tax lagega".len());
    assert!(!p.truncated);
}

fn reference() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()
}

#[test]
fn ner_offsets_are_characters_and_values_are_normalised() {
    let m = ner_model();
    let text = "Paid ₹1,50,000 to Swiggy yesterday from my HDFC savings";
    let ents = m.predict(&NerInput { text, reference_date: reference() }).unwrap();
    let got: Vec<(&str, &str)> = ents.iter().map(|e| (e.label.as_str(), e.text.as_str())).collect();
    assert_eq!(
        got,
        vec![("MONEY", "₹1,50,000"), ("MERCHANT", "Swiggy"), ("DATE", "yesterday"), ("ACCOUNT", "HDFC savings")]
    );
    for e in &ents {
        let sliced: String = text.chars().skip(e.start).take(e.end - e.start).collect();
        assert_eq!(sliced, e.text);
        assert!(e.confidence > 0.0 && e.confidence <= 1.0);
    }
    assert_eq!(ents[0].start, 5);
    assert_eq!(ents[0].end, 14);
    assert_eq!(ents[0].value, Some(serde_json::json!({"amount": 150000.0, "currency": "INR"})));
    assert_eq!(ents[1].value, Some(serde_json::json!("Swiggy")));
    assert_eq!(ents[2].value, Some(serde_json::json!("2026-03-10")));
    assert_eq!(ents[3].value, Some(serde_json::json!({"bank": "HDFC Bank", "type": "savings"})));
}

#[test]
fn ner_round_trip_and_input_rules() {
    let m = ner_model();
    let back = FinancialNer::from_bytes(&m.to_bytes().unwrap()).unwrap();
    for text in ["spent Rs 500 on groceries last week", "my Zomato order of ₹349 was debited from SBI credit card"] {
        let input = NerInput { text, reference_date: reference() };
        assert_eq!(back.predict(&input).unwrap(), m.predict(&input).unwrap());
    }
    let e = m.predict(&NerInput { text: "  ", reference_date: reference() }).unwrap_err();
    assert_eq!(e, ModelError::input("text", "is empty"));
    let long = "a".repeat(2001);
    let e = m.predict(&NerInput { text: &long, reference_date: reference() }).unwrap_err();
    assert!(e.to_string().starts_with("text: is 2001 characters"), "{e}");
}

#[test]
fn bad_hyper_parameters_are_rejected_before_training() {
    let data = nivesh_datagen::intents::generate(&mut Rng::new(5), 5, &Gazetteer::builtin());
    let mut p = IntentParams::default();
    p.svm.c = 0.0;
    assert!(p.fit(&data).unwrap_err().to_string().contains("invalid parameter c"));
    let p = NerParams { c1: -1.0, ..Default::default() };
    assert!(p.fit(&[]).unwrap_err().to_string().contains("invalid parameter c1"));
    assert!(NerParams::default().fit(&[]).unwrap_err().to_string().contains("no NER examples"));
}
