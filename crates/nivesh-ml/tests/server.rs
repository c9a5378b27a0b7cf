//! The server over real HTTP: models trained once by the binary on small generated data, then
//! servers started in process on free ports (and once as the real binary, for SIGTERM).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_features::FeatureStore;
use nivesh_features::definitions::Definitions;
use nivesh_features::offline::OfflineStore;
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_server::{AppState, ServerConfig};
use nivesh_store::db::Db;
use nivesh_store::{ArtifactStore, Registry};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::*;

struct Server {
    url: String,
    /// The OIP gRPC address (`host:port`).
    grpc: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    state: AppState,
}

impl Server {
    fn start(root: &Path, config: ServerConfig) -> Server {
        Self::start_with(root, config, None)
    }

    /// With a monitoring store: predictions are logged there.
    fn start_with(root: &Path, config: ServerConfig, monitor: Option<Arc<nivesh_monitor::log::LogStore>>) -> Server {
        let store = root.join("store");
        let registry = Arc::new(Registry::open(&store.join("registry.db")).unwrap());
        let artifacts = ArtifactStore::new(store.join("models/artifacts"));
        let fs = FeatureStore::new(
            Definitions::builtin().unwrap(),
            OfflineStore::new(Db::sqlite(&store.join("offline.db")).unwrap()).unwrap(),
            Box::new(EmbeddedOnlineStore::open(&store.join("online.db")).unwrap()),
        )
        .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(async move {
                let state = AppState::build_with(config, registry, artifacts, Some(Arc::new(fs)), monitor).await;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                addr_tx.send((listener.local_addr()?, grpc.local_addr()?, state.clone())).ok();
                nivesh_server::serve_with_grpc(state, listener, Some(grpc), async move {
                    let _ = rx.await;
                })
                .await
            })
        });
        let (addr, grpc, state) = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let server = Server {
            url: format!("http://{addr}"),
            grpc: grpc.to_string(),
            stop: Some(tx),
            thread: Some(thread),
            state,
        };
        let t0 = Instant::now();
        while !server.state.startup_complete() && t0.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.thread.take().map(|t| t.join().unwrap()).unwrap_or(Ok(()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn agent() -> ureq::Agent {
    common::agent(Duration::from_secs(30))
}

/// (status, body as JSON or as a string, headers)
fn call(method: &str, url: &str, body: Option<&str>, headers: &[(&str, &str)]) -> (u16, Value, Vec<(String, String)>) {
    let a = agent();
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut r = a.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call().unwrap()
        }
        (_, b) => {
            let mut r = a.post(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(b.unwrap_or("").as_bytes()).unwrap()
        }
    };
    let status = resp.status().as_u16();
    let hs = resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), hs)
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    let (s, v, _) = call("POST", url, Some(&body.to_string()), &[("content-type", "application/json")]);
    (s, v)
}

