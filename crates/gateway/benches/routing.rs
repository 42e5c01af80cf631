//! One routing decision: the policy's plan for a request (residency filter, tiers,
//! headroom of every reserved pool) and the walk's first admission (health, then a
//! capacity reservation), settled at once, over 50 deployments of one model in five
//! regions. The issue's target: at most 5 µs at p99.
//!
//! `cargo bench -p meridian-gateway --bench routing` runs criterion's measurement of
//! the mean, then times 200,000 single decisions and prints a `RESULT` line with p50,
//! p99 and p99.9.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use meridian_core::Secret;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::{Config, Deployment};
use meridian_gateway::ModelTable;
use meridian_gateway::capacity::{CapacityStore, MemoryCapacity};
use meridian_gateway::routing::{self, Attempts, Controls, Customer, Policy};
use meridian_gateway::targets::ModelRoute;

#[path = "support/percentiles.rs"]
mod percentiles;

const TARGET_P99: Duration = Duration::from_micros(5);
const DEPLOYMENTS: usize = 50;
const REGIONS: [&str; 5] = [
    "us-east",
    "us-west",
    "eu-west",
    "ap-northeast",
    "ap-southeast",
];

struct Fixture {
    route: Arc<ModelRoute>,
    capacity: MemoryCapacity,
    config: Config,
}

fn fixture() -> Fixture {
    let mut toml = String::from("[residency]\nus = [\"us-east\", \"us-west\"]\n\n");
    for i in 0..DEPLOYMENTS {
        let region = REGIONS[i % REGIONS.len()];
        let kind = if i % 5 == 4 { "on-demand" } else { "reserved" };
        toml.push_str(&format!(
            "[[deployments]]\nid = \"d{i}\"\nprovider = \"openai\"\nregion = \"{region}\"\n\
             kind = \"{kind}\"\nbase_url = \"http://upstream.test/v1\"\n\
             models = [\"openai/gpt-4o-mini\"]\nrpm = 1000000000\ntpm = 1000000000000\n\n"
        ));
    }
    let config = Config::parse(&toml).expect("the bench's deployments");
    let catalog: PriceCatalog = include_str!("../../../data/model-prices.json")
        .parse()
        .expect("the bundled catalog");
    let credential = |_: &Deployment| Some(Secret::new("key"));
    let table = ModelTable::build(&config, &catalog, &credential).expect("priced");
    let capacity = MemoryCapacity::for_config(&config, Instant::now());
    Fixture {
        route: table.resolve("openai/gpt-4o-mini").expect("routed"),
        capacity,
        config,
    }
}

/// One decision for a customer of residency `us` at home in us-west.
fn decide(f: &Fixture) -> usize {
    let admitted = f.config.placement.admitted(Some("us")).expect("configured");
    let customer = Customer {
        home_region: Some("us-west"),
        admitted,
    };
    let now = Instant::now();
    let routes = std::slice::from_ref(&f.route);
    let plan = routing::plan(
        routes,
        &customer,
        &Controls::none(),
        Policy::default(),
        &f.capacity,
        now,
    )
    .expect("a plan");
    let mut attempts = Attempts::new(plan);
    let attempt = attempts.next(&f.capacity, |_| 1_000, now).expect("room");
    f.capacity.settle(&attempt.reservation, 900);
    attempt.target.deployment.pool
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    c.bench_function("routing decision, 50 deployments", |b| {
        b.iter(|| black_box(decide(&f)))
    });
}

criterion_group!(benches, bench);

fn percentiles() {
    let f = fixture();
    percentiles::report(
        &format!("routing decision ({DEPLOYMENTS} deployments)"),
        TARGET_P99,
        || {
            black_box(decide(&f));
        },
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    percentiles();
}
