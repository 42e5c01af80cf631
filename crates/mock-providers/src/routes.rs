//! The route table, and what every model request goes through before its handler:
//! counting, latency, injected faults, the API key.

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures::StreamExt;

use crate::error::ApiError;
use crate::faults::{self, Fault, FaultQueue};
use crate::server::{Connection, MockConfig};
use crate::wire::Flavor;
use crate::{chat, embeddings, stream};

/// Request bodies beyond this are refused (413), like a real upstream would.
const MAX_BODY: usize = 32 * 1024 * 1024;

const MISSING_KEY: &str = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";

/// `GET /v1/models`: a handful of OpenAI's models.
const MODELS: &str = r#"{"object":"list","data":[
{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},
{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},
{"id":"gpt-4.1","object":"model","created":1744316542,"owned_by":"system"},
{"id":"o3-mini","object":"model","created":1737146383,"owned_by":"system"},
{"id":"o4-mini","object":"model","created":1744225351,"owned_by":"system"},
{"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"},
{"id":"text-embedding-3-large","object":"model","created":1705953180,"owned_by":"system"},
{"id":"text-embedding-ada-002","object":"model","created":1671217299,"owned_by":"openai-internal"}
]}"#;

/// What the handlers share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    pub(crate) faults: FaultQueue,
    pub(crate) requests_seen: AtomicU64,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route("/chat/completions", post(deepseek_chat))
        .route("/compatible-mode/v1/chat/completions", post(qwen_chat))
        .route("/v1/embeddings", post(openai_embeddings))
        .route("/v1/models", get(models))
        .route("/healthz", get(healthz))
        .route("/__mock/faults", post(inject_fault))
        .route("/__mock/stats", get(stats))
        .fallback(invalid_url)
        .method_not_allowed_fallback(invalid_method)
        .with_state(shared)
}

async fn openai_chat(request: ModelRequest) -> Response {
    chat::respond(Flavor::OpenAi, request)
}

async fn deepseek_chat(request: ModelRequest) -> Response {
    chat::respond(Flavor::DeepSeek, request)
}

async fn qwen_chat(request: ModelRequest) -> Response {
    chat::respond(Flavor::Qwen, request)
}

async fn openai_embeddings(request: ModelRequest) -> Response {
    embeddings::respond(request)
}

async fn models(headers: HeaderMap) -> Response {
    match authorize(&headers) {
        Ok(()) => json_response(MODELS.as_bytes().to_vec(), None),
        Err(refused) => refused.into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn inject_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match faults::parse_injection(&body) {
        Ok((fault, times)) => {
            shared.faults.push(fault, times);
            json_response(br#"{"ok":true}"#.to_vec(), None)
        }
        Err(refused) => refused.into_response(),
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let seen = shared.requests_seen.load(Ordering::Relaxed);
    json_response(format!(r#"{{"requests_seen":{seen}}}"#).into_bytes(), None)
}

async fn invalid_url(method: Method, uri: Uri) -> Response {
    let message = format!("Invalid URL ({method} {})", uri.path());
    ApiError::new(StatusCode::NOT_FOUND, "invalid_request_error", message).into_response()
}

async fn invalid_method(method: Method, uri: Uri) -> Response {
    let message = format!("Invalid method for URL ({method} {})", uri.path());
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        message,
    )
    .into_response()
}

/// A model request (chat or embeddings) that got past the faults and the key check.
pub(crate) struct ModelRequest {
    pub(crate) body: Bytes,
    /// Set by a [`Fault::StreamCut`]: how many events to send before closing.
    pub(crate) cut_after: Option<u32>,
    pub(crate) token_delay: Duration,
}

impl FromRequest<Arc<Shared>> for ModelRequest {
    type Rejection = Response;

    async fn from_request(request: Request, shared: &Arc<Shared>) -> Result<Self, Response> {
        shared.requests_seen.fetch_add(1, Ordering::Relaxed);
        let (parts, body) = request.into_parts();
        // A body that cannot be read whole is too large (a client that went away
        // reads no answer anyway).
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "Request too large.",
            )
            .into_response()
        })?;
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
                return Err(faults::status_error(status, retry_after_secs).into_response());
            }
            Some(Fault::Timeout) => match hang().await {},
            Some(Fault::ConnectionReset) => {
                if let Some(connection) = parts.extensions.get::<Connection>() {
                    connection.reset();
                }
                match hang().await {}
            }
            Some(Fault::StreamCut { after_chunks }) => cut_after = Some(after_chunks),
        }
        authorize(&parts.headers).map_err(IntoResponse::into_response)?;
        Ok(Self {
            body,
            cut_after,
            token_delay: config.token_delay,
        })
    }
}

/// Never answers: the connection task drops this future when the client leaves, the
/// connection is reset or the server stops.
async fn hang() -> Infallible {
    std::future::pending().await
}

/// `Authorization: Bearer <any non-empty key>`.
fn authorize(headers: &HeaderMap) -> Result<(), ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, key) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        });
    match key {
        Some(key) if !key.is_empty() => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            MISSING_KEY,
        )
        .with_code("invalid_api_key")),
    }
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
