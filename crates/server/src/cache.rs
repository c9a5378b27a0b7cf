//! The prediction cache: keyed by model, version and the canonical JSON of the input, with the
//! original service's time-to-live per model ([`ModelKind::cache_ttl`]: intent, NER and credit
//! 1 h, spending 30 min, anomaly 5 min). Identical concurrent requests are computed once (the
//! first holds a placeholder, the others wait for its value; if it fails, the next computes) —
//! twice when they are a key's first asking under the default admission (below): one is told it
//! is new and is not kept.
//! A new model version never sees the old version's entries: the version is in the key.
//! Entries are the serialised responses, weighed by their size: the cache holds at most its
//! byte budget (split evenly between the models), however many requests differ.
//!
//! Locally an entry is found by a 128-bit hash of its key: two 64-bit digests of std's keyed
//! hasher (SipHash-1-3 in today's std; a pseudo-random function of its input under a key drawn
//! at random when the process starts), one of the key's text prefixed with a zero byte, one
//! prefixed with a one. The text is not stored; the chance that two different requests share a
//! hash is about n² / 2¹²⁹ for n entries, and a caller who does not know the process's key cannot
//! aim for a collision. The store is `quick_cache` (S3-FIFO eviction, sharded locks, weighed entries); an
//! entry past its time to live is dropped when next asked for (only that entry: a computation
//! under way for the same key is left alone), and counts as a miss.
//!
//! Limits: the budget is split between the models and then between quick_cache's shards (four
//! per core, rounded up to a power of two), and an answer heavier than about one shard's share
//! is not kept (16 MiB on 2 cores: ~400 KB; on 16 cores ~50 KB — far above any answer here but
//! a batch's). When the request computing an answer fails or is cancelled, the next identical
//! request waiting for it computes in its turn (moka gave every waiter the first error), so
//! identical failing requests run one after another, each within the request timeout.
//! Requests that waited for another's computation count as hits.
//!
//! Admission: by default an answer is kept only when its key was asked for before, since the
//! doorkeeper was last emptied (a Bloom filter of 2²⁰ bits, 128 KiB, shared by the five models,
//! emptied every [`Doorkeeper::WINDOW`] new keys: the "doorkeeper" of TinyLFU, Einziger et al.,
//! used here alone as a cache-on-second-request rule). Traffic where every request differs (a
//! new applicant, a new transaction) then leaves the cache empty instead of filling its budget
//! with answers nobody asks for again; the cost is a key's second asking, computed (or, with
//! Redis, read from Redis) where it would have been a local hit. [`Admission::All`] keeps every
//! answer (`serve --cache-admit all`).
//!
//! With Redis configured, it is a second level shared by replicas (`nivesh:cache:v2:<model>:<sha256
//! of the key>`, same TTLs): a local miss asks Redis before computing, and a computed response
//! is written back. Redis trouble never fails a request: the call is bypassed (50 ms budget),
//! `healthy()` turns false and `/health` reports the cache degraded. An answer read from Redis is
//! kept locally only for what it has left to live there (`PTTL`, read with the `GET`).

use crate::error::ApiError;
use axum::body::Bytes;
use nivesh_models::ModelKind;
use nivesh_monitor::log::Observed;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

type Store = quick_cache::sync::Cache<u128, Entry, Weigh>;

/// Which answers the cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Admission {
    /// Only answers to a request asked for before (within the doorkeeper's window).
    #[default]
    Repeated,
    /// Every answer, asked for once or not.
    All,
}

/// The keys asked for lately: a blocked Bloom filter (three bits a key, all in one 64-bit word,
/// from the key's own 128-bit pseudo-random hash) emptied after [`Doorkeeper::WINDOW`] new keys.
/// One word a key makes the answer one atomic operation: of concurrent first askings of a key,
/// exactly one is told it is new (unless the filter is emptied between them). A key lost to the emptying, or one of the ~0.8 % false
/// positives at the window's end, is only kept a request late, or early.
struct Doorkeeper {
    words: Box<[AtomicU64]>,
    /// New keys since it was last emptied.
    added: AtomicUsize,
    window: usize,
}

impl Doorkeeper {
    /// 2¹⁴ words: 2²⁰ bits, 128 KiB.
    const WORDS_LOG2: u32 = 14;
    const WINDOW: usize = 1 << 16;

