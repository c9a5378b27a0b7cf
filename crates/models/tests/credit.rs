//! Credit model: round trip, SHAP additivity, monotone constraints, input errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::CreditApplication;
use nivesh_core::rng::Rng;
use nivesh_models::credit::{CreditModel, CreditParams, application_features, applications_table};
use nivesh_models::{Fit, ModelError, Persist, Predict};
use std::sync::OnceLock;

fn apps() -> &'static Vec<CreditApplication> {
    static A: OnceLock<Vec<CreditApplication>> = OnceLock::new();
    A.get_or_init(|| nivesh_datagen::credit::generate(&mut Rng::new(9), 2500))
}

fn model() -> &'static CreditModel {
    static M: OnceLock<CreditModel> = OnceLock::new();
    M.get_or_init(|| {
        CreditParams {
            gbdt: nivesh_models::algo::gbdt::GbdtParams { iterations: 150, ..CreditParams::default().gbdt },
            ..Default::default()
        }
        .fit(&applications_table(apps()))
        .unwrap()
    })
}

#[test]
fn shap_contributions_plus_bias_equal_the_log_odds() {
    let m = model();
    let table = applications_table(&apps()[..50]);
    let log_odds = m.log_odds(&table).unwrap();
    for (i, f) in log_odds.iter().enumerate() {
        let c = m.contributions(table.row(i)).unwrap();
        assert_eq!(c.len(), m.feature_names().len() + 1);
        let sum: f64 = c.iter().sum();
        assert!((sum - f).abs() < 1e-6, "row {i}: {sum} vs {f}");
    }
}

#[test]
fn our_treeshap_matches_forusts() {
    let m = model();
    let table = applications_table(&apps()[..30]);
    for i in 0..30 {
        let ours = m.contributions(table.row(i)).unwrap();
        let reference = m.gbdt().contributions_reference(table.row(i));
        assert_eq!(ours.len(), reference.len());
        for (j, (a, b)) in ours.iter().zip(&reference).enumerate() {
            // forust accumulates in f32
            assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "row {i} feature {j}: {a} vs {b}");
        }
    }
}

#[test]
fn more_missed_payments_never_lower_the_risk() {
    let m = model();
    for a in apps().iter().take(200) {
        let mut prev = -1.0;
        for missed in 0..=a.total_payments.min(24) {
            let x = CreditApplication { payments_missed: missed, ..a.clone() };
            let p = m.predict(&x).unwrap().default_probability;
            // exactly: every candidate is the same bits however it is reached
            assert!(p >= prev, "missed {missed}: {p} < {prev}");
            prev = p;
        }
    }
}

#[test]
fn round_trip_gives_identical_scores() {
    let m = model();
    let bytes = m.to_bytes().unwrap();
    // the same model always serialises to the same bytes
    assert_eq!(bytes, m.to_bytes().unwrap());
    let back = CreditModel::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes().unwrap(), bytes);
    for a in apps().iter().take(100) {
        assert_eq!(back.predict(a).unwrap(), m.predict(a).unwrap());
    }
}

#[test]
fn scores_are_consistent_and_explained() {
    let m = model();
    let s = m.predict(&apps()[0]).unwrap();
    assert!((0.0..=1.0).contains(&s.default_probability));
    assert_eq!(s.risk_score, (s.default_probability * 100.0).round() as u32);
    assert!((300..=900).contains(&s.credit_score));
    assert_eq!(s.will_default, s.default_probability >= 0.5);
    assert!(s.reason_codes.len() <= 4 && !s.reason_codes.is_empty());
    for w in s.reason_codes.windows(2) {
        assert!(w[0].contribution.abs() >= w[1].contribution.abs());
    }
    for r in &s.reason_codes {
        assert_eq!(r.direction, if r.contribution > 0.0 { "increases_risk" } else { "decreases_risk" });
        assert_ne!(r.feature, "application_id");
    }
    // identifiers are never features
    assert!(!m.feature_names().iter().any(|f| f.contains("id")));
    assert_eq!(application_features(&apps()[0]).len(), m.schema().len());
}

#[test]
fn bad_applications_are_rejected_with_the_field() {
    let m = model();
    let bad = CreditApplication { monthly_income: f64::NAN, ..apps()[0].clone() };
    let e = m.predict(&bad).unwrap_err();
    assert!(matches!(&e, ModelError::InvalidInput { field, .. } if field == "applicant_data.monthly_income"), "{e}");
    assert!(e.to_string().contains("monthly_income"), "{e}");
    let bad = CreditApplication { payments_missed: 50, total_payments: 10, ..apps()[0].clone() };
    assert!(m.predict(&bad).unwrap_err().to_string().contains("payments_missed"));
    // zero limits and payments give missing ratios, not a panic
    let edge = CreditApplication {
        credit_limit: 0.0,
        total_payments: 0,
        payments_missed: 0,
        monthly_income: 0.0,
        ..apps()[0].clone()
    };
    assert!(m.predict(&edge).is_ok());
}

#[test]
fn invalid_parameters_and_one_class_data_are_refused() {
    let t = applications_table(&apps()[..200]);
    let mut p = CreditParams::default();
    p.gbdt.learning_rate = 0.0;
    assert!(p.fit(&t).unwrap_err().to_string().contains("learning_rate"));
    let one_class: Vec<_> = apps().iter().filter(|a| a.default == Some(false)).take(100).cloned().collect();
    let e = CreditParams::default().fit(&applications_table(&one_class)).unwrap_err();
    assert!(e.to_string().contains("need at least 5 positive and 5 negative rows"), "{e}");
}
