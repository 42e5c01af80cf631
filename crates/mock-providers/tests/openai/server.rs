use std::net::SocketAddr;
use std::time::{Duration, Instant};

use meridian_mock_providers::{Fault, MockConfig, MockServer};

use crate::support::{KEY, ask, chat, client, server, server_with};

#[tokio::test]
async fn healthz_answers_200_and_is_not_a_model_request() {
    let server = server().await;
    let response = client()
        .get(format!("{}/healthz", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.requests_seen(), 0);
}

#[tokio::test]
async fn latency_comes_before_the_headers() {
    let latency = Duration::from_millis(150);
    let server = server_with(MockConfig {
        latency,
        ..MockConfig::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(chat(&server, &ask("gpt-4o", "hi")).await.status(), 200);
    assert!(started.elapsed() >= latency);
}

#[tokio::test]
async fn start_on_serves_the_given_address_and_names_the_base_urls() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let server = MockServer::start_on(addr, MockConfig::default())
        .await
        .unwrap();
    assert_eq!(server.addr(), addr);
    assert_eq!(server.openai_base_url(), format!("http://{addr}/v1"));
    assert_eq!(
        server.qwen_base_url(),
        format!("http://{addr}/compatible-mode/v1")
    );

    let everywhere =
        MockServer::start_on(SocketAddr::from(([0, 0, 0, 0], 0)), MockConfig::default())
            .await
            .unwrap();
    let port = everywhere.addr().port();
    assert_eq!(everywhere.base_url(), format!("http://127.0.0.1:{port}"));
}

#[tokio::test]
async fn dropping_the_server_ends_its_connections() {
    let server = server().await;
    server.inject(Fault::Timeout, 1);
    let url = format!("{}/chat/completions", server.openai_base_url());
    let hanging = tokio::spawn(async move {
        client()
            .post(url)
            .bearer_auth(KEY)
            .json(&ask("gpt-4o", "hi"))
            .send()
            .await
    });
    while server.requests_seen() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = server.addr();
    drop(server);
    let error = tokio::time::timeout(Duration::from_secs(5), hanging)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(!error.is_timeout(), "{error:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}
