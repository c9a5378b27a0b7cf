//! The prediction cache: keyed by model, version and the canonical JSON of the input, with the
//! original service's time-to-live per model (intent and NER 1 h, spending 30 min, anomaly
//! 5 min, credit 1 h). Identical concurrent requests are computed once (moka's `try_get_with`).
//! A new model version never sees the old version's entries: the version is in the key.
//! Entries are the serialised responses, weighed by their size: the cache holds at most its
//! byte budget (split evenly between the models), however many requests differ.

use crate::error::ApiError;
use axum::body::Bytes;
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;

pub struct PredictionCache {
    caches: Vec<(&'static str, Cache<String, Cached>)>,
}

/// A cached response: its serialised body and the number statistics summarise.
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub confidence: Option<f64>,
}

fn ttl(model: &str) -> Duration {
    match model {
        "spending" => Duration::from_secs(30 * 60),
        "anomaly" => Duration::from_secs(5 * 60),
        _ => Duration::from_secs(60 * 60),
    }
}

impl PredictionCache {
    /// A cache of at most `budget_bytes` (keys and responses); 0 disables caching.
    pub fn new(budget_bytes: u64) -> Self {
        let per_model = budget_bytes / crate::state::MODELS.len() as u64;
        let caches = if per_model == 0 {
            Vec::new()
        } else {
            crate::state::MODELS
                .iter()
                .map(|m| {
                    let cache = Cache::builder()
                        .max_capacity(per_model)
                        .weigher(|k: &String, v: &Cached| (k.len() + v.body.len() + 64).try_into().unwrap_or(u32::MAX))
                        .time_to_live(ttl(m))
                        .build();
                    (*m, cache)
                })
                .collect()
        };
        PredictionCache { caches }
    }

    fn cache(&self, model: &str) -> Option<&Cache<String, Cached>> {
        self.caches.iter().find(|(m, _)| *m == model).map(|(_, c)| c)
    }

    /// The cached response for `key`, or `compute`'s (stored when it succeeds). Returns whether
    /// it was a hit.
    pub async fn get_or_compute<F>(&self, model: &str, key: String, compute: F) -> Result<(Cached, bool), ApiError>
    where
        F: std::future::Future<Output = Result<Cached, ApiError>>,
    {
        let Some(cache) = self.cache(model) else {
            return compute.await.map(|v| (v, false));
        };
        if let Some(v) = cache.get(&key).await {
            return Ok((v, true));
        }
        cache.try_get_with(key, compute).await.map(|v| (v, false)).map_err(|e: Arc<ApiError>| (*e).clone())
    }

    pub fn clear(&self) {
        for (_, c) in &self.caches {
            c.invalidate_all();
        }
    }
}
