//! The Rust client (`nivesh-client`) against the real binary: every route typed, the breaker
//! opening when the server is killed and closing when it is back, retries stopping at the
//! limit, `Retry-After` honoured, fallbacks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use nivesh_client::api::*;
use nivesh_client::{BreakerConfig, BreakerState, Client, Error, Hooks, Outcome, RetryPolicy, endpoint};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn applicant() -> CreditApplication {
    serde_json::from_value(serde_json::json!({"age": 35, "monthly_income": 80000, "monthly_debt": 20000,
        "credit_limit": 200000, "credit_used": 50000, "loan_amount": 500000, "payments_missed": 1,
        "total_payments": 48, "months_employed": 60, "credit_history_months": 84, "num_credit_accounts": 4,
        "has_mortgage": false, "has_car_loan": true, "employment_type": "salaried", "education": "graduate"}))
    .unwrap()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Counts what the hooks are told.
#[derive(Default)]
struct Counts {
    attempts: AtomicU32,
    retries: AtomicU32,
    rejected: AtomicU32,
    fallbacks: AtomicU32,
    transitions: Mutex<Vec<(BreakerState, BreakerState)>>,
    delays: Mutex<Vec<Duration>>,
}

impl Hooks for Counts {
    fn on_attempt(&self, _: &str, _: u32) {
        self.attempts.fetch_add(1, Ordering::SeqCst);
    }
    fn on_retry(&self, _: &str, _: u32, delay: Duration) {
        self.retries.fetch_add(1, Ordering::SeqCst);
        self.delays.lock().unwrap().push(delay);
    }
    fn on_breaker(&self, _: &str, from: BreakerState, to: BreakerState) {
        self.transitions.lock().unwrap().push((from, to));
    }
    fn on_rejected(&self, _: &str) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }
    fn on_fallback(&self, _: &str) {
        self.fallbacks.fetch_add(1, Ordering::SeqCst);
    }
    fn on_response(&self, _: &str, _: Outcome, _: Duration) {}
}

