//! The feature store end to end on generated transactions: ingest, point-in-time joins,
//! materialization (full and incremental), online reads with freshness, restarts, the
//! anomaly training path, and definition versioning. The offline store runs on SQLite, and on
//! PostgreSQL too when `NIVESH_TEST_FEATURES_DATABASE_URL` is set (`.ci/run` does).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nivesh_core::Transaction;
use nivesh_features::definitions::Definitions;
use nivesh_features::offline::OfflineStore;
use nivesh_features::online::OnlineStore;
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_features::{FeatureError, FeatureStore};
use nivesh_store::db::Db;
use std::path::Path;

fn generated(dir: &Path) -> Vec<Transaction> {
    nivesh_datagen::generate(dir, 5, nivesh_datagen::Scale::Small).unwrap();
    nivesh_core::dataset::read_records(&dir.join(nivesh_datagen::TRANSACTIONS_FILE)).unwrap()
}

fn open(dir: &Path, offline: Db) -> FeatureStore {
    // another connection's writes go unseen from memory for an hour: nothing here depends on
    // how fast the test runs (`tests/online.rs` checks the lag itself)
    let online =
        EmbeddedOnlineStore::open(&dir.join("online.db")).unwrap().with_lag(std::time::Duration::from_secs(3600));
    FeatureStore::new(Definitions::builtin().unwrap(), OfflineStore::new(offline).unwrap(), Box::new(online)).unwrap()
}

fn ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Rows of a table as bit patterns (NaN-safe), sorted: tables equal as multisets.
fn row_set(t: &nivesh_models::tabular::Tabular) -> Vec<Vec<u64>> {
    let mut rows: Vec<Vec<u64>> = (0..t.rows).map(|i| t.row(i).iter().map(|x| x.to_bits()).collect()).collect();
    rows.sort();
    rows
}

