//! One suite, every online store: the embedded store always, Redis when `NIVESH_TEST_REDIS_URL`
//! names a server (`.ci/run` starts one; otherwise the Redis half says it skipped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_features::definitions::{Definitions, View};
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_features::online::redis::RedisOnlineStore;
use nivesh_features::online::{OnlineRecord, OnlineStore};

const NOW: i64 = 1_800_000_000;

fn views() -> (View, View) {
    let d = Definitions::builtin().unwrap();
    (d.view("user_spending_profile").unwrap().clone(), d.view("transaction_behaviour").unwrap().clone())
}

fn record(view: &View, as_of: i64, first: f64) -> OnlineRecord {
    let mut values: Vec<Option<f64>> = (0..view.features.len()).map(|i| Some(i as f64 + 0.5)).collect();
    values[0] = Some(first);
    values[1] = None;
    OnlineRecord { version: view.version, as_of, values, state: None }
}

fn suite(store: &dyn OnlineStore, tag: &str) {
    let (spend, behaviour) = views();
    let (a, b, c) = (format!("{tag}-a"), format!("{tag}-b"), format!("{tag}-c"));
    let written = store
        .write(&spend, &[(a.clone(), record(&spend, NOW - 60, 1.0)), (b.clone(), record(&spend, NOW - 60, 2.0))], NOW)
        .unwrap();
    assert_eq!(written, 2);
    let mut with_state = OnlineRecord {
        version: behaviour.version,
        as_of: NOW - 10,
        values: vec![Some(3.0); behaviour.features.len()],
        state: Some("{\"k\":1}".into()),
    };
    with_state.values[2] = None;
    assert_eq!(store.write(&behaviour, &[(a.clone(), with_state.clone())], NOW).unwrap(), 1);

    // several entities and views in one read; missing ones are None; values exact, None kept
    let got = store.read(&[a.as_str(), b.as_str(), c.as_str()], &[&spend, &behaviour]).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0][0], Some(record(&spend, NOW - 60, 1.0)));
    assert_eq!(got[0][1], Some(with_state));
    assert_eq!(got[1][0].as_ref().unwrap().values[0], Some(2.0));
    assert_eq!(got[1][1], None);
    assert_eq!(got[2], vec![None, None]);

    // an older write is ignored; a newer one replaces
    assert_eq!(store.write(&spend, &[(a.clone(), record(&spend, NOW - 120, 9.0))], NOW).unwrap(), 0);
    assert_eq!(store.read(&[a.as_str()], &[&spend]).unwrap()[0][0].as_ref().unwrap().values[0], Some(1.0));
    store.write(&spend, &[(a.clone(), record(&spend, NOW - 30, 7.0))], NOW).unwrap();
    assert_eq!(store.read(&[a.as_str()], &[&spend]).unwrap()[0][0].as_ref().unwrap().values[0], Some(7.0));

    // a record already past its TTL is not written
    let stale = record(&spend, NOW - spend.ttl_secs() - 1, 5.0);
    assert_eq!(store.write(&spend, &[(c.clone(), stale)], NOW).unwrap(), 0);
    assert_eq!(store.read(&[c.as_str()], &[&spend]).unwrap()[0][0], None);

    // values of another view version are not served
    let mut bumped = spend.clone();
    bumped.version += 1;
    assert_eq!(store.read(&[a.as_str()], &[&bumped]).unwrap()[0][0], None);
    assert!(store.count(&spend).unwrap() >= 2);
}

#[test]
fn embedded_store_passes_the_suite_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online.db");
    {
        let store = EmbeddedOnlineStore::open(&path).unwrap();
        suite(&store, "e");
        assert_eq!(store.count(&views().0).unwrap(), 2);
    }
    // a new process (here: a new handle on the same file) serves the same values
    let store = EmbeddedOnlineStore::open(&path).unwrap();
    let (spend, _) = views();
    let got = store.read(&["e-a", "e-b"], &[&spend]).unwrap();
    assert_eq!(got[0][0].as_ref().unwrap().values[0], Some(7.0));
    assert_eq!(got[1][0], Some(record(&spend, NOW - 60, 2.0)));
    suite(&EmbeddedOnlineStore::in_memory().unwrap(), "m");
}

