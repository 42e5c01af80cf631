use serde_json::{Value, json};

use crate::common::server;
use crate::support::{MODEL, ask, messages};

#[tokio::test]
async fn a_message_echoes_with_anthropic_usage() {
    let server = server().await;
    let mut body = ask("hello   world");
    body["system"] = json!("Be brief.");
    body["temperature"] = json!(0.5);
    body["metadata"] = json!({"user_id": "u-1"});
    let response = messages(&server, &body).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    let message: Value = response.json().await.unwrap();
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], MODEL);
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "You said: hello world"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["stop_sequence"], Value::Null);
    // (2 + 4) for the system prompt, (2 + 4) for the message, 3 for the prompt.
    assert_eq!(
        message["usage"],
        json!({
            "input_tokens": 15,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 4,
            "service_tier": "standard"
        })
    );
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_end_the_answer() {
    let server = server().await;
    let mut body = ask("one two three");
    body["max_tokens"] = json!(3);
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["content"][0]["text"], "You said: one");
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(message["usage"]["output_tokens"], 3);

    let mut body = ask("one two three");
    body["stop_sequences"] = json!(["three", "two"]);
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["content"][0]["text"], "You said: one");
    assert_eq!(message["stop_reason"], "stop_sequence");
    assert_eq!(message["stop_sequence"], "two");
}

fn weather_tools() -> Value {
    json!([
        {"name": "get_time", "description": "Time", "input_schema": {"type": "object", "properties": {}}},
        {"name": "get_weather", "description": "Weather", "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}, "unit": {"type": "string"}},
            "required": ["city", "days"]
        }}
    ])
}

#[tokio::test]
async fn a_forced_tool_yields_a_tool_use_block_filling_the_schema() {
    let server = server().await;
    let mut body = ask("weather?");
    body["tools"] = weather_tools();
    body["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["stop_reason"], "tool_use");
    let content = message["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "no text before a forced tool use");
    let block = &content[0];
    assert_eq!(block["type"], "tool_use");
    assert!(block["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(block["name"], "get_weather");
    assert_eq!(block["input"], json!({"city": "example", "days": 2}));
    // `{"city": "example", "days": 2}`: four tokens.
    assert_eq!(message["usage"]["output_tokens"], 4);

    body["tool_choice"] = json!({"type": "any"});
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["content"][0]["name"], "get_time");
    assert_eq!(message["content"][0]["input"], json!({}));

    body["tool_choice"] = json!({"type": "auto"});
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["content"][0]["type"], "text");
    assert_eq!(message["stop_reason"], "end_turn");
}

#[tokio::test]
async fn a_tool_round_trip_with_images_is_accepted() {
    let server = server().await;
    let body = json!({
        "model": MODEL,
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Use tools."}],
        "tools": weather_tools(),
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                {"type": "text", "text": "weather in Paris"}
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris", "days": 2}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny"},
                {"type": "text", "text": "and tomorrow?"}
            ]}
        ]
    });
    let message: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(message["content"][0]["text"], "You said: and tomorrow?");
    // System 2+4; user 3 + 2×85 + 4; assistant 1 + 85 + 4; user 2 + 85 + 4; prompt 3.
    assert_eq!(message["usage"]["input_tokens"], 6 + 177 + 90 + 91 + 3);
}

#[tokio::test]
async fn output_config_json_schema_yields_a_matching_document() {
    let server = server().await;
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]});
    for key in ["output_config", "output_format"] {
        let mut body = ask("who?");
        body[key] = if key == "output_config" {
            json!({"format": {"type": "json_schema", "schema": schema}})
        } else {
            json!({"type": "json_schema", "schema": schema})
        };
        let message: Value = messages(&server, &body).await.json().await.unwrap();
        let text = message["content"][0]["text"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap(),
            json!({"name": "example", "age": 1}),
            "{key}"
        );
    }
}
