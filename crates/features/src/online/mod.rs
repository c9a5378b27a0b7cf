//! Online stores: the latest materialized values per entity and view, read at serving time.
//! Two implementations pass the same test suite (`tests/online.rs`): [`embedded`] (SQLite in
//! the data directory, survives restarts, shared by processes on one machine) and [`redis`]
//! (`REDIS_URL`/`REDIS_HOST`, shared by replicas).

pub mod embedded;
pub mod redis;

use crate::FeatureError;
use crate::definitions::View;

/// One entity's values of one view.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineRecord {
    /// The view version that computed them (values of another version are not served).
    pub version: u32,
    /// The time the values describe (unix seconds): features are as of this instant.
    pub as_of: i64,
    /// In the view's feature order; `None` is missing.
    pub values: Vec<Option<f64>>,
    /// A state view's state, as JSON.
    pub state: Option<String>,
}

/// What every online store does.
pub trait OnlineStore: Send + Sync {
    /// Write records of `view`, one per entity. A record older (`as_of`) than the one stored is
    /// ignored, as is one already past its TTL at `now`. Returns how many were written.
    fn write(&self, view: &View, records: &[(String, OnlineRecord)], now: i64) -> Result<usize, FeatureError>;

    /// Records of `views` for each of `entities`, in one round trip: `[entity][view]`.
    /// Records of another version than the view's are returned as `None`.
    fn read(&self, entities: &[&str], views: &[&View]) -> Result<Vec<Vec<Option<OnlineRecord>>>, FeatureError>;

    /// Entities with a record of `view`.
    fn count(&self, view: &View) -> Result<u64, FeatureError>;

    /// Whether any entity has a record of `view` (for health checks: cheaper than `count` on a
    /// large store).
    fn has_any(&self, view: &View) -> Result<bool, FeatureError> {
        Ok(self.count(view)? > 0)
    }

    /// "embedded (PATH)" or "redis (URL)".
    fn describe(&self) -> String;

    /// A stamp that differs whenever a record may have changed since another stamp was taken,
    /// taken without waiting on a writer: `None` when the store cannot tell (a remote store
    /// that other processes write) or cannot tell now (busy). Equal stamps mean that nothing
    /// was written in between through this store, and nothing by other connections more than
    /// the store's lag before the later one (embedded: 50 ms). May read the store: call it
    /// where blocking I/O is allowed.
    fn stamp(&self) -> Option<Stamp> {
        None
    }

    /// [`Self::stamp`] from memory alone — no I/O, no lock — for async threads: `None` also
    /// when telling would need a read.
    fn stamp_now(&self) -> Option<Stamp> {
        None
    }
}

/// See [`OnlineStore::stamp`]. Compared only with stamps of the same store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// What the store says of commits by other connections (SQLite's `PRAGMA data_version`).
    pub theirs: i64,
    /// Commits by this store's own connection (which `data_version` does not count).
    pub ours: u64,
}

/// `[1.5, null]` ↔ values (compact, exact for f64).
pub(crate) fn encode_values(values: &[Option<f64>]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn decode_values(text: &str, width: usize) -> Result<Vec<Option<f64>>, FeatureError> {
    let v: Vec<Option<f64>> =
        serde_json::from_str(text).map_err(|source| FeatureError::Corrupt { what: "stored values", source })?;
    if v.len() != width {
        return Err(FeatureError::Online(format!("stored values have {} features, the view {width}", v.len())));
    }
    Ok(v)
}
