//! Zero storage of content: a unique canary string sent in prompts (and echoed back by
//! the mock provider in completions) is found nowhere afterwards: not in a `pg_dump`
//! of the database, not in the logs at the most verbose level, not in the usage
//! journal, not in any error message.

mod common;

use std::time::Duration;

use common::ChildServer;
use meridian_mock_providers::Fault;
use serde_json::json;

#[tokio::test]
async fn a_canary_in_prompts_and_completions_is_stored_and_logged_nowhere() {
    let canary = format!("CANARY{}", uuid::Uuid::now_v7().simple());
    let (pool, url) = common::fresh_database().await;
    let (customer, key) = common::customer_and_key(&pool).await;
    let mock = meridian_mock_providers::MockServer::start(Default::default())
        .await
        .unwrap();
    let dir = common::temp_dir("canary");
    let config = dir.join("meridian.toml");
    let anthropic = format!(
        r#"
[[deployments]]
id = "anthropic-on-demand"
provider = "anthropic"
region = "us-east"
kind = "on-demand"
base_url = "http://{}"
models = ["anthropic/claude-sonnet-4-5"]
"#,
        mock.addr()
    );
    std::fs::write(&config, common::mock_config_toml(mock.addr()) + &anthropic).unwrap();
    let addr = common::free_addr();
    let anthropic_key = [("ANTHROPIC_API_KEY", "test-upstream-key")];
    let server =
        ChildServer::start_with_env(&url, &config, &dir, addr, "trace", &anthropic_key).await;
    let client = reqwest::Client::new();
    let chat = format!("http://{addr}/v1/chat/completions");
    let prompt = format!("please repeat {canary} back to me");
    let mut seen_in_success = 0;
    let mut requests = 0;

    let mut send = async |url: &str, body: String| {
        requests += 1;
        let r = client
            .post(url)
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };

    // Successful paths: the canary must come back to the client (proving it travelled).
    for body in [
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}),
        json!({"model": "openai/gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": prompt}]}),
        json!({"model": "deepseek/deepseek-chat", "stream": true, "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": prompt}]}),
        json!({"model": "qwen/qwen-max", "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}], "usage": {"include": true}}),
    ] {
        let (status, text) = send(&chat, body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains(&canary), "the mock echoes the prompt");
        seen_in_success += 1;
    }
    // The Responses API: passed through to OpenAI, and translated for DeepSeek.
    let responses = format!("http://{addr}/v1/responses");
    for body in [
        json!({"model": "openai/gpt-4o-mini", "input": prompt, "instructions": prompt}),
        json!({"model": "openai/gpt-4o-mini", "stream": true, "input": [{"role": "user", "content": [{"type": "input_text", "text": prompt}]}]}),
        json!({"model": "deepseek/deepseek-chat", "input": prompt}),
        json!({"model": "deepseek/deepseek-chat", "stream": true, "instructions": prompt, "input": prompt}),
    ] {
        let (status, text) = send(&responses, body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains(&canary), "the mock echoes the prompt");
        seen_in_success += 1;
    }
    for body in [
        json!({"model": "openai/gpt-4o-mini", "input": prompt, "previous_response_id": canary}),
        json!({"model": "openai/gpt-4o-mini", "input": [{"type": "item_reference", "id": canary}]}),
        json!({"model": "deepseek/deepseek-chat", "input": [{"type": canary, "id": canary}]}),
    ] {
        let (status, text) = send(&responses, body.to_string()).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            !text.contains(&canary),
            "error message repeats request content: {text}"
        );
    }
    // The Messages API: passed through to Anthropic (by its own name for the model
    // too), translated for DeepSeek.
    let messages = format!("http://{addr}/v1/messages");
    let text_block =
        json!([{"type": "text", "text": prompt, "cache_control": {"type": "ephemeral"}}]);
    for body in [
        json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "system": prompt, "messages": [{"role": "user", "content": prompt}]}),
        json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": true, "system": text_block, "messages": [{"role": "user", "content": text_block}]}),
        json!({"model": "deepseek/deepseek-chat", "max_tokens": 64, "messages": [{"role": "user", "content": prompt}]}),
        json!({"model": "deepseek/deepseek-chat", "max_tokens": 64, "stream": true, "system": prompt, "messages": [{"role": "user", "content": text_block}]}),
    ] {
        let (status, text) = send(&messages, body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains(&canary), "the mock echoes the prompt");
        seen_in_success += 1;
    }
    for body in [
        json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": canary, "content": prompt}]}), // upstream 400
        json!({"model": "deepseek/deepseek-chat", "max_tokens": 8, "messages": [{"role": "user", "content": [{"type": canary, "text": prompt}]}]}),
        json!({"model": "claude-no-such-model-20250101", "max_tokens": 8, "messages": [{"role": "user", "content": prompt}]}),
    ] {
        let (status, text) = send(&messages, body.to_string()).await;
        assert!(status.is_client_error(), "{status}: {text}");
        assert!(
            !text.contains(&canary),
            "error message repeats request content: {text}"
        );
    }
    // Counting tokens (from Anthropic, and locally) is not usage: not sent by `send`.
    for model in ["anthropic/claude-sonnet-4-5", "deepseek/deepseek-chat"] {
        let body = json!({"model": model, "system": prompt, "messages": [{"role": "user", "content": prompt}]});
        let r = client
            .post(format!("{messages}/count_tokens"))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(text.starts_with(r#"{"input_tokens":"#), "{text}");
    }

    let (status, _) = send(
        &format!("http://{addr}/v1/embeddings"),
        json!({"model": "openai/text-embedding-3-small", "input": prompt}).to_string(),
    )
    .await;
    assert_eq!(status, 200);

    // Error paths: the canary must not come back in any error message.
    mock.inject(
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
        1,
    );
    let failing = [
        format!(r#"{{"model": "openai/gpt-4o-mini", "messages": [{{"role": "user", "content": "{canary}"#),
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], "stream": canary}).to_string(),
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], "temperature": canary}).to_string(),
        json!({"model": "openai/no-such-model", "messages": [{"role": "user", "content": prompt}]}).to_string(),
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}).to_string(), // upstream 500
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": canary, "content": prompt}]}).to_string(), // upstream 400
    ];
    for body in failing {
        let (status, text) = send(&chat, body).await;
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{status}"
        );
        assert!(
            !text.contains(&canary),
            "error message repeats request content: {text}"
        );
    }
    common::wait_for_requests(&pool, customer, requests).await;
    assert_eq!(seen_in_success, 12);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop();

    let log = std::fs::read_to_string(server_log(&dir)).unwrap();
    assert!(log.len() > 1000, "trace logging was on");
    assert!(!log.contains(&canary), "the canary reached the logs");
    for entry in walk(&dir.join("journal")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&canary),
            "the canary reached {}",
            entry.display()
        );
    }
    let dump = std::process::Command::new("pg_dump")
        .arg(&url)
        .output()
        .expect("pg_dump (postgresql-client) is installed");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("usage_rollups"), "the dump holds the schema");
    assert!(!dump.contains(&canary), "the canary reached the database");
}

fn server_log(dir: &std::path::Path) -> std::path::PathBuf {
    walk(dir)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .expect("server log")
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}
