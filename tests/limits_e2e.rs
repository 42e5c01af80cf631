//! Key and customer limits and spend budgets on `/v1/*`, over real HTTP against the
//! mock providers and a real Postgres: the request over a key's `rpm`, `tpm` or
//! `max_concurrency` gets 429 `rate_limit_exceeded` with `retry-after` and reaches no
//! provider; a spent budget gets 402 `budget_exceeded` until it is raised; racing
//! requests never spend more than the budget; spend survives a `kill -9` (rebuilt
//! from the rollups and the journal); a limit changed over REST holds within 1 s.

mod common;

use std::time::{Duration, Instant};

use common::{ChildServer, TestEnv};
use meridian_mock_providers::MockConfig;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// `method path` on `base` (`http://host:port`) with `key`: status, headers, body.
async fn call(
    base: &str,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    common::rest(method, &format!("{base}{path}"), key, body).await
}

/// A new key of the demo customer, made over REST with `settings` (limits, budget):
/// its id and secret.
async fn new_key(base: &str, admin_key: &str, settings: Value) -> (String, String) {
    let mut body = json!({"name": "limited", "role": "inference"});
    body.as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    let (status, _, created) =
        call(base, Method::POST, "/api/v1/keys", admin_key, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["key"].as_str().unwrap().to_string();
    wait_until_served(base, &secret).await;
    (id, secret)
}

/// Waits until the key store holds `key` (a request with it is no longer a 401).
async fn wait_until_served(base: &str, key: &str) {
    let started = Instant::now();
    while call(base, Method::GET, "/v1/models", key, None).await.0 == StatusCode::UNAUTHORIZED {
        assert!(started.elapsed() < Duration::from_secs(2), "key not loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `PATCH path` with `token` and `body`: status and body.
async fn patch(base: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = call(base, Method::PATCH, path, token, Some(body)).await;
    (status, body)
}

/// Waits until a chat request with `key` is served, which a change (`what`) must
/// bring about within a second.
async fn served_within_a_second(base: &str, key: &str, what: &str) {
    let changed = Instant::now();
    while chat(base, key, 5).await.0 != StatusCode::OK {
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "{what}: not in effect within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One chat request with `key`, capped at `max_tokens`: status, headers, body.
async fn chat(
    base: &str,
    key: &str,
    max_tokens: u32,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "say hello back"}]});
    call(base, Method::POST, "/v1/chat/completions", key, Some(body)).await
}

fn base(env: &TestEnv) -> String {
    format!("http://{}", env.server.addr)
}

fn assert_refused(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    want: StatusCode,
    code: &str,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    if want == StatusCode::TOO_MANY_REQUESTS {
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=61).contains(&retry), "retry-after {retry}");
    }
}

