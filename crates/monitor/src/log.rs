//! The prediction log: every served prediction (sampled at a configurable rate), with the input
//! as the model saw it, the observation monitoring reads, the answer, version, latency and
//! time; the outcomes fed back for logged predictions; the history of drift checks. All in the
//! store's SQL layer (SQLite `monitoring.db`, or PostgreSQL with `DATABASE_URL`).
//!
//! Requests never wait for it: [`PredictionLog::record`] puts a row on a bounded channel and,
//! when the channel is full, drops it and counts the drop. A writer thread takes rows off in
//! batches (a batch is written when it holds [`LogConfig::batch`] rows or
//! [`LogConfig::flush_every`] has passed) and commits each batch in one transaction, so a
//! `kill -9` loses at most the rows not yet committed: the channel's contents plus one batch.
//! The writer also applies the retention (days and rows per model) and redacts free text. It
//! runs at idle priority and rests after each batch in proportion to the batch's wall time
//! ([`LogConfig::writer_share`]), so on a saturated machine it writes less and drops more
//! instead of slowing requests.

use crate::MonitorError;
use crate::sample::Observation;
use nivesh_store::db::{Db, Dialect, Row, Value};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SQLITE: &[&str] = &[include_str!("../migrations/sqlite/0001_init.sql")];
const POSTGRES: &[&str] = &[include_str!("../migrations/postgres/0001_init.sql")];

/// One logged prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub id: String,
    pub model: String,
    pub version: u32,
    /// Unix milliseconds.
    pub ts: i64,
    pub latency_us: f64,
    /// SHA-256 (hex) of `input` before redaction, for feedback that names the input instead
    /// of the id.
    pub input_hash: String,
    /// The checked input's JSON (free text redacted).
    pub input: String,
    /// The [`Observation`] as JSON.
    pub observation: String,
    /// The answer's JSON (free text redacted).
    pub output: String,
}

/// A prediction as the server hands it to the log: what the request path already holds, moved
/// or shared (no copy, no hashing, no serialising there); the writer thread turns it into a
/// [`LogRecord`] — hashes the input, redacts free text — before writing.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub model: &'static str,
    pub version: u32,
    /// Unix milliseconds.
    pub ts: i64,
    pub latency_us: f64,
    /// The checked input's JSON.
    pub input: String,
    /// What monitoring observes of the prediction.
    pub observation: Observed,
    /// The answer's JSON.
    pub output: bytes::Bytes,
    /// `input` and `output` may hold free text (queries, messages). Both are redacted before
    /// storing either way (a user id or a merchant can hold an identifier too); the flag says
    /// whether the model reads free text at all.
    pub free_text: bool,
}

/// A prediction's [`Observation`] as the request path holds it: the values as the model gave
/// them, serialised only where JSON is needed (by the log's writer thread, off the request path
/// and never for a row the full channel drops; by the shared cache level), or JSON already (as
/// the shared level keeps it).
#[derive(Debug, Clone)]
pub enum Observed {
    Values(Arc<Observation>),
    Json(bytes::Bytes),
}

impl Default for Observed {
    fn default() -> Self {
        Observed::Json(bytes::Bytes::new())
    }
}

impl Observed {
    /// The observation's JSON.
    pub fn json(&self) -> Result<bytes::Bytes, serde_json::Error> {
        match self {
            Observed::Json(b) => Ok(b.clone()),
            Observed::Values(o) => serde_json::to_vec(&**o).map(bytes::Bytes::from),
        }
    }

    /// About the bytes it holds.
    pub fn size(&self) -> usize {
        match self {
            Observed::Json(b) => b.len(),
            Observed::Values(o) => o.size(),
        }
    }
}

impl Entry {
    /// The bytes the row holds (its strings and observation; the fixed fields are counted as
    /// 64).
    pub fn size(&self) -> usize {
        64 + self.id.len() + self.input.len() + self.observation.size() + self.output.len()
    }

