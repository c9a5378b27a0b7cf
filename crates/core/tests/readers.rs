//! The dataset readers on arbitrary files (10,000 cases a run, failures kept in
//! `proptest-regressions/`): never a panic; every bad record is an error naming its line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::dataset::{Location, read_records_lenient};
use nivesh_core::{CreditApplication, Transaction, Utterance};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Lines that look like the real files, mangled: the header, good-looking rows, and noise.
fn csv_lines(header: &'static str, cells: usize) -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just(String::new()),
        "[0-9]{1,6}(\\.[0-9]{1,2})?",
        "-?[0-9]{1,20}e[0-9]{1,3}",
        "[a-zA-Z_ ]{0,12}",
        Just("2026-03-15T14:05:00+05:30".to_string()),
        Just("NaN".to_string()),
        "\"[^\"]{0,10}\"",
        any::<String>().prop_map(|s| s.chars().take(20).collect()),
    ];
    prop::collection::vec(prop::collection::vec(cell, 0..cells + 3).prop_map(|c| c.join(",")), 0..8)
        .prop_map(move |rows| format!("{header}\n{}", rows.join("\n")))
}

const TXN: &str = "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel,direction,is_anomaly";
const CREDIT: &str = "application_id,age,monthly_income,monthly_debt,credit_limit,credit_used,loan_amount,payments_missed,total_payments,months_employed,credit_history_months,num_credit_accounts,has_mortgage,has_car_loan,employment_type,education,default";

/// One directory for the run; each test writes its own file in it, case after case.
fn dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn check<T: nivesh_core::Record>(name: &str, content: &str) -> Result<(), TestCaseError> {
    let path = dir().join(name);
    std::fs::write(&path, content).unwrap();
    if let Ok(out) = read_records_lenient::<T>(&path) {
        let lines = content.lines().count() as u64;
        for e in &out.errors {
            match e.location {
                Location::Line(l) => prop_assert!(l >= 1 && l <= lines.max(1) + 1, "line {l} of {lines}: {e}"),
                Location::Index(_) => {}
            }
            prop_assert!(e.to_string().contains(name), "{e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/readers.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn transactions_csv_never_panics_and_errors_name_their_line(content in csv_lines(TXN, 10)) {
        check::<Transaction>("transactions.csv", &content)?;
    }

    #[test]
    fn credit_csv_never_panics_and_errors_name_their_line(content in csv_lines(CREDIT, 17)) {
        check::<CreditApplication>("credit_applications.csv", &content)?;
    }

    #[test]
    fn jsonl_never_panics(lines in prop::collection::vec(prop_oneof![
        any::<String>(),
        Just("{\"text\": \"how much did I spend\", \"intent\": \"spending_analysis\"}".to_string()),
        "\\{\"text\": \"[a-z ]{0,20}\", \"intent\": [0-9a-z\"]{0,10}\\}",
        Just("[1, 2]".to_string()),
        Just("{\"text\": null}".to_string()),
    ], 0..6)) {
        check::<Utterance>("intents.jsonl", &lines.join("\n"))?;
    }
}
