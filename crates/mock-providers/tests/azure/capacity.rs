use meridian_mock_providers::{Capacity, Route};
use serde_json::{Value, json};

use crate::common::{client, server};
use crate::support::{API_VERSION, DEPLOYMENT, ask, chat, send};

#[tokio::test]
async fn above_its_rpm_a_deployment_gets_azures_429_with_retry_after_ms() {
    let server = server().await;
    // The deployment path segment is the key, whatever the body's model says.
    server.set_capacity(Route::Azure, DEPLOYMENT, Capacity { rpm: 1, tpm: 1000 });
    let with_model = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(chat(&server, &with_model).await.status(), 200);
    let refused = chat(&server, &ask("hi")).await;
    assert_eq!(refused.status(), 429);
    let headers = refused.headers();
    let ms: u64 = headers["retry-after-ms"].to_str().unwrap().parse().unwrap();
    assert!((59_000..=60_000).contains(&ms), "{ms}");
    assert_eq!(headers["retry-after"], "60");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "429");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("exceeded call rate limit"), "{message}");
    assert!(message.contains("retry after 60 seconds"), "{message}");

    // Embeddings on the same deployment share its capacity.
    let embed = send(
        &server,
        "embeddings",
        &format!("api-version={API_VERSION}"),
        &json!({"input": "hi"}),
    )
    .await;
    assert_eq!(embed.status(), 429);
    // OpenAI's route with the deployment's name as its model is another key.
    let openai = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-test")
        .json(&json!({"model": DEPLOYMENT, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(openai.status(), 200);
    assert_eq!(server.throttled(), 2);
}
