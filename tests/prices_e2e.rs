//! Prices and keys change under a running server: a `meridian prices import` reaches
//! the gateway within a second (its requests cost, and are metered at, the new version),
//! a version stored with a later effective date applies from that date and not before,
//! and a key created while serving authenticates within a second.

mod common;

use std::str::FromStr;
use std::time::{Duration, Instant};

use common::TestEnv;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// One chat request: its `x-meridian-cost` and its usage object, or its status.
async fn chat(env: &TestEnv, key: &str) -> Result<(Decimal, Value), u16> {
    let response = reqwest::Client::new()
        .post(env.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "price check"}]}))
        .send()
        .await
        .unwrap();
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let cost = Decimal::from_str(response.headers()["x-meridian-cost"].to_str().unwrap()).unwrap();
    let body: Value = response.json().await.unwrap();
    Ok((cost, body["usage"].clone()))
}

/// The shipped gpt-4o-mini entry with every token price multiplied by `factor`, as a
/// price file of that one entry.
fn gpt_4o_mini_at(factor: u32) -> String {
    let shipped: Value = serde_json::from_str(meridian::BUNDLED_PRICES).unwrap();
    let mut entry = shipped["gpt-4o-mini"].clone();
    for field in [
        "input_cost_per_token",
        "output_cost_per_token",
        "cache_read_input_token_cost",
    ] {
        let price = meridian_core::catalog::parse_decimal(&entry[field].to_string()).unwrap();
        entry[field] = Value::Number(
            serde_json::Number::from_str(&(price * Decimal::from(factor)).normalize().to_string())
                .unwrap(),
        );
    }
    json!({ "gpt-4o-mini": entry }).to_string()
}

/// Requests until one costs `want` (every earlier one cost `before`); the time it took.
async fn until_cost(env: &TestEnv, before: Decimal, want: Decimal) -> (Duration, usize) {
    let started = Instant::now();
    let mut requests = 0;
    loop {
        let (cost, _) = chat(env, &env.key).await.unwrap();
        requests += 1;
        if cost == want {
            return (started.elapsed(), requests);
        }
        assert_eq!(cost, before, "neither the old nor the new price");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the new price was not served within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_price_import_reaches_the_running_gateway_within_a_second() {
    let env = TestEnv::start().await;
    let (old, usage) = chat(&env, &env.key).await.unwrap();
    assert!(old > Decimal::ZERO);

    // Through the binary, as an operator would, while the server runs.
    let file = env.data_dir.join("prices-x10.json");
    std::fs::write(&file, gpt_4o_mini_at(10)).unwrap();
    let imported = common::cli::ok_json(
        &env.database_url,
        &["prices", "import", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(imported["new_versions"], 1, "{imported}");
    let (took, requests) = until_cost(&env, old, old * Decimal::from(10)).await;
    eprintln!("new price served after {took:?}");
    let (_, same_usage) = chat(&env, &env.key).await.unwrap();
    assert_eq!(
        same_usage, usage,
        "the mock's usage is the same for each request"
    );

    // Metered at the price each request was answered with.
    let total = 1 + requests as i64 + 1;
    let (count, _, _, _, cost) = common::wait_for_requests(&env.pool, env.customer, total).await;
    assert_eq!(count, total);
    let old_priced = requests as i64; // the first, and all but the last of the loop
    assert_eq!(
        cost,
        old * Decimal::from(old_priced) + old * Decimal::from(10 * (total - old_priced))
    );

    // A version effective later applies from then, not before.
    let due = chrono::Utc::now() + chrono::TimeDelta::milliseconds(700);
    let prices = meridian_core::catalog::parse_price_file(&gpt_4o_mini_at(100)).unwrap();
    assert_eq!(
        meridian_core::price_versions::import(&env.pool, &prices, due)
            .await
            .unwrap(),
        1
    );
    let mut answered_before = 0;
    loop {
        let (cost, _) = chat(&env, &env.key).await.unwrap();
        if chrono::Utc::now() >= due {
            break;
        }
        assert_eq!(
            cost,
            old * Decimal::from(10),
            "applied before its effective date"
        );
        answered_before += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered_before > 0);
    let (took, _) = until_cost(&env, old * Decimal::from(10), old * Decimal::from(100)).await;
    eprintln!("version due at a set time served {took:?} after it");
}

#[tokio::test]
async fn a_key_created_while_serving_works_within_a_second() {
    let env = TestEnv::start().await;
    let key = meridian::demo::demo_key(&env.pool, env.customer)
        .await
        .unwrap();
    let created = Instant::now();
    while let Err(status) = chat(&env, key.expose()).await {
        assert_eq!(status, 401);
        assert!(
            created.elapsed() < Duration::from_secs(1),
            "the new key was not accepted within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("new key accepted after {:?}", created.elapsed());
}
