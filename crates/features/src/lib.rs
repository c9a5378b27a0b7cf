//! `nivesh-features`: the feature store, after Feast's model.
//!
//! - [`definitions`]: entities and feature views from a checked-in TOML file
//!   (`data/features.toml`), validated, each with a version and a definition hash;
//! - [`offline`]: raw events in SQLite or PostgreSQL (`DATABASE_URL`), ingested idempotently;
//! - [`engine`]: values as of a point in time (only earlier events, within TTL and windows),
//!   for training sets and materialization alike;
//! - [`online`]: the latest values per entity, embedded (SQLite file) or in Redis;
//! - [`FeatureStore`]: the API the CLI and the server use.

pub mod definitions;
pub mod engine;
pub mod offline;
pub mod online;
mod recent;

use definitions::{Definitions, View, ViewKind};
use engine::Timeline;
pub use nivesh_api::{EntityFeatures, HistorySource, ViewValues};
use nivesh_core::Transaction;
use nivesh_core::shard::Shard;
use offline::{Materialization, OfflineStore};
use online::{OnlineRecord, OnlineStore, Stamp};
use recent::{Freed, Recent};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Everything that can go wrong in the feature store; a store's own error is the source.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("feature definitions: {0}")]
    Definition(String),
    #[error("{0}")]
    NotFound(String),
    #[error("offline store")]
    Offline(#[from] nivesh_store::db::DbError),
    #[error("embedded online store")]
    Embedded(#[from] rusqlite::Error),
    #[error("redis online store at {location}")]
    Redis {
        location: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Stored bytes that do not decode (`what` says which).
    #[error("corrupt {what}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Online(String),
    #[error("{0}")]
    Invalid(String),
    /// The model refused the input it was given from the store.
    #[error(transparent)]
    Model(#[from] nivesh_models::ModelError),
}

/// A point-in-time training set: one row per entity row, columns `view:feature`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<f64>>>,
}

/// What a materialization of one view did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaterializeReport {
    pub view: String,
    pub version: u32,
    pub entities: usize,
    pub written: usize,
    pub incremental: bool,
    pub seconds: f64,
}

/// A view's definition and state, for `features list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewStatus {
    pub view: String,
    pub version: u32,
    pub kind: String,
    pub features: usize,
    pub ttl_days: u32,
    pub online_entities: u64,
    pub last_materialized: Option<String>,
    pub materialized_as_of: Option<String>,
}

/// What the online store holds of a view, against what the offline store says was
/// materialized (`features materialize` records each run in the offline store).
#[derive(Debug, Clone, PartialEq)]
pub enum OnlineContent {
    /// Records there, materialized within the view's TTL.
    Fresh,
    /// Never materialized: nothing to expect.
    NeverMaterialized,
    /// Materialized (`entities` users, last `at`), yet the online store has no record of the
    /// view: it was pointed elsewhere (e.g. `REDIS_URL` set after materializing to the
    /// embedded store) or emptied.
    Empty { at: String, entities: u64 },
    /// The last materialization's data is older than the view's TTL: every value has expired.
    Stale { as_of: i64, ttl_days: u32 },
}

impl OnlineContent {
    /// A sentence for health reports and logs; `None` when all is well.
    pub fn problem(&self, view: &str, online: &str) -> Option<String> {
        match self {
            OnlineContent::Fresh | OnlineContent::NeverMaterialized => None,
            OnlineContent::Empty { at, entities } => Some(format!(
                "view {view}: materialized ({entities} users, {at}) but {online} holds none of it; \
                 run `nivesh-ml features materialize` against this store"
            )),
            OnlineContent::Stale { as_of, ttl_days } => Some(format!(
                "view {view}: the last materialization's data (as of {}) is older than its TTL ({ttl_days} days); \
                 run `nivesh-ml features materialize`",
                rfc3339(*as_of)
            )),
        }
    }
}