    /// The row to store: the input hashed as checked (what a caller of `POST /feedback`
    /// hashes), then identifiers and secrets redacted, the observation serialised.
    pub fn into_record(self) -> Result<LogRecord, MonitorError> {
        let text = |b: &bytes::Bytes| String::from_utf8_lossy(b).into_owned();
        let input_hash = hash(&self.input);
        let (input, output) =
            (nivesh_core::redact::redact(&self.input), nivesh_core::redact::redact(&text(&self.output)));
        let observation =
            self.observation.json().map_err(|source| MonitorError::Encode { what: "an observation", source })?;
        Ok(LogRecord {
            id: self.id,
            model: self.model.to_string(),
            version: self.version,
            ts: self.ts,
            latency_us: self.latency_us,
            input_hash,
            input,
            observation: text(&observation),
            output,
        })
    }
}

/// A logged prediction with the outcome fed back for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub ts: i64,
    pub observation: Observation,
    /// The answer as logged (JSON).
    pub output: String,
    pub outcome: serde_json::Value,
}

/// How the log behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogConfig {
    /// Share of predictions logged, in (0, 1].
    pub sample_rate: f64,
    /// Rows the channel holds before new ones are dropped.
    pub capacity: usize,
    /// Bytes (of ids, inputs, observations and outputs) the channel holds before new rows are
    /// dropped: rows differ in size by 100× (a batch-64 input against one query), so a row
    /// count alone does not bound the memory.
    pub capacity_bytes: usize,
    /// Rows written per transaction at most.
    pub batch: usize,
    /// A batch is written at least this often.
    pub flush_every: Duration,
    /// Rows older than this many days are deleted.
    pub retention_days: u32,
    /// Rows kept per model at most (the oldest go first).
    pub retention_rows: u64,
    /// Run the writer thread under `SCHED_IDLE` (Linux), below every request.
    pub writer_idle: bool,
    /// The largest share of one core's time the writer spends writing, in (0, 1]: after a
    /// batch that took `t` it rests `t · (1 − share) / share`. This bounds what it takes from
    /// requests when the CPUs are saturated (where even idle-priority work costs them caches
    /// and wake-ups); beyond the throughput it allows, rows are dropped and counted.
    pub writer_share: f64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            sample_rate: 1.0,
            capacity: 4_096,
            capacity_bytes: 2 << 20,
            batch: 512,
            flush_every: Duration::from_millis(200),
            retention_days: 30,
            retention_rows: 1_000_000,
            writer_idle: true,
            writer_share: 0.25,
        }
    }
}

/// The log's tables.
pub struct LogStore {
    db: Db,
}

fn decode<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, MonitorError> {
    serde_json::from_str(text).map_err(|source| MonitorError::Decode { what, source })
}

const RECORD_COLUMNS: &str = "id, model, version, ts, latency_us, input_hash, input, observation, output";

fn record_of(r: &Row) -> Result<LogRecord, MonitorError> {
    Ok(LogRecord {
        id: r.text(0)?,
        model: r.text(1)?,
        version: r.int(2)? as u32,
        ts: r.int(3)?,
        latency_us: r.real(4)?,
        input_hash: r.text(5)?,
        input: r.text(6)?,
        observation: r.text(7)?,
        output: r.text(8)?,
    })
}

impl LogStore {
    /// The log in `db` (its tables created or brought up to date).
    pub fn open(db: Db) -> Result<Self, MonitorError> {
        let migrations = match db.dialect() {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        };
        db.migrate("monitor", migrations)?;
        if db.dialect() == Dialect::Sqlite {
            // The log is append-heavy: commits need not wait for the disk (in WAL mode a
            // `kill -9` still loses nothing committed; only a power loss can take the last
            // commits), statement journals stay in memory, a small page cache and fewer,
            // larger checkpoints (each index page is copied back once per checkpoint, not once
            // per batch). The page cache is 1 MiB. 32 MiB wrote no faster than 4 MiB
            // (`--bench log`: 42k against 38-50k rows/s unthrottled, 10.2k against 10.6-10.8k
            // as served) and stayed resident, ~30 MB of the server's memory after a load run;
            // 4 MiB held 4.3 MB after a run and wrote ~5 % faster than 1 MiB (10.7-11.0k
            // against 10.2-10.4k rows/s as served, 8.3-8.6 against 9.3-9.7 ms a batch), and a
            // drift check over 100,000 logged rows took the same time (738 against 728 ms).
            // These settings hold for this connection only.
            db.batch(
                "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
                 PRAGMA cache_size = -1024; PRAGMA wal_autocheckpoint = 10000;",
            )?;
        }
        Ok(LogStore { db })
    }

