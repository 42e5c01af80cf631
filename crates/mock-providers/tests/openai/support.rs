use std::time::Duration;

use meridian_mock_providers::{MockConfig, MockServer};
use serde_json::{Value, json};

pub const KEY: &str = "sk-test-key";

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

/// `POST {base}{path}` with the key and a JSON body.
pub async fn post(url: String, body: &Value) -> reqwest::Response {
    client()
        .post(url)
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

pub async fn chat(server: &MockServer, body: &Value) -> reqwest::Response {
    post(
        format!("{}/chat/completions", server.openai_base_url()),
        body,
    )
    .await
}

/// A one-message chat request.
pub fn ask(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// The `data:` payloads of an SSE body, checking its framing on the way.
pub fn data_events(body: &str) -> Vec<&str> {
    assert!(
        body.ends_with("\n\n"),
        "events end with a blank line: {body:?}"
    );
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|event| event.strip_prefix("data: ").expect("only data events"))
        .collect()
}

/// The JSON chunks of an SSE body that ends with `[DONE]`.
pub fn chunks(body: &str) -> Vec<Value> {
    let events = data_events(body);
    let (done, chunks) = events.split_last().expect("at least [DONE]");
    assert_eq!(*done, "[DONE]");
    chunks
        .iter()
        .map(|c| serde_json::from_str(c).expect("each chunk is JSON"))
        .collect()
}

/// Asserts OpenAI's error shape and returns the error object.
pub async fn error_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.expect("a JSON error body");
    let error = body["error"].clone();
    for field in ["message", "type", "param", "code"] {
        assert!(error.get(field).is_some(), "error.{field} in {body}");
    }
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    error
}
