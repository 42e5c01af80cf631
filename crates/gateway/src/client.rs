//! The HTTP client for upstream calls: pooled hyper clients (HTTP/1.1 and HTTP/2 by
//! ALPN over rustls with the webpki roots, and an HTTP/2-only one for `h2c`
//! deployments) shared by every provider.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::providers::UpstreamRequest;

pub type Upstream = hyper::Response<Incoming>;

type Inner = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Clone)]
pub struct UpstreamClient {
    negotiated: Inner,
    h2c: Inner,
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
            negotiated: build(false),
            h2c: build(true),
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
        let client = if h2c { &self.h2c } else { &self.negotiated };
        client.request(request).await.map_err(ClientError::Connect)
    }
}

fn build(http2_only: bool) -> Inner {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(std::time::Duration::from_secs(5)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
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