    pub fn location(&self) -> &str {
        &self.db.location
    }

    /// Write rows in one transaction (a row whose id is already there is skipped): SQLite runs
    /// one prepared single-row statement per row (its fastest path, nothing to parse again);
    /// PostgreSQL gets multi-row statements (one round trip per 200 rows).
    pub fn insert(&self, rows: &[LogRecord]) -> Result<(), MonitorError> {
        let per_statement = match self.db.dialect() {
            Dialect::Sqlite => 1,
            // 10 parameters a row: 200 rows a statement stays under every parameter limit
            Dialect::Postgres => 200,
        };
        let statement = |n: usize| {
            let mut sql = format!("INSERT INTO prediction_log ({RECORD_COLUMNS}, input_key) VALUES ");
            for i in 0..n {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = i * 10;
                sql.push('(');
                sql.push_str(&(1..=10).map(|k| format!("${}", b + k)).collect::<Vec<_>>().join(", "));
                sql.push(')');
            }
            sql.push_str(" ON CONFLICT (id) DO NOTHING");
            sql
        };
        let full = statement(per_statement);
        self.db.transaction(|tx| {
            let mut params: Vec<Value> = Vec::with_capacity(per_statement * 10);
            for chunk in rows.chunks(per_statement) {
                params.clear();
                for r in chunk {
                    params.extend([
                        r.id.as_str().into(),
                        r.model.as_str().into(),
                        r.version.into(),
                        r.ts.into(),
                        r.latency_us.into(),
                        r.input_hash.as_str().into(),
                        r.input.as_str().into(),
                        r.observation.as_str().into(),
                        r.output.as_str().into(),
                        input_key(&r.input_hash).unwrap_or(0).into(),
                    ]);
                }
                if chunk.len() == per_statement {
                    tx.execute(&full, &params)?;
                } else {
                    tx.execute(&statement(chunk.len()), &params)?;
                }
            }
            Ok::<_, MonitorError>(())
        })
    }

    /// Delete rows older than the retention and, per model, all but the newest
    /// `retention_rows`. Returns how many went.
    pub fn purge(&self, now_ms: i64, config: &LogConfig) -> Result<u64, MonitorError> {
        let cutoff = now_ms - i64::from(config.retention_days) * 86_400_000;
        let mut n = self.db.execute("DELETE FROM prediction_log WHERE ts < $1", &[cutoff.into()])?;
        for m in self.models()? {
            let keep = config.retention_rows.min(i64::MAX as u64) as i64;
            let oldest_kept = self.db.query_opt(
                "SELECT ts FROM prediction_log WHERE model = $1 ORDER BY ts DESC LIMIT 1 OFFSET $2",
                &[m.as_str().into(), (keep - 1).max(0).into()],
            )?;
            if let Some(row) = oldest_kept {
                n += self.db.execute(
                    "DELETE FROM prediction_log WHERE model = $1 AND ts < $2",
                    &[m.as_str().into(), row.int(0)?.into()],
                )?;
            }
        }
        Ok(n)
    }

    /// Models with logged predictions.
    pub fn models(&self) -> Result<Vec<String>, MonitorError> {
        let rows = self.db.query("SELECT DISTINCT model FROM prediction_log ORDER BY model", &[])?;
        Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
    }

    /// Logged rows of `model` in `[from_ms, to_ms)`.
    pub fn count(&self, model: &str, from_ms: i64, to_ms: i64) -> Result<u64, MonitorError> {
        let r = self.db.query_one(
            "SELECT COUNT(*) FROM prediction_log WHERE model = $1 AND ts >= $2 AND ts < $3",
            &[model.into(), from_ms.into(), to_ms.into()],
        )?;
        Ok(r.int(0)?.max(0) as u64)
    }

