use serde_json::{Value, json};

use crate::common::server;
use crate::support::{MODEL, Signer, ask, decode, header, payload, send};

async fn stream(body: &Value) -> Vec<aws_smithy_types::event_stream::Message> {
    let server = server().await;
    let response = send(
        &server,
        MODEL,
        "converse-stream",
        body,
        Some(Signer::default()),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    decode(&response.bytes().await.unwrap())
}

#[tokio::test]
async fn a_stream_is_the_exact_event_sequence_in_checked_frames() {
    let messages = stream(&ask("hello world")).await;
    let names: Vec<&str> = messages.iter().map(|m| header(m, ":event-type")).collect();
    assert_eq!(
        names,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    for message in &messages {
        assert_eq!(header(message, ":message-type"), "event");
        assert_eq!(header(message, ":content-type"), "application/json");
    }
    assert_eq!(payload(&messages[0]), json!({"role": "assistant"}));
    let text: String = messages[1..5]
        .iter()
        .map(|m| {
            let delta = payload(m);
            assert_eq!(delta["contentBlockIndex"], 0);
            delta["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, "You said: hello world");
    assert_eq!(payload(&messages[5]), json!({"contentBlockIndex": 0}));
    assert_eq!(payload(&messages[6]), json!({"stopReason": "end_turn"}));
    let metadata = payload(&messages[7]);
    assert_eq!(
        metadata["usage"],
        json!({"inputTokens": 9, "outputTokens": 4, "totalTokens": 13, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0})
    );
    assert!(metadata["metrics"]["latencyMs"].is_u64());
}

#[tokio::test]
async fn a_forced_tool_streams_a_block_start_then_input_fragments() {
    let mut body = ask("weather?");
    body["toolConfig"] = json!({
        "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}],
        "toolChoice": {"any": {}}
    });
    let messages = stream(&body).await;
    assert_eq!(header(&messages[1], ":event-type"), "contentBlockStart");
    let start = payload(&messages[1]);
    assert_eq!(start["contentBlockIndex"], 0);
    assert_eq!(start["start"]["toolUse"]["name"], "get_weather");
    assert!(
        start["start"]["toolUse"]["toolUseId"]
            .as_str()
            .unwrap()
            .starts_with("tooluse_")
    );
    let input: String = messages
        .iter()
        .filter(|m| header(m, ":event-type") == "contentBlockDelta")
        .map(|m| {
            payload(m)["delta"]["toolUse"]["input"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"city": "example"})
    );
    let stop = payload(&messages[messages.len() - 2]);
    assert_eq!(stop["stopReason"], "tool_use");
}

#[tokio::test]
async fn structured_output_streams_as_text_deltas() {
    let mut body = ask("describe Paris");
    let schema =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    body["outputConfig"] = json!({"textFormat": {"type": "json_schema",
        "structure": {"jsonSchema": {"schema": schema.to_string()}}}});
    let messages = stream(&body).await;
    let text: String = messages
        .iter()
        .filter(|m| header(m, ":event-type") == "contentBlockDelta")
        .map(|m| payload(m)["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"city": "example"})
    );
}
