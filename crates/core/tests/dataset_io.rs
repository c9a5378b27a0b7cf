//! Every reader on good and malformed input: errors name the file, the line (or record index)
//! and the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::dataset::{DataError, Location, read_records, read_records_lenient, write_records};
use nivesh_core::records::flexible_timestamp;
use nivesh_core::*;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err_of<T: Record + std::fmt::Debug>(path: &Path) -> String {
    match read_records::<T>(path) {
        Err(e) => e.to_string(),
        Ok(r) => panic!("expected an error for {}, got {r:?}", path.display()),
    }
}

fn transactions() -> Vec<Transaction> {
    vec![
        Transaction {
            transaction_id: "T1".into(),
            user_id: "U1".into(),
            timestamp: flexible_timestamp::parse("2026-03-15T14:05:00+05:30").unwrap(),
            amount: 1250.5,
            currency: "INR".into(),
            category: "groceries".into(),
            merchant: "BigBasket, Koramangala".into(),
            channel: Channel::Upi,
            direction: Direction::Debit,
            is_anomaly: Some(false),
        },
        Transaction {
            transaction_id: "T2".into(),
            user_id: "U1".into(),
            timestamp: flexible_timestamp::parse("2026-03-16T03:10:00+05:30").unwrap(),
            amount: 99999.0,
            currency: "INR".into(),
            category: "shopping".into(),
            merchant: "INTL*DUBAI DUTY FREE".into(),
            channel: Channel::Card,
            direction: Direction::Debit,
            is_anomaly: None,
        },
    ]
}

fn ner() -> Vec<NerExample> {
    vec![NerExample {
        text: "Paid ₹1,50,000 to Swiggy \"yesterday\"".into(),
        entities: vec![
            EntitySpan {
                start: 5,
                end: 14,
                label: "MONEY".into(),
                value: Some(serde_json::json!({"amount": 150000.0, "currency": "INR"})),
            },
            EntitySpan { start: 18, end: 24, label: "MERCHANT".into(), value: None },
        ],
        reference_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 15),
    }]
}

fn credit() -> Vec<CreditApplication> {
    vec![CreditApplication {
        application_id: None,
        age: 31,
        monthly_income: 85000.0,
        monthly_debt: 12000.0,
        credit_limit: 200000.0,
        credit_used: 50000.0,
        loan_amount: 500000.0,
        payments_missed: 1,
        total_payments: 36,
        months_employed: 60,
        credit_history_months: 72,
        num_credit_accounts: 3,
        has_mortgage: false,
        has_car_loan: true,
        employment_type: EmploymentType::Salaried,
        education: Education::Postgraduate,
        default: Some(false),
    }]
}

fn utterances() -> Vec<Utterance> {
    vec![
        Utterance { text: "kitna paisa bacha, ₹ mein?".into(), intent: "savings_strategy".into() },
        Utterance { text: "Can I afford a 1.5 lakh bike".into(), intent: "affordability_check".into() },
    ]
}

fn round_trip<T: Record + PartialEq + std::fmt::Debug>(records: Vec<T>, stem: &str) {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "json", "jsonl", "ndjson"] {
        let path = dir.path().join(format!("{stem}.{ext}"));
        write_records(&path, &records).unwrap();
        let back: Vec<T> = read_records(&path).unwrap();
        assert_eq!(back, records, "{ext}");
    }
}

#[test]
fn every_record_type_round_trips_in_every_format() {
    round_trip(transactions(), "transactions");
    round_trip(ner(), "ner");
    round_trip(credit(), "credit");
    round_trip(utterances(), "intents");
}

#[test]
fn csv_bad_number_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "transactions.csv",
        "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel\n\
         T1,U1,2026-03-15 10:00:00,100,INR,groceries,DMart,upi\n\
         T2,U1,2026-03-15 11:00:00,\"12,00x\",INR,groceries,DMart,upi\n",
    );
    let e = err_of::<Transaction>(&p);
    assert!(e.ends_with("transactions.csv:3: amount: \"12,00x\" is not a number"), "{e}");
}

