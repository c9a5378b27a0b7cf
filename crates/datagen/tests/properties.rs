//! What the generated data must look like: sizes, valid records, labelled anomalies, seasonality.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Datelike;
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_core::{Direction, Record};
use nivesh_datagen::{intents, ner, transactions};
use std::collections::BTreeMap;

#[test]
fn full_scale_intents_have_at_least_150_distinct_utterances_each() {
    let g = Gazetteer::builtin();
    let all = intents::generate(&mut Rng::new(42), 200, &g);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in &all {
        u.validate().unwrap();
        *counts.entry(u.intent.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), 14);
    for (intent, n) in counts {
        assert!(n >= 150, "{intent}: {n}");
    }
    let texts: std::collections::HashSet<String> = all.iter().map(|u| u.text.to_lowercase()).collect();
    assert_eq!(texts.len(), all.len(), "duplicate utterances");
    let hinglish = all.iter().filter(|u| u.text.to_lowercase().contains("kitna") || u.text.contains("paisa")).count();
    assert!(hinglish > 20, "{hinglish}");
}

#[test]
fn ner_spans_are_valid_and_carry_values() {
    let g = Gazetteer::builtin();
    let all = ner::generate(&mut Rng::new(1), 1500, &g);
    assert_eq!(all.len(), 1500);
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for ex in &all {
        ex.validate().unwrap();
        for e in &ex.entities {
            *labels.entry(e.label.clone()).or_default() += 1;
            let text = ex.span_text(e);
            assert_eq!(text.trim(), text, "span with surrounding space in {:?}", ex.text);
            let v = e.value.as_ref().unwrap();
            match e.label.as_str() {
                "MONEY" => assert!(v["amount"].as_f64().unwrap() > 0.0 && v["currency"].is_string()),
                "DATE" => assert!(v.is_string() || (v["from"].is_string() && v["to"].is_string())),
                _ => {}
            }
        }
    }
    for label in ["MONEY", "DATE", "MERCHANT", "CATEGORY", "ACCOUNT"] {
        assert!(labels.get(label).copied().unwrap_or(0) > 200, "{label}: {labels:?}");
    }
}

#[test]
fn transactions_have_salary_seasonality_and_labelled_anomalies() {
    let g = Gazetteer::builtin();
    let start = nivesh_datagen::transactions_start();
    let txns = transactions::generate(&mut Rng::new(3), 60, start, 396, &g);
    for t in &txns {
        t.validate().unwrap();
    }
    // one salary credit per user per month
    let salaries = txns.iter().filter(|t| t.direction == Direction::Credit).count();
    assert_eq!(salaries, 60 * 13);
    let anomalies = txns.iter().filter(|t| t.is_anomaly == Some(true)).count() as f64 / txns.len() as f64;
    assert!((0.002..0.01).contains(&anomalies), "anomaly rate {anomalies}");
    // weekends are busier than weekdays, and the fortnight before Diwali busier than usual
    let mut per_weekday = [0usize; 7];
    let mut diwali_window = 0.0;
    let mut other = 0.0;
    let diwali = nivesh_core::calendar::festival_date("diwali", 2024).unwrap();
    for t in txns.iter().filter(|t| t.direction == Direction::Debit) {
        let d = t.timestamp.date_naive();
        per_weekday[d.weekday().num_days_from_monday() as usize] += 1;
        let delta = (d - diwali).num_days();
        if t.category != "shopping" || t.is_anomaly == Some(true) {
            continue;
        }
        if (-14..=0).contains(&delta) {
            diwali_window += t.amount;
        } else if d >= start && d < diwali - chrono::Duration::days(14) {
            other += t.amount;
        }
    }
    let weekday = per_weekday[..5].iter().sum::<usize>() as f64 / 5.0;
    let weekend = per_weekday[5..].iter().sum::<usize>() as f64 / 2.0;
    assert!(weekend > 1.15 * weekday, "weekend {weekend} weekday {weekday}");
    // per-day shopping spend in the Diwali fortnight vs earlier in October 2024
    let other_days = (diwali - chrono::Duration::days(14) - start).num_days() as f64;
    assert!(diwali_window / 15.0 > 2.0 * other / other_days.max(1.0), "{diwali_window} vs {other}");
    // sorted by user then time
    for w in txns.windows(2) {
        if w[0].user_id == w[1].user_id {
            assert!(w[0].timestamp <= w[1].timestamp);
        }
    }
}

#[test]
fn more_users_add_rows_without_changing_the_first_users() {
    let g = Gazetteer::builtin();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let few = transactions::generate(&mut Rng::new(7).fork(3), 3, start, 30, &g);
    let more = transactions::generate(&mut Rng::new(7).fork(3), 5, start, 30, &g);
    assert!(few.len() > 30 && more.len() > few.len(), "{} {}", few.len(), more.len());
    let ids = |t: &[nivesh_core::records::Transaction]| {
        t.iter().map(|t| t.user_id.clone()).collect::<std::collections::BTreeSet<_>>().len()
    };
    assert_eq!((ids(&few), ids(&more)), (3, 5));
    let json = |t: &[nivesh_core::records::Transaction]| serde_json::to_string(t).unwrap();
    assert_eq!(json(&few), json(&more[..few.len()]));
}