    fn new(window: usize) -> Doorkeeper {
        let words = (0..1usize << Self::WORDS_LOG2).map(|_| AtomicU64::new(0)).collect();
        Doorkeeper { words, added: AtomicUsize::new(0), window }
    }

    /// Note `key`; whether it had been noted before.
    fn seen_before(&self, key: u128) -> bool {
        let word = &self.words[(key as usize) & ((1 << Self::WORDS_LOG2) - 1)];
        let bit = |i: u32| 1u64 << ((key >> (Self::WORDS_LOG2 + 6 * i)) & 63);
        let flags = bit(0) | bit(1) | bit(2);
        // a plain read first: a key seen before writes nothing
        if word.load(Ordering::Relaxed) & flags == flags || word.fetch_or(flags, Ordering::Relaxed) & flags == flags {
            return true;
        }
        // exactly one caller sees the count reach the window, and empties the filter
        if self.added.fetch_add(1, Ordering::Relaxed) + 1 == self.window {
            self.clear();
        }
        false
    }

    fn clear(&self) {
        for w in self.words.iter() {
            w.store(0, Ordering::Relaxed);
        }
        self.added.store(0, Ordering::Relaxed);
    }
}

pub struct PredictionCache {
    /// One per model, indexed by [`ModelKind::index`]; empty when caching is off.
    caches: Vec<Store>,
    /// The keyed hasher that makes an entry's 128-bit key.
    hasher: std::hash::RandomState,
    /// Each model's time to live, by [`ModelKind::index`].
    ttl: Vec<Duration>,
    redis: Option<RedisLevel>,
    /// `None`: every answer is kept ([`Admission::All`]).
    doorkeeper: Option<Doorkeeper>,
}

/// An entry: the answer, and when it stops being served.
#[derive(Clone)]
struct Entry {
    value: Cached,
    expires: Instant,
    /// [`Weigh`]'s answer, computed once: the cache asks for it each time it moves the entry.
    weight: u64,
}

/// An entry's weight: its bytes and [`ENTRY_OVERHEAD`].
#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<u128, Entry> for Weigh {
    fn weight(&self, _key: &u128, e: &Entry) -> u64 {
        e.weight
    }
}

impl Entry {
    fn new(value: Cached, expires: Instant) -> Entry {
        let obs = value.observation.as_ref().map_or(0, Observed::size);
        let weight = (value.body.len() + obs + ENTRY_OVERHEAD) as u64;
        Entry { value, expires, weight }
    }
}

struct RedisLevel {
    conn: redis::aio::ConnectionManager,
    healthy: std::sync::atomic::AtomicBool,
    location: String,
}

const REDIS_BUDGET: Duration = Duration::from_millis(50);

/// An odd constant (2¹²⁸ / φ) that spreads a small number over all 128 bits.
const SPREAD: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;

/// What an entry costs beyond its bytes: its slot in the store (the 16-byte key, the entry, the
/// hash table's and the eviction queues' share), the shared headers of its two `Bytes` and the
/// allocator's rounding of their buffers (`docs/BENCHMARKS.md`, "Where the memory went").
const ENTRY_OVERHEAD: usize = 256;

/// An answer, and whether it came from the shared level: `Some` with what it has left to live
/// there (`Duration::MAX`: no expiry), `None` when computed here.
struct Found {
    value: Cached,
    shared: Option<Duration>,
}

/// A cached answer: the model's serialised output, the number statistics summarise, and (when
/// the prediction log is on) what monitoring observes of it (serialised by the log's writer,
/// not here: [`Observed`]).
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub confidence: Option<f64>,
    pub observation: Option<Observed>,
}

impl Cached {
    /// The shared level's value: the observation's JSON (or nothing), a newline, the body.
    /// Serialised JSON holds no raw newline, so the first one separates them. `None` when the
    /// observation does not serialise (the answer is then not shared).
    fn encode(&self) -> Option<Bytes> {
        let obs = self.observation.as_ref().map(Observed::json).transpose().ok()?.unwrap_or_default();
        let mut v = Vec::with_capacity(obs.len() + 1 + self.body.len());
        v.extend_from_slice(&obs);
        v.push(b'\n');
        v.extend_from_slice(&self.body);
        Some(Bytes::from(v))
    }

