//! A served Meridian with real data behind every REST route, for the tests that walk
//! `/openapi.json`: two customers of the US entity with October usage, their issued
//! invoices (and a credit note of B's), and keys of every kind for A.

use std::time::{Duration, Instant};

use meridian_core::CustomerId;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{TestEnv, rest};

pub const ADMIN_TOKEN: &str = "finance-secret";

pub struct World {
    pub env: TestEnv,
    /// Customer A (the env's own customer) and its `admin` key are `env.customer`, `env.key`.
    pub a_inference: String,
    pub a_revoked: String,
    pub a_expired: String,
    pub b: CustomerId,
    pub b_key: String,
}

impl World {
    pub async fn start() -> World {
        let env = TestEnv::start_with(|o| o.admin_token = Some(ADMIN_TOKEN.into())).await;
        let b = second_customer(&env).await;
        let b_key = meridian::demo::demo_key(&env.pool, b)
            .await
            .unwrap()
            .expose()
            .to_string();
        for customer in [env.customer, b] {
            let (model, provider, region, catalog) =
                ("openai/gpt-4o-mini", "openai", "us-east", "gpt-4o-mini");
            rollup(
                &env,
                customer,
                model,
                provider,
                region,
                catalog,
                "2026-10-10 10:00Z",
                (3000, 1500),
                "0.00135",
            )
            .await;
        }
        super::invoice_us_october(&env.pool).await;
        let b_invoice = meridian_billing::query::list(
            &env.pool,
            &meridian_billing::query::ListFilter {
                customer: Some(b),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0)
        .number;
        meridian_billing::credit::credit(
            &env.pool,
            &b_invoice,
            "goodwill",
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();

        let a_inference = new_key(&env, json!({"name": "inference", "role": "inference"})).await;
        let a_revoked = new_key(&env, json!({"name": "revoked", "role": "admin"})).await;
        let soon = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1200);
        let a_expired = new_key(
            &env,
            json!({"name": "expiring", "role": "admin", "expires_at": soon.to_rfc3339()}),
        )
        .await;
        let world = World {
            env,
            a_inference,
            a_revoked,
            a_expired,
            b,
            b_key,
        };
        for key in [&world.b_key, &world.a_inference, &world.a_revoked] {
            world.wait_for(key, StatusCode::OK).await;
        }
        let revoked_id = key_id(&world, &world.a_revoked).await;
        let (status, _, _) = rest(
            Method::DELETE,
            &world.env.url(&format!("/api/v1/keys/{revoked_id}")),
            &world.env.key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        world
            .wait_for(&world.a_revoked, StatusCode::UNAUTHORIZED)
            .await;
        world
            .wait_for(&world.a_expired, StatusCode::UNAUTHORIZED)
            .await;
        world
    }

    /// Waits (up to 5 s) until `key` gets `want` on `GET /api/v1/invoices`.
    async fn wait_for(&self, key: &str, want: StatusCode) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (status, _, _) =
                rest(Method::GET, &self.env.url("/api/v1/invoices"), key, None).await;
            if status == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the key got {status}, not {want}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `/openapi.json` as served.
    pub async fn openapi(&self) -> Value {
        reqwest::get(self.env.url("/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The id of A's key whose secret is `secret`, by its prefix.
pub async fn key_id(world: &World, secret: &str) -> String {
    let (_, _, keys) = rest(
        Method::GET,
        &world.env.url("/api/v1/keys?limit=200"),
        &world.env.key,
        None,
    )
    .await;
    keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| secret.starts_with(k["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A new key of A (`POST /api/v1/keys` with A's admin key): its secret.
async fn new_key(env: &TestEnv, body: Value) -> String {
    let (status, _, created) =
        rest(Method::POST, &env.url("/api/v1/keys"), &env.key, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["key"].as_str().unwrap().to_string()
}

/// A second customer of the US entity, in USD.
pub async fn second_customer(env: &TestEnv) -> CustomerId {
    let id = sqlx::query_scalar::<_, uuid::Uuid>(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email)
         VALUES (gen_random_uuid(), 'Other', 'US', 'USD', 'en-US', 'o@example.com') RETURNING id",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    CustomerId(id)
}

/// One hour of rollups, as the metering worker writes them (cost as the gateway rated
/// it at the shipped list prices).
#[allow(clippy::too_many_arguments)]
pub async fn rollup(
    env: &TestEnv,
    customer: CustomerId,
    model: &str,
    provider: &str,
    region: &str,
    catalog_key: &str,
    hour: &str,
    tokens: (i64, i64),
    cost: &str,
) {
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         VALUES ($1, NULL, $2, $3, $3 || '-' || $4, $4, $5, $6::timestamptz, 2, 1, $7, $8, 0, 0, 0,
                 $9::numeric, 0, 0, 0, '{}')",
    )
    .bind(customer)
    .bind(model)
    .bind(provider)
    .bind(region)
    .bind(catalog_key)
    .bind(hour)
    .bind(tokens.0)
    .bind(tokens.1)
    .bind(cost)
    .execute(&env.pool)
    .await
    .unwrap();
}
