//! The access log and request ids, read from a real `nivesh-ml serve`'s JSON logs: one line per
//! request with the request id (the caller's `X-Request-Id`, else a new one, echoed back), the
//! route template, status, latency and model version — and never the request's body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

#[test]
fn every_request_is_logged_once_with_its_id_route_status_and_version() {
    let dir = common::private_copy();
    let log = dir.path().join("serve.log");
    let env = [("LOG_FORMAT", "json"), ("LOG_LEVEL", "debug")];
    let (mut child, url) = common::spawn_serve_logging(
        dir.path(),
        0,
        &env,
        &["--rate-limit", "0"],
        std::fs::File::create(&log).unwrap().into(),
    );
    let agent = common::agent(Duration::from_secs(30));
    let secret_words = "my salary is 98765 rupees";
    let r = agent
        .post(&format!("{url}/predict/intent"))
        .header("content-type", "application/json")
        .header("x-request-id", "req-abc.123")
        .send(format!("{{\"query\": \"{secret_words}\"}}"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers().get("x-request-id").unwrap(), "req-abc.123");
    assert_eq!(r.headers().get("x-model-version").unwrap(), "1");
    // a refused request; an id that is not a plain token is replaced
    let r = agent
        .post(&format!("{url}/predict/intent"))
        .header("content-type", "application/json")
        .header("x-request-id", "bad id\twith spaces")
        .send("{\"query\": 5}")
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let fresh = r.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
    assert!(fresh.len() == 32 && fresh.bytes().all(|b| b.is_ascii_hexdigit()), "{fresh}");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();

    let text = std::fs::read_to_string(&log).unwrap();
    let access: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "nivesh::access")
        .collect();
    let ok = access.iter().find(|v| v["fields"]["request_id"] == "req-abc.123").expect(&text);
    assert_eq!(ok["level"], "DEBUG");
    assert_eq!(ok["fields"]["route"], "/predict/intent");
    assert_eq!(ok["fields"]["status"], 200);
    assert_eq!(ok["fields"]["model_version"], "1");
    assert!(ok["fields"]["ms"].as_f64().unwrap() >= 0.0);
    let refused = access.iter().find(|v| v["fields"]["request_id"] == fresh.as_str()).expect(&text);
    assert_eq!((refused["level"].as_str(), refused["fields"]["status"].as_u64()), (Some("INFO"), Some(422)));
    assert!(!text.contains("98765") && !text.contains(secret_words), "the body must not be logged");
}
