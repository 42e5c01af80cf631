//! In-memory aggregation of usage events into hourly rollup deltas.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use meridian_core::{CustomerId, KeyId, UsageEvent};
use rust_decimal::Decimal;

use crate::histogram;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RollupKey {
    pub customer_id: CustomerId,
    pub key_id: Option<KeyId>,
    pub model: String,
    pub provider: String,
    pub deployment: String,
    pub region: String,
    pub catalog_key: String,
    pub hour: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupDelta {
    pub requests: i64,
    pub errors: i64,
    /// Requests whose counts were estimated (streams cut short), billed all the same.
    pub estimated_requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub cache_write_tokens: i64,
    /// The part of `cache_write_tokens` written for 1 hour.
    pub cache_write_1h_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost: Decimal,
    pub latency_us_sum: i64,
    pub ttft_us_sum: i64,
    pub ttft_count: i64,
    pub latency_hist: [i64; histogram::BUCKETS],
}

/// Rollup deltas not yet committed.
#[derive(Debug, Default)]
pub struct Rollups {
    deltas: HashMap<RollupKey, RollupDelta>,
    events: u64,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Rollups {
    /// Folds one event in. It takes the event so that its names move into the key
    /// instead of being copied (this runs once per request).
    pub fn add(&mut self, e: UsageEvent) {
        let (success, billed) = (e.is_success(), e.is_billed());
        let key = RollupKey {
            customer_id: e.customer_id,
            key_id: e.key_id,
            model: e.model,
            provider: e.provider,
            deployment: e.deployment,
            region: e.region,
            catalog_key: e.catalog_key,
            hour: e.time.duration_trunc(TimeDelta::hours(1)).unwrap_or(e.time),
        };
        let d = self.deltas.entry(key).or_default();
        d.requests += 1;
        d.latency_us_sum += count(e.latency_us);
        d.latency_hist[histogram::bucket(e.latency_us)] += 1;
        if let Some(t) = e.ttft_us {
            d.ttft_us_sum += count(t);
            d.ttft_count += 1;
        }
        if !success {
            d.errors += 1;
        }
        if e.estimated {
            d.estimated_requests += 1;
        }
        if billed {
            d.prompt_tokens += count(e.tokens.prompt);
            d.completion_tokens += count(e.tokens.completion);
            d.cached_tokens += count(e.tokens.cached.unwrap_or(0));
            d.cache_write_tokens += count(e.tokens.cache_write.unwrap_or(0));
            d.cache_write_1h_tokens += count(e.tokens.cache_write_1h.unwrap_or(0));
            d.reasoning_tokens += count(e.tokens.reasoning.unwrap_or(0));
            d.cost += e.cost;
        }
        self.events += 1;
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = (&RollupKey, &RollupDelta)> {
        self.deltas.iter()
    }

    pub fn len(&self) -> usize {
        self.deltas.len()
    }
}