fn the_store_works(fs: &FeatureStore, txns: &[Transaction], dir: &Path) {
    // ingest is idempotent on transaction_id
    let (inserted, skipped) = fs.ingest(txns).unwrap();
    assert_eq!((inserted, skipped), (txns.len(), 0));
    assert_eq!(fs.ingest(&txns[..100]).unwrap(), (0, 100));
    assert_eq!(fs.offline().event_count().unwrap(), txns.len() as u64);

    // the anomaly detector's training rows through the point-in-time path are exactly the
    // rows the model's own walk over the same transactions makes
    let (table, times) = fs.anomaly_training_table().unwrap();
    let direct = nivesh_models::anomaly::transactions_table(txns);
    assert_eq!(table.rows, direct.rows);
    assert_eq!(times.len(), table.rows);
    assert_eq!(row_set(&table), row_set(&direct));
    assert_eq!(table.y.as_ref().map(|y| y.iter().sum::<f64>()), direct.y.as_ref().map(|y| y.iter().sum::<f64>()));

    // materialize everything as of the day after the last event
    let last = txns.iter().map(|t| t.timestamp.timestamp()).max().unwrap();
    let as_of = last + 86_400;
    let mut calls = 0;
    let reports = fs.materialize(&[], as_of, as_of, false, &mut |_, _| calls += 1).unwrap();
    let users: std::collections::BTreeSet<&str> = txns.iter().map(|t| t.user_id.as_str()).collect();
    assert_eq!(reports.len(), 3);
    for r in &reports {
        assert_eq!(r.entities, users.len(), "{r:?}");
        assert!(!r.incremental);
    }
    assert!(calls > 0);
    let user = *users.iter().next().unwrap();
    // online values are the point-in-time values as of the materialization
    let now = as_of + 3600;
    let online = fs.get_online_features(&[user], &[], now, false).unwrap();
    let set = fs.historical_features(&[(user.to_string(), as_of)], &[]).unwrap();
    for (col, value) in set.columns.iter().zip(&set.rows[0]) {
        let (view, feature) = col.split_once(':').unwrap();
        let v = &online[0].views[view];
        assert_eq!(v.status, "ok");
        assert_eq!(v.age_seconds, Some(3600));
        assert_eq!(v.values[feature], *value, "{col}");
    }
    assert!(online[0].views["user_spending_profile"].values["spend_30d"].unwrap() > 0.0);
    // read once, the same answer from memory while nothing is written: for all views, one, or
    // the entity again; an entity never read is left to the read path
    assert_eq!(fs.get_online_features_now(&[user], &[], now).as_ref(), Some(&online));
    let one = fs.get_online_features(&[user], &["user_spending_profile"], now, false).unwrap();
    assert_eq!(fs.get_online_features_now(&[user], &["user_spending_profile"], now), Some(one));
    assert_eq!(
        fs.get_online_features_now(&[user, user], &[], now + 5),
        Some(vec![fs.get_online_features(&[user], &[], now + 5, false).unwrap().remove(0); 2])
    );
    assert!(fs.get_online_features_now(&["nobody"], &[], now).is_none());
    let twice = ["user_spending_profile", "credit_profile", "user_spending_profile"];
    let read = fs.get_online_features(&[user], &twice, now, false).unwrap();
    assert_eq!(read[0].views.len(), 2);
    assert_eq!(fs.get_online_features_now(&[user], &twice, now), Some(read));
    assert!(fs.get_online_features_now(&[user], &["no_such_view"], now).is_none());
    // a state read with the values is not kept: the memory answers without it
    let with_state = fs.get_online_features(&[user], &[], now, true).unwrap();
    assert!(with_state[0].views.values().any(|v| v.state.is_some()));
    assert_eq!(fs.get_online_features_now(&[user], &[], now).as_ref(), Some(&online));
    // the anomaly state is served too
    let state = fs.online_user_state(user, now).unwrap().unwrap();
    assert_eq!(
        state.last_seen(),
        txns.iter()
            .filter(|t| t.user_id == user && t.direction == nivesh_core::Direction::Debit)
            .map(|t| t.timestamp.timestamp())
            .max()
    );
    // read once, the state is answered from memory while nothing is written (the same one)
    let kept = fs.online_user_state_now(user, now).unwrap();
    assert!(std::sync::Arc::ptr_eq(&kept, &state));
    assert!(fs.online_user_state_now("nobody", now).is_none());
    // a transaction scored from memory gets the very answer of the read path
    let params = nivesh_models::anomaly::AnomalyParams {
        forest: nivesh_models::algo::iforest::ForestParams { n_trees: 20, sample_size: 64, seed: 7 },
        ..Default::default()
    };
    let model = nivesh_models::Fit::fit(&params, &table).unwrap();
    let mut next = txns.iter().find(|t| t.user_id == user).unwrap().clone();
    next.timestamp = chrono::DateTime::from_timestamp(last + 60, 0).unwrap().fixed_offset();
    next.direction = nivesh_core::Direction::Debit;
    let fast = fs.score_anomaly_now(&model, &next, now).unwrap().unwrap();
    assert_eq!(fast.1, nivesh_features::HistorySource::FeatureStore);
    // (compared as text: a missing feature is NaN, never equal to itself)
    assert_eq!(format!("{fast:?}"), format!("{:?}", fs.score_anomaly(&model, &next, now).unwrap()));
    // one not after the state's last transaction is left to the read path (it replays)
    next.timestamp = chrono::DateTime::from_timestamp(state.last_seen().unwrap(), 0).unwrap().fixed_offset();
    assert!(fs.score_anomaly_now(&model, &next, now).is_none());
    // …and not past the view's TTL, as the read would not
    assert!(fs.online_user_state_now(user, now + 400 * 86_400).is_none());
    assert!(fs.online_user_state(user, now + 400 * 86_400).unwrap().is_none());
    // older than a view's TTL: missing, not stale
    let late =
        fs.get_online_features(&[user, "nobody"], &["user_spending_profile"], as_of + 4 * 86_400, false).unwrap();
    assert_eq!(late[0].views["user_spending_profile"].status, "expired");
    assert!(late[0].views["user_spending_profile"].values.values().all(Option::is_none));
    assert_eq!(late[1].views["user_spending_profile"].status, "missing");
    // from memory, the TTL and a missing record are told as the read tells them
    let late_now = fs.get_online_features_now(&[user, "nobody"], &["user_spending_profile"], as_of + 4 * 86_400);
    assert_eq!(late_now, Some(late));

    // incremental: only the entity with new events is recomputed
    let mut new = txns.iter().find(|t| t.user_id == user).unwrap().clone();
    new.transaction_id = "TXN-NEW-1".into();
    new.timestamp = chrono::DateTime::from_timestamp(last + 3600, 0).unwrap().fixed_offset();
    new.amount = 12345.0;
    new.direction = nivesh_core::Direction::Debit;
    assert_eq!(fs.ingest(std::slice::from_ref(&new)).unwrap(), (1, 0));
    let reports = fs.materialize(&["user_spending_profile"], as_of, as_of, false, &mut |_, _| {}).unwrap();
    assert_eq!((reports[0].entities, reports[0].written, reports[0].incremental), (1, 1, true));
    // written since: the values are read again, not answered from memory
    assert!(fs.get_online_features_now(&[user], &["user_spending_profile"], now).is_none());
    let after = fs.get_online_features(&[user], &["user_spending_profile"], now, false).unwrap();
    assert_eq!(fs.get_online_features_now(&[user], &["user_spending_profile"], now).as_ref(), Some(&after));
    let before = online[0].views["user_spending_profile"].values["spend_7d"].unwrap();
    assert_eq!(after[0].views["user_spending_profile"].values["spend_7d"], Some(before + 12345.0));
    // the anomaly state read before (and parsed, and kept parsed) gives way to the new one
    // a write of any view counts (the stamp is the store's): read again, then from memory
    assert!(fs.online_user_state_now(user, now).is_none());
    let again = fs.online_user_state(user, now).unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&again, &state) && fs.online_user_state_now(user, now).is_some());
    let reports = fs.materialize(&["transaction_behaviour"], as_of, as_of, false, &mut |_, _| {}).unwrap();
    assert_eq!((reports[0].entities, reports[0].written), (1, 1));
    // written since: not answered from memory until read again
    assert!(fs.online_user_state_now(user, now).is_none());
    let newer = fs.online_user_state(user, now).unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(&newer, &fs.online_user_state_now(user, now).unwrap()));
    assert_eq!(newer.last_seen(), Some(last + 3600));
    assert!(state.last_seen() < newer.last_seen());
    // read again unchanged: the same parsed state
    assert!(std::sync::Arc::ptr_eq(&newer, &fs.online_user_state(user, now).unwrap().unwrap()));
    // another connection (another process: `features materialize`) writes the state: seen
    let other = EmbeddedOnlineStore::open(&dir.join("online.db")).unwrap();
    let defs = Definitions::builtin().unwrap();
    let view = defs.views.iter().find(|v| v.kind == nivesh_features::definitions::ViewKind::State).unwrap();
    let mut record = other.read(&[user], &[view]).unwrap().remove(0).remove(0).unwrap();
    record.as_of += 60;
    record.state = Some(serde_json::to_string(&nivesh_models::anomaly::UserState::default()).unwrap());
    let values_before = fs.get_online_features(&[user], &[], now, false).unwrap();
    assert_eq!(other.write(view, &[(user.to_string(), record)], now).unwrap(), 1);
    // the values too: unseen from memory within the lag, seen by a read, then from memory
    assert_eq!(fs.get_online_features_now(&[user], &[], now).as_ref(), Some(&values_before));
    let values_after = fs.get_online_features(&[user], &[], now, false).unwrap();
    assert_ne!(values_after, values_before);
    assert_eq!(fs.get_online_features_now(&[user], &[], now).as_ref(), Some(&values_after));
    // from memory it is unseen within the lag (an hour here); a read sees it, and answers
    // from memory the state it read from then on
    assert!(std::sync::Arc::ptr_eq(&fs.online_user_state_now(user, now).unwrap(), &newer));
    let theirs = fs.online_user_state(user, now).unwrap().unwrap();
    assert_eq!(theirs.last_seen(), None);
    assert!(std::sync::Arc::ptr_eq(&theirs, &fs.online_user_state_now(user, now).unwrap()));
    // nothing new: nothing to do
    let reports = fs.materialize(&["user_spending_profile"], as_of, as_of, false, &mut |_, _| {}).unwrap();
    assert_eq!(reports[0].entities, 0);
    let list = fs.list().unwrap();
    assert_eq!(list[0].online_entities, users.len() as u64);
    assert!(list.iter().all(|v| v.last_materialized.is_some()));
    let _ = dir;
}

