//! DeepSeek and Qwen: OpenAI's wire format at their own paths, with their own fields.

use serde_json::{Value, json};

use crate::support::{ask, chunks, post, server};

#[tokio::test]
async fn deepseek_reports_cache_hits_and_misses() {
    let server = server().await;
    let mut body = ask("deepseek-chat", &vec!["token"; 300].join(" "));
    body["prompt_cache_key"] = json!("k");
    let answer: Value = post(format!("{}/chat/completions", server.base_url()), &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["model"], "deepseek-chat");
    assert!(answer["choices"][0]["message"].get("refusal").is_none());
    assert_eq!(
        answer["usage"],
        json!({
            "prompt_tokens": 307, "completion_tokens": 302, "total_tokens": 609,
            "prompt_tokens_details": {"cached_tokens": 128},
            "prompt_cache_hit_tokens": 128, "prompt_cache_miss_tokens": 179
        })
    );
}

#[tokio::test]
async fn deepseek_reasoner_shows_its_reasoning_whole_and_streamed() {
    let server = server().await;
    let url = format!("{}/chat/completions", server.base_url());
    let answer: Value = post(url.clone(), &ask("deepseek-reasoner", "hi"))
        .await
        .json()
        .await
        .unwrap();
    let message = &answer["choices"][0]["message"];
    assert_eq!(message["content"], "You said: hi");
    let reasoning = message["reasoning_content"].as_str().unwrap();
    assert_eq!(reasoning.split_whitespace().count(), 12);
    assert_eq!(
        answer["usage"]["completion_tokens_details"],
        json!({"reasoning_tokens": 12})
    );
    assert_eq!(answer["usage"]["completion_tokens"], 15);

    let mut body = ask("deepseek-reasoner", "hi");
    body["stream"] = json!(true);
    let chunks = chunks(&post(url, &body).await.text().await.unwrap());
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(
        deltas[0],
        &json!({"role": "assistant", "content": null, "reasoning_content": ""})
    );
    let streamed_reasoning: String = deltas[1..13]
        .iter()
        .map(|d| d["reasoning_content"].as_str().unwrap())
        .collect();
    assert_eq!(streamed_reasoning, reasoning);
    assert!(deltas[1..13].iter().all(|d| d["content"].is_null()));
    let content: String = deltas[13..16]
        .iter()
        .map(|d| d["content"].as_str().unwrap())
        .collect();
    assert_eq!(content, "You said: hi");
    assert!(
        deltas[13..16]
            .iter()
            .all(|d| d["reasoning_content"].is_null() && d.get("reasoning_content").is_some())
    );
    assert_eq!(chunks.len(), 17);
}

#[tokio::test]
async fn qwen_answers_at_its_compatible_mode_path() {
    let server = server().await;
    let mut body = ask("qwen-max", "ni hao");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let url = format!("{}/chat/completions", server.qwen_base_url());
    let chunks = chunks(&post(url.clone(), &body).await.text().await.unwrap());
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(
        usage_chunk["usage"],
        json!({"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 0}})
    );
    assert!(
        chunks
            .iter()
            .all(|c| c.get("obfuscation").is_none() && c["system_fingerprint"].is_null())
    );

    let answer: Value = post(url, &ask("qwen-max", "ni hao"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["choices"][0]["message"],
        json!({"role": "assistant", "content": "You said: ni hao"})
    );
}
