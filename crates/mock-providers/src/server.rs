//! The listener: one task accepting TCP connections, one task per connection serving
//! HTTP/1.1 and HTTP/2 with hyper, each connection with a kill switch so that a fault
//! can drop it with a RST.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower_service::Service;

use crate::capacity::{Capacity, Route};
use crate::faults::Fault;
use crate::routes::{self, Shared};

/// After a failed `accept` (out of file descriptors, say), wait this long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How the mock behaves when no fault is injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockConfig {
    /// Waited before the response headers of every model request.
    pub latency: Duration,
    /// Waited before each streamed token (content, reasoning or tool-call arguments).
    pub token_delay: Duration,
    /// The sliding window a [`Capacity`] counts over: a minute, as the providers
    /// count; tests shorten it rather than wait.
    pub capacity_window: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            token_delay: Duration::ZERO,
            capacity_window: Duration::from_secs(60),
        }
    }
}

/// A running mock server; it stops, with all its connections, when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
    /// Dropping it tells every connection task to end.
    _stop: watch::Sender<()>,
}

impl MockServer {
    /// Serves on a free port of 127.0.0.1.
    pub async fn start(config: MockConfig) -> io::Result<MockServer> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: MockConfig) -> io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            ..Shared::default()
        });
        let (stop, stopped) = watch::channel(());
        let router = routes::router(Arc::clone(&shared));
        let accept = tokio::spawn(accept_loop(listener, router, stopped));
        Ok(MockServer {
            addr,
            shared,
            accept,
            _stop: stop,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// OpenAI's base URL, `http://127.0.0.1:PORT/v1`.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The bare host, `http://127.0.0.1:PORT`: the base URL of DeepSeek, Anthropic,
    /// Gemini and Vertex AI, Azure's resource endpoint and Bedrock's endpoint URL.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Qwen's base URL, `http://127.0.0.1:PORT/compatible-mode/v1`.
    pub fn qwen_base_url(&self) -> String {
        format!("{}/compatible-mode/v1", self.base_url())
    }

    /// The next `times` model requests (of any provider, in arrival order) meet
    /// `fault`. Faults injected earlier are met first.
    pub fn inject(&self, fault: Fault, times: u32) {
        self.shared.faults.push(fault, times);
    }

    /// From now on, at most `capacity.rpm` requests and `capacity.tpm` tokens of
    /// `model` on `route` are admitted in any sliding window; the rest are refused
    /// with the provider's 429. Changing a capacity keeps what was admitted counted.
    pub fn set_capacity(&self, route: Route, model: &str, capacity: Capacity) {
        self.shared.capacities.set(route, model, capacity);
    }

    /// Removes every capacity.
    pub fn clear_capacities(&self) {
        self.shared.capacities.clear();
    }

    /// How many requests were refused for want of capacity.
    pub fn throttled(&self) -> u64 {
        self.shared.capacities.throttled.load(Ordering::Relaxed)
    }

    /// How many model requests (of any provider) arrived, whatever their outcome.
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests_seen.load(Ordering::Relaxed)
    }

    /// How many streamed answers are being sent: a stream leaves this count when it
    /// ends or when its client goes away.
    pub fn streams_open(&self) -> u64 {
        self.shared.streams_open.load(Ordering::Relaxed)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serves on `addr` until ctrl-c: `meridian mock-providers --listen ADDR`.
pub async fn run(addr: SocketAddr, config: MockConfig) -> io::Result<()> {
    let server = MockServer::start_on(addr, config).await?;
    tracing::info!(addr = %server.addr(), "mock providers listening");
    tokio::signal::ctrl_c().await
}

async fn accept_loop(listener: TcpListener, router: Router, stopped: watch::Receiver<()>) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                tokio::spawn(serve_connection(tcp, router.clone(), stopped.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "mock providers: accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn serve_connection(tcp: TcpStream, router: Router, mut stopped: watch::Receiver<()>) {
    let Ok((tcp, connection)) = Connection::attach(tcp) else {
        return;
    };
    // Latency matters more than packet count for a benchmark upstream.
    let _ = tcp.set_nodelay(true);
    let handle = connection.clone();
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        router.clone().call(request)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A gateway multiplexes thousands of streams over one h2c connection (the
    // open-streams benchmark holds 10,000); hyper's default of 200 would queue them.
    builder.http2().max_concurrent_streams(100_000);
    let serving = builder.serve_connection(TokioIo::new(tcp), service);
    tokio::select! {
        _ = serving => {}
        () = connection.0.killed.notified() => {}
        _ = stopped.changed() => {}
    }
}

/// One connection's kill switch, handed to its requests as an extension.
#[derive(Debug, Clone)]
pub(crate) struct Connection(Arc<Switch>);

#[derive(Debug)]
struct Switch {
    /// A second descriptor of the connection's socket, to set `SO_LINGER` on.
    socket: std::net::TcpStream,
    killed: Notify,
}

impl Connection {
    fn attach(tcp: TcpStream) -> io::Result<(TcpStream, Connection)> {
        let tcp = tcp.into_std()?;
        let socket = tcp.try_clone()?;
        let switch = Switch {
            socket,
            killed: Notify::new(),
        };
        Ok((TcpStream::from_std(tcp)?, Connection(Arc::new(switch))))
    }

    /// Drops the connection without a response: with `SO_LINGER` 0 the last close of
    /// the socket sends a RST instead of a FIN.
    pub(crate) fn reset(&self) {
        // Without the option the peer still sees the connection close unanswered.
        let _ = socket2::SockRef::from(&self.0.socket).set_linger(Some(Duration::ZERO));
        self.0.killed.notify_one();
    }
}
