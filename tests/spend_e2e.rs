//! The dashboard's spend, budget alerts and model list, over real HTTP against the
//! mock providers, a real Postgres and a real SMTP server: `GET /api/v1/spend` equals
//! the rollups to the unit; crossing 50, 80 and 100 % of the customer's budget mails
//! the customer once per threshold and period, also after a restart; `GET
//! /api/v1/models` shows each deployment's list price as Meridian's price, narrowed to
//! the customer's residency.

mod common;

use std::time::{Duration, Instant};

use common::TestEnv;
use mail_parser::MessageParser;
use meridian::{ServeOptions, Server};
use meridian_core::config::Config;
use meridian_test_support::smtp::SmtpServer;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn fast_alerts(options: &mut ServeOptions, smtp: &SmtpServer) {
    options.smtp_url = Some(format!("smtp://{}", smtp.addr));
    options.outbox.poll = Duration::from_millis(100);
    options.budget_alert_check = Duration::from_millis(100);
}

async fn get(env: &TestEnv, path: &str, key: &str) -> (StatusCode, Value) {
    let (status, _, body) = common::rest(Method::GET, &env.url(path), key, None).await;
    (status, body)
}

async fn put_budget(env: &TestEnv, amount: Decimal) {
    let body = json!({"amount": amount.to_string(), "period": "month", "alerts": [50, 80, 100]});
    let (status, _, answer) = common::rest(
        Method::PUT,
        &env.url("/api/v1/budget"),
        &env.key,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// Serves `n` chat requests and waits until the rollups hold them: the customer's
/// billed cost, USD.
async fn spend(env: &TestEnv, n: usize) -> Decimal {
    let client = reqwest::Client::new();
    for _ in 0..n {
        common::chat_once(
            &client,
            &env.base_url(),
            &env.key,
            "openai/gpt-4o-mini",
            "hello",
        )
        .await
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (requests, cost): (i64, Decimal) = sqlx::query_as(
            "SELECT coalesce(sum(requests), 0)::bigint, coalesce(sum(cost), 0)
             FROM usage_rollups WHERE customer_id = $1",
        )
        .bind(env.customer)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        if requests as usize >= n {
            return cost;
        }
        assert!(
            Instant::now() < deadline,
            "{requests} of {n} in the rollups"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The subject and text of each message received, once `n` have arrived.
async fn mails(smtp: &SmtpServer, n: usize) -> Vec<(String, String, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while smtp.messages().len() < n {
        assert!(
            Instant::now() < deadline,
            "{} of {n} e-mails",
            smtp.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    smtp.messages()
        .iter()
        .map(|raw| {
            let mail = MessageParser::default().parse(raw).expect("a message");
            assert_eq!(mail.attachment_count(), 0, "an alert has no attachment");
            let to = mail.to().and_then(|a| a.first()).and_then(|a| a.address());
            (
                to.unwrap_or_default().to_string(),
                mail.subject().unwrap_or_default().to_string(),
                mail.body_text(0).unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn alert_rows(env: &TestEnv) -> Vec<(i32, Decimal, Decimal)> {
    sqlx::query_as(
        "SELECT threshold, budget_amount, spent FROM budget_alerts WHERE customer_id = $1
         ORDER BY threshold",
    )
    .bind(env.customer)
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn spend_is_the_rollups_and_each_alert_threshold_mails_once_per_period() {
    let smtp = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let env = TestEnv::start_with(|o| fast_alerts(o, &smtp)).await;

    let (status, nothing) = get(&env, "/api/v1/spend", &env.key).await;
    assert_eq!(status, StatusCode::OK, "{nothing}");
    assert_eq!(
        (&nothing["spent"], &nothing["forecast"], &nothing["budget"]),
        (&json!("0"), &json!("0.00"), &Value::Null),
        "{nothing}"
    );

    put_budget(&env, Decimal::ONE).await;
    let spent = spend(&env, 4).await;
    assert!(spent > Decimal::ZERO);
    let (status, body) = get(&env, "/api/v1/spend", &env.key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let month_start = chrono::Utc::now().format("%Y-%m-01T00:00:00Z").to_string();
    assert_eq!(body["period"], "month");
    assert_eq!(body["from"], month_start);
    assert_eq!(body["currency"], "USD");
    assert_eq!(
        body["spent"],
        spent.normalize().to_string(),
        "exact: {body}"
    );
    assert_eq!(body["spent_usd"], spent.normalize().to_string());
    let forecast: Decimal = body["forecast"].as_str().unwrap().parse().unwrap();
    assert!(forecast >= spent.round_dp(2), "{body}");
    assert_eq!(body["budget"]["amount"], "1");
    assert_eq!(
        body["budget"]["remaining"],
        (Decimal::ONE - spent).normalize().to_string()
    );
    assert_eq!(body["budget"]["alerts"], json!([50, 80, 100]));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.messages().is_empty(), "nothing crossed at 1 USD");

    // Two thirds of a lower budget: the 50 % alert alone.
    put_budget(&env, spent * Decimal::from(3) / Decimal::from(2)).await;
    let first = mails(&smtp, 1).await;
    assert_eq!(first[0].0, "demo@example.com");
    assert!(first[0].1.contains("50%"), "{:?}", first[0]);
    assert!(
        first[0].2.contains("Requests continue to be served"),
        "{}",
        first[0].2
    );
    // All of it: 80 and 100 %, and 50 % not again.
    put_budget(&env, spent).await;
    let all = mails(&smtp, 3).await;
    let subjects: Vec<&str> = all.iter().map(|m| m.1.as_str()).collect();
    assert!(
        subjects[1..].iter().any(|s| s.contains("80%")),
        "{subjects:?}"
    );
    let exhausted = all.iter().find(|m| m.1.contains("100%")).expect("100 %");
    assert!(
        exhausted.2.contains("Requests are refused"),
        "{}",
        exhausted.2
    );
    let rows = alert_rows(&env).await;
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [50, 80, 100]);
    for (threshold, amount, at) in &rows {
        assert!(
            *at * Decimal::ONE_HUNDRED >= *amount * Decimal::from(*threshold),
            "{threshold}: {at} of {amount}"
        );
    }

    // A second gateway on the same database (a restart, or another replica) rebuilds
    // the spend and records nothing twice.
    let config = Config::parse(&common::mock_config_toml(env.mock.addr())).unwrap();
    let mut options = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        config,
        common::temp_dir("data"),
    );
    fast_alerts(&mut options, &smtp);
    let second = Server::start(env.pool.clone(), options).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 3, "no alert mailed twice");
    assert_eq!(alert_rows(&env).await.len(), 3);
    second.shutdown().await;
}

#[tokio::test]
async fn the_model_list_shows_list_prices_as_meridians_narrowed_to_the_residency() {
    let env = TestEnv::start_with(|o| {
        o.config
            .placement
            .residency
            .insert("apac".into(), vec!["ap-southeast-1".into()]);
    })
    .await;
    let (status, page) = get(&env, "/api/v1/models?limit=2", &env.key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut ids: Vec<String> = Vec::new();
    let mut page = page;
    loop {
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        ids.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_string()));
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        page = get(
            &env,
            &format!("/api/v1/models?limit=2&cursor={cursor}"),
            &env.key,
        )
        .await
        .1;
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(ids.contains(&"openai/gpt-4o-mini".to_string()), "{ids:?}");
    assert!(ids.contains(&"qwen/qwen-max".to_string()), "{ids:?}");

    let (_, all) = get(&env, "/api/v1/models?limit=200", &env.key).await;
    let mini = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "openai/gpt-4o-mini")
        .unwrap();
    let offer = &mini["offers"][0];
    assert_eq!(offer["deployment"], "openai-us-east-reserved");
    assert_eq!(offer["kind"], "reserved");
    // gpt-4o-mini lists 1.5e-07 and 6e-07 USD a token.
    assert_eq!(offer["provider_price"]["input"], "0.15");
    assert_eq!(offer["provider_price"]["output"], "0.6");
    assert_eq!(offer["provider_price"], offer["meridian_price"]);
    assert_eq!(offer["markup"], "0");

    let (status, bad) = get(&env, "/api/v1/models?limit=0", &env.key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["detail"].as_str().unwrap().contains("`limit`"), "{bad}");

    // A customer kept in APAC sees only what may serve it there.
    sqlx::query("UPDATE customers SET residency = 'apac' WHERE id = $1")
        .bind(env.customer)
        .execute(&env.pool)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (_, page) = get(&env, "/api/v1/models", &env.key).await;
        let ids: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        if ids == ["qwen/qwen-max"] {
            assert_eq!(page["items"][0]["offers"][0]["region"], "ap-southeast-1");
            break;
        }
        assert!(Instant::now() < deadline, "still {ids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
