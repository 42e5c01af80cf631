//! AWS Bedrock's Converse and ConverseStream (`POST {endpoint}/model/{modelId}/converse`
//! and `/converse-stream`), signed with SigV4 (`aws-sigv4`) for the deployment's
//! region, translated to and from OpenAI's Chat Completions. The stream's binary AWS
//! event-stream framing is decoded in [`crate::eventstream`]; this file sees its events.
//!
//! InvokeModel (`/model/{modelId}/invoke` and `/invoke-with-response-stream`) carries
//! the Messages API of [`crate::messages`] to Anthropic's models: the client's body
//! with `anthropic_version: bedrock-2023-05-31` instead of `model` and `stream`; the
//! answer is Anthropic's, and the stream's Anthropic events come base64 in `chunk`
//! events ([`invoke_event`]).
//!
//! Credentials: the deployment's secret is `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`,
//! combined from the AWS variables by [`meridian_core::config::credential`]; without
//! one the request goes unsigned (and AWS refuses it).
//!
//! Request: system and developer messages → `system`; user, assistant and tool
//! messages → alternating turns of `text`, `image` (base64 `data:` PNG, JPEG, GIF or
//! WebP), `toolUse` and `toolResult` blocks; tools → `toolConfig` (`toolSpec` with
//! `inputSchema.json` and `strict`), `tool_choice` → `auto`/`any`/`tool`; a
//! `json_schema` `response_format` → `outputConfig.textFormat`; `max_tokens`,
//! `temperature`, `top_p`, `stop` → `inferenceConfig`. Refused (400): `n` > 1, `seed`,
//! penalties, `json_object`, image URLs, `tool_choice: "none"`,
//! `parallel_tool_calls: false` unless `tool_choice` names a function (one forced call,
//! when it means nothing). `user` has no Converse counterpart and changes nothing, so
//! it is not sent.
//!
//! Response and stream (`messageStart` … `messageStop`, `metadata`): text and `toolUse`
//! blocks, `stopReason` mapped to `finish_reason`, the public model id as `model`
//! (Converse names none), usage with OpenAI semantics: prompt =
//! `inputTokens` + `cacheReadInputTokens` + `cacheWriteInputTokens`. Reasoning content is
//! not shown. Errors keep the exception's name (`ThrottlingException` is a rate limit),
//! never its message.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use meridian_core::{Secret, TokenUsage};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::chat::{Capabilities, Chat, Part, ResponseFormat, ToolChoice, Turn};
use super::common;
use super::{
    Adapter, Block, Framing, Malformed, Operation, ParsedResponse, ResponseBody, StreamOut,
    StreamState, UpstreamEvent, UpstreamRequest,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub struct Bedrock;

const PROVIDER: &str = "bedrock";
/// The SigV4 signing name of Bedrock's runtime API.
const SIGNING_NAME: &str = "bedrock";

const CAPS: Capabilities = Capabilities {
    provider: PROVIDER,
    seed: false,
    penalties: false,
    n: false,
    json_object: false,
    image_urls: false,
    tool_choice_none: false,
    serial_tool_calls: false,
    max_temperature: 2.0,
};

/// An AWS key pair, with the session token of temporary credentials.
#[derive(Debug, PartialEq)]
struct AwsKeys {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl AwsKeys {
    /// Reads `ID:SECRET[:TOKEN]` (none of the three ever contains `:`).
    fn from_secret(secret: &Secret) -> Option<AwsKeys> {
        let mut parts = secret.expose().splitn(3, ':');
        let (id, key, token) = (parts.next()?, parts.next()?, parts.next());
        Some(AwsKeys {
            access_key_id: id.to_string(),
            secret_access_key: key.to_string(),
            session_token: token.map(str::to_string),
        })
    }
}

/// Adds the SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`).
/// The body is signed by its SHA-256, so the signer never sees it.
fn sign_request(
    headers: &mut HeaderMap,
    url: &str,
    body: &[u8],
    region: &str,
    keys: &AwsKeys,
    time: SystemTime,
) -> Result<(), ApiError> {
    let identity: Identity = Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        keys.session_token.clone(),
        None,
        "meridian",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| ApiError::internal())?
        .into();
    let signed = {
        let pairs = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let hash = hex::encode(Sha256::digest(body));
        let request = SignableRequest::new("POST", url, pairs, SignableBody::Precomputed(hash))
            .map_err(|_| ApiError::internal())?;
        sign(request, &params).map_err(|_| ApiError::internal())?
    };
    let (instructions, _signature) = signed.into_parts();
    let (added, _query) = instructions.into_parts();
    for header in added {
        let name =
            HeaderName::from_bytes(header.name().as_bytes()).map_err(|_| ApiError::internal())?;
        let mut value = HeaderValue::from_str(header.value()).map_err(|_| ApiError::internal())?;
        value.set_sensitive(header.sensitive() || name == http::header::AUTHORIZATION);
        headers.insert(name, value);
    }
    Ok(())
}

/// Percent-encodes a model id as one path segment (`:` → `%3A`, `/` of an ARN → `%2F`),
/// as the AWS SDKs send it; SigV4 then signs it encoded once more.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The native request body.
fn native(chat: Chat) -> Result<Value, ApiError> {
    let mut body = Map::new();
    body.insert("messages".into(), messages(chat.turns)?.into());
    if !chat.system.is_empty() {
        let system: Vec<Value> = chat
            .system
            .into_iter()
            .map(|t| json!({"text": t}))
            .collect();
        body.insert("system".into(), system.into());
    }
    let mut inference = Map::new();
    if let Some(m) = chat.max_tokens {
        inference.insert("maxTokens".into(), m.into());
    }
    if let Some(t) = chat.temperature {
        inference.insert("temperature".into(), t.into());
    }
    if let Some(p) = chat.top_p {
        inference.insert("topP".into(), p.into());
    }
    if !chat.stop.is_empty() {
        inference.insert("stopSequences".into(), chat.stop.into());
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), inference.into());
    }
    if !chat.tools.is_empty() {
        let tools: Vec<Value> = chat
            .tools
            .into_iter()
            .map(|t| {
                let mut spec = json!({"name": t.name, "inputSchema": {"json": t.parameters}});
                if let Some(d) = t.description {
                    spec["description"] = d.into();
                }
                if let Some(strict) = t.strict {
                    spec["strict"] = strict.into();
                }
                json!({"toolSpec": spec})
            })
            .collect();
        let mut config = json!({"tools": tools});
        match chat.tool_choice {
            Some(ToolChoice::Auto) => config["toolChoice"] = json!({"auto": {}}),
            Some(ToolChoice::Required) => config["toolChoice"] = json!({"any": {}}),
            Some(ToolChoice::Named(name)) => config["toolChoice"] = json!({"tool": {"name": name}}),
            // Refused by the capabilities before translation.
            Some(ToolChoice::None) | None => {}
        }
        body.insert("toolConfig".into(), config);
    }
    if let Some(ResponseFormat::JsonSchema {
        name,
        description,
        schema,
    }) = chat.response_format
    {
        let mut definition = json!({"schema": schema.to_string(), "name": name});
        if let Some(d) = description {
            definition["description"] = d.into();
        }
        body.insert(
            "outputConfig".into(),
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}),
        );
    }
    Ok(Value::Object(body))
}

