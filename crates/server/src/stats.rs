//! Per-model statistics for `/monitoring/statistics`: counts, errors, latency percentiles
//! over the last 10,000 predictions, and a confidence summary; and the last hour's traffic
//! minute by minute for `/monitoring/traffic` and the dashboard (60 fixed slots per model,
//! each with a log-bucketed latency histogram: bounded memory whatever the load).

use crate::types::ModelStatistics;
use nivesh_api::{MinuteTraffic, Traffic};
use nivesh_models::ModelKind;
use std::collections::VecDeque;
use std::sync::Mutex;

const WINDOW: usize = 10_000;

/// Latency buckets: bucket i holds answers under `FIRST_US * GROWTH^i` µs (10 µs … ~70 s).
const BUCKETS: usize = 80;
const FIRST_US: f64 = 10.0;
const GROWTH: f64 = 1.22;
const MINUTES: usize = 60;

fn bucket(us: f64) -> usize {
    if us.is_nan() || us <= FIRST_US {
        return 0;
    }
    ((us / FIRST_US).ln() / GROWTH.ln()).ceil().min((BUCKETS - 1) as f64) as usize
}

/// The upper edge of bucket i, µs.
fn bucket_top(i: usize) -> f64 {
    FIRST_US * GROWTH.powi(i as i32)
}

#[derive(Clone)]
struct Minute {
    /// Minutes since the Unix epoch; a slot whose minute is over an hour old is empty.
    minute: i64,
    requests: u64,
    errors: u64,
    rejected: u64,
    hits: u64,
    misses: u64,
    latency: [u32; BUCKETS],
}

impl Minute {
    fn empty(minute: i64) -> Self {
        Minute { minute, requests: 0, errors: 0, rejected: 0, hits: 0, misses: 0, latency: [0; BUCKETS] }
    }
}

fn p99(hist: &[u32; BUCKETS]) -> Option<f64> {
    let n: u64 = hist.iter().map(|&c| u64::from(c)).sum();
    if n == 0 {
        return None;
    }
    let rank = (n as f64 * 0.99).ceil() as u64;
    let mut seen = 0;
    for (i, &c) in hist.iter().enumerate() {
        seen += u64::from(c);
        if seen >= rank {
            return Some(bucket_top(i) / 1000.0);
        }
    }
    None
}

fn unix_minute(now: std::time::SystemTime) -> i64 {
    now.duration_since(std::time::UNIX_EPOCH).map(|d| (d.as_secs() / 60) as i64).unwrap_or(0)
}

#[derive(Default)]
struct ModelStats {
    requests: u64,
    errors: u64,
    cache_hits: u64,
    cache_misses: u64,
    /// The last [`WINDOW`] latencies (f32: whole microseconds are exact up to 16 s), its
    /// capacity reserved exactly on the first request (a deque grown by doubling would hold
    /// 16,384 slots for 10,000).
    latencies_us: VecDeque<f32>,
    confidence_sum: f64,
    confidence_n: u64,
    confidence_min: Option<f64>,
    minutes: Vec<Minute>,
}

impl ModelStats {
    /// This minute's slot, emptied first when it still holds an older minute.
    fn minute(&mut self, minute: i64) -> &mut Minute {
        if self.minutes.is_empty() {
            self.minutes = vec![Minute::empty(i64::MIN); MINUTES];
        }
        let slot = &mut self.minutes[minute.rem_euclid(MINUTES as i64) as usize];
        if slot.minute != minute {
            *slot = Minute::empty(minute);
        }
        slot
    }
}

/// Per model, indexed by [`ModelKind::index`].
pub struct Stats {
    models: Vec<Mutex<ModelStats>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { models: ModelKind::ALL.iter().map(|_| Mutex::default()).collect() }
    }
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied()
}

impl Stats {
    fn with(&self, model: ModelKind, f: impl FnOnce(&mut ModelStats)) {
        if let Some(m) = self.models.get(model.index())
            && let Ok(mut s) = m.lock()
        {
            f(&mut s);
        }
    }

