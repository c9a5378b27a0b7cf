//! Answering one request of a model, whatever the protocol (the JSON routes, OIP over REST
//! and gRPC): check it, answer through the cache (serialised once; identical concurrent
//! requests computed once), record the statistics and metrics, give it a `prediction_id` and
//! log it (sampled). HTTP knows nothing of this beyond calling [`answer`].

use crate::cache::Cached;
use crate::error::ApiError;
use crate::served::{Loaded, Served};
use crate::state::AppState;
use axum::body::Bytes;
use std::sync::Arc;
use std::time::Instant;

type ApiResult<T> = Result<T, ApiError>;

/// The loaded champion of `M` (503 until it is).
pub fn loaded<M: Served>(state: &AppState) -> ApiResult<Arc<Loaded<M>>> {
    M::slot(&state.models)
        .get()
        .ok_or_else(|| ApiError::Unavailable(format!("the {} model is not loaded yet", M::MODEL)))
}

pub(crate) fn internal(e: serde_json::Error) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A prediction id: 128 bits, lower-case hex, unique within the process and ordered by time —
/// 48 bits of Unix milliseconds, then 80 bits from a per-process random start plus a counter,
/// mixed — so that the log's index on ids grows at its end, as it does for UUIDv7 or ULID.
pub(crate) fn prediction_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static START: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let start = *START.get_or_init(|| (now.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let ms = (now.as_millis() as u64) & 0xFFFF_FFFF_FFFF;
    let low = mix(start.wrapping_add(n));
    let high = mix(start ^ n.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15) & 0xFFFF;
    hex128((u128::from(ms) << 80) | (u128::from(high) << 64) | u128::from(low))
}

/// `v` as 32 lower-case hex digits (`format!("{v:032x}")` without the formatting machinery,
/// which cost more than the rest of the id on every request).
fn hex128(v: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..32).rev().map(|k| char::from(DIGITS[((v >> (4 * k)) & 0xF) as usize])).collect()
}

/// The scratch buffer is let go when an answer (a large batch) grew it past this.
const KEEP: usize = 64 * 1024;

thread_local! {
    /// [`json_exact`]'s buffer, one per thread.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `value`'s JSON in a buffer of exactly its length. The body is kept in the cache, which weighs
/// it by its length: `serde_json::to_vec` would hand over the buffer it grew by doubling (a
/// 700-byte answer in 1,024 bytes), a third more than the cache counts. Written into this
/// thread's scratch buffer (no growing per request), then copied once.
fn json_exact<T: serde::Serialize>(value: &T) -> Result<Bytes, serde_json::Error> {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            serde_json::to_writer(&mut *buf, value)?;
            let body = Bytes::copy_from_slice(&buf);
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
            Ok(body)
        }
        // never: nothing serialised here serialises an answer in turn
        Err(_) => serde_json::to_vec(value).map(|mut v| {
            v.shrink_to_fit();
            Bytes::from(v)
        }),
    })
}

