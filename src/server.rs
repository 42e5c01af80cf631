//! The HTTP listener: hyper connections (HTTP/1.1, and HTTP/2 with prior knowledge)
//! under the limits a public server needs — a cap on connections, and timeouts on
//! reading a request's head, reading its body and waiting for the next request — and
//! a graceful shutdown that lets the requests in flight finish.
//!
//! hyper's own `header_read_timeout` is not used: its clock starts when hyper begins
//! waiting for a request, so on a keep-alive connection it would also bound the idle
//! wait, to the header timeout. Here the head's clock starts at its first byte.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use meridian_core::config::ServerLimits;
use meridian_gateway::deadline::DeadlineBody;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower_service::Service;

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A request's head (request line and headers) must arrive within this time of
    /// its first byte; a new connection's first head, within this time of connecting.
    pub header_read_timeout: Duration,
    /// A request's whole body must arrive within this time of its head; past it the
    /// request is answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this time.
    pub idle_timeout: Duration,
    /// Connections served at once; the ones accepted above it are closed at once.
    pub max_connections: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: default_max_connections(),
        }
    }
}

impl Limits {
    /// The defaults, with what the config file's `[server]` table sets.
    pub fn configured(set: &ServerLimits) -> Limits {
        let defaults = Limits::default();
        let secs = |value: Option<u64>, default| value.map_or(default, Duration::from_secs);
        Limits {
            header_read_timeout: secs(set.header_read_timeout_secs, defaults.header_read_timeout),
            body_read_timeout: secs(set.body_read_timeout_secs, defaults.body_read_timeout),
            idle_timeout: secs(set.idle_timeout_secs, defaults.idle_timeout),
            max_connections: set.max_connections.unwrap_or(defaults.max_connections),
        }
    }
}

/// Half the open-file limit: a connection with a request in flight holds an upstream
/// connection too, and the database and the journal need a few.
fn default_max_connections() -> u32 {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    limit.map_or(10_000, |n| u32::try_from(n / 2).unwrap_or(u32::MAX).max(1))
}

/// Serves `app` on `listener` until `stop` turns true, then waits for every
/// connection to end (idle ones end at once, busy ones after their requests).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections as usize));
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    let mut refusing = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if !refusing {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection cap reached: new connections are closed until some end"
                );
                refusing = true;
            }
            continue; // `tcp` dropped: closed
        };
        refusing = false;
        let connection = Connection {
            app: app.clone(),
            limits: limits.clone(),
            activity: Arc::new(Activity::new()),
        };
        tokio::spawn(connection.run(tcp, builder.clone(), stop.clone(), permit));
    }
    drop(listener);
    // Each connection holds a permit until it ends: all of them back means all ended.
    let _ = permits.acquire_many(limits.max_connections).await;
}

/// Errors of one connection are skipped; others (out of file descriptors) are logged
/// and waited out for a second, as a busy loop would not cure them.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::error!(error = %e, "accepting a connection failed");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

struct Connection {
    app: Router,
    limits: Arc<Limits>,
    activity: Arc<Activity>,
}

impl Connection {
    async fn run(
        self,
        tcp: TcpStream,
        builder: Arc<auto::Builder<TokioExecutor>>,
        mut stop: watch::Receiver<bool>,
        _permit: OwnedSemaphorePermit,
    ) {
        // Small SSE writes must leave at once, not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let (activity, limits) = (self.activity.clone(), self.limits.clone());
        let io = TokioIo::new(Watched {
            tcp,
            activity: activity.clone(),
        });
        let conn = builder.serve_connection(io, self);
        tokio::pin!(conn);
        let mut closing = false;
        let mut wake = Instant::now() + limits.header_read_timeout;
        loop {
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|s| *s), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = tokio::time::sleep_until(wake) => match activity.check(Instant::now(), &limits) {
                    Check::Until(at) => wake = at,
                    // Closes an idle HTTP/1 connection at once; HTTP/2 gets a GOAWAY.
                    Check::Idle if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        wake = Instant::now() + limits.header_read_timeout;
                    }
                    // A head too slow, or a connection still idle after being told to close.
                    Check::Idle | Check::Cut => return,
                },
            }
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = Response<Guarded>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Guarded>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let open = self.activity.request_started();
        let deadline = Instant::now() + self.limits.body_read_timeout;
        // Only a request with a body can time out reading it.
        let timed = (!request.body().is_end_stream())
            .then(|| (Arc::new(AtomicBool::new(false)), request.uri().clone()));
        let request = request.map(|body| match &timed {
            Some((expired, _)) => Body::new(DeadlineBody::new(body, deadline, expired.clone())),
            None => Body::new(body),
        });
        let mut app = self.app.clone();
        Box::pin(async move {
            let Ok(mut response) = app.call(request).await;
            if let Some((expired, uri)) = timed
                && expired.load(Ordering::Relaxed)
            {
                response = crate::routes::body_timeout(uri.path());
            }
            Ok(response.map(|body| Guarded { body, _open: open }))
        })
    }
}

/// What a connection is doing, for its timeouts: requests in flight, and since when
/// it has had none or has been receiving a head. Times are milliseconds since `epoch`.
struct Activity {
    epoch: Instant,
    open: AtomicU32,
    idle_since: AtomicU64,
    /// When the first byte of the next head arrived (`NONE`: not yet).
    head_since: AtomicU64,
}

const NONE: u64 = u64::MAX;

enum Check {
    /// Nothing to do before this instant.
    Until(Instant),
    /// Idle past the idle timeout.
    Idle,
    /// A head still incomplete past the header timeout.
    Cut,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            open: AtomicU32::new(0),
            idle_since: AtomicU64::new(0),
            // The first head's clock runs from the connection's start.
            head_since: AtomicU64::new(0),
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        at.duration_since(self.epoch).as_millis() as u64
    }

    fn bytes_read(&self) {
        if self.open.load(Ordering::Relaxed) == 0 && self.head_since.load(Ordering::Relaxed) == NONE
        {
            self.head_since
                .store(self.millis(Instant::now()), Ordering::Relaxed);
        }
    }

    fn request_started(self: &Arc<Self>) -> Open {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.head_since.store(NONE, Ordering::Relaxed);
        Open(self.clone())
    }

    fn check(&self, now: Instant, limits: &Limits) -> Check {
        let header = limits.header_read_timeout;
        if self.open.load(Ordering::Relaxed) > 0 {
            return Check::Until(now + header.min(limits.idle_timeout));
        }
        let at = |millis: u64| self.epoch + Duration::from_millis(millis);
        match self.head_since.load(Ordering::Relaxed) {
            NONE => {
                let deadline = at(self.idle_since.load(Ordering::Relaxed)) + limits.idle_timeout;
                if now >= deadline {
                    Check::Idle
                } else {
                    // A head may begin meanwhile: look again within its timeout.
                    Check::Until(deadline.min(now + header))
                }
            }
            since if now >= at(since) + header => Check::Cut,
            since => Check::Until(at(since) + header),
        }
    }
}

/// A request in flight, until its response body is dropped.
struct Open(Arc<Activity>);

impl Drop for Open {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.open.fetch_sub(1, Ordering::Relaxed) == 1 {
            let now = activity.millis(Instant::now());
            activity.idle_since.store(now, Ordering::Relaxed);
        }
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Guarded {
    body: Body,
    _open: Open,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The client's socket, noting when bytes arrive.
struct Watched {
    tcp: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
