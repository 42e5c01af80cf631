//! The HTTP client for upstream calls, shared by every provider.
//!
//! Two kinds of pools: HTTP/1.1 (plain or rustls with the webpki roots), where every
//! concurrent request has its own pooled connection; and, for deployments marked
//! `http2 = true`, HTTP/2 with prior knowledge (h2c) over a few connections chosen in
//! turn. HTTP/2 is not negotiated over TLS on purpose: hyper keeps one HTTP/2
//! connection per host, so a provider's limit on concurrent streams per connection
//! (often 100–256) would queue a busy gateway's requests behind each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use meridian_core::config::DEFAULT_CONNECT_TIMEOUT;

use crate::providers::UpstreamRequest;

pub type Upstream = hyper::Response<Incoming>;

type Inner = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// HTTP/2 connections per h2c upstream host, used in turn.
const H2C_CONNECTIONS: usize = 8;

/// Connection pools that give up connecting after one timeout.
struct Pools {
    connect_timeout: Duration,
    http1: Inner,
    h2c: Box<[Inner]>,
    next_h2c: AtomicUsize,
}

impl Pools {
    fn new(connect_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            http1: build(false, connect_timeout),
            h2c: (0..H2C_CONNECTIONS)
                .map(|_| build(true, connect_timeout))
                .collect(),
            next_h2c: AtomicUsize::new(0),
        }
    }
}

/// One set of pools per connect timeout that deployments use (a handful at most:
/// connecting happens inside the pooled client, so the timeout is the pool's).
#[derive(Clone)]
pub struct UpstreamClient {
    pools: Arc<[Pools]>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid upstream request")]
    Build,
    #[error("upstream connection failed")]
    Connect(#[source] hyper_util::client::legacy::Error),
}

impl Default for UpstreamClient {
    fn default() -> Self {
        Self::new()
    }
}

impl UpstreamClient {
    /// A client for deployments with the default connect timeout.
    pub fn new() -> Self {
        Self::with_connect_timeouts([])
    }

    /// A client for deployments connecting within each of `timeouts` (and the
    /// default).
    pub fn with_connect_timeouts(timeouts: impl IntoIterator<Item = Duration>) -> Self {
        let mut distinct = vec![DEFAULT_CONNECT_TIMEOUT];
        for t in timeouts {
            if !distinct.contains(&t) {
                distinct.push(t);
            }
        }
        Self {
            pools: distinct.into_iter().map(Pools::new).collect(),
        }
    }

    /// Sends `req`; `h2c` selects HTTP/2 with prior knowledge for plain-http URLs, and
    /// a connection not made within `connect_timeout` is an error (a timeout the
    /// client was not built with gets the default's pools).
    pub async fn send(
        &self,
        req: UpstreamRequest,
        h2c: bool,
        connect_timeout: Duration,
    ) -> Result<Upstream, ClientError> {
        let mut builder = hyper::Request::builder().method(req.method).uri(req.url);
        if let Some(h) = builder.headers_mut() {
            *h = req.headers;
        }
        let request = builder
            .body(Full::new(req.body))
            .map_err(|_| ClientError::Build)?;
        let pools = self
            .pools
            .iter()
            .find(|p| p.connect_timeout == connect_timeout)
            .unwrap_or(&self.pools[0]);
        let client = if h2c {
            &pools.h2c[pools.next_h2c.fetch_add(1, Ordering::Relaxed) % pools.h2c.len()]
        } else {
            &pools.http1
        };
        client.request(request).await.map_err(ClientError::Connect)
    }
}

fn build(http2_only: bool, connect_timeout: Duration) -> Inner {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http();
    let https = if http2_only {
        tls.enable_http2().wrap_connector(http)
    } else {
        tls.enable_http1().wrap_connector(http)
    };
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1024)
        .http2_only(http2_only)
        .build(https)
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ()> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| ())
}