pub struct FeatureStore {
    defs: Definitions,
    offline: OfflineStore,
    online: Box<dyn OnlineStore>,
    /// Anomaly states already parsed, by user, each with the stored JSON it came from.
    parsed_states: std::sync::Mutex<Recent<ParsedState>>,
    /// The online records last read, by entity, to answer `/features/online` from memory.
    known_records: std::sync::Mutex<Recent<KnownRecords>>,
}

/// Most users whose parsed anomaly state is kept (past it the map starts again empty): ~4 KB a
/// user, so at most ~16 MB, and a few MB for the thousand-odd users a server sees in a minute.
const MAX_PARSED_STATES: usize = 4096;

/// Most entities whose online records are kept (~1.2 KB each with the built-in views' 41
/// values, so at most ~5 MB): as for the states, past it the map starts again empty.
const MAX_KNOWN_RECORDS: usize = 4096;

/// The anomaly route read each user's state from the online store and parsed its JSON (~1.8 KB,
/// ~60 numbers) per request: ~9 % of the route's CPU. Its JSON is parsed again only when it
/// differs from the one parsed last for that user; and while the online store's [`Stamp`] is
/// the one taken before that read, nothing has been written since, so the state is answered
/// without reading the row again ([`FeatureStore::online_user_state_now`]).
struct ParsedState {
    /// The stored JSON it was parsed from.
    raw: String,
    state: std::sync::Arc<nivesh_models::anomaly::UserState>,
    /// The record's `as_of` (for the view's TTL).
    as_of: i64,
    /// The online store's stamp taken before the read that returned `raw` (`None`: unknown).
    stamp: Option<Stamp>,
}

impl Recent<ParsedState> {
    /// The state parsed from `raw`, now known to be what the store held at `stamp` (`as_of`).
    fn parsed(
        &mut self,
        user: &str,
        raw: &str,
        as_of: i64,
        stamp: Option<Stamp>,
    ) -> Option<std::sync::Arc<nivesh_models::anomaly::UserState>> {
        let p = self.get_mut(user).filter(|p| p.raw == raw)?;
        (p.as_of, p.stamp) = (as_of, stamp);
        Some(p.state.clone())
    }

    /// The state last read for `user`, if the store's stamp is still `stamp`.
    fn unchanged(&self, user: &str, stamp: Stamp) -> Option<&ParsedState> {
        self.get(user).filter(|p| p.stamp == Some(stamp))
    }

    /// Keep `entry` (in place of the user's last); see [`Recent::entry`] for what comes back.
    #[must_use]
    fn put(&mut self, user: &str, entry: ParsedState) -> Freed<ParsedState> {
        self.entry(user, |_| false, || entry).1
    }
}

/// What the online store returned for an entity under one [`Stamp`] (taken before the read):
/// each view's record, by the view's place in the definitions — `None` where no read under
/// this stamp asked for the view, `Some(None)` where the store had no record. A state view's
/// JSON is not kept (only the read path serves it).
struct KnownRecords {
    stamp: Stamp,
    by_view: Vec<Option<Option<std::sync::Arc<OnlineRecord>>>>,
}

/// A lock on what the feature store keeps in memory. A poisoned lock only means that another
/// request panicked mid-update: the map is still whole.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One entity's answer for `views` from its records (one per view, in order), at `now`.
fn entity_features<'a>(
    entity: &str,
    views: &[&View],
    records: impl Iterator<Item = Option<&'a OnlineRecord>>,
    now: i64,
    with_state: bool,
) -> EntityFeatures {
    let mut by_view = BTreeMap::new();
    for (view, record) in views.iter().zip(records) {
        let names = view.features.iter().map(|f| f.name.clone());
        let v = match record {
            Some(r) if view.fresh(r.as_of, now) => ViewValues {
                version: r.version,
                as_of: Some(rfc3339(r.as_of)),
                age_seconds: Some(now - r.as_of),
                status: "ok".into(),
                values: names.zip(r.values.iter().copied()).collect(),
                state: if with_state { r.state.as_deref().and_then(|s| serde_json::from_str(s).ok()) } else { None },
            },
            Some(r) => ViewValues {
                version: r.version,
                as_of: Some(rfc3339(r.as_of)),
                age_seconds: Some(now - r.as_of),
                status: "expired".into(),
                values: names.map(|n| (n, None)).collect(),
                state: None,
            },
            None => ViewValues {
                version: view.version,
                as_of: None,
                age_seconds: None,
                status: "missing".into(),
                values: names.map(|n| (n, None)).collect(),
                state: None,
            },
        };
        by_view.insert(view.name.clone(), v);
    }
    EntityFeatures { entity: entity.to_string(), views: by_view }
}

fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map(|t| t.to_rfc3339()).unwrap_or_default()
}

impl FeatureStore {
    /// A store over `offline` and `online`; registers the views' definitions (a changed view
    /// without a version bump is an error here).
    pub fn new(defs: Definitions, offline: OfflineStore, online: Box<dyn OnlineStore>) -> Result<Self, FeatureError> {
        offline.register_views(&defs.views)?;
        Ok(FeatureStore {
            defs,
            offline,
            online,
            parsed_states: std::sync::Mutex::new(Recent::new(MAX_PARSED_STATES)),
            known_records: std::sync::Mutex::new(Recent::new(MAX_KNOWN_RECORDS)),
        })
    }

    pub fn definitions(&self) -> &Definitions {
        &self.defs
    }

    pub fn offline(&self) -> &OfflineStore {
        &self.offline
    }

    pub fn online_description(&self) -> String {
        self.online.describe()
    }

    fn views(&self, names: &[&str]) -> Result<Vec<&View>, FeatureError> {
        Ok(self.views_at(&self.view_indices(names)?))
    }

    /// The definitions' views at these places (from [`Self::view_indices`]).
    fn views_at(&self, at: &[usize]) -> Vec<&View> {
        at.iter().filter_map(|&i| self.defs.views.get(i)).collect()
    }

    /// Validate and append events (idempotent on `transaction_id`): (inserted, skipped).
    pub fn ingest(&self, events: &[Transaction]) -> Result<(usize, usize), FeatureError> {
        for (i, e) in events.iter().enumerate() {
            nivesh_core::Record::validate(e)
                .map_err(|m| FeatureError::Invalid(format!("event {} ({}): {m}", i + 1, e.transaction_id)))?;
        }
        self.offline.ingest(events)
    }