fn credit_body() -> Value {
    json!({"applicant_data": {"age": 35, "monthly_income": 80000, "monthly_debt": 20000, "credit_limit": 200000,
        "credit_used": 50000, "loan_amount": 500000, "payments_missed": 1, "total_payments": 48, "months_employed": 60,
        "credit_history_months": 84, "num_credit_accounts": 4, "has_mortgage": false, "has_car_loan": true,
        "employment_type": "salaried", "education": "graduate"}})
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn every_route_answers_with_its_contract() {
    let mut s = Server::start(fixture(), ServerConfig::default());
    let u = &s.url;
    let (st, v) = post(&format!("{u}/predict/intent"), &json!({"query": "how much did I spend on food last month"}));
    assert_eq!(st, 200, "{v}");
    assert!(v["intent"].is_string() && v["alternatives"].as_array().unwrap().len() == 3, "{v}");
    let total: f64 = v["alternatives"].as_array().unwrap().iter().map(|a| a["confidence"].as_f64().unwrap()).sum();
    assert!(total <= 1.0 + 1e-9 && v["model_version"] == "1", "{v}");
    let (st, v) = post(
        &format!("{u}/predict/ner"),
        &json!({"text": "Paid ₹1.5 lakh on 15 March", "reference_date": "2026-03-20"}),
    );
    assert_eq!(st, 200, "{v}");
    let money = v["entities"].as_array().unwrap().iter().find(|e| e["label"] == "MONEY").unwrap();
    assert_eq!(money["value"]["amount"], 150000.0);
    assert_eq!(v["model_version"], "1");
    // `3.0` is the whole number JSON Schema says it is
    let (st, v) = post(&format!("{u}/predict/spending"), &json!({"user_id": "U0001", "months": 3.0}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["forecast"].as_array().unwrap().len(), 3, "{v}");
    // over HTTP a boolean is a JSON boolean (1/0/"yes" are for dataset files) and a number a number
    let mut odd = credit_body();
    odd["applicant_data"]["has_mortgage"] = json!(1);
    let (st, v) = post(&format!("{u}/predict/credit-risk"), &odd);
    assert_eq!((st, v["field"].as_str()), (422, Some("applicant_data.has_mortgage")), "{v}");
    let mut odd = credit_body();
    odd["applicant_data"]["total_payments"] = json!("24");
    let (st, v) = post(&format!("{u}/predict/credit-risk"), &odd);
    assert_eq!((st, v["field"].as_str()), (422, Some("applicant_data.total_payments")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/anomaly"),
        &json!({"user_id": "U0001", "transaction": {"timestamp": "2026-03-15T14:05:00+05:30", "amount": 5.0, "is_anomaly": 0}}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("transaction.is_anomaly")), "{v}");
    // the rules across fields that JSON Schema cannot say (tests/schemathesis/hooks.py) are 422s
    let mut odd = credit_body();
    odd["applicant_data"]["payments_missed"] = json!(25);
    odd["applicant_data"]["total_payments"] = json!(24);
    let (st, v) = post(&format!("{u}/predict/credit-risk"), &odd);
    assert_eq!((st, v["field"].as_str()), (422, Some("applicant_data.payments_missed")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/anomaly"),
        &json!({"user_id": "U0001", "transaction": {"user_id": "U0002", "timestamp": "2026-03-15T14:05:00+05:30", "amount": 5.0}}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("transaction.user_id")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/spending"),
        &json!({"transactions": [{"timestamp": "2026-03-15T14:05:00+05:30", "amount": 5.0}]}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("history")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/anomaly"),
        &json!({"user_id": "U0001", "transaction": {"timestamp": chrono::Utc::now().to_rfc3339(), "amount": 250000.0, "merchant": "Never Seen", "category": "shopping", "channel": "card"}}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["history_source"], "feature_store", "{v}");
    assert!(v["anomaly_score"].as_f64().unwrap() >= 0.0 && v["reasons"].is_array());
    let (st, v) = post(&format!("{u}/predict/credit-risk"), &credit_body());
    assert_eq!(st, 200, "{v}");
    let p = v["default_probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p) && v["reason_codes"].as_array().unwrap().len() == 4, "{v}");
    // the same input again (computed again: the cache keeps a request's second answer) is
    // identical but for its own prediction id
    let (_, mut again) = post(&format!("{u}/predict/credit-risk"), &credit_body());
    assert!(again["prediction_id"].as_str().unwrap().len() == 32 && again["prediction_id"] != v["prediction_id"]);
    let mut first = v.clone();
    again.as_object_mut().unwrap().remove("prediction_id");
    first.as_object_mut().unwrap().remove("prediction_id");
    assert_eq!(again, first);
    // batches
    let (st, v) = post(
        &format!("{u}/predict/intent/batch"),
        &json!({"inputs": [{"query": "my balance"}, {"query": "plan my retirement"}]}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["outputs"].as_array().unwrap().len(), 2);
    assert_eq!(v["model_version"], "1");
    let (st, v) = post(&format!("{u}/predict/credit-risk/batch"), &json!({"inputs": [credit_body(), credit_body()]}));
    assert_eq!(st, 200, "{v}");
    for route in ["ner", "spending", "anomaly"] {
        let (st, _) = post(&format!("{u}/predict/{route}/batch"), &json!({"inputs": []}));
        assert_eq!(st, 422, "{route}");
    }
    // reference dates at chrono's limits once panicked ("NaiveDate ± TimeDelta overflowed"): 422
    for date in ["+262142-12-31", "-262143-01-01", "1899-12-31", "3000-01-01"] {
        let (st, v) = post(&format!("{u}/predict/ner"), &json!({"text": "paid 500 yesterday", "reference_date": date}));
        assert_eq!((st, v["field"].as_str()), (422, Some("reference_date")), "{date}: {v}");
        let (st, v) = post(
            &format!("{u}/predict/ner/batch"),
            &json!({"inputs": [{"text": "paid 500 next month", "reference_date": "2026-01-01"}, {"text": "x yesterday", "reference_date": date}]}),
        );
        assert_eq!((st, v["field"].as_str()), (422, Some("inputs[1].reference_date")), "{date}: {v}");
    }
    // models, reload, statistics, cache, features
    for path in ["/models", "/models/list"] {
        let (st, v, _) = call("GET", &format!("{u}{path}"), None, &[]);
        assert_eq!(st, 200);
        assert_eq!(v["models"].as_array().unwrap().len(), 5, "{v}");
    }
    let (st, v) = post(&format!("{u}/models/credit/reload"), &json!({}));
    assert_eq!((st, v["changed"].clone()), (200, json!(false)), "{v}");
    let (st, v, _) = call("GET", &format!("{u}/monitoring/statistics"), None, &[]);
    assert_eq!(st, 200);
    let credit = v["models"].as_array().unwrap().iter().find(|m| m["model"] == "credit").unwrap().clone();
    assert!(credit["requests"].as_u64().unwrap() >= 4 && credit["cache_hits"].as_u64().unwrap() >= 1, "{credit}");
    assert!(credit["latency_us_p99"].as_f64().is_some());
    let (st, v) = post(&format!("{u}/cache/clear"), &json!({}));
    assert_eq!((st, v["cleared"].clone()), (200, json!(true)));
    let (st, v) =
        post(&format!("{u}/features/online"), &json!({"entity_ids": ["U0001", "NOBODY"], "views": ["credit_profile"]}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["results"][0]["views"]["credit_profile"]["status"], "ok");
    assert_eq!(v["results"][1]["views"]["credit_profile"]["status"], "missing");
    // health, metrics, docs
    for path in ["/health/live", "/health/startup", "/health/ready", "/health"] {
        let (st, v, _) = call("GET", &format!("{u}{path}"), None, &[]);
        assert_eq!(st, 200, "{path}: {v}");
    }
    let (_, v, _) = call("GET", &format!("{u}/health"), None, &[]);
    assert_eq!(v["status"], "ok", "{v}");
    assert!(v["rss_bytes"].as_u64().unwrap() > 0);
    let (st, m, _) = call("GET", &format!("{u}/metrics"), None, &[]);
    let m = m.as_str().unwrap().to_string();
    assert_eq!(st, 200);
    for name in [
        "nivesh_http_requests_total",
        "nivesh_http_request_duration_seconds_bucket",
        "nivesh_predictions_total",
        "nivesh_cache_hits_total",
        "nivesh_http_requests_in_flight",
    ] {
        assert!(m.contains(name), "{name} missing from /metrics");
    }
    assert!(m.contains("route=\"/predict/credit-risk\""));
    let (st, doc, _) = call("GET", &format!("{u}/openapi.json"), None, &[]);
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    for path in ["/predict/intent", "/predict/credit-risk/batch", "/health/ready", "/features/online"] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
    // every error a route can answer is documented with the error body, and the limits the
    // server checks are in the schemas (generated clients and schemathesis see them)
    for (path, codes) in [
        ("/predict/intent", &["400", "401", "403", "413", "415", "422", "429", "503"][..]),
        ("/features/online", &["400", "401", "403", "422", "429"][..]),
        ("/models", &["401", "403", "429"][..]),
    ] {
        let op = &doc["paths"][path][if path == "/models" { "get" } else { "post" }];
        for code in codes {
            let schema = &op["responses"][code]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorBody", "{path} {code}");
        }
    }
    assert!(doc["paths"]["/health/live"]["get"]["responses"]["401"].is_null(), "health is open");
    // a path parameter is in its path's template and every other parameter is an optional query
    // one (a query struct declared `in: path` once made `?windows=` required in the path)
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let templated = path.contains(&format!("{{{name}}}"));
                let want = if templated { "path" } else { "query" };
                assert_eq!(p["in"], want, "{method} {path}: parameter {name}");
                assert_eq!(p["required"].as_bool().unwrap_or(false), templated, "{method} {path}: {name}");
            }
        }
    }
    let perf = &doc["paths"]["/monitoring/performance/{model}"]["get"]["parameters"];
    let windows = perf.as_array().unwrap().iter().find(|p| p["name"] == "windows").unwrap();
    assert_eq!((&windows["schema"]["minimum"], &windows["schema"]["maximum"]), (&json!(1), &json!(52)));
    for (path, method) in [("/monitoring/performance/{model}", "get"), ("/monitoring/drift/{model}/check", "post")] {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let window = params.iter().find(|p| p["name"] == "window").unwrap();
        assert_eq!(window["schema"]["pattern"], nivesh_monitor::performance::WINDOW_PATTERN, "{path}");
        assert_eq!(
            doc["paths"][path][method]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["IntentRequest"]["properties"]["query"]["minLength"], 1);
    assert_eq!(schemas["NerRequest"]["properties"]["text"]["maxLength"], 2000);
    assert_eq!(schemas["SpendingRequest"]["allOf"][0]["properties"]["months"]["maximum"], 24);
    // one of two fields, said as `anyOf` beside the body's object
    for (name, first) in
        [("SpendingRequest", "user_id"), ("AnomalyRequest", "user_id"), ("FeedbackRequest", "prediction_id")]
    {
        let any = &schemas[name]["allOf"][1]["anyOf"];
        assert_eq!(any.as_array().map(Vec::len), Some(2), "{name}");
        assert_eq!(any[0]["required"][0], first, "{name}");
    }
    // u32 fields are int64 with u32's range, so that 2^31 is valid (it is, to the server)
    let total = &schemas["CreditApplication"]["properties"]["total_payments"];
    assert_eq!((total["format"].as_str(), total["maximum"].as_u64()), (Some("int64"), Some(u64::from(u32::MAX))));
    assert_eq!(schemas["CreditApplication"]["properties"]["age"]["minimum"], 18);
    let (st, html, _) = call("GET", &format!("{u}/docs/"), None, &[]);
    assert_eq!(st, 200);
    assert!(html.as_str().unwrap().contains("swagger"), "docs UI");
    s.stop().unwrap();
}

#[test]
fn client_errors_get_the_right_status_and_a_json_body_naming_the_field() {
    let config = ServerConfig { max_body_bytes: 4096, max_batch: 3, ..ServerConfig::default() };
    let s = Server::start(fixture(), config);
    let u = &s.url;
    let json = [("content-type", "application/json")];
    // 400 malformed JSON
    let (st, v, _) = call("POST", &format!("{u}/predict/intent"), Some("{\"query\": "), &json);
    assert_eq!((st, v["error_type"].as_str()), (400, Some("bad_request")), "{v}");
    // 422 missing and wrong fields, named
    let (st, v) = post(&format!("{u}/predict/intent"), &json!({"question": "x"}));
    assert_eq!(st, 422, "{v}");
    let (st, v) = post(&format!("{u}/predict/intent"), &json!({"query": "   "}));
    assert_eq!((st, v["field"].as_str()), (422, Some("query")), "{v}");
    let mut bad = credit_body();
    bad["applicant_data"]["monthly_income"] = json!(-5);
    let (st, v) = post(&format!("{u}/predict/credit-risk"), &bad);
    assert_eq!(st, 422, "{v}");
    assert!(v["field"].as_str().unwrap().starts_with("applicant_data.monthly_income"), "{v}");
    let (st, v) = post(&format!("{u}/predict/intent/batch"), &json!({"inputs": [{"query": "a"}, {"query": 3}]}));
    assert_eq!((st, v["field"].as_str()), (422, Some("inputs[1].query")), "{v}");
    let (st, v) = post(&format!("{u}/predict/intent/batch"), &json!({"inputs": [{"query": "a"}, {"query": ""}]}));
    assert_eq!((st, v["field"].as_str()), (422, Some("inputs[1].query")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/intent/batch"),
        &json!({"inputs": [{"query": "a"}, {"query": "b"}, {"query": "c"}, {"query": "d"}]}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("inputs")), "{v}");
    let (st, v) = post(&format!("{u}/predict/spending"), &json!({"months": 3}));
    assert_eq!((st, v["field"].as_str()), (422, Some("user_id")), "{v}");
    let (st, v) = post(&format!("{u}/predict/spending"), &json!({"user_id": "U0001", "months": 99}));
    assert_eq!((st, v["field"].as_str()), (422, Some("months")), "{v}");
    let (st, v) = post(
        &format!("{u}/predict/anomaly"),
        &json!({"user_id": "U1", "transaction": {"timestamp": "yesterday", "amount": 5}}),
    );
    assert_eq!(st, 422, "{v}");
    assert!(v["field"].as_str().unwrap().starts_with("transaction.timestamp"), "{v}");
    // 404: unknown user, route, model
    let (st, v) = post(&format!("{u}/predict/spending"), &json!({"user_id": "NOBODY"}));
    assert_eq!((st, v["error_type"].as_str()), (404, Some("not_found")), "{v}");
    let (st, _, _) = call("GET", &format!("{u}/nope"), None, &[]);
    assert_eq!(st, 404);
    let (st, _) = post(&format!("{u}/models/shoes/reload"), &json!({}));
    assert_eq!(st, 404);
    // 413 body too large
    let big = json!({"query": "x".repeat(10_000)}).to_string();
    let (st, v, _) = call("POST", &format!("{u}/predict/intent"), Some(&big), &json);
    assert_eq!((st, v["error_type"].as_str()), (413, Some("payload_too_large")), "{v}");
    // 415 for another media type; a missing Content-Type is accepted
    let body = json!({"query": "show my balance"}).to_string();
    let (st, _, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &[("content-type", "text/csv")]);
    assert_eq!(st, 415);
    let (st, v, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &[]);
    assert_eq!(st, 200, "missing Content-Type: {v}");
    // curl's `-d` default is taken from a script; from another site's page (a form or a no-CORS
    // fetch, which need no CORS preflight) only application/json is, so a web page cannot drive a
    // keyless server on the user's machine
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (st, v, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &form);
    assert_eq!(st, 200, "curl -d: {v}");
    for headers in [
        vec![("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("content-type", "text/plain"), ("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let (st, v, _) = call("POST", &format!("{u}/admin/train"), Some(""), &headers);
        assert_eq!((st, v["error_type"].as_str()), (415, Some("unsupported_media_type")), "{headers:?}: {v}");
        let (st, _, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &headers);
        assert_eq!(st, 415, "{headers:?}");
    }
    // a compressed body is refused as such (once 400 "malformed JSON")
    let (st, v, _) = call(
        "POST",
        &format!("{u}/predict/intent"),
        Some(&body),
        &[("content-type", "application/json"), ("content-encoding", "gzip")],
    );
    assert_eq!((st, v["error_type"].as_str()), (415, Some("unsupported_media_type")), "{v}");
    // JSON from another origin goes through the browser's CORS check first, so it is taken
    let cross_json = [("content-type", "application/json"), ("origin", "https://app.example")];
    let (st, v, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &cross_json);
    assert_eq!(st, 200, "{v}");
    // query parameters out of range are named (a window too long for a Duration once panicked)
    for (query, field) in [
        ("window=99999999999999999999999d", "window"),
        ("window=1.5h", "window"),
        ("window=0h", "window"),
        ("windows=0", "windows"),
        ("windows=53", "windows"),
    ] {
        let (st, v, _) = call("GET", &format!("{u}/monitoring/performance/credit?{query}"), None, &[]);
        assert_eq!((st, v["field"].as_str()), (422, Some(field)), "{query}: {v}");
    }
    // an unknown query parameter is refused, in words (`?windows=` belongs to performance)
    let (st, v) = post(&format!("{u}/monitoring/drift/credit/check?windows=3"), &json!({}));
    assert_eq!(st, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("unknown field `windows`"), "{v}");
    assert_eq!(v["field"], "windows", "{v}");
    // 405 is never a 500 either
    let (st, _, _) = call("GET", &format!("{u}/predict/intent"), None, &[]);
    assert!((400..500).contains(&st), "{st}");
}

#[test]
fn api_keys_rate_limit_overload_and_timeout() {
    // keys: missing → 401, wrong → 403, right (either header) → 200; health and metrics stay open
    let keyed = ServerConfig { api_keys: vec!["k-one".into(), "k-two".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), keyed);
    let u = &s.url;
    let body = json!({"query": "what is my balance"}).to_string();
    let ct = ("content-type", "application/json");
    let (st, v, hs) = call("POST", &format!("{u}/predict/intent"), Some(&body), &[ct]);
    assert_eq!((st, v["error_type"].as_str()), (401, Some("unauthorized")));
    assert_eq!(header(&hs, "www-authenticate"), Some("Bearer"));
    let (st, _, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &[ct, ("x-api-key", "nope")]);
    assert_eq!(st, 403);
    let (st, _, _) = call("POST", &format!("{u}/predict/intent"), Some(&body), &[ct, ("x-api-key", "k-two")]);
    assert_eq!(st, 200);
    let (st, _, _) =
        call("POST", &format!("{u}/predict/intent"), Some(&body), &[ct, ("authorization", "Bearer k-one")]);
    assert_eq!(st, 200);
    let (st, _, _) = call("GET", &format!("{u}/models"), None, &[]);
    assert_eq!(st, 401);
    for open in ["/health/ready", "/metrics", "/openapi.json"] {
        let (st, _, _) = call("GET", &format!("{u}{open}"), None, &[]);
        assert_eq!(st, 200, "{open}");
    }
    // no spelling of a protected route, and no other method, answers without the key
    for path in [
        "//predict/intent",
        "/predict/intent/",
        "/PREDICT/intent",
        "/predict/%69ntent",
        "/predict/./intent",
        "/models/",
    ] {
        let (st, v, _) = call("POST", &format!("{u}{path}"), Some(&body), &[ct]);
        assert!(matches!(st, 401 | 404 | 405), "{path}: {st} {v}");
        let (st, _, _) = call("GET", &format!("{u}{path}"), None, &[]);
        assert!(matches!(st, 401 | 404 | 405), "GET {path}: {st}");
    }
    for method in ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"] {
        for path in ["/predict/intent", "/models", "/admin/train", "/features/online"] {
            let url = format!("{u}{path}");
            let a = agent();
            let resp = match method {
                "HEAD" => a.head(&url).call(),
                "OPTIONS" => a.options(&url).call(),
                "DELETE" => a.delete(&url).call(),
                "PUT" => a.put(&url).send(body.as_bytes()),
                _ => a.patch(&url).send(body.as_bytes()),
            };
            let st = resp.unwrap().status().as_u16();
            assert!(matches!(st, 401 | 404 | 405), "{method} {path}: {st}");
        }
    }
    // without admin keys, any API key may clear the cache
    let (st, _, _) = call("POST", &format!("{u}/cache/clear"), Some("{}"), &[ct, ("x-api-key", "k-one")]);
    assert_eq!(st, 200);
    drop(s);

    // admin keys: the admin routes take only those; the others still take API keys
    let admin =
        ServerConfig { api_keys: vec!["k-one".into()], admin_keys: vec!["k-admin".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), admin);
    let (st, _, _) = call("POST", &format!("{}/cache/clear", s.url), Some("{}"), &[ct, ("x-api-key", "k-one")]);
    assert_eq!(st, 403);
    let (st, _, _) =
        call("POST", &format!("{}/models/credit/reload", s.url), Some("{}"), &[ct, ("x-api-key", "k-admin")]);
    assert_eq!(st, 200);
    let (st, _, _) = call("POST", &format!("{}/predict/intent", s.url), Some(&body), &[ct, ("x-api-key", "k-one")]);
    assert_eq!(st, 200);
    drop(s);

    // rate limit: a burst of 2, then one request per 5 s → the third is 429 with Retry-After
    let limited = ServerConfig { rate_limit_per_second: 0.2, rate_limit_burst: 2.0, ..ServerConfig::default() };
    let s = Server::start(fixture(), limited);
    // a spoofed X-Forwarded-For (or a made-up key) is not a new client
    let spoof = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
    let codes: Vec<u16> = spoof
        .iter()
        .map(|ip| call("POST", &format!("{}/predict/intent", s.url), Some(&body), &[ct, ("x-forwarded-for", ip)]).0)
        .collect();
    assert_eq!(codes, [200, 200, 429]);
    let (st, _, _) =
        call("POST", &format!("{}/predict/intent", s.url), Some(&body), &[ct, ("x-api-key", "made-up-key-1")]);
    assert_eq!(st, 429, "a made-up key shares the address's allowance");
    let (st, v, hs) = call("POST", &format!("{}/predict/intent", s.url), Some(&body), &[ct]);
    assert_eq!((st, v["error_type"].as_str()), (429, Some("rate_limited")));
    assert!(header(&hs, "retry-after").is_some());
    let (_, m, _) = call("GET", &format!("{}/metrics", s.url), None, &[]);
    assert!(m.as_str().unwrap().contains("nivesh_rate_limited_total 3"), "{m}");
    drop(s);

    // no room in flight → 429 overloaded at once, not a queue
    let full = ServerConfig { max_in_flight: 0, ..ServerConfig::default() };
    let s = Server::start(fixture(), full);
    let (st, v, _) = call("POST", &format!("{}/predict/intent", s.url), Some(&body), &[ct]);
    assert_eq!((st, v["error_type"].as_str()), (429, Some("overloaded")));
    drop(s);

    // a request past its timeout → 503
    let hasty = ServerConfig { request_timeout: Duration::from_micros(1), ..ServerConfig::default() };
    let s = Server::start(fixture(), hasty);
    // (a batch of 240 distinct forecasts on the blocking pool: far longer than the timer's
    // millisecond, where one forecast can finish within it)
    let inputs: Vec<_> =
        (1..=20).flat_map(|u| (1..=12).map(move |m| json!({"user_id": format!("U{u:04}"), "months": m}))).collect();
    let (st, v) = post(&format!("{}/predict/spending/batch", s.url), &json!({ "inputs": inputs }));
    assert_eq!((st, v["error_type"].as_str()), (503, Some("timeout")), "{v}");
}

#[test]
fn readiness_is_503_until_every_champion_is_loaded() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("store")).unwrap();
    let s = Server::start(empty.path(), ServerConfig::default());
    let (st, _, _) = call("GET", &format!("{}/health/live", s.url), None, &[]);
    assert_eq!(st, 200);
    let (st, v, _) = call("GET", &format!("{}/health/ready", s.url), None, &[]);
    assert_eq!(st, 503);
    assert!(v["reason"].as_str().unwrap().contains("models not loaded: intent, ner, spending, anomaly, credit"), "{v}");
    let (st, v) = post(&format!("{}/predict/credit-risk", s.url), &credit_body());
    assert_eq!((st, v["error_type"].as_str()), (503, Some("unavailable")), "{v}");
    let (st, v, _) = call("GET", &format!("{}/health", s.url), None, &[]);
    assert_eq!((st, v["status"].as_str()), (503, Some("unavailable")));
}

#[test]
fn stalled_connections_are_cut_and_the_connection_cap_holds() {
    use std::io::{Read, Write};
    let cfg =
        ServerConfig { header_read_timeout: Duration::from_millis(700), max_connections: 2, ..ServerConfig::default() };
    let s = Server::start(fixture(), cfg);
    let addr = s.url.trim_start_matches("http://").to_string();
    let closed_after = |send: &[u8]| {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = std::time::Instant::now();
        c.write_all(send).unwrap();
        let mut buf = [0u8; 64];
        let n = c.read(&mut buf).unwrap_or(usize::MAX);
        (n, t.elapsed())
    };
    // a client that sends nothing, or trickles its headers, is cut at the header timeout
    for send in [&b""[..], b"GET /health/live HTTP/1.1\r\nHost: x\r\n"] {
        let (n, took) = closed_after(send);
        assert_eq!(n, 0, "closed without an answer");
        assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(3), "{took:?}");
    }
    // two silent connections hold the cap; a third request waits for them to be cut, then passes
    let held: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let t = std::time::Instant::now();
    let (st, _, _) = call("GET", &format!("{}/health/live", s.url), None, &[]);
    assert_eq!(st, 200);
    assert!(t.elapsed() >= Duration::from_millis(400), "waited for a free connection: {:?}", t.elapsed());
    drop(held);
}

#[test]
fn the_open_health_report_never_shows_a_url_password() {
    let cfg =
        ServerConfig { mlflow_uri: Some("http://ml:hunter2secret@127.0.0.1:9".into()), ..ServerConfig::default() };
    let s = Server::start(fixture(), cfg);
    let (st, v, _) = call("GET", &format!("{}/health", s.url), None, &[]);
    assert_eq!(st, 200, "{v}");
    let text = v.to_string();
    assert!(!text.contains("hunter2secret"), "{text}");
    let mlflow =
        v["checks"].as_array().unwrap().iter().find(|c| c["name"].as_str().unwrap().starts_with("mlflow")).unwrap();
    assert_eq!(mlflow["status"], "down", "{mlflow}");
    assert!(mlflow["name"].as_str().unwrap().contains("ml:[REDACTED]@127.0.0.1:9"), "{mlflow}");
}

#[test]
fn hot_swap_during_a_stream_of_requests_loses_none() {
    let dir = private_copy();
    // no rate limit: three clients in a loop on a fast machine pass the default 1,000/s, and
    // this test is about the swap (the limits have their own)
    let config = ServerConfig {
        reload_interval: Duration::from_millis(100),
        cache_bytes: 0,
        rate_limit_per_second: 1e9,
        rate_limit_burst: 1e9,
        ..ServerConfig::default()
    };
    let s = Server::start(dir.path(), config);
    let url = format!("{}/predict/credit-risk", s.url);
    // (worker, status, version), in the order each worker got its answers
    let seen: Arc<Mutex<Vec<(usize, u16, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (url, seen, stop) = (url.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (st, v) = post(&url, &credit_body());
                    seen.lock().unwrap().push((w, st, v["model_version"].as_str().unwrap_or("").to_string()));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // a new credit version becomes champion in the registry (another process would do this)
    let registry = Registry::open(&dir.path().join("store/registry.db")).unwrap();
    let v1 = registry.alias("credit", "champion").unwrap().unwrap();
    let v2 = registry.register("credit", &v1.run_id, &v1.digest, &v1.metric_name, v1.metric, true).unwrap();
    assert!(registry.promote("credit", v2, "champion", 0.0, false).unwrap().promoted);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) && !seen.lock().unwrap().iter().any(|(_, _, v)| *v == v2.to_string()) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 20, "{} requests", seen.len());
    assert!(
        seen.iter().all(|(_, st, _)| *st == 200),
        "failures during the swap: {:?}",
        seen.iter().filter(|(_, s, _)| *s != 200).take(3).collect::<Vec<_>>()
    );
    // each client is answered by v1, then by v2 from some point on, never back (requests in
    // flight at the swap may finish on v1 after another client already saw v2)
    assert!(seen.iter().any(|(_, _, v)| *v == v2.to_string()), "v2 never answered");
    for w in 0..3 {
        let versions: Vec<&str> = seen.iter().filter(|(x, _, _)| *x == w).map(|(_, _, v)| v.as_str()).collect();
        let first_v2 = versions.iter().position(|v| *v == v2.to_string()).unwrap_or(versions.len());
        assert!(versions[..first_v2].iter().all(|v| *v == "1"), "worker {w}: {versions:?}");
        assert!(versions[first_v2..].iter().all(|v| *v == v2.to_string()), "worker {w}: {versions:?}");
    }
    // a version that fails to load keeps the old one serving
    let broken = nivesh_store::Digest::of(b"not a model");
    ArtifactStore::new(dir.path().join("store/models/artifacts")).put(b"not a model").unwrap();
    let v3 = registry.register("credit", &v1.run_id, &broken, &v1.metric_name, v1.metric, true).unwrap();
    registry.promote("credit", v3, "champion", 0.0, false).unwrap();
    let (st, v) = post(&format!("{}/models/credit/reload", s.url), &json!({}));
    assert_eq!(st, 503, "{v}");
    let (st, v) = post(&url, &credit_body());
    assert_eq!((st, v["model_version"].as_str()), (200, Some(v2.to_string().as_str())));
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let mut s = Server::start(fixture(), ServerConfig { cache_bytes: 0, ..ServerConfig::default() });
    let url = format!("{}/predict/spending/batch", s.url);
    let inputs: Vec<Value> = (1..=20).map(|i| json!({"user_id": format!("U{i:04}"), "months": 24})).collect();
    let slow = std::thread::spawn(move || post(&url, &json!({"inputs": inputs})));
    // stop while the batch is being served
    let t0 = Instant::now();
    while s.state.in_flight.available_permits() == s.state.config.max_in_flight
        && t0.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    s.stop().unwrap();
    let (st, v) = slow.join().unwrap();
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["outputs"].as_array().unwrap().len(), 20);
}

#[test]
fn the_binary_serves_and_exits_0_on_sigterm() {
    let root: PathBuf = fixture().to_path_buf();
    let (mut child, url) = spawn_serve(&root, &[]);
    let (st, _, _) = call("GET", &format!("{url}/health/ready"), None, &[]);
    assert_eq!(st, 200);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn redis_is_a_shared_cache_level_and_its_failure_only_degrades() {
    // Redis down: requests still succeed; /health says degraded
    let down = ServerConfig { redis_cache_url: Some("redis://127.0.0.1:1/0".into()), ..ServerConfig::default() };
    let s = Server::start(fixture(), down);
    let (st, _) = post(&format!("{}/predict/credit-risk", s.url), &credit_body());
    assert_eq!(st, 200);
    let (st, v, _) = call("GET", &format!("{}/health", s.url), None, &[]);
    assert_eq!((st, v["status"].as_str()), (200, Some("degraded")), "{v}");
    let (st, _, _) = call("GET", &format!("{}/health/ready", s.url), None, &[]);
    assert_eq!(st, 200);
    drop(s);

    let Ok(url) = std::env::var("NIVESH_TEST_REDIS_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the shared Redis cache half: set NIVESH_TEST_REDIS_URL (.ci/run does)"
        );
        return;
    };
    let config = ServerConfig { redis_cache_url: Some(url.clone()), ..ServerConfig::default() };
    let a = Server::start(fixture(), config.clone());
    let b = Server::start(fixture(), config);
    let mut body = credit_body();
    // an applicant no other test sends
    body["applicant_data"]["monthly_income"] = json!(123_457 + std::process::id() % 1000);
    let (st, mut from_a) = post(&format!("{}/predict/credit-risk", a.url), &body);
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(200));
    // replica B has never seen it: it comes from Redis, identical
    let (st, mut from_b) = post(&format!("{}/predict/credit-risk", b.url), &body);
    // every prediction has its own id, a cached one too; the rest is identical
    let (id_a, id_b) = (from_a["prediction_id"].clone(), from_b["prediction_id"].clone());
    assert!(id_a.is_string() && id_b.is_string() && id_a != id_b, "{id_a} {id_b}");
    from_a.as_object_mut().unwrap().remove("prediction_id");
    from_b.as_object_mut().unwrap().remove("prediction_id");
    assert_eq!((st, &from_b), (200, &from_a));
    // B's credit cache hits and misses
    let hits_misses = || {
        let (_, stats, _) = call("GET", &format!("{}/monitoring/statistics", b.url), None, &[]);
        let credit = stats["models"].as_array().unwrap().iter().find(|m| m["model"] == "credit").unwrap().clone();
        (credit["cache_hits"].as_u64().unwrap(), credit["cache_misses"].as_u64().unwrap())
    };
    assert_eq!(hits_misses(), (1, 0));
    // an answer read from Redis is kept by B no longer than it has left to live there
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut c = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("nivesh:cache:v2:credit:*").query(&mut c).unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        redis::cmd("PEXPIRE").arg(k).arg(1500).query::<()>(&mut c).unwrap();
    }
    // the second asking reads Redis and keeps the answer; the third is B's own
    for _ in 0..2 {
        assert_eq!(post(&format!("{}/predict/credit-risk", b.url), &body).0, 200);
    }
    assert_eq!(hits_misses(), (3, 0));
    std::thread::sleep(Duration::from_millis(1700));
    assert_eq!(post(&format!("{}/predict/credit-risk", b.url), &body).0, 200);
    assert_eq!(hits_misses(), (3, 1), "B served an answer past its time to live in Redis");
    let (_, v, _) = call("GET", &format!("{}/health", b.url), None, &[]);
    assert_eq!(v["status"], "ok", "{v}");
    // /cache/clear empties the shared level too
    let (st, _) = post(&format!("{}/cache/clear", a.url), &json!({}));
    assert_eq!(st, 200);
    let keys: Vec<String> = redis::cmd("KEYS").arg("nivesh:cache:*").query(&mut c).unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[test]
fn cors_allows_only_the_configured_origins() {
    let config = ServerConfig { cors_origins: vec!["https://app.nivesh.in".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), config);
    let (_, _, hs) = call("GET", &format!("{}/health/live", s.url), None, &[("origin", "https://app.nivesh.in")]);
    assert_eq!(header(&hs, "access-control-allow-origin"), Some("https://app.nivesh.in"));
    assert_eq!(header(&hs, "access-control-allow-credentials"), None);
    let (_, _, hs) = call("GET", &format!("{}/health/live", s.url), None, &[("origin", "https://evil.example")]);
    assert_eq!(header(&hs, "access-control-allow-origin"), None);
}

/// Poll a training run until it is over.
fn wait_for_job(url: &str, id: &str, key: &str) -> Value {
    let t0 = Instant::now();
    loop {
        let (st, job, _) = call("GET", &format!("{url}/admin/train/{id}"), None, &[("x-api-key", key)]);
        assert_eq!(st, 200, "{job}");
        if job["state"] == "succeeded" || job["state"] == "failed" {
            return job;
        }
        assert!(t0.elapsed() < Duration::from_secs(300), "training run {id} still {}", job["state"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn admin_train_runs_in_the_background_one_at_a_time_and_a_failure_keeps_the_champion() {
    // the fixture's store and its generated data, so that this test may change both
    let dir = private_copy();
    copy_tree(&fixture().join("gen"), &dir.path().join("gen"));
    let spec = nivesh_training::TrainSpec::all(
        nivesh_training::DataSource::Directory { dir: dir.path().join("gen") },
        &nivesh_training::Defaults::default(),
    );
    let keys = ServerConfig {
        api_keys: vec!["k-user-1234".into()],
        admin_keys: vec!["k-admin-1234".into()],
        training: Some(spec),
        ..ServerConfig::default()
    };
    let s = Server::start(dir.path(), keys);
    let u = &s.url;
    let admin = [("x-api-key", "k-admin-1234"), ("content-type", "application/json")];
    let body = json!({"models": ["ner", "credit"]}).to_string();
    // the admin key, and only it
    let (st, _, _) = call("POST", &format!("{u}/admin/train"), Some(&body), &[]);
    assert_eq!(st, 401);
    let (st, _, _) = call("POST", &format!("{u}/admin/train"), Some(&body), &[("x-api-key", "k-user-1234")]);
    assert_eq!(st, 403);
    // an unknown model is named
    let (st, v, _) = call("POST", &format!("{u}/admin/train"), Some(r#"{"models": ["credit", "shoes"]}"#), &admin);
    assert_eq!((st, v["field"].as_str()), (422, Some("models[1]")), "{v}");
    // accepted, in the background; a second run while it runs is refused
    let (st, started, _) = call("POST", &format!("{u}/admin/train"), Some(&body), &admin);
    assert_eq!(st, 202, "{started}");
    assert_eq!(started["state"], "queued");
    let id = started["id"].as_str().unwrap().to_string();
    let (st, v, _) = call("POST", &format!("{u}/admin/train"), Some(&body), &admin);
    assert_eq!((st, v["error_type"].as_str()), (409, Some("conflict")), "{v}");
    assert!(v["error"].as_str().unwrap().contains(&id), "{v}");
    let job = wait_for_job(u, &id, "k-admin-1234");
    assert_eq!(job["state"], "succeeded", "{job}");
    let models = job["models"].as_array().unwrap();
    assert_eq!(models.iter().map(|m| m["model"].as_str().unwrap()).collect::<Vec<_>>(), ["ner", "credit"]);
    for m in models {
        assert_eq!(m["state"], "succeeded", "{m}");
        assert_eq!(m["version"], 2, "{m}");
        assert!(m["metric"]["value"].as_f64().is_some() && m["run_id"].is_string(), "{m}");
    }
    // the same data and seed give the same metric, so the new version passes the gate and serves
    let credit = &models[1];
    assert_eq!(credit["alias"], "champion", "{credit}");
    let (_, listed, _) = call("GET", &format!("{u}/models"), None, &[("x-api-key", "k-user-1234")]);
    let served = listed["models"].as_array().unwrap().iter().find(|m| m["name"] == "credit").unwrap().clone();
    assert_eq!(served["version"], 2, "the new champion is loaded when the run reports success: {served}");

    // a model whose data is broken fails; its champion keeps serving, the run says why
    std::fs::write(dir.path().join("gen/credit_applications.csv"), "age\nnot-a-number\n").unwrap();
    let (st, started, _) =
        call("POST", &format!("{u}/admin/train"), Some(r#"{"models": ["credit", "intent"]}"#), &admin);
    assert_eq!(st, 202, "{started}");
    let job = wait_for_job(u, started["id"].as_str().unwrap(), "k-admin-1234");
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["models"][0]["state"], "failed", "{job}");
    assert!(job["models"][0]["error"].as_str().unwrap().contains("validating credit's data"), "{job}");
    // the spec does not continue on error: the next model is reported skipped, not left queued
    assert_eq!(job["models"][1]["state"], "skipped", "{job}");
    let user = [("x-api-key", "k-user-1234"), ("content-type", "application/json")];
    let (st, v, _) = call("POST", &format!("{u}/predict/credit-risk"), Some(&credit_body().to_string()), &user);
    assert_eq!((st, v["model_version"].as_str()), (200, Some("2")), "{v}");
    // every run is listed, newest first; an unknown id is a 404
    let (st, jobs, _) = call("GET", &format!("{u}/admin/train"), None, &admin);
    assert_eq!(st, 200);
    assert_eq!(jobs.as_array().unwrap().len(), 2, "{jobs}");
    assert_eq!(jobs[1]["id"], id.as_str());
    let (st, _, _) = call("GET", &format!("{u}/admin/train/nope"), None, &admin);
    assert_eq!(st, 404);
    drop(s);

    // a server without a training spec says so (an empty body means all five models)
    let s = Server::start(fixture(), ServerConfig::default());
    let (st, v, _) = call("POST", &format!("{}/admin/train", s.url), None, &[]);
    assert_eq!((st, v["error_type"].as_str()), (503, Some("unavailable")), "{v}");
}

#[test]
fn spending_from_the_callers_own_history_needs_only_timestamps_and_amounts() {
    let s = Server::start(fixture(), ServerConfig::default());
    let url = format!("{}/predict/spending", s.url);
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let history: Vec<Value> = (0..120)
        .map(|d| {
            let day = start + chrono::Duration::days(d);
            json!({"timestamp": format!("{day}T12:00:00+05:30"), "amount": 400.0 + (d % 7) as f64 * 50.0})
        })
        .collect();
    let (st, v) = post(&url, &json!({"transactions": history, "months": 2}));
    assert_eq!(st, 200, "{v}");
    let forecast = v["forecast"].as_array().unwrap();
    assert_eq!(forecast.iter().map(|m| m["month"].as_str().unwrap()).collect::<Vec<_>>(), ["2025-05", "2025-06"]);
    assert!(forecast.iter().all(|m| m["predicted_amount"].as_f64().unwrap() > 0.0), "{v}");
    // a category narrows it; the default category of bare transactions is "other"
    let (st, v) = post(&url, &json!({"transactions": history, "months": 1, "category": "other"}));
    assert_eq!(st, 200, "{v}");
    // what is missing or refused is named
    let bad = json!({"transactions": [{"timestamp": "2025-01-01T10:00:00+05:30", "amount": 10}, {"timestamp": "2025-01-02"}]});
    let (st, v) = post(&url, &bad);
    assert_eq!((st, v["field"].as_str()), (422, Some("transactions[1].amount")), "{v}");
    assert_eq!(v["error"].as_str(), Some("transactions[1].amount: is required"), "{v}");
    // amounts past ₹1 lakh crore are refused (1e308 once gave null forecasts), named
    let huge = json!({"transactions": [{"timestamp": "2025-01-01T10:00:00+05:30", "amount": 1e308}]});
    let (st, v) = post(&url, &huge);
    assert_eq!((st, v["field"].as_str()), (422, Some("transactions[0].amount")), "{v}");
    let bad = json!({"transactions": [{"timestamp": "2025-01-01T10:00:00+05:30", "amount": -10}]});
    let (st, v) = post(&url, &bad);
    assert_eq!((st, v["field"].as_str()), (422, Some("transactions[0].amount")), "{v}");
    let bad = json!({"transactions": [{"timestamp": "2025-01-01T10:00:00+05:30", "amount": 10, "currency": "rupees"}]});
    let (st, v) = post(&url, &bad);
    assert_eq!((st, v["field"].as_str()), (422, Some("transactions[0].currency")), "{v}");
    // credits alone are no spending to forecast from
    let credits =
        json!({"transactions": [{"timestamp": "2025-01-01T10:00:00+05:30", "amount": 10, "direction": "credit"}]});
    let (st, v) = post(&url, &credits);
    assert_eq!((st, v["field"].as_str()), (422, Some("transactions")), "{v}");
}

/// Wait until the log has `n` rows of `model`.
fn wait_for_rows(store: &nivesh_monitor::log::LogStore, model: &str, n: u64) {
    let t0 = Instant::now();
    while store.count(model, 0, i64::MAX).unwrap() < n {
        assert!(t0.elapsed() < Duration::from_secs(60), "{model}: fewer than {n} logged rows");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn predictions_are_logged_redacted_and_fed_back_and_drift_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = nivesh_store::db::Db::sqlite(&dir.path().join("monitoring.db")).unwrap();
    let store = Arc::new(nivesh_monitor::log::LogStore::open(db).unwrap());
    let s = Server::start_with(fixture(), ServerConfig::default(), Some(store.clone()));
    let u = &s.url;
    // every prediction answers with its id; the log keeps the input, observation and answer
    let (st, v) = post(&format!("{u}/predict/intent"), &json!({"query": "my PAN ABCDE1234F, what is my balance"}));
    assert_eq!(st, 200, "{v}");
    let id = v["prediction_id"].as_str().unwrap().to_string();
    wait_for_rows(&store, "intent", 1);
    let row = store.get(&id).unwrap().unwrap();
    assert!(row.input.contains("[PAN]") && !row.input.contains("ABCDE1234F"), "free text is redacted: {}", row.input);
    assert_eq!(row.version, 1);
    let obs: Value = serde_json::from_str(&row.observation).unwrap();
    assert_eq!(obs["features"][0][0], "query_chars", "{obs}");
    assert_eq!(obs["prediction"][0], "intent", "{obs}");
    // a batch logs each input under its own id
    let (st, v) = post(&format!("{u}/predict/credit-risk/batch"), &json!({"inputs": [credit_body(), credit_body()]}));
    assert_eq!(st, 200, "{v}");
    let ids: Vec<String> =
        v["outputs"].as_array().unwrap().iter().map(|o| o["prediction_id"].as_str().unwrap().to_string()).collect();
    assert!(ids.len() == 2 && ids[0] != ids[1], "{ids:?}");
    wait_for_rows(&store, "credit", 2);

    // feedback: by prediction id, or by the input's hash; outcomes of the wrong type are named
    let (st, r) = post(&format!("{u}/feedback"), &json!({"prediction_id": ids[0], "outcome": false}));
    assert_eq!((st, r["recorded"].clone()), (200, json!(true)), "{r}");
    let hash = store.get(&ids[1]).unwrap().unwrap().input_hash;
    let (st, r) = post(&format!("{u}/feedback"), &json!({"model": "credit", "input_hash": hash, "outcome": true}));
    assert_eq!(st, 200, "{r}");
    let (st, r) = post(&format!("{u}/feedback"), &json!({"prediction_id": ids[0], "outcome": "defaulted"}));
    assert_eq!((st, r["field"].as_str()), (422, Some("outcome")), "{r}");
    let (st, _) = post(&format!("{u}/feedback"), &json!({"prediction_id": "nope", "outcome": true}));
    assert_eq!(st, 404);
    let (st, r) = post(&format!("{u}/feedback"), &json!({"prediction_id": id, "outcome": "balance_inquiry"}));
    assert_eq!(st, 200, "{r}");
    let (st, p, _) = call("GET", &format!("{u}/monitoring/performance/intent?window=1d&windows=2"), None, &[]);
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["metric"], "accuracy");
    assert_eq!(p["windows"].as_array().unwrap().len(), 2);
    assert_eq!(p["windows"][1]["n"], 1, "{p}");
    assert!(p["training"].as_f64().is_some(), "{p}");
    let (_, p, _) = call("GET", &format!("{u}/monitoring/performance/credit"), None, &[]);
    // both classes fed back: an AUC exists (the two applications are identical: 0.5)
    assert_eq!(p["windows"][3]["value"], 0.5, "{p}");

    // drift: against the champion's training profile, kept, on /metrics
    for i in 0..30 {
        let mut b = credit_body();
        b["applicant_data"]["monthly_income"] = json!(30000 + i * 5000);
        post(&format!("{u}/predict/credit-risk"), &b);
    }
    wait_for_rows(&store, "credit", 32);
    let (st, v, _) = call("GET", &format!("{u}/monitoring/drift/credit"), None, &[]);
    assert_eq!(st, 404, "no check yet: {v}");
    let (st, r) = post(&format!("{u}/monitoring/drift/credit/check?window=1h"), &json!({}));
    assert_eq!(st, 200, "{r}");
    for key in [
        "model",
        "version",
        "reference_rows",
        "current_rows",
        "drift_detected",
        "drift_share",
        "features",
        "prediction",
    ] {
        assert!(r.get(key).is_some(), "drift report lacks {key}: {r}");
    }
    assert_eq!(
        (r["model"].as_str(), r["version"].as_u64(), r["current_rows"].as_u64()),
        (Some("credit"), Some(1), Some(32)),
        "{r}"
    );
    let f = &r["features"][0];
    for key in ["feature", "kind", "test", "score", "threshold", "drift_detected"] {
        assert!(f.get(key).is_some(), "feature entry lacks {key}: {f}");
    }
    let income = r["features"].as_array().unwrap().iter().find(|f| f["feature"] == "monthly_income").unwrap();
    assert_eq!(income["test"], "ks", "120 reference rows: KS: {income}");
    let (st, last, _) = call("GET", &format!("{u}/monitoring/drift/credit"), None, &[]);
    assert_eq!((st, last["checked_at"].clone()), (200, r["checked_at"].clone()));
    let (_, m, _) = call("GET", &format!("{u}/metrics"), None, &[]);
    let m = m.as_str().unwrap();
    assert!(m.contains("nivesh_drift_score{model=\"credit\",feature=\"monthly_income\",test=\"ks\"}"), "{m}");
    assert!(m.contains("nivesh_drift_detected{model=\"credit\"}"));
    assert!(m.contains("nivesh_prediction_log_written_rows"));
    let (st, _) = post(&format!("{u}/monitoring/drift/shoes/check"), &json!({}));
    assert_eq!(st, 404);
    let (st, v) = post(&format!("{u}/monitoring/drift/spending/check?window=1h"), &json!({}));
    assert_eq!((st, v["error_type"].as_str()), (404, Some("not_found")), "no spending traffic: {v}");
    let (st, v) = post(&format!("{u}/monitoring/drift/credit/check?window=soon"), &json!({}));
    assert_eq!((st, v["field"].as_str()), (422, Some("window")), "{v}");
}

/// `kill -9` of a serving process: every logged row that was committed reads back; only the
/// tail not yet written (at most one flush interval's rows, bounded by the queue) is missing.
#[test]
fn a_kill_9_loses_at_most_the_unflushed_tail_of_the_prediction_log() {
    let dir = private_copy();
    let (mut child, url) = spawn_serve(dir.path(), &["--rate-limit", "0"]);
    let ask = |i: usize| {
        let (st, v) =
            post(&format!("{url}/predict/intent"), &json!({"query": format!("what did I spend on food in week {i}")}));
        assert_eq!(st, 200, "{v}");
        v["prediction_id"].as_str().unwrap().to_string()
    };
    let settled: Vec<String> = (0..300).map(ask).collect();
    // the writer runs at idle priority: on a busy machine it may take a while to catch up
    {
        let db = nivesh_store::db::Db::sqlite(&dir.path().join("store/monitoring.db")).unwrap();
        wait_for_rows(&nivesh_monitor::log::LogStore::open(db).unwrap(), "intent", 300);
    }
    let tail: Vec<String> = (300..400).map(ask).collect();
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    child.wait().unwrap();

    let db = nivesh_store::db::Db::sqlite(&dir.path().join("store/monitoring.db")).unwrap();
    let store = nivesh_monitor::log::LogStore::open(db).unwrap();
    let rows = store.all("intent").unwrap();
    for r in &rows {
        let _: nivesh_monitor::sample::Observation = serde_json::from_str(&r.observation).unwrap();
        let _: Value = serde_json::from_str(&r.output).unwrap();
    }
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert!(settled.iter().all(|id| ids.contains(id.as_str())), "a row written before the last flush is missing");
    let lost = tail.iter().filter(|id| !ids.contains(id.as_str())).count();
    println!("kill -9: {} of the last 100 rows were not yet written", lost);
    assert!(lost <= 100);
}

/// POST raw bytes; the status, headers and body bytes.
fn post_raw(url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut r = agent().post(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let mut resp = r.send(body).unwrap();
    let status = resp.status().as_u16();
    let hs = resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let bytes = resp.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default();
    (status, hs, bytes)
}

fn oip_error(url: &str, body: &[u8], headers: &[(&str, &str)]) -> String {
    let (st, _, bytes) = post_raw(url, body, headers);
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(st, 400, "{v}");
    v["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn open_inference_protocol_answers_like_the_json_routes() {
    let s = Server::start(fixture(), ServerConfig::default());
    let (st, meta, _) = call("GET", &format!("{}/v2", s.url), None, &[]);
    assert_eq!(st, 200);
    assert_eq!(meta["extensions"], json!(["binary_tensor_data", "model_configuration"]));
    for path in ["/v2/health/live", "/v2/health/ready", "/v2/models/credit/ready", "/v2/models/intent/ready"] {
        assert_eq!(call("GET", &format!("{}{path}", s.url), None, &[]).0, 200, "{path}");
    }
    let (st, m, _) = call("GET", &format!("{}/v2/models/credit", s.url), None, &[]);
    assert_eq!(st, 200);
    let version = m["versions"][0].as_str().unwrap().to_string();
    assert_eq!(m["inputs"][0], json!({"name": "age", "datatype": "INT64", "shape": [-1]}));
    assert!(
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == &json!({"name": "reason_codes", "datatype": "BYTES", "shape": [-1]}))
    );
    let (_, c, _) = call("GET", &format!("{}/v2/models/credit/config", s.url), None, &[]);
    assert_eq!((c["max_batch_size"].as_u64(), c["input"][0]["data_type"].as_str()), (Some(256), Some("TYPE_INT64")));
    let (st, e, _) = call("GET", &format!("{}/v2/models/credit/versions/999/ready", s.url), None, &[]);
    assert_eq!(st, 404);
    assert!(e["error"].as_str().unwrap().contains("version \"999\" is not served"), "{e}");
    let (st, _, _) = call("GET", &format!("{}/v2/models/credit/versions/{version}", s.url), None, &[]);
    assert_eq!(st, 200);

    // credit, one tensor per field, JSON data, no Content-Type: the JSON route's answer
    let a = credit_body()["applicant_data"].clone();
    let inputs: Vec<Value> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"] != "applicant_data")
        .map(|i| json!({"name": i["name"], "datatype": i["datatype"], "shape": [1], "data": [a[i["name"].as_str().unwrap()]]}))
        .collect();
    let body = json!({"id": "req-1", "inputs": inputs}).to_string();
    let (st, hs, bytes) = post_raw(&format!("{}/v2/models/credit/infer", s.url), body.as_bytes(), &[]);
    let r: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(st, 200, "{r}");
    assert_eq!(header(&hs, "inference-header-content-length"), None);
    let (_, j) = post(&format!("{}/predict/credit-risk", s.url), &credit_body());
    let out =
        |name: &str| r["outputs"].as_array().unwrap().iter().find(|o| o["name"] == name).unwrap()["data"][0].clone();
    assert_eq!((r["id"].as_str(), r["model_name"].as_str()), (Some("req-1"), Some("credit")));
    assert_eq!(out("default_probability"), j["default_probability"]);
    assert_eq!(out("risk_score"), j["risk_score"]);
    assert_eq!(serde_json::from_str::<Value>(out("reason_codes").as_str().unwrap()).unwrap(), j["reason_codes"]);

    // intent, binary in and out, as tritonclient sends by default
    let q = "How much did I spend on Swiggy last month?";
    let head = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 4 + q.len()}}],
                      "outputs": [{"name": "intent", "parameters": {"binary_data": true}}, {"name": "confidence", "parameters": {"binary_data": false}}]})
    .to_string();
    let mut body = head.clone().into_bytes();
    body.extend_from_slice(&(q.len() as u32).to_le_bytes());
    body.extend_from_slice(q.as_bytes());
    let len = head.len().to_string();
    let (st, hs, bytes) = post_raw(
        &format!("{}/v2/models/intent/versions/1/infer", s.url),
        &body,
        &[("inference-header-content-length", &len)],
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&bytes));
    let n: usize = header(&hs, "inference-header-content-length").unwrap().parse().unwrap();
    let r: Value = serde_json::from_slice(&bytes[..n]).unwrap();
    let size = r["outputs"][0]["parameters"]["binary_data_size"].as_u64().unwrap() as usize;
    let binary = &bytes[n..];
    assert_eq!(binary.len(), size);
    let (_, j) = post(&format!("{}/predict/intent", s.url), &json!({"query": q}));
    assert_eq!(std::str::from_utf8(&binary[4..]).unwrap(), j["intent"].as_str().unwrap());
    assert_eq!(r["outputs"][1]["datatype"], "FP32");
    assert!((r["outputs"][1]["data"][0].as_f64().unwrap() - j["confidence"].as_f64().unwrap()).abs() < 1e-6);

    // malformed requests: 400 with the reason, never a 500
    let url = format!("{}/v2/models/intent/infer", s.url);
    let text = |dt: &str, shape: Value, data: Value| {
        json!({"inputs": [{"name": "text", "datatype": dt, "shape": shape, "data": data}]}).to_string().into_bytes()
    };
    assert_eq!(
        oip_error(&url, &text("FP32", json!([1]), json!([1.0])), &[]),
        "input `text`: datatype FP32; expected BYTES"
    );
    assert!(oip_error(&url, &text("BYTES", json!([2]), json!(["a"])), &[]).contains("holds 2 elements"));
    let unknown = json!({"inputs": [{"name": "query", "datatype": "BYTES", "shape": [1], "data": ["hi"]}]}).to_string();
    assert!(oip_error(&url, unknown.as_bytes(), &[]).starts_with("unknown input `query` for model intent"));
    let cut = &body[..body.len() - 3];
    assert!(oip_error(&url, cut, &[("inference-header-content-length", &len)]).contains("truncated"));
    let past = (body.len() + 10).to_string();
    assert!(oip_error(&url, &body, &[("inference-header-content-length", &past)]).contains("the body has only"));
    let big = text("BYTES", json!([1]), json!(["x".repeat(10_000_000)]));
    assert!(oip_error(&url, &big, &[]).contains("at most 1048576 per BYTES element"));
    let wrong_output = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["hi"]}], "outputs": [{"name": "nope"}]});
    assert!(oip_error(&url, wrong_output.to_string().as_bytes(), &[]).starts_with("unknown output `nope`"));
    // a refused value names the request and the field
    let e = oip_error(
        &format!("{}/v2/models/credit/infer", s.url),
        &json!({"inputs": [{"name": "age", "datatype": "INT64", "shape": [1], "data": [10]}]}).to_string().into_bytes(),
        &[],
    );
    assert!(e.starts_with("request 0:"), "{e}");
}

/// Triton's own Python clients, HTTP and gRPC, against the server (`tests/oip/tritonclient_check.py`).
#[test]
fn tritonclient_talks_to_the_server() {
    let Ok(python) = std::env::var("NIVESH_TEST_TRITON_PYTHON") else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED tritonclient: set NIVESH_TEST_TRITON_PYTHON (.ci/run does)");
        return;
    };
    let s = Server::start(fixture(), ServerConfig::default());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oip/tritonclient_check.py");
    let out = Command::new(python).arg(&script).arg(s.url.trim_start_matches("http://")).arg(&s.grpc).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "{text}");
}

#[test]
fn predict_scores_a_file_in_order_like_the_json_route_and_reports_bad_rows() {
    let root = fixture();
    let dir = tempfile::tempdir().unwrap();
    // three applications from the generated file, the second made invalid
    let csv = std::fs::read_to_string(root.join("gen/credit_applications.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().take(4).map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let age = header.iter().position(|h| *h == "age").unwrap();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cells[age] = "-5".into();
    lines[2] = cells.join(",");
    let input = dir.path().join("applications.csv");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let (out, errors) = (dir.path().join("scores.jsonl"), dir.path().join("errors.jsonl"));
    let run = |args: &[&str]| bin().current_dir(root).env("NIVESH_DATA_DIR", "store").args(args).output().unwrap();
    let o = run(&[
        "predict",
        "credit",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--errors",
        errors.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let scores: Vec<Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(scores.iter().map(|s| s["line"].as_u64().unwrap()).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert!(scores[0]["default_probability"].is_f64() && scores[2]["reason_codes"].is_array());
    assert!(scores[1]["error"].as_str().unwrap().contains("age"), "{}", scores[1]);
    let bad: Vec<Value> =
        std::fs::read_to_string(&errors).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((bad.len(), bad[0]["line"].as_u64()), (1, Some(3)));

    // JSONL of the JSON route's body: the same answer as the route
    let jsonl = dir.path().join("one.jsonl");
    std::fs::write(&jsonl, format!("{}\n", credit_body())).unwrap();
    let o = run(&["predict", "credit", "--input", jsonl.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut batch: Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = Server::start(root, ServerConfig::default());
    let (_, mut online) = post(&format!("{}/predict/credit-risk", s.url), &credit_body());
    for k in ["prediction_id", "model_version"] {
        online.as_object_mut().unwrap().remove(k);
    }
    batch.as_object_mut().unwrap().remove("line");
    assert_eq!(batch, online);
    // a version that does not exist is a clear error
    let o = run(&["predict", "credit", "--input", jsonl.to_str().unwrap(), "--model-version", "99"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("credit has no version 99"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// gRPC takes the same API keys as REST, from the call's metadata.
#[test]
fn grpc_calls_need_the_api_key_when_keys_are_set() {
    let Ok(python) = std::env::var("NIVESH_TEST_TRITON_PYTHON") else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED gRPC keys: set NIVESH_TEST_TRITON_PYTHON (.ci/run does)");
        return;
    };
    let config = ServerConfig { api_keys: vec!["k-user-1234".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), config);
    let script = r#"
import sys, numpy as np, tritonclient.grpc as g
c = g.InferenceServerClient(url=sys.argv[1])
t = g.InferInput("text", [1], "BYTES"); t.set_data_from_numpy(np.array([b"my balance"], dtype=object))
try:
    c.infer("intent", [t]); print("no key: answered")
except Exception as e:
    print("no key:", str(e).split("]")[0] + "]")
try:
    c.infer("intent", [t], headers={"x-api-key": "wrong-key-1"}); print("wrong key: answered")
except Exception as e:
    print("wrong key:", str(e).split("]")[0] + "]")
r = c.infer("intent", [t], headers={"x-api-key": "k-user-1234"})
print("right key:", r.as_numpy("intent")[0].decode() != "")
"#;
    let out = Command::new(python).arg("-c").arg(script).arg(&s.grpc).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["no key: [StatusCode.UNAUTHENTICATED]", "wrong key: [StatusCode.PERMISSION_DENIED]", "right key: True"]
    );
}

#[test]
fn tools_are_listed_for_function_calling_and_mcp_needs_the_key() {
    let config = ServerConfig { api_keys: vec!["agent-key-1234".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), config);
    let key = [("X-API-Key", "agent-key-1234")];
    let (st, _, _) = call("GET", &format!("{}/tools", s.url), None, &[]);
    assert_eq!(st, 401);
    let (st, all, _) = call("GET", &format!("{}/tools", s.url), None, &key);
    assert_eq!(st, 200, "{all}");
    let names = |v: &Value, at: &str| -> Vec<String> {
        v.as_array().unwrap().iter().map(|t| t.pointer(at).unwrap().as_str().unwrap().to_string()).collect()
    };
    let mcp = names(&all["mcp"], "/name");
    assert_eq!(mcp.len(), 7, "{mcp:?}");
    // one source: every format lists the same tools with the same descriptions
    assert_eq!(names(&all["openai"], "/function/name"), mcp);
    assert_eq!(names(&all["gemini"][0]["functionDeclarations"], "/name"), mcp);
    assert_eq!(all["openai"][4]["function"]["description"], all["mcp"][4]["description"]);
    let (st, openai, _) = call("GET", &format!("{}/tools?format=openai", s.url), None, &key);
    assert_eq!((st, &openai), (200, &all["openai"]));
    let (st, v, _) = call("GET", &format!("{}/tools?format=langchain", s.url), None, &key);
    assert_eq!((st, v["field"].as_str()), (422, Some("format")), "{v}");
    // MCP over HTTP sits behind the same keys
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let mcp_headers = [("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json")];
    let (st, _, _) = call("POST", &format!("{}/mcp", s.url), Some(init), &mcp_headers);
    assert_eq!(st, 401);
    let with_key = [mcp_headers[0], mcp_headers[1], key[0]];
    let (st, v, _) = call("POST", &format!("{}/mcp", s.url), Some(init), &with_key);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["result"]["serverInfo"]["name"], "nivesh-ml", "{v}");
    // a tool called over raw JSON-RPC answers like the JSON route, and is counted
    let call_tool = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"assess_credit_risk","arguments":{"applicant_data":{"age":35,"monthly_income":80000,"monthly_debt":20000,"credit_limit":200000,"credit_used":50000,"loan_amount":500000,"payments_missed":1,"total_payments":48,"months_employed":60,"credit_history_months":84,"num_credit_accounts":4,"has_mortgage":false,"has_car_loan":true,"employment_type":"salaried","education":"graduate"}}}}"#;
    let (st, v, _) = call("POST", &format!("{}/mcp", s.url), Some(call_tool), &with_key);
    assert_eq!(st, 200, "{v}");
    let structured = &v["result"]["structuredContent"];
    let (_, route, _) = call(
        "POST",
        &format!("{}/predict/credit-risk", s.url),
        Some(&credit_body().to_string()),
        &[("Content-Type", "application/json"), key[0]],
    );
    assert_eq!(structured["default_probability"], route["default_probability"], "{v}");
    assert_eq!(structured["model_version"], route["model_version"]);
    assert!(v["result"]["content"][0]["text"].as_str().unwrap().contains("risk: default probability"), "{v}");
    let (_, _, _) =
        call("POST", &format!("{}/mcp", s.url), Some(&call_tool.replace("assess_credit_risk", "x")), &with_key);
    let metrics = s.state.metrics.render();
    assert!(metrics.contains(r#"nivesh_tool_calls_total{tool="assess_credit_risk",outcome="ok"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"nivesh_tool_calls_total{tool="unknown",outcome="unknown"} 1"#), "{metrics}");
}

/// The official MCP Python SDK as the agent, over both transports (tests/mcp/client.py).
#[test]
fn the_mcp_sdk_calls_every_tool_over_stdio_and_streamable_http() {
    let Ok(python) = std::env::var("NIVESH_TEST_MCP_PYTHON") else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED MCP SDK client: set NIVESH_TEST_MCP_PYTHON (.ci/run does)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp/client.py");
    let run = |args: &[&str]| {
        let out = Command::new(&python).arg(&script).args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        println!("{text}");
        assert!(out.status.success() && text.contains("all checks passed"), "{args:?}: {text}");
    };
    let config = ServerConfig { api_keys: vec!["agent-key-1234".into()], ..ServerConfig::default() };
    let s = Server::start(fixture(), config);
    run(&["http", &format!("{}/mcp", s.url), "agent-key-1234"]);
    let dir = private_copy();
    run(&["stdio", env!("CARGO_BIN_EXE_nivesh-ml"), dir.path().to_str().unwrap()]);
}