    /// The observations of `model` in `[from_ms, to_ms)`, the newest `limit`, oldest first.
    pub fn observations(
        &self,
        model: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<Observation>, MonitorError> {
        let rows = self.db.query(
            "SELECT observation FROM prediction_log WHERE model = $1 AND ts >= $2 AND ts < $3 ORDER BY ts DESC LIMIT $4",
            &[model.into(), from_ms.into(), to_ms.into(), (limit.min(i64::MAX as usize) as i64).into()],
        )?;
        let mut out: Vec<Observation> =
            rows.iter().map(|r| decode("a logged observation", &r.text(0)?)).collect::<Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// One logged prediction by its id.
    pub fn get(&self, id: &str) -> Result<Option<LogRecord>, MonitorError> {
        self.db
            .query_opt(&format!("SELECT {RECORD_COLUMNS} FROM prediction_log WHERE id = $1"), &[id.into()])?
            .map(|r| record_of(&r))
            .transpose()
    }

    /// The newest logged prediction of `model` whose input has this hash.
    pub fn find_by_hash(&self, model: &str, input_hash: &str) -> Result<Option<LogRecord>, MonitorError> {
        self.db
            .query_opt(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM prediction_log \
                     WHERE input_key = $1 AND model = $2 AND input_hash = $3 ORDER BY ts DESC LIMIT 1"
                ),
                &[input_key(input_hash).unwrap_or(-1).into(), model.into(), input_hash.into()],
            )?
            .map(|r| record_of(&r))
            .transpose()
    }

    /// Every logged row, oldest first (for inspection and tests).
    pub fn all(&self, model: &str) -> Result<Vec<LogRecord>, MonitorError> {
        let rows = self.db.query(
            &format!("SELECT {RECORD_COLUMNS} FROM prediction_log WHERE model = $1 ORDER BY ts, id"),
            &[model.into()],
        )?;
        rows.iter().map(record_of).collect()
    }

    /// Record the outcome of a logged prediction (a later one replaces it).
    pub fn put_feedback(
        &self,
        id: &str,
        model: &str,
        outcome: &serde_json::Value,
        at_ms: i64,
    ) -> Result<(), MonitorError> {
        self.db.execute(
            "INSERT INTO feedback (prediction_id, model, outcome, received_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (prediction_id) DO UPDATE SET outcome = excluded.outcome, received_at = excluded.received_at",
            &[id.into(), model.into(), outcome.to_string().into(), at_ms.into()],
        )?;
        Ok(())
    }

    /// The logged predictions of `model` in `[from_ms, to_ms)` that have an outcome.
    pub fn outcomes(&self, model: &str, from_ms: i64, to_ms: i64) -> Result<Vec<Outcome>, MonitorError> {
        let rows = self.db.query(
            "SELECT p.ts, p.observation, f.outcome, p.output FROM prediction_log p JOIN feedback f ON f.prediction_id = p.id
             WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3 ORDER BY p.ts",
            &[model.into(), from_ms.into(), to_ms.into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Outcome {
                    ts: r.int(0)?,
                    observation: decode("a logged observation", &r.text(1)?)?,
                    outcome: decode("an outcome", &r.text(2)?)?,
                    output: r.text(3)?,
                })
            })
            .collect()
    }

    /// Keep a drift check's report.
    pub fn save_check(
        &self,
        model: &str,
        at_ms: i64,
        drifted: bool,
        share: f64,
        report: &serde_json::Value,
    ) -> Result<(), MonitorError> {
        self.db.execute(
            "INSERT INTO drift_checks (model, checked_at, drift_detected, drift_share, report) VALUES ($1, $2, $3, $4, $5)",
            &[model.into(), at_ms.into(), drifted.into(), share.into(), report.to_string().into()],
        )?;
        Ok(())
    }

    /// The newest `limit` drift-check reports of `model`, newest first.
    pub fn checks(&self, model: &str, limit: usize) -> Result<Vec<serde_json::Value>, MonitorError> {
        let rows = self.db.query(
            "SELECT report FROM drift_checks WHERE model = $1 ORDER BY checked_at DESC, id DESC LIMIT $2",
            &[model.into(), (limit.min(i64::MAX as usize) as i64).into()],
        )?;
        rows.iter().map(|r| decode("a drift report", &r.text(0)?)).collect()
    }
}

