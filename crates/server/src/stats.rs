//! Per-model statistics for `/monitoring/statistics`: counts, errors, latency percentiles
//! over the last 10,000 predictions, and a confidence summary.

use crate::types::ModelStatistics;
use nivesh_models::ModelKind;
use std::collections::VecDeque;
use std::sync::Mutex;

const WINDOW: usize = 10_000;

#[derive(Default)]
struct ModelStats {
    requests: u64,
    errors: u64,
    cache_hits: u64,
    cache_misses: u64,
    latencies_us: VecDeque<f64>,
    confidence_sum: f64,
    confidence_n: u64,
    confidence_min: Option<f64>,
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
        self.with(model, |s| {
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
            }
            s.latencies_us.push_back(latency_us);
            if let Some(c) = confidence.filter(|c| c.is_finite()) {
                s.confidence_sum += c;
                s.confidence_n += 1;
                s.confidence_min = Some(s.confidence_min.map_or(c, |m: f64| m.min(c)));
            }
        });
    }

    pub fn snapshot(&self, versions: &dyn Fn(ModelKind) -> Option<u32>) -> Vec<ModelStatistics> {
        ModelKind::ALL
            .iter()
            .zip(&self.models)
            .map(|(&kind, m)| {
                let s = m.lock().map(|s| {
                    let mut lat: Vec<f64> = s.latencies_us.iter().copied().collect();
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
