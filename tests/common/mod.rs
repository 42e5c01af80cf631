//! Test support: a fresh database per test on a real Postgres, the mock providers,
//! and a running Meridian (in-process, or as a child process for crash tests).
#![allow(dead_code)] // each test binary uses a different part

pub mod cli;
pub mod sdk;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meridian::{ServeOptions, Server};
use meridian_core::config::Config;
use meridian_core::{CustomerId, Secret};
use meridian_mock_providers::{MockConfig, MockServer};
use sqlx::PgPool;

/// Runs the US entity's invoices for October 2026 as of 2 November, every one issued.
pub async fn invoice_us_october(pool: &PgPool) {
    use meridian_billing::progress::Progress;
    use meridian_billing::{Period, run};
    let now = "2026-11-02T00:00:00Z".parse().unwrap();
    let period = Period::parse("2026-10").unwrap();
    let report = run::run(pool, period, Some("US"), now, &Progress::Log)
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

/// A new, migrated database with the shipped price catalog imported.
pub async fn fresh_database() -> (PgPool, String) {
    let (pool, url) = meridian_test_support::database::fresh().await;
    meridian::ensure_prices(&pool).await.expect("import prices");
    (pool, url)
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("meridian-{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deployments pointing at the mock: OpenAI (two pools of gpt-4o-mini, so failover
/// can be seen), DeepSeek and Qwen.
pub fn mock_config_toml(mock: SocketAddr) -> String {
    format!(
        r#"
[[deployments]]
id = "openai-us-east-reserved"
provider = "openai"
region = "us-east"
kind = "reserved"
base_url = "http://{mock}/v1"
models = ["openai/gpt-4o-mini", "openai/text-embedding-3-small", "openai/o3-mini"]

[[deployments]]
id = "deepseek-on-demand"
provider = "deepseek"
region = "global"
kind = "on-demand"
base_url = "http://{mock}"
models = ["deepseek/deepseek-chat"]

[[deployments]]
id = "qwen-on-demand"
provider = "qwen"
region = "ap-southeast-1"
kind = "on-demand"
base_url = "http://{mock}/compatible-mode/v1"
models = ["qwen/qwen-max"]
"#
    )
}

pub struct TestEnv {
    pub pool: PgPool,
    pub database_url: String,
    pub mock: MockServer,
    pub server: Server,
    pub customer: CustomerId,
    pub key: String,
    pub data_dir: PathBuf,
}

impl TestEnv {
    pub async fn start() -> TestEnv {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ServeOptions)) -> TestEnv {
        Self::start_with_mock(MockConfig::default(), adjust).await
    }

    pub async fn start_with_mock(
        mock: MockConfig,
        adjust: impl FnOnce(&mut ServeOptions),
    ) -> TestEnv {
        let (pool, database_url) = fresh_database().await;
        let mock = MockServer::start(mock).await.unwrap();
        let config = Config::parse(&mock_config_toml(mock.addr())).unwrap();
        let data_dir = temp_dir("data");
        let mut options =
            ServeOptions::new("127.0.0.1:0".parse().unwrap(), config, data_dir.clone());
        options.credentials = Arc::new(|_| Some(Secret::new("test-upstream-key")));
        options.metering.flush_interval = Duration::from_millis(50);
        adjust(&mut options);
        let (customer, key) = customer_and_key(&pool).await;
        let server = Server::start(pool.clone(), options).await.unwrap();
        TestEnv {
            pool,
            database_url,
            mock,
            server,
            customer,
            key,
            data_dir,
        }
    }

    /// A gateway serving only the test's own deployments: `deployments` is their
    /// TOML, given the mock providers' address (`host:port`); `adjust` then changes
    /// the rest of the options.
    pub async fn start_with_deployments(
        deployments: impl FnOnce(&str) -> String,
        adjust: impl FnOnce(&mut ServeOptions),
    ) -> TestEnv {
        Self::start_with(|options| {
            let mock = options.config.deployments[0]
                .base_url
                .trim_start_matches("http://")
                .trim_end_matches("/v1")
                .to_string();
            options.config = Config::parse(&deployments(&mock)).expect("the test's deployments");
            adjust(options);
        })
        .await
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    pub fn openai(&self) -> async_openai::Client<async_openai::config::OpenAIConfig> {
        openai_client(&self.base_url(), &self.key)
    }

    /// `/metrics` as text.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

pub fn openai_client(
    base_url: &str,
    key: &str,
) -> async_openai::Client<async_openai::config::OpenAIConfig> {
    async_openai::Client::with_config(
        async_openai::config::OpenAIConfig::new()
            .with_api_base(base_url)
            .with_api_key(key),
    )
}

pub async fn customer_and_key(pool: &PgPool) -> (CustomerId, String) {
    let customer = meridian::demo::demo_customer(pool).await.unwrap();
    let key = meridian::demo::demo_key(pool, customer.id).await.unwrap();
    (customer.id, key.expose().to_string())
}

/// `n` customers with usage on three days of October 2026, the i-th of entity,
/// currency, locale and country `mix[i % mix.len()]`, inserted as the metering worker
/// writes rollups.
pub async fn seed_customers(pool: &PgPool, n: i32, mix: &[(&str, &str, &str, &str)]) {
    let column = |pick: usize| -> Vec<String> {
        mix.iter()
            .map(|m| [m.0, m.1, m.2, m.3][pick].to_string())
            .collect()
    };
    sqlx::query(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, country)
         SELECT gen_random_uuid(), 'Customer ' || i, $2[k], $3[k], $4[k], 'c' || i || '@example.com', $5[k]
         FROM generate_series(1, $1) i, LATERAL (SELECT i % cardinality($2::text[]) + 1 AS k) m",
    )
    .bind(n)
    .bind(column(0))
    .bind(column(1))
    .bind(column(2))
    .bind(column(3))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         SELECT c.id, NULL, 'openai/gpt-4o-mini', 'openai', 'openai-us', 'us-east', 'gpt-4o-mini',
                timestamptz '2026-10-10 00:00Z' + d * interval '1 day', 1, 0, 1000 + d, 500, 0, 0, 0, 0, 0, 0, 0, '{}'
         FROM customers c, generate_series(0, 2) d",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Sums of the customer's rollups: (requests, errors, prompt, completion, cost).
pub async fn rollup_totals(
    pool: &PgPool,
    customer: CustomerId,
) -> (i64, i64, i64, i64, rust_decimal::Decimal) {
    sqlx::query_as(
        "SELECT coalesce(sum(requests),0)::bigint, coalesce(sum(errors),0)::bigint, coalesce(sum(prompt_tokens),0)::bigint,
                coalesce(sum(completion_tokens),0)::bigint, coalesce(sum(cost),0)
         FROM usage_rollups WHERE customer_id = $1",
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until the rollups hold `requests` requests (the worker flushes in the background).
pub async fn wait_for_requests(
    pool: &PgPool,
    customer: CustomerId,
    requests: i64,
) -> (i64, i64, i64, i64, rust_decimal::Decimal) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let totals = rollup_totals(pool, customer).await;
        if totals.0 >= requests || std::time::Instant::now() > deadline {
            return totals;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `meridian serve` as a child process (for crash tests and log inspection).
pub struct ChildServer {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl ChildServer {
    /// Starts the binary on `addr` and waits until `/healthz` answers.
    pub async fn start(
        database_url: &str,
        config: &std::path::Path,
        data_dir: &std::path::Path,
        addr: SocketAddr,
        log_level: &str,
    ) -> ChildServer {
        Self::start_with_env(database_url, config, data_dir, addr, log_level, &[]).await
    }

    /// [`ChildServer::start`] with more environment variables (`SMTP_URL`, ...).
    pub async fn start_with_env(
        database_url: &str,
        config: &std::path::Path,
        data_dir: &std::path::Path,
        addr: SocketAddr,
        log_level: &str,
        env: &[(&str, &str)],
    ) -> ChildServer {
        let log = data_dir.join(format!("server-{}.log", uuid::Uuid::now_v7().simple()));
        let out = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_meridian"))
            .args(["serve", "--config"])
            .arg(config)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .env("DATABASE_URL", database_url)
            .env("MERIDIAN_LOG", log_level)
            .env("OPENAI_API_KEY", "test-upstream-key")
            .env("DEEPSEEK_API_KEY", "test-upstream-key")
            .env("DASHSCOPE_API_KEY", "test-upstream-key")
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let server = ChildServer { child, addr, log };
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("http://{addr}/healthz")).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "meridian serve did not start: {}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    /// SIGTERM-free stop for the end of a test.
    pub fn stop(mut self) {
        self.kill9();
    }
}

/// A free loopback port.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Writes a config pointing at `mock` and returns its path.
pub fn write_config(dir: &std::path::Path, mock: SocketAddr) -> PathBuf {
    let path = dir.join("meridian.toml");
    std::fs::write(&path, mock_config_toml(mock)).unwrap();
    path
}

/// A TCP relay that can cut every connection and refuse new ones, to make Postgres
/// unreachable for one process without stopping the server other tests use.
pub struct TcpCutter {
    pub addr: SocketAddr,
    blocked: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpCutter {
    pub async fn start(target: SocketAddr) -> TcpCutter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let blocked = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (b, c) = (blocked.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if b.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: connection refused from the client's view
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().unwrap().push(task.abort_handle());
            }
        });
        TcpCutter {
            addr,
            blocked,
            connections,
            accept,
        }
    }

    pub fn cut(&self) {
        self.blocked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn restore(&self) {
        self.blocked
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpCutter {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Sends one non-streaming chat request; returns the usage (prompt, completion) on 200.
pub async fn chat_once(
    client: &reqwest::Client,
    base_url: &str,
    key: &str,
    model: &str,
    text: &str,
) -> Result<(u64, u64), String> {
    let response = client
        .post(format!("{base_url}/chat/completions"))
        .bearer_auth(key)
        .json(&serde_json::json!({"model": model, "messages": [{"role": "user", "content": text}]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    Ok((
        body["usage"]["prompt_tokens"].as_u64().unwrap(),
        body["usage"]["completion_tokens"].as_u64().unwrap(),
    ))
}

/// One deployment's rollups of a customer, summed.
#[derive(Debug, sqlx::FromRow)]
pub struct DeploymentUsage {
    pub requests: i64,
    pub errors: i64,
    /// Requests billed from Meridian's own count (streams cut short).
    pub estimated: i64,
    pub prompt: i64,
    pub completion: i64,
    pub cost: rust_decimal::Decimal,
}

/// The deployment's rollups once they hold `requests` requests (or after 20 s).
pub async fn wait_for_deployment_usage(
    pool: &PgPool,
    customer: CustomerId,
    deployment: &str,
    requests: i64,
) -> DeploymentUsage {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let usage: DeploymentUsage = sqlx::query_as(
            "SELECT coalesce(sum(requests),0)::bigint AS requests, coalesce(sum(errors),0)::bigint AS errors,
                    coalesce(sum(estimated_requests),0)::bigint AS estimated,
                    coalesce(sum(prompt_tokens),0)::bigint AS prompt,
                    coalesce(sum(completion_tokens),0)::bigint AS completion, coalesce(sum(cost),0) AS cost
             FROM usage_rollups WHERE customer_id = $1 AND deployment = $2",
        )
        .bind(customer)
        .bind(deployment)
        .fetch_one(pool)
        .await
        .unwrap();
        if usage.requests >= requests || std::time::Instant::now() > deadline {
            return usage;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The content text of a chat stream's `data:` events, and whether it ended with
/// `[DONE]` or with an error object.
pub struct StreamRead {
    pub content: String,
    pub done: bool,
    pub error: Option<serde_json::Value>,
}

/// Reads a chat stream until it ends, or (with `leave_after`) until that many words
/// of content have arrived, when the connection is dropped as a client that gives
/// up does.
pub async fn read_stream(response: reqwest::Response, leave_after: Option<usize>) -> StreamRead {
    use futures::StreamExt;
    let mut read = StreamRead {
        content: String::new(),
        done: false,
        error: None,
    };
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while let Some(bytes) = body.next().await {
        text.push_str(std::str::from_utf8(&bytes.unwrap()).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            let Some(data) = event.trim_end().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                read.done = true;
                continue;
            }
            let chunk: serde_json::Value = serde_json::from_str(data).unwrap();
            if chunk.get("error").is_some() {
                read.error = Some(chunk);
                continue;
            }
            if let Some(content) = chunk["choices"][0]["delta"]["content"].as_str() {
                read.content.push_str(content);
            }
        }
        if leave_after.is_some_and(|n| read.content.split_whitespace().count() >= n) {
            return read;
        }
    }
    read
}

/// Waits until the mock holds no open stream: the gateway closed its upstream
/// requests. Panics after `within`.
pub async fn wait_until_upstream_streams_close(mock: &MockServer, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    while mock.streams_open() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upstream stream is still open {within:?} after the client left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `count` distinct short words, as a prompt the mocks answer with all of them.
pub fn words(count: usize) -> String {
    (0..count)
        .map(|i| ["alpha", "bravo", "delta", "gamma", "hotel", "kilo", "lima"][i % 7])
        .collect::<Vec<_>>()
        .join(" ")
}

/// `method url` with the bearer `key` and an optional JSON body: status, headers and
/// the JSON answer (`null` when empty).
pub async fn rest(
    method: reqwest::Method,
    url: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> (
    reqwest::StatusCode,
    reqwest::header::HeaderMap,
    serde_json::Value,
) {
    let mut request = reqwest::Client::new().request(method, url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, headers, body)
}

/// One chat answer with the routing headers a test looks at.
pub struct Answer {
    pub status: u16,
    pub deployment: Option<String>,
    pub region: Option<String>,
    pub retry_after: Option<String>,
    pub body: serde_json::Value,
}

/// A chat request for `openai/gpt-4o-mini` with `extra` members merged into the body,
/// sent with the test's key.
pub async fn chat_with(env: &TestEnv, extra: serde_json::Value) -> Answer {
    let mut body = serde_json::json!({"model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello there"}]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Answer {
        status: response.status().as_u16(),
        deployment: header("x-meridian-deployment"),
        region: header("x-meridian-region"),
        retry_after: header("retry-after"),
        body: response.json().await.unwrap(),
    }
}

/// Claude served three ways on the mock, each under a public id of its own: on
/// Anthropic's API, on Bedrock's InvokeModel and on Vertex AI's `rawPredict`.
pub const CLAUDE_ON_ANTHROPIC: &str = "anthropic/claude-sonnet-4-5";
pub const CLAUDE_ON_BEDROCK: &str = "bedrock-anthropic/claude-sonnet-4-5";
pub const CLAUDE_ON_VERTEX: &str = "vertex-anthropic/claude-sonnet-4-5";

/// The deployments of the three Claude ids on the mock at `mock` (`host:port`):
/// `anthropic-test`, `bedrock-test`, `vertex-test`.
pub fn claude_deployments(mock: &str) -> String {
    format!(
        r#"
[[deployments]]
id = "anthropic-test"
provider = "anthropic"
region = "eu-west"
kind = "on-demand"
base_url = "http://{mock}"
models = ["{CLAUDE_ON_ANTHROPIC}"]

[[deployments]]
id = "bedrock-test"
provider = "bedrock"
region = "us-east-1"
kind = "on-demand"
base_url = "http://{mock}"
models = ["{CLAUDE_ON_BEDROCK}"]
upstream_model = "anthropic.claude-sonnet-4-5-20250929-v1:0"

[[deployments]]
id = "vertex-test"
provider = "vertex"
region = "us-east5"
kind = "on-demand"
base_url = "http://{mock}"
project = "my-project"
models = ["{CLAUDE_ON_VERTEX}"]
upstream_model = "claude-sonnet-4-5@20250929"
"#
    )
}

/// Credentials the mock accepts: the test SigV4 keys for Bedrock, any key elsewhere.
pub fn mock_credentials() -> meridian::CredentialSource {
    use meridian_core::config::ProviderKind;
    use meridian_mock_providers::{BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY};
    Arc::new(|d| {
        Some(Secret::new(if d.provider == ProviderKind::Bedrock {
            format!("{BEDROCK_ACCESS_KEY_ID}:{BEDROCK_SECRET_ACCESS_KEY}")
        } else {
            "test-upstream-key".to_string()
        }))
    })
}
