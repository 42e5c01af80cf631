use serde_json::{Value, json};

use crate::common::server;
use crate::support::{MODEL, Signer, ask, converse, error_of, send};

#[tokio::test]
async fn converse_answers_in_bedrock_shape_with_usage_and_metrics() {
    let server = server().await;
    let mut body = ask("hello   world");
    body["system"] = json!([{"text": "Be brief."}]);
    body["inferenceConfig"] = json!({"maxTokens": 100, "temperature": 0.5, "topP": 0.9});
    body["additionalModelRequestFields"] = json!({"top_k": 5});
    let answer = converse(&server, &body).await;
    assert_eq!(
        answer["output"],
        json!({"message": {"role": "assistant", "content": [{"text": "You said: hello world"}]}})
    );
    assert_eq!(answer["stopReason"], "end_turn");
    assert_eq!(
        answer["usage"],
        json!({"inputTokens": 15, "outputTokens": 4, "totalTokens": 19, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0})
    );
    assert!(answer["metrics"]["latencyMs"].is_u64());
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_end_the_answer() {
    let server = server().await;
    let mut body = ask("one two three");
    body["inferenceConfig"] = json!({"maxTokens": 3});
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "max_tokens");
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        "You said: one"
    );

    body["inferenceConfig"] = json!({"stopSequences": ["two"]});
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "stop_sequence");
}

fn tool_config(choice: Value) -> Value {
    json!({
        "tools": [
            {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object"}}}},
            {"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]
            }}}}
        ],
        "toolChoice": choice
    })
}

#[tokio::test]
async fn a_forced_tool_yields_a_tool_use_filling_the_schema() {
    let server = server().await;
    let mut body = ask("weather?");
    body["toolConfig"] = tool_config(json!({"tool": {"name": "get_weather"}}));
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "tool_use");
    let block = &answer["output"]["message"]["content"][0]["toolUse"];
    assert!(block["toolUseId"].as_str().unwrap().starts_with("tooluse_"));
    assert_eq!(block["name"], "get_weather");
    assert_eq!(block["input"], json!({"city": "example"}));

    body["toolConfig"] = tool_config(json!({"any": {}}));
    let answer = converse(&server, &body).await;
    assert_eq!(
        answer["output"]["message"]["content"][0]["toolUse"]["name"],
        "get_time"
    );

    body["toolConfig"] = tool_config(json!({"auto": {}}));
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "end_turn");
}

#[tokio::test]
async fn a_tool_round_trip_with_an_image_is_accepted() {
    let server = server().await;
    let body = json!({
        "messages": [
            {"role": "user", "content": [
                {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
                {"text": "weather here"}
            ]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Oslo"}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "rain"}]}}]}
        ],
        "toolConfig": tool_config(json!({"auto": {}}))
    });
    let answer = converse(&server, &body).await;
    // (2 + 85 + 4) + (85 + 4) + (85 + 4) + 3; the last user message has no text.
    assert_eq!(answer["usage"]["inputTokens"], 91 + 89 + 89 + 3);
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        "You said:"
    );
}

#[tokio::test]
async fn a_conversation_is_checked_as_bedrock_checks_it() {
    let server = server().await;
    let refused = |body: Value| {
        let server = &server;
        async move {
            let response = send(server, MODEL, "converse", &body, Some(Signer::default())).await;
            error_of(response, 400, "ValidationException").await
        }
    };
    let assistant_first = json!({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]});
    assert_eq!(
        refused(assistant_first).await,
        "A conversation must start with a user message. Try again with a conversation that starts with a user message."
    );
    let two_users = json!({"messages": [
        {"role": "user", "content": [{"text": "a"}]},
        {"role": "user", "content": [{"text": "b"}]}
    ]});
    assert!(refused(two_users).await.contains("must alternate"));
    let no_tool_config = json!({"messages": [
        {"role": "user", "content": [{"text": "a"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}}]}
    ]});
    assert!(
        refused(no_tool_config)
            .await
            .contains("toolConfig field must be defined")
    );
    let mut zero = ask("hi");
    zero["inferenceConfig"] = json!({"maxTokens": 0});
    assert!(refused(zero).await.contains("inferenceConfig.maxTokens"));
    let mut hot = ask("hi");
    hot["inferenceConfig"] = json!({"temperature": 1.5});
    assert!(refused(hot).await.contains("inferenceConfig.temperature"));
    let mut role = ask("hi");
    role["messages"][0]["role"] = json!("system");
    assert!(refused(role).await.contains("[user, assistant]"));
}

