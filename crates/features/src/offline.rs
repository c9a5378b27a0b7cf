//! The offline store: raw events (transactions) in SQLite or PostgreSQL, through the same
//! SQL layer as the registry ([`nivesh_store::db`]); plus which view definitions were used
//! and the last materialization of each.

use crate::FeatureError;
use crate::definitions::View;
use nivesh_core::Transaction;
use nivesh_core::shard::Shard;
use nivesh_store::db::{Db, DbError, Dialect, Value};
use std::collections::HashMap;

const SQLITE: &[&str] =
    &[include_str!("../migrations/sqlite/0001_init.sql"), include_str!("../migrations/sqlite/0002_shards.sql")];
const POSTGRES: &[&str] =
    &[include_str!("../migrations/postgres/0001_init.sql"), include_str!("../migrations/postgres/0002_shards.sql")];

/// Rows per INSERT statement when ingesting.
const INSERT_BATCH: usize = 400;

pub struct OfflineStore {
    db: Db,
}

/// The last materialization of a view version.
#[derive(Debug, Clone, PartialEq)]
pub struct Materialization {
    pub last_seq: i64,
    pub as_of: i64,
    pub entities: u64,
    pub seconds: f64,
    pub at: String,
}

impl OfflineStore {
    pub fn new(db: Db) -> Result<Self, FeatureError> {
        let migrations = match db.dialect() {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        };
        db.migrate("features", migrations)?;
        Ok(OfflineStore { db })
    }

    pub fn location(&self) -> &str {
        &self.db.location
    }

    /// Record each view's definition under its version; refuse a view whose definition changed
    /// without a new version, or whose version went back.
    pub fn register_views(&self, views: &[View]) -> Result<(), FeatureError> {
        for v in views {
            let hash = v.definition_hash();
            let rows = self
                .db
                .query(
                    "SELECT version, definition_hash FROM feature_views WHERE name = $1 ORDER BY version",
                    &[v.name.as_str().into()],
                )
                .map_err(FeatureError::from)?;
            let mut known = false;
            for r in &rows {
                let (version, stored) = (r.int(0).map_err(FeatureError::from)?, r.text(1).map_err(FeatureError::from)?);
                if version == i64::from(v.version) {
                    known = true;
                    if stored != hash {
                        return Err(FeatureError::Definition(format!(
                            "view {} changed without a version bump: its definition differs from version {} as first used; raise `version` to {}",
                            v.name,
                            v.version,
                            v.version + 1
                        )));
                    }
                }
            }
            let newest = rows.iter().filter_map(|r| r.int(0).ok()).max().unwrap_or(0);
            if !known && newest > i64::from(v.version) {
                return Err(FeatureError::Definition(format!(
                    "view {}: version {} is older than version {newest} already in use",
                    v.name, v.version
                )));
            }
            if !known {
                self.db
                    .execute(
                        "INSERT INTO feature_views (name, version, definition_hash, registered_at) VALUES ($1, $2, $3, $4)",
                        &[v.name.as_str().into(), v.version.into(), hash.into(), chrono::Utc::now().to_rfc3339().into()],
                    )
                    .map_err(FeatureError::from)?;
            }
        }
        Ok(())
    }

    /// Append events; those whose `transaction_id` is already stored are skipped.
    /// Returns (inserted, skipped).
    pub fn ingest(&self, events: &[Transaction]) -> Result<(usize, usize), FeatureError> {
        let mut inserted = 0u64;
        self.db
            .transaction(|tx| {
                for chunk in events.chunks(INSERT_BATCH) {
                    let mut sql =
                        String::from("INSERT INTO feature_events (transaction_id, user_id, ts, payload) VALUES ");
                    let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
                    for (i, e) in chunk.iter().enumerate() {
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        let b = i * 4;
                        sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
                        let payload =
                            serde_json::to_string(e).map_err(|source| DbError::Encode { what: "an event", source })?;
                        params.extend([
                            e.transaction_id.as_str().into(),
                            e.user_id.as_str().into(),
                            e.timestamp.timestamp().into(),
                            payload.into(),
                        ]);
                    }
                    sql.push_str(" ON CONFLICT (transaction_id) DO NOTHING");
                    inserted += tx.execute(&sql, &params)?;
                }
                Ok::<_, DbError>(())
            })
            .map_err(FeatureError::from)?;
        Ok((inserted as usize, events.len() - inserted as usize))
    }

    fn decode(rows: Vec<nivesh_store::db::Row>) -> Result<Vec<Transaction>, FeatureError> {
        rows.iter()
            .map(|r| {
                let text = r.text(0).map_err(FeatureError::from)?;
                serde_json::from_str(&text).map_err(|source| FeatureError::Corrupt { what: "stored event", source })
            })
            .collect()
    }

    /// One entity's events before `before` (unix seconds; all if `None`), sorted by time.
    pub fn entity_events(&self, user: &str, before: Option<i64>) -> Result<Vec<Transaction>, FeatureError> {
        let rows = self
            .db
            .query(
                "SELECT payload FROM feature_events WHERE user_id = $1 AND ts < $2 ORDER BY ts, seq",
                &[user.into(), before.unwrap_or(i64::MAX).into()],
            )
            .map_err(FeatureError::from)?;
        Self::decode(rows)
    }

