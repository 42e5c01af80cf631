//! The HTTP client for upstream calls: one pooled hyper client (HTTP/1.1 and HTTP/2,
//! rustls with the webpki roots) shared by every provider.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::providers::UpstreamRequest;

pub type Upstream = hyper::Response<Incoming>;

#[derive(Clone)]
pub struct UpstreamClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
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
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(1024)
            .build(https);
        Self { inner }
    }

    pub async fn send(&self, req: UpstreamRequest) -> Result<Upstream, ClientError> {
        let mut builder = hyper::Request::builder().method(req.method).uri(req.url);
        if let Some(h) = builder.headers_mut() {
            *h = req.headers;
        }
        let request = builder
            .body(Full::new(req.body))
            .map_err(|_| ClientError::Build)?;
        self.inner
            .request(request)
            .await
            .map_err(ClientError::Connect)
    }
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ()> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| ())
}
