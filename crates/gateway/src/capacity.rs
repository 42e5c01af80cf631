//! Live capacity per deployment. A deployment's `rpm` and `tpm` are a budget over any
//! sliding 60-second window, as the provisioned services count them; the gateway
//! spends it itself, so that a pool is never sent more than it will take: before a
//! call the request's estimate is reserved (one request, its prompt and the most it
//! may generate), and when the call ends the reservation is corrected to the tokens
//! the provider reported.
//!
//! [`CapacityStore`] is the seam: [`MemoryCapacity`] serves one process from memory
//! (a lock per deployment, no database); a store shared by several gateway processes
//! (Redis) implements the same two calls.
//!
//! The window is [`crate::window`]'s, the one key and customer limits count in too.
//! Admission itself is exact under any concurrency (reserve is one critical section);
//! what can exceed the capacity is a request that uses more tokens than reserved,
//! which only happens when it set no output cap and the model's own cap was unknown.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::window::{self, PerMinute, Window};

/// A deployment's capacity per minute; `None` is unlimited.
pub type Capacity = PerMinute;

/// What a request reserved, to be settled once when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub pool: usize,
    /// The second (since the store's start) the reservation was counted in.
    second: u64,
    pub tokens: u64,
}

/// A pool without room for the request, and when it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub retry_after: Duration,
}

pub trait CapacityStore: Send + Sync + 'static {
    /// Reserves one request of `tokens` in `pool`, or says when there may be room.
    fn reserve(&self, pool: usize, tokens: u64, now: Instant) -> Result<Reservation, Full>;

    /// Corrects a reservation to the tokens the request used.
    fn settle(&self, reservation: &Reservation, used_tokens: u64);

    /// Requests and tokens counted in `pool`'s window now, with its capacity.
    fn used(&self, pool: usize, now: Instant) -> ((u64, u64), Capacity);
}

#[derive(Debug)]
struct Pool {
    capacity: Capacity,
    window: Window,
}

/// Capacity from memory, shared by the threads of one process.
pub struct MemoryCapacity {
    started: Instant,
    pools: Vec<Mutex<Pool>>,
}

impl MemoryCapacity {
    /// One pool per deployment of `config`, in its order (the pool of
    /// [`crate::targets::LiveDeployment`]).
    pub fn for_config(config: &meridian_core::config::Config, started: Instant) -> Self {
        Self::new(
            config.deployments.iter().map(|d| Capacity {
                rpm: d.rpm,
                tpm: d.tpm,
            }),
            started,
        )
    }

    /// One pool per entry of `capacities`, in their order (a pool's index is its id).
    pub fn new(capacities: impl IntoIterator<Item = Capacity>, started: Instant) -> Self {
        let pools = capacities
            .into_iter()
            .map(|capacity| {
                Mutex::new(Pool {
                    capacity,
                    window: Window::default(),
                })
            })
            .collect();
        Self { started, pools }
    }
}

impl CapacityStore for MemoryCapacity {
    fn reserve(&self, pool: usize, tokens: u64, now: Instant) -> Result<Reservation, Full> {
        let (second, into_second) = window::second(self.started, now);
        let reservation = Reservation {
            pool,
            second,
            tokens,
        };
        let Some(pool) = self.pools.get(pool) else {
            return Ok(reservation);
        };
        let mut pool = pool.lock();
        if !pool.window.fits(pool.capacity, second, tokens) {
            return Err(Full {
                retry_after: pool.window.retry_after(second, into_second),
            });
        }
        pool.window.add(second, tokens);
        Ok(reservation)
    }

    fn used(&self, pool: usize, now: Instant) -> ((u64, u64), Capacity) {
        let (second, _) = window::second(self.started, now);
        self.pools
            .get(pool)
            .map_or(((0, 0), Capacity::default()), |p| {
                let p = p.lock();
                (p.window.used(second), p.capacity)
            })
    }

    fn settle(&self, reservation: &Reservation, used_tokens: u64) {
        if let Some(pool) = self.pools.get(reservation.pool) {
            pool.lock()
                .window
                .correct(reservation.second, reservation.tokens, used_tokens);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn store(rpm: Option<u64>, tpm: Option<u64>) -> (MemoryCapacity, Instant) {
        let t0 = Instant::now();
        (MemoryCapacity::new([Capacity { rpm, tpm }], t0), t0)
    }

    #[test]
    fn requests_over_the_rpm_are_refused_until_the_window_slides() {
        let (store, t0) = store(Some(3), None);
        for i in 0..3 {
            store.reserve(0, 10, t0 + Duration::from_secs(i)).unwrap();
        }
        let full = store
            .reserve(0, 10, t0 + Duration::from_secs(30))
            .unwrap_err();
        // The first request leaves the window 61 s after its second began.
        assert_eq!(full.retry_after, Duration::from_secs(31));
        assert!(store.reserve(0, 10, t0 + Duration::from_secs(60)).is_err());
        store.reserve(0, 10, t0 + Duration::from_secs(61)).unwrap();
    }

    #[test]
    fn tokens_are_reserved_then_corrected_to_the_usage() {
        let (store, t0) = store(None, Some(1_000));
        let r = store.reserve(0, 900, t0).unwrap();
        assert!(store.reserve(0, 200, t0).is_err(), "900 + 200 > 1000");
        store.settle(&r, 300);
        assert_eq!(store.used(0, t0).0, (1, 300));
        store.reserve(0, 700, t0).unwrap();
        assert!(store.reserve(0, 1, t0).is_err());
    }

    #[test]
    fn an_unlimited_pool_admits_everything() {
        let (store, t0) = store(None, None);
        for _ in 0..10_000 {
            store.reserve(0, 1_000_000, t0).unwrap();
        }
    }

    #[test]
    fn a_settlement_after_the_bucket_is_reused_changes_nothing() {
        let (store, t0) = store(None, Some(100));
        let r = store.reserve(0, 100, t0).unwrap();
        store.reserve(0, 100, t0 + Duration::from_secs(61)).unwrap();
        store.settle(&r, 0);
        assert!(store.reserve(0, 1, t0 + Duration::from_secs(61)).is_err());
    }

    #[test]
    fn racing_tasks_never_overshoot_the_capacity() {
        let t0 = Instant::now();
        let store = Arc::new(MemoryCapacity::new(
            [Capacity {
                rpm: Some(500),
                tpm: Some(40_000),
            }],
            t0,
        ));
        let (admitted, tokens) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let (store, admitted, tokens) = (store.clone(), admitted.clone(), tokens.clone());
                std::thread::spawn(move || {
                    for j in 0..100u64 {
                        let want = 10 + (i * 7 + j) % 90;
                        if store.reserve(0, want, t0).is_ok() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                            tokens.fetch_add(want, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (admitted, tokens) = (
            admitted.load(Ordering::Relaxed),
            tokens.load(Ordering::Relaxed),
        );
        assert!(
            admitted <= 500 && tokens <= 40_000,
            "{admitted} requests, {tokens} tokens"
        );
        assert!(
            admitted >= 400 || tokens >= 39_900,
            "the pool was filled: {admitted}, {tokens}"
        );
    }
}
