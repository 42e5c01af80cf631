use meridian_mock_providers::Fault;
use serde_json::{Value, json};

use crate::common::{client, read_until_broken, server, sse_events};
use crate::support::{KEY, ask, error_of, gemini};

#[tokio::test]
async fn status_faults_come_in_google_error_shapes() {
    let server = server().await;
    server.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: Some(7),
        },
        1,
    );
    server.inject(
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        1,
    );
    let response = gemini(&server, "gemini-2.0-flash", "generateContent", &ask("hi")).await;
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(
        body["error"]["details"],
        json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}])
    );
    let response = gemini(&server, "gemini-2.0-flash", "generateContent", &ask("hi")).await;
    error_of(response, 503, "UNAVAILABLE").await;
}

#[tokio::test]
async fn a_stream_cut_never_reaches_the_last_response() {
    let server = server().await;
    server.inject(Fault::StreamCut { after_chunks: 1000 }, 1);
    let response = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            server.base_url()
        ))
        .header("x-goog-api-key", KEY)
        .json(&ask("one two three"))
        .send()
        .await
        .unwrap();
    let (received, broke) = read_until_broken(response).await;
    assert!(broke);
    let events = sse_events(std::str::from_utf8(&received).unwrap(), "\r\n");
    assert_eq!(events.len(), 4, "all but the last of five");
    assert!(
        events
            .iter()
            .all(|(_, d)| d["candidates"][0].get("finishReason").is_none())
    );
}
