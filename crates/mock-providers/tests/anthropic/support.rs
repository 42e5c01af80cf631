use meridian_mock_providers::MockServer;
use serde_json::{Value, json};

use crate::common::client;

pub const KEY: &str = "sk-ant-test-key";
pub const VERSION: &str = "2023-06-01";
pub const MODEL: &str = "claude-sonnet-4-5";

/// `POST /v1/messages` with exactly these headers.
pub async fn send(
    server: &MockServer,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{}/v1/messages", server.base_url()))
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the mock answers")
}

/// `POST /v1/messages` with the key and the version.
pub async fn messages(server: &MockServer, body: &Value) -> reqwest::Response {
    send(
        server,
        body,
        &[("x-api-key", KEY), ("anthropic-version", VERSION)],
    )
    .await
}

/// A one-message request.
pub fn ask(text: &str) -> Value {
    json!({"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": text}]})
}

/// Asserts Anthropic's error shape, status and type; returns the message.
pub async fn error_of(response: reqwest::Response, status: u16, kind: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(request_id.starts_with("req_"), "{request_id}");
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["request_id"], request_id.as_str());
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(!message.is_empty());
    message.to_owned()
}