#[test]
fn csv_with_crlf_line_ends_reports_the_same_lines() {
    // Python's csv module and Excel end lines with CRLF; the csv crate alone counts such a
    // record on the line before it
    let dir = tempfile::tempdir().unwrap();
    let text = "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel\r\n\
                T1,U1,2026-03-15 10:00:00,100,INR,groceries,DMart,upi\r\n\
                T2,U1,2026-03-15 11:00:00,\"12,00x\",INR,groceries,DMart,upi\r\n";
    let p = write(dir.path(), "transactions.csv", text);
    let e = err_of::<Transaction>(&p);
    assert!(e.ends_with("transactions.csv:3: amount: \"12,00x\" is not a number"), "{e}");
    let t = nivesh_core::dataset::read_table(&p).unwrap();
    assert_eq!(t.lines, vec![2, 3]);
    let p = write(dir.path(), "lf.csv", &text.replace("\r\n", "\n"));
    assert_eq!(nivesh_core::dataset::read_table(&p).unwrap().lines, vec![2, 3]);
}

#[test]
fn csv_errors_for_each_kind_of_field() {
    let dir = tempfile::tempdir().unwrap();
    let header = "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel\n";
    let cases = [
        ("T1,U1,15/03/2026,100,INR,groceries,DMart,upi", ":2: timestamp: \"15/03/2026\" is not a timestamp"),
        ("T1,U1,2026-03-15,100,INR,groceries,DMart,cheque", ":2: channel: unknown channel \"cheque\""),
        ("T1,U1,2026-03-15,-100,INR,groceries,DMart,upi", ":2: amount: -100 must be positive"),
        ("T1,U1,2026-03-15,100,rupees,groceries,DMart,upi", ":2: currency: \"rupees\" is not an ISO 4217 code"),
        ("T1,U1,2026-03-15,100,INR,groceries,DMart", ":2: has 7 fields, the header has 8"),
        (",U1,2026-03-15,100,INR,groceries,DMart,upi", ":2: transaction_id: must not be empty"),
    ];
    for (row, want) in cases {
        let p = write(dir.path(), "transactions.csv", &format!("{header}{row}\n"));
        let e = err_of::<Transaction>(&p);
        assert!(e.contains(&format!("transactions.csv{want}")), "row {row:?}: {e}");
    }
    let p = write(dir.path(), "intents.csv", "text\nhello\n");
    let e = err_of::<Utterance>(&p);
    assert!(e.ends_with("intents.csv:2: intent: column is missing"), "{e}");

    let credit_header = "age,monthly_income,monthly_debt,credit_limit,credit_used,loan_amount,payments_missed,total_payments,months_employed,credit_history_months,num_credit_accounts,has_mortgage,has_car_loan,employment_type,education,default\n";
    for (row, want) in [
        ("abc,1,1,1,1,1,0,1,1,1,1,no,no,salaried,graduate,0", ":2: age: \"abc\" is not a whole number >= 0"),
        ("30,1,1,1,1,1,0,1,1,1,1,maybe,no,salaried,graduate,0", ":2: has_mortgage: \"maybe\" is not a boolean"),
        ("30,1,1,1,1,1,5,1,1,1,1,no,no,salaried,graduate,0", ":2: payments_missed: 5 is more than total_payments (1)"),
        ("12,1,1,1,1,1,0,1,1,1,1,no,no,salaried,graduate,0", ":2: age: 12 is outside 18-100"),
        (
            "30,1,1,1,1,1,0,1,1,1,1,no,no,astronaut,graduate,0",
            ":2: employment_type: unknown employment_type \"astronaut\"",
        ),
    ] {
        let p = write(dir.path(), "credit.csv", &format!("{credit_header}{row}\n"));
        let e = err_of::<CreditApplication>(&p);
        assert!(e.contains(&format!("credit.csv{want}")), "row {row:?}: {e}");
    }
    // 1/0 and yes/no booleans and a missing label are accepted
    let p =
        write(dir.path(), "credit.csv", &format!("{credit_header}30,1,1,1,1,1,0,1,1,1,1,yes,0,salaried,graduate,\n"));
    let rows: Vec<CreditApplication> = read_records(&p).unwrap();
    assert!(rows[0].has_mortgage && !rows[0].has_car_loan && rows[0].default.is_none());
}

