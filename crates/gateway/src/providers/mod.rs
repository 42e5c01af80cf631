//! The provider seam. Each provider is one file implementing [`Adapter`], whose
//! methods are pure: build the upstream request from the client's, read a whole
//! response, read one stream event. HTTP, failover, framing and timing live in
//! [`crate::proxy`]. Providers are registered in [`adapter_for`].

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use meridian_core::TokenUsage;
use meridian_core::config::ProviderKind;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::targets::Target;

pub mod openai;

/// A request ready to send upstream.
#[derive(Debug)]
pub struct UpstreamRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A whole response, read.
pub enum ResponseBody {
    /// Send the upstream bytes unchanged (already in OpenAI's shape).
    Unchanged(Bytes),
    /// Send this OpenAI-shaped object instead.
    Translated(Map<String, Value>),
}

pub struct ParsedResponse {
    pub body: ResponseBody,
    pub usage: TokenUsage,
}

/// What one upstream stream event means for the client.
pub enum StreamOut {
    /// Forward the event's bytes unchanged.
    Forward,
    /// Send this OpenAI `chat.completion.chunk` instead.
    Chunk(Map<String, Value>),
    /// The final usage, and the usage-only chunk (empty `choices`) that carries it to
    /// clients who asked for it.
    Usage {
        usage: TokenUsage,
        chunk: Map<String, Value>,
    },
    /// Nothing for the client.
    Skip,
    /// The stream is complete.
    Done,
}

/// One event of an upstream stream, whatever its framing.
pub struct UpstreamEvent<'a> {
    pub event: Option<&'a str>,
    pub data: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Chat,
    Embeddings,
}

pub trait Adapter: Send + Sync + 'static {
    /// Builds the native request. `body` is the client's validated JSON object.
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: Map<String, Value>,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError>;

    /// Reads a whole 2xx response.
    fn response(&self, op: Operation, body: Bytes) -> Result<ParsedResponse, Malformed>;

    /// Reads one stream event. `state` is per stream, owned by the adapter.
    fn stream_event(
        &self,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed>;

    /// Maps a non-2xx upstream answer to the client's error. Must not repeat the
    /// upstream body (it may quote the prompt).
    fn error(
        &self,
        target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        let _ = body;
        default_error(target.deployment.provider.as_str(), status, headers)
    }
}

/// The provider sent something that does not follow its own wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Per-stream scratch space of an adapter (ids and counters of translated streams).
#[derive(Debug, Default)]
pub struct StreamState {
    pub id: Option<String>,
    pub model: Option<String>,
    pub created: Option<i64>,
    pub usage: TokenUsage,
}

/// The status mapping shared by all providers: 429 keeps its `retry-after`, 5xx
/// becomes 502, other 4xx keep their status.
pub fn default_error(provider: &str, status: StatusCode, headers: &HeaderMap) -> ApiError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        return ApiError::rate_limited(provider, retry);
    }
    ApiError::upstream_status(provider, status)
}

/// The adapter of each provider; `None` where it is not built yet.
pub fn adapter_for(provider: ProviderKind) -> Option<&'static dyn Adapter> {
    match provider {
        ProviderKind::OpenAi | ProviderKind::DeepSeek | ProviderKind::Qwen => {
            Some(&openai::OpenAiCompatible)
        }
        ProviderKind::Azure
        | ProviderKind::Anthropic
        | ProviderKind::Gemini
        | ProviderKind::Vertex
        | ProviderKind::Bedrock => None,
    }
}
