//! Usage metering end to end: exact rollups after mixed traffic, after a `kill -9` and
//! restart of the gateway mid-traffic, and after Postgres is unreachable for ten
//! seconds under traffic.

mod common;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{ChildServer, TestEnv, chat_once};
use rust_decimal::Decimal;
use serde_json::json;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// (input, output) list prices per token of the test models in the shipped catalog.
fn prices(model: &str) -> (Decimal, Decimal) {
    match model {
        "openai/gpt-4o-mini" => (d("0.00000015"), d("0.0000006")),
        "deepseek/deepseek-chat" => (d("0.00000028"), d("0.00000042")),
        "qwen/qwen-max" => (d("0.0000016"), d("0.0000064")),
        other => panic!("no test price for {other}"),
    }
}

#[tokio::test]
async fn rollups_hold_exactly_the_requests_tokens_and_cost_of_mixed_traffic() {
    let env = TestEnv::start().await;
    let client = reqwest::Client::new();
    let (mut requests, mut errors, mut prompt, mut completion, mut cost) =
        (0i64, 0i64, 0u64, 0u64, Decimal::ZERO);
    let models = [
        "openai/gpt-4o-mini",
        "deepseek/deepseek-chat",
        "qwen/qwen-max",
    ];
    for i in 0..30u64 {
        let model = models[(i % 3) as usize];
        let text = format!("request number {i} {}", "word ".repeat(i as usize));
        requests += 1;
        if i % 7 == 6 {
            // a client error, metered and unbilled
            let r = client
                .post(format!("{}/chat/completions", env.base_url()))
                .bearer_auth(&env.key)
                .body("{")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400);
            errors += 1;
            continue;
        }
        let (p, c) = if i % 2 == 0 {
            chat_once(&client, &env.base_url(), &env.key, model, &text)
                .await
                .unwrap()
        } else {
            // streamed, with usage visible to the test
            let body = json!({"model": model, "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": text}]});
            let text = client
                .post(format!("{}/chat/completions", env.base_url()))
                .bearer_auth(&env.key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let usage_event = text
                .split("\n\n")
                .filter_map(|e| e.strip_prefix("data: "))
                .filter(|e| *e != "[DONE]")
                .last()
                .unwrap()
                .to_string();
            let chunk: serde_json::Value = serde_json::from_str(&usage_event).unwrap();
            (
                chunk["usage"]["prompt_tokens"].as_u64().unwrap(),
                chunk["usage"]["completion_tokens"].as_u64().unwrap(),
            )
        };
        let (pi, po) = prices(model);
        prompt += p;
        completion += c;
        cost += Decimal::from(p) * pi + Decimal::from(c) * po;
    }
    let totals = common::wait_for_requests(&env.pool, env.customer, requests).await;
    assert_eq!(
        totals,
        (
            requests,
            errors,
            prompt as i64,
            completion as i64,
            cost.normalize()
        )
    );

    // The dashboard endpoint reads the same numbers.
    let usage: serde_json::Value = client
        .get(env.url("/api/v1/usage?group_by=model"))
        .bearer_auth(&env.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["total"]["requests"], requests);
    assert_eq!(usage["total"]["errors"], errors);
    assert_eq!(usage["total"]["prompt_tokens"], prompt);
    assert_eq!(usage["total"]["cost"], cost.normalize().to_string());
    assert_eq!(usage["currency"], "USD");
    let items = usage["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "three models and `-` for the unparsable requests: {usage}"
    );
    assert!(items.iter().all(|i| i["cost"].is_string()));
    env.server.shutdown().await;
}

