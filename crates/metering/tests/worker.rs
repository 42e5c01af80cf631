//! The metering worker against a real Postgres: records taken from memory, records the
//! bounded channel dropped (read back from the file), and a second worker after a
//! restart, all counted exactly once.

use std::sync::Arc;

use meridian_core::{CustomerId, RequestId, TokenUsage, UsageEvent};
use meridian_metering::{Journal, MeteringWorker, WorkerConfig};
use rust_decimal::Decimal;
use sqlx::PgPool;

async fn database() -> PgPool {
    meridian_test_support::database::fresh().await.0
}

async fn customer(pool: &PgPool) -> CustomerId {
    let id = CustomerId::new();
    sqlx::query("INSERT INTO customers (id, name, entity_code, currency, locale, email) VALUES ($1, 'w', 'US', 'USD', 'en-US', 'w@example.com')")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    id
}

fn event(customer: CustomerId, prompt: u64) -> UsageEvent {
    UsageEvent {
        request_id: RequestId::new(),
        customer_id: customer,
        key_id: None,
        model: "openai/gpt-4o-mini".into(),
        provider: "openai".into(),
        deployment: "d".into(),
        region: "us".into(),
        catalog_key: "gpt-4o-mini".into(),
        time: chrono::Utc::now(),
        tokens: TokenUsage {
            prompt,
            completion: 1,
            ..Default::default()
        },
        cost: Decimal::new(1, 6),
        latency_us: 10,
        ttft_us: None,
        status: 200,
        estimated: false,
    }
}

async fn totals(pool: &PgPool, customer: CustomerId) -> (i64, i64, Decimal) {
    sqlx::query_as("SELECT coalesce(sum(requests),0)::bigint, coalesce(sum(prompt_tokens),0)::bigint, coalesce(sum(cost),0) FROM usage_rollups WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn journal_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("meridian-worker-{}", uuid::Uuid::now_v7().simple()))
}

#[tokio::test]
async fn records_from_memory_and_those_the_channel_dropped_count_once() {
    let pool = database().await;
    let c = customer(&pool).await;
    let journal = Arc::new(Journal::open(&journal_dir()).unwrap());
    let config = WorkerConfig {
        tail_capacity: 3,
        batch_events: 4,
        ..Default::default()
    };
    let mut worker = MeteringWorker::new(journal.clone(), pool.clone(), config);
    worker.drain().await.unwrap();

    // Three fit in memory; the next seven are dropped there and read from the file.
    for n in 1..=10 {
        journal.append(event(c, n)).unwrap();
    }
    worker.drain().await.unwrap();
    assert_eq!(totals(&pool, c).await, (10, 55, Decimal::new(10, 6)));

    // Back in memory: the next records continue where the file left off.
    for n in 11..=12 {
        journal.append(event(c, n)).unwrap();
    }
    worker.drain().await.unwrap();
    assert_eq!(totals(&pool, c).await, (12, 78, Decimal::new(12, 6)));
    worker.drain().await.unwrap();
    assert_eq!(
        totals(&pool, c).await,
        (12, 78, Decimal::new(12, 6)),
        "a drain with nothing new adds nothing"
    );
}

#[tokio::test]
async fn a_restarted_worker_continues_from_the_committed_cursor() {
    let pool = database().await;
    let c = customer(&pool).await;
    let dir = journal_dir();
    {
        let journal = Arc::new(Journal::open(&dir).unwrap());
        let mut worker =
            MeteringWorker::new(journal.clone(), pool.clone(), WorkerConfig::default());
        for n in 1..=5 {
            journal.append(event(c, n)).unwrap();
        }
        worker.drain().await.unwrap();
        // Appended but never committed before the "crash".
        for n in 6..=8 {
            journal.append(event(c, n)).unwrap();
        }
    }
    let journal = Arc::new(Journal::open(&dir).unwrap());
    let mut worker = MeteringWorker::new(journal.clone(), pool.clone(), WorkerConfig::default());
    journal.append(event(c, 9)).unwrap();
    worker.drain().await.unwrap();
    assert_eq!(totals(&pool, c).await, (9, 45, Decimal::new(9, 6)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_under_steady_traffic_commits_what_was_there_and_returns() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    let pool = database().await;
    let c = customer(&pool).await;
    let journal = Arc::new(Journal::open(&journal_dir()).unwrap());
    let mut worker = MeteringWorker::new(journal.clone(), pool.clone(), WorkerConfig::default());
    worker.drain().await.unwrap();

    // Appends keep arriving while the worker commits, as under traffic.
    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicI64::new(0));
    let appender = {
        let (journal, stop, appended) = (journal.clone(), stop.clone(), appended.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                journal.append(event(c, 1)).unwrap();
                appended.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let before = appended.load(Ordering::Relaxed);
    let round = tokio::time::timeout(std::time::Duration::from_secs(3), worker.drain()).await;
    stop.store(true, Ordering::Relaxed);
    appender.join().unwrap();
    round
        .expect("a round ends once what was written before it is committed")
        .unwrap();
    let (committed, ..) = totals(&pool, c).await;
    assert!(
        committed >= before,
        "{committed} committed, {before} before the round"
    );

    worker.drain().await.unwrap();
    assert_eq!(totals(&pool, c).await.0, appended.load(Ordering::Relaxed));
}
