//! The OpenAI wire format: OpenAI itself, the OpenAI-compatible DeepSeek and Qwen, and
//! Azure OpenAI (its own paths, keys and errors around the same bodies).

mod azure;
mod chat;
mod embeddings;
mod error;
mod request;
mod responses;
mod responses_wire;
mod stream;
mod wire;

use axum::extract::Path;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

pub(crate) use azure::{Azure, AzureV1};
pub(crate) use error::ApiError;

use crate::capacity::{Route, Throttle};
use crate::gate::{self, Admitted, Provider};
use wire::Flavor;

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

/// OpenAI, DeepSeek and Qwen: `Authorization: Bearer <any non-empty key>`.
pub(crate) struct OpenAi;

impl Provider for OpenAi {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        error::status_error(status, retry_after_secs).into_response()
    }

    fn throttled(throttle: &Throttle) -> Response {
        error::throttled(throttle)
    }

    fn too_large() -> Response {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "Request too large.",
        )
        .into_response()
    }

    fn refusal(head: &Parts, _: &Bytes) -> Option<Response> {
        authorize(&head.headers)
            .err()
            .map(IntoResponse::into_response)
    }
}

fn authorize(headers: &HeaderMap) -> Result<(), ApiError> {
    match gate::bearer(headers) {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            MISSING_KEY,
        )
        .with_code("invalid_api_key")),
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn openai_chat(request: Admitted<OpenAi>) -> Response {
    chat::respond(Flavor::OpenAi, &request, None)
}

/// DeepSeek's `POST /chat/completions`.
pub(crate) async fn deepseek_chat(request: Admitted<OpenAi>) -> Response {
    chat::respond(Flavor::DeepSeek, &request, None)
}

/// Qwen's `POST /compatible-mode/v1/chat/completions`.
pub(crate) async fn qwen_chat(request: Admitted<OpenAi>) -> Response {
    chat::respond(Flavor::Qwen, &request, None)
}

/// `POST /v1/embeddings`.
pub(crate) async fn openai_embeddings(request: Admitted<OpenAi>) -> Response {
    embeddings::respond(&request, None)
}

/// `POST /v1/responses`.
pub(crate) async fn openai_responses(request: Admitted<OpenAi>) -> Response {
    responses::respond(Route::OpenAi, &request)
}

/// Azure's `POST /openai/v1/responses` (the v1 API: no `api-version`, the deployment
/// named by `model`).
pub(crate) async fn azure_responses(request: Admitted<AzureV1>) -> Response {
    responses::respond(Route::Azure, &request)
}

/// Azure's `POST /openai/deployments/{deployment}/chat/completions`.
pub(crate) async fn azure_chat(
    Path(deployment): Path<String>,
    request: Admitted<Azure>,
) -> Response {
    chat::respond(Flavor::Azure, &request, Some(&deployment))
}

/// Azure's `POST /openai/deployments/{deployment}/embeddings`.
pub(crate) async fn azure_embeddings(
    Path(deployment): Path<String>,
    request: Admitted<Azure>,
) -> Response {
    embeddings::respond(&request, Some(&deployment))
}

/// `GET /v1/models`.
pub(crate) async fn models(headers: HeaderMap) -> Response {
    match authorize(&headers) {
        Ok(()) => gate::json_response(MODELS.as_bytes().to_vec(), None),
        Err(refused) => refused.into_response(),
    }
}