#[test]
fn point_in_time_rows_see_only_earlier_events() {
    let dir = tempfile::tempdir().unwrap();
    let fs = open(dir.path(), Db::sqlite(&dir.path().join("offline.db")).unwrap());
    let mk = |id: &str, t: &str, amount: f64| Transaction {
        transaction_id: id.into(),
        user_id: "U1".into(),
        timestamp: chrono::DateTime::parse_from_rfc3339(t).unwrap(),
        amount,
        currency: "INR".into(),
        category: "groceries".into(),
        merchant: "DMart".into(),
        channel: nivesh_core::Channel::Upi,
        direction: nivesh_core::Direction::Debit,
        is_anomaly: None,
    };
    // t1 < t2 < t3, ingested out of order
    fs.ingest(&[
        mk("3", "2025-05-03T10:00:00+05:30", 400.0),
        mk("1", "2025-05-01T10:00:00+05:30", 100.0),
        mk("2", "2025-05-02T10:00:00+05:30", 200.0),
    ])
    .unwrap();
    let rows =
        vec![("U1".to_string(), ts("2025-05-02T10:00:00+05:30")), ("U1".to_string(), ts("2025-05-04T00:00:00+05:30"))];
    let set = fs.historical_features(&rows, &["user_spending_profile", "transaction_behaviour"]).unwrap();
    let (cols, got) = (set.columns, set.rows);
    let col = |name: &str| cols.iter().position(|c| c == name).unwrap();
    // the row at t2 sees t1's event only
    assert_eq!(got[0][col("user_spending_profile:spend_7d")], Some(100.0));
    assert_eq!(got[0][col("user_spending_profile:txn_count_30d")], Some(1.0));
    assert_eq!(got[0][col("transaction_behaviour:history_len")], Some(1.0));
    assert!((got[0][col("transaction_behaviour:max_amount")].unwrap() - 100.0).abs() < 1e-9);
    // a later row sees all three
    assert_eq!(got[1][col("user_spending_profile:spend_7d")], Some(700.0));
    assert_eq!(got[1][col("transaction_behaviour:history_len")], Some(3.0));
}