/// Sends chat requests (capped at `max_tokens`) with `keys` in turn until one is
/// refused, within `within`; the refusal must be `want` with `code` and a message
/// that `says` it. Returns the answers served before it.
async fn until_refused(
    base: &str,
    keys: &[&str],
    max_tokens: u32,
    (want, code, says): (StatusCode, &str, &str),
    within: Duration,
) -> Vec<Value> {
    let started = Instant::now();
    let mut served = Vec::new();
    loop {
        let key = keys[served.len() % keys.len()];
        let (status, headers, body) = chat(base, key, max_tokens).await;
        if status != StatusCode::OK {
            assert_refused(status, &headers, &body, want, code);
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message}");
            return served;
        }
        served.push(body);
        assert!(started.elapsed() < within, "never refused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const TOO_MANY: (StatusCode, &str) = (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded");
const SPENT: (StatusCode, &str) = (StatusCode::PAYMENT_REQUIRED, "budget_exceeded");

/// The billed cost of `key` in the rollups, once they hold its `served` successes.
async fn rollup_cost(pool: &sqlx::PgPool, key: &str, served: i64) -> Decimal {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (count, cost): (i64, Decimal) = sqlx::query_as(
            "SELECT coalesce(sum(requests - errors), 0)::bigint, coalesce(sum(cost), 0)
             FROM usage_rollups WHERE key_id = $1::uuid",
        )
        .bind(key)
        .fetch_one(pool)
        .await
        .unwrap();
        if count >= served || Instant::now() > deadline {
            assert_eq!(count, served, "successes in the rollups");
            return cost;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new key with a budget of `amount` USD per `period`, spent with requests capped
/// at 20 tokens until the budget refuses one: its id, its secret and how many were
/// served.
async fn spend_a_budget(
    base: &str,
    admin_key: &str,
    amount: &str,
    period: &str,
) -> (String, String, i64) {
    let budget = json!({"budget": {"amount": amount, "period": period}});
    let (id, key) = new_key(base, admin_key, budget).await;
    let says = format!("spend budget of {amount} USD");
    let served = until_refused(
        base,
        &[&key],
        20,
        (SPENT.0, SPENT.1, &says),
        Duration::from_secs(3),
    )
    .await
    .len();
    (id, key, served as i64)
}

#[tokio::test]
async fn the_request_over_a_keys_rpm_gets_one_429_with_retry_after_and_reaches_no_provider() {
    let env = TestEnv::start().await;
    let base = base(&env);
    let (_, key) = new_key(&base, &env.key, json!({"limits": {"rpm": 3}})).await;
    let seen = env.mock.requests_seen();
    let results = futures::future::join_all((0..4).map(|_| chat(&base, &key, 5))).await;
    let refused: Vec<_> = results
        .iter()
        .filter(|(status, ..)| *status != StatusCode::OK)
        .collect();
    assert_eq!(refused.len(), 1, "exactly one of 4 over an rpm of 3");
    let (status, headers, body) = refused[0];
    assert_refused(
        *status,
        headers,
        body,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 requests per minute"),
        "{body}"
    );
    assert_eq!(
        env.mock.requests_seen(),
        seen + 3,
        "the refused one was never sent"
    );
    // Another key of the same customer is not limited by this key's rpm.
    assert_eq!(chat(&base, &env.key, 5).await.0, StatusCode::OK);
}

#[tokio::test]
async fn tpm_reserves_the_estimate_and_keeps_the_reported_tokens() {
    let env = TestEnv::start().await;
    let base = base(&env);
    // Each request reserves about 20 prompt tokens (its JSON at 4 bytes a token) plus
    // its max_tokens of 60: two would not fit 150 at their estimates, but the mock
    // reports far fewer tokens and the window keeps those.
    let (_, key) = new_key(&base, &env.key, json!({"limits": {"tpm": 150}})).await;
    let served = until_refused(
        &base,
        &[&key],
        60,
        (TOO_MANY.0, TOO_MANY.1, "150 tokens per minute"),
        Duration::from_secs(3),
    )
    .await;
    let admitted = served.len();
    let used: u64 = served
        .iter()
        .map(|b| b["usage"]["total_tokens"].as_u64().unwrap())
        .sum();
    assert!(
        admitted >= 2,
        "corrected to the reported usage: {admitted} admitted"
    );
    assert!(used <= 150, "{used} tokens served within a tpm of 150");
}

#[tokio::test]
async fn max_concurrency_refuses_at_once_and_never_queues() {
    let env = TestEnv::start_with_mock(
        MockConfig {
            latency: Duration::from_millis(600),
            ..MockConfig::default()
        },
        |_| {},
    )
    .await;
    let base = base(&env);
    let (_, key) = new_key(&base, &env.key, json!({"limits": {"max_concurrency": 2}})).await;
    let timed = |delay: u64| {
        let (base, key) = (base.clone(), key.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let started = Instant::now();
            let result = chat(&base, &key, 5).await;
            (result, started.elapsed())
        }
    };
    let results = futures::future::join_all([timed(0), timed(0), timed(200)]).await;
    let ((status, headers, body), took) = &results[2];
    assert_refused(
        *status,
        headers,
        body,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
    );
    assert!(
        *took < Duration::from_millis(300),
        "refused at once, not queued: {took:?}"
    );
    assert!(results[..2].iter().all(|((s, ..), _)| *s == StatusCode::OK));
    // Both ended: the places are free again.
    assert_eq!(chat(&base, &key, 5).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_spent_key_budget_gets_402_until_it_is_raised() {
    let env = TestEnv::start().await;
    let base = base(&env);
    // gpt-4o-mini: $0.15 / 1M prompt, $0.60 / 1M completion tokens. A request
    // reserves ~20 prompt and 20 completion tokens: about $0.000015.
    let (id, key, admitted) = spend_a_budget(&base, &env.key, "0.00005", "day").await;
    assert!(
        admitted >= 3,
        "reconciled to the real cost: {admitted} admitted"
    );
    let spent = rollup_cost(&env.pool, &id, admitted).await;
    assert!(spent <= "0.00005".parse().unwrap(), "spent {spent}");
    assert_eq!(chat(&base, &key, 20).await.0, StatusCode::PAYMENT_REQUIRED);

    let path = format!("/api/v1/keys/{id}");
    let (status, _) = patch(&base, &path, &env.key, json!({"budget": {"amount": "1"}})).await;
    assert_eq!(status, StatusCode::OK);
    served_within_a_second(&base, &key, "the raise").await;
}

#[tokio::test]
async fn racing_requests_never_overspend_a_budget() {
    let env = TestEnv::start().await;
    let base = base(&env);
    let budget: Decimal = "0.0001".parse().unwrap();
    let (id, key) = new_key(
        &base,
        &env.key,
        json!({"budget": {"amount": budget.to_string(), "period": "month"}}),
    )
    .await;
    let results = futures::future::join_all((0..64).map(|_| chat(&base, &key, 40))).await;
    let served = results.iter().filter(|r| r.0 == StatusCode::OK).count();
    for (status, headers, body) in results.iter().filter(|r| r.0 != StatusCode::OK) {
        assert_refused(
            *status,
            headers,
            body,
            StatusCode::PAYMENT_REQUIRED,
            "budget_exceeded",
        );
    }
    assert!((3..64).contains(&served), "{served} of 64 served");
    let spent = rollup_cost(&env.pool, &id, served as i64).await;
    assert!(spent <= budget, "spent {spent} of a budget of {budget}");
}

#[tokio::test]
async fn a_limit_changed_over_rest_holds_within_a_second() {
    let env = TestEnv::start().await;
    let base = base(&env);
    let (id, key) = new_key(&base, &env.key, json!({"limits": {"rpm": 1}})).await;
    assert_eq!(chat(&base, &key, 5).await.0, StatusCode::OK);
    assert_eq!(chat(&base, &key, 5).await.0, StatusCode::TOO_MANY_REQUESTS);
    let change = json!({"limits": {"rpm": null, "max_concurrency": 50}});
    let (status, _) = patch(&base, &format!("/api/v1/keys/{id}"), &env.key, change).await;
    assert_eq!(status, StatusCode::OK);
    served_within_a_second(&base, &key, "the change").await;
}

#[tokio::test]
async fn spend_survives_a_kill_9() {
    let (pool, database_url) = common::fresh_database().await;
    let mock = meridian_mock_providers::MockServer::start(MockConfig::default())
        .await
        .unwrap();
    let dir = common::temp_dir("limits-restart");
    let config = common::write_config(&dir, mock.addr());
    let (_, admin_key) = common::customer_and_key(&pool).await;
    let start = || ChildServer::start(&database_url, &config, &dir, common::free_addr(), "warn");

    let mut server = start().await;
    let base = format!("http://{}", server.addr);
    let (id, key, admitted) = spend_a_budget(&base, &admin_key, "0.00005", "month").await;
    // Killed at once: the newest usage is in the journal, maybe not in the rollups.
    server.kill9();
    let server = start().await;
    let base = format!("http://{}", server.addr);
    let (status, headers, body) = chat(&base, &key, 20).await;
    assert_refused(
        status,
        &headers,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "budget_exceeded",
    );
    let spent = rollup_cost(&pool, &id, admitted).await;
    assert!(spent <= "0.00005".parse().unwrap(), "spent {spent}");
    server.stop();
}

#[tokio::test]
async fn customer_wide_limits_and_budget_hold_over_all_of_its_keys() {
    let env = TestEnv::start_with(|o| o.admin_token = Some("finance-secret".into())).await;
    let base = base(&env);
    let (_, first) = new_key(&base, &env.key, json!({})).await;
    let (_, second) = new_key(&base, &env.key, json!({})).await;

    // Finance sets an rpm of 2 for the whole customer.
    let path = format!("/admin/v1/customers/{}", env.customer);
    let (status, body) = patch(
        &base,
        &path,
        "finance-secret",
        json!({"limits": {"rpm": 2}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["limits"],
        json!({"rpm": 2, "tpm": null, "max_concurrency": null})
    );
    assert_eq!(body["budget"], Value::Null);
    // The customer's window counts both keys: once in effect (within 1 s), a third
    // request in the minute, of either key, is refused, and so is the other key's.
    let sent = 1 + until_refused(
        &base,
        &[&first, &second],
        5,
        (TOO_MANY.0, TOO_MANY.1, "organization's limit of 2 requests"),
        Duration::from_secs(1),
    )
    .await
    .len();
    assert!(sent >= 3, "{sent}");
    let other = if sent % 2 == 0 { &first } else { &second };
    assert_eq!(chat(&base, other, 5).await.0, StatusCode::TOO_MANY_REQUESTS);
    let unknown = json!({"limits": {"rpm": null}, "rps": 1});
    let (status, body) = patch(&base, &path, "finance-secret", unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("`rps`"), "{body}");
    let clear = json!({"limits": null});
    let (status, _) = patch(&base, &path, "finance-secret", clear.clone()).await;
    assert_eq!(status, StatusCode::OK);
    served_within_a_second(&base, &first, "clearing the limits").await;
    let nobody = format!("/admin/v1/customers/{}", uuid::Uuid::now_v7());
    let (status, _) = patch(&base, &nobody, "finance-secret", clear).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The customer's admin key sets a budget that both keys spend.
    let (status, _, body) = call(&base, Method::GET, "/api/v1/budget", &env.key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"amount": null, "period": null, "alerts": [50, 80, 100], "currency": "USD"})
    );
    let (status, _, body) = call(
        &base,
        Method::PUT,
        "/api/v1/budget",
        &env.key,
        Some(json!({"amount": "0.00004", "period": "month", "alerts": [80, 50]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"amount": "0.00004", "period": "month", "alerts": [50, 80], "currency": "USD"})
    );
    let (status, _, _) = call(&base, Method::GET, "/api/v1/budget", &first, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an inference key reads no budget"
    );
    let served = until_refused(
        &base,
        &[&first, &second],
        20,
        (SPENT.0, SPENT.1, "organization's monthly spend budget"),
        Duration::from_secs(3),
    )
    .await
    .len();
    let other = if served % 2 == 0 { &second } else { &first };
    assert_eq!(chat(&base, other, 20).await.0, StatusCode::PAYMENT_REQUIRED);
}

/// ECB reference rates of one day: 2 USD per EUR, so 1 USD is 0.5 EUR.
const ECB_RATES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <Cube><Cube time="2026-12-04"><Cube currency="USD" rate="2.0000"/></Cube></Cube>
</gesmes:Envelope>"#;

#[tokio::test]
async fn a_budget_in_euros_is_spent_at_the_latest_stored_rate() {
    let env = TestEnv::start().await;
    let base = base(&env);
    let customer = meridian_billing::customers::create(
        &env.pool,
        &meridian_billing::customers::NewCustomer {
            name: "Euro customer".into(),
            entity: "EU".into(),
            currency: "EUR".into(),
            locale: "en-GB".into(),
            email: "euro@example.com".into(),
            country: Some("IE".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let settings = meridian_keys::KeySettings {
        budget: Some(meridian_core::KeyBudget {
            amount: "0.00002".parse().unwrap(),
            period: meridian_core::BudgetPeriod::Month,
        }),
        ..Default::default()
    };
    let mut conn = env.pool.acquire().await.unwrap();
    let created = meridian_keys::table::create(
        &mut conn,
        customer.id,
        meridian_core::KeyRole::Inference,
        &settings,
    )
    .await
    .unwrap();
    let key = created.secret.expose().to_string();
    wait_until_served(&base, &key).await;

    // Without a stored rate the budget cannot be checked: refused, and no provider
    // is called.
    // (Until the gateway has read the new customer, within a second, it cannot
    // either, and says so.)
    let seen = env.mock.requests_seen();
    let created_at = Instant::now();
    loop {
        let (status, _, body) = chat(&base, &key, 20).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "budget_unavailable");
        let message = body["error"]["message"].as_str().unwrap();
        if message.contains("no USD/EUR exchange rate") {
            break;
        }
        assert!(created_at.elapsed() < Duration::from_secs(1), "{message}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(env.mock.requests_seen(), seen);

    let rates = meridian_billing::fx::parse(ECB_RATES).unwrap();
    meridian_billing::fx::import(&env.pool, &rates)
        .await
        .unwrap();
    served_within_a_second(&base, &key, "the imported rate").await;
    let served = 1 + until_refused(
        &base,
        &[&key],
        20,
        (SPENT.0, SPENT.1, "0.00002 EUR"),
        Duration::from_secs(3),
    )
    .await
    .len() as i64;
    // 0.00002 EUR is 0.00004 USD: more than 0.00002 USD was served, never more
    // than 0.00004.
    let spent = rollup_cost(&env.pool, &created.record.id.to_string(), served).await;
    assert!(
        spent > "0.00002".parse().unwrap() && spent <= "0.00004".parse().unwrap(),
        "spent {spent} USD"
    );
}

/// Regression: a request without an output cap was reserved at the model's whole
/// output (16,384 for gpt-4o-mini), clamped to the `tpm`, so a key with a `tpm` served
/// one such request a minute.
#[tokio::test]
async fn requests_without_max_tokens_reserve_their_prompt_only() {
    let env = TestEnv::start().await;
    let base = base(&env);
    let limited = json!({"limits": {"tpm": 5000}, "budget": {"amount": "0.001", "period": "day"}});
    let (_, key) = new_key(&base, &env.key, limited).await;
    let body = json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "say hello back"}]});
    for _ in 0..3 {
        let (status, _, answer) = call(
            &base,
            Method::POST,
            "/v1/chat/completions",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}
