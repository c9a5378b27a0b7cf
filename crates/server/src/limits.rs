//! Per-client rate limiting (a token bucket per API key, or per client IP without one) and the
//! in-flight limit with per-request timeout, as one middleware: over the rate → 429 with
//! `Retry-After`; too many requests in flight → 429 "overloaded" at once (no unbounded queue);
//! a request running past the timeout → 503.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter { per_second, burst: burst.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Take one token for `client`; `Err(seconds)` until the next token when there is none.
    pub fn check(&self, client: &str) -> Result<(), u64> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            // forget idle clients rather than grow without bound
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * self.per_second < self.burst);
        }
        let b = buckets.entry(client.to_string()).or_insert(Bucket { tokens: self.burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_second).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// The client a request counts against: its API key if it sent one, else its address.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_the_burst_then_refuse_per_client() {
        let l = RateLimiter::new(1.0, 3.0);
        assert!((0..3).all(|_| l.check("a").is_ok()));
        assert_eq!(l.check("a"), Err(1));
        assert!(l.check("b").is_ok());
        assert!(RateLimiter::new(0.0, 1.0).check("a").is_ok());
    }
}
