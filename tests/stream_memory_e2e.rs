//! Memory held by streams that clients reset half-way: `meridian serve` and
//! `meridian mock-providers` as child processes, so that each resident set is its own
//! (`meridian demo` runs both in one process). Rounds of streams, each reset (TCP
//! RST) after part of a long, paced answer, must leave both resident sets where they
//! were after the first round. (Before the mocks made their frames as they sent them,
//! the mock process went from ~200 MB to ~300 MB here; the gateway's anonymous memory
//! is mostly the tokenizer's tables, loaded by the first cut stream.)

mod common;

use std::time::Duration;

use common::ChildServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Words of each answer, and how many of them a client reads before it resets.
const ANSWER_WORDS: usize = 20_000;
const READ_BYTES: usize = 300_000;
const STREAMS_PER_ROUND: usize = 20;
const ROUNDS: usize = 5;

/// The anonymous resident set of process `pid` (heap and stacks; not the pages of
/// the binary, which grow as code runs for the first time), in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon in /proc/PID/status");
    kb * 1024
}

/// Starts a stream over a raw connection, reads `READ_BYTES` of it, and resets the
/// connection (SO_LINGER 0: the kernel sends RST, as a killed client's does).
async fn stream_and_reset(server: std::net::SocketAddr, key: &str, prompt: &str) {
    let body = serde_json::json!({"model": "openai/gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": prompt}]})
    .to_string();
    let mut tcp = TcpStream::connect(server).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {server}\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut read = 0;
    while read < READ_BYTES {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended before the client left");
        read += n;
    }
    // Blocking on drop is what SO_LINGER 0 is for here: the reset is sent at once.
    #[allow(deprecated)]
    tcp.set_linger(Some(Duration::ZERO)).unwrap();
    drop(tcp);
}

/// `meridian mock-providers`, pacing tokens a millisecond apart.
struct MockChild(std::process::Child);

impl MockChild {
    async fn start(addr: std::net::SocketAddr, dir: &std::path::Path) -> MockChild {
        let log = std::fs::File::create(dir.join("mock.log")).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_meridian"))
            .args(["mock-providers", "--token-delay-ms", "1", "--listen"])
            .arg(addr.to_string())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the mock did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        MockChild(child)
    }
}

async fn round(server: std::net::SocketAddr, key: &str, prompt: &str) {
    let streams = (0..STREAMS_PER_ROUND).map(|_| stream_and_reset(server, key, prompt));
    futures::future::join_all(streams).await;
}

/// The resident sets of `pids` once the server has let go of the streams: every
/// stream so far is metered (the count of a cut stream runs after it ends), then the
/// sets are sampled until they stop falling.
async fn settled_rss(
    pids: [u32; 2],
    pool: &sqlx::PgPool,
    customer: meridian_core::CustomerId,
    streams: i64,
) -> [u64; 2] {
    let metered = common::wait_for_requests(pool, customer, streams).await;
    assert_eq!(metered.0, streams, "every stream is metered");
    let mut last = pids.map(rss);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = pids.map(rss);
        if now[0] >= last[0] && now[1] >= last[1] {
            return now;
        }
        last = [now[0].min(last[0]), now[1].min(last[1])];
    }
    last
}

#[tokio::test]
async fn resident_memory_returns_to_its_baseline_after_aborted_streams() {
    let (pool, database_url) = common::fresh_database().await;
    let dir = common::temp_dir("memory");
    let mock_addr = common::free_addr();
    let mut mock = MockChild::start(mock_addr, &dir).await;
    let config = common::write_config(&dir, mock_addr);
    let (customer, key) = common::customer_and_key(&pool).await;
    let server =
        ChildServer::start(&database_url, &config, &dir, common::free_addr(), "warn").await;
    let pids = [server.child.id(), mock.0.id()];
    let prompt = common::words(ANSWER_WORDS);

    // The first round loads what stays loaded (the tokenizer's tables, the
    // allocator's arenas, connection pools).
    round(server.addr, &key, &prompt).await;
    let per_round = STREAMS_PER_ROUND as i64;
    let baseline = settled_rss(pids, &pool, customer, per_round).await;
    for _ in 0..ROUNDS {
        round(server.addr, &key, &prompt).await;
    }
    let streams = per_round * (ROUNDS as i64 + 1);
    let after = settled_rss(pids, &pool, customer, streams).await;
    let names = ["meridian serve", "meridian mock-providers"];
    for (i, name) in names.iter().enumerate() {
        eprintln!(
            "{name}: anonymous resident set {} MB after the first round, {} MB after {} more aborted streams",
            baseline[i] >> 20,
            after[i] >> 20,
            ROUNDS * STREAMS_PER_ROUND
        );
    }
    // Within 10%, and 2 MB for the allocator: what glibc keeps of the busiest moment
    // of a round varies by a few MB from round to round (400 aborted streams end where
    // 100 do, so nothing accumulates).
    for (i, name) in names.iter().enumerate() {
        assert!(
            after[i] <= baseline[i] + baseline[i] / 10 + (2 << 20),
            "{} aborted streams grew the resident set of {name} from {} to {} MB",
            ROUNDS * STREAMS_PER_ROUND,
            baseline[i] >> 20,
            after[i] >> 20
        );
    }
    // Every stream was metered, as the client's error, and billed.
    let totals = common::rollup_totals(&pool, customer).await;
    assert_eq!((totals.0, totals.1), (streams, streams));
    assert!(totals.3 > 0, "{totals:?}");
    server.stop();
    mock.0.kill().unwrap();
    mock.0.wait().unwrap();
}
