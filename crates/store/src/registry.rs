//! Experiment tracking and the model registry: SQLite under the data directory by default,
//! PostgreSQL when `DATABASE_URL` says so (see [`crate::db`]).
//!
//! The schema lives in `migrations/<dialect>/` and is applied when the registry is opened.
//! Promotion to `champion` is gated: a new version must not be worse than the current champion
//! on the same primary metric by more than a margin, unless forced; every alias change, forced or
//! not, is kept in `alias_events`.

use crate::artifacts::Digest;
use crate::db::{Db, DbError, Dialect, Row, Sql};
pub use crate::error::StoreError;
use serde::Serialize;
use std::path::Path;

const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_mlflow.sql"),
    include_str!("../migrations/sqlite/0003_audit.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_mlflow.sql"),
    include_str!("../migrations/postgres/0003_audit.sql"),
];

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What is known about a run when it starts.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub git_commit: Option<String>,
    pub dataset_hash: Option<String>,
    pub dataset_rows: Option<u64>,
    pub params: serde_json::Value,
    pub tags: serde_json::Value,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Finished,
    Failed,
}

/// Text columns that hold one of a few words, as an enum: how each is stored and read back.
macro_rules! stored_enum {
    ($t:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $t {
            /// The word stored in the database (and shown to people).
            pub fn as_str(self) -> &'static str {
                match self { $($t::$variant => $text),+ }
            }
            fn parse(column: usize, text: &str) -> Result<Self, DbError> {
                match text {
                    $($text => Ok($t::$variant),)+
                    other => Err(DbError::ColumnType { index: column, expected: $what, found: format!("{other:?}") }),
                }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum!(RunStatus, "a run status" { Running => "running", Finished => "finished", Failed => "failed" });

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: String,
    pub experiment: String,
    pub status: RunStatus,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub git_commit: Option<String>,
    pub dataset_hash: Option<String>,
    pub dataset_rows: Option<u64>,
    pub params: serde_json::Value,
    pub tags: serde_json::Value,
    /// (key, step, value), ordered by key then step.
    pub metrics: Vec<(String, i64, f64)>,
    pub artifacts: Vec<(String, Digest)>,
    /// Where the run stands with the MLflow mirror.
    pub mlflow_sync: SyncState,
    pub mlflow_run_id: Option<String>,
}

/// A registered model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersion {
    pub model: String,
    pub version: u32,
    pub run_id: String,
    pub digest: Digest,
    pub metric_name: String,
    pub metric: f64,
    pub higher_is_better: bool,
    pub created_at: String,
    pub aliases: Vec<String>,
    /// Where the version stands with the MLflow mirror.
    pub mlflow_sync: SyncState,
    /// The number MLflow gave this version, once mirrored.
    pub mlflow_version: Option<String>,
}

/// What a promotion did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promotion {
    pub promoted: bool,
    pub previous: Option<u32>,
    pub reason: String,
}

/// One change of an alias (the audit trail of promotions and rollbacks).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliasEvent {
    pub alias: String,
    pub version: u32,
    pub previous: Option<u32>,
    /// `promotion`, `forced promotion` or `rollback`.
    pub reason: String,
    pub forced: bool,
    /// Who did it (`cli:<user>`, `training`, `ui:<key fingerprint>`); unknown before schema 3.
    pub actor: Option<String>,
    pub at: String,
}

/// Which runs [`Registry::list_runs`] returns.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// The experiment (the model's registry name).
    pub experiment: Option<String>,
    pub status: Option<RunStatus>,
    /// Runs started at or after this RFC 3339 instant (or date).
    pub since: Option<String>,
    /// Runs started before this RFC 3339 instant (or date).
    pub until: Option<String>,
    /// At most this many, newest first (0: 100).
    pub limit: usize,
}

/// A run in a listing: no params, metrics or artifacts (see [`Registry::run`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub experiment: String,
    pub status: RunStatus,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub git_commit: Option<String>,
    pub dataset_rows: Option<u64>,
}

/// The tracking store and registry.
pub struct Registry {
    db: Db,
}

/// Where a run or version stands with the MLflow mirror: `none` (no MLflow server
/// configured), `pending` (to be sent) or `synced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    None,
    Pending,
    Synced,
}

stored_enum!(SyncState, "an MLflow sync state" { None => "none", Pending => "pending", Synced => "synced" });

const VERSION_COLUMNS: &str =
    "model, version, run_id, digest, metric_name, metric, higher_is_better, created_at, mlflow_sync, mlflow_version";

