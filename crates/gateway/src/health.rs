//! Per-deployment health, consulted before each attempt: a circuit breaker, and the
//! provider's own request to wait.
//!
//! The breaker opens after `breaker_failures` consecutive failures (connection
//! errors, timeouts, 5xx); while open the deployment is skipped. After
//! `breaker_cooldown_ms` one request is let through as a probe: its success closes
//! the breaker, its failure opens it for another cooldown. A 429 is not a failure (the
//! deployment works, it is full) but its `retry-after` is honoured: the deployment
//! is skipped until then. State is in memory, per process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use meridian_core::config::BreakerPolicy;
use parking_lot::Mutex;

/// Whether an attempt may go to the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Yes,
    /// The breaker's probe: report its outcome, or [`Health::release_probe`].
    Probe,
    /// Not before `until`: the breaker is open (`resting` false) or the provider
    /// asked to wait (`resting` true).
    No {
        until: Instant,
        resting: bool,
    },
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
    resting_until: Option<Instant>,
}

#[derive(Debug)]
pub struct Health {
    policy: BreakerPolicy,
    state: Mutex<State>,
    /// Recent time to first byte, in µs, smoothed (0: not measured yet).
    latency_us: AtomicU64,
}

impl Health {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(State::default()),
            latency_us: AtomicU64::new(0),
        }
    }

    pub fn admit(&self, now: Instant) -> Admit {
        let mut s = self.state.lock();
        if let Some(until) = s.resting_until {
            if now < until {
                return Admit::No {
                    until,
                    resting: true,
                };
            }
            s.resting_until = None;
        }
        match s.open_until {
            None => Admit::Yes,
            Some(until) if now < until || s.probing => Admit::No {
                until: until.max(now),
                resting: false,
            },
            Some(_) => {
                s.probing = true;
                Admit::Probe
            }
        }
    }

    /// An admitted probe that was not sent after all (no capacity).
    pub fn release_probe(&self) {
        self.state.lock().probing = false;
    }

    pub fn succeeded(&self) {
        let mut s = self.state.lock();
        s.failures = 0;
        s.open_until = None;
        s.probing = false;
    }

    /// A connection error, timeout or 5xx. Returns whether it opened the breaker (a
    /// failed probe opens it again).
    pub fn failed(&self, now: Instant) -> bool {
        let mut s = self.state.lock();
        s.failures = s.failures.saturating_add(1);
        if !(s.probing || s.failures >= self.policy.failures) {
            return false;
        }
        let opened = s.open_until.is_none() || s.probing;
        s.open_until = Some(now + self.policy.cooldown);
        s.probing = false;
        opened
    }

    /// The provider answered 429: skip the deployment for `wait`.
    pub fn rest(&self, now: Instant, wait: Duration) {
        let mut s = self.state.lock();
        s.probing = false;
        s.resting_until = Some(now + wait);
    }

    /// Folds one response's time to first byte into the recent latency (an
    /// exponentially weighted mean, each new sample weighing 1/8). Concurrent
    /// samples may overwrite each other; the mean stays a mean of samples.
    pub fn observe_latency(&self, latency: Duration) {
        let sample = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let old = self.latency_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old.saturating_mul(7).saturating_add(sample) / 8).max(1)
        };
        self.latency_us.store(new, Ordering::Relaxed);
    }

    /// The recent time to first byte, once measured.
    pub fn latency(&self) -> Option<Duration> {
        match self.latency_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Whether the breaker is open (for `/metrics`).
    pub fn is_open(&self) -> bool {
        self.state.lock().open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> (Health, Instant) {
        let policy = BreakerPolicy {
            failures: 3,
            cooldown: Duration::from_secs(10),
        };
        (Health::new(policy), Instant::now())
    }

    #[test]
    fn opens_after_consecutive_failures_and_a_good_probe_closes_it() {
        let (h, t0) = health();
        h.failed(t0);
        h.failed(t0);
        h.succeeded();
        h.failed(t0);
        h.failed(t0);
        assert_eq!(h.admit(t0), Admit::Yes, "failures must be consecutive");
        h.failed(t0);
        assert!(matches!(h.admit(t0), Admit::No { resting: false, .. }));
        let later = t0 + Duration::from_secs(10);
        assert_eq!(h.admit(later), Admit::Probe);
        assert!(
            matches!(h.admit(later), Admit::No { .. }),
            "one probe at a time"
        );
        h.succeeded();
        assert_eq!(h.admit(later), Admit::Yes);
        assert!(!h.is_open());
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_cooldown() {
        let (h, t0) = health();
        for _ in 0..3 {
            h.failed(t0);
        }
        let later = t0 + Duration::from_secs(10);
        assert_eq!(h.admit(later), Admit::Probe);
        h.failed(later);
        assert_eq!(
            h.admit(later + Duration::from_secs(9)),
            Admit::No {
                until: later + Duration::from_secs(10),
                resting: false
            }
        );
        assert_eq!(h.admit(later + Duration::from_secs(10)), Admit::Probe);
        h.release_probe();
        assert_eq!(h.admit(later + Duration::from_secs(10)), Admit::Probe);
    }

    #[test]
    fn a_429_rests_the_deployment_without_counting_as_a_failure() {
        let (h, t0) = health();
        h.rest(t0, Duration::from_secs(2));
        assert_eq!(
            h.admit(t0 + Duration::from_secs(1)),
            Admit::No {
                until: t0 + Duration::from_secs(2),
                resting: true
            }
        );
        assert_eq!(h.admit(t0 + Duration::from_secs(2)), Admit::Yes);
        assert!(!h.is_open());
    }
}
