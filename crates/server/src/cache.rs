//! The prediction cache: keyed by model, version and the canonical JSON of the input, with the
//! original service's time-to-live per model ([`ModelKind::cache_ttl`]: intent, NER and credit
//! 1 h, spending 30 min, anomaly 5 min). Identical concurrent requests are computed once (moka's `try_get_with`).
//! A new model version never sees the old version's entries: the version is in the key.
//! Entries are the serialised responses, weighed by their size: the cache holds at most its
//! byte budget (split evenly between the models), however many requests differ.
//!
//! With Redis configured, it is a second level shared by replicas (`nivesh:cache:v2:<model>:<sha256
//! of the key>`, same TTLs): a local miss asks Redis before computing, and a computed response
//! is written back. Redis trouble never fails a request: the call is bypassed (50 ms budget),
//! `healthy()` turns false and `/health` reports the cache degraded.

use crate::error::ApiError;
use axum::body::Bytes;
use moka::future::Cache;
use nivesh_models::ModelKind;
use std::sync::Arc;
use std::time::Duration;

pub struct PredictionCache {
    /// One per model, indexed by [`ModelKind::index`]; empty when caching is off.
    caches: Vec<Cache<String, Cached>>,
    redis: Option<RedisLevel>,
}

struct RedisLevel {
    conn: redis::aio::ConnectionManager,
    healthy: std::sync::atomic::AtomicBool,
    location: String,
}

const REDIS_BUDGET: Duration = Duration::from_millis(50);

/// What an entry costs beyond its key and bytes: moka's bookkeeping (the entry's `Arc`, its
/// access-order and time-to-live nodes, the hash table's slot), the four separate allocations
/// and the allocator's rounding. Measured: with 64 here, a full 32 MiB budget held ~55 MB of
/// resident memory (`docs/BENCHMARKS.md`, "Where the memory went").
const ENTRY_OVERHEAD: usize = 384;

/// A cached answer: the model's serialised output, the number statistics summarise, and (when
/// the prediction log is on) what monitoring observes of it, as JSON.
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub confidence: Option<f64>,
    pub observation: Option<Bytes>,
}

impl Cached {
    /// The shared level's value: the observation's JSON (or nothing), a newline, the body.
    /// Serialised JSON holds no raw newline, so the first one separates them.
    fn encode(&self) -> Bytes {
        let obs = self.observation.as_deref().unwrap_or_default();
        let mut v = Vec::with_capacity(obs.len() + 1 + self.body.len());
        v.extend_from_slice(obs);
        v.push(b'\n');
        v.extend_from_slice(&self.body);
        Bytes::from(v)
    }

    fn decode(value: Bytes) -> Option<Cached> {
        let at = value.iter().position(|&b| b == b'\n')?;
        let observation = (at > 0).then(|| value.slice(..at));
        Some(Cached { body: value.slice(at + 1..), confidence: None, observation })
    }
}

impl PredictionCache {
    /// A cache of at most `budget_bytes` (keys and responses); 0 disables caching.
    pub fn new(budget_bytes: u64) -> Self {
        let per_model = budget_bytes / ModelKind::ALL.len() as u64;
        let caches = if per_model == 0 {
            Vec::new()
        } else {
            ModelKind::ALL
                .iter()
                .map(|kind| {
                    Cache::builder()
                        .max_capacity(per_model)
                        .weigher(|k: &String, v: &Cached| {
                            let obs = v.observation.as_ref().map_or(0, Bytes::len);
                            (k.len() + v.body.len() + obs + ENTRY_OVERHEAD).try_into().unwrap_or(u32::MAX)
                        })
                        .time_to_live(kind.cache_ttl())
                        .build()
                })
                .collect()
        };
        PredictionCache { caches, redis: None }
    }

