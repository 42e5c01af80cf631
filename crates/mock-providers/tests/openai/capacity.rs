use std::time::Duration;

use meridian_mock_providers::{Capacity, MockConfig, Route};
use serde_json::{Value, json};

use crate::support::{ask, chat, client, error_of, post, server, server_with};

/// `ask(_, "hi")` spends 8 prompt and 3 completion tokens ("You said: hi").
const HI_TOKENS: u64 = 11;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

async fn stats(server: &meridian_mock_providers::MockServer) -> Value {
    client()
        .get(format!("{}/__mock/stats", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn above_its_rpm_a_model_gets_openais_429_with_retry_after_and_ratelimit_headers() {
    let server = server().await;
    let capacity = Capacity {
        rpm: 2,
        tpm: 1_000_000,
    };
    server.set_capacity(Route::OpenAi, "gpt-4o", capacity);
    for _ in 0..2 {
        assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    }
    let refused = chat(&server, &ask("gpt-4o", "hi")).await;
    // The oldest admission leaves the 60 s window in just under 60 s.
    assert_eq!(header(&refused, "retry-after"), "60");
    assert_eq!(header(&refused, "x-ratelimit-limit-requests"), "2");
    assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), "0");
    assert_eq!(header(&refused, "x-ratelimit-limit-tokens"), "1000000");
    let reset = header(&refused, "x-ratelimit-reset-requests").to_owned();
    assert!(reset.starts_with("59.") && reset.ends_with('s'), "{reset}");
    assert_eq!(header(&refused, "x-ratelimit-reset-tokens"), "0ms");
    let error = error_of(refused, 429).await;
    assert_eq!(error["type"], "requests");
    assert_eq!(error["code"], "rate_limit_exceeded");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Rate limit reached on requests per min (RPM): Limit 2, Used 2, Requested 1."
        ),
        "{message}"
    );
    assert_eq!(server.throttled(), 1);
    assert_eq!(
        stats(&server).await,
        json!({"requests_seen": 3, "streams_open": 0, "throttled": 1})
    );
}

#[tokio::test]
async fn token_capacity_refuses_the_request_that_would_overflow_it() {
    let server = server().await;
    let first: Value = chat(&server, &ask("gpt-4o", "hi"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["usage"]["total_tokens"], HI_TOKENS);

    let capacity = Capacity {
        rpm: 100,
        tpm: 2 * HI_TOKENS + 3,
    };
    server.set_capacity(Route::OpenAi, "gpt-4o", capacity);
    let streamed = json!({"model": "gpt-4o", "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(chat(&server, &streamed).await.status(), 200);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    let refused = chat(&server, &ask("gpt-4o", "hi")).await;
    assert_eq!(header(&refused, "x-ratelimit-remaining-tokens"), "3");
    assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), "98");
    let error = error_of(refused, 429).await;
    assert_eq!(error["type"], "tokens");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Rate limit reached on tokens per min (TPM): Limit 25, Used 22, Requested 11."
        ),
        "{message}"
    );
    // Embeddings spend their prompt tokens from the same capacity: 2 fit in 3.
    let embed = async |input: &str| {
        let body = json!({"model": "gpt-4o", "input": input});
        post(format!("{}/embeddings", server.openai_base_url()), &body).await
    };
    assert_eq!(embed("one two").await.status(), 200);
    assert_eq!(embed("one two").await.status(), 429);
    assert_eq!(server.throttled(), 2);
}

#[tokio::test]
async fn the_window_slides_and_admits_again_once_the_oldest_leaves() {
    let window = Duration::from_millis(400);
    let server = server_with(MockConfig {
        capacity_window: window,
        ..MockConfig::default()
    })
    .await;
    let capacity = Capacity { rpm: 1, tpm: 1_000 };
    server.set_capacity(Route::OpenAi, "gpt-4o", capacity);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    let refused = chat(&server, &ask("gpt-4o", "hi")).await;
    assert_eq!(refused.status(), 429);
    let reset = header(&refused, "x-ratelimit-reset-requests");
    let ms: u64 = reset.strip_suffix("ms").unwrap().parse().unwrap();
    assert!(0 < ms && ms <= 400, "{reset}");
    tokio::time::sleep(window).await;
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 429);
}

#[tokio::test]
async fn other_models_and_routes_keep_their_own_capacity() {
    let server = server().await;
    let set = |body: Value| {
        client()
            .post(format!("{}/__mock/capacity", server.base_url()))
            .json(&body)
            .send()
    };
    let set_openai = set(json!({"provider": "openai", "model": "gpt-4o", "rpm": 1, "tpm": 1000}));
    assert_eq!(set_openai.await.unwrap().status(), 200);
    let deepseek = async || {
        let url = format!("{}/chat/completions", server.base_url());
        post(url, &ask("gpt-4o", "hi")).await
    };
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 429);
    assert_eq!(chat(&server, &ask("gpt-4o-mini", "hi")).await.status(), 200);
    assert_eq!(deepseek().await.status(), 200);

    let set_deepseek =
        set(json!({"provider": "deepseek", "model": "gpt-4o", "rpm": 1, "tpm": 1000}));
    assert_eq!(set_deepseek.await.unwrap().status(), 200);
    // The DeepSeek route's capacity counts from now on: one more is admitted.
    assert_eq!(deepseek().await.status(), 200);
    assert_eq!(deepseek().await.status(), 429);

    let refused = set(json!({"provider": "openrouter", "model": "x", "rpm": 1, "tpm": 1})).await;
    error_of(refused.unwrap(), 400).await;

    let cleared = client()
        .delete(format!("{}/__mock/capacity", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    assert_eq!(deepseek().await.status(), 200);
    assert_eq!(server.throttled(), 2);
}
