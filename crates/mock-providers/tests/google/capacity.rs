use meridian_mock_providers::{Capacity, Route};
use serde_json::{Value, json};

use crate::common::{client, server};
use crate::support::{ask, gemini};

const MODEL: &str = "gemini-2.0-flash";

#[tokio::test]
async fn above_its_rpm_a_model_gets_resource_exhausted_with_retry_info() {
    let server = server().await;
    server.set_capacity(Route::Gemini, MODEL, Capacity { rpm: 1, tpm: 1000 });
    assert_eq!(
        gemini(&server, MODEL, "generateContent", &ask("hi"))
            .await
            .status(),
        200
    );
    let refused = gemini(&server, MODEL, "streamGenerateContent", &ask("hi")).await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(
        body["error"]["details"],
        json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "60s"}])
    );

    // Vertex serves the same model under its own key.
    let vertex = client()
        .post(format!(
            "{}/v1/projects/p/locations/us-central1/publishers/google/models/{MODEL}:generateContent",
            server.base_url()
        ))
        .bearer_auth("ya29.token")
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(vertex.status(), 200);
    assert_eq!(server.throttled(), 1);
}

#[tokio::test]
async fn every_candidate_spends_its_completion_from_the_tpm() {
    let server = server().await;
    // 8 prompt tokens and 3 completion tokens per candidate: 2 candidates spend 14.
    server.set_capacity(Route::Gemini, MODEL, Capacity { rpm: 10, tpm: 13 });
    let two = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"candidateCount": 2}});
    let refused = gemini(&server, MODEL, "generateContent", &two).await;
    assert_eq!(refused.status(), 429);
    let one = gemini(&server, MODEL, "generateContent", &ask("hi")).await;
    assert_eq!(one.status(), 200);
}