#[test]
fn every_route_is_typed_and_errors_carry_the_type_and_field() {
    let (mut child, url) = spawn_serve_with(fixture(), 0, &[("ML_API_KEYS", "client-key-123")], &[]);
    let client = Client::builder(&url).api_key("client-key-123").build().unwrap();
    rt().block_on(async {
        assert!(client.ready().await.unwrap());
        let health = client.health().await.unwrap();
        assert_eq!((health.status.as_str(), health.models.len()), ("ok", 5), "{health:?}");
        let models = client.models().await.unwrap();
        assert_eq!(models.models.len(), 5);

        let intent = client
            .classify_intent(&IntentRequest { query: "how much did I spend on food last month".into(), user_id: None })
            .await
            .unwrap();
        assert_eq!(intent.model_version, "1");
        assert_eq!(intent.output.alternatives.len(), 3);
        assert_eq!(intent.prediction_id.len(), 32);

        let ner = client
            .extract_entities(&NerRequest {
                text: "Paid ₹1.5 lakh on 15 March".into(),
                reference_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 20),
            })
            .await
            .unwrap();
        let money = ner.output.entities.iter().find(|e| e.label == "MONEY").unwrap();
        assert_eq!(money.value.as_ref().unwrap()["amount"], 150000.0);

        let spending = client
            .forecast_spending(&SpendingRequest {
                user_id: Some("U0001".into()),
                transactions: None,
                months: Some(3),
                category: None,
            })
            .await
            .unwrap();
        assert_eq!(spending.output.forecast.len(), 3);

        let txn: TransactionInput = serde_json::from_value(serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339(), "amount": 250000.0, "merchant": "Never Seen",
            "category": "shopping", "channel": "card"}))
        .unwrap();
        let anomaly = client
            .score_transaction(&AnomalyRequest { user_id: Some("U0001".into()), transaction: txn })
            .await
            .unwrap();
        assert_eq!(anomaly.output.history_source, HistorySource::FeatureStore);
        assert!((0.0..=1.0).contains(&anomaly.output.score.anomaly_score));

        let credit = client.assess_credit_risk(&CreditRequest { applicant_data: applicant() }).await.unwrap();
        assert_eq!(credit.output.reason_codes.len(), 4);
        assert!((300..=900).contains(&credit.output.credit_score));

        let batch = client
            .predict_batch::<endpoint::Credit>(&[
                CreditRequest { applicant_data: applicant() },
                CreditRequest { applicant_data: applicant() },
            ])
            .await
            .unwrap();
        assert_eq!(batch.outputs.len(), 2);
        assert_eq!(batch.outputs[0].output, credit.output);

        let features = client
            .online_features(&OnlineFeaturesRequest { entity_ids: vec!["U0001".into()], views: vec![] })
            .await
            .unwrap();
        assert_eq!(features.results[0].entity, "U0001");
        assert!(features.results[0].views.values().all(|v| v.status == "ok"), "{features:?}");

        let stats = client.statistics().await.unwrap();
        let credit_stats = stats.models.iter().find(|m| m.model == "credit").unwrap();
        assert!(credit_stats.requests >= 3, "{credit_stats:?}");
        let tools = client.tools(Some("openai")).await.unwrap();
        assert_eq!(tools.as_array().unwrap().len(), 7);
        let perf = client.performance(ModelKind::Credit).await.unwrap();
        assert_eq!(
            (perf.model.as_str(), perf.metric.as_str(), perf.windows.len()),
            ("credit", "auc_roc", 4),
            "{perf:?}"
        );
        let e = client.last_drift(ModelKind::Ner).await.unwrap_err();
        assert_eq!(e.status(), Some(404), "{e}");
        // the prediction log writes within a second: until then there is no traffic to check
        let mut drift = client.check_drift(ModelKind::Intent, Some("1h")).await;
        for _ in 0..100 {
            match &drift {
                Err(e) if e.status() == Some(404) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    drift = client.check_drift(ModelKind::Intent, Some("1h")).await;
                }
                _ => break,
            }
        }
        let drift = drift.unwrap();
        assert_eq!((drift.model.as_str(), drift.version), ("intent", Some(1)), "{drift:?}");
        assert_eq!(client.last_drift(ModelKind::Intent).await.unwrap().checked_at, drift.checked_at);

        // a refused value: 422, its type and field, not retried (a 4xx is the caller's)
        let mut young = applicant();
        young.age = 7;
        let e = client.assess_credit_risk(&CreditRequest { applicant_data: young }).await.unwrap_err();
        assert_eq!(
            (e.status(), e.error_type(), e.field()),
            (Some(422), Some("validation_error"), Some("applicant_data.age"))
        );
        assert!(!e.is_server_failure());
        // feedback for the prediction, once the log's writer has it (it writes in batches)
        let feedback = FeedbackRequest {
            prediction_id: Some(credit.prediction_id.clone()),
            model: None,
            input_hash: None,
            outcome: serde_json::json!(false),
        };
        let mut fb = client.feedback(&feedback).await;
        for _ in 0..100 {
            match &fb {
                Err(e) if e.status() == Some(404) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    fb = client.feedback(&feedback).await;
                }
                _ => break,
            }
        }
        let fb = fb.unwrap();
        assert_eq!((fb.prediction_id, fb.model.as_str(), fb.recorded), (credit.prediction_id.clone(), "credit", true));
        // the wrong key: 403 typed
        let wrong = Client::builder(&url).api_key("wrong-key-123").build().unwrap();
        let e = wrong.models().await.unwrap_err();
        assert_eq!((e.status(), e.error_type()), (Some(403), Some("forbidden")));
        assert!(!client.reload_model(ModelKind::Intent).await.unwrap().changed);
    });
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn the_breaker_opens_when_the_server_dies_fails_fast_and_closes_when_it_is_back() {
    let dir = private_copy();
    let (mut child, url) = spawn_serve(dir.path(), &[]);
    let hooks = std::sync::Arc::new(Counts::default());
    let client = Client::builder(&url)
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .breaker(BreakerConfig {
            consecutive_failures: 3,
            open_for: Duration::from_millis(1500),
            half_open_probes: 1,
            ..BreakerConfig::default()
        })
        .hooks(hooks.clone())
        .build()
        .unwrap();
    let req = IntentRequest { query: "show my credit card bill".into(), user_id: None };
    let rt = rt();
    rt.block_on(async {
        client.classify_intent(&req).await.unwrap();
        assert_eq!(client.breaker_state("/predict/intent"), BreakerState::Closed);
    });
    child.kill().unwrap();
    let _ = child.wait();
    rt.block_on(async {
        for i in 0..3 {
            let e = client.classify_intent(&req).await.unwrap_err();
            assert!(matches!(e, Error::Connect { .. }), "call {i}: {e}");
        }
        assert_eq!(client.breaker_state("/predict/intent"), BreakerState::Open);
        // open: no call is made, the answer is at once
        let attempts = hooks.attempts.load(Ordering::SeqCst);
        let mut times = Vec::new();
        for _ in 0..100 {
            let t0 = Instant::now();
            let e = client.classify_intent(&req).await.unwrap_err();
            times.push(t0.elapsed());
            assert!(matches!(e, Error::CircuitOpen { .. }), "{e}");
        }
        times.sort();
        // no network: microseconds (the bound on the slowest leaves room for a scheduler stall)
        assert!(times[50] < Duration::from_millis(1) && times[99] < Duration::from_millis(50), "{times:?}");
        assert_eq!(hooks.attempts.load(Ordering::SeqCst), attempts);
        assert_eq!(hooks.rejected.load(Ordering::SeqCst), 100);
        // other routes have breakers of their own
        assert_eq!(client.breaker_state("/predict/ner"), BreakerState::Closed);
    });
    // the server comes back on the same port
    let (mut child, url2) = spawn_serve_with(dir.path(), port_of(&url), &[], &[]);
    assert_eq!(url, url2);
    rt.block_on(async {
        // still open until open_for has passed since it opened
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert_eq!(client.breaker_state("/predict/intent"), BreakerState::HalfOpen);
        let answer = client.classify_intent(&req).await.unwrap();
        assert_eq!(answer.model_version, "1");
        assert_eq!(client.breaker_state("/predict/intent"), BreakerState::Closed);
    });
    assert_eq!(
        *hooks.transitions.lock().unwrap(),
        [
            (BreakerState::Closed, BreakerState::Open),
            (BreakerState::Open, BreakerState::HalfOpen),
            (BreakerState::HalfOpen, BreakerState::Closed)
        ]
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn retries_stop_at_the_limit_and_a_fallback_answers_when_the_server_is_gone() {
    let dir = private_copy();
    let (mut child, url) = spawn_serve(dir.path(), &[]);
    let hooks = std::sync::Arc::new(Counts::default());
    let client = Client::builder(&url)
        .retry(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            ..RetryPolicy::default()
        })
        // no breaker: every retry reaches the network
        .breaker(BreakerConfig { consecutive_failures: 0, failure_rate: 2.0, ..BreakerConfig::default() })
        .fallback_to_last_answer(1 << 20)
        .hooks(hooks.clone())
        .build()
        .unwrap();
    let rt = rt();
    let req = CreditRequest { applicant_data: applicant() };
    let first = rt.block_on(client.assess_credit_risk(&req)).unwrap();
    // feedback for it, recorded once the log's writer has the prediction
    let feedback = FeedbackRequest {
        prediction_id: Some(first.prediction_id.clone()),
        model: None,
        input_hash: None,
        outcome: serde_json::json!(true),
    };
    rt.block_on(async {
        for _ in 0..100 {
            match client.feedback(&feedback).await {
                Err(e) if e.status() == Some(404) => tokio::time::sleep(Duration::from_millis(50)).await,
                other => return other.unwrap(),
            }
        }
        panic!("the prediction was never logged");
    });
    let attempts_before = hooks.attempts.load(Ordering::SeqCst);
    child.kill().unwrap();
    let _ = child.wait();
    rt.block_on(async {
        // an answer seen before comes from the fallback …
        let again = client.assess_credit_risk(&req).await.unwrap();
        assert_eq!(again, first);
        assert_eq!(hooks.fallbacks.load(Ordering::SeqCst), 1);
        // … after the retries ran out: 1 + 3 attempts
        assert_eq!(hooks.attempts.load(Ordering::SeqCst), attempts_before + 4);
        assert_eq!(hooks.retries.load(Ordering::SeqCst), 3);
        let delays = hooks.delays.lock().unwrap().clone();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(40)), "{delays:?}");
        // a request never answered has no fallback: the error, after the same retries
        let mut other = applicant();
        other.age = 50;
        let e = client.assess_credit_risk(&CreditRequest { applicant_data: other }).await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }) && e.is_server_failure(), "{e}");
        assert_eq!(hooks.attempts.load(Ordering::SeqCst), attempts_before + 4 + 4);
        // a write is never answered from the fallback: the same feedback again fails
        let e = client.feedback(&feedback).await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e}");
        assert_eq!(hooks.fallbacks.load(Ordering::SeqCst), 1);
        // an admin action is not sent again after a lost connection
        let before = hooks.attempts.load(Ordering::SeqCst);
        let e = client.reload_model(ModelKind::Intent).await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }), "{e}");
        assert_eq!(hooks.attempts.load(Ordering::SeqCst), before + 1);
    });
}

