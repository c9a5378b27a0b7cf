//! Experiment tracking and the model registry, in SQLite (`<data dir>/registry.db`).
//!
//! The schema lives in `migrations/` and is applied when the database is opened (SQLite's
//! `user_version` records how far). Promotion to `champion` is gated: a new version must not be
//! worse than the current champion on the same primary metric by more than a margin, unless
//! forced; every alias change, forced or not, is kept in `alias_events`.

use crate::artifacts::Digest;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;

const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: corrupt artifact: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("registry database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io { path: path.display().to_string(), source }
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Finished,
    Failed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: String,
    pub experiment: String,
    pub status: String,
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
}

/// What a promotion did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promotion {
    pub promoted: bool,
    pub previous: Option<u32>,
    pub reason: String,
}

/// The tracking store and registry.
pub struct Registry {
    conn: Connection,
}

impl Registry {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::setup(conn)
    }

    /// A registry that lives in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::Invalid(format!(
                "the registry database has schema version {version}; this build knows up to {known}: upgrade nivesh-ml"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(Registry { conn })
    }

    fn experiment_id(&self, name: &str) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO experiments (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, now()],
        )?;
        Ok(self.conn.query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| r.get(0))?)
    }

    /// Start a run in `experiment` (created on first use); returns the run id.
    pub fn start_run(&self, experiment: &str, info: &RunInfo) -> Result<String, StoreError> {
        let exp = self.experiment_id(experiment)?;
        let started = now();
        let id = Digest::of(
            format!("{experiment}/{started}/{}/{:?}", std::process::id(), std::time::Instant::now()).as_bytes(),
        )
        .0[..16]
            .to_string();
        let json = |v: &serde_json::Value| if v.is_null() { "{}".to_string() } else { v.to_string() };
        self.conn.execute(
            "INSERT INTO runs (id, experiment_id, status, started_at, git_commit, dataset_hash, dataset_rows, params, tags)
             VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                exp,
                started,
                info.git_commit,
                info.dataset_hash,
                info.dataset_rows.map(|r| r as i64),
                json(&info.params),
                json(&info.tags)
            ],
        )?;
        Ok(id)
    }

    /// Record the run's (hyper-)parameters, replacing any given at start.
    pub fn log_params(&self, run: &str, params: &serde_json::Value) -> Result<(), StoreError> {
        self.conn.execute("UPDATE runs SET params = ?2 WHERE id = ?1", params![run, params.to_string()])?;
        Ok(())
    }

    pub fn log_metric(&self, run: &str, key: &str, value: f64, step: i64) -> Result<(), StoreError> {
        if !value.is_finite() {
            return Err(StoreError::Invalid(format!("metric {key} = {value} is not a finite number")));
        }
        self.conn.execute(
            "INSERT INTO metrics (run_id, key, value, step) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(run_id, key, step) DO UPDATE SET value = excluded.value",
            params![run, key, value, step],
        )?;
        Ok(())
    }

    pub fn log_artifact(&self, run: &str, name: &str, digest: &Digest) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO run_artifacts (run_id, name, digest) VALUES (?1, ?2, ?3)
             ON CONFLICT(run_id, name) DO UPDATE SET digest = excluded.digest",
            params![run, name, digest.0],
        )?;
        Ok(())
    }

    pub fn finish_run(&self, run: &str, status: RunStatus) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE runs SET status = ?2, ended_at = ?3 WHERE id = ?1",
            params![run, status.as_str(), now()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no run {run}")));
        }
        Ok(())
    }

    pub fn run(&self, id: &str) -> Result<RunRecord, StoreError> {
        let mut r = self
            .conn
            .query_row(
                "SELECT r.id, e.name, r.status, r.started_at, r.ended_at, r.git_commit, r.dataset_hash, r.dataset_rows, r.params, r.tags
                 FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1",
                [id],
                |row| {
                    let params: String = row.get(8)?;
                    let tags: String = row.get(9)?;
                    Ok(RunRecord {
                        id: row.get(0)?,
                        experiment: row.get(1)?,
                        status: row.get(2)?,
                        started_at: row.get(3)?,
                        ended_at: row.get(4)?,
                        git_commit: row.get(5)?,
                        dataset_hash: row.get(6)?,
                        dataset_rows: row.get::<_, Option<i64>>(7)?.map(|v| v as u64),
                        params: serde_json::from_str(&params).unwrap_or_default(),
                        tags: serde_json::from_str(&tags).unwrap_or_default(),
                        metrics: Vec::new(),
                        artifacts: Vec::new(),
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no run {id}")))?;
        let mut st = self.conn.prepare("SELECT key, step, value FROM metrics WHERE run_id = ?1 ORDER BY key, step")?;
        r.metrics = st.query_map([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?.collect::<Result<_, _>>()?;
        let mut st = self.conn.prepare("SELECT name, digest FROM run_artifacts WHERE run_id = ?1 ORDER BY name")?;
        r.artifacts =
            st.query_map([id], |row| Ok((row.get::<_, String>(0)?, Digest(row.get(1)?))))?.collect::<Result<_, _>>()?;
        Ok(r)
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
        let tx = self.conn.unchecked_transaction()?;
        let next: u32 =
            tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = ?1", [model], |r| {
                r.get(0)
            })?;
        tx.execute(
            "INSERT INTO model_versions (model, version, run_id, digest, metric_name, metric, higher_is_better, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![model, next, run, digest.0, metric_name, metric, higher_is_better, now()],
        )?;
        tx.commit()?;
        Ok(next)
    }

    fn row_to_version(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<ModelVersion> {
        Ok(ModelVersion {
            model: row.get(0)?,
            version: row.get(1)?,
            run_id: row.get(2)?,
            digest: Digest(row.get(3)?),
            metric_name: row.get(4)?,
            metric: row.get(5)?,
            higher_is_better: row.get(6)?,
            created_at: row.get(7)?,
            aliases: Vec::new(),
        })
    }

    /// Every version of `model`, oldest first, with their aliases.
    pub fn versions(&self, model: &str) -> Result<Vec<ModelVersion>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT model, version, run_id, digest, metric_name, metric, higher_is_better, created_at
             FROM model_versions WHERE model = ?1 ORDER BY version",
        )?;
        let mut out: Vec<ModelVersion> =
            st.query_map([model], |row| self.row_to_version(row))?.collect::<Result<_, _>>()?;
        let mut st = self.conn.prepare("SELECT alias, version FROM aliases WHERE model = ?1 ORDER BY alias")?;
        for a in st.query_map([model], |row| Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?)))? {
            let (alias, version) = a?;
            if let Some(v) = out.iter_mut().find(|v| v.version == version) {
                v.aliases.push(alias);
            }
        }
        Ok(out)
    }

    /// Registered model names.
    pub fn models(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self.conn.prepare("SELECT DISTINCT model FROM model_versions ORDER BY model")?;
        Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
    }

    /// The version an alias points at.
    pub fn alias(&self, model: &str, alias: &str) -> Result<Option<ModelVersion>, StoreError> {
        let v: Option<u32> = self
            .conn
            .query_row("SELECT version FROM aliases WHERE model = ?1 AND alias = ?2", [model, alias], |r| r.get(0))
            .optional()?;
        Ok(match v {
            Some(v) => self.versions(model)?.into_iter().find(|x| x.version == v),
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
    ) -> Result<Option<u32>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let previous: Option<u32> = tx
            .query_row("SELECT version FROM aliases WHERE model = ?1 AND alias = ?2", [model, alias], |r| r.get(0))
            .optional()?;
        tx.execute(
            "INSERT INTO aliases (model, alias, version) VALUES (?1, ?2, ?3)
             ON CONFLICT(model, alias) DO UPDATE SET version = excluded.version",
            params![model, alias, version],
        )?;
        tx.execute(
            "INSERT INTO alias_events (model, alias, version, previous, reason, forced, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![model, alias, version, previous, reason, forced, now()],
        )?;
        tx.commit()?;
        Ok(previous)
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
        let previous = self.set_alias(model, alias, version, &reason, force)?;
        Ok(Promotion { promoted: true, previous, reason })
    }

    /// Point `alias` back at the version it had before its latest change.
    pub fn rollback(&self, model: &str, alias: &str) -> Result<u32, StoreError> {
        let previous: Option<Option<u32>> = self
            .conn
            .query_row(
                "SELECT previous FROM alias_events WHERE model = ?1 AND alias = ?2 ORDER BY id DESC LIMIT 1",
                [model, alias],
                |r| r.get(0),
            )
            .optional()?;
        let target = previous
            .flatten()
            .ok_or_else(|| StoreError::NotFound(format!("{model}: {alias} has no earlier version to roll back to")))?;
        self.set_alias(model, alias, target, "rollback", false)?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg_with_versions(metrics: &[f64]) -> (Registry, String) {
        let r = Registry::open_in_memory().unwrap();
        let run = r.start_run("credit", &RunInfo::default()).unwrap();
        for (i, m) in metrics.iter().enumerate() {
            let v = r.register("credit", &run, &Digest::of(&[i as u8]), "auc_roc", *m, true).unwrap();
            assert_eq!(v, i as u32 + 1);
        }
        (r, run)
    }

    #[test]
    fn runs_keep_params_metrics_with_steps_and_artifacts() {
        let r = Registry::open_in_memory().unwrap();
        let info = RunInfo {
            git_commit: Some("abc123".into()),
            dataset_hash: Some("f00d".into()),
            dataset_rows: Some(6000),
            params: serde_json::json!({"iterations": 200}),
            tags: serde_json::json!({"trigger": "cli"}),
        };
        let id = r.start_run("credit", &info).unwrap();
        r.log_metric(&id, "loss", 0.5, 1).unwrap();
        r.log_metric(&id, "loss", 0.4, 2).unwrap();
        r.log_metric(&id, "auc_roc", 0.79, 0).unwrap();
        assert!(r.log_metric(&id, "auc_roc", f64::NAN, 1).is_err());
        r.log_artifact(&id, "model", &Digest::of(b"m")).unwrap();
        r.log_params(&id, &serde_json::json!({"iterations": 300})).unwrap();
        r.finish_run(&id, RunStatus::Finished).unwrap();
        let run = r.run(&id).unwrap();
        assert_eq!(run.status, "finished");
        assert_eq!(run.experiment, "credit");
        assert_eq!(run.dataset_rows, Some(6000));
        assert_eq!(run.params["iterations"], 300);
        assert_eq!(run.metrics, vec![("auc_roc".into(), 0, 0.79), ("loss".into(), 1, 0.5), ("loss".into(), 2, 0.4)]);
        assert_eq!(run.artifacts, vec![("model".into(), Digest::of(b"m"))]);
        assert!(r.finish_run("nope", RunStatus::Failed).is_err());
    }

    #[test]
    fn the_gate_keeps_the_better_champion_and_force_is_recorded() {
        let (r, _) = reg_with_versions(&[0.80, 0.70, 0.795]);
        assert!(r.promote("credit", 1, "champion", 0.01, false).unwrap().promoted);
        let p = r.promote("credit", 2, "champion", 0.01, false).unwrap();
        assert!(!p.promoted && p.reason.contains("worse than champion v1"), "{p:?}");
        assert_eq!(r.alias("credit", "champion").unwrap().unwrap().version, 1);
        // within the margin: promoted
        assert!(r.promote("credit", 3, "champion", 0.01, false).unwrap().promoted);
        // forced
        let p = r.promote("credit", 2, "champion", 0.01, true).unwrap();
        assert!(p.promoted && p.previous == Some(3) && p.reason == "forced promotion");
        let forced: i64 =
            r.conn.query_row("SELECT COUNT(*) FROM alias_events WHERE forced = 1", [], |row| row.get(0)).unwrap();
        assert_eq!(forced, 1);
        // any alias name works and is not gated
        assert!(r.promote("credit", 2, "challenger", 0.0, false).unwrap().promoted);
        assert_eq!(r.versions("credit").unwrap()[1].aliases, vec!["challenger", "champion"]);
        assert!(r.promote("credit", 9, "champion", 0.0, false).is_err());
    }

    #[test]
    fn rollback_returns_to_the_previous_champion() {
        let (r, _) = reg_with_versions(&[0.80, 0.81]);
        r.promote("credit", 1, "champion", 0.0, false).unwrap();
        r.promote("credit", 2, "champion", 0.0, false).unwrap();
        assert_eq!(r.rollback("credit", "champion").unwrap(), 1);
        assert_eq!(r.alias("credit", "champion").unwrap().unwrap().version, 1);
        let (fresh, _) = reg_with_versions(&[0.8]);
        fresh.promote("credit", 1, "champion", 0.0, false).unwrap();
        assert!(fresh.rollback("credit", "champion").unwrap_err().to_string().contains("no earlier version"));
    }

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
        r.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(r);
        let e = Registry::open(&path).err().unwrap().to_string();
        assert!(e.contains("schema version 99"), "{e}");
    }
}
