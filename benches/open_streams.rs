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
    let streams: usize = std::env::var("STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let (pool, url) = common::fresh_database().await;
    let (_, key) = common::customer_and_key(&pool).await;
    let mock = MockServer::start(MockConfig {
        latency: Duration::ZERO,
        token_delay: Duration::from_millis(500),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let dir = common::temp_dir("streams");
    let config = dir.join("meridian.toml");
    std::fs::write(
        &config,
        format!(
            "[[deployments]]\nid = \"mock-h2c\"\nprovider = \"openai\"\nregion = \"local\"\nkind = \"reserved\"\nbase_url = \"http://{}/v1\"\nmodels = [\"openai/gpt-4o-mini\"]\nhttp2 = {}\n",
            mock.addr(),
            std::env::var("H2C").map_or(true, |v| v != "0")
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
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let prompt = "word ".repeat(30);
    // DIRECT=1 measures the client and mock alone, without the gateway.
    let target = match std::env::var("DIRECT") {
        Ok(_) => format!("{}/chat/completions", mock.openai_base_url()),
        Err(_) => format!("http://{addr}/v1/chat/completions"),
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let (client, key, prompt, target) = (client.clone(), key.clone(), prompt.clone(), target.clone());
            let (opened, completed, failed, first_error) = (opened.clone(), completed.clone(), failed.clone(), first_error.clone());
            let fail = move |why: String| {
                failed.fetch_add(1, Ordering::SeqCst);
                first_error.lock().unwrap().get_or_insert(why);
            };
            tokio::spawn(async move {
                let body = serde_json::json!({"model": "openai/gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": prompt}]});
                let response = match client.post(&target).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status().is_success() => r,
                    Ok(r) => return fail(format!("status {}", r.status())),
                    Err(e) => return fail(format!("{e:?}")),
                };
                let mut stream = response.bytes_stream();
                let mut first = true;
                let mut tail = Vec::new();
                while let Some(chunk) = stream.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => return fail(format!("mid-stream: {e:?}")),
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
                    fail(format!("no [DONE]: {}", String::from_utf8_lossy(&tail)));
                }
            })
        })
        .collect();
    while opened.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) < streams
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open_secs = started.elapsed().as_secs_f64();
    let rss_open = rss_kb(pid, "VmRSS:");
    let fds_open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    for t in tasks {
        let _ = t.await;
    }
    let peak = rss_kb(pid, "VmHWM:");
    println!(
        "RESULT open_streams streams={streams} opened={} completed={} failed={} open_all_s={open_secs:.1} idle_rss_mb={:.1} rss_all_open_mb={:.1} peak_rss_mb={:.1} gateway_fds={fds_open}",
        opened.load(Ordering::SeqCst),
        completed.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst),
        idle_rss as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        peak as f64 / 1024.0,
    );
    if let Some(e) = first_error.lock().unwrap().as_ref() {
        println!("first error: {e}");
    }
    server.stop();
}