#[test]
fn embedded_store_end_to_end_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let txns = generated(&dir.path().join("gen"));
    let offline = dir.path().join("offline.db");
    {
        let fs = open(dir.path(), Db::sqlite(&offline).unwrap());
        the_store_works(&fs, &txns, dir.path());
    }
    // a restarted process serves the same online values and keeps the offline events
    let fs = open(dir.path(), Db::sqlite(&offline).unwrap());
    assert_eq!(fs.offline().event_count().unwrap(), txns.len() as u64 + 1);
    let user = txns[0].user_id.as_str();
    let last = txns.iter().map(|t| t.timestamp.timestamp()).max().unwrap();
    let got = fs.get_online_features(&[user], &[], last + 86_400 + 60, false).unwrap();
    assert!(got[0].views.values().all(|v| v.status == "ok"), "{got:?}");
}

#[test]
fn online_records_kept_in_memory_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let fs = open(dir.path(), Db::sqlite(&dir.path().join("offline.db")).unwrap());
    let now = 1_800_000_000;
    // one past the bound (4,096 entities): the last one read starts the map again
    let ids: Vec<String> = (0..=4096).map(|i| format!("E{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for chunk in ids.chunks(512) {
        let got = fs.get_online_features(chunk, &[], now, false).unwrap();
        assert!(got.iter().all(|e| e.views.values().all(|v| v.status == "missing")));
    }
    assert_eq!(fs.get_online_features_now(&ids[4096..], &[], now).map(|e| e.len()), Some(1));
    assert!(fs.get_online_features_now(&ids[..1], &[], now).is_none());
    assert!(fs.get_online_features_now(&ids[4095..4096], &[], now).is_none());
}

