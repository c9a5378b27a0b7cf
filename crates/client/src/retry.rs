//! Retries: exponential backoff with full jitter (a random wait in `[0, min(max_delay,
//! base_delay × 2^attempt)]`, AWS's "full jitter", so a crowd of clients does not retry in
//! step), and the server's `Retry-After` honoured as it is given, when it is no longer than
//! `max_retry_after` (a longer one ends the retries: the caller hears it at once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a call is retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: none).
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` waited for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// The wait before retry number `attempt` (0 for the first retry), or `None` when the
    /// server asked for longer than `max_retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if let Some(wait) = retry_after {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let cap =
            self.base_delay.saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX)).min(self.max_delay);
        Some(cap.mul_f64(unit_random()))
    }
}

/// A number in [0, 1): splitmix64 over a process-wide counter seeded from the clock.
fn unit_random() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut seed = STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        seed = (now.as_nanos() as u64) | 1;
        STATE.store(seed, Ordering::Relaxed);
    }
    let mut z = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_below_it() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        for (attempt, cap) in [(0, 100), (1, 200), (2, 400), (3, 500), (40, 500)] {
            let waits: Vec<Duration> = (0..200).map(|_| p.delay(attempt, None).unwrap()).collect();
            assert!(waits.iter().all(|w| *w <= Duration::from_millis(cap)), "{attempt}: {waits:?}");
            // jittered: not all the same, and some in the upper half
            assert!(waits.iter().any(|w| *w > Duration::from_millis(cap / 2)), "{attempt}");
            assert!(waits.windows(2).any(|w| w[0] != w[1]), "{attempt}");
        }
    }

    #[test]
    fn retry_after_is_taken_as_given_up_to_the_limit() {
        let p = RetryPolicy { max_retry_after: Duration::from_secs(3), ..RetryPolicy::default() };
        assert_eq!(p.delay(0, Some(Duration::from_secs(2))), Some(Duration::from_secs(2)));
        assert_eq!(p.delay(5, Some(Duration::from_secs(3))), Some(Duration::from_secs(3)));
        assert_eq!(p.delay(0, Some(Duration::from_secs(4))), None);
    }
}
