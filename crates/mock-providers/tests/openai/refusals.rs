use serde_json::{Value, json};

use crate::support::{ask, chat, client, error_of, server};

#[tokio::test]
async fn a_missing_or_empty_key_is_401_invalid_api_key() {
    let server = server().await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let body = ask("gpt-4o", "hi");
    let attempts = [
        client().post(&url).json(&body),
        client()
            .post(&url)
            .header("authorization", "Bearer ")
            .json(&body),
        client()
            .post(&url)
            .header("authorization", "Basic c2stdGVzdA==")
            .json(&body),
        client().get(format!("{}/models", server.openai_base_url())),
    ];
    for attempt in attempts {
        let error = error_of(attempt.send().await.unwrap(), 401).await;
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["code"], "invalid_api_key");
        assert_eq!(error["param"], Value::Null);
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let server = server().await;
    let response = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-x")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let error = error_of(response, 400).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not parse the JSON body")
    );
}

#[tokio::test]
async fn chat_without_model_or_messages_is_400() {
    let server = server().await;
    let error = error_of(
        chat(
            &server,
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["message"], "you must provide a model parameter");

    let error = error_of(chat(&server, &json!({"model": "gpt-4o"})).await, 400).await;
    assert_eq!(error["message"], "Missing required parameter: 'messages'.");
    assert_eq!(error["param"], "messages");
    assert_eq!(error["code"], "missing_required_parameter");

    let error = error_of(
        chat(&server, &json!({"model": "gpt-4o", "messages": []})).await,
        400,
    )
    .await;
    assert_eq!(error["code"], "empty_array");

    let error = error_of(
        chat(
            &server,
            &json!({"model": 4, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(error["code"], "invalid_type");
    assert_eq!(error["param"], "model");
}

#[tokio::test]
async fn a_message_with_an_unknown_role_is_400_invalid_value() {
    let server = server().await;
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]});
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "messages[1].role");
    assert_eq!(error["code"], "invalid_value");
    assert_eq!(
        error["message"],
        "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
    );

    let body = json!({"model": "gpt-4o", "messages": [{"role": "developer", "content": "x"}, {"role": "user"}]});
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "messages[1].content");
}

#[tokio::test]
async fn the_openrouter_usage_switch_is_an_unrecognized_argument() {
    let server = server().await;
    let mut body = ask("gpt-4o", "hi");
    body["usage"] = json!({"include": true});
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(
        error["message"],
        "Unrecognized request argument supplied: usage"
    );
    assert_eq!(error["type"], "invalid_request_error");

    let deepseek = format!("{}/chat/completions", server.base_url());
    let error = error_of(crate::support::post(deepseek, &body).await, 400).await;
    assert_eq!(
        error["message"],
        "Unrecognized request argument supplied: usage"
    );
}

#[tokio::test]
async fn stream_options_without_stream_is_400() {
    let server = server().await;
    for stream in [None, Some(false)] {
        let mut body = ask("gpt-4o", "hi");
        body["stream_options"] = json!({"include_usage": true});
        if let Some(stream) = stream {
            body["stream"] = json!(stream);
        }
        let error = error_of(chat(&server, &body).await, 400).await;
        assert_eq!(
            error["message"],
            "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        );
        assert_eq!(error["param"], "stream_options");
    }
    let mut body = ask("gpt-4o", "hi");
    body["stream_options"] = Value::Null;
    assert_eq!(chat(&server, &body).await.status(), 200);
}

#[tokio::test]
async fn tool_choice_without_tools_is_400() {
    let server = server().await;
    let mut body = ask("gpt-4o", "hi");
    body["tool_choice"] = json!("required");
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "tool_choice");
}

#[tokio::test]
async fn unknown_urls_and_methods_answer_in_openai_shape() {
    let server = server().await;
    let response = client()
        .post(format!("{}/completions/legacy", server.openai_base_url()))
        .bearer_auth("sk-x")
        .send()
        .await
        .unwrap();
    let error = error_of(response, 404).await;
    assert_eq!(
        error["message"],
        "Invalid URL (POST /v1/completions/legacy)"
    );

    let response = client()
        .get(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-x")
        .send()
        .await
        .unwrap();
    error_of(response, 405).await;
}