#[test]
fn changing_a_view_needs_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("offline.db");
    drop(open(dir.path(), Db::sqlite(&db).unwrap()));
    let mut defs = Definitions::builtin().unwrap();
    defs.views[0].features[0].window_days = Some(8);
    let online = || Box::new(EmbeddedOnlineStore::in_memory().unwrap());
    let e =
        FeatureStore::new(defs.clone(), OfflineStore::new(Db::sqlite(&db).unwrap()).unwrap(), online()).err().unwrap();
    assert!(matches!(e, FeatureError::Definition(_)));
    assert!(e.to_string().contains("user_spending_profile changed without a version bump"), "{e}");
    defs.views[0].version = 2;
    FeatureStore::new(defs.clone(), OfflineStore::new(Db::sqlite(&db).unwrap()).unwrap(), online()).unwrap();
    // going back to version 1 (unchanged) is allowed; an unknown older version is not
    FeatureStore::new(Definitions::builtin().unwrap(), OfflineStore::new(Db::sqlite(&db).unwrap()).unwrap(), online())
        .unwrap();
}

#[test]
fn bad_events_are_refused_naming_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let fs = open(dir.path(), Db::sqlite(&dir.path().join("offline.db")).unwrap());
    let mut txns = generated(&dir.path().join("gen"));
    txns[3].amount = -5.0;
    let e = fs.ingest(&txns[..10]).unwrap_err().to_string();
    assert!(e.starts_with("event 4 (") && e.contains("amount"), "{e}");
    assert_eq!(fs.offline().event_count().unwrap(), 0);
}

