use std::time::{Duration, Instant};

use futures::StreamExt;
use meridian_mock_providers::MockConfig;
use serde_json::{Value, json};

use crate::support::{ask, chat, chunks, server, server_with};

fn streaming(model: &str, text: &str, stream_options: Option<Value>) -> Value {
    let mut body = ask(model, text);
    body["stream"] = json!(true);
    if let Some(options) = stream_options {
        body["stream_options"] = options;
    }
    body
}

/// Drops the fields that differ from run to run.
fn stable(mut chunk: Value) -> Value {
    let object = chunk.as_object_mut().unwrap();
    for varying in ["id", "created", "obfuscation", "system_fingerprint"] {
        object.remove(varying);
    }
    chunk
}

#[tokio::test]
async fn a_stream_without_include_usage_is_role_tokens_finish_done() {
    let server = server().await;
    let response = chat(&server, &streaming("gpt-4o-mini", "hello world", None)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let chunks = chunks(&response.text().await.unwrap());

    let id = chunks[0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("chatcmpl-"));
    assert!(
        chunks
            .iter()
            .all(|c| c["id"] == id.as_str() && c.get("usage").is_none())
    );
    assert!(chunks.iter().all(|c| c["obfuscation"].is_string()));
    let head = json!({"object": "chat.completion.chunk", "model": "gpt-4o-mini", "service_tier": "default"});
    let expected: Vec<Value> = [
        json!({"role": "assistant", "content": "", "refusal": null}),
        json!({"content": "You"}),
        json!({"content": " said:"}),
        json!({"content": " hello"}),
        json!({"content": " world"}),
        json!({}),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, delta)| {
        let mut chunk = head.clone();
        let finish = if i == 5 { json!("stop") } else { Value::Null };
        chunk["choices"] =
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        chunk
    })
    .collect();
    assert_eq!(chunks.into_iter().map(stable).collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn include_usage_adds_a_usage_chunk_and_null_usage_on_every_other_chunk() {
    let server = server().await;
    let options = json!({"include_usage": true, "include_obfuscation": false});
    let body = chat(
        &server,
        &streaming("gpt-4o-mini", "hello world", Some(options)),
    )
    .await
    .text()
    .await
    .unwrap();
    let chunks = chunks(&body);
    assert_eq!(chunks.len(), 7);
    let (usage_chunk, others) = chunks.split_last().unwrap();
    for chunk in others {
        assert_eq!(chunk["usage"], Value::Null);
        assert!(chunk.get("usage").is_some());
        assert!(chunk.get("obfuscation").is_none());
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    assert_eq!(
        others.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(
        usage_chunk["usage"],
        json!({
            "prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    );
}

#[tokio::test]
async fn a_forced_tool_call_streams_its_header_then_argument_fragments() {
    let server = server().await;
    let mut body = streaming("gpt-4o", "weather?", Some(json!({"include_usage": true})));
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"location": {"type": "string"}, "unit": {"type": "string"}}, "required": ["location", "unit"]
    }}}]);
    body["tool_choice"] = json!("required");
    let chunks = chunks(&chat(&server, &body).await.text().await.unwrap());

    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], Value::Null);
    let header = &first["tool_calls"][0];
    assert_eq!(header["index"], 0);
    assert!(header["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(header["type"], "function");
    assert_eq!(
        header["function"],
        json!({"name": "get_weather", "arguments": ""})
    );

    let fragments: Vec<&Value> = chunks[1..chunks.len() - 2]
        .iter()
        .map(|c| &c["choices"][0]["delta"]["tool_calls"][0])
        .collect();
    assert_eq!(fragments.len(), 4);
    assert!(
        fragments
            .iter()
            .all(|f| f["index"] == 0 && f.get("id").is_none())
    );
    let arguments: String = fragments
        .iter()
        .map(|f| f["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"location": "example", "unit": "example"})
    );

    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );
    assert_eq!(chunks[chunks.len() - 1]["usage"]["completion_tokens"], 4);
}

#[tokio::test]
async fn tokens_are_paced_and_each_chunk_is_sent_as_it_is_made() {
    let delay = Duration::from_millis(20);
    let server = server_with(MockConfig {
        token_delay: delay,
        ..MockConfig::default()
    })
    .await;
    let started = Instant::now();
    // "You said: one two three": five tokens.
    let response = chat(&server, &streaming("gpt-4o", "one two three", None)).await;
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    let mut rest = Vec::new();
    while let Some(bytes) = body.next().await {
        rest.extend_from_slice(&bytes.unwrap());
    }
    let total = started.elapsed();

    let first = String::from_utf8(first.to_vec()).unwrap();
    assert!(first.contains(r#""role":"assistant""#), "{first}");
    assert!(
        !first.contains("You"),
        "the first token waits for its delay: {first}"
    );
    assert!(total >= Duration::from_millis(80), "{total:?}");
    assert!(
        total >= first_at + 3 * delay,
        "first chunk at {first_at:?}, all at {total:?}"
    );
    assert!(
        String::from_utf8(rest)
            .unwrap()
            .ends_with("data: [DONE]\n\n")
    );
}
