//! A circuit breaker: closed (calls pass; failures counted) → open after `consecutive_failures`
//! failures in a row, or a failure rate of at least `failure_rate` over the last `window` once
//! `min_calls` calls were made in it → after `open_for`, half-open: up to `half_open_probes`
//! calls pass as probes, the rest fail fast; `half_open_probes` successes close it, one failure
//! opens it again. Only the server's failures count (no connection, a timeout, a 5xx); a
//! refused request (4xx, 429) says nothing of the server's health.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a breaker opens and how it recovers.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Open after this many failures in a row (0: never on a count).
    pub consecutive_failures: u32,
    /// Open when at least this share of the calls in `window` failed (> 1: never on a rate) …
    pub failure_rate: f64,
    /// … over this much time …
    pub window: Duration,
    /// … once at least this many calls were made in it.
    pub min_calls: u32,
    /// Stay open this long before probing.
    pub open_for: Duration,
    /// Calls let through while half-open; as many successes close it.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            consecutive_failures: 5,
            failure_rate: 0.5,
            window: Duration::from_secs(30),
            min_calls: 20,
            open_for: Duration::from_secs(10),
            half_open_probes: 1,
        }
    }
}

impl BreakerConfig {
    /// Check the settings (a breaker that could never close is refused).
    pub fn validate(&self) -> Result<(), String> {
        if self.half_open_probes == 0 {
            return Err("half_open_probes must be at least 1".into());
        }
        if self.failure_rate.is_nan() || self.failure_rate <= 0.0 {
            return Err(format!("failure_rate {}: must be above 0 (above 1 turns it off)", self.failure_rate));
        }
        if self.window.is_zero() && self.failure_rate <= 1.0 {
            return Err("window must be above zero for a failure rate".into());
        }
        Ok(())
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// How many times it has opened: a probe's permit names the half-open period it belongs to.
    cycle: u64,
    consecutive: u32,
    /// (when, failed) of the calls in the window; bounded by [`MAX_WINDOW_CALLS`].
    calls: VecDeque<(Instant, bool)>,
}

/// The window keeps at most this many calls (the oldest go first): a bound on memory under
/// any load; the rate is then over the most recent calls.
const MAX_WINDOW_CALLS: usize = 10_000;

/// One breaker (the client keeps one per route).
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Leave to make one call; give it back with [`Breaker::record`], or with
/// [`Breaker::release`] when the call was abandoned (its future dropped) before an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    probe: bool,
    cycle: u64,
}

