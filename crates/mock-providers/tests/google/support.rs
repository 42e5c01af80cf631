use meridian_mock_providers::MockServer;
use serde_json::{Value, json};

use crate::common::client;

pub const KEY: &str = "AIza-test-key";

/// `POST /v1beta/models/{model}:{method}` with the key in `x-goog-api-key`.
pub async fn gemini(
    server: &MockServer,
    model: &str,
    method: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!(
            "{}/v1beta/models/{model}:{method}",
            server.base_url()
        ))
        .header("x-goog-api-key", KEY)
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

/// `generateContent` of a one-message request, as JSON.
pub async fn generate(server: &MockServer, model: &str, body: &Value) -> Value {
    let response = gemini(server, model, "generateContent", body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A one-message request.
pub fn ask(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

/// Asserts Google's error shape, code and status; returns the message.
pub async fn error_of(response: reqwest::Response, code: u16, status: &str) -> String {
    assert_eq!(response.status().as_u16(), code);
    let body: Value = response.json().await.expect("a JSON error body");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["status"], status, "{body}");
    error["message"].as_str().expect("a message").to_owned()
}