    pub fn record(
        &self,
        model: ModelKind,
        latency_us: f64,
        ok: bool,
        confidence: Option<f64>,
        cache_hit: Option<bool>,
    ) {
        self.record_at(std::time::SystemTime::now(), model, latency_us, ok, confidence, cache_hit)
    }

    fn record_at(
        &self,
        now: std::time::SystemTime,
        model: ModelKind,
        latency_us: f64,
        ok: bool,
        confidence: Option<f64>,
        cache_hit: Option<bool>,
    ) {
        self.with(model, |s| {
            let m = s.minute(unix_minute(now));
            m.requests += 1;
            m.errors += u64::from(!ok);
            match cache_hit {
                Some(true) => m.hits += 1,
                Some(false) => m.misses += 1,
                None => {}
            }
            m.latency[bucket(latency_us)] += 1;
            s.requests += 1;
            if !ok {
                s.errors += 1;
            }
            match cache_hit {
                Some(true) => s.cache_hits += 1,
                Some(false) => s.cache_misses += 1,
                None => {}
            }
            if s.latencies_us.len() == WINDOW {
                s.latencies_us.pop_front();
            } else if s.latencies_us.capacity() == 0 {
                s.latencies_us.reserve_exact(WINDOW);
            }
            s.latencies_us.push_back(latency_us as f32);
            if let Some(c) = confidence.filter(|c| c.is_finite()) {
                s.confidence_sum += c;
                s.confidence_n += 1;
                s.confidence_min = Some(s.confidence_min.map_or(c, |m: f64| m.min(c)));
            }
        });
    }

    /// A request refused for its input (counted in the hour's traffic only).
    pub fn rejected(&self, model: ModelKind) {
        let minute = unix_minute(std::time::SystemTime::now());
        self.with(model, |s| s.minute(minute).rejected += 1);
    }

