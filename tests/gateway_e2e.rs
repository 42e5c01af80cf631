//! End to end through `meridian serve` with the async-openai client against the mock
//! providers over real HTTP: chat, streaming with and without usage, embeddings,
//! models; the cost equals the catalog arithmetic exactly.

mod common;

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, ChatCompletionStreamOptions,
    CreateChatCompletionRequestArgs,
};
use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
use common::TestEnv;
use futures::StreamExt;
use meridian_core::config::Config;
use meridian_mock_providers::MockConfig;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// gpt-4o-mini's list prices per token in the shipped catalog.
fn gpt_4o_mini_cost(prompt: u32, completion: u32) -> Decimal {
    (Decimal::from(prompt) * d("0.00000015") + Decimal::from(completion) * d("0.0000006"))
        .normalize()
}

fn chat(model: &str, text: &str) -> async_openai::types::chat::CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model(model)
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content(text)
            .build()
            .unwrap()
            .into()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn chat_completion_through_the_gateway_costs_the_list_price() {
    let env = TestEnv::start().await;
    let response = env
        .openai()
        .chat()
        .create(chat("openai/gpt-4o-mini", "hello there gateway"))
        .await
        .unwrap();
    let text = response.choices[0].message.content.clone().unwrap();
    assert!(
        text.contains("hello there gateway"),
        "the mock echoes the prompt: {text}"
    );
    let usage = response.usage.unwrap();
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);

    // The same request with OpenRouter's usage switch carries the exact cost.
    let mut body = serde_json::to_value(chat("gpt-4o-mini", "hello there gateway")).unwrap();
    body["usage"] = json!({"include": true});
    let raw = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let h = raw.headers().clone();
    assert_eq!(h["x-meridian-provider"], "openai");
    assert_eq!(h["x-meridian-deployment"], "openai-us-east-reserved");
    assert_eq!(h["x-meridian-region"], "us-east");
    assert!(h.contains_key("x-request-id"));
    let header_cost = h["x-meridian-cost"].to_str().unwrap().to_string();
    let text = raw.text().await.unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let (p, c) = (
        json["usage"]["prompt_tokens"].as_u64().unwrap() as u32,
        json["usage"]["completion_tokens"].as_u64().unwrap() as u32,
    );
    let expected = gpt_4o_mini_cost(p, c);
    assert_eq!(header_cost, expected.to_string());
    assert!(!header_cost.contains('e') && !header_cost.contains('$'));
    assert!(
        text.contains(&format!("\"cost\":{expected}}}")),
        "usage.cost is the same exact number: {text}"
    );
}

#[tokio::test]
async fn bare_model_names_resolve_when_unambiguous() {
    let env = TestEnv::start().await;
    for (model, text) in [("gpt-4o-mini", "bare"), ("deepseek-chat", "bare deepseek")] {
        let response = env.openai().chat().create(chat(model, text)).await.unwrap();
        let content = response.choices[0]
            .message
            .content
            .clone()
            .unwrap_or_default();
        assert!(content.contains(text), "{model}: {content}");
    }
}

