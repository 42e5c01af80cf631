use serde_json::json;

use crate::common::{client, server};
use crate::support::{ask, error_of, gemini};

#[tokio::test]
async fn no_key_is_403_permission_denied() {
    let server = server().await;
    let response = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.0-flash:generateContent",
            server.base_url()
        ))
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    let message = error_of(response, 403, "PERMISSION_DENIED").await;
    assert!(message.contains("unregistered callers"), "{message}");
}

#[tokio::test]
async fn the_body_is_checked_as_google_checks_it() {
    let server = &server().await;
    let refused = |body| async move {
        let response = gemini(server, "gemini-2.0-flash", "generateContent", &body).await;
        error_of(response, 400, "INVALID_ARGUMENT").await
    };
    assert_eq!(
        refused(json!({"contents": []})).await,
        "* GenerateContentRequest.contents: contents is not specified\n"
    );
    assert_eq!(
        refused(json!({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]})).await,
        "Please use a valid role: user, model."
    );
    assert_eq!(
        refused(json!({"contents": [{"parts": [{"text": "hi"}]}], "messages": []})).await,
        "Invalid JSON payload received. Unknown name \"messages\": Cannot find field."
    );
    let mut body = ask("hi");
    body["generationConfig"] = json!({"max_tokens": 5});
    assert!(
        refused(body)
            .await
            .contains("\"max_tokens\" at 'generation_config'")
    );
    let image = json!({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "data:image/png;base64,AAAA"}}]}]});
    assert!(refused(image).await.contains("Base64 decoding failed"));
    let mut body = ask("hi");
    body["generationConfig"] = json!({"temperature": 3.0});
    assert!(refused(body).await.contains("temperature"));
}

#[tokio::test]
async fn parts_of_every_kind_are_accepted_and_counted() {
    let server = server().await;
    let body = json!({"contents": [
        {"role": "user", "parts": [
            {"text": "look"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/a.pdf"}}
        ]},
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"ok": true}}}]}
    ]});
    let response = gemini(&server, "gemini-2.0-flash", "generateContent", &body).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    // (1 + 2×85 + 4) + (85 + 4) + (85 + 4) + 3.
    assert_eq!(
        answer["usageMetadata"]["promptTokenCount"],
        175 + 89 + 89 + 3
    );
}

#[tokio::test]
async fn an_unknown_method_is_404() {
    let server = server().await;
    let response = gemini(&server, "gemini-2.0-flash", "embedText", &ask("hi")).await;
    error_of(response, 404, "NOT_FOUND").await;
}
