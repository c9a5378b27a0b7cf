//! The embedded online store: one SQLite table in `<data dir>/online.db` (WAL, so a server and
//! a `features materialize` can use it at once). Primary key (entity, view); a write replaces
//! the stored record only if it is at least as new.

use super::{OnlineRecord, OnlineStore, Stamp, decode_values, encode_values};
use crate::FeatureError;
use crate::definitions::View;
use rusqlite::{OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one reading of SQLite's `data_version` stands for the store's state in a
/// [`Stamp`]: commits by other connections (`features materialize` beside the server) are seen
/// within this; this connection's own at once. Reading it starts a read transaction (two
/// `fcntl` locks on the WAL index and a `stat`): ~9 % of the anomaly route's CPU when read per
/// request.
pub const THEIRS_STANDS: Duration = Duration::from_millis(50);

pub struct EmbeddedOnlineStore {
    conn: Mutex<rusqlite::Connection>,
    location: String,
    /// Transactions committed on `conn` (counted under its lock): the half of a [`Stamp`] that
    /// SQLite's `data_version` leaves out.
    commits: AtomicU64,
    /// The last `data_version` read, and when (microseconds after `opened`; 0: never).
    theirs: AtomicI64,
    theirs_read_at: AtomicU64,
    opened: Instant,
    /// How long one reading stands ([`THEIRS_STANDS`] unless [`Self::with_lag`] says).
    lag: Duration,
}

impl EmbeddedOnlineStore {
    pub fn open(path: &Path) -> Result<Self, FeatureError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| FeatureError::Io { path: dir.display().to_string(), source })?;
        }
        // a damaged file is refused naming it
        let named = |e: rusqlite::Error| FeatureError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        };
        let conn = rusqlite::Connection::open(path).map_err(named)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(named)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(named)?;
        Self::setup(conn, path.display().to_string())
    }

    pub fn in_memory() -> Result<Self, FeatureError> {
        Self::setup(rusqlite::Connection::open_in_memory().map_err(FeatureError::from)?, ":memory:".into())
    }

    fn setup(conn: rusqlite::Connection, location: String) -> Result<Self, FeatureError> {
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(FeatureError::from)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS online_features (
                entity     TEXT NOT NULL,
                view       TEXT NOT NULL,
                version    INTEGER NOT NULL,
                as_of      INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                vals       TEXT NOT NULL,
                state      TEXT,
                PRIMARY KEY (entity, view)
            ) WITHOUT ROWID;",
        )
        .map_err(FeatureError::from)?;
        Ok(EmbeddedOnlineStore {
            conn: Mutex::new(conn),
            location,
            commits: AtomicU64::new(0),
            theirs: AtomicI64::new(0),
            theirs_read_at: AtomicU64::new(0),
            opened: Instant::now(),
            lag: THEIRS_STANDS,
        })
    }

    /// The same store, with one reading of `data_version` standing for `lag` (the longest
    /// that another connection's write can go unseen by [`OnlineStore::stamp`]) instead of
    /// [`THEIRS_STANDS`]: zero reads it for every stamp.
    #[must_use]
    pub fn with_lag(mut self, lag: Duration) -> Self {
        self.lag = lag;
        self
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, FeatureError> {
        self.conn.lock().map_err(|_| FeatureError::Online("embedded online store: lock poisoned".into()))
    }
}

