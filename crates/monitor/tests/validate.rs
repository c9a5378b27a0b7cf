//! Each expectation of a validation suite on a bad file, with the exact report line; the
//! shipped suites on the generated sample data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_monitor::validate::{Suites, validate};
use std::path::{Path, PathBuf};

const HEADER: &str = "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel,direction";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc)
}

fn write(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// The report line of expectation `name` when `file` is checked with `suite` (TOML of one suite named `s`).
fn line_of(file: &Path, suite: &str, name: &str) -> String {
    let suites = Suites::parse(suite, "test").unwrap();
    let (n, s) = suites.pick(Some("s"), file).unwrap();
    let report = validate(file, &n, s, now()).unwrap();
    let e = report.expectations.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no {name} in {report:?}"));
    e.line()
}

fn tx(id: &str, amount: &str, currency: &str, merchant: &str) -> String {
    format!("{id},U1,2025-01-01T10:00:00+05:30,{amount},{currency},food,{merchant},upi,debit")
}

#[test]
fn every_expectation_reports_the_exact_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kind = "[s]\nkind = \"transactions\"\n";

    let f = write(
        d,
        "a.csv",
        &[HEADER, &tx("T1", "10", "INR", "A"), &tx("T2", "-5", "INR", "B"), &tx("T3", "7", "INR", "C")],
    );
    assert_eq!(
        line_of(&f, kind, "records(transactions)"),
        "FAIL records(transactions): 1 bad record of 3 (expected every record valid); line 3: amount: -5 must be positive (use direction=credit for money coming in)"
    );
    assert_eq!(line_of(&f, &format!("{kind}rows = {{ min = 100 }}"), "rows"), "FAIL rows: 3 (expected at least 100)");
    let suite = format!("{kind}[s.columns]\namount = {{ min = 1, max = 9 }}\n");
    assert_eq!(
        line_of(&f, &suite, "range(amount)"),
        "FAIL range(amount): 2 values out of range (expected between 1 and 9); line 2: \"10\""
    );

    let f = write(
        d,
        "b.csv",
        &[HEADER, &tx("T1", "abc", "USD", ""), &tx("T1", "8", "INR", "B"), &tx("T3", "8", "INR", "")],
    );
    let suite = format!("{kind}[s.columns]\namount = {{ type = \"number\" }}\n");
    assert_eq!(
        line_of(&f, &suite, "type(amount)"),
        "FAIL type(amount): 1 value of another type (expected number); line 2: \"abc\""
    );
    let suite = format!("{kind}[s.columns]\nmerchant = {{ max_missing = 0.2 }}\n");
    assert_eq!(
        line_of(&f, &suite, "missing(merchant)"),
        "FAIL missing(merchant): 66.7 % (2 rows) (expected at most 20 %); line 2: (missing)"
    );
    let suite = format!("{kind}[s.columns]\ncurrency = {{ allowed = [\"INR\"] }}\n");
    assert_eq!(
        line_of(&f, &suite, "allowed(currency)"),
        "FAIL allowed(currency): 1 other value (expected one of INR); line 2: \"USD\""
    );
    let suite = format!("{kind}unique = [\"transaction_id\"]\n");
    assert_eq!(
        line_of(&f, &suite, "unique(transaction_id)"),
        "FAIL unique(transaction_id): 1 repeated value (expected no repeated value); line 3: \"T1\" (first at line 2)"
    );
    let suite = format!("{kind}[s.columns]\nmerchant = {{ max_missing = 0.0 }}\nnote = {{ max_missing = 0.0 }}\n");
    assert_eq!(line_of(&f, &suite, "column(note)"), "FAIL column(note): absent (expected present)");

    let f = write(
        d,
        "c.csv",
        &[HEADER, &tx("T1", "8", "INR", "A"), &tx("T2", "8", "INR", "B"), &tx("T2", "8", "INR", "B")],
    );
    assert_eq!(
        line_of(&f, &format!("{kind}max_duplicate_share = 0.0\n"), "duplicates"),
        "FAIL duplicates: 33.3 % (1 row) (expected none); line 4: same as line 3"
    );
    let suite = format!("{kind}freshness = {{ column = \"timestamp\", max_age_days = 7 }}\n");
    assert_eq!(
        line_of(&f, &suite, "freshness(timestamp)"),
        "FAIL freshness(timestamp): newest 2025-01-01T10:00:00+05:30 (698.8 days old) (expected newest at most 7 days old); line 2: 2025-01-01T10:00:00+05:30"
    );

    let f = write(
        d,
        "intents.jsonl",
        &[r#"{"text": "a", "intent": "x"}"#, r#"{"text": "b", "intent": "x"}"#, r#"{"text": "c", "intent": "y"}"#],
    );
    let suite =
        "[s]\nkind = \"intents\"\nlabels = { column = \"intent\", min_classes = 3, min_count = 2, max_share = 0.5 }\n";
    assert_eq!(
        line_of(&f, suite, "labels(intent)"),
        "FAIL labels(intent): 2 classes, \"y\" has 1 rows, \"x\" is 66.7 % (expected at least 3 classes, at least 2 rows each, none over 50 %)"
    );
    // a passing expectation says what it saw
    let suite = "[s]\nkind = \"intents\"\nlabels = { column = \"intent\", min_classes = 2 }\n";
    assert_eq!(
        line_of(&f, suite, "labels(intent)"),
        "PASS labels(intent): 2 classes, smallest 1 (expected at least 2 classes)"
    );
}

#[test]
fn bad_suites_are_refused_with_the_reason() {
    let e = Suites::parse("[s]\nkind = \"shoes\"\n", "my.toml").unwrap_err();
    assert!(e.contains("my.toml: suite s: kind: unknown record kind 'shoes'"), "{e}");
    let e = Suites::parse("[s]\nkind = \"ner\"\nrow = 1\n", "my.toml").unwrap_err();
    assert!(e.contains("unknown field `row`"), "{e}");
    let s = Suites::builtin().unwrap();
    assert!(s.pick(None, Path::new("x/data.bin")).unwrap_err().contains("pass --suite"));
    assert!(
        s.pick(Some("nope"), Path::new("a.csv")).unwrap_err().contains("suites: credit, intents, ner, transactions")
    );
}

#[test]
fn the_shipped_suites_pass_on_the_sample_data() {
    let dir = tempfile::tempdir().unwrap();
    nivesh_datagen::generate(dir.path(), 42, nivesh_datagen::Scale::Small).unwrap();
    let suites = Suites::builtin().unwrap();
    for file in [
        nivesh_datagen::INTENTS_FILE,
        nivesh_datagen::NER_FILE,
        nivesh_datagen::TRANSACTIONS_FILE,
        nivesh_datagen::CREDIT_FILE,
    ] {
        let path = dir.path().join(file);
        let (name, suite) = suites.pick(None, &path).unwrap();
        let r = validate(&path, &name, suite, now()).unwrap();
        assert!(r.passed, "{file}: {}", r.failures());
    }
    // and HTML reports are one self-contained page
    let path = dir.path().join(nivesh_datagen::TRANSACTIONS_FILE);
    let (name, suite) = suites.pick(None, &path).unwrap();
    let html = nivesh_monitor::html::validation(&validate(&path, &name, suite, now()).unwrap());
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("unique(transaction_id)") && !html.contains("http"));
}