#[tokio::test]
async fn streaming_with_usage_ends_with_the_usage_chunk_and_its_cost() {
    let env = TestEnv::start().await;
    let mut request = chat("openai/gpt-4o-mini", "stream me five words please");
    request.stream = Some(true); // with async-openai's `byot` feature, create_stream does not set it
    request.stream_options = Some(ChatCompletionStreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let mut stream = env.openai().chat().create_stream(request).await.unwrap();
    let mut text = String::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(choice) = chunk.choices.first() {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
        if let Some(u) = chunk.usage {
            assert!(chunk.choices.is_empty(), "usage comes in its own chunk");
            usage = Some(u);
        }
    }
    assert!(text.contains("stream me five words please"), "{text}");
    let usage = usage.expect("the client asked for usage");
    assert!(usage.completion_tokens > 0);

    // The raw stream: the usage chunk carries usage.cost, exactly.
    let events = raw_stream(&env, json!({"model": "openai/gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "stream me five words please"}]})).await;
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let usage_text = &events[events.len() - 2];
    let usage_chunk: Value = serde_json::from_str(usage_text).unwrap();
    let u = &usage_chunk["usage"];
    let expected = gpt_4o_mini_cost(
        u["prompt_tokens"].as_u64().unwrap() as u32,
        u["completion_tokens"].as_u64().unwrap() as u32,
    );
    assert!(
        usage_text.contains(&format!("\"cost\":{expected}}}")),
        "{usage_text}"
    );
}

#[tokio::test]
async fn streaming_without_usage_never_shows_a_usage_chunk() {
    let env = TestEnv::start().await;
    let events = raw_stream(
        &env,
        json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "no usage for me"}]}),
    )
    .await;
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    for e in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(e).unwrap();
        assert!(
            !chunk["choices"].as_array().unwrap().is_empty(),
            "usage-only chunk leaked: {e}"
        );
    }
    // ...but the gateway still metered the tokens it asked the provider for.
    let totals = common::wait_for_requests(&env.pool, env.customer, 1).await;
    assert_eq!(totals.0, 1);
    assert!(totals.2 > 0 && totals.3 > 0, "{totals:?}");
    assert!(totals.4 > Decimal::ZERO);
}

