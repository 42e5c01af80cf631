use serde_json::{Value, json};

use crate::common::{server, sse_events};
use crate::support::{MODEL, ask, messages};

fn streaming(text: &str) -> Value {
    let mut body = ask(text);
    body["stream"] = json!(true);
    body
}

#[tokio::test]
async fn a_stream_is_the_exact_event_sequence() {
    let server = server().await;
    let response = messages(&server, &streaming("hello world")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let events = sse_events(&response.text().await.unwrap(), "\n");
    let names: Vec<&str> = events
        .iter()
        .map(|(name, _)| name.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_deref().unwrap(),
            "each event names itself"
        );
    }
    let start = &events[0].1["message"];
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["model"], MODEL);
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(start["usage"]["input_tokens"], 9);
    assert_eq!(start["usage"]["output_tokens"], 1);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    let text: String = events[3..7]
        .iter()
        .map(|(_, data)| {
            assert_eq!(data["index"], 0);
            assert_eq!(data["delta"]["type"], "text_delta");
            data["delta"]["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(text, "You said: hello world");
    assert_eq!(
        events[7].1,
        json!({"type": "content_block_stop", "index": 0})
    );
    assert_eq!(
        events[8].1,
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"input_tokens": 9, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 4}
        })
    );
}

#[tokio::test]
async fn a_forced_tool_streams_input_json_deltas() {
    let server = server().await;
    let mut body = streaming("weather?");
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    body["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
    let events = sse_events(&messages(&server, &body).await.text().await.unwrap(), "\n");
    let block = &events[1].1["content_block"];
    assert_eq!(block["type"], "tool_use");
    assert!(block["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(block["name"], "get_weather");
    assert_eq!(block["input"], json!({}));
    let deltas: Vec<&Value> = events
        .iter()
        .filter(|(name, _)| name.as_deref() == Some("content_block_delta"))
        .map(|(_, data)| &data["delta"])
        .collect();
    assert!(deltas.iter().all(|d| d["type"] == "input_json_delta"));
    let json: String = deltas
        .iter()
        .map(|d| d["partial_json"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap(),
        json!({"city": "example"})
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], 2);
}