#[test]
fn jsonl_errors_name_line_and_field_path() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"transaction_id":"T1","user_id":"U1","timestamp":"2026-03-15T10:00:00+05:30","amount":100,"currency":"INR","category":"groceries","merchant":"DMart","channel":"UPI"}"#;
    let p = write(
        dir.path(),
        "transactions.jsonl",
        &format!("{good}\n\n{}\n", good.replace("\"amount\":100", "\"amount\":\"abc\"")),
    );
    let e = err_of::<Transaction>(&p);
    assert!(e.ends_with("transactions.jsonl:3: amount: invalid type: string \"abc\", expected f64"), "{e}");

    let p = write(dir.path(), "transactions.jsonl", &format!("{good}\n{{\"transaction_id\": \n"));
    let e = err_of::<Transaction>(&p);
    assert!(e.contains("transactions.jsonl:2: EOF while parsing"), "{e}");

    let p = write(
        dir.path(),
        "ner.jsonl",
        "{\"text\":\"₹500 at Zomato\",\"entities\":[{\"start\":0,\"end\":\"4\",\"label\":\"MONEY\"}]}\n",
    );
    let e = err_of::<NerExample>(&p);
    assert!(e.contains("ner.jsonl:1: entities[0].end: invalid type: string \"4\""), "{e}");

    let p = write(
        dir.path(),
        "ner.jsonl",
        "{\"text\":\"₹500 at Zomato\",\"entities\":[{\"start\":8,\"end\":16,\"label\":\"MERCHANT\"}]}\n",
    );
    let e = err_of::<NerExample>(&p);
    assert!(e.ends_with("ner.jsonl:1: entities[0]: end 16 is past the end of the text (14 characters)"), "{e}");

    let p = write(dir.path(), "intents.jsonl", "{\"text\":\"hi\"}\n");
    let e = err_of::<Utterance>(&p);
    assert!(e.ends_with("intents.jsonl:1: intent: field is missing"), "{e}");
}

#[test]
fn json_array_errors_name_record_index() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "intents.json",
        "[{\"text\":\"hi\",\"intent\":\"general_question\"},\n {\"text\":\"  \",\"intent\":\"x\"}]",
    );
    let e = err_of::<Utterance>(&p);
    assert!(e.ends_with("intents.json: record 1: text: must not be empty"), "{e}");

    let p = write(dir.path(), "intents.json", "{\"text\":\"hi\"}");
    let e = err_of::<Utterance>(&p);
    assert!(e.ends_with("intents.json:1: expected a JSON array of records"), "{e}");

    let p = write(dir.path(), "intents.json", "[{\"text\":\"hi\",\n\"intent\":]");
    let e = err_of::<Utterance>(&p);
    assert!(e.contains("intents.json:2: expected value"), "{e}");
}

#[test]
fn ner_csv_keeps_entities_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ner.csv", "text,entities\n\"pay 500 to Ola\",not-json\n");
    let e = err_of::<NerExample>(&p);
    assert!(e.contains("ner.csv:2: entities: not a JSON array"), "{e}");
}

#[test]
fn unknown_extension_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "data.xlsx", "");
    let e = read_records::<Utterance>(&p).unwrap_err();
    assert!(matches!(e, DataError::UnknownFormat { .. }));
    assert!(e.to_string().ends_with("data.xlsx: unknown file format (expected .csv, .json, .jsonl or .ndjson)"));
    let e = read_records::<Utterance>(&dir.path().join("missing.csv")).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }), "{e}");
}

#[test]
fn lenient_read_keeps_good_records_and_lists_every_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "intents.csv",
        "text,intent\nhello,general_question\n,general_question\nkitna tax,tax_planning\n\"\",\"\"\n",
    );
    let out = read_records_lenient::<Utterance>(&p).unwrap();
    assert_eq!(out.records.len(), 2);
    assert_eq!(out.errors.len(), 2);
    assert_eq!(out.errors[0].location, Location::Line(3));
    assert_eq!(out.errors[1].location, Location::Line(5));
    assert_eq!(out.errors[0].field.as_deref(), Some("text"));
}

#[test]
fn character_offsets_survive_csv_with_non_ascii_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ner.csv");
    write_records(&p, &ner()).unwrap();
    let back: Vec<NerExample> = read_records(&p).unwrap();
    assert_eq!(back[0].span_text(&back[0].entities[0]), "₹1,50,000");
    assert_eq!(back[0].span_text(&back[0].entities[1]), "Swiggy");
}
