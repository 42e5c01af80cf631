use serde_json::{Value, json};

use crate::common::server;
use crate::support::{KEY, MODEL, VERSION, ask, error_of, messages, send};

#[tokio::test]
async fn no_key_is_401_and_a_bearer_key_is_accepted() {
    let server = server().await;
    let refused = send(&server, &ask("hi"), &[("anthropic-version", VERSION)]).await;
    let message = error_of(refused, 401, "authentication_error").await;
    assert_eq!(message, "x-api-key header is required");

    let bearer = format!("Bearer {KEY}");
    let accepted = send(
        &server,
        &ask("hi"),
        &[("authorization", &bearer), ("anthropic-version", VERSION)],
    )
    .await;
    assert_eq!(accepted.status(), 200);
}

#[tokio::test]
async fn a_missing_anthropic_version_is_400() {
    let server = server().await;
    let refused = send(&server, &ask("hi"), &[("x-api-key", KEY)]).await;
    let message = error_of(refused, 400, "invalid_request_error").await;
    assert_eq!(message, "anthropic-version: header is required");
}

/// The request `ask("hi")` with `change` applied, and the refusal it meets.
async fn refused(change: impl FnOnce(&mut Value)) -> String {
    let server = server().await;
    let mut body = ask("hi");
    change(&mut body);
    error_of(messages(&server, &body).await, 400, "invalid_request_error").await
}

#[tokio::test]
async fn the_body_is_checked_as_anthropic_checks_it() {
    let without_max_tokens = refused(|b| {
        b.as_object_mut().unwrap().remove("max_tokens");
    });
    assert_eq!(without_max_tokens.await, "max_tokens: Field required");

    let assistant_first = refused(|b| {
        b["messages"] =
            json!([{"role": "assistant", "content": "hi"}, {"role": "user", "content": "hi"}]);
    });
    assert_eq!(
        assistant_first.await,
        "messages: first message must use the \"user\" role"
    );

    let two_users = refused(|b| {
        b["messages"] = json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]);
    });
    assert!(two_users.await.contains("roles must alternate"));

    let system_role = refused(|b| {
        b["messages"] =
            json!([{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]);
    });
    assert!(system_role.await.contains("top-level `system` parameter"));

    let empty = refused(|b| b["messages"] = json!([]));
    assert_eq!(empty.await, "messages: at least one message is required");

    let openai_field = refused(|b| b["n"] = json!(1));
    assert_eq!(openai_field.await, "n: Extra inputs are not permitted");

    let hot = refused(|b| b["temperature"] = json!(1.5));
    assert_eq!(
        hot.await,
        "temperature: Input should be less than or equal to 1"
    );

    let openai_image = refused(|b| {
        b["messages"][0]["content"] =
            json!([{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]);
    });
    assert!(openai_image.await.contains("Input tag 'image_url'"));

    let bmp = refused(|b| {
        b["messages"][0]["content"] = json!([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AA=="}}]);
    });
    assert!(bmp.await.contains("media_type"));

    let stray_result = refused(|b| {
        b["messages"] = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}]}
        ]);
    });
    assert!(stray_result.await.contains("unexpected `tool_use_id`"));

    let unknown_tool = refused(|b| {
        b["tools"] = json!([{"name": "f", "input_schema": {"type": "object"}}]);
        b["tool_choice"] = json!({"type": "tool", "name": "g"});
    });
    assert!(unknown_tool.await.contains("'g'"));
}

#[tokio::test]
async fn errors_never_repeat_the_prompt() {
    let server = server().await;
    let mut body = ask("CANARY-7f3a secret words");
    body["messages"][0]["role"] = json!("robot");
    let message = error_of(messages(&server, &body).await, 400, "invalid_request_error").await;
    assert!(!message.contains("CANARY"), "{message}");
    body["messages"][0]["role"] = json!("user");
    body["model"] = json!(MODEL);
    body["bogus"] = json!("CANARY-7f3a");
    let message = error_of(messages(&server, &body).await, 400, "invalid_request_error").await;
    assert!(!message.contains("CANARY"), "{message}");
}
