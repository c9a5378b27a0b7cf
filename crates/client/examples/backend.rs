//! How a Rust service calls nivesh-ml: one client for the process, a short timeout per
//! prediction, a breaker per route, the last answer as a fallback, and metrics through hooks.
//!
//! ```sh
//! nivesh-ml serve &                                  # http://127.0.0.1:8000
//! cargo run -p nivesh-client --example backend -- http://127.0.0.1:8000 [API_KEY]
//! ```

use nivesh_client::api::{IntentRequest, NerRequest};
use nivesh_client::{BreakerConfig, BreakerState, Client, Error, Hooks, Outcome, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;

/// Metrics hooks: here a log line each; a service would feed its Prometheus registry.
struct LogHooks;

impl Hooks for LogHooks {
    fn on_response(&self, route: &str, outcome: Outcome, elapsed: Duration) {
        eprintln!("[ml] {route} {outcome:?} in {:.1} ms", elapsed.as_secs_f64() * 1e3);
    }
    fn on_retry(&self, route: &str, attempt: u32, delay: Duration) {
        eprintln!("[ml] {route} retry {attempt} in {delay:?}");
    }
    fn on_breaker(&self, route: &str, from: BreakerState, to: BreakerState) {
        eprintln!("[ml] {route} breaker {} -> {}", from.as_str(), to.as_str());
    }
    fn on_fallback(&self, route: &str) {
        eprintln!("[ml] {route} answered from the last known answer");
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "http://127.0.0.1:8000".into());
    let mut builder = Client::builder(url)
        .timeout(Duration::from_millis(800))
        .retry(RetryPolicy { max_retries: 2, ..RetryPolicy::default() })
        .breaker(BreakerConfig {
            consecutive_failures: 5,
            open_for: Duration::from_secs(10),
            ..BreakerConfig::default()
        })
        .fallback_to_last_answer(1_000)
        .hooks(Arc::new(LogHooks));
    if let Some(key) = args.next() {
        builder = builder.api_key(key);
    }
    let ml = builder.build()?;

    let message = "Transfer 5k to Rahul tomorrow";
    let intent = ml.classify_intent(&IntentRequest { query: message.into(), user_id: Some("U0001".into()) }).await?;
    println!("intent: {} ({:.2}), version {}", intent.output.intent, intent.output.confidence, intent.model_version);

    match ml.extract_entities(&NerRequest { text: message.into(), reference_date: None }).await {
        Ok(ner) => {
            for e in ner.output.entities {
                println!("entity: {} {:?} = {:?}", e.label, e.text, e.value);
            }
        }
        // a refused request names its field; a failed server is worth a degraded answer
        Err(e) if e.field().is_some() => println!("refused: {} ({})", e, e.field().unwrap_or_default()),
        Err(e) if e.is_server_failure() => println!("ML unavailable, answering without entities: {e}"),
        Err(e) => return Err(e),
    }
    Ok(())
}
