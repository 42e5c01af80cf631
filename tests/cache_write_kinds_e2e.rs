//! Prompt-cache writes of 5 minutes and of 1 hour are priced apart (Claude Sonnet 4.5:
//! $3.75 and $6 per 1M tokens): through `/v1/messages` to Anthropic, to Anthropic's
//! model on Bedrock's InvokeModel and to Claude on Vertex AI, the 1-hour write reaches the client's `usage`, its
//! `x-meridian-cost`, the rollups (`cache_write_1h_tokens`, a part of
//! `cache_write_tokens`) and the month's invoice as a line of its own at the 1-hour
//! list price, exact to the token and to the last decimal.

mod common;

use std::str::FromStr;

use chrono::{Datelike, TimeZone, Utc};
use common::TestEnv;
use meridian_billing::Period;
use meridian_billing::progress::Progress;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const ANTHROPIC: &str = common::CLAUDE_ON_ANTHROPIC;
const BEDROCK: &str = common::CLAUDE_ON_BEDROCK;
const VERTEX: &str = common::CLAUDE_ON_VERTEX;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// Sends one message whose system prompt (`words` words) is a cache breakpoint of
/// `ttl`; answers the usage and `x-meridian-cost`.
async fn ask(
    env: &TestEnv,
    model: &str,
    words: usize,
    ttl: Option<&str>,
    stream: bool,
) -> (Value, Decimal) {
    let mut control = json!({"type": "ephemeral"});
    if let Some(ttl) = ttl {
        control["ttl"] = json!(ttl);
    }
    let body = json!({
        "model": model, "max_tokens": 32, "stream": stream,
        "system": [{"type": "text", "text": common::words(words), "cache_control": control}],
        "messages": [{"role": "user", "content": "summarize it"}],
    });
    let response = reqwest::Client::new()
        .post(env.url("/v1/messages"))
        .header("x-api-key", &env.key)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    if !stream {
        let cost = d(response.headers()["x-meridian-cost"].to_str().unwrap());
        let message: Value = response.json().await.unwrap();
        return (message["usage"].clone(), cost);
    }
    // A stream's usage: `message_start`'s, with `message_delta`'s counts over it;
    // its cost asked for with OpenRouter's switch is not needed here: the rollups
    // hold it.
    let text = response.text().await.unwrap();
    let mut usage = json!({});
    for data in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let event: Value = serde_json::from_str(data).unwrap();
        let part = match event["type"].as_str() {
            Some("message_start") => &event["message"]["usage"],
            Some("message_delta") => &event["usage"],
            _ => continue,
        };
        for (k, v) in part.as_object().unwrap() {
            usage[k] = v.clone();
        }
    }
    (usage, Decimal::ZERO)
}

