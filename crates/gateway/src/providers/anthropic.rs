//! Anthropic's Messages API (`POST /v1/messages`, `x-api-key`, `anthropic-version`),
//! translated to and from OpenAI's Chat Completions.
//!
//! Request: system and developer messages become the top-level `system`; user, assistant
//! and tool messages become alternating `user`/`assistant` turns of content blocks
//! (`text`, `image` from a base64 `data:` URL or an `http(s)` URL, `tool_use`,
//! `tool_result`); `max_tokens` is required, so the model's catalog maximum (else 4096)
//! is sent when the client gave none; `stop` → `stop_sequences`; tools → `tools` with
//! `input_schema`; `tool_choice` → `auto`/`any`/`tool`/`none`, with
//! `parallel_tool_calls: false` as `disable_parallel_tool_use`; a `json_schema`
//! `response_format` → `output_config.format`; `user` → `metadata.user_id`. Refused
//! (400): `n` > 1, `seed`, penalties, `json_object` (no schema-less JSON mode),
//! `temperature` above 1.
//!
//! The Messages API itself (`/v1/messages` and `/v1/messages/count_tokens` of
//! [`crate::messages`]) passes through: the client's body with the model renamed
//! (and OpenRouter's `usage` switch dropped), the answer and its events as sent, read
//! only for their usage ([`passthrough_event`]).
//!
//! Response and stream (`message_start` … `message_stop`): text and `tool_use` blocks,
//! `stop_reason` mapped to `finish_reason`, usage with OpenAI semantics: prompt =
//! `input_tokens` + `cache_read_input_tokens` + `cache_creation_input_tokens`. Thinking
//! blocks are not shown. Errors keep Anthropic's type (`overloaded_error` is a
//! retryable 503), never its message.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use meridian_core::TokenUsage;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::chat::{Capabilities, Chat, Part, ResponseFormat, ToolChoice, Turn};
use super::common::{self, arguments_text};
use super::{
    Adapter, Block, Malformed, Operation, ParsedResponse, ResponseBody, StreamOut, StreamState,
    UpstreamEvent, UpstreamRequest,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub struct Anthropic;

const PROVIDER: &str = "anthropic";
const API_VERSION: &str = "2023-06-01";
/// `max_tokens` when neither the client nor the catalog gives one.
const DEFAULT_MAX_TOKENS: u64 = 4096;

const CAPS: Capabilities = Capabilities {
    provider: PROVIDER,
    seed: false,
    penalties: false,
    n: false,
    json_object: false,
    image_urls: true,
    tool_choice_none: true,
    serial_tool_calls: true,
    max_temperature: 1.0,
};

/// The native request body.
fn native(chat: Chat, model: &str, default_max_tokens: u64, stream: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert(
        "max_tokens".into(),
        chat.max_tokens.unwrap_or(default_max_tokens).into(),
    );
    if !chat.system.is_empty() {
        body.insert("system".into(), chat.system.join("\n\n").into());
    }
    body.insert("messages".into(), messages(chat.turns).into());
    if !chat.stop.is_empty() {
        body.insert("stop_sequences".into(), chat.stop.into());
    }
    if let Some(t) = chat.temperature {
        body.insert("temperature".into(), t.into());
    }
    if let Some(p) = chat.top_p {
        body.insert("top_p".into(), p.into());
    }
    if !chat.tools.is_empty() {
        let tools: Vec<Value> = chat
            .tools
            .into_iter()
            .map(|t| {
                let mut tool = json!({"name": t.name, "input_schema": t.parameters});
                if let Some(d) = t.description {
                    tool["description"] = d.into();
                }
                if let Some(strict) = t.strict {
                    tool["strict"] = strict.into();
                }
                tool
            })
            .collect();
        body.insert("tools".into(), tools.into());
    }
    let serial = chat.parallel_tool_calls == Some(false);
    let choice = match chat.tool_choice {
        Some(ToolChoice::None) => Some(json!({"type": "none"})),
        Some(ToolChoice::Required) => Some(json!({"type": "any"})),
        Some(ToolChoice::Named(name)) => Some(json!({"type": "tool", "name": name})),
        Some(ToolChoice::Auto) => Some(json!({"type": "auto"})),
        None if serial => Some(json!({"type": "auto"})),
        None => None,
    };
    if let Some(mut choice) = choice {
        if serial && choice["type"] != "none" {
            choice["disable_parallel_tool_use"] = true.into();
        }
        body.insert("tool_choice".into(), choice);
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = chat.response_format {
        body.insert(
            "output_config".into(),
            json!({"format": {"type": "json_schema", "schema": schema}}),
        );
    }
    if let Some(user) = chat.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    if stream {
        body.insert("stream".into(), true.into());
    }
    Value::Object(body)
}

fn messages(turns: Vec<Turn>) -> Vec<Value> {
    let mut out = Vec::with_capacity(turns.len());
    for turn in turns {
        let (role, blocks) = match turn {
            Turn::User(parts) => ("user", parts.into_iter().filter_map(part).collect()),
            Turn::Assistant { text, tool_calls } => {
                let mut blocks: Vec<Value> = text
                    .into_iter()
                    .map(|t| json!({"type": "text", "text": t}))
                    .collect();
                blocks.extend(tool_calls.into_iter().map(|c| {
                    json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments})
                }));
                ("assistant", blocks)
            }
            Turn::ToolResult {
                call_id, content, ..
            } => (
                "user",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": content})],
            ),
        };
        common::push_merged(&mut out, role, "content", blocks);
    }
    out
}

