//! Every failure is visible: one log line per failed upstream attempt, per 5xx answer,
//! per stream broken off and per stream the client left, each with the request id,
//! the deployment and a class, never content; and a count in `/metrics` per class.
//! `meridian serve` runs as a child process, so its log is read as an operator would.

mod common;

use std::time::Duration;

use common::ChildServer;
use meridian_mock_providers::{Fault, MockConfig, MockServer};
use serde_json::json;

const DEPLOYMENT: &str = "openai-us-east-reserved";
/// Text that must never reach the log.
const CANARY: &str = "zebracanary";

/// The log lines with `message` that name `request_id`.
fn lines_with<'a>(log: &'a str, message: &str, request_id: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| l.contains(message) && l.contains(&format!("request_id={request_id}")))
        .collect()
}

/// The server's log once it holds `message` for `request_id` (or after 5 s).
async fn log_once_it_has(server: &ChildServer, message: &str, request_id: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(&server.log).unwrap();
        if !lines_with(&log, message, request_id).is_empty() || std::time::Instant::now() > deadline
        {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics"))
}

#[tokio::test]
async fn each_failure_is_logged_once_with_its_request_id_and_counted() {
    let (pool, database_url) = common::fresh_database().await;
    let mock = MockServer::start(MockConfig {
        token_delay: Duration::from_millis(10),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = common::temp_dir("failure-logs");
    let config = common::write_config(&dir, mock.addr());
    let (_, key) = common::customer_and_key(&pool).await;
    let server =
        ChildServer::start(&database_url, &config, &dir, common::free_addr(), "info").await;
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        client
            .post(format!("http://{}/v1/chat/completions", server.addr))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let chat = |stream: bool| {
        json!({"model": "openai/gpt-4o-mini", "stream": stream,
            "messages": [{"role": "user", "content": format!("{CANARY} {}", common::words(200))}]})
    };
    let request_id =
        |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();

    // A provider's 500 (the only deployment): one failed attempt, one 502 answer.
    mock.inject(
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
        1,
    );
    let response = post(chat(false)).await.unwrap();
    assert_eq!(response.status(), 502);
    let id = request_id(&response);
    let log = log_once_it_has(&server, "request failed", &id).await;
    let attempts = lines_with(&log, "upstream attempt failed", &id);
    assert_eq!(attempts.len(), 1, "{log}");
    assert!(
        attempts[0].contains(&format!("deployment={DEPLOYMENT}")),
        "{}",
        attempts[0]
    );
    assert!(
        attempts[0].contains("class=upstream_error"),
        "{}",
        attempts[0]
    );
    let failed = lines_with(&log, "request failed", &id);
    assert_eq!(failed.len(), 1, "{log}");
    assert!(failed[0].contains("status=502"), "{}", failed[0]);

    // A connection reset: the class says so.
    mock.inject(Fault::ConnectionReset, 1);
    let response = post(chat(false)).await.unwrap();
    assert_eq!(response.status(), 502);
    let id = request_id(&response);
    let log = log_once_it_has(&server, "request failed", &id).await;
    let attempts = lines_with(&log, "upstream attempt failed", &id);
    assert_eq!(attempts.len(), 1, "{log}");
    assert!(
        attempts[0].contains("class=upstream_unreachable"),
        "{}",
        attempts[0]
    );

    // A stream the provider cuts.
    mock.inject(Fault::StreamCut { after_chunks: 5 }, 1);
    let response = post(chat(true)).await.unwrap();
    let id = request_id(&response);
    let read = common::read_stream(response, None).await;
    assert!(read.error.is_some() && !read.done);
    let log = log_once_it_has(&server, "stream broken off by the provider", &id).await;
    let broken = lines_with(&log, "stream broken off by the provider", &id);
    assert_eq!(broken.len(), 1, "{log}");
    assert!(
        broken[0].contains(&format!("deployment={DEPLOYMENT}")),
        "{}",
        broken[0]
    );

    // A stream the client leaves.
    let response = post(chat(true)).await.unwrap();
    let id = request_id(&response);
    common::read_stream(response, Some(10)).await;
    let log = log_once_it_has(&server, "client closed the stream", &id).await;
    assert_eq!(
        lines_with(&log, "client closed the stream", &id).len(),
        1,
        "{log}"
    );
    assert!(!log.contains(CANARY), "content reached the log");

    let metrics = client
        .get(format!("http://{}/metrics", server.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let requests = |status: &str| {
        metric(
            &metrics,
            &format!("meridian_requests_total{{operation=\"chat\",status=\"{status}\"}}"),
        )
    };
    // The two 502 answers and the broken stream; the stream left by its client.
    assert_eq!(
        (requests("5xx"), requests("499"), requests("2xx")),
        (3, 1, 0)
    );
    assert_eq!(
        metric(
            &metrics,
            "meridian_upstream_failures_total{provider=\"openai\"}"
        ),
        2
    );
    assert_eq!(
        metric(
            &metrics,
            "meridian_stream_failures_total{provider=\"openai\"}"
        ),
        1
    );
    server.stop();
}