/// A state change, for the metrics hooks.
pub type Transition = Option<(BreakerState, BreakerState)>;

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            inner: Mutex::new(Inner { phase: Phase::Closed, cycle: 0, consecutive: 0, calls: VecDeque::new() }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // a panic elsewhere while holding it leaves consistent data: go on with it
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May a call go now? `Err(wait)`: no — open for about `wait` more (zero: half-open with
    /// its probes out).
    pub fn acquire(&self) -> (Result<Permit, Duration>, Transition) {
        let now = Instant::now();
        let mut inner = self.lock();
        let cycle = inner.cycle;
        match inner.phase {
            Phase::Closed => (Ok(Permit { probe: false, cycle }), None),
            Phase::Open { until } if now < until => (Err(until - now), None),
            Phase::Open { .. } => {
                inner.phase = Phase::HalfOpen { in_flight: 1, successes: 0 };
                (Ok(Permit { probe: true, cycle }), Some((BreakerState::Open, BreakerState::HalfOpen)))
            }
            Phase::HalfOpen { ref mut in_flight, successes } => {
                if *in_flight + successes < self.config.half_open_probes {
                    *in_flight += 1;
                    (Ok(Permit { probe: true, cycle }), None)
                } else {
                    (Err(Duration::ZERO), None)
                }
            }
        }
    }

    /// The outcome of a call made with `permit`: `failed` when the server failed it.
    pub fn record(&self, permit: Permit, failed: bool) -> Transition {
        let now = Instant::now();
        let mut inner = self.lock();
        let window = self.config.window;
        while inner.calls.front().is_some_and(|(t, _)| now.duration_since(*t) > window)
            || inner.calls.len() >= MAX_WINDOW_CALLS
        {
            inner.calls.pop_front();
        }
        inner.calls.push_back((now, failed));
        inner.consecutive = if failed { inner.consecutive + 1 } else { 0 };
        let trips = failed && self.should_open(&inner);
        let current = permit.cycle == inner.cycle;
        match inner.phase {
            // a probe of this half-open period (one from an earlier period, outliving it, is
            // not evidence about this one)
            Phase::HalfOpen { ref mut in_flight, ref mut successes } if permit.probe && current => {
                *in_flight = in_flight.saturating_sub(1);
                if failed {
                    self.open(&mut inner, now);
                    Some((BreakerState::HalfOpen, BreakerState::Open))
                } else {
                    *successes += 1;
                    if *successes >= self.config.half_open_probes {
                        inner.phase = Phase::Closed;
                        inner.calls.clear();
                        inner.consecutive = 0;
                        Some((BreakerState::HalfOpen, BreakerState::Closed))
                    } else {
                        None
                    }
                }
            }
            Phase::Closed if trips => {
                self.open(&mut inner, now);
                Some((BreakerState::Closed, BreakerState::Open))
            }
            // a call let through before the breaker opened, ending after: it changes nothing
            _ => None,
        }
    }

    /// Give back the permit of a call abandoned before it had an outcome (its future dropped:
    /// a caller's timeout, a `select!`): a probe's slot is free again, nothing is counted.
    pub fn release(&self, permit: Permit) {
        let mut inner = self.lock();
        let current = permit.cycle == inner.cycle;
        if let Phase::HalfOpen { ref mut in_flight, .. } = inner.phase
            && permit.probe
            && current
        {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    fn should_open(&self, inner: &Inner) -> bool {
        let c = &self.config;
        if c.consecutive_failures > 0 && inner.consecutive >= c.consecutive_failures {
            return true;
        }
        let n = inner.calls.len();
        if c.failure_rate > 1.0 || n < c.min_calls.max(1) as usize {
            return false;
        }
        let failed = inner.calls.iter().filter(|(_, f)| *f).count();
        failed as f64 / n as f64 >= c.failure_rate
    }

    fn open(&self, inner: &mut Inner, now: Instant) {
        inner.phase = Phase::Open { until: now + self.config.open_for };
        inner.cycle += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: 3,
            failure_rate: 2.0,
            window: Duration::from_secs(60),
            min_calls: 1,
            open_for: Duration::from_millis(50),
            half_open_probes: 2,
        }
    }

    fn call(b: &Breaker, failed: bool) -> Result<Transition, Duration> {
        let (permit, _) = b.acquire();
        permit.map(|p| b.record(p, failed))
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_success_resets_the_count() {
        let b = Breaker::new(cfg());
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, false), Ok(None));
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, true), Ok(Some((BreakerState::Closed, BreakerState::Open))));
        assert_eq!(b.state(), BreakerState::Open);
        let wait = call(&b, false).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(50), "{wait:?}");
    }

    #[test]
    fn half_open_lets_the_probes_through_and_closes_after_as_many_successes() {
        let b = Breaker::new(cfg());
        (0..3).for_each(|_| {
            let _ = call(&b, true);
        });
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let (p1, t) = b.acquire();
        assert_eq!(t, Some((BreakerState::Open, BreakerState::HalfOpen)));
        let (p2, _) = b.acquire();
        // two probes out: a third call fails fast
        assert_eq!(b.acquire().0, Err(Duration::ZERO));
        assert_eq!(b.record(p1.unwrap(), false), None);
        assert_eq!(b.record(p2.unwrap(), false), Some((BreakerState::HalfOpen, BreakerState::Closed)));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_it_again() {
        let b = Breaker::new(cfg());
        (0..3).for_each(|_| {
            let _ = call(&b, true);
        });
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(call(&b, true), Ok(Some((BreakerState::HalfOpen, BreakerState::Open))));
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn an_abandoned_probe_frees_its_slot_and_a_late_one_changes_nothing() {
        let b = Breaker::new(BreakerConfig { half_open_probes: 1, ..cfg() });
        (0..3).for_each(|_| {
            let _ = call(&b, true);
        });
        std::thread::sleep(Duration::from_millis(60));
        // the probe's caller gave up: without release the breaker would refuse every call
        let (p, _) = b.acquire();
        assert_eq!(b.acquire().0, Err(Duration::ZERO));
        b.release(p.unwrap());
        let (late, _) = b.acquire();
        let late = late.unwrap();
        // the probe fails: open again; a probe of that earlier period returning now is ignored
        assert_eq!(call(&b, true), Err(Duration::ZERO));
        assert_eq!(b.record(late, true), Some((BreakerState::HalfOpen, BreakerState::Open)));
        std::thread::sleep(Duration::from_millis(60));
        let (fresh, _) = b.acquire();
        assert_eq!(b.record(late, false), None, "a probe of an earlier period");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.record(fresh.unwrap(), false), Some((BreakerState::HalfOpen, BreakerState::Closed)));
    }

    #[test]
    fn opens_on_the_failure_rate_once_enough_calls_were_made() {
        let b = Breaker::new(BreakerConfig { consecutive_failures: 0, failure_rate: 0.5, min_calls: 4, ..cfg() });
        // fail, ok, fail: 2 of 3, below min_calls
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, false), Ok(None));
        assert_eq!(call(&b, true), Ok(None));
        assert_eq!(call(&b, false), Ok(None));
        // 3 of 5 failed ≥ 0.5
        assert_eq!(call(&b, true), Ok(Some((BreakerState::Closed, BreakerState::Open))));
    }

    #[test]
    fn settings_that_could_never_close_are_refused() {
        assert!(BreakerConfig { half_open_probes: 0, ..cfg() }.validate().is_err());
        assert!(BreakerConfig { failure_rate: 0.0, ..cfg() }.validate().is_err());
        assert!(cfg().validate().is_ok() && BreakerConfig::default().validate().is_ok());
    }
}
