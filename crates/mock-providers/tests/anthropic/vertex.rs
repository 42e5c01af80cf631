//! Claude on Vertex AI: `rawPredict`, `streamRawPredict` and `count-tokens:rawPredict`
//! under a project and location, with Vertex's credentials and Claude's checks.

use serde_json::{Value, json};

use crate::common::{client, server, sse_events};
use crate::support::error_of;

const MODEL_PATH: &str = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models";

async fn post(base: &str, action: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
    let mut request = client()
        .post(format!("{base}{MODEL_PATH}/{action}"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the mock answers")
}

fn ask(stream: bool) -> Value {
    json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64, "stream": stream,
        "messages": [{"role": "user", "content": "hello vertex"}]})
}

#[tokio::test]
async fn raw_predict_answers_a_message_and_stream_raw_predict_its_events() {
    let server = server().await;
    let base = server.base_url();
    let whole = post(
        &base,
        "claude-sonnet-4-5@20250929:rawPredict",
        &ask(false),
        Some("ya29.token"),
    )
    .await;
    assert_eq!(whole.status(), 200);
    let message: Value = whole.json().await.unwrap();
    assert_eq!(message["content"][0]["text"], "You said: hello vertex");
    assert_eq!(message["model"], "claude-sonnet-4-5@20250929");
    assert_eq!(message["usage"]["output_tokens"], 4);

    let streamed = post(
        &base,
        "claude-sonnet-4-5@20250929:streamRawPredict",
        &ask(true),
        Some("ya29.token"),
    )
    .await;
    assert_eq!(streamed.status(), 200);
    let events = sse_events(&streamed.text().await.unwrap(), "\n");
    let names: Vec<_> = events.iter().filter_map(|(n, _)| n.clone()).collect();
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    let delta = events
        .iter()
        .find(|(n, _)| n.as_deref() == Some("message_delta"))
        .unwrap();
    assert_eq!(delta.1["usage"]["output_tokens"], 4, "{:?}", delta.1);
    assert_eq!(
        delta.1["usage"]["input_tokens"],
        message["usage"]["input_tokens"]
    );

    let mut count = ask(false);
    count.as_object_mut().unwrap().remove("max_tokens");
    count.as_object_mut().unwrap().remove("stream");
    count["model"] = json!("claude-sonnet-4-5@20250929");
    let counted = post(&base, "count-tokens:rawPredict", &count, Some("ya29.token")).await;
    assert_eq!(counted.status(), 200);
    let counted: Value = counted.json().await.unwrap();
    assert_eq!(counted["input_tokens"], message["usage"]["input_tokens"]);
}

#[tokio::test]
async fn vertex_refuses_as_vertex_and_claude_as_claude() {
    let server = server().await;
    let base = server.base_url();
    let action = "claude-sonnet-4-5@20250929:rawPredict";
    // No token: Google's 401.
    let refused = post(&base, action, &ask(false), None).await;
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED", "{body}");

    // What Claude refuses, in Anthropic's shape.
    for (change, message) in [
        (
            json!({"anthropic_version": null}),
            "anthropic_version: Field required",
        ),
        (
            json!({"anthropic_version": "2023-06-01"}),
            "anthropic_version: Input should be 'vertex-2023-10-16'",
        ),
        (
            json!({"model": "claude-sonnet-4-5"}),
            "model: Extra inputs are not permitted",
        ),
        (json!({"max_tokens": null}), "max_tokens: Field required"),
    ] {
        let mut body = ask(false);
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let refused = post(&base, action, &body, Some("ya29.token")).await;
        assert_eq!(
            error_of(refused, 400, "invalid_request_error").await,
            message
        );
    }
}
