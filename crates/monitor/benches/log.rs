//! The prediction log's write throughput and a drift check's time over 100,000 logged
//! predictions, on a SQLite file (what the server uses without `DATABASE_URL`).
//! Run: `cargo bench -p nivesh-monitor --bench log`.
//!
//! Rows look like the anomaly model's (15 features, a ~1.1 KB row: input, observation, output).
//! Criterion times one batch of 512 rows (the writer's batch) committed in one transaction;
//! a plain pass then writes 100,000 rows through [`PredictionLog`] (channel, writer thread,
//! batches) and times a drift check of all of them against a 5,000-row training profile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group};
use nivesh_core::rng::Rng;
use nivesh_models::ModelKind;
use nivesh_models::anomaly::TRANSACTION_FEATURES;
use nivesh_monitor::check::{self, Check, Reference};
use nivesh_monitor::drift::Options;
use nivesh_monitor::log::{Entry, LogConfig, LogStore, Observed, PredictionLog};
use nivesh_monitor::profile::Profile;
use nivesh_monitor::sample::{Observation, Value};
use nivesh_store::db::Db;
use std::sync::Arc;
use std::time::Instant;

const T0: i64 = 1_800_000_000_000;

fn observation(rng: &mut Rng) -> Observation {
    Observation {
        features: TRANSACTION_FEATURES.iter().map(|&f| (f.into(), Value::Number(rng.normal() * 3.0 + 5.0))).collect(),
        prediction: Some(("anomaly_score".into(), Value::Number(rng.uniform(0.0, 1.0)))),
    }
}

fn entry(i: u64, rng: &mut Rng) -> Entry {
    let amount = rng.uniform(100.0, 10_100.0);
    let input = format!(
        r#"{{"transaction_id":"live","user_id":"U{:04}","timestamp":"2026-12-01T15:52:16+05:30","amount":{amount},"currency":"INR","category":"shopping","merchant":"Amazon","channel":"card","direction":"debit","is_anomaly":null}}"#,
        i % 500
    );
    let o = observation(rng);
    let output = format!(
        r#"{{"is_anomaly":false,"anomaly_score":{},"threshold":0.5831421731645728,"reasons":[{{"feature":"new_merchant","value":1.0,"typical":0.0}},{{"feature":"log_amount","value":12.657915486424233,"typical":6.508336852790277}}],"history_source":"feature_store"}}"#,
        rng.uniform(0.0, 1.0)
    );
    Entry {
        id: format!("{:012x}{:020x}", T0 + i as i64, i),
        model: "anomaly",
        version: 1,
        ts: T0 + i as i64,
        latency_us: 50.0,
        input,
        observation: Observed::Values(Arc::new(o)),
        output: output.into(),
        free_text: false,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(Db::sqlite(&dir.path().join("monitoring.db")).unwrap()).unwrap();
    let mut rng = Rng::new(7);
    let mut i = 0u64;
    c.bench_function("prediction log: insert one batch of 512 rows (one transaction)", |b| {
        b.iter_batched(
            || {
                (0..512)
                    .map(|_| {
                        i += 1;
                        entry(i, &mut rng).into_record().unwrap()
                    })
                    .collect::<Vec<_>>()
            },
            |rows| store.insert(&rows).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
}

/// `n` rows through the log as the server writes them, the writer resting to `writer_share`.
fn write_through(dir: &std::path::Path, n: u64, writer_share: f64) -> Arc<LogStore> {
    let store = Arc::new(LogStore::open(Db::sqlite(&dir.join("monitoring.db")).unwrap()).unwrap());
    let mut rng = Rng::new(11);
    let rows: Vec<Entry> = (0..n).map(|i| entry(i, &mut rng)).collect();
    // room for every row (in rows and in bytes): the bench measures the writer, not the drops
    let config = LogConfig { capacity: n as usize, capacity_bytes: usize::MAX, writer_share, ..LogConfig::default() };
    let log = PredictionLog::start(store.clone(), config);
    let started = Instant::now();
    for r in rows {
        log.record(r);
    }
    log.close();
    let secs = started.elapsed().as_secs_f64();
    let written = log.counters.written.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "prediction log, writer share {writer_share}: {written} rows written through the channel and writer in {secs:.2} s = {:.0} rows/s",
        written as f64 / secs
    );
    assert_eq!(written, n);
    store
}

/// 100,000 rows through the log (the writer unthrottled, then as the server runs it), then a
/// drift check of them all.
fn end_to_end() {
    let n = 100_000u64;
    let full = tempfile::tempdir().unwrap();
    write_through(full.path(), n, 1.0);
    let dir = tempfile::tempdir().unwrap();
    let store = write_through(dir.path(), n, LogConfig::default().writer_share);
    let mut rng = Rng::new(12);

    let reference: Vec<Observation> = (0..5_000).map(|_| observation(&mut rng)).collect();
    let profile = Profile::build(ModelKind::Anomaly, &reference);
    let check = Check {
        model: ModelKind::Anomaly,
        version: Some(1),
        from_ms: T0,
        to_ms: T0 + n as i64,
        reference: Reference::Training(Box::new(profile)),
        options: Options::default(),
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let checked = check::run(&store, &check, T0 + n as i64).unwrap();
        times.push(started.elapsed());
        assert_eq!(checked.report.reference_rows, 5_000);
        println!(
            "drift check: {} current rows against {} reference rows, {} features",
            checked.report.current_rows,
            checked.report.reference_rows,
            checked.report.features.len()
        );
    }
    times.sort();
    println!("drift check of 100,000 logged predictions: median {:?} of 5 (min {:?})", times[2], times[0]);
}

criterion_group!(benches, bench);

fn main() {
    end_to_end();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
