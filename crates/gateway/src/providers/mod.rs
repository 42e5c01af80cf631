//! The provider seam. Each provider is one file implementing [`Adapter`], whose
//! methods are pure: build the upstream request from the client's, read a whole
//! response, read one stream event. HTTP, failover, framing and timing live in
//! [`crate::proxy`]. Providers are registered in [`adapter_for`].

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use meridian_core::TokenUsage;
use meridian_core::config::{Deployment, ProviderKind};
use serde_json::{Map, Value};

use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub mod anthropic;
pub mod azure;
pub mod bedrock;
mod chat;
mod common;
#[cfg(test)]
pub(crate) use common::testing;
#[cfg(test)]
mod fuzz;
pub mod gemini;
pub mod openai;
pub mod vertex_claude;

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

impl ResponseBody {
    /// The answer as an OpenAI-shaped object (the bytes read, when unchanged), for an
    /// ingress API that writes it back in its own shape.
    pub fn into_object(self) -> Result<Map<String, Value>, Malformed> {
        match self {
            ResponseBody::Translated(object) => Ok(object),
            ResponseBody::Unchanged(bytes) => serde_json::from_slice(&bytes).map_err(|_| Malformed),
        }
    }
}

/// The first choice of a chat completion.
pub fn first_choice(completion: &Map<String, Value>) -> Result<&Value, Malformed> {
    completion
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or(Malformed)
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
    /// The provider reported an error inside the stream (after the client got 200).
    Error(ApiError),
    /// Several of the above, in order: one native event can finish a chunk, report the
    /// usage and end the stream at once.
    Many(Vec<StreamOut>),
}

/// How a provider frames its stream; the decoding lives once, in shared code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events ([`crate::sse`]).
    Sse,
    /// AWS's binary event stream ([`crate::eventstream`]).
    AwsEventStream,
}

/// One event of an upstream stream, whatever its framing: the SSE `event:` name and
/// `data:`, or an AWS event-stream message's type (`:event-type`, or `:exception-type`
/// for exceptions, which the API models as members of the same union) and payload.
pub struct UpstreamEvent<'a> {
    pub event: Option<&'a str>,
    pub data: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Chat,
    Embeddings,
    /// OpenAI's Responses API, to the providers that serve it natively (OpenAI,
    /// Azure): their adapters build the request; the answer is read by
    /// [`crate::responses`], which sends every other provider a chat request instead.
    Responses,
    /// Anthropic's Messages API, to the providers that serve it natively (Anthropic):
    /// read by [`crate::messages`], which sends every other provider a chat request.
    Messages,
    /// Anthropic's `POST /v1/messages/count_tokens` (never metered as usage).
    CountTokens,
}

pub trait Adapter: Send + Sync + 'static {
    /// Builds the native request. `body` is the client's validated JSON object.
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError>;

    /// Reads a whole 2xx response from `target`.
    fn response(
        &self,
        op: Operation,
        target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed>;

    /// Reads one stream event from `target`. `state` is per stream, owned by the
    /// adapter.
    fn stream_event(
        &self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed>;

    /// The framing of this provider's streams.
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// The upstream body ended. `None` means it was cut off: the default, for
    /// providers whose streams end with an event of their own.
    fn stream_end(&self, state: &mut StreamState) -> Option<StreamOut> {
        let _ = state;
        None
    }

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
    /// Whether the provider reported any usage yet.
    pub usage_seen: bool,
    /// Tool calls announced so far, per choice (OpenAI numbers them per choice).
    pub tool_calls: Vec<u32>,
    /// What each content block of the streamed message is, by the provider's index.
    pub blocks: Vec<(u64, Block)>,
    /// Whether the provider said why generation stopped.
    pub finished: bool,
    /// What the model generated so far (text, reasoning, tool arguments), held in
    /// memory only while the stream lives: when the stream ends before the provider's
    /// usage, the completion is billed by counting it ([`crate::tokens`]).
    pub generated: String,
}

/// A content block of a translated stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Text,
    /// A tool call, with its OpenAI `index`.
    ToolCall(u32),
    /// Content the client does not see (thinking).
    Hidden,
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

/// The adapter of a deployment, by its provider. Vertex AI publishes Google's
/// models (Gemini) and Anthropic's (Claude) under different APIs, so a Vertex
/// deployment serves one publisher's models: a mix is refused, naming the deployment.
pub fn adapter_for(d: &Deployment) -> Result<&'static dyn Adapter, String> {
    Ok(match d.provider {
        ProviderKind::OpenAi | ProviderKind::DeepSeek | ProviderKind::Qwen => {
            &openai::OpenAiCompatible
        }
        ProviderKind::Azure => &azure::Azure,
        ProviderKind::Anthropic => &anthropic::Anthropic,
        ProviderKind::Gemini => &gemini::Gemini::API,
        ProviderKind::Bedrock => &bedrock::Bedrock,
        ProviderKind::Vertex => {
            let claude = d
                .models
                .iter()
                .filter(|m| vertex_claude::is_claude(&d.upstream_model(m)))
                .count();
            match claude {
                0 => &gemini::Gemini::VERTEX,
                n if n == d.models.len() => &vertex_claude::VertexClaude,
                _ => {
                    return Err(format!(
                        "deployment `{}`: a Vertex deployment serves either Claude models (publishers/anthropic) or Google's, not both; split it in two",
                        d.id
                    ));
                }
            }
        }
    })
}