#[tokio::test]
async fn a_one_hour_cache_write_is_billed_at_its_own_price_in_rollups_and_on_the_invoice() {
    let env = TestEnv::start_with_deployments(common::claude_deployments, |options| {
        options.credentials = common::mock_credentials();
    })
    .await;
    let (input, write_5m, write_1h, output) =
        (d("0.000003"), d("0.00000375"), d("0.000006"), d("0.000015"));
    let mut billed = Decimal::ZERO;
    for (model, deployment) in [
        (ANTHROPIC, "anthropic-test"),
        (BEDROCK, "bedrock-test"),
        (VERTEX, "vertex-test"),
    ] {
        // A 1-hour write, a 5-minute write (of another prefix), and a streamed 1-hour
        // write: every write's tokens are the system prompt's 300 words and its 4.
        let (long, long_cost) = ask(&env, model, 300, Some("1h"), false).await;
        assert_eq!(long["cache_creation_input_tokens"], 304, "{model}: {long}");
        assert_eq!(
            long["cache_creation"],
            json!({"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 304}),
            "{model}: {long}"
        );
        let plain = Decimal::from(long["input_tokens"].as_u64().unwrap());
        let out = Decimal::from(long["output_tokens"].as_u64().unwrap());
        assert_eq!(
            long_cost,
            (plain * input + Decimal::from(304) * write_1h + out * output).normalize()
        );
        let (short, short_cost) = ask(&env, model, 200, None, false).await;
        assert_eq!(
            short["cache_creation"]["ephemeral_1h_input_tokens"], 0,
            "{short}"
        );
        assert_eq!(short["cache_creation_input_tokens"], 204);
        let plain = Decimal::from(short["input_tokens"].as_u64().unwrap());
        let out_5m = Decimal::from(short["output_tokens"].as_u64().unwrap());
        assert_eq!(
            short_cost,
            (plain * input + Decimal::from(204) * write_5m + out_5m * output).normalize()
        );
        let (streamed, _) = ask(&env, model, 100, Some("1h"), true).await;
        assert_eq!(
            streamed["cache_creation"]["ephemeral_1h_input_tokens"], 104,
            "{model}: {streamed}"
        );
        let plain_streamed = Decimal::from(streamed["input_tokens"].as_u64().unwrap());
        let out_streamed = Decimal::from(streamed["output_tokens"].as_u64().unwrap());
        let streamed_cost =
            plain_streamed * input + Decimal::from(104) * write_1h + out_streamed * output;

        let rollups =
            common::wait_for_deployment_usage(&env.pool, env.customer, deployment, 3).await;
        let (writes, writes_1h): (i64, i64) = sqlx::query_as(
            "SELECT sum(cache_write_tokens)::bigint, sum(cache_write_1h_tokens)::bigint
             FROM usage_rollups WHERE customer_id = $1 AND deployment = $2",
        )
        .bind(env.customer)
        .bind(deployment)
        .fetch_one(&env.pool)
        .await
        .unwrap();
        assert_eq!((writes, writes_1h), (304 + 204 + 104, 304 + 104), "{model}");
        let cost = long_cost + short_cost + streamed_cost;
        assert_eq!(rollups.cost.normalize(), cost.normalize(), "{model}");
        billed += cost;
    }

    // The month's invoice, run once the month is over: each deployment's writes on
    // two lines, each at its own list price.
    let now = Utc::now();
    let next = if now.month() == 12 {
        Utc.with_ymd_and_hms(now.year() + 1, 1, 2, 0, 0, 0)
    } else {
        Utc.with_ymd_and_hms(now.year(), now.month() + 1, 2, 0, 0, 0)
    }
    .unwrap();
    let period = Period::parse(&now.format("%Y-%m").to_string()).unwrap();
    let report = meridian_billing::run::run(&env.pool, period, Some("US"), next, &Progress::Log)
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let lines: Vec<(String, String, i64, Decimal, Decimal)> = sqlx::query_as(
        "SELECT l.provider, l.kind, l.quantity, l.unit_price_per_million, l.amount_usd
         FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
         WHERE i.customer_id = $1 AND l.kind LIKE 'cache_write%' ORDER BY l.provider, l.kind",
    )
    .bind(env.customer)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let lines: Vec<_> = lines
        .into_iter()
        .map(|(p, k, q, unit, amount)| (p, k, q, unit.normalize(), amount.normalize()))
        .collect();
    let line = |provider: &str, kind: &str, quantity: i64, unit: &str| {
        let unit = d(unit);
        let amount = (Decimal::from(quantity) * unit / Decimal::from(1_000_000)).normalize();
        (
            provider.to_string(),
            kind.to_string(),
            quantity,
            unit,
            amount,
        )
    };
    assert_eq!(
        lines,
        vec![
            line("anthropic", "cache_write", 204, "3.75"),
            line("anthropic", "cache_write_1h", 408, "6"),
            line("bedrock", "cache_write", 204, "3.75"),
            line("bedrock", "cache_write_1h", 408, "6"),
            line("vertex", "cache_write", 204, "3.75"),
            line("vertex", "cache_write_1h", 408, "6"),
        ]
    );
    let subtotal: Decimal = sqlx::query_scalar(
        "SELECT sum(amount_usd) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
         WHERE i.customer_id = $1",
    )
    .bind(env.customer)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(subtotal.normalize(), billed.normalize());
}