/// Check one request and answer it through the cache: the output's JSON and the prediction's
/// id. The answer is logged (sampled) when the prediction log is on.
pub async fn answer<M: Served>(state: &AppState, m: &Arc<Loaded<M>>, req: M::Request) -> ApiResult<(Bytes, String)> {
    let input = M::check(req).inspect_err(|_| state.stats.rejected(M::MODEL))?;
    let version = m.info.version;
    let input_json = serde_json::to_string(&input).map_err(internal)?;
    let key = format!("{version}:{input_json}");
    let logging = state.log.is_some();
    let started = Instant::now();
    let compute = async {
        let (output, observation) = if !m.model.blocking() {
            m.model.answer(&input, state.features.as_deref())?
        } else if let Some(answered) = m.model.answer_now(&input, state.features.as_deref()) {
            answered?
        } else {
            let (model, features) = (m.clone(), state.features.clone());
            tokio::task::spawn_blocking(move || model.model.answer(&input, features.as_deref())).await??
        };
        let confidence = M::confidence(&output);
        // serialised by the log's writer (or the shared cache level), never here
        let observation = logging.then(|| nivesh_monitor::log::Observed::Values(Arc::new(observation)));
        Ok(Cached { body: json_exact(&output).map_err(internal)?, confidence, observation })
    };
    let result = state.cache.get_or_compute(M::MODEL, key, compute).await;
    let us = started.elapsed().as_secs_f64() * 1e6;
    let id = prediction_id();
    match &result {
        Ok((v, hit)) => {
            state.metrics.prediction(M::MODEL.name(), version, *hit);
            state.stats.record(M::MODEL, us, true, v.confidence, Some(*hit));
            if let Some(log) = state.log.as_ref().filter(|l| l.sampled()) {
                log.record(nivesh_monitor::log::Entry {
                    id: id.clone(),
                    model: M::MODEL.name(),
                    version,
                    ts: chrono::Utc::now().timestamp_millis(),
                    latency_us: us,
                    input: input_json,
                    observation: v.observation.clone().unwrap_or_default(),
                    output: v.body.clone(),
                    free_text: M::FREE_TEXT,
                });
            }
        }
        Err(_) => state.stats.record(M::MODEL, us, false, None, None),
    }
    result.map(|(v, _)| (v.body, id))
}

/// Online features of users (`POST /features/online`, the `get_user_features` tool).
pub async fn online_features(
    state: &AppState,
    req: crate::types::OnlineFeaturesRequest,
) -> ApiResult<Vec<crate::types::EntityFeatures>> {
    if req.entity_ids.is_empty() {
        return Err(ApiError::invalid("entity_ids", "must not be empty"));
    }
    if req.entity_ids.len() > state.config.max_batch {
        return Err(ApiError::invalid("entity_ids", format!("at most {} per request", state.config.max_batch)));
    }
    let fs = state.features.clone().ok_or_else(|| ApiError::Unavailable("no feature store configured".into()))?;
    let now = chrono::Utc::now().timestamp();
    // from memory when nothing was written since these records were read: no row read, no
    // hand-off to the blocking pool
    let known = {
        let (ids, views) = borrowed(&req);
        fs.get_online_features_now(&ids, &views, now)
    };
    if let Some(found) = known {
        return Ok(found);
    }
    Ok(tokio::task::spawn_blocking(move || {
        let (ids, views) = borrowed(&req);
        fs.get_online_features(&ids, &views, now, false)
    })
    .await??)
}

/// The request's entity ids and view names as the feature store takes them.
fn borrowed(req: &crate::types::OnlineFeaturesRequest) -> (Vec<&str>, Vec<&str>) {
    (req.entity_ids.iter().map(String::as_str).collect(), req.views.iter().map(String::as_str).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_as_32_hex_digits() {
        for v in [0u128, 1, 0xABC, u128::MAX, 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210] {
            assert_eq!(hex128(v), format!("{v:032x}"));
        }
    }

    #[test]
    fn prediction_ids_are_unique_hex_and_ordered_by_time() {
        let (a, b) = (prediction_id(), prediction_id());
        assert!(a.len() == 32 && a != b && a.chars().all(|c| c.is_ascii_hexdigit()), "{a} {b}");
        assert!(a[..12] <= b[..12], "{a} {b}");
    }

    #[test]
    fn an_answers_json_is_serde_jsons_whatever_came_before() {
        let small = serde_json::json!({"intent": "check_balance", "confidence": 0.93, "top": [1, 2, 3]});
        let large = serde_json::json!({"outputs": vec!["x".repeat(1000); 100]});
        let empty = serde_json::json!({});
        for v in [&small, &large, &small, &empty, &small] {
            assert_eq!(json_exact(v).unwrap(), serde_json::to_vec(v).unwrap());
        }
        // the large answer let go of the scratch buffer; a small one's is kept for the next
        let kept = SCRATCH.with(|c| c.borrow().capacity());
        assert!((2..=KEEP).contains(&kept), "{kept}");
    }
}
