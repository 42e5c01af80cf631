//! Benchmark of the dashboard's usage query (not a test): `GET /api/v1/usage` over 90
//! days for one customer, through the REST router, with 10,000 customers' rollups
//! loaded (4 models × 4 active hours a day × 90 days each: 14,400,000 rows). Prints
//! p50/p99 per `group_by` over random customers.
//!
//! `cargo bench -p meridian-api --bench usage_query` (`BENCH_CUSTOMERS` to scale). It
//! makes its own database on the Postgres at `DATABASE_URL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use meridian_api::ApiState;
use meridian_core::served::{ModelListing, ServedModel};
use meridian_core::{CustomerId, KeyEntry, KeyId, KeyLimits, KeyLookup, KeyRole};
use tower_service::Service;

/// Every `mk-<customer uuid>` is a live admin key of that customer.
struct AnyCustomer;

impl KeyLookup for AnyCustomer {
    fn lookup(&self, secret: &str) -> Option<KeyEntry> {
        let customer = secret.strip_prefix("mk-")?.parse().ok()?;
        Some(KeyEntry {
            id: KeyId::new(),
            customer_id: CustomerId(customer),
            role: KeyRole::Admin,
            revoked: false,
            expires_at: None,
            limits: KeyLimits::default(),
            budget: None,
            residency: None,
            home_region: None,
        })
    }
}

struct NoModels;

impl ModelListing for NoModels {
    fn served(&self, _: Option<&str>) -> Vec<ServedModel> {
        Vec::new()
    }
}

const SAMPLES: usize = 400;

#[tokio::main]
async fn main() {
    let customers: i32 = std::env::var("BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (pool, _) = meridian_test_support::database::fresh().await;
    let seeding = Instant::now();
    sqlx::query(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, country)
         SELECT gen_random_uuid(), 'Customer ' || i, 'US', 'USD', 'en-US', 'c' || i || '@example.com', 'US'
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
         SELECT c.id, c.id, 'openai/bench-model-' || m, 'openai', 'openai-us', 'us-east', 'bench-model-' || m,
                timestamptz '2026-09-01 00:00Z' + d * interval '1 day' + h * interval '5 hours',
                10, 0, 10000 + d, 2500 + m, 0, 0, 0, 0.0123 + m * 0.001, 0, 0, 0, '{}'
         FROM customers c, generate_series(0, 3) m, generate_series(0, 89) d, generate_series(0, 3) h",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE usage_rollups")
        .execute(&pool)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_rollups")
        .fetch_one(&pool)
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM customers")
        .fetch_all(&pool)
        .await
        .unwrap();
    println!(
        "seeded {} customers, {rows} rollup rows in {:.1} s",
        ids.len(),
        seeding.elapsed().as_secs_f64()
    );
    let state = Arc::new(ApiState {
        pool,
        keys: Arc::new(AnyCustomer),
        models: Arc::new(NoModels),
        admin_token: None,
        placement: Default::default(),
    });
    let mut router = meridian_api::router(state);
    for group_by in ["day", "model", "key"] {
        let mut times: Vec<Duration> = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES + 20 {
            // Spread over the table, so that most reads are not of a page just read.
            let customer = ids[(i * 7919) % ids.len()];
            let request = Request::get(format!(
                "/api/v1/usage?from=2026-09-01&to=2026-11-30&group_by={group_by}"
            ))
            .header("authorization", format!("Bearer mk-{customer}"))
            .body(Body::empty())
            .unwrap();
            let started = Instant::now();
            let response = router.call(request).await.unwrap();
            let status = response.status();
            let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            let took = started.elapsed();
            assert_eq!(status, StatusCode::OK);
            if i >= 20 {
                times.push(took);
            }
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "group_by={group_by:<5} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}