/// A gateway whose mock provider waits `token_delay` before each token, and a stream
/// through it, answered.
async fn paced_stream(token_delay: Duration, prompt: &str) -> (TestEnv, reqwest::Response) {
    let env = TestEnv::start_with_mock(
        MockConfig {
            token_delay,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&json!({"model": "openai/gpt-4o-mini", "stream": true,
            "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    (env, response)
}

#[tokio::test]
async fn paced_tokens_reach_the_client_as_the_provider_sends_them() {
    let token_delay = Duration::from_millis(60);
    let (_env, response) = paced_stream(token_delay, "one two three four five").await;
    // When each content event arrived, in arrival order.
    let mut arrivals = Vec::new();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while let Some(bytes) = body.next().await {
        text.push_str(std::str::from_utf8(&bytes.unwrap()).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.contains("\"content\":\"") && !event.contains("\"content\":\"\"") {
                arrivals.push(Instant::now());
            }
        }
    }
    assert!(arrivals.len() >= 5, "{} content events", arrivals.len());
    // Each token left the provider `token_delay` after the one before; none was held
    // back to travel with the next.
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= token_delay / 2, "tokens arrived {gap:?} apart");
    }
}

async fn in_flight(env: &TestEnv) -> String {
    env.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix("meridian_requests_in_flight "))
        .expect("the in-flight gauge")
        .to_string()
}

#[tokio::test]
async fn an_open_stream_counts_as_in_flight_until_it_ends() {
    let (env, response) = paced_stream(Duration::from_millis(100), "one two three").await;
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    assert_eq!(in_flight(&env).await, "1");
    while let Some(bytes) = body.next().await {
        bytes.unwrap();
    }
    // The stream's task lets go of the request just after its last write.
    let deadline = Instant::now() + Duration::from_secs(2);
    while in_flight(&env).await != "0" {
        assert!(
            Instant::now() < deadline,
            "still in flight after the stream ended"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// OpenAI reports usage only at the end of a stream: a client that leaves before it
/// is billed for the prompt and the tokens generated, both counted with the model's
/// tokenizer (the provider's own conformance cases cover the other wire formats).
#[tokio::test]
async fn a_stream_the_client_abandons_is_billed_for_what_the_provider_generated() {
    let (env, response) = paced_stream(Duration::from_millis(20), &common::words(200)).await;
    let read = common::read_stream(response, Some(20)).await;
    common::wait_until_upstream_streams_close(&env.mock, Duration::from_millis(1500)).await;

    let usage =
        common::wait_for_deployment_usage(&env.pool, env.customer, "openai-us-east-reserved", 1)
            .await;
    // Metered as the client's error (status 499), and billed: the prompt (200 words,
    // one token each, +7) and at least the 20 words delivered.
    assert_eq!((usage.requests, usage.errors, usage.estimated), (1, 1, 1));
    assert_eq!(usage.prompt, 207);
    let delivered = read.content.split_whitespace().count() as i64;
    assert!(
        usage.completion >= delivered && usage.completion < 200,
        "{usage:?}"
    );
    assert_eq!(
        usage.cost,
        gpt_4o_mini_cost(usage.prompt as u32, usage.completion as u32)
    );
}

/// A stream's response head waits for the first event, to leave in the same write,
/// but not longer than the head wait. Gemini's first streamed response carries the
/// first token (no role-only chunk ahead of it, as OpenAI's has), so a paced mock
/// makes the first event slow.
#[tokio::test]
async fn a_slow_first_token_gets_its_response_head_once_the_head_wait_is_over() {
    let token_delay = Duration::from_millis(800);
    let head_wait = Duration::from_millis(100);
    let env = TestEnv::start_with_mock(
        MockConfig {
            token_delay,
            ..Default::default()
        },
        |o| {
            let mock = o.config.deployments[0].base_url.trim_end_matches("/v1");
            let toml = format!(
                "[[deployments]]\nid = \"gemini-test\"\nprovider = \"gemini\"\nregion = \"global\"\n\
                 kind = \"on-demand\"\nmodels = [\"google/gemini-2.5-flash\"]\nbase_url = \"{mock}\"\n"
            );
            o.config = Config::parse(&toml).unwrap();
            o.gateway.stream_head_wait = head_wait;
        },
    )
    .await;
    let sent = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&json!({"model": "google/gemini-2.5-flash", "stream": true,
            "messages": [{"role": "user", "content": "slow"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let head_after = sent.elapsed();
    assert!(
        head_after >= head_wait && head_after < token_delay,
        "head after {head_after:?}"
    );
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    assert!(sent.elapsed() >= token_delay);
}

async fn raw_stream(env: &TestEnv, body: Value) -> Vec<String> {
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn embeddings_through_the_gateway() {
    let env = TestEnv::start().await;
    let request = CreateEmbeddingRequestArgs::default()
        .model("openai/text-embedding-3-small")
        .input("embed this text")
        .build()
        .unwrap();
    let response = env.openai().embeddings().create(request).await.unwrap();
    assert_eq!(response.data.len(), 1);
    assert!(!response.data[0].embedding.is_empty());
    assert!(response.usage.prompt_tokens > 0);
    let totals = common::wait_for_requests(&env.pool, env.customer, 1).await;
    // text-embedding-3-small: 0.00000002 per input token.
    assert_eq!(
        totals.4,
        (Decimal::from(response.usage.prompt_tokens) * d("0.00000002")).normalize()
    );
}

#[tokio::test]
async fn models_list_ids_owners_context_and_prices() {
    let env = TestEnv::start().await;
    let models = env.openai().models().list().await.unwrap();
    let ids: Vec<_> = models.data.iter().map(|m| m.id.as_str()).collect();
    assert!(
        ids.contains(&"openai/gpt-4o-mini")
            && ids.contains(&"deepseek/deepseek-chat")
            && ids.contains(&"qwen/qwen-max"),
        "{ids:?}"
    );
    let raw: Value = reqwest::Client::new()
        .get(format!("{}/models", env.base_url()))
        .bearer_auth(&env.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mini = raw["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "openai/gpt-4o-mini")
        .unwrap();
    assert_eq!(mini["owned_by"], "openai");
    assert_eq!(mini["context_length"], 128000);
    assert_eq!(mini["pricing"]["prompt"], "0.00000015");
    assert_eq!(mini["pricing"]["completion"], "0.0000006");
}
