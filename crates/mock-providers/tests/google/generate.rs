use serde_json::{Value, json};

use crate::common::{client, server};
use crate::support::{KEY, ask, generate};

#[tokio::test]
async fn an_answer_echoes_with_google_usage() {
    let server = server().await;
    let mut body = ask("hello   world");
    // The system instruction's role is ignored.
    body["systemInstruction"] = json!({"role": "system", "parts": [{"text": "Be brief."}]});
    body["generationConfig"] = json!({"temperature": 0.2, "topK": 40});
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    assert_eq!(
        answer["candidates"],
        json!([{
            "content": {"role": "model", "parts": [{"text": "You said: hello world"}]},
            "finishReason": "STOP",
            "index": 0
        }])
    );
    // (2 + 4) + (2 + 4) + 3; zero counts are left out.
    assert_eq!(
        answer["usageMetadata"],
        json!({
            "promptTokenCount": 15,
            "candidatesTokenCount": 4,
            "totalTokenCount": 19,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 15}]
        })
    );
    assert_eq!(answer["modelVersion"], "gemini-2.0-flash");
    assert!(!answer["responseId"].as_str().unwrap().is_empty());
    assert!(answer.get("createTime").is_none());
}

#[tokio::test]
async fn the_key_may_come_in_the_query_and_the_v1_path_and_snake_case_work() {
    let server = server().await;
    let body = json!({
        "contents": [{"role": "user", "parts": [{"text": "one two three"}]}],
        "system_instruction": {"parts": [{"text": "x"}]},
        "generation_config": {"max_output_tokens": 3, "stop_sequences": []}
    });
    let answer: Value = client()
        .post(format!(
            "{}/v1/models/gemini-2.0-flash:generateContent?key={KEY}",
            server.base_url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "You said: one"
    );
    assert_eq!(answer["candidates"][0]["finishReason"], "MAX_TOKENS");
}

#[tokio::test]
async fn gemini_2_5_thinks_within_the_output_budget() {
    let server = server().await;
    let answer = generate(&server, "gemini-2.5-flash", &ask("hi")).await;
    let usage = &answer["usageMetadata"];
    assert_eq!(usage["thoughtsTokenCount"], 12);
    assert_eq!(usage["candidatesTokenCount"], 3);
    assert_eq!(usage["totalTokenCount"], 8 + 3 + 12);
    assert_eq!(
        answer["candidates"][0]["content"]["parts"],
        json!([{"text": "You said: hi"}])
    );

    let mut shown = ask("hi");
    shown["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true}});
    let answer = generate(&server, "gemini-2.5-pro", &shown).await;
    let parts = answer["candidates"][0]["content"]["parts"]
        .as_array()
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["thought"], true);
    assert_eq!(parts[1], json!({"text": "You said: hi"}));

    let mut off = ask("hi");
    off["generationConfig"] = json!({"thinkingConfig": {"thinkingBudget": 0}});
    let answer = generate(&server, "gemini-2.5-flash", &off).await;
    assert!(answer["usageMetadata"].get("thoughtsTokenCount").is_none());

    // Thinking spends the budget first: nothing is left for the answer.
    let mut tight = ask("hi");
    tight["generationConfig"] = json!({"maxOutputTokens": 10});
    let answer = generate(&server, "gemini-2.5-flash", &tight).await;
    let candidate = &answer["candidates"][0];
    assert_eq!(candidate["finishReason"], "MAX_TOKENS");
    assert_eq!(
        candidate["content"],
        json!({"role": "model"}),
        "no parts at all"
    );
    assert!(
        answer["usageMetadata"]
            .get("candidatesTokenCount")
            .is_none()
    );
    assert_eq!(answer["usageMetadata"]["thoughtsTokenCount"], 10);
}

#[tokio::test]
async fn mode_any_forces_a_function_call_filling_the_schema() {
    let server = server().await;
    let mut body = ask("weather?");
    body["tools"] = json!([{"functionDeclarations": [
        {"name": "get_time", "parameters": {"type": "OBJECT", "properties": {}}},
        {"name": "get_weather", "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
            "required": ["city", "days"]
        }}
    ]}]);
    body["toolConfig"] =
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}});
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    let candidate = &answer["candidates"][0];
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"functionCall": {"name": "get_weather", "args": {"city": "example", "days": 1}}}])
    );
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(answer["usageMetadata"]["candidatesTokenCount"], 4);

    body["toolConfig"] = json!({"function_calling_config": {"mode": "AUTO"}});
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "You said: weather?"
    );
}

#[tokio::test]
async fn a_response_schema_yields_a_matching_document() {
    let server = server().await;
    let mut body = ask("who?");
    body["generationConfig"] = json!({
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {"name": {"type": "STRING"}, "tags": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["name", "tags"]}
    });
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    let text = answer["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"name": "example", "tags": ["example"]})
    );

    body["generationConfig"] = json!({
        "response_mime_type": "application/json",
        "response_json_schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    });
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    let text = answer["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"ok": true})
    );
}

#[tokio::test]
async fn candidates_multiply_and_cached_content_is_counted() {
    let server = server().await;
    let mut body = ask(&"word ".repeat(300));
    body["generationConfig"] = json!({"candidateCount": 2});
    body["cachedContent"] = json!("cachedContents/abc123");
    let answer = generate(&server, "gemini-2.0-flash", &body).await;
    let candidates = answer["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[1]["index"], 1);
    let usage = &answer["usageMetadata"];
    assert_eq!(usage["promptTokenCount"], 307);
    // Half the prompt, rounded down to a multiple of 64.
    assert_eq!(usage["cachedContentTokenCount"], 128);
    assert_eq!(usage["candidatesTokenCount"], 2 * 302);
}
