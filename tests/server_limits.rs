//! The listener's limits against real sockets: slow heads and bodies are cut within
//! their timeouts while other clients are served, idle connections are closed, the
//! connection cap refuses extras without disturbing the connections it serves, and a
//! stream outlasting every timeout is not cut.

mod common;

use std::time::{Duration, Instant};

use common::TestEnv;
use meridian::server::Limits;
use meridian_mock_providers::MockConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADMIN_TOKEN: &str = "admin-token-for-tests";

fn limits(header: u64, body: u64, idle: u64, max_connections: u32) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(header),
        body_read_timeout: Duration::from_millis(body),
        idle_timeout: Duration::from_millis(idle),
        max_connections,
    }
}

async fn start(limits: Limits) -> TestEnv {
    TestEnv::start_with(move |o| {
        o.limits = limits;
        o.admin_token = Some(ADMIN_TOKEN.into());
    })
    .await
}

/// Sends `bytes` one per `pace` until the server closes the connection; how long
/// it took, and what the server sent meanwhile.
async fn drip(env: &TestEnv, head: &str, bytes: &[u8], pace: Duration) -> (Duration, String) {
    let mut tcp = TcpStream::connect(env.server.addr).await.unwrap();
    let started = Instant::now();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = tcp.split();
    let mut received = Vec::new();
    let dripping = async {
        for byte in bytes {
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(pace).await;
        }
        std::future::pending::<()>().await
    };
    let closed = async {
        tokio::select! {
            _ = dripping => unreachable!(),
            _ = read.read_to_end(&mut received) => {}
        }
    };
    tokio::time::timeout(Duration::from_secs(30), closed)
        .await
        .expect("still open after 30 s");
    (
        started.elapsed(),
        String::from_utf8_lossy(&received).into_owned(),
    )
}

fn body_of(response: &str) -> Value {
    let (_, body) = response.split_once("\r\n\r\n").expect("a response head");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

fn assert_cut_in_time(elapsed: Duration, timeout_ms: u64) {
    let timeout = Duration::from_millis(timeout_ms);
    assert!(
        elapsed >= timeout - Duration::from_millis(100) && elapsed < timeout * 2,
        "cut after {elapsed:?}, timeout {timeout:?}"
    );
}

#[tokio::test]
async fn slow_heads_and_slow_bodies_are_cut_in_time_while_others_are_served() {
    let env = start(limits(2_000, 2_500, 60_000, 100)).await;
    let second = Duration::from_secs(1);
    let slow_head = drip(
        &env,
        "",
        b"GET /healthz HTTP/1.1\r\nHost: meridian\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaa",
        second,
    );
    let chat_head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: meridian\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n",
        env.key
    );
    let slow_chat_body = drip(&env, &chat_head, &[b' '; 200], second);
    let admin_head = format!(
        "POST /admin/v1/invoices/INV-1/credit-notes HTTP/1.1\r\nHost: meridian\r\n\
         Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    );
    let slow_admin_body = drip(&env, &admin_head, &[b' '; 200], second);

    let client = reqwest::Client::new();
    let others = async {
        let started = Instant::now();
        let mut served = 0;
        while started.elapsed() < Duration::from_secs(3) {
            let asked = Instant::now();
            let response = client
                .post(format!("{}/chat/completions", env.base_url()))
                .bearer_auth(&env.key)
                .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "{:?}",
                asked.elapsed()
            );
            served += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        served
    };
    let ((head_after, head_sent), (chat_after, chat_sent), (admin_after, admin_sent), served) =
        tokio::join!(slow_head, slow_chat_body, slow_admin_body, others);

    assert_cut_in_time(head_after, 2_000);
    assert_eq!(head_sent, "", "a head never completed gets no answer");

    assert_cut_in_time(chat_after, 2_500);
    assert!(chat_sent.starts_with("HTTP/1.1 408"), "{chat_sent}");
    assert!(chat_sent.contains("connection: close"), "{chat_sent}");
    assert_eq!(body_of(&chat_sent)["error"]["code"], "request_timeout");

    assert_cut_in_time(admin_after, 2_500);
    assert!(admin_sent.starts_with("HTTP/1.1 408"), "{admin_sent}");
    assert!(
        admin_sent.contains("content-type: application/problem+json"),
        "{admin_sent}"
    );
    assert_eq!(body_of(&admin_sent)["status"], 408);

    assert!(served >= 5, "only {served} requests served meanwhile");
}

/// Reads one response with a `content-length` from a keep-alive connection.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed mid-response");
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .expect("content-length")
                .parse()
                .unwrap();
            if body.len() >= length {
                return text;
            }
        }
    }
}

async fn health_check(tcp: &mut TcpStream) -> String {
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: meridian\r\n\r\n")
        .await
        .unwrap();
    read_response(tcp).await
}

/// How long until the server closes `tcp` (it must send nothing meanwhile).
async fn time_to_close(tcp: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut rest))
        .await
        .expect("connection still open after 30 s");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    started.elapsed()
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_and_silent_ones_after_the_header_timeout()
 {
    let env = start(limits(1_000, 1_000, 3_000, 100)).await;

    let mut keep_alive = TcpStream::connect(env.server.addr).await.unwrap();
    assert!(
        health_check(&mut keep_alive)
            .await
            .starts_with("HTTP/1.1 200")
    );
    // Still open past the header timeout: idle is not a slow head.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        health_check(&mut keep_alive)
            .await
            .starts_with("HTTP/1.1 200")
    );
    assert_cut_in_time(time_to_close(&mut keep_alive).await, 3_000);

    let mut silent = TcpStream::connect(env.server.addr).await.unwrap();
    assert_cut_in_time(time_to_close(&mut silent).await, 1_000);
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once_and_the_served_ones_keep_working() {
    let env = start(limits(10_000, 10_000, 60_000, 3)).await;
    let mut served = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(env.server.addr).await.unwrap();
        assert!(health_check(&mut tcp).await.starts_with("HTTP/1.1 200"));
        served.push(tcp);
    }

    let mut extra = TcpStream::connect(env.server.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: meridian\r\n\r\n")
        .await;
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = extra.read_to_end(&mut rest).await; // EOF or a reset
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(started.elapsed() < Duration::from_secs(1));

    for tcp in &mut served {
        assert!(health_check(tcp).await.starts_with("HTTP/1.1 200"));
    }

    // A connection that ends gives its place to a new one.
    drop(served.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut tcp = TcpStream::connect(env.server.addr).await.unwrap();
        let _ = tcp
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: meridian\r\n\r\n")
            .await;
        let mut buf = [0u8; 12];
        if tcp.read_exact(&mut buf).await.is_ok() {
            assert_eq!(&buf, b"HTTP/1.1 200");
            break;
        }
        assert!(Instant::now() < deadline, "the freed place was not given");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_stream_with_gaps_longer_than_every_timeout_is_delivered_whole() {
    let mock = MockConfig {
        token_delay: Duration::from_millis(1_300),
        ..MockConfig::default()
    };
    let env = TestEnv::start_with_mock(mock, |o| o.limits = limits(1_000, 1_000, 1_000, 100)).await;
    let started = Instant::now();
    let text = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&json!({"model": "openai/gpt-4o-mini", "stream": true,
            "messages": [{"role": "user", "content": "one two"}]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        started.elapsed() > Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let words: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(words, "You said: one two");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}