    /// Add Redis at `url` as the shared second level. Fails only if the URL is malformed; an
    /// unreachable server is reported by `healthy()` and bypassed.
    pub async fn add_redis(&mut self, url: &str) -> anyhow::Result<()> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_BUDGET * 20))
            .set_response_timeout(Some(REDIS_BUDGET))
            .set_number_of_retries(1);
        let conn = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        self.redis = Some(RedisLevel {
            conn,
            healthy: std::sync::atomic::AtomicBool::new(true),
            location: nivesh_core::redact::redact_url(url),
        });
        Ok(())
    }

    /// `None` without Redis; else whether its last call worked, and where it is.
    pub fn redis_status(&self) -> Option<(bool, String)> {
        self.redis.as_ref().map(|r| (r.healthy.load(std::sync::atomic::Ordering::Relaxed), r.location.clone()))
    }

    /// PING Redis now (for `/health`), updating the health flag.
    pub async fn ping_redis(&self) -> Option<Result<(), String>> {
        let r = self.redis.as_ref()?;
        let mut c = r.conn.clone();
        let res = tokio::time::timeout(REDIS_BUDGET * 4, redis::cmd("PING").query_async::<String>(&mut c)).await;
        let ok = matches!(res, Ok(Ok(_)));
        r.healthy.store(ok, std::sync::atomic::Ordering::Relaxed);
        Some(if ok { Ok(()) } else { Err("no answer to PING".into()) })
    }

    fn redis_key(model: ModelKind, key: &str) -> String {
        use sha2::Digest;
        let h = sha2::Sha256::digest(key.as_bytes());
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        // v2: entries are a model's output without `model_version` (v1 held whole responses);
        // a replica of another release sharing this Redis never reads the other's entries
        format!("nivesh:cache:v2:{model}:{hex}")
    }

    async fn redis_get(&self, model: ModelKind, key: &str) -> Option<Bytes> {
        let r = self.redis.as_ref()?;
        let mut c = r.conn.clone();
        let got = tokio::time::timeout(
            REDIS_BUDGET,
            redis::cmd("GET").arg(Self::redis_key(model, key)).query_async::<Option<Vec<u8>>>(&mut c),
        )
        .await;
        match got {
            Ok(Ok(v)) => {
                r.healthy.store(true, std::sync::atomic::Ordering::Relaxed);
                v.map(Bytes::from)
            }
            _ => {
                r.healthy.store(false, std::sync::atomic::Ordering::Relaxed);
                None
            }
        }
    }

    fn redis_put(&self, model: ModelKind, key: &str, body: &Bytes) {
        let Some(r) = self.redis.as_ref() else { return };
        if !r.healthy.load(std::sync::atomic::Ordering::Relaxed) {
            // the next successful GET or PING turns it back on
            return;
        }
        let mut c = r.conn.clone();
        let k = Self::redis_key(model, key);
        let ttl = model.cache_ttl().as_secs();
        let body = body.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                REDIS_BUDGET,
                redis::cmd("SETEX").arg(k).arg(ttl).arg(body.as_ref()).query_async::<()>(&mut c),
            )
            .await;
        });
    }

    fn cache(&self, model: ModelKind) -> Option<&Cache<String, Cached>> {
        self.caches.get(model.index())
    }

    /// The cached response for `key`, or `compute`'s (stored when it succeeds). Returns whether
    /// it was a hit.
    pub async fn get_or_compute<F>(&self, model: ModelKind, key: String, compute: F) -> Result<(Cached, bool), ApiError>
    where
        F: std::future::Future<Output = Result<Cached, ApiError>>,
    {
        let Some(cache) = self.cache(model) else {
            return compute.await.map(|v| (v, false));
        };
        if let Some(v) = cache.get(&key).await {
            return Ok((v, true));
        }
        let shared_hit = std::sync::atomic::AtomicBool::new(false);
        let fill = async {
            if let Some(shared) = self.redis_get(model, &key).await.and_then(Cached::decode) {
                shared_hit.store(true, std::sync::atomic::Ordering::Relaxed);
                return Ok(shared);
            }
            let fresh = compute.await?;
            self.redis_put(model, &key, &fresh.encode());
            Ok(fresh)
        };
        let v = cache.try_get_with(key.clone(), fill).await.map_err(|e: Arc<ApiError>| (*e).clone())?;
        Ok((v, shared_hit.load(std::sync::atomic::Ordering::Relaxed)))
    }

    /// Empty the local caches and, with Redis, the shared entries.
    pub async fn clear(&self) {
        for c in &self.caches {
            c.invalidate_all();
        }
        if let Some(r) = &self.redis {
            let mut c = r.conn.clone();
            // SCAN in pages and UNLINK each page: neither blocks Redis on a large keyspace
            let sweep = async move {
                let mut cursor: u64 = 0;
                loop {
                    let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg("nivesh:cache:*")
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await?;
                    if !keys.is_empty() {
                        redis::cmd("UNLINK").arg(keys).query_async::<()>(&mut c).await?;
                    }
                    if next == 0 {
                        return Ok::<(), redis::RedisError>(());
                    }
                    cursor = next;
                }
            };
            let _ = tokio::time::timeout(REDIS_BUDGET * 20, sweep).await;
        }
    }
}
