//! Online feature reads, in process: one user's three views (41 features) from the embedded
//! store, through `FeatureStore::get_online_features` (what the server calls when it must read),
//! and through `FeatureStore::get_online_features_now` (what it calls first: the records read
//! before, while nothing was written since).
//! Criterion gives the mean; a plain loop of 100,000 reads over random users gives the tail
//! (p50/p99/p99.9), which is what the feature store issue sets a target for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group};
use nivesh_features::FeatureStore;
use nivesh_features::definitions::Definitions;
use nivesh_features::offline::OfflineStore;
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_features::online::{OnlineRecord, OnlineStore};
use nivesh_store::db::Db;
use std::time::Instant;

const USERS: usize = 500;
const NOW: i64 = 1_800_000_000;

fn store(dir: &std::path::Path) -> FeatureStore {
    let defs = Definitions::builtin().unwrap();
    let online = EmbeddedOnlineStore::open(&dir.join("online.db")).unwrap();
    for view in &defs.views {
        let records: Vec<(String, OnlineRecord)> = (0..USERS)
            .map(|u| {
                let values =
                    (0..view.features.len()).map(|i| Some(1000.0 * (u as f64 + 1.0) / (i as f64 + 1.0))).collect();
                (format!("U{u:04}"), OnlineRecord { version: view.version, as_of: NOW - 60, values, state: None })
            })
            .collect();
        online.write(view, &records, NOW).unwrap();
    }
    let offline = OfflineStore::new(Db::sqlite_in_memory().unwrap()).unwrap();
    FeatureStore::new(defs, offline, Box::new(online)).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let fs = store(dir.path());
    let mut i = 0usize;
    c.bench_function("online features, 1 user x 3 views (41 features), embedded", |b| {
        b.iter(|| {
            i = (i + 7919) % USERS;
            let user = format!("U{i:04}");
            let got = fs.get_online_features(&[user.as_str()], &[], NOW, false).unwrap();
            assert_eq!(got[0].views.len(), 3);
            got
        })
    });
    // every user read once: from here on, all from memory
    for u in 0..USERS {
        fs.get_online_features(&[format!("U{u:04}").as_str()], &[], NOW, false).unwrap();
    }
    c.bench_function("online features, 1 user x 3 views (41 features), from memory", |b| {
        b.iter(|| {
            i = (i + 7919) % USERS;
            let user = format!("U{i:04}");
            // as the server does: a read when the memory cannot tell (at most one per 50 ms,
            // when the store's data_version is due to be read again)
            let got = fs
                .get_online_features_now(&[user.as_str()], &[], NOW)
                .unwrap_or_else(|| fs.get_online_features(&[user.as_str()], &[], NOW, false).unwrap());
            assert_eq!(got[0].views.len(), 3);
            got
        })
    });
}

fn tail_latency() {
    let dir = tempfile::tempdir().unwrap();
    let fs = store(dir.path());
    let users: Vec<String> = (0..USERS).map(|u| format!("U{u:04}")).collect();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut samples = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let user = users[(rng % USERS as u64) as usize].as_str();
        let started = Instant::now();
        let got = fs.get_online_features(&[user], &[], NOW, false).unwrap();
        samples.push(started.elapsed().as_nanos() as f64 / 1000.0);
        assert_eq!(got[0].views["user_spending_profile"].status, "ok");
    }
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "online features, 1 user x 3 views, embedded: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs (100,000 reads)",
        q(0.50),
        q(0.99),
        q(0.999),
        samples[samples.len() - 1]
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    tail_latency();
    Criterion::default().configure_from_args().final_summary();
}
