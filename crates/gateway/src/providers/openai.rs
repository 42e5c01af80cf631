//! OpenAI's Chat Completions and Embeddings wire format, which DeepSeek and Qwen
//! (DashScope compatible mode) speak too. Bodies pass through; the gateway only
//! renames the model, asks for usage in streams, and drops OpenRouter's `usage`
//! switch, which OpenAI refuses.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use meridian_core::TokenUsage;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    Adapter, Malformed, Operation, ParsedResponse, ResponseBody, StreamOut, StreamState,
    UpstreamEvent, UpstreamRequest,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub struct OpenAiCompatible;

/// OpenAI's usage object, with the detail fields DeepSeek adds.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

impl From<OpenAiUsage> for TokenUsage {
    fn from(u: OpenAiUsage) -> Self {
        TokenUsage {
            prompt: u.prompt_tokens,
            completion: u.completion_tokens,
            cached: u
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .or(u.prompt_cache_hit_tokens),
            cache_write: None,
            cache_write_1h: None,
            reasoning: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        }
    }
}

#[derive(Deserialize)]
struct WithUsage {
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize)]
struct ChunkHead<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    usage: Option<OpenAiUsage>,
}

/// What a chunk's choice generated; borrowed, as most deltas hold no escapes.
#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    /// DeepSeek's and Qwen's reasoning text.
    #[serde(default, borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Vec<ToolCallDelta<'a>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
}

impl ChunkHead<'_> {
    /// Appends what the chunk generated to `out`.
    fn generated(&self, out: &mut String) {
        for delta in self.choices.iter().filter_map(|c| c.delta.as_ref()) {
            for text in [&delta.content, &delta.reasoning_content]
                .into_iter()
                .flatten()
            {
                out.push_str(text);
            }
            for call in &delta.tool_calls {
                if let Some(arguments) = call.function.as_ref().and_then(|f| f.arguments.as_ref()) {
                    out.push_str(arguments);
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
    param: Option<String>,
    code: Option<serde_json::Value>,
}

/// `stream_options` as sent (an object, or absent), asking for the usage chunk.
fn with_usage_asked(options: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let mut options = match options {
        Some(o) if o.starts_with('{') => {
            serde_json::from_str::<Map<String, Value>>(o).map_err(|_| ApiError::internal())?
        }
        _ => Map::new(),
    };
    options.insert("include_usage".into(), Value::Bool(true));
    serde_json::to_vec(&options).map_err(|_| ApiError::internal())
}

/// The client's body with the model renamed and OpenRouter's `usage` switch dropped;
/// a chat stream asks for its usage chunk (a Responses stream always ends with its
/// usage), and a Responses request is never stored (Meridian keeps no content, and
/// promises its callers that no one else does).
pub(crate) fn native_body(
    op: Operation,
    model: &str,
    body: &ClientBody,
    stream: bool,
) -> Result<Vec<u8>, ApiError> {
    let model = serde_json::to_vec(model).map_err(|_| ApiError::internal())?;
    let stream_options;
    let mut changes = vec![("model", Some(&model[..])), ("usage", None)];
    match op {
        Operation::Chat if stream => {
            stream_options = with_usage_asked(body.get("stream_options"))?;
            changes.push(("stream_options", Some(&stream_options)));
        }
        Operation::Responses => changes.push(("store", Some(b"false"))),
        Operation::Chat | Operation::Embeddings => {}
        // `crate::messages` sends this format a chat request instead.
        Operation::Messages | Operation::CountTokens => return Err(ApiError::internal()),
    }
    Ok(body.with_changes(&changes))
}

impl Adapter for OpenAiCompatible {
    fn error(
        &self,
        target: &Target,
        status: http::StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        let provider = target.deployment.provider.as_str();
        if matches!(status.as_u16(), 401 | 403 | 429) || status.is_server_error() {
            return super::default_error(provider, status, headers);
        }
        let detail = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .map(|b| b.error);
        let code = detail
            .as_ref()
            .and_then(|d| d.code.as_ref())
            .and_then(|c| c.as_str().map(str::to_string));
        ApiError::upstream_refused(
            provider,
            status,
            detail.as_ref().and_then(|d| d.param.as_deref()),
            code.as_deref(),
            detail.as_ref().and_then(|d| d.message.as_deref()),
        )
    }

    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        let body = native_body(op, &target.upstream_model, body, stream)?;
        let path = match op {
            Operation::Chat => "/chat/completions",
            Operation::Embeddings => "/embeddings",
            Operation::Responses => "/responses",
            Operation::Messages | Operation::CountTokens => return Err(ApiError::internal()),
        };
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &target.deployment.credential {
            let mut value = HeaderValue::try_from(format!("Bearer {}", key.expose()))
                .map_err(|_| ApiError::internal())?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}{path}", target.deployment.base_url),
            headers,
            body: Bytes::from(body),
        })
    }

    fn response(
        &self,
        _op: Operation,
        _target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        let parsed: WithUsage = serde_json::from_slice(&body).map_err(|_| Malformed)?;
        Ok(ParsedResponse {
            usage: parsed.usage.map(Into::into).unwrap_or_default(),
            body: ResponseBody::Unchanged(body),
        })
    }

    fn stream_event(
        &self,
        _target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        if event.data == "[DONE]" {
            return Ok(StreamOut::Done);
        }
        let head: ChunkHead = serde_json::from_str(event.data).map_err(|_| Malformed)?;
        head.generated(&mut state.generated);
        match head.usage {
            Some(usage) if head.choices.is_empty() => {
                let chunk = serde_json::from_str(event.data).map_err(|_| Malformed)?;
                Ok(StreamOut::Usage {
                    usage: usage.into(),
                    chunk,
                })
            }
            _ => Ok(StreamOut::Forward),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepseek_cache_hits_count_as_cached() {
        let u: OpenAiUsage = serde_json::from_str(
            r#"{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}"#,
        )
        .unwrap();
        let t: TokenUsage = u.into();
        assert_eq!((t.prompt, t.cached, t.reasoning), (100, Some(64), None));
    }

    #[test]
    fn openai_details_are_read() {
        let u: OpenAiUsage = serde_json::from_str(
            r#"{"prompt_tokens":10,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":12}}"#,
        )
        .unwrap();
        let t: TokenUsage = u.into();
        assert_eq!((t.cached, t.reasoning), (Some(0), Some(12)));
    }
}