fn messages(turns: Vec<Turn>) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(turns.len());
    for (i, turn) in turns.into_iter().enumerate() {
        let (role, blocks) = match turn {
            Turn::User(parts) => {
                let mut blocks = Vec::with_capacity(parts.len());
                for part in parts {
                    match part {
                        // Converse refuses blank text blocks.
                        Part::Text(t) if t.trim().is_empty() => {}
                        Part::Text(t) => blocks.push(json!({"text": t})),
                        Part::Image { media_type, data } => {
                            let format = image_format(&media_type).ok_or_else(|| {
                                ApiError::unsupported(format!(
                                    "Images other than PNG, JPEG, GIF and WebP (turn {i}) are not supported by bedrock."
                                ))
                            })?;
                            blocks.push(
                                json!({"image": {"format": format, "source": {"bytes": data}}}),
                            );
                        }
                        // Refused by the capabilities before translation.
                        Part::ImageUrl(_) => {}
                    }
                }
                ("user", blocks)
            }
            Turn::Assistant { text, tool_calls } => {
                let mut blocks: Vec<Value> = text.into_iter().map(|t| json!({"text": t})).collect();
                blocks.extend(tool_calls.into_iter().map(|c| {
                    json!({"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.arguments}})
                }));
                ("assistant", blocks)
            }
            Turn::ToolResult {
                call_id, content, ..
            } => (
                "user",
                vec![json!({"toolResult": {"toolUseId": call_id, "content": [{"text": content}]}})],
            ),
        };
        common::push_merged(&mut out, role, "content", blocks);
    }
    Ok(out)
}

fn image_format(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    })
}