    /// Every event before `before`, grouped by entity, each sorted by time.
    pub fn all_events(&self, before: Option<i64>) -> Result<HashMap<String, Vec<Transaction>>, FeatureError> {
        let rows = self
            .db
            .query(
                "SELECT payload FROM feature_events WHERE ts < $1 ORDER BY user_id, ts, seq",
                &[before.unwrap_or(i64::MAX).into()],
            )
            .map_err(FeatureError::from)?;
        let mut out: HashMap<String, Vec<Transaction>> = HashMap::new();
        for t in Self::decode(rows)? {
            out.entry(t.user_id.clone()).or_default().push(t);
        }
        Ok(out)
    }

    /// Entities with events after sequence number `seq`, and the highest sequence number.
    pub fn entities_since(&self, seq: i64) -> Result<(Vec<String>, i64), FeatureError> {
        let max = self
            .db
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM feature_events", &[])
            .map_err(FeatureError::from)?
            .int(0)
            .map_err(FeatureError::from)?;
        let rows = self
            .db
            .query(
                "SELECT DISTINCT user_id FROM feature_events WHERE seq > $1 AND seq <= $2 ORDER BY user_id",
                &[seq.into(), max.into()],
            )
            .map_err(FeatureError::from)?;
        let users = rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>().map_err(FeatureError::from)?;
        Ok((users, max))
    }

    pub fn event_count(&self) -> Result<u64, FeatureError> {
        let n = self
            .db
            .query_one("SELECT COUNT(*) FROM feature_events", &[])
            .map_err(FeatureError::from)?
            .int(0)
            .map_err(FeatureError::from)?;
        Ok(n as u64)
    }

    /// The last materialization of `view` over every entity.
    pub fn last_materialization(&self, view: &View) -> Result<Option<Materialization>, FeatureError> {
        self.last_materialization_of(view, Shard::ALL)
    }

    /// The last materialization of `view` by each shard that ran (`""`: unsharded runs), by shard.
    pub fn materializations(&self, view: &View) -> Result<Vec<(String, Materialization)>, FeatureError> {
        let rows = self
            .db
            .query(
                "SELECT shard, last_seq, as_of, entities, seconds, at FROM feature_materializations
                 WHERE view = $1 AND version = $2 ORDER BY shard",
                &[view.name.as_str().into(), view.version.into()],
            )
            .map_err(FeatureError::from)?;
        rows.iter()
            .map(|r| {
                Ok::<_, DbError>((
                    r.text(0)?,
                    Materialization {
                        last_seq: r.int(1)?,
                        as_of: r.int(2)?,
                        entities: r.int(3)? as u64,
                        seconds: r.real(4)?,
                        at: r.text(5)?,
                    },
                ))
            })
            .collect::<Result<_, _>>()
            .map_err(FeatureError::from)
    }

    /// The last materialization of `view` by `shard` (each shard keeps its own cutoff).
    pub fn last_materialization_of(&self, view: &View, shard: Shard) -> Result<Option<Materialization>, FeatureError> {
        let row = self
            .db
            .query_opt(
                "SELECT last_seq, as_of, entities, seconds, at FROM feature_materializations
                 WHERE view = $1 AND version = $2 AND shard = $3",
                &[view.name.as_str().into(), view.version.into(), shard_key(shard).into()],
            )
            .map_err(FeatureError::from)?;
        row.map(|r| {
            Ok::<_, DbError>(Materialization {
                last_seq: r.int(0)?,
                as_of: r.int(1)?,
                entities: r.int(2)? as u64,
                seconds: r.real(3)?,
                at: r.text(4)?,
            })
        })
        .transpose()
        .map_err(FeatureError::from)
    }

    pub fn record_materialization(&self, view: &View, shard: Shard, m: &Materialization) -> Result<(), FeatureError> {
        self.db
            .execute(
                "INSERT INTO feature_materializations (view, version, shard, last_seq, as_of, entities, seconds, at)
                 VALUES ($1, $2, $8, $3, $4, $5, $6, $7)
                 ON CONFLICT (view, version, shard) DO UPDATE SET last_seq = excluded.last_seq, as_of = excluded.as_of,
                    entities = excluded.entities, seconds = excluded.seconds, at = excluded.at",
                &[
                    view.name.as_str().into(),
                    view.version.into(),
                    m.last_seq.into(),
                    m.as_of.into(),
                    (m.entities as i64).into(),
                    m.seconds.into(),
                    m.at.as_str().into(),
                    shard_key(shard).into(),
                ],
            )
            .map_err(FeatureError::from)?;
        Ok(())
    }
}

/// How a shard is stored: '' for every entity, else `i/N`.
fn shard_key(shard: Shard) -> String {
    if shard.is_all() { String::new() } else { shard.to_string() }
}