    /// Compute the values of `views` (all if empty) as of `as_of` and write them online
    /// (values already past their TTL at `now` are not written). Incremental unless `full`:
    /// only entities with events since the view's last materialization.
    /// `progress(done, total)` is called as entities complete.
    pub fn materialize(
        &self,
        views: &[&str],
        as_of: i64,
        now: i64,
        full: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<MaterializeReport>, FeatureError> {
        self.materialize_shard(views, as_of, now, full, Shard::ALL, progress)
    }

    /// [`Self::materialize`] of the entities `shard` owns (a stable hash of the entity id), so
    /// that N processes with shards `0/N` … `N-1/N` together write what one run writes. Each
    /// shard keeps its own incremental cutoff.
    pub fn materialize_shard(
        &self,
        views: &[&str],
        as_of: i64,
        now: i64,
        full: bool,
        shard: Shard,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<MaterializeReport>, FeatureError> {
        let views = self.views(views)?;
        let mut plans = Vec::new();
        for v in &views {
            let last = if full { None } else { self.offline.last_materialization_of(v, shard)? };
            let (mut entities, max_seq) = self.offline.entities_since(last.as_ref().map_or(0, |m| m.last_seq))?;
            entities.retain(|e| shard.owns(e));
            plans.push((*v, entities, max_seq, last.is_some()));
        }
        let total: usize = plans.iter().map(|p| p.1.len()).sum();
        let mut done = 0;
        let mut reports = Vec::new();
        const CHUNK: usize = 50;
        for (view, entities, max_seq, incremental) in plans {
            let started = std::time::Instant::now();
            let mut written = 0;
            for chunk in entities.chunks(CHUNK) {
                let mut records = Vec::with_capacity(chunk.len());
                for entity in chunk {
                    let events = self.offline.entity_events(entity, Some(as_of))?;
                    let timeline = Timeline::new(&events);
                    let (values, state) = engine::values_at(view, &timeline, as_of);
                    if view.kind == ViewKind::State && state.is_none() {
                        continue;
                    }
                    let state = state
                        .map(|s| serde_json::to_string(&s))
                        .transpose()
                        .map_err(|e| FeatureError::Invalid(format!("encoding state: {e}")))?;
                    records.push((entity.clone(), OnlineRecord { version: view.version, as_of, values, state }));
                }
                written += self.online.write(view, &records, now)?;
                done += chunk.len();
                progress(done, total);
            }
            let seconds = started.elapsed().as_secs_f64();
            self.offline.record_materialization(
                view,
                shard,
                &Materialization {
                    last_seq: max_seq,
                    as_of,
                    entities: entities.len() as u64,
                    seconds,
                    at: chrono::Utc::now().to_rfc3339(),
                },
            )?;
            reports.push(MaterializeReport {
                view: view.name.clone(),
                version: view.version,
                entities: entities.len(),
                written,
                incremental,
                seconds,
            });
        }
        Ok(reports)
    }

    /// The online values of `views` (all if empty) for each entity, in one read, with their
    /// age at `now`; values older than the view's TTL are reported missing (`expired`).
    pub fn get_online_features(
        &self,
        entities: &[&str],
        views: &[&str],
        now: i64,
        with_state: bool,
    ) -> Result<Vec<EntityFeatures>, FeatureError> {
        let at = self.view_indices(views)?;
        let views = self.views_at(&at);
        // taken before the read, as for the anomaly states (see `online_user_state`)
        let stamp = self.online.stamp();
        let records = self.online.read(entities, &views)?;
        let found = entities
            .iter()
            .zip(&records)
            .map(|(entity, row)| entity_features(entity, &views, row.iter().map(Option::as_ref), now, with_state))
            .collect();
        if let Some(stamp) = stamp {
            self.remember(entities, &at, records, stamp);
        }
        Ok(found)
    }

    /// [`Self::get_online_features`] (without states) when it needs no read: every entity's
    /// records of `views` were read under the online store's current [`Stamp`] (nothing written
    /// since; only the embedded store gives one). The same answer as the read, to the value.
    /// `None`: ask [`Self::get_online_features`], on a thread that may wait.
    pub fn get_online_features_now(&self, entities: &[&str], views: &[&str], now: i64) -> Option<Vec<EntityFeatures>> {
        let stamp = self.online.stamp_now()?;
        let at = self.view_indices(views).ok()?;
        let rows = {
            let known = lock(&self.known_records);
            entities
                .iter()
                .map(|entity| {
                    let k = known.get(entity).filter(|k| k.stamp == stamp)?;
                    at.iter().map(|&i| k.by_view.get(i).cloned().flatten()).collect::<Option<Vec<_>>>()
                })
                .collect::<Option<Vec<_>>>()?
        };
        let views = self.views_at(&at);
        Some(
            entities
                .iter()
                .zip(&rows)
                .map(|(entity, row)| entity_features(entity, &views, row.iter().map(Option::as_deref), now, false))
                .collect(),
        )
    }

    /// Keep what a read under `stamp` returned (the views at `at`), for
    /// [`Self::get_online_features_now`]; states are let go, not kept.
    fn remember(&self, entities: &[&str], at: &[usize], records: Vec<Vec<Option<OnlineRecord>>>, stamp: Stamp) {
        // everything allocated before the lock is taken, freed after it is let go
        let rows: Vec<Vec<Option<std::sync::Arc<OnlineRecord>>>> = records
            .into_iter()
            .map(|row| {
                row.into_iter().map(|r| r.map(|r| std::sync::Arc::new(OnlineRecord { state: None, ..r }))).collect()
            })
            .collect();
        let n = self.defs.views.len();
        let mut freed = Vec::new();
        let mut known = lock(&self.known_records);
        for (entity, row) in entities.iter().zip(rows) {
            let (k, f) = known.entry(entity, |k| k.stamp == stamp, || KnownRecords { stamp, by_view: vec![None; n] });
            freed.extend(f);
            for (&i, r) in at.iter().zip(row) {
                if let Some(slot) = k.by_view.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        drop(known);
        drop(freed);
    }

    /// The places among the definitions' views of those named (all if none).
    fn view_indices(&self, names: &[&str]) -> Result<Vec<usize>, FeatureError> {
        if names.is_empty() {
            return Ok((0..self.defs.views.len()).collect());
        }
        names.iter().map(|n| self.defs.view_index(n)).collect()
    }

    /// The anomaly detector's state of `user` from the online store, if fresh.
    pub fn online_user_state(
        &self,
        user: &str,
        now: i64,
    ) -> Result<Option<std::sync::Arc<nivesh_models::anomaly::UserState>>, FeatureError> {
        let Some(view) = self.state_view() else { return Ok(None) };
        // taken before the read: a write between the two makes the next stamp differ, so the
        // state kept below is never taken for newer than it is
        let stamp = self.online.stamp();
        let rows = self.online.read(&[user], &[view])?;
        let Some(Some(r)) = rows.into_iter().next().and_then(|r| r.into_iter().next()) else { return Ok(None) };
        if !view.fresh(r.as_of, now) {
            return Ok(None);
        }
        let Some(raw) = r.state else { return Ok(None) };
        if let Some(state) = self.parsed().parsed(user, &raw, r.as_of, stamp) {
            return Ok(Some(state));
        }
        let state: std::sync::Arc<nivesh_models::anomaly::UserState> = std::sync::Arc::new(
            serde_json::from_str(&raw).map_err(|source| FeatureError::Corrupt { what: "stored state", source })?,
        );
        // two statements: the guard goes at the end of the first, the map it hands back after it
        let dropped = self.parsed().put(user, ParsedState { raw, state: state.clone(), as_of: r.as_of, stamp });
        drop(dropped);
        Ok(Some(state))
    }

    /// [`Self::online_user_state`] without waiting or reading a row, when it can be told from
    /// memory: the state last read for `user`, still fresh at `now`, and nothing written to the
    /// online store since it was read (its [`Stamp`] unchanged, which only the embedded store
    /// gives). `None`: ask [`Self::online_user_state`].
    pub fn online_user_state_now(
        &self,
        user: &str,
        now: i64,
    ) -> Option<std::sync::Arc<nivesh_models::anomaly::UserState>> {
        let view = self.state_view()?;
        let stamp = self.online.stamp_now()?;
        let parsed = self.parsed();
        let p = parsed.unchanged(user, stamp)?;
        view.fresh(p.as_of, now).then(|| p.state.clone())
    }

    fn state_view(&self) -> Option<&View> {
        self.defs.views.iter().find(|v| v.kind == ViewKind::State)
    }

    fn parsed(&self) -> std::sync::MutexGuard<'_, Recent<ParsedState>> {
        lock(&self.parsed_states)
    }

    /// Score `txn` with `model` against its user's history as of just before it: the online
    /// state when it is fresh and was folded only from earlier transactions (so nothing is
    /// replayed); otherwise the offline events before it, replayed; a new user has none. An
    /// online store that does not answer falls back to the offline events.
    pub fn score_anomaly(
        &self,
        model: &nivesh_models::anomaly::AnomalyModel,
        txn: &Transaction,
        now: i64,
    ) -> Result<(nivesh_models::anomaly::AnomalyScore, HistorySource), FeatureError> {
        use nivesh_models::Predict;
        let at = txn.timestamp.timestamp();
        let online =
            self.online_user_state(&txn.user_id, now).ok().flatten().filter(|s| s.last_seen().is_some_and(|l| l < at));
        if let Some(state) = online {
            return Ok((model.score_with_state(&state, txn)?, HistorySource::FeatureStore));
        }
        let history = self.offline.entity_events(&txn.user_id, Some(at))?;
        let source = if history.is_empty() { HistorySource::None } else { HistorySource::OfflineEvents };
        let input = nivesh_models::anomaly::AnomalyInput { transaction: txn, history: &history };
        Ok((model.predict(&input)?, source))
    }

    /// [`Self::score_anomaly`] when it needs no waiting: the user's online state is in memory
    /// and unchanged ([`Self::online_user_state_now`]) and earlier than `txn`. `None`: call
    /// [`Self::score_anomaly`] (on a thread that may wait). The same answer as it, to the bit.
    pub fn score_anomaly_now(
        &self,
        model: &nivesh_models::anomaly::AnomalyModel,
        txn: &Transaction,
        now: i64,
    ) -> Option<Result<(nivesh_models::anomaly::AnomalyScore, HistorySource), FeatureError>> {
        let at = txn.timestamp.timestamp();
        let state = self.online_user_state_now(&txn.user_id, now).filter(|s| s.last_seen().is_some_and(|l| l < at))?;
        Some(model.score_with_state(&state, txn).map(|s| (s, HistorySource::FeatureStore)).map_err(FeatureError::from))
    }

    /// Point-in-time training set: for each `(entity, at)` row, each view's values as of `at`
    /// from the offline events (strictly earlier, within TTL). Columns are `view:feature`.
    pub fn historical_features(&self, rows: &[(String, i64)], views: &[&str]) -> Result<TrainingSet, FeatureError> {
        let views = self.views(views)?;
        let latest = rows.iter().map(|r| r.1).max().unwrap_or(0);
        let events = self.offline.all_events(Some(latest))?;
        let mut columns = Vec::new();
        let mut out = vec![Vec::new(); rows.len()];
        for view in views {
            columns.extend(view.features.iter().map(|f| format!("{}:{}", view.name, f.name)));
            for (row, values) in out.iter_mut().zip(engine::point_in_time(view, &events, rows)) {
                row.extend(values);
            }
        }
        Ok(TrainingSet { columns, rows: out })
    }

    /// Every stored event before `before` (all if `None`), grouped by entity, sorted by time.
    pub fn events(&self, before: Option<i64>) -> Result<HashMap<String, Vec<Transaction>>, FeatureError> {
        self.offline.all_events(before)
    }

    /// The anomaly detector's training table through the point-in-time path: every stored
    /// debit is an entity row at its own timestamp, joined with the `transaction_behaviour`
    /// state as of that instant (strictly earlier events), and turned into the detector's
    /// features with the transaction as request data. Transactions at the same instant do not
    /// see each other. Also returns each row's time (unix seconds), for splitting by time.
    pub fn anomaly_training_table(&self) -> Result<(nivesh_models::tabular::Tabular, Vec<f64>), FeatureError> {
        use nivesh_models::anomaly::{TRANSACTION_FEATURES, transaction_schema};
        let view = self
            .defs
            .views
            .iter()
            .find(|v| v.kind == ViewKind::State)
            .ok_or_else(|| FeatureError::NotFound("no state view (transaction_behaviour) is defined".into()))?;
        let events = self.offline.all_events(None)?;
        let mut users: Vec<&String> = events.keys().collect();
        users.sort();
        let width = TRANSACTION_FEATURES.len();
        let (mut x, mut y, mut labelled, mut rows, mut times) = (Vec::new(), Vec::new(), true, 0, Vec::new());
        for u in users {
            let evs = &events[u];
            let timeline = Timeline::new(evs);
            let debits: Vec<&Transaction> =
                evs.iter().filter(|t| t.direction == nivesh_core::Direction::Debit).collect();
            engine::sweep_states(&timeline, debits.iter().map(|t| t.timestamp.timestamp()), |k, s| {
                let t = debits[k];
                let at = t.timestamp.timestamp();
                let fresh = engine::state_is_fresh(view, s, at);
                let empty = nivesh_models::anomaly::UserState::default();
                x.extend(if fresh { s.features(t) } else { empty.features(t) });
                labelled &= t.is_anomaly.is_some();
                y.push(if t.is_anomaly == Some(true) { 1.0 } else { 0.0 });
                rows += 1;
                times.push(at as f64);
            });
        }
        debug_assert_eq!(x.len(), rows * width);
        let table = nivesh_models::tabular::Tabular {
            schema: transaction_schema(),
            x,
            rows,
            y: labelled.then_some(y),
            weight: None,
            group: None,
        };
        Ok((table, times))
    }

    /// Each view's online content at `now` (unix seconds) against its materializations.
    pub fn online_content(&self, now: i64) -> Result<Vec<(String, OnlineContent)>, FeatureError> {
        self.defs
            .views
            .iter()
            .map(|v| {
                let runs = self.offline.materializations(v)?;
                let Some(last) = runs.iter().map(|(_, m)| m).max_by_key(|m| m.as_of) else {
                    return Ok((v.name.clone(), OnlineContent::NeverMaterialized));
                };
                let entities: u64 = runs.iter().map(|(_, m)| m.entities).sum();
                let content = if entities > 0 && !self.online.has_any(v)? {
                    OnlineContent::Empty { at: last.at.clone(), entities }
                } else if entities > 0 && !v.fresh(last.as_of, now) {
                    OnlineContent::Stale { as_of: last.as_of, ttl_days: v.ttl_days }
                } else {
                    OnlineContent::Fresh
                };
                Ok((v.name.clone(), content))
            })
            .collect()
    }

    /// Views with versions, feature counts, online entities and last materialization.
    pub fn list(&self) -> Result<Vec<ViewStatus>, FeatureError> {
        self.defs
            .views
            .iter()
            .map(|v| {
                let m = self.offline.last_materialization(v)?;
                Ok(ViewStatus {
                    view: v.name.clone(),
                    version: v.version,
                    kind: format!("{:?}", v.kind).to_lowercase(),
                    features: v.features.len(),
                    ttl_days: v.ttl_days,
                    online_entities: self.online.count(v)?,
                    last_materialized: m.as_ref().map(|m| m.at.clone()),
                    materialized_as_of: m.map(|m| rfc3339(m.as_of)),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_PARSED_STATES, ParsedState, Recent, Stamp};
    use std::sync::Arc;

    #[test]
    fn parsed_states_are_kept_per_raw_json_and_bounded() {
        let mut c: Recent<ParsedState> = Recent::new(MAX_PARSED_STATES);
        let state = Arc::new(nivesh_models::anomaly::UserState::default());
        let (s1, s2) = (Stamp { theirs: 1, ours: 0 }, Stamp { theirs: 1, ours: 1 });
        let entry = |raw: &str, stamp| ParsedState { raw: raw.into(), state: state.clone(), as_of: 10, stamp };
        assert!(c.put("U1", entry("{}", Some(s1))).is_none());
        assert!(c.unchanged("U1", s1).is_some_and(|p| Arc::ptr_eq(&p.state, &state)));
        // another stamp: something was written since
        assert!(c.unchanged("U1", s2).is_none());
        // the same JSON read again under another stamp (and as_of) is the same state, now
        // known at that stamp
        assert!(c.parsed("U1", "{}", 20, Some(s2)).is_some_and(|s| Arc::ptr_eq(&s, &state)));
        assert!(c.unchanged("U1", s1).is_none());
        assert_eq!(c.unchanged("U1", s2).map(|p| p.as_of), Some(20));
        // a read whose stamp was unknown leaves nothing to answer from
        assert!(c.parsed("U1", "{}", 20, None).is_some());
        assert!(c.unchanged("U1", s2).is_none());
        // another JSON for the same user, or another user: not this state
        assert!(c.parsed("U1", "{ }", 20, Some(s2)).is_none());
        assert!(c.parsed("U2", "{}", 20, Some(s2)).is_none());
        let mut resets = 0;
        for i in 0..MAX_PARSED_STATES + 10 {
            resets += c.put(&format!("U{i}"), entry("{}", None)).map_or(0, |old| old.len());
            assert!(c.len() <= MAX_PARSED_STATES);
        }
        // the full map was handed back once, to be freed outside the lock
        assert_eq!(resets, MAX_PARSED_STATES);
        // a user already kept is replaced in place, not a reason to start again
        let n = c.len();
        assert!(c.put("U4100", entry("[]", None)).is_none());
        assert_eq!(c.len(), n);
    }
}