    fn decode(value: Bytes) -> Option<Cached> {
        let at = value.iter().position(|&b| b == b'\n')?;
        let observation = (at > 0).then(|| Observed::Json(value.slice(..at)));
        Some(Cached { body: value.slice(at + 1..), confidence: None, observation })
    }
}

impl PredictionCache {
    /// A cache of at most `budget_bytes` (responses, each with [`ENTRY_OVERHEAD`]); 0 disables
    /// caching. Answers are admitted as `admission` says.
    pub fn new(budget_bytes: u64, admission: Admission) -> Self {
        let per_model = budget_bytes / ModelKind::ALL.len() as u64;
        let caches = if per_model == 0 {
            Vec::new()
        } else {
            // sized for entries of about a kilobyte; the weight bound is what holds
            let items = (per_model / 1024).clamp(16, 1 << 20) as usize;
            ModelKind::ALL.iter().map(|_| Store::with_weighter(items, per_model, Weigh)).collect()
        };
        let ttl = ModelKind::ALL.iter().map(|k| k.cache_ttl()).collect();
        let doorkeeper =
            (admission == Admission::Repeated && !caches.is_empty()).then(|| Doorkeeper::new(Doorkeeper::WINDOW));
        PredictionCache { caches, hasher: std::hash::RandomState::new(), ttl, redis: None, doorkeeper }
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
        self.redis.as_ref().map(|r| (r.healthy.load(Ordering::Relaxed), r.location.clone()))
    }

    /// PING Redis now (for `/health`), updating the health flag.
    pub async fn ping_redis(&self) -> Option<Result<(), String>> {
        let r = self.redis.as_ref()?;
        let mut c = r.conn.clone();
        let res = tokio::time::timeout(REDIS_BUDGET * 4, redis::cmd("PING").query_async::<String>(&mut c)).await;
        let ok = matches!(res, Ok(Ok(_)));
        r.healthy.store(ok, Ordering::Relaxed);
        Some(if ok { Ok(()) } else { Err("no answer to PING".into()) })
    }

    fn redis_key(model: ModelKind, key: &str) -> String {
        use sha2::Digest;
        let h = sha2::Sha256::digest(key.as_bytes());
        let hex = nivesh_core::hex::lower(&h);
        // v2: entries are a model's output without `model_version` (v1 held whole responses);
        // a replica of another release sharing this Redis never reads the other's entries
        format!("nivesh:cache:v2:{model}:{hex}")
    }

    /// The shared entry for `key`, and how long it has left to live there (zero when it
    /// expired between the two reads; `Duration::MAX` when it has no expiry).
    async fn redis_get(&self, model: ModelKind, key: &str) -> Option<(Bytes, Duration)> {
        let r = self.redis.as_ref()?;
        let mut c = r.conn.clone();
        let k = Self::redis_key(model, key);
        let got = tokio::time::timeout(
            REDIS_BUDGET,
            redis::pipe().cmd("GET").arg(&k).cmd("PTTL").arg(&k).query_async::<(Option<Vec<u8>>, i64)>(&mut c),
        )
        .await;
        match got {
            Ok(Ok((v, pttl))) => {
                r.healthy.store(true, Ordering::Relaxed);
                // PTTL: -1 no expiry, -2 gone since the GET
                let left = match pttl {
                    -1 => Duration::MAX,
                    ms => Duration::from_millis(ms.max(0).unsigned_abs()),
                };
                v.map(|v| (Bytes::from(v), left))
            }
            _ => {
                r.healthy.store(false, Ordering::Relaxed);
                None
            }
        }
    }