impl OnlineStore for EmbeddedOnlineStore {
    fn write(&self, view: &View, records: &[(String, OnlineRecord)], now: i64) -> Result<usize, FeatureError> {
        let mut conn = self.lock()?;
        // counted under the lock, before anything is written, whether or not it commits: a stamp
        // that misses this count was taken before the write, and a read under a stamp that has
        // it waits for this lock, so it reads what the write left
        self.commits.fetch_add(1, Ordering::AcqRel);
        let tx = conn.transaction().map_err(FeatureError::from)?;
        let mut written = 0;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO online_features (entity, view, version, as_of, expires_at, vals, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (entity, view) DO UPDATE SET
                        version = excluded.version, as_of = excluded.as_of, expires_at = excluded.expires_at,
                        vals = excluded.vals, state = excluded.state
                     WHERE excluded.as_of >= online_features.as_of",
                )
                .map_err(FeatureError::from)?;
            for (entity, r) in records {
                let expires_at = r.as_of + view.ttl_secs();
                if expires_at <= now {
                    continue;
                }
                written += st
                    .execute(params![
                        entity,
                        view.name,
                        r.version,
                        r.as_of,
                        expires_at,
                        encode_values(&r.values),
                        r.state
                    ])
                    .map_err(FeatureError::from)?;
            }
        }
        tx.commit().map_err(FeatureError::from)?;
        Ok(written)
    }

    fn read(&self, entities: &[&str], views: &[&View]) -> Result<Vec<Vec<Option<OnlineRecord>>>, FeatureError> {
        let conn = self.lock()?;
        let mut st = conn
            .prepare_cached("SELECT version, as_of, vals, state FROM online_features WHERE entity = ?1 AND view = ?2")
            .map_err(FeatureError::from)?;
        let mut out = Vec::with_capacity(entities.len());
        for entity in entities {
            let mut row = Vec::with_capacity(views.len());
            for view in views {
                let got = st
                    .query_row(params![entity, view.name], |r| {
                        Ok((
                            r.get::<_, u32>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    })
                    .optional()
                    .map_err(FeatureError::from)?;
                row.push(match got {
                    Some((version, as_of, vals, state)) if version == view.version => {
                        Some(OnlineRecord { version, as_of, values: decode_values(&vals, view.features.len())?, state })
                    }
                    _ => None,
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    fn count(&self, view: &View) -> Result<u64, FeatureError> {
        let conn = self.lock()?;
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM online_features WHERE view = ?1 AND version = ?2",
                params![view.name, view.version],
                |r| r.get(0),
            )
            .map_err(FeatureError::from)?;
        Ok(n as u64)
    }

    fn has_any(&self, view: &View) -> Result<bool, FeatureError> {
        let conn = self.lock()?;
        let any: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM online_features WHERE view = ?1 AND version = ?2)",
                params![view.name, view.version],
                |r| r.get(0),
            )
            .map_err(FeatureError::from)?;
        Ok(any)
    }

    fn describe(&self) -> String {
        format!("embedded ({})", self.location)
    }

    /// `PRAGMA data_version` (changes when another connection, in this process or another,
    /// commits), read at most every [`THEIRS_STANDS`] (or [`Self::with_lag`]), with this
    /// connection's own commits;
    /// `None` when a reading is due and the connection is in use.
    fn stamp(&self) -> Option<Stamp> {
        self.stamp_now().or_else(|| {
            let conn = self.conn.try_lock().ok()?;
            // under the lock: no write of ours is under way, so the two halves agree
            let ours = self.commits.load(Ordering::Acquire);
            let read_at = self.micros();
            let theirs = conn.prepare_cached("PRAGMA data_version").ok()?.query_row([], |r| r.get::<_, i64>(0)).ok()?;
            self.theirs.store(theirs, Ordering::Relaxed);
            self.theirs_read_at.store(read_at, Ordering::Release);
            Some(Stamp { theirs, ours })
        })
    }

    /// From the atomics alone: `None` when a reading of `data_version` is due.
    fn stamp_now(&self) -> Option<Stamp> {
        let ours = self.commits.load(Ordering::Acquire);
        // the reading's time before its value (stored in the other order): the value is at
        // least as new as the time says; the clock after both, so that a delay here errs
        // towards a new reading
        let at = self.theirs_read_at.load(Ordering::Acquire);
        let theirs = self.theirs.load(Ordering::Relaxed);
        let due = at == 0 || self.micros().saturating_sub(at) >= self.lag.as_micros() as u64;
        (!due).then_some(Stamp { theirs, ours })
    }
}

impl EmbeddedOnlineStore {
    /// Microseconds since the store was opened, at least 1 (0 marks "never read").
    fn micros(&self) -> u64 {
        (self.opened.elapsed().as_micros() as u64).max(1)
    }
}
