use meridian_mock_providers::MockServer;
use serde_json::{Value, json};

use crate::common::client;

pub const KEY: &str = "azure-test-key";
pub const DEPLOYMENT: &str = "gpt4o-prod";
pub const API_VERSION: &str = "2024-10-21";

/// `POST /openai/deployments/{deployment}/{operation}?{query}` with `api-key`.
pub async fn send(
    server: &MockServer,
    operation: &str,
    query: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!(
            "{}/openai/deployments/{DEPLOYMENT}/{operation}?{query}",
            server.base_url()
        ))
        .header("api-key", KEY)
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

/// A chat completion with the API version.
pub async fn chat(server: &MockServer, body: &Value) -> reqwest::Response {
    send(
        server,
        "chat/completions",
        &format!("api-version={API_VERSION}"),
        body,
    )
    .await
}

/// A one-message request, without a `model` (the deployment names it).
pub fn ask(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": text}]})
}
