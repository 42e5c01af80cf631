//! What every model request goes through before its handler, whichever provider it
//! speaks: counting, reading the body, latency, injected faults, and the checks the
//! real service makes before it looks at the body (credentials, required headers).
//! Each provider answers these in its own error shape, through [`Provider`].

use std::convert::Infallible;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;

use crate::capacity::{Route, Throttle};
use crate::faults::Fault;
use crate::routes::Shared;
use crate::server::Connection;
use crate::stream::{self, Delivery};

/// Request bodies beyond this are refused (413), like a real upstream would.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// How one provider refuses a request before its handler runs.
pub(crate) trait Provider: Send + Sync + 'static {
    /// The answer to an injected status fault, in the provider's error shape.
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response;

    /// The answer to a body over the size limit.
    fn too_large() -> Response {
        Self::fault(StatusCode::PAYLOAD_TOO_LARGE, None)
    }

    /// The answer to a request above its deployment's capacity: the provider's 429.
    fn throttled(throttle: &Throttle) -> Response {
        Self::fault(
            StatusCode::TOO_MANY_REQUESTS,
            Some(throttle.retry_after_secs()),
        )
    }

    /// The refusal of a request that fails the checks made before its body is parsed
    /// (credentials, required headers and query parameters), if it fails one.
    fn refusal(head: &Parts, body: &Bytes) -> Option<Response>;
}

/// A model request that got past the faults and the provider's admission checks.
pub(crate) struct Admitted<P> {
    pub(crate) body: Bytes,
    /// Set by a [`Fault::StreamCut`]: how many events to send before closing.
    pub(crate) cut_after: Option<u32>,
    pub(crate) token_delay: Duration,
    /// When the request arrived.
    pub(crate) received: Instant,
    pub(crate) shared: Arc<Shared>,
    provider: PhantomData<P>,
}

impl<P> Admitted<P> {
    /// How this request's stream is to be sent.
    pub(crate) fn delivery(&self) -> Delivery {
        Delivery {
            token_delay: self.token_delay,
            cut_after: self.cut_after,
            shared: self.shared.clone(),
        }
    }
}

impl<P: Provider> Admitted<P> {
    /// Counts the request against the capacity of `model` on `route`, if it has one:
    /// `tokens` is its prompt and its whole completion, known before it is answered.
    /// Above the capacity it is not counted, and the answer is the provider's 429.
    pub(crate) fn over_capacity(&self, route: Route, model: &str, tokens: u32) -> Option<Response> {
        let window = self.shared.config.capacity_window;
        self.shared
            .capacities
            .admit(route, model, u64::from(tokens), window)
            .err()
            .map(|throttle| P::throttled(&throttle))
    }
}

impl<P: Provider> FromRequest<Arc<Shared>> for Admitted<P> {
    type Rejection = Response;

    async fn from_request(request: Request, shared: &Arc<Shared>) -> Result<Self, Response> {
        let received = Instant::now();
        shared.requests_seen.fetch_add(1, Ordering::Relaxed);
        let (head, body) = request.into_parts();
        // A body that cannot be read whole is too large (a client that went away
        // reads no answer anyway).
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| P::too_large())?;
        let config = shared.config;
        if !config.latency.is_zero() {
            tokio::time::sleep(config.latency).await;
        }
        let mut cut_after = None;
        match shared.faults.take() {
            None => {}
            Some(Fault::Status {
                status,
                retry_after_secs,
            }) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return Err(P::fault(status, retry_after_secs));
            }
            Some(Fault::Timeout) => match hang().await {},
            Some(Fault::ConnectionReset) => {
                if let Some(connection) = head.extensions.get::<Connection>() {
                    connection.reset();
                }
                match hang().await {}
            }
            Some(Fault::StreamCut { after_chunks }) => cut_after = Some(after_chunks),
        }
        if let Some(refused) = P::refusal(&head, &body) {
            return Err(refused);
        }
        Ok(Self {
            body,
            cut_after,
            token_delay: config.token_delay,
            received,
            shared: Arc::clone(shared),
            provider: PhantomData,
        })
    }
}

/// Never answers: the connection task drops this future when the client leaves, the
/// connection is reset or the server stops.
async fn hang() -> Infallible {
    std::future::pending().await
}

/// The key of `Authorization: Bearer <key>`, when there is a non-empty one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// The raw value of a query parameter, when it is there and not empty.
pub(crate) fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name && !value.is_empty()).then_some(value))
}

/// Whether the header is there with a non-empty value.
pub(crate) fn has_value(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|value| !value.as_bytes().trim_ascii().is_empty())
}

/// A JSON answer; with a cut, only its first half is sent before the connection
/// closes (the `content-length` still promises the whole).
pub(crate) fn json_response(body: Vec<u8>, cut_after: Option<u32>) -> Response {
    let mut response = match cut_after {
        None => Response::new(Body::from(body)),
        Some(_) => {
            let full = body.len();
            let half = Bytes::from(body).slice(..full / 2);
            let sent = futures::stream::iter([Ok::<_, io::Error>(half)]);
            let broken = futures::stream::once(stream::cut()).map(Err);
            let mut response = Response::new(Body::from_stream(sent.chain(broken)));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            response
        }
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