    /// Every model's traffic over the hour before `now`.
    pub fn traffic(&self, now: std::time::SystemTime) -> Vec<Traffic> {
        let current = unix_minute(now);
        ModelKind::ALL
            .iter()
            .zip(&self.models)
            .map(|(&kind, m)| {
                let mut minutes: Vec<Minute> = m
                    .lock()
                    .map(|s| {
                        s.minutes
                            .iter()
                            .filter(|x| x.minute > current - MINUTES as i64 && x.minute <= current)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                minutes.sort_by_key(|x| x.minute);
                let mut all = Minute::empty(current);
                for x in &minutes {
                    all.requests += x.requests;
                    all.errors += x.errors;
                    all.rejected += x.rejected;
                    all.hits += x.hits;
                    all.misses += x.misses;
                    for (a, b) in all.latency.iter_mut().zip(&x.latency) {
                        *a += b;
                    }
                }
                Traffic {
                    model: kind.name().to_string(),
                    requests_per_second: all.requests as f64 / (MINUTES * 60) as f64,
                    error_rate: (all.requests > 0).then(|| all.errors as f64 / all.requests as f64),
                    rejected: all.rejected,
                    latency_p99_ms: p99(&all.latency),
                    cache_hit_rate: (all.hits + all.misses > 0)
                        .then(|| all.hits as f64 / (all.hits + all.misses) as f64),
                    requests: all.requests,
                    cache_hits: all.hits,
                    cache_misses: all.misses,
                    minutes: minutes
                        .iter()
                        .filter(|x| x.requests > 0)
                        .map(|x| MinuteTraffic {
                            at: chrono::DateTime::from_timestamp(x.minute * 60, 0)
                                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                                .unwrap_or_default(),
                            requests: x.requests,
                            errors: x.errors,
                            latency_p99_ms: p99(&x.latency),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    pub fn snapshot(&self, versions: &dyn Fn(ModelKind) -> Option<u32>) -> Vec<ModelStatistics> {
        ModelKind::ALL
            .iter()
            .zip(&self.models)
            .map(|(&kind, m)| {
                let s = m.lock().map(|s| {
                    let mut lat: Vec<f64> = s.latencies_us.iter().map(|&l| f64::from(l)).collect();
                    lat.sort_by(f64::total_cmp);
                    (
                        s.requests,
                        s.errors,
                        s.cache_hits,
                        s.cache_misses,
                        lat,
                        s.confidence_sum,
                        s.confidence_n,
                        s.confidence_min,
                    )
                });
                let (requests, errors, hits, misses, lat, csum, cn, cmin) =
                    s.unwrap_or((0, 0, 0, 0, Vec::new(), 0.0, 0, None));
                ModelStatistics {
                    model: kind.name().to_string(),
                    version: versions(kind),
                    requests,
                    errors,
                    latency_us_p50: percentile(&lat, 0.50),
                    latency_us_p95: percentile(&lat, 0.95),
                    latency_us_p99: percentile(&lat, 0.99),
                    confidence_mean: (cn > 0).then(|| csum / cn as f64),
                    confidence_min: cmin,
                    cache_hits: hits,
                    cache_misses: misses,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn buckets_cover_the_range_and_grow_by_22_percent() {
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(f64::NAN), 0);
        assert_eq!(bucket(10.0), 0);
        assert_eq!(bucket(12.0), 1);
        assert_eq!(bucket(1e12), BUCKETS - 1);
        for us in [15.0, 333.0, 4_100.0, 1e6] {
            let b = bucket(us);
            assert!(bucket_top(b) >= us && bucket_top(b - 1) < us, "{us} in bucket {b}");
        }
    }

    #[test]
    fn the_hour_is_counted_minute_by_minute_and_older_minutes_drop_out() {
        let stats = Stats::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000 / 60 * 60); // a minute's start
        // minute 0: 100 intent answers, 99 at 1 ms and one at 50 ms, one failed; 3 cache hits
        for i in 0..100 {
            let us = if i == 0 { 50_000.0 } else { 1_000.0 };
            stats.record_at(t0, ModelKind::Intent, us, i != 1, None, Some(i < 3));
        }
        // minute 30: 20 more at 2 ms
        for _ in 0..20 {
            stats.record_at(t0 + Duration::from_secs(30 * 60), ModelKind::Intent, 2_000.0, true, None, Some(false));
        }
        let now = t0 + Duration::from_secs(30 * 60 + 5);
        let t = stats.traffic(now);
        assert_eq!(t.len(), ModelKind::ALL.len());
        let intent = &t[ModelKind::Intent.index()];
        assert_eq!(intent.minutes.iter().map(|m| m.requests).collect::<Vec<_>>(), vec![100, 20]);
        assert_eq!(intent.minutes[0].errors, 1);
        assert!((intent.requests_per_second - 120.0 / 3600.0).abs() < 1e-12);
        assert_eq!(intent.error_rate, Some(1.0 / 120.0));
        assert_eq!(intent.cache_hit_rate, Some(3.0 / 120.0));
        // 120 answers: the 119th-ranked (99 %) is a 2 ms one; the bucket's top is within 22 %
        let p = intent.latency_p99_ms.unwrap();
        assert!((2.0..2.44).contains(&p), "{p}");
        // minute 0 alone: its p99 (rank 99 of 100) is 1 ms, the 50 ms outlier is the 100th
        let p0 = intent.minutes[0].latency_p99_ms.unwrap();
        assert!((1.0..1.22).contains(&p0), "{p0}");
        assert!(t[ModelKind::Credit.index()].minutes.is_empty());
        assert_eq!(t[ModelKind::Credit.index()].error_rate, None);
        // 61 minutes later minute 0 has dropped out; the slot is reused by minute 60
        let later = t0 + Duration::from_secs(60 * 60 + 10);
        stats.record_at(later, ModelKind::Intent, 500.0, true, None, None);
        let t = stats.traffic(later);
        assert_eq!(t[ModelKind::Intent.index()].minutes.iter().map(|m| m.requests).collect::<Vec<_>>(), vec![20, 1]);
    }
}
