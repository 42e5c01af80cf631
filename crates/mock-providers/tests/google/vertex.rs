use serde_json::Value;

use crate::common::{client, server, sse_events};
use crate::support::{ask, error_of};

const TOKEN: &str = "ya29.test-access-token";

fn url(base: &str, version: &str, method: &str) -> String {
    format!(
        "{base}/{version}/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:{method}"
    )
}

#[tokio::test]
async fn vertex_needs_a_bearer_token() {
    let server = server().await;
    let response = client()
        .post(url(&server.base_url(), "v1", "generateContent"))
        .header("x-goog-api-key", "AIza-key")
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    let message = error_of(response, 401, "UNAUTHENTICATED").await;
    assert!(message.contains("OAuth 2 access token"));
}

#[tokio::test]
async fn vertex_answers_with_create_time_and_traffic_type() {
    let server = server().await;
    for version in ["v1", "v1beta1"] {
        let answer: Value = client()
            .post(url(&server.base_url(), version, "generateContent"))
            .bearer_auth(TOKEN)
            .json(&ask("hi"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer["candidates"][0]["content"]["parts"][0]["text"],
            "You said: hi"
        );
        assert!(answer["createTime"].as_str().unwrap().ends_with('Z'));
        assert_eq!(answer["usageMetadata"]["trafficType"], "ON_DEMAND");
        assert_eq!(answer["usageMetadata"]["promptTokenCount"], 8);
    }
}

#[tokio::test]
async fn a_vertex_stream_reports_usage_only_at_the_end() {
    let server = server().await;
    let response = client()
        .post(url(&server.base_url(), "v1", "streamGenerateContent") + "?alt=sse")
        .bearer_auth(TOKEN)
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    let events = sse_events(&response.text().await.unwrap(), "\r\n");
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0].1["usageMetadata"],
        serde_json::json!({"trafficType": "ON_DEMAND"})
    );
    assert_eq!(events[2].1["usageMetadata"]["candidatesTokenCount"], 3);
}