#[tokio::test]
async fn a_cache_point_writes_the_prefix_once_then_reads_it() {
    let server = server().await;
    let body = json!({
        "system": [{"text": "A long shared instruction of eight words."}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "question"}]}]
    });
    let first = converse(&server, &body).await;
    assert_eq!(first["usage"]["cacheWriteInputTokens"], 11);
    assert_eq!(first["usage"]["cacheReadInputTokens"], 0);
    assert_eq!(first["usage"]["inputTokens"], 5 + 3);
    let second = converse(&server, &body).await;
    assert_eq!(second["usage"]["cacheWriteInputTokens"], 0);
    assert_eq!(second["usage"]["cacheReadInputTokens"], 11);
    assert_eq!(second["usage"]["totalTokens"], 11 + 8 + 3);
}

/// `outputConfig.textFormat` as the structured-output guide writes it: the schema is
/// a string of JSON.
fn text_format(schema: &Value) -> Value {
    json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
        "schema": schema.to_string(), "name": "contact", "description": "A contact"}}}})
}

#[tokio::test]
async fn structured_output_fills_the_schema_unless_a_tool_is_forced() {
    let server = server().await;
    let schema = json!({"type": "object", "additionalProperties": false,
        "properties": {"name": {"type": "string"}, "priority": {"type": "string", "enum": ["low", "high"]}},
        "required": ["name", "priority"]});
    let mut body = ask("John needs urgent help");
    body["outputConfig"] = text_format(&schema);
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "end_turn");
    let text = answer["output"]["message"]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(text, r#"{"name": "example", "priority": "low"}"#);
    // The document's words are the completion tokens.
    assert_eq!(answer["usage"]["outputTokens"], 4);

    body["toolConfig"] = tool_config(json!({"tool": {"name": "get_weather"}}));
    let answer = converse(&server, &body).await;
    assert_eq!(answer["stopReason"], "tool_use");
}

#[tokio::test]
async fn a_malformed_text_format_is_refused() {
    let server = server().await;
    let refused = |output_config: Value, exception: &'static str| {
        let server = &server;
        async move {
            let mut body = ask("hi");
            body["outputConfig"] = output_config;
            let response = send(server, MODEL, "converse", &body, Some(Signer::default())).await;
            error_of(response, 400, exception).await
        }
    };
    let schema = json!({"type": "object"});
    let mut wrong_type = text_format(&schema);
    wrong_type["textFormat"]["type"] = json!("json_object");
    assert!(
        refused(wrong_type, "ValidationException")
            .await
            .contains("[json_schema]")
    );
    let no_structure = json!({"textFormat": {"type": "json_schema"}});
    assert!(
        refused(no_structure, "ValidationException")
            .await
            .contains("outputConfig.textFormat.structure.jsonSchema")
    );
    let mut as_object = text_format(&schema);
    as_object["textFormat"]["structure"]["jsonSchema"]["schema"] = schema.clone();
    refused(as_object, "SerializationException").await;
    let mut not_json = text_format(&schema);
    not_json["textFormat"]["structure"]["jsonSchema"]["schema"] = json!("{not json");
    assert!(
        refused(not_json, "ValidationException")
            .await
            .contains("JSON schema")
    );
}
