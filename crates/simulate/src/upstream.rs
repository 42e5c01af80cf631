//! The simulated deployments the replay calls: each with the configured capacity,
//! enforced by the mock providers' own window ([`Pool`]: a request above it is a 429
//! with the provider's retry delay, as provisioned services answer), the trace's
//! outages, and a simple latency model.

use std::time::{Duration, Instant};

use meridian_gateway::targets::LiveDeployment;
use meridian_mock_providers::{Capacity, Pool};

use crate::trace::{Outage, OutageOf};

/// The window the providers count their capacity over.
const WINDOW: Duration = Duration::from_secs(60);
/// Time to first byte: a fixed part, and the prompt read at this many tokens a second.
const FIRST_BYTE: Duration = Duration::from_millis(250);
const PREFILL_TOKENS_PER_SEC: u64 = 20_000;
/// Tokens generated per second, once the first has come.
const DECODE_TOKENS_PER_SEC: u64 = 80;
/// How long a provider takes to answer 429.
const THROTTLE_ROUND_TRIP: Duration = Duration::from_millis(30);

/// How a deployment answered one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Unreachable: the attempt fails after the deployment's connect timeout.
    Unreachable { after: Duration },
    /// Over its capacity: a 429 asking to wait `retry_after`.
    Throttled {
        after: Duration,
        retry_after: Duration,
    },
    /// Served: the first byte after `first_byte`, the last after `done`.
    Served {
        first_byte: Duration,
        done: Duration,
    },
}

struct Down {
    of: OutageOf,
    from_ms: u64,
    until_ms: u64,
}

pub struct Upstreams {
    /// By pool (the deployment's index in the configuration); `None`: unlimited.
    pools: Vec<Option<Pool>>,
    outages: Vec<Down>,
    /// 429s answered.
    pub throttled: u64,
}

impl Upstreams {
    pub fn new(deployments: &[std::sync::Arc<LiveDeployment>]) -> Self {
        let count = deployments.iter().map(|d| d.pool + 1).max().unwrap_or(0);
        let mut pools: Vec<Option<Pool>> = (0..count).map(|_| None).collect();
        for d in deployments {
            if d.rpm.is_some() || d.tpm.is_some() {
                pools[d.pool] = Some(Pool::new(Capacity {
                    rpm: d
                        .rpm
                        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                    tpm: d.tpm.unwrap_or(u64::MAX),
                }));
            }
        }
        Self {
            pools,
            outages: Vec::new(),
            throttled: 0,
        }
    }

    pub fn take_down(&mut self, t_ms: u64, outage: &Outage) {
        self.outages.retain(|o| o.until_ms > t_ms);
        self.outages.push(Down {
            of: outage.of.clone(),
            from_ms: t_ms,
            until_ms: t_ms.saturating_add(outage.duration_ms),
        });
    }

    fn is_down(&self, d: &LiveDeployment, t_ms: u64) -> bool {
        self.outages.iter().any(|o| {
            (o.from_ms..o.until_ms).contains(&t_ms)
                && match &o.of {
                    OutageOf::Deployment(id) => *id == d.id,
                    OutageOf::Provider(name) => name == d.provider.as_str(),
                }
        })
    }

    /// One attempt on `d` at `t_ms` (`now` on the replay's clock) of a request that
    /// reads `prompt` tokens and generates `completion`.
    pub fn call(
        &mut self,
        d: &LiveDeployment,
        prompt: u64,
        completion: u64,
        t_ms: u64,
        now: Instant,
    ) -> Answer {
        if self.is_down(d, t_ms) {
            return Answer::Unreachable {
                after: d.connect_timeout,
            };
        }
        if let Some(pool) = self.pools.get_mut(d.pool).and_then(Option::as_mut)
            && let Err(throttle) = pool.admit(prompt + completion, now, WINDOW)
        {
            self.throttled += 1;
            return Answer::Throttled {
                after: THROTTLE_ROUND_TRIP,
                retry_after: throttle.retry_after(),
            };
        }
        let first_byte =
            FIRST_BYTE + Duration::from_micros(prompt * 1_000_000 / PREFILL_TOKENS_PER_SEC);
        let decode = Duration::from_micros(completion * 1_000_000 / DECODE_TOKENS_PER_SEC);
        Answer::Served {
            first_byte,
            done: first_byte + decode,
        }
    }
}
