//! The route table: every provider's native paths on one listener, the mock's own
//! control routes, and what answers an unknown path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;

use crate::cache::PromptCache;
use crate::capacity::{self, Capacities};
use crate::faults::{self, FaultQueue};
use crate::gate::json_response;
use crate::google;
use crate::openai::{self, ApiError};
use crate::server::MockConfig;
use crate::{anthropic, bedrock};

/// Vertex AI's path of a Gemini model (`/v1`; the same under `/v1beta1`).
const VERTEX: &str =
    "/v1/projects/{project}/locations/{location}/publishers/google/models/{action}";

/// Vertex AI's path of a Claude model (`/v1`; the same under `/v1beta1`).
const VERTEX_CLAUDE: &str =
    "/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{action}";

/// What the handlers share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) config: MockConfig,
    pub(crate) faults: FaultQueue,
    pub(crate) requests_seen: AtomicU64,
    /// Streamed answers whose body the connection still holds.
    pub(crate) streams_open: AtomicU64,
    pub(crate) prompt_cache: PromptCache,
    pub(crate) capacities: Capacities,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        // OpenAI and the OpenAI-compatible.
        .route("/v1/chat/completions", post(openai::openai_chat))
        .route("/v1/embeddings", post(openai::openai_embeddings))
        .route("/v1/responses", post(openai::openai_responses))
        .route("/v1/models", get(openai::models))
        .route("/chat/completions", post(openai::deepseek_chat))
        .route(
            "/compatible-mode/v1/chat/completions",
            post(openai::qwen_chat),
        )
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(openai::azure_chat),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            post(openai::azure_embeddings),
        )
        .route("/openai/v1/responses", post(openai::azure_responses))
        // Anthropic.
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/count_tokens", post(anthropic::count_tokens))
        // Google: the Gemini API and Vertex AI.
        .route("/v1/models/{action}", post(google::gemini))
        .route("/v1beta/models/{action}", post(google::gemini))
        .route(VERTEX, post(google::vertex))
        .route(&format!("/v1beta1{}", &VERTEX[3..]), post(google::vertex))
        .route(VERTEX_CLAUDE, post(anthropic::vertex::raw_predict))
        .route(
            &format!("/v1beta1{}", &VERTEX_CLAUDE[3..]),
            post(anthropic::vertex::raw_predict),
        )
        // Amazon Bedrock.
        .route("/model/{model_id}/converse", post(bedrock::converse))
        .route(
            "/model/{model_id}/converse-stream",
            post(bedrock::converse_stream),
        )
        .route("/model/{model_id}/invoke", post(bedrock::invoke))
        .route(
            "/model/{model_id}/count-tokens",
            post(bedrock::count_tokens),
        )
        .route(
            "/model/{model_id}/invoke-with-response-stream",
            post(bedrock::invoke_stream),
        )
        // The mock itself.
        .route("/healthz", get(healthz))
        .route("/__mock/faults", post(inject_fault))
        .route(
            "/__mock/capacity",
            post(set_capacity).delete(clear_capacities),
        )
        .route("/__mock/stats", get(stats))
        .fallback(invalid_url)
        .method_not_allowed_fallback(invalid_method)
        .with_state(shared)
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

async fn set_capacity(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match capacity::parse_setting(&body) {
        Ok((route, model, capacity)) => {
            shared.capacities.set(route, &model, capacity);
            json_response(br#"{"ok":true}"#.to_vec(), None)
        }
        Err(refused) => refused.into_response(),
    }
}

async fn clear_capacities(State(shared): State<Arc<Shared>>) -> Response {
    shared.capacities.clear();
    json_response(br#"{"ok":true}"#.to_vec(), None)
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let seen = shared.requests_seen.load(Ordering::Relaxed);
    let open = shared.streams_open.load(Ordering::Relaxed);
    let throttled = shared.capacities.throttled.load(Ordering::Relaxed);
    json_response(
        format!(r#"{{"requests_seen":{seen},"streams_open":{open},"throttled":{throttled}}}"#)
            .into_bytes(),
        None,
    )
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
