//! 10,000 concurrent open streams through `meridian serve`: the gateway's resident
//! memory while they are all open, and that every one completes.
//!
//! `cargo bench --bench open_streams` (release build; needs a Postgres as the tests do).
//! The mock provider paces tokens 500 ms apart, so each stream stays open ~20 s. The
//! deployment speaks h2c to the mock, so the upstream side multiplexes; the 10,000
//! client connections are separate HTTP/1.1 connections.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use meridian_mock_providers::{MockConfig, MockServer};

const STREAMS: usize = 10_000;

fn rss_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let (pool, url) = common::fresh_database().await;
    let (_, key) = common::customer_and_key(&pool).await;
    let mock = MockServer::start(MockConfig {
        latency: Duration::ZERO,
        token_delay: Duration::from_millis(500),
    })
    .await
    .unwrap();
    let dir = common::temp_dir("streams");
    let config = dir.join("meridian.toml");
    std::fs::write(
        &config,
        format!(
            "[[deployments]]\nid = \"mock-h2c\"\nprovider = \"openai\"\nregion = \"local\"\nkind = \"reserved\"\nbase_url = \"http://{}/v1\"\nmodels = [\"openai/gpt-4o-mini\"]\nhttp2 = true\n",
            mock.addr()
        ),
    )
    .unwrap();
    let addr = common::free_addr();
    let server = common::ChildServer::start(&url, &config, &dir, addr, "warn").await;
    let pid = server.child.id();
    let idle_rss = rss_kb(pid, "VmRSS:");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let opened = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let prompt = "word ".repeat(30);
    let started = Instant::now();
    let tasks: Vec<_> = (0..STREAMS)
        .map(|_| {
            let (client, key, prompt) = (client.clone(), key.clone(), prompt.clone());
            let (opened, completed, failed) = (opened.clone(), completed.clone(), failed.clone());
            tokio::spawn(async move {
                let body = serde_json::json!({"model": "openai/gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": prompt}]});
                let response = match client.post(format!("http://{addr}/v1/chat/completions")).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status().is_success() => r,
                    _ => {
                        failed.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                };
                let mut stream = response.bytes_stream();
                let mut first = true;
                let mut tail = Vec::new();
                while let Some(chunk) = stream.next().await {
                    let Ok(chunk) = chunk else {
                        failed.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    if first {
                        opened.fetch_add(1, Ordering::SeqCst);
                        first = false;
                    }
                    tail = chunk.to_vec();
                }
                if String::from_utf8_lossy(&tail).contains("[DONE]") {
                    completed.fetch_add(1, Ordering::SeqCst);
                } else {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while opened.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) < STREAMS
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open_secs = started.elapsed().as_secs_f64();
    let rss_open = rss_kb(pid, "VmRSS:");
    for t in tasks {
        let _ = t.await;
    }
    let peak = rss_kb(pid, "VmHWM:");
    println!(
        "RESULT open_streams streams={STREAMS} opened={} completed={} failed={} open_all_s={open_secs:.1} idle_rss_mb={:.1} rss_all_open_mb={:.1} peak_rss_mb={:.1}",
        opened.load(Ordering::SeqCst),
        completed.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst),
        idle_rss as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
    server.stop();
}
