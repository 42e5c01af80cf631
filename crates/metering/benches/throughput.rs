//! Metering throughput: how many usage events per second the request path can record
//! (journal appends from several threads) and how many the worker folds into Postgres.
//!
//! `cargo bench -p meridian-metering --bench throughput` (needs a Postgres, found as
//! the tests find it: DATABASE_URL or a private cluster). Prints one result line each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meridian_core::{CustomerId, KeyId, RequestId, TokenUsage, UsageEvent};
use meridian_metering::{Journal, MeteringWorker, WorkerConfig};
use rust_decimal::Decimal;

const THREADS: usize = 4;
const EVENTS_PER_THREAD: usize = 250_000;
const CUSTOMERS: usize = 1_000;

fn event(customers: &[CustomerId], i: usize) -> UsageEvent {
    UsageEvent {
        request_id: RequestId::new(),
        customer_id: customers[i % customers.len()],
        key_id: Some(KeyId(customers[i % customers.len()].0)),
        model: "openai/gpt-4o-mini".into(),
        provider: "openai".into(),
        deployment: "openai-us-east-reserved".into(),
        region: "us-east".into(),
        catalog_key: "gpt-4o-mini".into(),
        time: chrono::Utc::now(),
        tokens: TokenUsage {
            prompt: 1000,
            completion: 500,
            cached: Some(0),
            ..Default::default()
        },
        cost: Decimal::new(45, 5),
        latency_us: 1234,
        ttft_us: None,
        status: 200,
        estimated: false,
    }
}

/// Events per second, in integers (no floats in the metering crate).
fn per_second(events: usize, elapsed: Duration) -> u128 {
    events as u128 * 1_000_000_000 / elapsed.as_nanos().max(1)
}

#[tokio::main]
async fn main() {
    let home = std::env::temp_dir().join("meridian-bench-pg");
    let base = meridian_core::db::provision(&meridian_core::db::configured_url(), &home)
        .await
        .unwrap();
    let url = format!(
        "{}/meridian_bench_metering_{}",
        &base[..base.rfind('/').unwrap()],
        uuid::Uuid::now_v7().simple()
    );
    meridian_core::db::create_database(&url).await.unwrap();
    let pool = meridian_core::db::connect_and_migrate(&url).await.unwrap();
    let customers: Vec<CustomerId> = (0..CUSTOMERS).map(|_| CustomerId::new()).collect();
    for c in &customers {
        sqlx::query("INSERT INTO customers (id, name, entity_code, currency, locale, email) VALUES ($1, 'bench', 'US', 'USD', 'en-US', 'b@example.com')")
            .bind(c)
            .execute(&pool)
            .await
            .unwrap();
    }
    let dir = std::env::temp_dir().join(format!(
        "meridian-bench-journal-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let journal = Arc::new(Journal::open(&dir).unwrap());

    // 1. The request path alone: appends from THREADS threads, with per-call latency.
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (journal, customers) = (journal.clone(), customers.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(EVENTS_PER_THREAD);
                for i in 0..EVENTS_PER_THREAD {
                    let e = event(&customers, t * EVENTS_PER_THREAD + i);
                    let t0 = Instant::now();
                    journal.append(e).unwrap();
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let append = started.elapsed();
    latencies.sort();
    let total = THREADS * EVENTS_PER_THREAD;
    // Percentile in per-mille, printed in microseconds with two decimals.
    let pct = |per_mille: usize| {
        let nanos =
            latencies[(latencies.len() * per_mille / 1000).min(latencies.len() - 1)].as_nanos();
        format!("{}.{:02}", nanos / 1000, nanos % 1000 / 10)
    };
    println!(
        "RESULT record events={total} threads={THREADS} events_per_s={} p50_us={} p99_us={} p999_us={}",
        per_second(total, append),
        pct(500),
        pct(990),
        pct(999)
    );

    // 2. The worker: fold the whole backlog into Postgres, exactly once.
    let mut worker = MeteringWorker::new(journal.clone(), pool.clone(), WorkerConfig::default());
    let started = Instant::now();
    worker.drain().await.unwrap();
    let drain = started.elapsed();
    let requests: i64 = sqlx::query_scalar("SELECT sum(requests)::bigint FROM usage_rollups")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(requests as usize, total, "every event committed once");
    println!(
        "RESULT commit events={total} rollup_rows={CUSTOMERS} events_per_s={} millis={}",
        per_second(total, drain),
        drain.as_millis()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
