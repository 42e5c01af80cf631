//! A count of requests and tokens over any sliding 60-second window, in one-second
//! buckets: what a deployment's capacity ([`crate::capacity`]) and a key's or a
//! customer's limits ([`crate::limits`]) are measured in. A bucket is forgotten only
//! once all of it is more than 60 s old, so the window counted is 60 to 61 s long:
//! a caller may be refused up to a second's worth early, never admitted over.
//!
//! Seconds are counted from an origin the owner picks (its start), so a window is a
//! plain array with no clock of its own.

use std::time::{Duration, Instant};

/// Seconds in the window.
const WINDOW_SECS: u64 = 60;
/// Buckets kept: the window, and the second in progress.
const BUCKETS: usize = WINDOW_SECS as usize + 1;

/// A per-minute allowance; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerMinute {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

impl PerMinute {
    pub fn is_unlimited(&self) -> bool {
        self.rpm.is_none() && self.tpm.is_none()
    }
}

/// The second `now` falls in, counted from `origin`, and how far into it `now` is.
pub fn second(origin: Instant, now: Instant) -> (u64, Duration) {
    let elapsed = now.saturating_duration_since(origin);
    (
        elapsed.as_secs(),
        elapsed - Duration::from_secs(elapsed.as_secs()),
    )
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// The second this bucket counts (buckets are reused around a ring).
    second: u64,
    requests: u64,
    tokens: u64,
}

#[derive(Debug, Clone)]
pub struct Window {
    buckets: [Bucket; BUCKETS],
}

impl Default for Window {
    fn default() -> Self {
        Self {
            buckets: [Bucket::default(); BUCKETS],
        }
    }
}

impl Window {
    /// Requests and tokens counted in the window that ends with `second`.
    pub fn used(&self, second: u64) -> (u64, u64) {
        let oldest = second.saturating_sub(WINDOW_SECS);
        self.buckets
            .iter()
            .filter(|b| {
                b.second >= oldest && b.second <= second && (b.requests, b.tokens) != (0, 0)
            })
            .fold((0, 0), |(r, t), b| (r + b.requests, t + b.tokens))
    }

    /// Whether one more request of `tokens` fits `allowance` in the window ending with
    /// `second`.
    pub fn fits(&self, allowance: PerMinute, second: u64, tokens: u64) -> bool {
        if allowance.is_unlimited() {
            return true;
        }
        let (requests, used) = self.used(second);
        let over_rpm = allowance.rpm.is_some_and(|rpm| requests + 1 > rpm);
        let over_tpm = allowance.tpm.is_some_and(|tpm| used + tokens > tpm);
        !(over_rpm || over_tpm)
    }

    /// When the oldest bucket still counted leaves the window (at least 1 s).
    pub fn retry_after(&self, second: u64, elapsed_in_second: Duration) -> Duration {
        let oldest = second.saturating_sub(WINDOW_SECS);
        let leaves = self
            .buckets
            .iter()
            .filter(|b| b.second >= oldest && (b.requests, b.tokens) != (0, 0))
            .map(|b| b.second + WINDOW_SECS + 1)
            .min()
            .unwrap_or(second + 1);
        Duration::from_secs(leaves - second)
            .saturating_sub(elapsed_in_second)
            .max(Duration::from_secs(1))
    }

    /// Counts one request of `tokens` in `second`.
    pub fn add(&mut self, second: u64, tokens: u64) {
        let bucket = &mut self.buckets[(second % BUCKETS as u64) as usize];
        if bucket.second != second {
            *bucket = Bucket {
                second,
                ..Bucket::default()
            };
        }
        bucket.requests += 1;
        bucket.tokens += tokens;
    }

    /// Corrects the `reserved` tokens counted in `second` to the `used` ones. A bucket
    /// reused for a later second has already forgotten the reservation.
    pub fn correct(&mut self, second: u64, reserved: u64, used: u64) {
        let bucket = &mut self.buckets[(second % BUCKETS as u64) as usize];
        if bucket.second == second {
            bucket.tokens = (bucket.tokens + used).saturating_sub(reserved);
        }
    }
}
