use serde_json::{Value, json};

use crate::support::{ask, chat, error_of, server};

#[tokio::test]
async fn a_chat_answer_echoes_the_last_user_message_with_exact_usage() {
    let server = server().await;
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "an older question"},
            {"role": "assistant", "content": "an older answer"},
            {"role": "user", "content": [{"type": "text", "text": "hello canary-7f3a"}, {"type": "text", "text": "world"}]}
        ],
        "temperature": 0.2,
        "some_future_parameter": true
    });
    let response = chat(&server, &body).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let answer: Value = response.json().await.unwrap();

    assert!(answer["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(answer["object"], "chat.completion");
    assert!(answer["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(answer["model"], "gpt-4o-mini");
    assert!(
        answer["system_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("fp_")
    );
    let choice = &answer["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "You said: hello canary-7f3a world", "refusal": null, "annotations": []})
    );
    // (2+4) + (3+4) + (3+4) + (3+4) + 3 = 30 prompt tokens; 5 words answered.
    assert_eq!(
        answer["usage"],
        json!({
            "prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    );
    assert_eq!(server.requests_seen(), 1);
}

#[tokio::test]
async fn max_tokens_cuts_the_answer_with_finish_reason_length() {
    let server = server().await;
    let mut body = ask("gpt-4o", "one two three four");
    body["max_tokens"] = json!(3);
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "You said: one");
    assert_eq!(answer["choices"][0]["finish_reason"], "length");
    assert_eq!(answer["usage"]["completion_tokens"], 3);

    body["max_completion_tokens"] = json!(2);
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "You said:");
}

#[tokio::test]
async fn reasoning_models_count_reasoning_inside_completion_tokens() {
    let server = server().await;
    let answer: Value = chat(&server, &ask("o3-mini", "hi there"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "You said: hi there"
    );
    assert!(
        answer["choices"][0]["message"]
            .get("reasoning_content")
            .is_none()
    );
    let usage = &answer["usage"];
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 12);
    assert_eq!(usage["completion_tokens"], 12 + 4);
    assert_eq!(
        usage["total_tokens"],
        usage["prompt_tokens"].as_u64().unwrap() + 16
    );

    let mut body = ask("o3-mini", "hi there");
    body["max_tokens"] = json!(100);
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "max_tokens");
    assert_eq!(error["code"], "unsupported_parameter");
}

#[tokio::test]
async fn a_prompt_cache_key_reports_cached_tokens_for_long_prompts() {
    let server = server().await;
    let long = vec!["word"; 300].join(" ");
    let mut body = ask("gpt-4o-mini", &long);
    let usage = chat(&server, &body).await.json::<Value>().await.unwrap()["usage"].clone();
    assert_eq!(usage["prompt_tokens"], 307);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);

    body["prompt_cache_key"] = json!("tenant-1");
    let usage = chat(&server, &body).await.json::<Value>().await.unwrap()["usage"].clone();
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 128);
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {
            "name": "get_weather",
            "description": "Weather at a place",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1},
                    "hourly": {"type": "boolean"}
                },
                "required": ["location", "unit", "days"],
                "additionalProperties": false
            }
        }}
    ])
}

#[tokio::test]
async fn a_forced_tool_choice_calls_the_function_with_its_required_arguments() {
    let server = server().await;
    let mut body = ask("gpt-4o", "weather in Paris?");
    body["tools"] = weather_tools();
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        arguments,
        json!({"location": "example", "unit": "celsius", "days": 1})
    );
    // Arguments are tokens too: `{"days": 1, "location": "example", "unit": "celsius"}`.
    assert_eq!(answer["usage"]["completion_tokens"], 6);

    body["tool_choice"] = json!("required");
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    let call = &answer["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_time");
    assert_eq!(call["function"]["arguments"], "{}");

    body["tool_choice"] = json!("auto");
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "You said: weather in Paris?"
    );
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");

    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_stock"}});
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "tool_choice");
}

#[tokio::test]
async fn a_json_schema_response_format_yields_a_conforming_document() {
    let server = server().await;
    let mut body = ask("gpt-4o", "describe a person");
    body["response_format"] = json!({
        "type": "json_schema",
        "json_schema": {
            "name": "person",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "age": {"type": "integer"},
                    "score": {"type": "number"},
                    "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
                    "address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                    "nickname": {"type": ["string", "null"]}
                },
                "required": ["name", "age", "score", "emails", "address", "nickname"],
                "additionalProperties": false
            }
        }
    });
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    let content = answer["choices"][0]["message"]["content"].as_str().unwrap();
    let document: Value = serde_json::from_str(content).unwrap();
    assert!(document["name"].is_string());
    assert!(document["age"].is_i64());
    assert!(document["score"].is_f64());
    assert_eq!(document["emails"], json!(["user@example.com"]));
    assert!(document["address"]["city"].is_string());
    assert!(document["nickname"].is_string());
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");

    body["response_format"]["json_schema"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "response_format.json_schema.name");
}

#[tokio::test]
async fn json_object_mode_needs_the_word_json_in_the_messages() {
    let server = server().await;
    let mut body = ask("gpt-4o", "answer in JSON please");
    body["response_format"] = json!({"type": "json_object"});
    let answer: Value = chat(&server, &body).await.json().await.unwrap();
    let content = answer["choices"][0]["message"]["content"].as_str().unwrap();
    let document: Value = serde_json::from_str(content).unwrap();
    assert_eq!(
        document,
        json!({"reply": "You said: answer in JSON please"})
    );

    let mut body = ask("gpt-4o", "answer please");
    body["response_format"] = json!({"type": "json_object"});
    let error = error_of(chat(&server, &body).await, 400).await;
    assert_eq!(error["param"], "messages");
}