#[test]
fn postgres_offline_store() {
    let Ok(url) = std::env::var("NIVESH_TEST_FEATURES_DATABASE_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED PostgreSQL offline store test: set NIVESH_TEST_FEATURES_DATABASE_URL (.ci/run starts PostgreSQL)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Db::postgres(&url).unwrap();
    // a clean slate: this test owns that database
    db.batch("DROP TABLE IF EXISTS feature_events, feature_views, feature_materializations; DELETE FROM schema_versions WHERE component = 'features'")
        .ok();
    let fs = open(dir.path(), Db::postgres(&url).unwrap());
    let txns = generated(&dir.path().join("gen"));
    the_store_works(&fs, &txns, dir.path());
}

#[test]
fn an_online_store_that_lacks_what_was_materialized_is_reported_per_view() {
    use nivesh_features::OnlineContent;
    let dir = tempfile::tempdir().unwrap();
    let txns = generated(&dir.path().join("gen"));
    let offline = dir.path().join("offline.db");
    let fs = open(dir.path(), Db::sqlite(&offline).unwrap());
    fs.ingest(&txns).unwrap();
    let as_of = txns.iter().map(|t| t.timestamp.timestamp()).max().unwrap() + 86_400;
    // nothing materialized yet: nothing expected
    assert!(fs.online_content(as_of).unwrap().iter().all(|(_, c)| *c == OnlineContent::NeverMaterialized));
    fs.materialize(&[], as_of, as_of, false, &mut |_, _| {}).unwrap();
    let content = fs.online_content(as_of).unwrap();
    assert_eq!(content.len(), 3);
    assert!(content.iter().all(|(_, c)| *c == OnlineContent::Fresh), "{content:?}");
    // long after, past every view's TTL: stale
    let later = as_of + 400 * 86_400;
    assert!(fs.online_content(later).unwrap().iter().all(|(_, c)| matches!(c, OnlineContent::Stale { .. })));
    // the same offline store with another (empty) online store: each view is empty, and says why
    let elsewhere = FeatureStore::new(
        Definitions::builtin().unwrap(),
        OfflineStore::new(Db::sqlite(&offline).unwrap()).unwrap(),
        Box::new(EmbeddedOnlineStore::in_memory().unwrap()),
    )
    .unwrap();
    let users = txns.iter().map(|t| t.user_id.as_str()).collect::<std::collections::BTreeSet<_>>().len() as u64;
    for (view, c) in elsewhere.online_content(as_of).unwrap() {
        assert!(matches!(c, OnlineContent::Empty { entities, .. } if entities == users), "{view}: {c:?}");
        let problem = c.problem(&view, "redis (redis://x)").unwrap();
        assert!(problem.contains("holds none of it") && problem.contains(&view), "{problem}");
    }
}

/// An online store whose record changes right after each read (as if a write landed just
/// after it): a state read from it must never be answered from memory, which holds only if the
/// stamp is taken before the read.
struct ChangingStore {
    reads: std::sync::atomic::AtomicI64,
}

impl OnlineStore for ChangingStore {
    fn write(
        &self,
        _: &nivesh_features::definitions::View,
        _: &[(String, nivesh_features::online::OnlineRecord)],
        _: i64,
    ) -> Result<usize, FeatureError> {
        Ok(0)
    }
    fn read(
        &self,
        entities: &[&str],
        views: &[&nivesh_features::definitions::View],
    ) -> Result<Vec<Vec<Option<nivesh_features::online::OnlineRecord>>>, FeatureError> {
        let n = self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let state = serde_json::to_string(&nivesh_models::anomaly::UserState::default()).unwrap();
        Ok(entities
            .iter()
            .map(|_| {
                views
                    .iter()
                    .map(|v| {
                        Some(nivesh_features::online::OnlineRecord {
                            version: v.version,
                            as_of: 1_800_000_000 - 60 + n,
                            values: vec![None; v.features.len()],
                            state: Some(state.clone()),
                        })
                    })
                    .collect()
            })
            .collect())
    }
    fn count(&self, _: &nivesh_features::definitions::View) -> Result<u64, FeatureError> {
        Ok(1)
    }
    fn describe(&self) -> String {
        "changing".into()
    }
    fn stamp(&self) -> Option<nivesh_features::online::Stamp> {
        self.stamp_now()
    }
    fn stamp_now(&self) -> Option<nivesh_features::online::Stamp> {
        Some(nivesh_features::online::Stamp { theirs: self.reads.load(std::sync::atomic::Ordering::SeqCst), ours: 0 })
    }
}

#[test]
fn a_state_is_answered_from_memory_only_under_the_stamp_taken_before_its_read() {
    let dir = tempfile::tempdir().unwrap();
    let changing = ChangingStore { reads: std::sync::atomic::AtomicI64::new(0) };
    let fs = FeatureStore::new(
        Definitions::builtin().unwrap(),
        OfflineStore::new(Db::sqlite(&dir.path().join("offline.db")).unwrap()).unwrap(),
        Box::new(changing),
    )
    .unwrap();
    let now = 1_800_000_000;
    for _ in 0..3 {
        assert!(fs.online_user_state("U1", now).unwrap().is_some());
        // the record changed after the read: its stamp is not the one kept with the state
        assert!(fs.online_user_state_now("U1", now).is_none());
        // the same for the online values
        assert!(fs.get_online_features(&["U1"], &[], now, false).unwrap()[0].views.values().all(|v| v.status == "ok"));
        assert!(fs.get_online_features_now(&["U1"], &[], now).is_none());
    }
}
