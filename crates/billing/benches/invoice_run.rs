//! Benchmark of the invoice run (not a test): 10,000 customers × 20 models × 30 days
//! of rollups (6,000,000 rows) in three entities (US/USD, EU/EUR with VAT, JP/JPY with
//! consumption tax), a price change mid-month for half of the models, then one timed
//! `invoices run` of every entity: rating, taxes, FX, numbering, storing and the
//! verification pass; no PDFs.
//!
//! `cargo bench -p meridian-billing --bench invoice_run` (set BENCH_CUSTOMERS to scale).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use meridian_billing::progress::Progress;
use meridian_billing::{Period, run};

const MODELS: i32 = 20;
const DAYS: i32 = 30;

#[tokio::main]
async fn main() {
    let customers: i32 = std::env::var("BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let pool = fresh_database().await;
    import_ecb(&pool).await;
    for m in 0..MODELS {
        let key = format!("bench-model-{m}");
        let input = format!("0.000000{}", 15 + m);
        let output = format!("0.00000{}", 6 + m);
        price_version(
            &pool,
            &key,
            "openai",
            "2026-01-01T00:00:00Z",
            &input,
            &output,
            Some("0.000000075"),
        )
        .await;
        if m % 2 == 0 {
            price_version(
                &pool,
                &key,
                "openai",
                "2026-10-15T00:00:00Z",
                &output,
                &output,
                None,
            )
            .await;
        }
    }
    let seeding = Instant::now();
    sqlx::query(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, country)
         SELECT gen_random_uuid(), 'Customer ' || i, (ARRAY['US', 'EU', 'JP'])[i % 3 + 1],
                (ARRAY['USD', 'EUR', 'JPY'])[i % 3 + 1], 'en-US', 'c' || i || '@example.com',
                (ARRAY['US', 'DE', 'JP'])[i % 3 + 1]
         FROM generate_series(1, $1) i",
    )
    .bind(customers)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         SELECT c.id, NULL, 'openai/bench-model-' || m, 'openai', 'openai-us', 'us-east', 'bench-model-' || m,
                timestamptz '2026-10-01 12:00Z' + d * interval '1 day', 10, 0, 10000 + d * 7 + m, 2500 + m,
                1000, 0, 0, 0, 0, 0, 0, '{}'
         FROM customers c, generate_series(0, $1 - 1) m, generate_series(0, $2 - 1) d",
    )
    .bind(MODELS)
    .bind(DAYS)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_rollups")
        .fetch_one(&pool)
        .await
        .unwrap();
    eprintln!(
        "seeded {customers} customers and {rows} rollup rows in {:.1?}",
        seeding.elapsed()
    );

    let started = Instant::now();
    let report = run::run(
        &pool,
        Period::parse("2026-10").unwrap(),
        None,
        utc("2026-11-02T00:00:00Z"),
        &Progress::for_stderr(),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let invoices: usize = report.outcomes.iter().map(|o| o.issued.len()).sum();
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM invoice_lines")
        .fetch_one(&pool)
        .await
        .unwrap();
    let ms = elapsed.as_millis().max(1);
    println!(
        "invoice run: {invoices} invoices ({lines} lines) from {rows} rollup rows in {ms} ms = {} invoices/s",
        invoices as u128 * 1000 / ms
    );
}