#[test]
fn redis_store_passes_the_suite() {
    let Ok(url) = std::env::var("NIVESH_TEST_REDIS_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED Redis online store tests: set NIVESH_TEST_REDIS_URL (.ci/run starts Redis)"
        );
        return;
    };
    let prefix = format!("nivesh-test-{}-{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let store = RedisOnlineStore::connect(&url, &prefix).unwrap();
    assert!(!store.has_any(&views().0).unwrap(), "a new prefix holds nothing");
    suite(&store, "r");
    assert_eq!(store.count(&views().0).unwrap(), 2);
    assert!(store.has_any(&views().0).unwrap());
    // the key expires with the view's TTL
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut c = client.get_connection().unwrap();
    let ttl: i64 = redis::cmd("TTL").arg(format!("{prefix}:user_id:r-a")).query(&mut c).unwrap();
    let (spend, behaviour) = views();
    assert!(ttl > spend.ttl_secs() - 120 && ttl <= behaviour.ttl_secs(), "{ttl}");
    // and a new connection (a restarted server) reads the same
    let again = RedisOnlineStore::connect(&url, &prefix).unwrap();
    assert_eq!(again.read(&["r-a"], &[&spend]).unwrap()[0][0].as_ref().unwrap().values[0], Some(7.0));
}

#[test]
fn an_unreachable_redis_is_a_clear_error() {
    let e = RedisOnlineStore::connect("redis://:secret@127.0.0.1:1/0", "x").err().unwrap().to_string();
    assert!(e.contains("redis online store") && !e.contains("secret"), "{e}");
}

#[test]
fn the_embedded_stamp_changes_with_every_write_ours_at_once_theirs_at_the_next_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online.db");
    let hour = std::time::Duration::from_secs(3600);
    let ours = EmbeddedOnlineStore::open(&path).unwrap().with_lag(hour);
    let theirs = EmbeddedOnlineStore::open(&path).unwrap();
    let (spend, _) = views();
    // nothing read yet: only the reading stamp answers
    assert_eq!(ours.stamp_now(), None);
    let s0 = ours.stamp().unwrap();
    assert_eq!((ours.stamp_now(), ours.stamp()), (Some(s0), Some(s0)));
    // a write through this store: a new stamp at once, from memory too
    ours.write(&spend, &[("a".into(), record(&spend, NOW - 60, 1.0))], NOW).unwrap();
    let s1 = ours.stamp_now().unwrap();
    assert_ne!(s1, s0);
    // a write refused as older than the stored record still counts (it might have written)
    ours.write(&spend, &[("a".into(), record(&spend, NOW - 90, 3.0))], NOW).unwrap();
    let s2 = ours.stamp_now().unwrap();
    assert_ne!(s2, s1);
    // a write through another connection goes unseen until the next reading of data_version:
    // the lag (an hour here, 50 ms by default)
    theirs.write(&spend, &[("a".into(), record(&spend, NOW - 30, 2.0))], NOW).unwrap();
    assert_eq!((ours.stamp_now(), ours.stamp()), (Some(s2), Some(s2)));
    // with no lag every stamp reads it, and sees the other connection's writes
    let reading = EmbeddedOnlineStore::open(&path).unwrap().with_lag(std::time::Duration::ZERO);
    let r0 = reading.stamp().unwrap();
    assert_eq!(reading.stamp_now(), None);
    assert_eq!(reading.stamp(), Some(r0));
    theirs.write(&spend, &[("a".into(), record(&spend, NOW - 20, 4.0))], NOW).unwrap();
    let r1 = reading.stamp().unwrap();
    assert!(r1 != r0 && r1.ours == r0.ours, "{r0:?} {r1:?}");
}
