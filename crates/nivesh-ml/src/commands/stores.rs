//! Opening what the configuration points at: the registry and artifact store, the feature
//! store, and the training defaults.

use crate::config::Config;
use anyhow::Context;
use nivesh_features::FeatureStore;
use nivesh_features::definitions::Definitions;
use nivesh_features::offline::OfflineStore;
use nivesh_features::online::OnlineStore;
use nivesh_features::online::embedded::EmbeddedOnlineStore;
use nivesh_features::online::redis::RedisOnlineStore;
use nivesh_store::db::Db;
use nivesh_store::{ArtifactStore, Registry};
use std::path::Path;

/// Key prefix of the Redis online store.
pub const REDIS_PREFIX: &str = "nivesh:fs";

/// The registry (PostgreSQL when DATABASE_URL is set, else SQLite under the data directory)
/// and the artifact store.
pub fn registry(config: &Config) -> anyhow::Result<(Registry, ArtifactStore)> {
    let registry = match &config.database_url {
        Some(url) => Registry::open_url(url).context("opening the registry at DATABASE_URL")?,
        None => {
            let db = config.data_dir.join("registry.db");
            Registry::open(&db).with_context(|| format!("opening {}", db.display()))?
        }
    };
    Ok((registry, ArtifactStore::new(config.model_storage_path.join("artifacts"))))
}

/// The feature store: definitions from `definitions` (or the shipped file); offline events in
/// PostgreSQL (`DATABASE_URL`) or SQLite under the data directory; online values in Redis
/// (`REDIS_URL`/`REDIS_HOST`) or embedded under it.
pub fn features(config: &Config, definitions: Option<&Path>) -> anyhow::Result<FeatureStore> {
    let defs = match definitions {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Definitions::parse(&text, &p.display().to_string())?
        }
        None => Definitions::builtin()?,
    };
    let db = match &config.database_url {
        Some(url) => Db::open_url(url).context("opening the offline store at DATABASE_URL")?,
        None => Db::sqlite(&config.data_dir.join("offline.db"))?,
    };
    let online: Box<dyn OnlineStore> = match &config.redis {
        Some(r) => Box::new(RedisOnlineStore::connect(&r.url, REDIS_PREFIX)?),
        None => Box::new(EmbeddedOnlineStore::open(&config.data_dir.join("online.db"))?),
    };
    Ok(FeatureStore::new(defs, OfflineStore::new(db)?, online)?)
}

/// The monitoring store (prediction log, feedback, drift history): PostgreSQL with
/// `DATABASE_URL`, else `monitoring.db` under the data directory.
pub fn monitor(config: &Config) -> anyhow::Result<nivesh_monitor::log::LogStore> {
    let db = match &config.database_url {
        Some(url) => Db::open_url(url).context("opening the monitoring store at DATABASE_URL")?,
        None => Db::sqlite(&config.data_dir.join("monitoring.db"))?,
    };
    nivesh_monitor::log::LogStore::open(db).context("opening the monitoring store")
}

/// Drift thresholds from the configuration.
pub fn drift_options(config: &Config) -> nivesh_monitor::drift::Options {
    nivesh_monitor::drift::Options { drift_share: config.drift_share, psi_threshold: config.drift_alert_threshold }
}

/// The configuration's defaults for every training run.
pub fn training_defaults(config: &Config) -> nivesh_training::Defaults {
    nivesh_training::Defaults {
        intent_confidence_threshold: config.intent_confidence_threshold,
        intent_embeddings: config.intent_embeddings.clone(),
        ner_embeddings: config.ner_embeddings.clone(),
        anomaly_contamination: config.anomaly_contamination,
        credit_risk_threshold: config.credit_risk_threshold,
    }
}

/// What the pipeline writes to, as configured.
pub struct Stores {
    pub registry: Registry,
    pub artifacts: ArtifactStore,
    /// The feature store, or why it could not be opened (e.g. Redis is down): then the
    /// transaction models fail, saying so, and the others train.
    pub features: Result<FeatureStore, String>,
}

impl Stores {
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        let (registry, artifacts) = registry(config)?;
        let features = features(config, None).map_err(|e| format!("{e:#}"));
        Ok(Stores { registry, artifacts, features })
    }

    pub fn pipeline<'a>(&'a self, config: &'a Config) -> nivesh_training::Pipeline<'a> {
        let features = match &self.features {
            Ok(fs) => nivesh_training::Features::Store(fs),
            Err(why) => nivesh_training::Features::Unavailable(why),
        };
        nivesh_training::Pipeline {
            registry: &self.registry,
            artifacts: &self.artifacts,
            features,
            mlflow_uri: config.mlflow_tracking_uri.as_deref(),
        }
    }
}