/// Counters of the log.
#[derive(Debug, Default)]
pub struct LogCounters {
    /// Rows committed.
    pub written: AtomicU64,
    /// Rows dropped because the channel was full (in rows or bytes), or (never seen) because
    /// their observation did not serialise.
    pub dropped: AtomicU64,
    /// Bytes of the rows in the channel now.
    pub queued_bytes: AtomicU64,
    /// Rows in the channel now.
    pub queued_rows: AtomicU64,
    /// Batches that failed to write (their rows are lost; the error is logged).
    pub failed_batches: AtomicU64,
}

/// The sending side of the log (cheap to share).
pub struct PredictionLog {
    /// Unbounded as a channel (its blocks are allocated as rows arrive and freed as they
    /// leave, where a bounded one would hold `capacity` rows' slots from the start: 0.66 MB);
    /// bounded by [`LogCounters::queued_rows`] and [`LogCounters::queued_bytes`] instead.
    tx: Sender<Entry>,
    /// Set by [`PredictionLog::close`]: rows recorded after it are ignored, and the writer stops
    /// once it has written what is queued.
    closed: Arc<AtomicBool>,
    config: LogConfig,
    seen: AtomicU64,
    pub counters: Arc<LogCounters>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl PredictionLog {
    /// Start the writer thread over `store`.
    pub fn start(store: Arc<LogStore>, config: LogConfig) -> PredictionLog {
        let (tx, rx) = std::sync::mpsc::channel();
        let counters = Arc::new(LogCounters::default());
        let closed = Arc::new(AtomicBool::new(false));
        let writer = {
            let (counters, config, closed) = (counters.clone(), config.clone(), closed.clone());
            std::thread::Builder::new()
                .name("prediction-log".into())
                .spawn(move || {
                    lower_priority(config.writer_idle);
                    write_loop(&store, &rx, &config, &counters, &closed)
                })
                .ok()
        };
        PredictionLog { tx, closed, config, seen: AtomicU64::new(0), counters, writer: Mutex::new(writer) }
    }

    /// Whether this prediction is among the sampled ones (every 1/rate-th, evenly).
    pub fn sampled(&self) -> bool {
        let rate = self.config.sample_rate;
        if rate >= 1.0 {
            return true;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed) as f64;
        ((n + 1.0) * rate).floor() > (n * rate).floor()
    }

    /// Queue a row; never blocks (a full channel drops the row and counts it).
    pub fn record(&self, row: Entry) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let size = row.size() as u64;
        let c = &self.counters;
        let rows = c.queued_rows.fetch_add(1, Ordering::Relaxed);
        let queued = c.queued_bytes.fetch_add(size, Ordering::Relaxed);
        // a row larger than the whole bound is taken when the queue is empty (it is one
        // request's body, bounded by the server's own limits), so that any row can be logged
        let over_bytes = queued > 0 && queued + size > self.config.capacity_bytes as u64;
        if rows >= self.config.capacity.max(1) as u64 || over_bytes || self.tx.send(row).is_err() {
            c.queued_rows.fetch_sub(1, Ordering::Relaxed);
            c.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Write what is queued and stop the writer (at shutdown).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = handle.join();
        }
    }
}

