//! Identifiers and secrets fed through every route never come back out: not in error bodies,
//! the logs (JSON, debug level, access log on), the prediction log, any file the server wrote,
//! or the metrics. A real `nivesh-ml serve`, every byte it wrote grepped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use std::time::Duration;

/// A PAN, an Aadhaar number, a Luhn-valid card number, a password and a bearer token.
const SECRETS: [&str; 5] =
    ["BQXPK4821L", "2345 6789 0123", "4111 1111 1111 1111", "hunter2hunter2", "sk-live-9f8e7d6c5b4a"];

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { walk(&p, out) } else { out.push(p) }
    }
}

#[test]
fn identifiers_and_secrets_in_requests_are_never_written_or_echoed() {
    let dir = common::private_copy();
    // what the store held before: the files the server writes are compared after
    let log = dir.path().join("serve.log");
    let env = [("LOG_FORMAT", "json"), ("LOG_LEVEL", "debug"), ("PREDICTION_LOG_SAMPLE_RATE", "1")];
    let (mut child, url) = common::spawn_serve_logging(
        dir.path(),
        0,
        &env,
        &["--rate-limit", "0"],
        std::fs::File::create(&log).unwrap().into(),
    );
    let agent = common::agent(Duration::from_secs(30));
    let [pan, aadhaar, card, password, token] = SECRETS;
    let text = format!("my PAN is {pan}, aadhaar {aadhaar}, card {card}, password={password}, Bearer {token}");
    let txn = |user: &str| json!({"timestamp": "2026-01-05T10:00:00+05:30", "amount": 900, "merchant": text, "user_id": user});
    let requests = [
        ("predict/intent", json!({"query": text, "user_id": pan})),
        ("predict/ner", json!({"text": text})),
        ("predict/spending", json!({"user_id": pan, "months": 2})),
        ("predict/spending", json!({"user_id": "U0001", "months": text})),
        ("predict/spending", json!({"transactions": [txn("U0001"), txn("U0001")], "months": 1, "category": text})),
        ("predict/anomaly", json!({"user_id": "U0001", "transaction": txn("U0001")})),
        ("predict/anomaly", json!({"user_id": card, "transaction": txn(card)})),
        ("predict/credit-risk", json!({"applicant_data": {"application_id": text, "age": 30}})),
        ("predict/intent/batch", json!({"inputs": [{"query": text}, {"query": 5, "user_id": aadhaar}]})),
        ("features/online", json!({"entity_ids": [pan, aadhaar]})),
        ("feedback", json!({"prediction_id": card, "outcome": text})),
        ("feedback", json!({"model": "intent", "input_hash": pan, "outcome": "x"})),
        ("predict/intent", json!({"query": "hi", pan: text})),
    ];
    let mut answers = String::new();
    for (route, body) in &requests {
        let mut r = agent
            .post(&format!("{url}/{route}"))
            .header("content-type", "application/json")
            .header("x-request-id", "secret-test")
            .send(body.to_string())
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        if status >= 400 {
            answers.push_str(&format!("{route} {status}: {text}\n"));
        }
    }
    assert!(answers.lines().count() >= 6, "the refused requests: {answers}");
    let mut metrics = agent.get(&format!("{url}/metrics")).call().unwrap();
    let metrics = metrics.body_mut().read_to_string().unwrap();
    std::thread::sleep(Duration::from_millis(1500)); // the prediction log's writer flushes
    child.kill().unwrap();
    let _ = child.wait();

    let mut written = Vec::new();
    walk(&dir.path().join("store"), &mut written);
    let haystacks: Vec<(String, Vec<u8>)> =
        [("error bodies".to_string(), answers.into_bytes()), ("metrics".into(), metrics.into_bytes())]
            .into_iter()
            .chain(std::iter::once(("log".into(), std::fs::read(&log).unwrap())))
            .chain(written.iter().map(|p| (p.display().to_string(), std::fs::read(p).unwrap_or_default())))
            .collect();
    let logged = String::from_utf8_lossy(&haystacks[2].1).to_string();
    assert!(logged.contains("nivesh::access"), "the access log ran");
    for secret in SECRETS {
        let compact: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
        for (name, bytes) in &haystacks {
            for needle in [secret, compact.as_str()] {
                let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                let at = String::from_utf8_lossy(bytes)
                    .lines()
                    .filter(|l| l.contains(needle))
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" | ");
                assert!(!found, "{needle:?} found in {name}: {at}");
            }
        }
    }
}
