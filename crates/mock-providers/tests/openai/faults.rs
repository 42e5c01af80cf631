use std::io::ErrorKind;
use std::time::{Duration, Instant};

use futures::StreamExt;
use meridian_mock_providers::Fault;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{KEY, ask, chat, client, data_events, error_of, post, server};

#[tokio::test]
async fn a_status_429_fault_carries_retry_after_then_passes() {
    let server = server().await;
    server.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: Some(2),
        },
        1,
    );
    let response = chat(&server, &ask("gpt-4o", "hi")).await;
    assert_eq!(response.headers()["retry-after"], "2");
    let error = error_of(response, 429).await;
    assert_eq!(error["type"], "requests");
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Rate limit reached")
    );

    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    assert_eq!(server.requests_seen(), 2);
}

#[tokio::test]
async fn a_status_500_fault_injected_over_http_is_met_times_times() {
    let server = server().await;
    let injected = client()
        .post(format!("{}/__mock/faults", server.base_url()))
        .json(&json!({"fault": "status", "status": 500, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), 200);
    for _ in 0..2 {
        let response = chat(&server, &ask("gpt-4o", "hi")).await;
        assert!(response.headers().get("retry-after").is_none());
        let error = error_of(response, 500).await;
        assert_eq!(error["type"], "server_error");
        assert_eq!(
            error["message"],
            "The server had an error while processing your request. Sorry about that!"
        );
    }
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);

    let stats: Value = client()
        .get(format!("{}/__mock/stats", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"requests_seen": 3, "streams_open": 0, "throttled": 0})
    );

    let refused = client()
        .post(format!("{}/__mock/faults", server.base_url()))
        .json(&json!({"fault": "status", "status": 200}))
        .send()
        .await
        .unwrap();
    error_of(refused, 400).await;
}

#[tokio::test]
async fn faults_meet_embeddings_too_and_come_first_in_first_out() {
    let server = server().await;
    server.inject(
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        1,
    );
    server.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: None,
        },
        1,
    );
    let body = json!({"model": "text-embedding-3-small", "input": "x"});
    let embed = || post(format!("{}/embeddings", server.openai_base_url()), &body);
    assert_eq!(embed().await.status(), 503);
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 429);
    assert_eq!(embed().await.status(), 200);
}

#[tokio::test]
async fn a_timeout_fault_never_answers() {
    let server = server().await;
    server.inject(Fault::Timeout, 1);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = impatient
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth(KEY)
        .json(&ask("gpt-4o", "hi"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_with_a_rst() {
    let server = server().await;
    server.inject(Fault::ConnectionReset, 1);
    let body = ask("gpt-4o", "hi").to_string();
    let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: mock\r\nauthorization: Bearer {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .unwrap();
    assert_eq!(read.unwrap_err().kind(), ErrorKind::ConnectionReset);
    assert!(answer.is_empty());

    server.inject(Fault::ConnectionReset, 1);
    let error = client()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth(KEY)
        .json(&ask("gpt-4o", "hi"))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
}

/// Reads a body until it ends or breaks: (what arrived, whether it broke).
async fn read_until_broken(response: reqwest::Response) -> (String, bool) {
    let mut body = response.bytes_stream();
    let mut received = Vec::new();
    while let Some(bytes) = body.next().await {
        match bytes {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => return (String::from_utf8(received).unwrap(), true),
        }
    }
    (String::from_utf8(received).unwrap(), false)
}

#[tokio::test]
async fn a_stream_cut_closes_the_stream_without_done_or_usage() {
    let server = server().await;
    let mut body = ask("gpt-4o", "one two three four five");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});

    server.inject(Fault::StreamCut { after_chunks: 2 }, 1);
    let response = chat(&server, &body).await;
    assert_eq!(response.status(), 200);
    let (received, broke) = read_until_broken(response).await;
    assert!(broke, "the connection closed mid-stream");
    assert_eq!(data_events(&received).len(), 2);
    assert!(!received.contains("[DONE]"));

    // However late the cut, it comes before the usage chunk and [DONE].
    server.inject(Fault::StreamCut { after_chunks: 1000 }, 1);
    let (received, broke) = read_until_broken(chat(&server, &body).await).await;
    assert!(broke);
    let events = data_events(&received);
    assert_eq!(events.len(), 1 + 7 + 1, "role, seven tokens, finish");
    assert!(
        events
            .iter()
            .all(|e| serde_json::from_str::<Value>(e).unwrap()["usage"].is_null())
    );
}

#[tokio::test]
async fn a_cut_whole_answer_breaks_its_body() {
    let server = server().await;
    server.inject(Fault::StreamCut { after_chunks: 0 }, 1);
    let response = chat(&server, &ask("gpt-4o", "hi")).await;
    assert_eq!(response.status(), 200);
    assert!(response.json::<Value>().await.is_err());
}