    fn redis_put(&self, model: ModelKind, key: &str, value: &Cached) {
        let Some(r) = self.redis.as_ref() else { return };
        if !r.healthy.load(Ordering::Relaxed) {
            // the next successful GET or PING turns it back on
            return;
        }
        let Some(body) = value.encode() else {
            tracing::warn!(
                model = model.name(),
                "prediction cache: an observation did not serialise; the answer is not shared"
            );
            return;
        };
        let mut c = r.conn.clone();
        let k = Self::redis_key(model, key);
        let ttl = model.cache_ttl().as_secs();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                REDIS_BUDGET,
                redis::cmd("SETEX").arg(k).arg(ttl).arg(body.as_ref()).query_async::<()>(&mut c),
            )
            .await;
        });
    }

    fn cache(&self, model: ModelKind) -> Option<&Store> {
        self.caches.get(model.index())
    }

    /// The local key of a request's key text.
    fn local_key(&self, key: &str) -> u128 {
        (u128::from(self.hasher.hash_one((0u8, key))) << 64) | u128::from(self.hasher.hash_one((1u8, key)))
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
        let local = self.local_key(&key);
        // the model in the doorkeeper's key too: one filter serves all five caches
        let salted = local ^ (model.index() as u128).wrapping_mul(SPREAD);
        if let Some(doorkeeper) = &self.doorkeeper
            && !doorkeeper.seen_before(salted)
        {
            // asked for the first time lately: answered, not kept. It may still be cached from
            // before the doorkeeper was last emptied.
            if let Some(e) = cache.get(&local)
                && e.expires > Instant::now()
            {
                return Ok((e.value, true));
            }
            return self.shared_or_computed(model, &key, compute).await.map(|f| (f.value, f.shared.is_some()));
        }
        let guard = loop {
            match cache.get_value_or_guard_async(&local).await {
                Ok(e) if e.expires > Instant::now() => return Ok((e.value, true)),
                // past its time to live: dropped, and asked for again (another request may be
                // computing it already)
                Ok(_) => {
                    let now = Instant::now();
                    cache.remove_if(&local, |e| e.expires <= now);
                }
                Err(guard) => break guard,
            }
        };
        // this request computes; identical ones wait on the guard until it inserts (or, if this
        // fails or is cancelled, one of them computes)
        let found = self.shared_or_computed(model, &key, compute).await?;
        let ttl = self.ttl.get(model.index()).copied().unwrap_or_else(|| model.cache_ttl());
        // a shared answer lives here no longer than it has left there: never past its time to
        // live counted from when it was computed
        let life = found.shared.map_or(ttl, |left| left.min(ttl));
        let _ = guard.insert(Entry::new(found.value.clone(), Instant::now() + life));
        Ok((found.value, found.shared.is_some()))
    }

    /// The shared level's answer, or `compute`'s (then shared).
    async fn shared_or_computed<F>(&self, model: ModelKind, key: &str, compute: F) -> Result<Found, ApiError>
    where
        F: std::future::Future<Output = Result<Cached, ApiError>>,
    {
        if let Some((value, left)) =
            self.redis_get(model, key).await.and_then(|(v, left)| Some((Cached::decode(v)?, left)))
        {
            return Ok(Found { value, shared: Some(left) });
        }
        let fresh = compute.await?;
        self.redis_put(model, key, &fresh);
        Ok(Found { value: fresh, shared: None })
    }

    /// Empty the local caches (and what the doorkeeper noted) and, with Redis, the shared
    /// entries.
    pub async fn clear(&self) {
        for c in &self.caches {
            c.clear();
        }
        if let Some(d) = &self.doorkeeper {
            d.clear();
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn answer(body: &'static str) -> Cached {
        Cached { body: Bytes::from_static(body.as_bytes()), confidence: Some(0.5), observation: None }
    }

    /// `get_or_compute` with a computation that counts its runs.
    async fn ask(c: &PredictionCache, key: &str, runs: &AtomicUsize) -> Result<(Cached, bool), ApiError> {
        c.get_or_compute(ModelKind::Credit, key.into(), async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(answer("computed"))
        })
        .await
    }

    #[tokio::test]
    async fn answers_are_computed_once_per_key_and_then_served() {
        let c = PredictionCache::new(1 << 20, Admission::All);
        let runs = AtomicUsize::new(0);
        let (v, hit) = ask(&c, "1:{\"a\":1}", &runs).await.unwrap();
        assert_eq!((v.body.as_ref(), hit, v.confidence), (&b"computed"[..], false, Some(0.5)));
        let (v, hit) = ask(&c, "1:{\"a\":1}", &runs).await.unwrap();
        assert_eq!((v.body.as_ref(), hit, runs.load(Ordering::SeqCst)), (&b"computed"[..], true, 1));
        // another input, or another version of the model, is another key
        assert!(!ask(&c, "1:{\"a\":2}", &runs).await.unwrap().1);
        assert!(!ask(&c, "2:{\"a\":1}", &runs).await.unwrap().1);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // cleared: computed again
        c.clear().await;
        assert!(!ask(&c, "1:{\"a\":1}", &runs).await.unwrap().1);
        // caching off: every request computes
        let off = PredictionCache::new(0, Admission::All);
        let before = runs.load(Ordering::SeqCst);
        for _ in 0..3 {
            assert!(!ask(&off, "1:{\"a\":1}", &runs).await.unwrap().1);
        }
        assert_eq!(runs.load(Ordering::SeqCst), before + 3);
    }

    /// Eight identical requests at once to a new cache admitting as told; how many computed.
    async fn identical_at_once(admission: Admission) -> usize {
        let c = Arc::new(PredictionCache::new(1 << 20, admission));
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (c, runs) = (c.clone(), runs.clone());
                tokio::spawn(async move { ask(&c, "same", &runs).await.unwrap().0.body })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().as_ref(), b"computed");
        }
        runs.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_concurrent_requests_compute_once() {
        assert_eq!(identical_at_once(Admission::All).await, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_expired_busy_key_is_computed_once_again() {
        let mut c = PredictionCache::new(1 << 20, Admission::All);
        let runs = Arc::new(AtomicUsize::new(0));
        c.ttl = vec![Duration::ZERO; ModelKind::ALL.len()];
        ask(&c, "busy", &runs).await.unwrap(); // stored already expired
        c.ttl = vec![Duration::from_secs(60); ModelKind::ALL.len()];
        let c = Arc::new(c);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (c, runs) = (c.clone(), runs.clone());
                tokio::spawn(async move { ask(&c, "busy", &runs).await.unwrap() })
            })
            .collect();
        let mut hits = 0;
        for t in tasks {
            hits += usize::from(t.await.unwrap().1);
        }
        // one of the eight recomputed; the others waited for it (and count as hits)
        assert_eq!((runs.load(Ordering::SeqCst), hits), (2, 7));
        assert!(ask(&c, "busy", &runs).await.unwrap().1);
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_expired_entries_are_computed_again() {
        let mut c = PredictionCache::new(1 << 20, Admission::All);
        let failed =
            c.get_or_compute(ModelKind::Credit, "k".into(), async { Err(ApiError::Internal("boom".into())) }).await;
        assert!(failed.is_err());
        let runs = AtomicUsize::new(0);
        assert!(!ask(&c, "k", &runs).await.unwrap().1, "a failure must not be served from the cache");
        // a time to live of zero: every entry has expired when next asked for
        c.ttl = vec![Duration::ZERO; ModelKind::ALL.len()];
        assert!(!ask(&c, "fresh", &runs).await.unwrap().1);
        assert!(!ask(&c, "fresh", &runs).await.unwrap().1);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_what_is_kept() {
        // 5 models × 64 KiB; 1 KiB answers: at most ~50 of them per model, whatever is asked
        let c = PredictionCache::new(5 * 64 * 1024, Admission::All);
        let big: &'static str = Box::leak("x".repeat(1024).into_boxed_str());
        for i in 0..2_000 {
            c.get_or_compute(ModelKind::Credit, format!("{i}"), async { Ok(answer(big)) }).await.unwrap();
        }
        let store = c.cache(ModelKind::Credit).unwrap();
        assert!(store.weight() <= 64 * 1024, "{}", store.weight());
        assert!(store.len() <= 64 * 1024 / (1024 + ENTRY_OVERHEAD), "{}", store.len());
        assert!(store.len() >= 10, "{}", store.len());
    }

    #[tokio::test]
    async fn by_default_an_answer_is_kept_from_its_second_asking() {
        let c = PredictionCache::new(1 << 20, Admission::default());
        let runs = AtomicUsize::new(0);
        // requests that all differ: each computed, none kept
        for i in 0..100 {
            assert!(!ask(&c, &format!("once {i}"), &runs).await.unwrap().1);
        }
        assert_eq!(c.cache(ModelKind::Credit).unwrap().len(), 0);
        // asked twice: computed twice, kept the second time, then served
        let hits: Vec<bool> = [ask(&c, "k", &runs).await, ask(&c, "k", &runs).await, ask(&c, "k", &runs).await]
            .into_iter()
            .map(|r| r.unwrap().1)
            .collect();
        assert_eq!((hits, runs.load(Ordering::SeqCst)), (vec![false, false, true], 102));
        assert_eq!(c.cache(ModelKind::Credit).unwrap().len(), 1);
        // the same input to another model is that model's first asking
        let other = c.get_or_compute(ModelKind::Intent, "k".into(), async { Ok(answer("intent")) }).await.unwrap();
        assert_eq!((other.0.body.as_ref(), other.1), (&b"intent"[..], false));
        assert_eq!(c.cache(ModelKind::Intent).unwrap().len(), 0);
        // cleared: the doorkeeper forgets too
        c.clear().await;
        assert!(!ask(&c, "k", &runs).await.unwrap().1);
        assert!(!ask(&c, "k", &runs).await.unwrap().1);
        assert!(ask(&c, "k", &runs).await.unwrap().1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_concurrent_first_askings_compute_twice_at_most() {
        // exactly one is the key's first asking (computed, not kept); the others wait for the
        // one of them that computes and keeps the answer
        // (one, if the first is delayed until the kept answer is there)
        let n = identical_at_once(Admission::default()).await;
        assert!(matches!(n, 1 | 2), "{n}");
    }

    #[tokio::test]
    async fn the_doorkeeper_forgets_after_its_window_but_the_cache_does_not() {
        let window = 8;
        // keys spread over all their bits, as the keyed hash's are
        let key = |i: u128| i.wrapping_mul(SPREAD);
        let d = Doorkeeper::new(window);
        assert!(!d.seen_before(key(1)) && d.seen_before(key(1)));
        for i in 2..window as u128 {
            assert!(!d.seen_before(key(i)), "{i}");
        }
        assert!(d.seen_before(key(1)), "seven new keys: still within the window");
        assert!(!d.seen_before(key(100)), "the window's last new key empties it");
        assert!(!d.seen_before(key(1)));
        // an entry cached before the doorkeeper was emptied is still served
        let mut c = PredictionCache::new(1 << 20, Admission::Repeated);
        c.doorkeeper = Some(Doorkeeper::new(window));
        let runs = AtomicUsize::new(0);
        for _ in 0..2 {
            ask(&c, "kept", &runs).await.unwrap();
        }
        for i in 0..window {
            ask(&c, &format!("other {i}"), &runs).await.unwrap();
        }
        let before = runs.load(Ordering::SeqCst);
        assert!(ask(&c, "kept", &runs).await.unwrap().1);
        assert_eq!(runs.load(Ordering::SeqCst), before);
        // … but not once past its time to live
        c.ttl = vec![Duration::ZERO; ModelKind::ALL.len()];
        for _ in 0..2 {
            ask(&c, "expires", &runs).await.unwrap();
        }
        for i in 0..window {
            ask(&c, &format!("more {i}"), &runs).await.unwrap();
        }
        let before = runs.load(Ordering::SeqCst);
        assert!(!ask(&c, "expires", &runs).await.unwrap().1);
        assert_eq!(runs.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn the_shared_level_keeps_the_observation_as_json() {
        use nivesh_monitor::sample::{Observation, Value};
        let o = Observation {
            features: vec![("age".into(), Value::Number(41.0)), ("city".into(), Value::Category("Pune".into()))],
            prediction: Some(("p".into(), Value::Number(0.25))),
        };
        let v = Cached { observation: Some(Observed::Values(Arc::new(o.clone()))), ..answer(r#"{"p":0.25}"#) };
        let encoded = v.encode().unwrap();
        assert_eq!(
            encoded.as_ref(),
            &b"{\"features\":[[\"age\",41.0],[\"city\",\"Pune\"]],\"prediction\":[\"p\",0.25]}\n{\"p\":0.25}"[..]
        );
        let back = Cached::decode(encoded).unwrap();
        assert_eq!(back.body.as_ref(), &b"{\"p\":0.25}"[..]);
        let Some(Observed::Json(json)) = &back.observation else { panic!("{:?}", back.observation) };
        assert_eq!(serde_json::from_slice::<Observation>(json).unwrap(), o);
        // an answer without an observation: nothing before the newline, and none back
        let bare = Cached::decode(answer("{}").encode().unwrap()).unwrap();
        assert!(bare.observation.is_none() && bare.body.as_ref() == b"{}");
    }
}
