use serde_json::{Value, json};

use crate::common::{client, server, sse_events};
use crate::support::{KEY, ask, gemini};

#[tokio::test]
async fn an_sse_stream_is_a_response_per_token_with_usage_in_the_last() {
    let server = server().await;
    let response = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            server.base_url()
        ))
        .header("x-goog-api-key", KEY)
        .json(&ask("hello world"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await.unwrap();
    let events = sse_events(&body, "\r\n");
    assert_eq!(events.len(), 4);
    let text: String = events
        .iter()
        .map(|(name, data)| {
            assert!(name.is_none());
            data["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(text, "You said: hello world");
    let ids: Vec<&Value> = events.iter().map(|(_, data)| &data["responseId"]).collect();
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]));
    for (_, data) in &events[..3] {
        assert!(data["candidates"][0].get("finishReason").is_none());
        assert_eq!(
            data["usageMetadata"],
            json!({"promptTokenCount": 9, "totalTokenCount": 9, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]})
        );
    }
    let last = &events[3].1;
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 4);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 13);
}

#[tokio::test]
async fn without_alt_sse_the_stream_is_one_json_array() {
    let server = server().await;
    let response = gemini(
        &server,
        "gemini-2.0-flash",
        "streamGenerateContent",
        &ask("hi"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let responses: Vec<Value> = serde_json::from_str(&body).expect("one JSON array");
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[2]["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn a_function_call_streams_whole_and_thoughts_stream_first() {
    let server = server().await;
    let mut body = ask("weather?");
    body["tools"] = json!([{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}]}]);
    body["toolConfig"] = json!({"functionCallingConfig": {"mode": "ANY"}});
    body["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true}});
    let response = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            server.base_url()
        ))
        .header("x-goog-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let events = sse_events(&response.text().await.unwrap(), "\r\n");
    assert_eq!(events.len(), 12 + 1, "twelve thought tokens, then the call");
    assert!(
        events[..12]
            .iter()
            .all(|(_, d)| d["candidates"][0]["content"]["parts"][0]["thought"] == true)
    );
    let last = &events[12].1;
    assert_eq!(
        last["candidates"][0]["content"]["parts"],
        json!([{"functionCall": {"name": "f", "args": {"a": "example"}}}])
    );
    assert_eq!(last["usageMetadata"]["thoughtsTokenCount"], 12);
}