/// Runs `workers` loops of identical requests until `stop`; counts successes and failures.
fn traffic(
    base_url: String,
    key: String,
    workers: usize,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    until: Instant,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|_| {
            let (base_url, key, ok, failed) =
                (base_url.clone(), key.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                while Instant::now() < until {
                    match chat_once(
                        &client,
                        &base_url,
                        &key,
                        "openai/gpt-4o-mini",
                        "the same prompt every time",
                    )
                    .await
                    {
                        Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect()
}

#[tokio::test]
async fn kill_9_and_restart_mid_traffic_loses_nothing_acknowledged_and_counts_nothing_twice() {
    let (pool, url) = common::fresh_database().await;
    let (customer, key) = common::customer_and_key(&pool).await;
    let mock = meridian_mock_providers::MockServer::start(Default::default())
        .await
        .unwrap();
    let dir = common::temp_dir("kill9");
    let config = common::write_config(&dir, mock.addr());
    let addr = common::free_addr();
    let mut server = ChildServer::start(&url, &config, &dir, addr, "info").await;
    let base_url = format!("http://{addr}/v1");
    let (tokens_p, tokens_c) = chat_once(
        &reqwest::Client::new(),
        &base_url,
        &key,
        "openai/gpt-4o-mini",
        "the same prompt every time",
    )
    .await
    .unwrap();

    let ok = Arc::new(AtomicU64::new(1));
    let failed = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(4);
    let workers = traffic(base_url, key, 8, ok.clone(), failed.clone(), until);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    let acked_before_kill = ok.load(Ordering::SeqCst);
    // The restarted server runs on the one-thread runtime (as on a one-core machine).
    let server = ChildServer::start_with_env(
        &url,
        &config,
        &dir,
        addr,
        "info",
        &[("MERIDIAN_WORKER_THREADS", "1")],
    )
    .await;
    for w in workers {
        w.await.unwrap();
    }
    let acked = ok.load(Ordering::SeqCst);
    let failed = failed.load(Ordering::SeqCst);
    assert!(
        acked > acked_before_kill && acked_before_kill > 10,
        "traffic ran on both sides of the kill: {acked_before_kill} then {acked}"
    );

    let totals = common::wait_for_requests(&pool, customer, acked as i64).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // anything extra would show up now
    let totals_after = common::rollup_totals(&pool, customer).await;
    assert_eq!(totals, totals_after, "rollups settled");
    let (requests, errors, prompt, completion, cost) = totals;
    let billed = requests - errors;
    assert!(
        billed >= acked as i64,
        "lost acknowledged usage: {billed} billed < {acked} acknowledged"
    );
    assert!(
        billed <= (acked + failed) as i64,
        "counted more than was sent: {billed} > {acked} + {failed}"
    );
    // Every billed request is the same request: sums are exact multiples, so nothing
    // was half-counted or counted twice.
    assert_eq!(prompt, billed * tokens_p as i64);
    assert_eq!(completion, billed * tokens_c as i64);
    let (pi, po) = prices("openai/gpt-4o-mini");
    assert_eq!(
        cost,
        (Decimal::from(billed) * (Decimal::from(tokens_p) * pi + Decimal::from(tokens_c) * po))
            .normalize()
    );
    server.stop();
}

#[tokio::test]
async fn ten_seconds_without_postgres_under_traffic_loses_nothing() {
    let (pool, url) = common::fresh_database().await;
    let pg: std::net::SocketAddr = {
        let opts = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
        tokio::net::lookup_host((opts.get_host(), opts.get_port()))
            .await
            .unwrap()
            .next()
            .unwrap()
    };
    let cutter = common::TcpCutter::start(pg).await;
    let via_cutter = url.replacen(
        &format!("{}:{}", pg.ip(), pg.port()),
        &cutter.addr.to_string(),
        1,
    );
    assert_ne!(
        via_cutter, url,
        "database URL must name the host and port: {url}"
    );
    let (customer, key) = common::customer_and_key(&pool).await;
    let mock = meridian_mock_providers::MockServer::start(Default::default())
        .await
        .unwrap();
    let gateway_pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect(&via_cutter)
        .await
        .unwrap();
    let config =
        meridian_core::config::Config::parse(&common::mock_config_toml(mock.addr())).unwrap();
    let mut options = meridian::ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        config,
        common::temp_dir("outage"),
    );
    options.credentials = Arc::new(|_| Some(meridian_core::Secret::new("k")));
    options.metering.flush_interval = Duration::from_millis(100);
    options.metering.max_backoff = Duration::from_secs(1);
    let server = meridian::Server::start(gateway_pool, options)
        .await
        .unwrap();
    let base_url = server.base_url();

    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(13);
    let workers = traffic(base_url, key, 4, ok.clone(), failed.clone(), until);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cutter.cut();
    let at_cut = ok.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during_outage = ok.load(Ordering::SeqCst) - at_cut;
    cutter.restore();
    for w in workers {
        w.await.unwrap();
    }
    assert!(
        during_outage > 100,
        "the gateway kept serving while Postgres was away ({during_outage})"
    );
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "no request failed because of Postgres"
    );
    let acked = ok.load(Ordering::SeqCst) as i64;
    let totals = common::wait_for_requests(&pool, customer, acked).await;
    assert_eq!(
        (totals.0, totals.1),
        (acked, 0),
        "every request counted exactly once"
    );
    server.shutdown().await;
}