fn part(part: Part) -> Option<Value> {
    Some(match part {
        // Anthropic refuses empty text blocks.
        Part::Text(t) if t.is_empty() => return None,
        Part::Text(t) => json!({"type": "text", "text": t}),
        Part::Image { media_type, data } => json!({"type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data}}),
        Part::ImageUrl(url) => json!({"type": "image", "source": {"type": "url", "url": url}}),
    })
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    /// The cache writes by lifetime (`cache_creation_input_tokens` is their sum).
    cache_creation: Option<CacheCreation>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
struct CacheCreation {
    ephemeral_1h_input_tokens: Option<u64>,
}

impl Usage {
    /// OpenAI semantics: cache reads and writes are parts of the prompt; the 1-hour
    /// writes are a part of the writes.
    fn tokens(self) -> TokenUsage {
        let cached = self.cache_read_input_tokens;
        let cache_write = self.cache_creation_input_tokens;
        TokenUsage {
            prompt: self.input_tokens.unwrap_or(0) + cached.unwrap_or(0) + cache_write.unwrap_or(0),
            completion: self.output_tokens.unwrap_or(0),
            cached,
            cache_write,
            cache_write_1h: self
                .cache_creation
                .and_then(|c| c.ephemeral_1h_input_tokens),
            reasoning: None,
        }
    }
}

#[derive(Deserialize)]
struct Message {
    id: String,
    model: String,
    #[serde(default)]
    content: Vec<Content>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Content {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    #[serde(other)]
    Other,
}

fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// The events of a stream, as far as the translation needs them.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Content,
    },
    ContentBlockDelta {
        index: u64,
        delta: ContentDelta,
    },
    MessageDelta {
        delta: StopDelta,
        #[serde(default)]
        usage: Usage,
    },
    MessageStop,
    Error {
        error: ErrorDetail,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartMessage {
    id: String,
    model: String,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    /// Extended thinking: billed as output, not shown to an OpenAI client.
    ThinkingDelta {
        thinking: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StopDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: String,
}

/// Maps Anthropic's error type (`overloaded_error`, `rate_limit_error`, …).
fn error_of(kind: &str, status: StatusCode, headers: &HeaderMap) -> ApiError {
    error_from(PROVIDER, kind, status, headers)
}

/// [`error_of`], for `provider` (Claude served by another provider).
fn error_from(provider: &str, kind: &str, status: StatusCode, headers: &HeaderMap) -> ApiError {
    let status = match kind {
        "overloaded_error" => StatusCode::SERVICE_UNAVAILABLE,
        "rate_limit_error" => StatusCode::TOO_MANY_REQUESTS,
        "api_error" if status.is_success() => StatusCode::INTERNAL_SERVER_ERROR,
        _ => status,
    };
    common::refusal(provider, status, headers, Some(kind), None)
}

/// An error answer in Anthropic's shape (`{"type": "error", "error": {"type"}}`),
/// mapped for `provider`; `None` when the body is not in that shape.
pub(crate) fn error_in_shape(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<ApiError> {
    let body: ErrorBody = serde_json::from_slice(body).ok()?;
    Some(error_from(provider, &body.error.kind, status, headers))
}

/// The usage `message_start` reports (the prompt, and the first output token).
fn started(state: &mut StreamState, usage: Usage) {
    state.usage = usage.tokens();
    state.usage_seen = true;
}

/// The usage `message_delta` reports. Its counts are cumulative; input counts are
/// repeated by newer versions, and cache counts kept from the start where they are
/// not.
fn finished(state: &mut StreamState, usage: Usage) {
    if usage.input_tokens.is_some() {
        let start = state.usage;
        state.usage = Usage {
            cache_read_input_tokens: usage.cache_read_input_tokens.or(start.cached),
            cache_creation_input_tokens: usage.cache_creation_input_tokens.or(start.cache_write),
            cache_creation: usage.cache_creation.or(Some(CacheCreation {
                ephemeral_1h_input_tokens: start.cache_write_1h,
            })),
            ..usage
        }
        .tokens();
    } else if let Some(output) = usage.output_tokens {
        state.usage.completion = output;
    }
    state.usage_seen = true;
    state.finished = true;
}

/// A whole message, as far as metering reads it.
#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Usage,
}

/// A whole message that passes through, read for its usage.
pub(crate) fn passthrough_response(body: Bytes) -> Result<ParsedResponse, Malformed> {
    let message: WithUsage = serde_json::from_slice(&body).map_err(|_| Malformed)?;
    Ok(ParsedResponse {
        usage: message.usage.tokens(),
        body: ResponseBody::Unchanged(body),
    })
}

/// `count_tokens`' answer, read to check its shape.
#[derive(Deserialize)]
struct Counted {
    #[serde(rename = "input_tokens")]
    _input_tokens: u64,
}

/// The client's Messages body for Anthropic: the model renamed, OpenRouter's `usage`
/// switch dropped, every other member as sent.
fn passthrough_body(target: &Target, body: &ClientBody) -> Result<Bytes, ApiError> {
    let model = serde_json::to_vec(&target.upstream_model).map_err(|_| ApiError::internal())?;
    Ok(body
        .with_changes(&[("model", Some(&model)), ("usage", None)])
        .into())
}

/// Reads one event of a Messages stream that passes through: every event is
/// forwarded as sent, except `message_delta`, which carries the final usage (metered
/// before it is passed on), and an `error`, which Meridian words itself (the
/// provider's message may quote the prompt). What was generated is kept to bill a
/// stream cut short.
pub(crate) fn passthrough_event(
    state: &mut StreamState,
    event: UpstreamEvent<'_>,
) -> Result<StreamOut, Malformed> {
    let parsed: Event = serde_json::from_str(event.data).map_err(|_| Malformed)?;
    Ok(match parsed {
        Event::MessageStart { message } => {
            started(state, message.usage);
            StreamOut::Forward
        }
        Event::ContentBlockStart {
            content_block: Content::Text { text },
            ..
        } => {
            state.generated.push_str(&text);
            StreamOut::Forward
        }
        Event::ContentBlockDelta { delta, .. } => {
            if let ContentDelta::TextDelta { text: t }
            | ContentDelta::InputJsonDelta { partial_json: t }
            | ContentDelta::ThinkingDelta { thinking: t } = delta
            {
                state.generated.push_str(&t);
            }
            StreamOut::Forward
        }
        Event::MessageDelta { usage, .. } => {
            finished(state, usage);
            StreamOut::Usage {
                usage: state.usage,
                chunk: serde_json::from_str(event.data).map_err(|_| Malformed)?,
            }
        }
        Event::MessageStop => StreamOut::Many(vec![StreamOut::Forward, StreamOut::Done]),
        Event::Error { error } => {
            StreamOut::Error(error_of(&error.kind, StatusCode::OK, &HeaderMap::new()))
        }
        Event::ContentBlockStart { .. } | Event::Other => StreamOut::Forward,
    })
}

impl Adapter for Anthropic {
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        let (path, body) = match op {
            Operation::Messages => ("/v1/messages", passthrough_body(target, body)?),
            Operation::CountTokens => {
                ("/v1/messages/count_tokens", passthrough_body(target, body)?)
            }
            _ => {
                common::chat_only(op, PROVIDER)?;
                let chat = Chat::parse(body.to_map()?, &CAPS)?;
                let default_max = target
                    .price
                    .max_output_tokens
                    .and_then(|m| u64::try_from(m).ok())
                    .unwrap_or(DEFAULT_MAX_TOKENS);
                let native = native(chat, &target.upstream_model, default_max, stream);
                ("/v1/messages", common::json_body(&native)?)
            }
        };
        let key = target.deployment.credential.as_ref();
        let mut headers = common::json_headers(key.map(|k| ("x-api-key", k.expose().to_string())))?;
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        Ok(UpstreamRequest {
            method: Method::POST,
            url: format!("{}{path}", target.deployment.base_url),
            headers,
            body,
        })
    }

    fn response(
        &self,
        op: Operation,
        _target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        match op {
            Operation::Messages => return passthrough_response(body),
            Operation::CountTokens => {
                serde_json::from_slice::<Counted>(&body).map_err(|_| Malformed)?;
                return Ok(ParsedResponse {
                    usage: TokenUsage::default(),
                    body: ResponseBody::Unchanged(body),
                });
            }
            Operation::Chat | Operation::Embeddings | Operation::Responses => {}
        }
        let message: Message = serde_json::from_slice(&body).map_err(|_| Malformed)?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in message.content {
            match block {
                Content::Text { text: t } => text.push_str(&t),
                Content::ToolUse { id, name, input } => {
                    tool_calls.push(common::tool_call(&id, &name, arguments_text(&input)))
                }
                Content::Other => {}
            }
        }
        let usage = message.usage.tokens();
        let finish = finish_reason(message.stop_reason.as_deref());
        let choice = common::choice(0, text, tool_calls, finish);
        Ok(ParsedResponse {
            body: ResponseBody::Translated(common::completion(
                message.id,
                &message.model,
                vec![choice],
                &usage,
            )),
            usage,
        })
    }

    fn stream_event(
        &self,
        _target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        let event: Event = serde_json::from_str(event.data).map_err(|_| Malformed)?;
        Ok(match event {
            Event::MessageStart { message } => {
                common::start(state, Some(&message.id), Some(&message.model));
                started(state, message.usage);
                common::chunk(state, 0, json!({"role": "assistant", "content": ""}), None)
            }
            Event::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Content::Text { text } if text.is_empty() => StreamOut::Skip,
                Content::Text { text } => {
                    state.generated.push_str(&text);
                    common::chunk(state, 0, json!({"content": text}), None)
                }
                Content::ToolUse { id, name, .. } => {
                    let (tool, out) = common::tool_call_start(state, 0, &id, &name, String::new());
                    state.blocks.push((index, Block::ToolCall(tool)));
                    out
                }
                Content::Other => {
                    state.blocks.push((index, Block::Hidden));
                    StreamOut::Skip
                }
            },
            Event::ContentBlockDelta { index, delta } => match (common::block(state, index), delta)
            {
                (Block::Text, ContentDelta::TextDelta { text }) => {
                    state.generated.push_str(&text);
                    common::chunk(state, 0, json!({"content": text}), None)
                }
                (Block::ToolCall(tool), ContentDelta::InputJsonDelta { partial_json }) => {
                    state.generated.push_str(&partial_json);
                    common::tool_call_delta(state, tool, &partial_json)
                }
                (_, ContentDelta::ThinkingDelta { thinking }) => {
                    state.generated.push_str(&thinking);
                    StreamOut::Skip
                }
                _ => StreamOut::Skip,
            },
            Event::MessageDelta { delta, usage } => {
                finished(state, usage);
                let finish = finish_reason(delta.stop_reason.as_deref());
                common::chunk(state, 0, json!({}), Some(finish))
            }
            Event::MessageStop if state.usage_seen => {
                StreamOut::Many(vec![common::usage_out(state), StreamOut::Done])
            }
            Event::MessageStop => StreamOut::Done,
            Event::Error { error } => {
                StreamOut::Error(error_of(&error.kind, StatusCode::OK, &HeaderMap::new()))
            }
            Event::Other => StreamOut::Skip,
        })
    }

    fn error(
        &self,
        _target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        error_in_shape(PROVIDER, status, headers, body)
            .unwrap_or_else(|| common::refusal(PROVIDER, status, headers, None, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::common::testing::{body, drive, merged, target};
    use meridian_core::config::ProviderKind;

    fn translate(client: Value) -> Value {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let req = Anthropic
            .request(Operation::Chat, &t, &body(client), false)
            .unwrap();
        assert_eq!(req.url, "http://upstream.test/v1/messages");
        assert_eq!(req.headers["anthropic-version"], "2023-06-01");
        assert_eq!(req.headers["x-api-key"], "upstream-key");
        serde_json::from_slice(&req.body).unwrap()
    }

    /// The Messages API's "Hello, world" example, and the catalog's max output.
    #[test]
    fn golden_basic_request() {
        let native = translate(json!({"model": "anthropic/claude-sonnet-4-5", "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hello, world"}]}));
        assert_eq!(
            native,
            json!({"model": "claude-sonnet-4-5", "max_tokens": 64000, "system": "You are terse.",
                   "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello, world"}]}]})
        );
    }

    /// The tool-use guide's weather round trip: tools, forced choice, tool_use and
    /// tool_result blocks, consecutive tool results merged into one user turn.
    #[test]
    fn golden_tool_round_trip_request() {
        let native = translate(json!({"model": "m", "max_completion_tokens": 1024,
            "temperature": 0.5, "stop": ["END"], "user": "u-1", "parallel_tool_calls": false,
            "tools": [{"type": "function", "function": {"name": "get_weather",
                "description": "Get the current weather in a given location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in SF and NYC?"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}]},
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"San Francisco, CA\"}"}},
                    {"id": "toolu_02", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"New York, NY\"}"}}]},
                {"role": "tool", "tool_call_id": "toolu_01", "content": "15 degrees"},
                {"role": "tool", "tool_call_id": "toolu_02", "content": [{"type": "text", "text": "20 degrees"}]}]}));
        assert_eq!(
            native,
            json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "temperature": 0.5,
                "stop_sequences": ["END"], "metadata": {"user_id": "u-1"},
                "tools": [{"name": "get_weather", "description": "Get the current weather in a given location",
                    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}],
                "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true},
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Weather in SF and NYC?"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}}]},
                    {"role": "assistant", "content": [{"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "San Francisco, CA"}},
                        {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"location": "New York, NY"}}]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "15 degrees"},
                        {"type": "tool_result", "tool_use_id": "toolu_02", "content": "20 degrees"}]}]})
        );
    }

    /// The structured-outputs guide: `output_config.format`.
    #[test]
    fn golden_json_schema_request() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}},
            "required": ["name"], "additionalProperties": false});
        let native = translate(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "contact", "strict": true, "schema": schema}}}),
        );
        assert_eq!(
            native["output_config"],
            json!({"format": {"type": "json_schema", "schema": schema}})
        );
    }

    #[test]
    fn what_anthropic_lacks_is_refused() {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        for extra in [
            json!({"n": 2}),
            json!({"seed": 1}),
            json!({"response_format": {"type": "json_object"}}),
            json!({"temperature": 1.2}),
        ] {
            let b = merged(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
                extra,
            );
            let err = Anthropic
                .request(Operation::Chat, &t, &b, false)
                .unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{}", err.message);
        }
        let err = Anthropic
            .request(
                Operation::Embeddings,
                &t,
                &body(json!({"input": "x"})),
                false,
            )
            .unwrap_err();
        assert_eq!(err.code, Some("unsupported_parameter"));
    }

    /// The tool-use guide's response, and usage with cache reads and writes.
    #[test]
    fn golden_tool_use_response() {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let parsed = Anthropic
            .response(
                Operation::Chat,
                &t,
                Bytes::from_static(
                    br#"{"id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929", "stop_reason": "tool_use", "stop_sequence": null,
                    "content": [{"type": "text", "text": "I'll check the current weather in San Francisco for you."},
                        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
                         "input": {"location": "San Francisco, CA", "unit": "celsius"}}],
                    "usage": {"input_tokens": 100, "output_tokens": 40, "cache_creation_input_tokens": 1000,
                              "cache_read_input_tokens": 2000, "service_tier": "standard"}}"#,
                ),
            )
            .unwrap();
        assert_eq!(
            parsed.usage,
            TokenUsage {
                prompt: 3100,
                completion: 40,
                cached: Some(2000),
                cache_write: Some(1000),
                cache_write_1h: None,
                reasoning: None
            }
        );
        let ResponseBody::Translated(mut object) = parsed.body else {
            panic!("translated")
        };
        assert!(object.remove("created").unwrap().is_i64());
        assert_eq!(
            Value::Object(object),
            json!({"id": "msg_01Aq9w938a90dw8q", "object": "chat.completion",
                "model": "claude-sonnet-4-5-20250929",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null,
                    "message": {"role": "assistant", "refusal": null,
                        "content": "I'll check the current weather in San Francisco for you.",
                        "tool_calls": [{"id": "toolu_01A09q90qw90lq917835lq9", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}"}}]}}],
                "usage": {"prompt_tokens": 3100, "completion_tokens": 40, "total_tokens": 3140,
                    "prompt_tokens_details": {"cached_tokens": 2000, "cache_write_tokens": 1000},
                    "completion_tokens_details": {}}})
        );
    }

    /// The streaming guide's example, with a tool call and a thinking block.
    #[test]
    fn golden_stream() {
        let events = [
            r#"{"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 1}}}"#,
            r#"{"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}"#,
            r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}"#,
            r#"{"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}"#,
            r#"{"type": "ping"}"#,
            r#"{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hello"}}"#,
            r#"{"type": "content_block_stop", "index": 1}"#,
            r#"{"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}}"#,
            r#"{"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"location\":"}}"#,
            r#"{"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": " \"SF\"}"}}"#,
            r#"{"type": "content_block_stop", "index": 2}"#,
            r#"{"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 15}}"#,
            r#"{"type": "message_stop"}"#,
        ];
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let (chunks, usage, done) = drive(&t, &events);
        assert!(done);
        let deltas: Vec<Value> = chunks
            .iter()
            .map(|c| {
                assert_eq!(c["id"], "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
                assert_eq!(c["object"], "chat.completion.chunk");
                json!([c["choices"][0]["delta"], c["choices"][0]["finish_reason"]])
            })
            .collect();
        assert_eq!(
            deltas,
            vec![
                json!([{"role": "assistant", "content": ""}, null]),
                json!([{"content": "Hello"}, null]),
                json!([{"tool_calls": [{"index": 0, "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, null]),
                json!([{"tool_calls": [{"index": 0, "function": {"arguments": "{\"location\":"}}]}, null]),
                json!([{"tool_calls": [{"index": 0, "function": {"arguments": " \"SF\"}"}}]}, null]),
                json!([{}, "tool_calls"]),
            ]
        );
        let (usage, chunk) = usage.unwrap();
        assert_eq!(
            usage,
            TokenUsage {
                prompt: 25,
                completion: 15,
                cached: Some(0),
                cache_write: Some(0),
                cache_write_1h: None,
                reasoning: None
            }
        );
        assert_eq!(chunk["choices"], json!([]));
        assert_eq!(chunk["usage"]["total_tokens"], 40);
    }

    #[test]
    fn overloaded_is_a_retryable_503_that_names_the_provider() {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"CANARY"}}"#;
        let err = Anthropic.error(
            &t,
            StatusCode::from_u16(529).unwrap(),
            &HeaderMap::new(),
            body,
        );
        assert_eq!(err.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(err.message.contains("anthropic") && !err.message.contains("CANARY"));
        let body =
            br#"{"type":"error","error":{"type":"invalid_request_error","message":"CANARY"}}"#;
        let err = Anthropic.error(&t, StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(
            err.message.contains("invalid_request_error"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("CANARY"));
        let mut state = StreamState::default();
        let out = Anthropic
            .stream_event(
                &t,
                &mut state,
                UpstreamEvent {
                    event: Some("error"),
                    data: r#"{"type": "error", "error": {"type": "overloaded_error", "message": "CANARY"}}"#,
                },
            )
            .unwrap();
        assert!(matches!(out, StreamOut::Error(e) if e.status == StatusCode::SERVICE_UNAVAILABLE));
    }
}
