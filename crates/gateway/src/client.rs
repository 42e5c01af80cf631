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

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::providers::UpstreamRequest;

pub type Upstream = hyper::Response<Incoming>;

type Inner = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// HTTP/2 connections per h2c upstream host, used in turn.
const H2C_CONNECTIONS: usize = 8;

#[derive(Clone)]
pub struct UpstreamClient {
    http1: Inner,
    h2c: Arc<[Inner]>,
    next_h2c: Arc<AtomicUsize>,
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
    pub fn new() -> Self {
        Self {
            http1: build(false),
            h2c: (0..H2C_CONNECTIONS).map(|_| build(true)).collect(),
            next_h2c: Arc::default(),
        }
    }

    /// Sends `req`; `h2c` selects HTTP/2 with prior knowledge for plain-http URLs.
    pub async fn send(&self, req: UpstreamRequest, h2c: bool) -> Result<Upstream, ClientError> {
        let mut builder = hyper::Request::builder().method(req.method).uri(req.url);
        if let Some(h) = builder.headers_mut() {
            *h = req.headers;
        }
        let request = builder
            .body(Full::new(req.body))
            .map_err(|_| ClientError::Build)?;
        let client = if h2c {
            &self.h2c[self.next_h2c.fetch_add(1, Ordering::Relaxed) % self.h2c.len()]
        } else {
            &self.http1
        };
        client.request(request).await.map_err(ClientError::Connect)
    }
}

fn build(http2_only: bool) -> Inner {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(std::time::Duration::from_secs(5)));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http();
    let https = if http2_only {
        tls.enable_http2().wrap_connector(http)
    } else {
        tls.enable_http1().wrap_connector(http)
    };
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(60))
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
