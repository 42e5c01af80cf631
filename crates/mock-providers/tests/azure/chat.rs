use meridian_mock_providers::Fault;
use serde_json::{Value, json};

use crate::common::{client, server};
use crate::support::{API_VERSION, DEPLOYMENT, KEY, ask, chat, send};

#[tokio::test]
async fn a_chat_answers_in_the_openai_format_with_filter_results() {
    let server = server().await;
    let response = chat(&server, &ask("hello world")).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(
        answer["model"], DEPLOYMENT,
        "the deployment stands in for the model"
    );
    let choice = &answer["choices"][0];
    assert_eq!(choice["message"]["content"], "You said: hello world");
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(
        choice["content_filter_results"]["violence"],
        json!({"filtered": false, "severity": "safe"})
    );
    assert_eq!(answer["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(
        answer["prompt_filter_results"][0]["content_filter_results"]["jailbreak"],
        json!({"filtered": false, "detected": false})
    );
    assert_eq!(answer["usage"]["prompt_tokens"], 9);
    assert_eq!(answer["usage"]["completion_tokens"], 4);
    assert!(answer.get("service_tier").is_none());

    let mut named = ask("hi");
    named["model"] = json!("gpt-4o");
    let answer: Value = chat(&server, &named).await.json().await.unwrap();
    assert_eq!(answer["model"], "gpt-4o");
}

#[tokio::test]
async fn without_api_version_the_resource_is_not_found() {
    let server = server().await;
    let response = send(&server, "chat/completions", "", &ask("hi")).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "404", "message": "Resource not found"}})
    );
}

#[tokio::test]
async fn without_a_key_access_is_denied_and_a_bearer_token_is_accepted() {
    let server = server().await;
    let url = format!(
        "{}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}",
        server.base_url()
    );
    let response = client().post(&url).json(&ask("hi")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "401");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Access denied")
    );

    let response = client()
        .post(&url)
        .bearer_auth(KEY)
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_content_filter_refuses_the_trigger_word() {
    let server = server().await;
    let body = json!({"messages": [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": [{"type": "text", "text": "CANARY-91 MERIDIAN_FILTER_ME now"}]}
    ]});
    let response = chat(&server, &body).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], "content_filter");
    assert_eq!(error["status"], 400);
    assert_eq!(error["param"], "prompt");
    assert_eq!(error["innererror"]["code"], "ResponsibleAIPolicyViolation");
    assert_eq!(
        error["innererror"]["content_filter_result"]["violence"],
        json!({"filtered": true, "severity": "medium"})
    );
    assert!(
        !body.to_string().contains("CANARY"),
        "the prompt is never repeated"
    );
}

#[tokio::test]
async fn a_stream_opens_with_the_prompt_filter_chunk() {
    let server = server().await;
    let mut body = ask("hello world");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let text = chat(&server, &body).await.text().await.unwrap();
    let events: Vec<&str> = text
        .trim_end_matches("\n\n")
        .split("\n\n")
        .map(|e| e.strip_prefix("data: ").unwrap())
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let first = &chunks[0];
    assert_eq!(first["choices"], json!([]));
    assert_eq!(
        (&first["id"], &first["model"], &first["object"]),
        (&json!(""), &json!(""), &json!(""))
    );
    assert_eq!(first["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(chunks[1]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks.iter().all(|c| c.get("obfuscation").is_none()));
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["completion_tokens"], 4);
}

#[tokio::test]
async fn embeddings_take_the_deployment_as_their_model() {
    let server = server().await;
    let response = send(
        &server,
        "embeddings",
        &format!("api-version={API_VERSION}"),
        &json!({"input": ["alpha beta", "gamma"], "dimensions": 8}),
    )
    .await;
    assert_eq!(
        response.status(),
        400,
        "the deployment name is no embedding-3 model"
    );
    let response = send(
        &server,
        "embeddings",
        &format!("api-version={API_VERSION}"),
        &json!({"input": ["alpha beta", "gamma"], "encoding_format": "base64"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["model"], DEPLOYMENT);
    assert_eq!(answer["usage"]["prompt_tokens"], 3);
    assert!(answer["data"][0]["embedding"].is_string());
}

#[tokio::test]
async fn faults_come_in_the_openai_shape() {
    let server = server().await;
    server.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: Some(2),
        },
        1,
    );
    let response = chat(&server, &ask("hi")).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
}
