//! The finance API over real HTTP: the admin token is required, invoice runs and
//! invoices are listed per entity and period, one invoice comes with its lines, a
//! credit note is issued; errors are problem+json.

mod common;

use common::TestEnv;
use serde_json::{Value, json};

const TOKEN: &str = "finance-secret";

#[tokio::test]
async fn finance_lists_fetches_and_credits_invoices() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         VALUES ($1, NULL, 'openai/gpt-4o-mini', 'openai', 'openai-us-east-reserved', 'us-east', 'gpt-4o-mini',
                 '2026-10-10 10:00Z', 3, 0, 3000, 1500, 0, 0, 0, 0, 0, 0, 0, '{}')",
    )
    .bind(env.customer)
    .execute(&env.pool)
    .await
    .unwrap();
    common::invoice_us_october(&env.pool).await;

    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut r = http.get(env.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let denied = get("/admin/v1/invoices", Some("wrong")).await.unwrap();
    assert_eq!(denied.status(), 401);
    assert_eq!(denied.headers()["content-type"], "application/problem+json");

    let runs: Value = get("/admin/v1/invoice-runs?entity=US", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            runs["items"][0]["period"].as_str(),
            runs["items"][0]["status"].as_str(),
            runs["items"][0]["invoices_issued"].as_i64()
        ),
        (Some("2026-10"), Some("completed"), Some(1))
    );

    let list: Value = get("/admin/v1/invoices?entity=US&period=2026-10", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["number"], "MUS-2026-000001");
    assert_eq!(list["items"][0]["kind"], "invoice");
    assert!(list["next_cursor"].is_null());
    let forged = get("/admin/v1/invoices?cursor=MUS-1999-000001", Some(TOKEN))
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let unknown: Value = get("/admin/v1/invoice-runs?sort=period", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        unknown["detail"].as_str().unwrap().contains("`sort`"),
        "{unknown}"
    );
    let bad = get("/admin/v1/invoices?period=October", Some(TOKEN))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let invoice: Value = get("/admin/v1/invoices/MUS-2026-000001", Some(TOKEN))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // 3000 × 0.15/M + 1500 × 0.6/M at the shipped prices
    assert_eq!(invoice["subtotal_usd"], "0.00135");
    assert_eq!(invoice["lines"][0]["unit_price_per_million"], "0.15");
    assert_eq!(
        invoice["lines"].as_array().unwrap().last().unwrap()["kind"],
        "platform_fee"
    );
    assert_eq!(
        get("/admin/v1/invoices/MUS-2026-000404", Some(TOKEN))
            .await
            .unwrap()
            .status(),
        404
    );

    let post = |body: Value| {
        http.post(env.url("/admin/v1/invoices/MUS-2026-000001/credit-notes"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let malformed = http
        .post(env.url("/admin/v1/invoices/MUS-2026-000001/credit-notes"))
        .bearer_auth(TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let keyed = |body: Value| {
        http.post(env.url("/admin/v1/invoices/MUS-2026-000001/credit-notes"))
            .bearer_auth(TOKEN)
            .header("idempotency-key", "goodwill-1")
            .json(&body)
            .send()
    };
    let created = keyed(json!({"reason": "goodwill", "lines": [1]}))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let note: Value = created.json().await.unwrap();
    // The same key and body again: the same note, not a second one (nor a 400).
    let replayed = keyed(json!({"reason": "goodwill", "lines": [1]}))
        .await
        .unwrap();
    assert_eq!(
        (
            replayed.status(),
            replayed.headers()["idempotent-replayed"].to_str().unwrap()
        ),
        (reqwest::StatusCode::CREATED, "true")
    );
    assert_eq!(replayed.json::<Value>().await.unwrap(), note);
    let other = keyed(json!({"reason": "other", "lines": [1]}))
        .await
        .unwrap();
    assert_eq!(other.status(), 409);
    assert_eq!(
        (note["number"].as_str(), note["credited_invoice"].as_str()),
        (Some("MUSC-2026-000001"), Some("MUS-2026-000001"))
    );
    let twice = post(json!({"reason": "goodwill", "lines": [1]}))
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    let problem: Value = twice.json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "line 1 of MUS-2026-000001 is already credited"
    );
}
