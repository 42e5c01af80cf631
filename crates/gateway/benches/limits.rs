//! One request's limits and budgets: admission against a key with `rpm`, `tpm`,
//! `max_concurrency` and a daily budget and its customer with a monthly budget (the
//! most a request checks), then its settlement, in the memory limiter. The issue's
//! target: at most 2 µs per request.
//!
//! `cargo bench -p meridian-gateway --bench limits` runs criterion's measurement of
//! the mean, then times 200,000 single requests and prints a `RESULT` line with p50,
//! p99 and p99.9.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group};
use meridian_core::{BudgetPeriod, CustomerId, KeyId, KeyLimits};
use meridian_gateway::limits::{Budget, Demand, Limiter, MemoryLimiter, Terms};
use rust_decimal::Decimal;

#[path = "support/percentiles.rs"]
mod percentiles;

const TARGET_P99: Duration = Duration::from_micros(2);

struct Fixture {
    limiter: MemoryLimiter,
    demand: Demand,
}

fn fixture() -> Fixture {
    let budget = |amount: i64, period| {
        Some(Budget {
            amount: Decimal::from(amount),
            period,
            per_usd: Decimal::new(92, 2),
        })
    };
    let demand = Demand {
        key: KeyId::new(),
        customer: CustomerId::new(),
        key_terms: Terms {
            limits: KeyLimits {
                rpm: Some(u32::MAX),
                tpm: Some(u64::MAX),
                max_concurrency: Some(64),
            },
            budget: budget(1_000_000, BudgetPeriod::Day),
        },
        customer_terms: Terms {
            limits: KeyLimits::default(),
            budget: budget(10_000_000, BudgetPeriod::Month),
        },
        tokens: 1_200,
        max_cost: Decimal::new(615, 5),
        time: Utc::now(),
        now: Instant::now(),
    };
    Fixture {
        limiter: MemoryLimiter::new(Instant::now()),
        demand,
    }
}

fn request(f: &Fixture) {
    let admission = f.limiter.admit(&f.demand).expect("admitted");
    f.limiter.settle(&admission, 900, Decimal::new(312, 5));
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    c.bench_function("limits: admit and settle", |b| {
        b.iter(|| request(black_box(&f)))
    });
}

criterion_group!(benches, bench);

fn percentiles() {
    let f = fixture();
    percentiles::report("limits (key and customer)", TARGET_P99, || {
        request(black_box(&f))
    });
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    percentiles();
}
