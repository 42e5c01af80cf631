//! What every provider's tests share: a running mock, a client, and readers for
//! streamed bodies. Included by each test binary with `#[path]`.

#![allow(dead_code)] // Each binary uses its own part of it.

use std::time::Duration;

use futures::StreamExt;
use meridian_mock_providers::{MockConfig, MockServer};
use serde_json::Value;

pub async fn server() -> MockServer {
    server_with(MockConfig::default()).await
}

pub async fn server_with(config: MockConfig) -> MockServer {
    MockServer::start(config).await.expect("the mock starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

/// The events of an SSE body whose lines end with `newline`: each event's name (if
/// any) and its data as JSON, checking the framing on the way.
pub fn sse_events(body: &str, newline: &str) -> Vec<(Option<String>, Value)> {
    let blank = format!("{newline}{newline}");
    assert!(
        body.ends_with(&blank),
        "events end with a blank line: {body:?}"
    );
    body.trim_end_matches(&blank)
        .split(&blank)
        .map(|event| {
            let mut name = None;
            let mut data = None;
            for line in event.split(newline) {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(value).expect("data is JSON"));
                } else {
                    panic!("an unexpected line {line:?}");
                }
            }
            (name, data.expect("every event has data"))
        })
        .collect()
}

/// Reads a body until it ends or breaks: (what arrived, whether it broke).
pub async fn read_until_broken(response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut body = response.bytes_stream();
    let mut received = Vec::new();
    while let Some(bytes) = body.next().await {
        match bytes {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => return (received, true),
        }
    }
    (received, false)
}