/// Put the calling thread under `SCHED_IDLE` (Linux): the writer then runs only on the time
/// requests leave idle, and when they leave none its queue fills and rows are dropped (and
/// counted) rather than requests slowed.
fn lower_priority(idle: bool) {
    if !idle {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
        let policy = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) = thread_priority::set_thread_priority_and_policy(
            thread_priority::thread_native_id(),
            ThreadPriority::Min,
            policy,
        ) {
            tracing::warn!(error = ?e, "prediction log: the writer's priority could not be lowered");
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn flush(store: &LogStore, batch: &mut Vec<Entry>, counters: &LogCounters) {
    if batch.is_empty() {
        return;
    }
    let rows: Vec<LogRecord> = batch
        .drain(..)
        .filter_map(|e| {
            e.into_record()
                .inspect_err(|e| {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %nivesh_core::error_chain(e), "prediction log: a row was not serialised");
                })
                .ok()
        })
        .collect();
    match store.insert(&rows) {
        Ok(()) => {
            counters.written.fetch_add(rows.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(rows = rows.len(), error = %nivesh_core::error_chain(&e), "prediction log: a batch was not written");
        }
    }
    batch.clear();
}

/// How long the writer sleeps when the channel is empty: senders then never have to wake it
/// (a blocking receive would make every request's send a futex wake and a context switch).
const IDLE_POLL: Duration = Duration::from_millis(5);

fn write_loop(store: &LogStore, rx: &Receiver<Entry>, config: &LogConfig, counters: &LogCounters, closed: &AtomicBool) {
    let mut batch = Vec::with_capacity(config.batch);
    let mut last_flush = Instant::now();
    let mut last_purge: Option<Instant> = None;
    loop {
        // after `close`, the queued rows still come out: the writer stops at the first empty
        // channel (a row recorded while `close` ran may be left; shutdown only)
        let closing = closed.load(Ordering::Acquire);
        let mut done = false;
        while batch.len() < config.batch {
            match rx.try_recv() {
                Ok(r) => {
                    counters.queued_rows.fetch_sub(1, Ordering::Relaxed);
                    counters.queued_bytes.fetch_sub(r.size() as u64, Ordering::Relaxed);
                    batch.push(r)
                }
                Err(TryRecvError::Empty) => {
                    done = closing;
                    break;
                }
                Err(TryRecvError::Disconnected) => {
                    done = true;
                    break;
                }
            }
        }
        let full = batch.len() >= config.batch;
        let mut rest = Duration::ZERO;
        if full || last_flush.elapsed() >= config.flush_every || done {
            let started = Instant::now();
            flush(store, &mut batch, counters);
            last_flush = Instant::now();
            let share = config.writer_share.clamp(0.01, 1.0);
            rest = (last_flush - started).mul_f64((1.0 - share) / share);
        }
        if last_purge.is_none_or(|t| t.elapsed() >= Duration::from_secs(600)) {
            if let Err(e) = store.purge(now_ms(), config) {
                tracing::warn!(error = %nivesh_core::error_chain(&e), "prediction log: retention failed");
            }
            last_purge = Some(Instant::now());
        }
        if done {
            return;
        }
        if !full {
            rest = rest.max(IDLE_POLL.min(config.flush_every));
        }
        if !rest.is_zero() {
            std::thread::sleep(rest);
        }
    }
}

/// The indexed key of a hex hash: its first 60 bits (`None` if it is not hex).
fn input_key(hash: &str) -> Option<i64> {
    hash.get(..15).and_then(|h| i64::from_str_radix(h, 16).ok())
}

/// SHA-256 of a text, lower-case hex.
pub fn hash(text: &str) -> String {
    nivesh_store::Digest::of(text.as_bytes()).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize, model: &'static str, ts: i64) -> Entry {
        Entry {
            id: format!("p{i}"),
            model,
            version: 1,
            ts,
            latency_us: 10.0,
            input: format!("{{\"query\":\"q{i} PAN ABCDE1234F\"}}"),
            observation: Observed::Values(Arc::new(Observation::default())),
            output: "{\"echo\":\"ABCDE1234F\"}".into(),
            free_text: true,
        }
    }

    #[test]
    fn rows_are_written_redacted_counted_and_purged() {
        let store = Arc::new(LogStore::open(Db::sqlite_in_memory().unwrap()).unwrap());
        let config =
            LogConfig { batch: 7, flush_every: Duration::from_millis(20), retention_rows: 50, ..LogConfig::default() };
        let log = PredictionLog::start(store.clone(), config.clone());
        let now = now_ms();
        for i in 0..100 {
            log.record(row(i, "intent", now - 100 + i as i64));
        }
        log.close();
        assert_eq!(log.counters.written.load(Ordering::Relaxed), 100);
        let all = store.all("intent").unwrap();
        assert_eq!(all.len(), 100);
        assert!(all[0].input.contains("[PAN]") && !all[0].input.contains("ABCDE1234F"), "{}", all[0].input);
        assert_eq!(all[0].output, "{\"echo\":\"[PAN]\"}");
        // the hash was taken before redaction: the caller's input finds it
        let raw = "{\"query\":\"q5 PAN ABCDE1234F\"}";
        assert_eq!(store.find_by_hash("intent", &hash(raw)).unwrap().unwrap().id, "p5");
        // retention: at most 50 rows per model, and nothing older than the days kept
        assert_eq!(store.purge(now, &config).unwrap(), 50);
        assert_eq!(store.count("intent", 0, i64::MAX).unwrap(), 50);
        store.insert(&[row(500, "credit", now - 40 * 86_400_000).into_record().unwrap()]).unwrap();
        assert_eq!(store.purge(now, &config).unwrap(), 1);
        // a full channel drops and counts, never blocks
        let tiny = PredictionLog::start(
            store.clone(),
            LogConfig { capacity: 1, flush_every: Duration::from_secs(5), ..LogConfig::default() },
        );
        for i in 0..1000 {
            tiny.record(row(1000 + i, "ner", now));
        }
        assert!(tiny.counters.dropped.load(Ordering::Relaxed) > 0);
        tiny.close();
        let kept = tiny.counters.written.load(Ordering::Relaxed) + tiny.counters.dropped.load(Ordering::Relaxed);
        assert_eq!(kept, 1000);
    }

    /// A log over a new store whose queue holds `bytes(size of one row)` bytes, and whose writer
    /// waits 5 s (nothing leaves the queue meanwhile); the store, the log, the time and the size.
    fn held_queue(bytes: impl Fn(usize) -> usize) -> (Arc<LogStore>, PredictionLog, i64, usize) {
        let store = Arc::new(LogStore::open(Db::sqlite_in_memory().unwrap()).unwrap());
        let now = now_ms();
        let size = row(0, "ner", now).size();
        let config =
            LogConfig { capacity_bytes: bytes(size), flush_every: Duration::from_secs(5), ..LogConfig::default() };
        let log = PredictionLog::start(store.clone(), config);
        std::thread::sleep(Duration::from_millis(50));
        (store, log, now, size)
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_too() {
        // room for 3 rows of this size
        let (_store, log, now, size) = held_queue(|size| 3 * size + size / 2);
        for i in 0..100 {
            log.record(row(i, "ner", now));
        }
        let (dropped, queued) =
            (log.counters.dropped.load(Ordering::Relaxed), log.counters.queued_bytes.load(Ordering::Relaxed));
        assert!(queued <= (3 * size + size / 2) as u64, "{queued} bytes queued");
        assert!(dropped >= 50, "{dropped} dropped");
        log.close();
        assert_eq!(log.counters.written.load(Ordering::Relaxed) + dropped, 100);
        assert_eq!(log.counters.queued_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_queue_is_bounded_in_rows() {
        let store = Arc::new(LogStore::open(Db::sqlite_in_memory().unwrap()).unwrap());
        let now = now_ms();
        let config = LogConfig { capacity: 3, flush_every: Duration::from_secs(5), ..LogConfig::default() };
        let log = PredictionLog::start(store, config);
        let mut most = 0;
        for i in 0..100 {
            log.record(row(i, "ner", now));
            most = most.max(log.counters.queued_rows.load(Ordering::Relaxed));
        }
        assert!(most <= 3, "{most} rows queued");
        let dropped = log.counters.dropped.load(Ordering::Relaxed);
        assert!(dropped >= 50, "{dropped} dropped");
        log.close();
        assert_eq!(log.counters.written.load(Ordering::Relaxed) + dropped, 100);
        assert_eq!(log.counters.queued_rows.load(Ordering::Relaxed), 0);
        assert_eq!(log.counters.queued_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_row_larger_than_the_bound_is_taken_into_an_empty_queue_only() {
        let (store, log, now, size) = held_queue(|size| size / 2);
        log.record(row(0, "ner", now));
        assert_eq!(log.counters.queued_bytes.load(Ordering::Relaxed), size as u64);
        log.record(row(1, "ner", now));
        assert_eq!(log.counters.dropped.load(Ordering::Relaxed), 1);
        log.close();
        assert_eq!(log.counters.written.load(Ordering::Relaxed), 1);
        assert_eq!(store.all("ner").unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["p0"]);
    }

    #[test]
    fn sampling_keeps_the_asked_share() {
        let store = Arc::new(LogStore::open(Db::sqlite_in_memory().unwrap()).unwrap());
        let log = PredictionLog::start(store, LogConfig { sample_rate: 0.25, ..LogConfig::default() });
        assert_eq!((0..1000).filter(|_| log.sampled()).count(), 250);
        log.close();
    }
}
