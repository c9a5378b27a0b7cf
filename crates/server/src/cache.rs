//! The prediction cache: keyed by model, version and the canonical JSON of the input, with the
//! original service's time-to-live per model (intent and NER 1 h, spending 30 min, anomaly
//! 5 min, credit 1 h). Identical concurrent requests are computed once (moka's `try_get_with`).
//! A new model version never sees the old version's entries: the version is in the key.

use crate::error::ApiError;
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;

pub struct PredictionCache {
    caches: Vec<(&'static str, Cache<String, Arc<serde_json::Value>>)>,
}

fn ttl(model: &str) -> Duration {
    match model {
        "spending" => Duration::from_secs(30 * 60),
        "anomaly" => Duration::from_secs(5 * 60),
        _ => Duration::from_secs(60 * 60),
    }
}

impl PredictionCache {
    pub fn new(capacity: u64) -> Self {
        let caches = crate::state::MODELS
            .iter()
            .map(|m| (*m, Cache::builder().max_capacity(capacity.max(1)).time_to_live(ttl(m)).build()))
            .collect();
        PredictionCache { caches }
    }

    fn cache(&self, model: &str) -> Option<&Cache<String, Arc<serde_json::Value>>> {
        self.caches.iter().find(|(m, _)| *m == model).map(|(_, c)| c)
    }

    /// The cached response for `key`, or `compute`'s (stored when it succeeds). Returns whether
    /// it was a hit.
    pub async fn get_or_compute<F>(
        &self,
        model: &str,
        key: String,
        compute: F,
    ) -> Result<(Arc<serde_json::Value>, bool), ApiError>
    where
        F: std::future::Future<Output = Result<serde_json::Value, ApiError>>,
    {
        let Some(cache) = self.cache(model) else {
            return compute.await.map(|v| (Arc::new(v), false));
        };
        if let Some(v) = cache.get(&key).await {
            return Ok((v, true));
        }
        cache
            .try_get_with(key, async { compute.await.map(Arc::new) })
            .await
            .map(|v| (v, false))
            .map_err(|e: Arc<ApiError>| (*e).clone())
    }

    pub fn clear(&self) {
        for (_, c) in &self.caches {
            c.invalidate_all();
        }
    }
}
