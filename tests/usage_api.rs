//! The customer's usage and invoices over `/api/v1/*`: usage grouped five ways, as
//! JSON and CSV, totalling what the month's invoice bills; the invoice's detail, PDF
//! and XML with ETags; another customer's documents answered as if they did not exist.

mod common;

use common::TestEnv;
use common::world::rollup;
use meridian_core::CustomerId;
use serde_json::Value;

/// A second customer, with a key.
async fn other_customer(env: &TestEnv) -> (CustomerId, String) {
    let id = common::world::second_customer(env).await;
    let key = meridian::demo::demo_key(&env.pool, id).await.unwrap();
    let key = key.expose().to_string();
    // A key made while serving works once the key refresh has seen it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while get(env, "/api/v1/invoices", &key, None).await.status() == 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the new key never worked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (id, key)
}

async fn get(env: &TestEnv, path: &str, key: &str, accept: Option<&str>) -> reqwest::Response {
    let mut r = reqwest::Client::new().get(env.url(path)).bearer_auth(key);
    if let Some(accept) = accept {
        r = r.header("accept", accept);
    }
    r.send().await.unwrap()
}

async fn json(env: &TestEnv, path: &str, key: &str) -> Value {
    let r = get(env, path, key, None).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn usage_by_every_grouping_totals_the_invoice_and_exports_as_csv() {
    let env = TestEnv::start().await;
    let (other, other_key) = other_customer(&env).await;
    // 3000 × 0.15/M + 1500 × 0.6/M, and 1000 × 3/M + 200 × 15/M
    let a = ("openai/gpt-4o-mini", "openai", "us-east", "gpt-4o-mini");
    let b = (
        "anthropic/claude-sonnet-4-5",
        "anthropic",
        "eu-west",
        "claude-sonnet-4-5",
    );
    for (customer, (model, provider, region, key), hour, tokens, cost) in [
        (
            env.customer,
            a,
            "2026-10-10 10:00Z",
            (3000, 1500),
            "0.00135",
        ),
        (env.customer, b, "2026-10-11 23:00Z", (1000, 200), "0.006"),
        (other, b, "2026-10-11 23:00Z", (1000, 200), "0.006"),
    ] {
        rollup(
            &env, customer, model, provider, region, key, hour, tokens, cost,
        )
        .await;
    }
    let range = "from=2026-10-01&to=2026-11-01";
    for (group_by, values) in [
        ("day", vec!["2026-10-10", "2026-10-11"]),
        (
            "model",
            vec!["anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"],
        ),
        ("provider", vec!["anthropic", "openai"]),
        ("region", vec!["eu-west", "us-east"]),
    ] {
        let usage = json(
            &env,
            &format!("/api/v1/usage?{range}&group_by={group_by}"),
            &env.key,
        )
        .await;
        let items = usage["items"].as_array().unwrap();
        let got: Vec<&str> = items
            .iter()
            .map(|i| i[group_by].as_str().unwrap())
            .collect();
        assert_eq!(got, values, "{group_by}");
        assert_eq!(
            usage["total"]["cost"], "0.00735",
            "{group_by}: the other customer's usage is not counted"
        );
        assert_eq!(usage["total"]["requests"], 4);
        assert_eq!(usage["total"]["errors"], 2);
    }
    let by_key = json(
        &env,
        &format!("/api/v1/usage?{range}&group_by=key"),
        &env.key,
    )
    .await;
    assert_eq!(by_key["items"][0]["key"], Value::Null);
    let theirs = json(
        &env,
        &format!("/api/v1/usage?{range}&group_by=model"),
        &other_key,
    )
    .await;
    assert_eq!(theirs["total"]["cost"], "0.006");

    let bad = get(&env, "/api/v1/usage?group_by=deployment", &env.key, None).await;
    assert_eq!(bad.status(), 400);
    let problem: Value = bad.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("`group_by` must be one of day, model, key, provider, region")
    );

    let csv = get(
        &env,
        &format!("/api/v1/usage?{range}&group_by=provider"),
        &env.key,
        Some("text/csv"),
    )
    .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers()["content-disposition"],
        "attachment; filename=\"usage-2026-10-01-2026-11-01-by-provider.csv\""
    );
    assert_eq!(
        csv.text().await.unwrap(),
        "provider,requests,errors,prompt_tokens,completion_tokens,cost,currency\n\
         anthropic,2,1,1000,200,0.006,USD\n\
         openai,2,1,3000,1500,0.00135,USD\n"
    );
    let prefers_json = get(
        &env,
        "/api/v1/usage",
        &env.key,
        Some("application/json, text/csv;q=0.5"),
    )
    .await;
    assert!(
        prefers_json.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // The month's invoice bills exactly the usage's total.
    common::invoice_us_october(&env.pool).await;
    let list = json(&env, "/api/v1/invoices", &env.key).await;
    let number = list["items"][0]["number"].as_str().unwrap().to_string();
    let invoice = json(&env, &format!("/api/v1/invoices/{number}"), &env.key).await;
    assert_eq!(invoice["subtotal_usd"], by_key["total"]["cost"]);
    assert!(invoice["lines"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn invoice_documents_carry_etags_and_stay_the_customers_own() {
    let env = TestEnv::start().await;
    let (_, other_key) = other_customer(&env).await;
    let a = ("openai/gpt-4o-mini", "openai", "us-east", "gpt-4o-mini");
    rollup(
        &env,
        env.customer,
        a.0,
        a.1,
        a.2,
        a.3,
        "2026-10-10 10:00Z",
        (3000, 1500),
        "0.00135",
    )
    .await;
    common::invoice_us_october(&env.pool).await;
    let list = json(&env, "/api/v1/invoices", &env.key).await;
    let (id, number) = (
        list["items"][0]["id"].as_str().unwrap().to_string(),
        list["items"][0]["number"].as_str().unwrap().to_string(),
    );
    for reference in [&id, &number] {
        let detail = json(&env, &format!("/api/v1/invoices/{reference}"), &env.key).await;
        assert_eq!(detail["number"], number.as_str());
        for path in ["", "/pdf", "/xml"] {
            let theirs = get(
                &env,
                &format!("/api/v1/invoices/{reference}{path}"),
                &other_key,
                None,
            )
            .await;
            assert_eq!(
                theirs.status(),
                404,
                "{path}: another customer's document does not exist"
            );
            assert_eq!(theirs.headers()["content-type"], "application/problem+json");
        }
    }

    let pdf = get(&env, &format!("/api/v1/invoices/{id}/pdf"), &env.key, None).await;
    assert_eq!(pdf.status(), 200);
    let etag = pdf.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let again = get(
        &env,
        &format!("/api/v1/invoices/{number}/pdf"),
        &env.key,
        None,
    )
    .await;
    assert_eq!(
        again.headers()["etag"].to_str().unwrap(),
        etag,
        "the same document, the same bytes"
    );

    let cached = reqwest::Client::new()
        .get(env.url(&format!("/api/v1/invoices/{id}/pdf")))
        .bearer_auth(&env.key)
        .header("if-none-match", format!("\"stale\", {etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"].to_str().unwrap(), etag);
    assert!(cached.bytes().await.unwrap().is_empty());
    let stale = reqwest::Client::new()
        .get(env.url(&format!("/api/v1/invoices/{id}/pdf")))
        .bearer_auth(&env.key)
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    // A US invoice has no EN 16931 XML.
    let xml = get(&env, &format!("/api/v1/invoices/{id}/xml"), &env.key, None).await;
    assert_eq!(xml.status(), 404);
    let problem: Value = xml.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("has no EN 16931 XML")
    );
}