/// A Messages body as InvokeModel takes it: `anthropic_version` in place of `model`
/// and `stream` (the path says both), plus `more` members.
fn invoke_body(body: &ClientBody, more: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut changes = vec![
        ("model", None),
        ("stream", None),
        ("usage", None),
        ("anthropic_version", Some(&br#""bedrock-2023-05-31""#[..])),
    ];
    changes.extend_from_slice(more);
    body.with_changes(&changes)
}

/// CountTokens' body for a `count_tokens` request: the InvokeModel body it would be,
/// base64 in `input.invokeModel.body`. InvokeModel requires `max_tokens`, which
/// `count_tokens` does not take and which counts nothing: 1 stands in for it.
fn count_tokens_body(body: &ClientBody) -> Result<Bytes, ApiError> {
    use base64::Engine;
    let more: &[(&str, Option<&[u8]>)] = match body.get("max_tokens") {
        Some(_) => &[],
        None => &[("max_tokens", Some(b"1"))],
    };
    let invoke = invoke_body(body, more);
    let encoded = base64::engine::general_purpose::STANDARD.encode(invoke);
    common::json_body(&json!({"input": {"invokeModel": {"body": encoded}}}))
}

/// CountTokens' answer, `{"inputTokens": N}`, as Anthropic's `{"input_tokens": N}`.
fn counted(body: &[u8]) -> Result<ParsedResponse, Malformed> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Counted {
        input_tokens: u64,
    }
    let counted: Counted = serde_json::from_slice(body).map_err(|_| Malformed)?;
    let Value::Object(answer) = json!({ "input_tokens": counted.input_tokens }) else {
        return Err(Malformed);
    };
    Ok(ParsedResponse {
        body: ResponseBody::Translated(answer),
        usage: TokenUsage::default(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_write_input_tokens: Option<u64>,
    /// The cache writes by lifetime (`5m`, `1h`), when there were any.
    cache_details: Option<Vec<CacheDetail>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheDetail {
    ttl: String,
    input_tokens: u64,
}

impl From<Usage> for TokenUsage {
    fn from(u: Usage) -> Self {
        let cached = u.cache_read_input_tokens;
        let cache_write = u.cache_write_input_tokens;
        let cache_write_1h = u.cache_details.map(|details| {
            details
                .iter()
                .filter(|d| d.ttl == "1h")
                .map(|d| d.input_tokens)
                .sum()
        });
        TokenUsage {
            prompt: u.input_tokens.unwrap_or(0) + cached.unwrap_or(0) + cache_write.unwrap_or(0),
            completion: u.output_tokens.unwrap_or(0),
            cached,
            cache_write,
            cache_write_1h,
            reasoning: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    output: Output,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
struct Output {
    message: Option<OutputMessage>,
}

#[derive(Deserialize)]
struct OutputMessage {
    #[serde(default)]
    content: Vec<ContentBlock>,
}

/// A content block: a union of which only the members shown to clients are read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentBlock {
    text: Option<String>,
    tool_use: Option<ToolUse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Value,
}

fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("guardrail_intervened" | "content_filtered") => "content_filter",
        _ => "stop",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    content_block_index: u64,
    start: StartBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartBody {
    tool_use: Option<ToolUseStart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    tool_use_id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    content_block_index: u64,
    delta: DeltaBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaBody {
    text: Option<String>,
    tool_use: Option<ToolUseDelta>,
}

#[derive(Deserialize)]
struct ToolUseDelta {
    input: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    usage: Option<Usage>,
}

fn parse<'a, T: Deserialize<'a>>(data: &'a str) -> Result<T, Malformed> {
    serde_json::from_str(data).map_err(|_| Malformed)
}

/// Maps a Bedrock exception, by name (`ThrottlingException` over HTTP,
/// `throttlingException` inside a stream).
fn exception(name: &str, status: StatusCode, headers: &HeaderMap) -> ApiError {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    let status = if is("ThrottlingException") || is("ModelNotReadyException") {
        StatusCode::TOO_MANY_REQUESTS
    } else if is("ServiceUnavailableException") {
        StatusCode::SERVICE_UNAVAILABLE
    } else if is("ModelTimeoutException") {
        return ApiError::upstream_timeout(PROVIDER);
    } else if is("InternalServerException") || is("ModelStreamErrorException") {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    };
    common::refusal(PROVIDER, status, headers, Some(name), None)
}

/// Reads one event of an InvokeModel stream: a `chunk` holds one of Anthropic's
/// events, base64, read as it would be from Anthropic and passed on as a chunk to
/// write as an SSE event (its bytes are an event-stream frame).
pub(crate) fn invoke_event(
    state: &mut StreamState,
    event: UpstreamEvent<'_>,
) -> Result<StreamOut, Malformed> {
    use base64::Engine;
    #[derive(Deserialize)]
    struct Chunk {
        bytes: String,
    }
    match event.event.unwrap_or_default() {
        "chunk" => {
            let chunk: Chunk = parse(event.data)?;
            let data = base64::engine::general_purpose::STANDARD
                .decode(chunk.bytes)
                .map_err(|_| Malformed)?;
            let data = String::from_utf8(data).map_err(|_| Malformed)?;
            let anthropic = UpstreamEvent {
                event: None,
                data: &data,
            };
            let out = super::anthropic::passthrough_event(state, anthropic)?;
            crate::stream::as_chunks(out, &data)
        }
        e if STREAM_EXCEPTIONS.contains(&e) => Ok(StreamOut::Error(exception(
            e,
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
        ))),
        _ => Ok(StreamOut::Skip),
    }
}

/// The exceptions ConverseStream can send inside a stream.
const STREAM_EXCEPTIONS: [&str; 5] = [
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
];

impl Adapter for Bedrock {
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        let (body, action) = match op {
            Operation::Messages => {
                let action = if stream {
                    "invoke-with-response-stream"
                } else {
                    "invoke"
                };
                (Bytes::from(invoke_body(body, &[])), action)
            }
            Operation::CountTokens => (count_tokens_body(body)?, "count-tokens"),
            _ => {
                common::chat_only(op, PROVIDER)?;
                let body = common::json_body(&native(Chat::parse(body.to_map()?, &CAPS)?)?)?;
                let action = if stream {
                    "converse-stream"
                } else {
                    "converse"
                };
                (body, action)
            }
        };
        let d = &target.deployment;
        let url = format!(
            "{}/model/{}/{action}",
            d.base_url,
            path_segment(&target.upstream_model)
        );
        let mut headers = common::json_headers(None)?;
        // Without credentials the request goes unsigned and AWS refuses it (a 502 here).
        if let Some(keys) = d.credential.as_ref().and_then(AwsKeys::from_secret) {
            sign_request(
                &mut headers,
                &url,
                &body,
                &d.region,
                &keys,
                SystemTime::now(),
            )?;
        }
        Ok(UpstreamRequest {
            method: Method::POST,
            url,
            headers,
            body,
        })
    }

    fn response(
        &self,
        op: Operation,
        target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        match op {
            Operation::Messages => return super::anthropic::passthrough_response(body),
            Operation::CountTokens => return counted(&body),
            Operation::Chat | Operation::Embeddings | Operation::Responses => {}
        }
        let r: ConverseResponse = serde_json::from_slice(&body).map_err(|_| Malformed)?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in r.output.message.map(|m| m.content).unwrap_or_default() {
            if let Some(t) = block.text {
                text.push_str(&t);
            } else if let Some(call) = block.tool_use {
                tool_calls.push(common::tool_call(
                    &call.tool_use_id,
                    &call.name,
                    common::arguments_text(&call.input),
                ));
            }
        }
        let usage: TokenUsage = r.usage.into();
        let finish = finish_reason(r.stop_reason.as_deref());
        let choice = common::choice(0, text, tool_calls, finish);
        Ok(ParsedResponse {
            // Converse names no model in its answer: the client gets the public id.
            body: ResponseBody::Translated(common::completion(
                common::completion_id(),
                &target.model,
                vec![choice],
                &usage,
            )),
            usage,
        })
    }

    fn stream_event(
        &self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        // Converse sends no message id and names no model: the stream gets an id of
        // ours and the public model id.
        common::start(state, None, Some(&target.model));
        Ok(match event.event.unwrap_or_default() {
            "messageStart" => {
                common::chunk(state, 0, json!({"role": "assistant", "content": ""}), None)
            }
            "contentBlockStart" => {
                let start: BlockStart = parse(event.data)?;
                match start.start.tool_use {
                    Some(t) => {
                        let (tool, out) = common::tool_call_start(
                            state,
                            0,
                            &t.tool_use_id,
                            &t.name,
                            String::new(),
                        );
                        state
                            .blocks
                            .push((start.content_block_index, Block::ToolCall(tool)));
                        out
                    }
                    None => StreamOut::Skip,
                }
            }
            "contentBlockDelta" => {
                let d: BlockDelta = parse(event.data)?;
                match (common::block(state, d.content_block_index), d.delta) {
                    (
                        Block::ToolCall(tool),
                        DeltaBody {
                            tool_use: Some(t), ..
                        },
                    ) => {
                        state.generated.push_str(&t.input);
                        common::tool_call_delta(state, tool, &t.input)
                    }
                    (
                        _,
                        DeltaBody {
                            text: Some(text), ..
                        },
                    ) => {
                        state.generated.push_str(&text);
                        common::chunk(state, 0, json!({"content": text}), None)
                    }
                    // Reasoning content, citations.
                    _ => StreamOut::Skip,
                }
            }
            "messageStop" => {
                let stop: MessageStop = parse(event.data)?;
                state.finished = true;
                let finish = finish_reason(stop.stop_reason.as_deref());
                common::chunk(state, 0, json!({}), Some(finish))
            }
            "metadata" => {
                let meta: Metadata = parse(event.data)?;
                match meta.usage {
                    Some(usage) => {
                        state.usage = usage.into();
                        StreamOut::Many(vec![common::usage_out(state), StreamOut::Done])
                    }
                    None => StreamOut::Done,
                }
            }
            e if STREAM_EXCEPTIONS.contains(&e) => {
                StreamOut::Error(exception(e, StatusCode::BAD_GATEWAY, &HeaderMap::new()))
            }
            // `contentBlockStop`, and members added to the union later.
            _ => StreamOut::Skip,
        })
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn error(
        &self,
        _target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        // `x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/…`, or the
        // body's `__type` (`com.amazon…#ThrottlingException`).
        let from_header = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(':').next())
            .map(str::to_string);
        let name = from_header.or_else(|| {
            let v: Value = serde_json::from_slice(body).ok()?;
            let t = v.get("__type")?.as_str()?;
            Some(t.rsplit('#').next().unwrap_or(t).to_string())
        });
        match name {
            Some(name) => exception(&name, status, headers),
            None => common::refusal(PROVIDER, status, headers, None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::common::testing::{body, drive_named, merged, target};
    use meridian_core::config::ProviderKind;

    const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    /// Converse's `cacheDetails` (1h before 5m): the 1-hour part of the writes.
    #[test]
    fn cache_details_give_the_one_hour_writes() {
        let usage: Usage = serde_json::from_value(json!({"inputTokens": 10, "outputTokens": 5,
            "totalTokens": 615, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 600,
            "cacheDetails": [{"ttl": "1h", "inputTokens": 400}, {"ttl": "5m", "inputTokens": 200}]}))
        .unwrap();
        let tokens = TokenUsage::from(usage);
        assert_eq!(
            (tokens.prompt, tokens.cache_write, tokens.cache_write_1h),
            (610, Some(600), Some(400))
        );
        let without: Usage = serde_json::from_value(json!({"inputTokens": 10, "outputTokens": 5,
            "cacheWriteInputTokens": 600}))
        .unwrap();
        assert_eq!(TokenUsage::from(without).cache_write_1h, None);
    }

    fn translate(client: Value) -> Value {
        let t = target(ProviderKind::Bedrock, MODEL, Some("AKIDEXAMPLE:SECRET"));
        let req = Bedrock
            .request(Operation::Chat, &t, &body(client), false)
            .unwrap();
        assert_eq!(
            req.url,
            "http://upstream.test/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
        );
        serde_json::from_slice(&req.body).unwrap()
    }

    /// InvokeModel with Anthropic's body: the Messages request without `model` and
    /// `stream`, with Bedrock's `anthropic_version`; its stream's `chunk`s read as
    /// Anthropic's events.
    #[test]
    fn messages_go_to_invoke_model_with_the_anthropic_body() {
        use base64::Engine;
        let t = target(ProviderKind::Bedrock, MODEL, Some("AKIDEXAMPLE:SECRET"));
        let client = json!({"model": "bedrock-anthropic/claude-sonnet-4-5", "max_tokens": 8,
            "stream": true, "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [{"role": "user", "content": "hi"}]});
        let req = Bedrock
            .request(Operation::Messages, &t, &body(client), true)
            .unwrap();
        assert_eq!(
            req.url,
            "http://upstream.test/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        );
        assert!(req.headers.contains_key("authorization"));
        let sent: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            sent,
            json!({"max_tokens": 8, "thinking": {"type": "enabled", "budget_tokens": 1024},
                "messages": [{"role": "user", "content": "hi"}],
                "anthropic_version": "bedrock-2023-05-31"})
        );
        let event = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"#;
        let chunk =
            json!({"bytes": base64::engine::general_purpose::STANDARD.encode(event)}).to_string();
        let mut state = StreamState::default();
        let out = invoke_event(
            &mut state,
            UpstreamEvent {
                event: Some("chunk"),
                data: &chunk,
            },
        )
        .unwrap();
        assert!(matches!(out, StreamOut::Usage { usage, .. } if usage.completion == 3));
        let out = invoke_event(
            &mut state,
            UpstreamEvent {
                event: Some("throttlingException"),
                data: r#"{"message":"CANARY"}"#,
            },
        )
        .unwrap();
        assert!(matches!(out, StreamOut::Error(e) if e.status == StatusCode::TOO_MANY_REQUESTS));
    }

    /// The Converse guide's first example.
    #[test]
    fn golden_basic_request() {
        let native = translate(
            json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 1000,
            "temperature": 0.5, "user": "u-1", "messages": [
                {"role": "system", "content": "You are an economist with access to lots of data"},
                {"role": "user", "content": "Write an article about impact of high inflation to GDP of a country"}]}),
        );
        assert_eq!(
            native,
            json!({"messages": [{"role": "user", "content": [{"text": "Write an article about impact of high inflation to GDP of a country"}]}],
                "system": [{"text": "You are an economist with access to lots of data"}],
                "inferenceConfig": {"maxTokens": 1000, "temperature": 0.5}})
        );
    }

    /// The tool-use guide's `top_song` round trip, an image, and structured output.
    #[test]
    fn golden_tool_round_trip_request() {
        let schema = json!({"type": "object", "properties": {"song": {"type": "string"}}, "required": ["song"]});
        let native = translate(json!({"model": "m", "stop": ["END"], "top_p": 0.9,
            "tools": [{"type": "function", "function": {"name": "top_song", "strict": true,
                "description": "Get the most popular song played on a radio station.",
                "parameters": {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]}}}],
            "tool_choice": "auto",
            "response_format": {"type": "json_schema", "json_schema": {"name": "song", "schema": schema}},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is the most popular song on WZPZ?"},
                    {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}}]},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "type": "function",
                    "function": {"name": "top_song", "arguments": "{\"sign\": \"WZPZ\"}"}}]},
                {"role": "tool", "tool_call_id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": "Elemental Hotel by 8 Storey Hike"}]}));
        assert_eq!(
            native,
            json!({
                "messages": [
                    {"role": "user", "content": [{"text": "What is the most popular song on WZPZ?"},
                        {"image": {"format": "webp", "source": {"bytes": "UklGRg=="}}}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                        "name": "top_song", "input": {"sign": "WZPZ"}}}]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                        "content": [{"text": "Elemental Hotel by 8 Storey Hike"}]}}]}],
                "inferenceConfig": {"topP": 0.9, "stopSequences": ["END"]},
                "toolConfig": {"tools": [{"toolSpec": {"name": "top_song", "strict": true,
                    "description": "Get the most popular song played on a radio station.",
                    "inputSchema": {"json": {"type": "object", "properties": {"sign": {"type": "string"}}, "required": ["sign"]}}}}],
                    "toolChoice": {"auto": {}}},
                "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema":
                    {"name": "song", "schema": schema.to_string()}}}}
            })
        );
    }

    #[test]
    fn what_converse_lacks_is_refused() {
        let t = target(ProviderKind::Bedrock, MODEL, None);
        for extra in [
            json!({"n": 3}),
            json!({"tool_choice": "none"}),
            json!({"response_format": {"type": "json_object"}}),
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AA=="}}]}]}),
        ] {
            let b = merged(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
                extra,
            );
            let err = Bedrock.request(Operation::Chat, &t, &b, false).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains("bedrock"), "{}", err.message);
        }
    }

    fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut block = [0u8; 64];
        block[..key.len()].copy_from_slice(key);
        let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
        let inner = Sha256::digest([pad(0x36), data.to_vec()].concat());
        Sha256::digest([pad(0x5c), inner.to_vec()].concat()).to_vec()
    }

    /// SigV4 recomputed by hand from AWS's documented algorithm: the model id's `:` is
    /// sent as `%3A` and signed as `%253A`, as the mock and AWS expect.
    #[test]
    fn sigv4_signs_the_double_encoded_path() {
        let keys = AwsKeys {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let url = format!(
            "http://upstream.test:9100/model/{}/converse",
            path_segment(MODEL)
        );
        let body = br#"{"messages":[]}"#;
        let mut headers = common::json_headers(None).unwrap();
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_735_689_600); // 2025-01-01
        sign_request(&mut headers, &url, body, "us-east-1", &keys, time).unwrap();
        assert_eq!(headers["x-amz-date"], "20250101T000000Z");
        let canonical = format!(
            "POST\n/model/anthropic.claude-sonnet-4-5-20250929-v1%253A0/converse\n\ncontent-type:application/json\nhost:upstream.test:9100\nx-amz-date:20250101T000000Z\n\ncontent-type;host;x-amz-date\n{}",
            hex::encode(Sha256::digest(body))
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n20250101T000000Z\n20250101/us-east-1/bedrock/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac(
            format!("AWS4{}", keys.secret_access_key).as_bytes(),
            b"20250101",
        );
        for part in ["us-east-1", "bedrock", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        assert_eq!(
            headers["authorization"].to_str().unwrap(),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
            )
        );
        assert!(headers["authorization"].is_sensitive());
    }

    #[test]
    fn credentials_are_the_key_pair_and_token() {
        assert_eq!(
            AwsKeys::from_secret(&Secret::new("AKID:sec/ret+:TOKEN")),
            Some(AwsKeys {
                access_key_id: "AKID".into(),
                secret_access_key: "sec/ret+".into(),
                session_token: Some("TOKEN".into())
            })
        );
        assert_eq!(
            AwsKeys::from_secret(&Secret::new("AKID:sec/ret+"))
                .unwrap()
                .session_token,
            None
        );
        assert_eq!(AwsKeys::from_secret(&Secret::new("sec/ret+")), None);
        let t = target(ProviderKind::Bedrock, MODEL, Some("sec/ret+"));
        let req = Bedrock
            .request(
                Operation::Chat,
                &t,
                &body(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})),
                false,
            )
            .unwrap();
        assert!(
            !req.headers.contains_key("authorization"),
            "no key pair, no signature"
        );
        let t = target(ProviderKind::Bedrock, MODEL, Some("AKID:SECRET:TOKEN"));
        let req = Bedrock
            .request(
                Operation::Chat,
                &t,
                &body(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})),
                true,
            )
            .unwrap();
        assert!(req.url.ends_with("/converse-stream"));
        assert_eq!(req.headers["x-amz-security-token"], "TOKEN");
        assert!(
            req.headers["authorization"]
                .to_str()
                .unwrap()
                .contains("x-amz-security-token")
        );
    }

    /// The Converse API reference's response shape, with prompt caching.
    #[test]
    fn golden_response() {
        let t = target(ProviderKind::Bedrock, MODEL, None);
        let parsed = Bedrock
            .response(
                Operation::Chat,
                &t,
                Bytes::from_static(
                    br#"{"output": {"message": {"role": "assistant", "content": [
                        {"reasoningContent": {"reasoningText": {"text": "hidden"}}},
                        {"text": "Let me look."},
                        {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "input": {"sign": "WZPZ"}}}]}},
                    "stopReason": "tool_use",
                    "usage": {"inputTokens": 30, "outputTokens": 628, "totalTokens": 1158,
                        "cacheReadInputTokens": 400, "cacheWriteInputTokens": 100},
                    "metrics": {"latencyMs": 1275}}"#,
                ),
            )
            .unwrap();
        assert_eq!(
            parsed.usage,
            TokenUsage {
                prompt: 530,
                completion: 628,
                cached: Some(400),
                cache_write: Some(100),
                cache_write_1h: None,
                reasoning: None
            }
        );
        let ResponseBody::Translated(object) = parsed.body else {
            panic!("translated")
        };
        assert_eq!(
            object["model"],
            format!("vendor/{MODEL}"),
            "the public model id"
        );
        assert_eq!(
            object["choices"],
            json!([{"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {"role": "assistant",
                "refusal": null, "content": "Let me look.", "tool_calls": [{"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                "type": "function", "function": {"name": "top_song", "arguments": "{\"sign\":\"WZPZ\"}"}}]}}])
        );
        assert_eq!(
            object["usage"]["prompt_tokens_details"],
            json!({"cached_tokens": 400, "cache_write_tokens": 100})
        );
    }

    /// ConverseStream's events, as the event-stream decoder hands them over.
    #[test]
    fn golden_stream() {
        let (chunks, usage, done) = drive_named(
            &target(ProviderKind::Bedrock, MODEL, None),
            &[
                ("messageStart", r#"{"role": "assistant", "p": "abc"}"#),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hmm"}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex": 1, "delta": {"text": "Hello"}, "p": "abcdef"}"#,
                ),
                ("contentBlockStop", r#"{"contentBlockIndex": 1}"#),
                (
                    "contentBlockStart",
                    r#"{"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "top_song"}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{\"sign\": "}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex": 2, "delta": {"toolUse": {"input": "\"WZPZ\"}"}}}"#,
                ),
                ("contentBlockStop", r#"{"contentBlockIndex": 2}"#),
                ("messageStop", r#"{"stopReason": "tool_use"}"#),
                (
                    "metadata",
                    r#"{"usage": {"inputTokens": 10, "outputTokens": 20, "totalTokens": 30, "cacheReadInputTokens": 5}, "metrics": {"latencyMs": 100}}"#,
                ),
            ],
        );
        assert!(done);
        let deltas: Vec<Value> = chunks
            .iter()
            .map(|c| json!([c["choices"][0]["delta"], c["choices"][0]["finish_reason"]]))
            .collect();
        assert_eq!(
            deltas,
            vec![
                json!([{"role": "assistant", "content": ""}, null]),
                json!([{"content": "Hello"}, null]),
                json!([{"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function", "function": {"name": "top_song", "arguments": ""}}]}, null]),
                json!([{"tool_calls": [{"index": 0, "function": {"arguments": "{\"sign\": "}}]}, null]),
                json!([{"tool_calls": [{"index": 0, "function": {"arguments": "\"WZPZ\"}"}}]}, null]),
                json!([{}, "tool_calls"]),
            ]
        );
        let ids: Vec<&Value> = chunks.iter().map(|c| &c["id"]).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "one id per stream");
        assert!(
            chunks
                .iter()
                .all(|c| c["model"] == format!("vendor/{MODEL}")),
            "the public model id"
        );
        assert_eq!(
            usage.unwrap().0,
            TokenUsage {
                prompt: 15,
                completion: 20,
                cached: Some(5),
                cache_write: None,
                cache_write_1h: None,
                reasoning: None
            }
        );
    }

    #[test]
    fn throttling_is_a_rate_limit_over_http_and_in_streams() {
        let t = target(ProviderKind::Bedrock, MODEL, None);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
        );
        let err = Bedrock.error(
            &t,
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"message":"CANARY"}"#,
        );
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(err.message.contains("bedrock") && !err.message.contains("CANARY"));
        let err = Bedrock.error(
            &t,
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"__type": "com.amazon.bedrock#ValidationException", "message": "CANARY"}"#,
        );
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("ValidationException") && !err.message.contains("CANARY"));
        let mut state = StreamState::default();
        let out = Bedrock
            .stream_event(
                &t,
                &mut state,
                UpstreamEvent {
                    event: Some("throttlingException"),
                    data: r#"{"message": "CANARY"}"#,
                },
            )
            .unwrap();
        assert!(matches!(out, StreamOut::Error(e) if e.status == StatusCode::TOO_MANY_REQUESTS));
    }
}