fn row_to_version(row: &Row) -> Result<ModelVersion, DbError> {
    Ok(ModelVersion {
        model: row.text(0)?,
        version: row.int(1)? as u32,
        run_id: row.text(2)?,
        digest: Digest(row.text(3)?),
        metric_name: row.text(4)?,
        metric: row.real(5)?,
        higher_is_better: row.int(6)? != 0,
        created_at: row.text(7)?,
        aliases: Vec::new(),
        mlflow_sync: SyncState::parse(8, &row.text(8)?)?,
        mlflow_version: row.opt_text(9)?,
    })
}

impl Registry {
    /// Open (creating if needed) the SQLite database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::setup(Db::sqlite(path)?)
    }

    /// Open the database a URL names: `postgres://…` or `sqlite:PATH`.
    pub fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::setup(Db::open_url(url)?)
    }

    /// A registry that lives in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Db::sqlite_in_memory()?)
    }

    fn setup(db: Db) -> Result<Self, StoreError> {
        let migrations = match db.dialect() {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        };
        db.migrate("registry", migrations)?;
        Ok(Registry { db })
    }

    /// Where the registry lives (a path or a URL without its password).
    pub fn location(&self) -> &str {
        &self.db.location
    }

    /// The database, for components that share it (the feature store's offline tables).
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn experiment_id(tx: &mut dyn Sql, name: &str) -> Result<i64, DbError> {
        tx.execute(
            "INSERT INTO experiments (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[name.into(), now().into()],
        )?;
        tx.query_one("SELECT id FROM experiments WHERE name = $1", &[name.into()])?.int(0)
    }

    /// Start a run in `experiment` (created on first use); returns the run id.
    pub fn start_run(&self, experiment: &str, info: &RunInfo) -> Result<String, StoreError> {
        let started = now();
        let id = Digest::of(
            format!("{experiment}/{started}/{}/{:?}", std::process::id(), std::time::Instant::now()).as_bytes(),
        )
        .0[..16]
            .to_string();
        let json = |v: &serde_json::Value| if v.is_null() { "{}".to_string() } else { v.to_string() };
        self.db.transaction(|tx| {
            let exp = Self::experiment_id(tx, experiment)?;
            tx.execute(
                "INSERT INTO runs (id, experiment_id, status, started_at, git_commit, dataset_hash, dataset_rows, params, tags)
                 VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8)",
                &[
                    id.as_str().into(),
                    exp.into(),
                    started.into(),
                    info.git_commit.as_deref().into(),
                    info.dataset_hash.as_deref().into(),
                    info.dataset_rows.map(|r| r as i64).into(),
                    json(&info.params).into(),
                    json(&info.tags).into(),
                ],
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(id)
    }

    /// Record the run's (hyper-)parameters, replacing any given at start.
    pub fn log_params(&self, run: &str, params: &serde_json::Value) -> Result<(), StoreError> {
        self.db.execute("UPDATE runs SET params = $2 WHERE id = $1", &[run.into(), params.to_string().into()])?;
        Ok(())
    }

    pub fn log_metric(&self, run: &str, key: &str, value: f64, step: i64) -> Result<(), StoreError> {
        if !value.is_finite() {
            return Err(StoreError::Invalid(format!("metric {key} = {value} is not a finite number")));
        }
        self.db.execute(
            "INSERT INTO metrics (run_id, key, value, step) VALUES ($1, $2, $3, $4)
             ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value",
            &[run.into(), key.into(), value.into(), step.into()],
        )?;
        Ok(())
    }

    pub fn log_artifact(&self, run: &str, name: &str, digest: &Digest) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO run_artifacts (run_id, name, digest) VALUES ($1, $2, $3)
             ON CONFLICT (run_id, name) DO UPDATE SET digest = excluded.digest",
            &[run.into(), name.into(), digest.0.as_str().into()],
        )?;
        Ok(())
    }

    pub fn finish_run(&self, run: &str, status: RunStatus) -> Result<(), StoreError> {
        let n = self.db.execute(
            "UPDATE runs SET status = $2, ended_at = $3 WHERE id = $1",
            &[run.into(), status.as_str().into(), now().into()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no run {run}")));
        }
        Ok(())
    }

    pub fn run(&self, id: &str) -> Result<RunRecord, StoreError> {
        let row = self
            .db
            .query_opt(
                "SELECT r.id, e.name, r.status, r.started_at, r.ended_at, r.git_commit, r.dataset_hash, r.dataset_rows,
                        r.params, r.tags, r.mlflow_sync, r.mlflow_run_id
                 FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = $1",
                &[id.into()],
            )?
            .ok_or_else(|| StoreError::NotFound(format!("no run {id}")))?;
        let metrics = self
            .db
            .query("SELECT key, step, value FROM metrics WHERE run_id = $1 ORDER BY key, step", &[id.into()])?
            .iter()
            .map(|r| Ok((r.text(0)?, r.int(1)?, r.real(2)?)))
            .collect::<Result<_, DbError>>()?;
        let artifacts = self
            .db
            .query("SELECT name, digest FROM run_artifacts WHERE run_id = $1 ORDER BY name", &[id.into()])?
            .iter()
            .map(|r| Ok((r.text(0)?, Digest(r.text(1)?))))
            .collect::<Result<_, DbError>>()?;
        Ok(RunRecord {
            id: row.text(0)?,
            experiment: row.text(1)?,
            status: RunStatus::parse(2, &row.text(2)?)?,
            started_at: row.text(3)?,
            ended_at: row.opt_text(4)?,
            git_commit: row.opt_text(5)?,
            dataset_hash: row.opt_text(6)?,
            dataset_rows: row.opt_int(7)?.map(|v| v as u64),
            params: serde_json::from_str(&row.text(8)?).unwrap_or_default(),
            tags: serde_json::from_str(&row.text(9)?).unwrap_or_default(),
            metrics,
            artifacts,
            mlflow_sync: SyncState::parse(10, &row.text(10)?)?,
            mlflow_run_id: row.opt_text(11)?,
        })
    }

    /// Register the artifact `digest` of `run` as the next version of `model`.
    pub fn register(
        &self,
        model: &str,
        run: &str,
        digest: &Digest,
        metric_name: &str,
        metric: f64,
        higher_is_better: bool,
    ) -> Result<u32, StoreError> {
        if !metric.is_finite() {
            return Err(StoreError::Invalid(format!("{model}: primary metric {metric_name} = {metric} is not finite")));
        }
        let next = self.db.transaction(|tx| {
            let next = tx
                .query_one("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = $1", &[model.into()])?
                .int(0)?;
            tx.execute(
                "INSERT INTO model_versions (model, version, run_id, digest, metric_name, metric, higher_is_better, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    model.into(),
                    next.into(),
                    run.into(),
                    digest.0.as_str().into(),
                    metric_name.into(),
                    metric.into(),
                    higher_is_better.into(),
                    now().into(),
                ],
            )?;
            Ok::<_, StoreError>(next)
        })?;
        Ok(next as u32)
    }

    /// Every version of `model`, oldest first, with their aliases.
    pub fn versions(&self, model: &str) -> Result<Vec<ModelVersion>, StoreError> {
        let mut out: Vec<ModelVersion> = self
            .db
            .query(
                &format!("SELECT {VERSION_COLUMNS} FROM model_versions WHERE model = $1 ORDER BY version"),
                &[model.into()],
            )?
            .iter()
            .map(row_to_version)
            .collect::<Result<_, _>>()?;
        for (alias, version) in self.aliases(model)? {
            if let Some(v) = out.iter_mut().find(|v| v.version == version) {
                v.aliases.push(alias);
            }
        }
        Ok(out)
    }

    /// Registered model names.
    pub fn models(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.db.query("SELECT DISTINCT model FROM model_versions ORDER BY model", &[])?;
        Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
    }

    /// The version an alias points at.
    pub fn alias(&self, model: &str, alias: &str) -> Result<Option<ModelVersion>, StoreError> {
        let v = self
            .db
            .query_opt("SELECT version FROM aliases WHERE model = $1 AND alias = $2", &[model.into(), alias.into()])?
            .map(|r| r.int(0))
            .transpose()?;
        Ok(match v {
            Some(v) => self.versions(model)?.into_iter().find(|x| i64::from(x.version) == v),
            None => None,
        })
    }

    fn set_alias(
        &self,
        model: &str,
        alias: &str,
        version: u32,
        reason: &str,
        forced: bool,
        actor: Option<&str>,
    ) -> Result<Option<u32>, StoreError> {
        self.db.transaction(|tx| {
            let previous = tx
                .query_opt(
                    "SELECT version FROM aliases WHERE model = $1 AND alias = $2",
                    &[model.into(), alias.into()],
                )?
                .map(|r| r.int(0))
                .transpose()?;
            tx.execute(
                "INSERT INTO aliases (model, alias, version) VALUES ($1, $2, $3)
                 ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                &[model.into(), alias.into(), version.into()],
            )?;
            tx.execute(
                "INSERT INTO alias_events (model, alias, version, previous, reason, forced, at, actor)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    model.into(),
                    alias.into(),
                    version.into(),
                    previous.into(),
                    reason.into(),
                    forced.into(),
                    now().into(),
                    actor.into(),
                ],
            )?;
            Ok::<_, StoreError>(previous.map(|p| p as u32))
        })
    }

    /// Point `alias` at `version`. For `champion` the gate applies: the version must not be
    /// worse than the current champion's primary metric by more than `margin` (same metric),
    /// unless `force`, which is recorded.
    pub fn promote(
        &self,
        model: &str,
        version: u32,
        alias: &str,
        margin: f64,
        force: bool,
    ) -> Result<Promotion, StoreError> {
        self.promote_as(model, version, alias, margin, force, None)
    }

    /// [`Registry::promote`], recording who did it in the alias history.
    pub fn promote_as(
        &self,
        model: &str,
        version: u32,
        alias: &str,
        margin: f64,
        force: bool,
        actor: Option<&str>,
    ) -> Result<Promotion, StoreError> {
        let versions = self.versions(model)?;
        let candidate = versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| StoreError::NotFound(format!("{model} has no version {version}")))?;
        let current = versions.iter().find(|v| v.aliases.iter().any(|a| a == alias));
        // the champion gate: compared on the same primary metric only
        let gated = current.filter(|c| {
            alias == "champion" && !force && c.version != version && c.metric_name == candidate.metric_name
        });
        if let Some(cur) = gated {
            let worse_by =
                if candidate.higher_is_better { cur.metric - candidate.metric } else { candidate.metric - cur.metric };
            if worse_by > margin {
                return Ok(Promotion {
                    promoted: false,
                    previous: Some(cur.version),
                    reason: format!(
                        "{} {:.4} is worse than champion v{}'s {:.4} by {:.4} (margin {margin}); use --force to promote anyway",
                        candidate.metric_name, candidate.metric, cur.version, cur.metric, worse_by
                    ),
                });
            }
        }
        let reason = if force { "forced promotion".to_string() } else { "promotion".to_string() };
        let previous = self.set_alias(model, alias, version, &reason, force, actor)?;
        Ok(Promotion { promoted: true, previous, reason })
    }

    /// Point `alias` back at the version it had before its latest change.
    pub fn rollback(&self, model: &str, alias: &str) -> Result<u32, StoreError> {
        self.rollback_as(model, alias, None)
    }

    /// [`Registry::rollback`], recording who did it in the alias history.
    pub fn rollback_as(&self, model: &str, alias: &str, actor: Option<&str>) -> Result<u32, StoreError> {
        let previous = self
            .db
            .query_opt(
                "SELECT previous FROM alias_events WHERE model = $1 AND alias = $2 ORDER BY id DESC LIMIT 1",
                &[model.into(), alias.into()],
            )?
            .map(|r| r.opt_int(0))
            .transpose()?
            .flatten();
        let target = previous
            .ok_or_else(|| StoreError::NotFound(format!("{model}: {alias} has no earlier version to roll back to")))?
            as u32;
        self.set_alias(model, alias, target, "rollback", false, actor)?;
        Ok(target)
    }

    /// The last `limit` changes of `model`'s aliases, newest first.
    pub fn alias_events(&self, model: &str, limit: usize) -> Result<Vec<AliasEvent>, StoreError> {
        let rows = self.db.query(
            "SELECT alias, version, previous, reason, forced, actor, at FROM alias_events WHERE model = $1
             ORDER BY id DESC LIMIT $2",
            &[model.into(), (limit.min(i64::MAX as usize) as i64).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(AliasEvent {
                    alias: r.text(0)?,
                    version: r.int(1)? as u32,
                    previous: r.opt_int(2)?.map(|v| v as u32),
                    reason: r.text(3)?,
                    forced: r.int(4)? != 0,
                    actor: r.opt_text(5)?,
                    at: r.text(6)?,
                })
            })
            .collect::<Result<_, DbError>>()?)
    }

    /// Runs matching `filter`, newest first.
    pub fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        let mut sql = String::from(
            "SELECT r.id, e.name, r.status, r.started_at, r.ended_at, r.git_commit, r.dataset_rows
             FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE 1 = 1",
        );
        let mut args: Vec<crate::db::Value> = Vec::new();
        let mut cond = |clause: &str, v: crate::db::Value| {
            args.push(v);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        };
        if let Some(e) = &filter.experiment {
            cond("e.name =", e.as_str().into());
        }
        if let Some(s) = filter.status {
            cond("r.status =", s.as_str().into());
        }
        if let Some(t) = &filter.since {
            cond("r.started_at >=", t.as_str().into());
        }
        if let Some(t) = &filter.until {
            cond("r.started_at <", t.as_str().into());
        }
        let limit = if filter.limit == 0 { 100 } else { filter.limit.min(10_000) };
        sql.push_str(&format!(" ORDER BY r.started_at DESC, r.id DESC LIMIT {limit}"));
        let rows = self.db.query(&sql, &args)?;
        rows.iter()
            .map(|r| {
                Ok(RunSummary {
                    id: r.text(0)?,
                    experiment: r.text(1)?,
                    status: RunStatus::parse(2, &r.text(2)?)?,
                    started_at: r.text(3)?,
                    ended_at: r.opt_text(4)?,
                    git_commit: r.opt_text(5)?,
                    dataset_rows: r.opt_int(6)?.map(|v| v as u64),
                })
            })
            .collect::<Result<_, StoreError>>()
    }

    /// How many runs there are.
    pub fn run_count(&self) -> Result<u64, StoreError> {
        Ok(self.db.query_one("SELECT COUNT(*) FROM runs", &[])?.int(0)? as u64)
    }

    /// The number of forced alias changes of `model` (audit).
    pub fn forced_promotions(&self, model: &str) -> Result<u64, StoreError> {
        let n = self
            .db
            .query_one("SELECT COUNT(*) FROM alias_events WHERE model = $1 AND forced = 1", &[model.into()])?
            .int(0)?;
        Ok(n as u64)
    }

    /// Mark a run's MLflow state (and the id MLflow gave it, once known).
    pub fn set_run_sync(&self, run: &str, state: SyncState, mlflow_run_id: Option<&str>) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE runs SET mlflow_sync = $2, mlflow_run_id = COALESCE($3, mlflow_run_id) WHERE id = $1",
            &[run.into(), state.as_str().into(), mlflow_run_id.into()],
        )?;
        Ok(())
    }

    /// Mark a model version's MLflow state (and the version number MLflow gave it, once known).
    pub fn set_version_sync(
        &self,
        model: &str,
        version: u32,
        state: SyncState,
        mlflow_version: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE model_versions SET mlflow_sync = $3, mlflow_version = COALESCE($4, mlflow_version)
             WHERE model = $1 AND version = $2",
            &[model.into(), version.into(), state.as_str().into(), mlflow_version.into()],
        )?;
        Ok(())
    }

    /// Every alias of `model` with the version it points at.
    pub fn aliases(&self, model: &str) -> Result<Vec<(String, u32)>, StoreError> {
        let rows =
            self.db.query("SELECT alias, version FROM aliases WHERE model = $1 ORDER BY alias", &[model.into()])?;
        Ok(rows.iter().map(|r| Ok((r.text(0)?, r.int(1)? as u32))).collect::<Result<_, DbError>>()?)
    }

    /// Runs not yet mirrored to MLflow (ids, oldest first).
    pub fn pending_runs(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.db.query(
            "SELECT id FROM runs WHERE mlflow_sync = 'pending' AND status <> 'running' ORDER BY started_at",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
    }

    /// Model versions not yet mirrored to MLflow, oldest first.
    pub fn pending_versions(&self) -> Result<Vec<ModelVersion>, StoreError> {
        let rows = self.db.query(
            &format!(
                "SELECT {VERSION_COLUMNS} FROM model_versions WHERE mlflow_sync = 'pending' ORDER BY model, version"
            ),
            &[],
        )?;
        Ok(rows.iter().map(row_to_version).collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // the behaviour every backend shares is tested in tests/registry.rs, on SQLite and PostgreSQL

    #[test]
    fn the_database_persists_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/registry.db");
        {
            let (_, _) = (Registry::open(&path).unwrap(), ());
            let r = Registry::open(&path).unwrap();
            let run = r.start_run("intent", &RunInfo::default()).unwrap();
            r.register("intent", &run, &Digest::of(b"x"), "accuracy", 0.9, true).unwrap();
            r.promote("intent", 1, "champion", 0.0, false).unwrap();
        }
        let r = Registry::open(&path).unwrap();
        assert_eq!(r.models().unwrap(), vec!["intent"]);
        assert_eq!(r.alias("intent", "champion").unwrap().unwrap().metric, 0.9);
        // a newer schema than this build knows is refused
        r.db.execute("UPDATE schema_versions SET version = 99 WHERE component = 'registry'", &[]).unwrap();
        drop(r);
        let e = nivesh_core::error_chain(&Registry::open(&path).err().unwrap());
        assert!(e.contains("has version 99"), "{e}");
    }
}