#[test]
fn retry_after_is_honoured_on_429() {
    // one request per second, no burst: the second call is refused with Retry-After: 1
    let dir = private_copy();
    let (mut child, url) = spawn_serve(dir.path(), &["--rate-limit", "1", "--rate-limit-burst", "1"]);
    let hooks = std::sync::Arc::new(Counts::default());
    let client = Client::builder(&url)
        .retry(RetryPolicy { max_retries: 2, ..RetryPolicy::default() })
        .hooks(hooks.clone())
        .build()
        .unwrap();
    let rt = rt();
    rt.block_on(async {
        client.models().await.unwrap();
        let t0 = Instant::now();
        client.models().await.unwrap();
        let waited = t0.elapsed();
        assert_eq!(*hooks.delays.lock().unwrap(), [Duration::from_secs(1)]);
        assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(3), "{waited:?}");
        // without retries the 429 reaches the caller, typed, with the server's Retry-After
        let e = client.with_retry(RetryPolicy::none()).models().await.unwrap_err();
        match e {
            Error::Api { status: 429, retry_after, ref body, .. } => {
                assert_eq!((retry_after, body.error_type.as_str()), (Some(Duration::from_secs(1)), "rate_limited"));
            }
            other => panic!("{other}"),
        }
        // a Retry-After longer than the client waits for ends the retries at once
        let impatient =
            client.with_retry(RetryPolicy { max_retry_after: Duration::from_millis(500), ..RetryPolicy::default() });
        let t0 = Instant::now();
        let e = impatient.models().await.unwrap_err();
        assert_eq!(e.status(), Some(429));
        assert!(t0.elapsed() < Duration::from_millis(500), "{:?}", t0.elapsed());
    });
    child.kill().unwrap();
    let _ = child.wait();
}
