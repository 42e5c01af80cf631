//! Google's Gemini `generateContent` and `streamGenerateContent?alt=sse`, both on the
//! Gemini API (`{base}/v1beta/models/{model}:…`, `x-goog-api-key`) and on Vertex AI's
//! regional endpoints (`{base}/v1/projects/{project}/locations/{region}/publishers/
//! google/models/{model}:…`, a bearer access token), translated to and from OpenAI's
//! Chat Completions.
//!
//! Request: system and developer messages → `systemInstruction`; user, assistant and
//! tool messages → `contents` of `user`/`model` turns with `text`, `inlineData` (base64
//! `data:` images), `functionCall` and `functionResponse` parts (a tool result becomes
//! `{"output": <text>}` under its function's name); tools → `functionDeclarations` with
//! `parametersJsonSchema`; `tool_choice` → `functionCallingConfig` (`AUTO`, `ANY`,
//! `NONE`, `allowedFunctionNames`); `response_format` → `responseMimeType`
//! `application/json` (+ `responseJsonSchema`); `max_tokens`, `temperature`, `top_p`,
//! `stop`, `n`, `seed`, penalties → `generationConfig`. Refused (400): image URLs
//! (Gemini takes files by upload only), `parallel_tool_calls: false` unless
//! `tool_choice` names a function (one forced call, when it means nothing). `user` and
//! tools' `strict` have no Gemini counterpart and change nothing Gemini does, so they
//! are not sent.
//!
//! Response and stream: each candidate is a choice; thought summaries are not shown;
//! a function call's `thoughtSignature` (which Gemini 3 wants back with the call) rides
//! in the tool call id and is returned with it. Usage with OpenAI semantics: prompt =
//! `promptTokenCount` (cached content included) + `toolUsePromptTokenCount`; completion
//! = `candidatesTokenCount` + `thoughtsTokenCount`; cached = `cachedContentTokenCount`;
//! reasoning = `thoughtsTokenCount`. A stream ends with the upstream body; its last
//! chunk carries the usage. Errors keep Google's status (`RESOURCE_EXHAUSTED`, with
//! its `retryDelay`), never its message.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use meridian_core::TokenUsage;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::chat::{Capabilities, Chat, Part, ResponseFormat, ToolChoice, Turn};
use super::common;
use super::{
    Adapter, Malformed, Operation, ParsedResponse, ResponseBody, StreamOut, StreamState,
    UpstreamEvent, UpstreamRequest,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

/// Gemini on the Gemini API or on Vertex AI.
pub struct Gemini {
    caps: Capabilities,
    vertex: bool,
}

const fn caps(provider: &'static str) -> Capabilities {
    Capabilities {
        provider,
        seed: true,
        penalties: true,
        n: true,
        json_object: true,
        image_urls: false,
        tool_choice_none: true,
        serial_tool_calls: false,
        max_temperature: 2.0,
    }
}

impl Gemini {
    pub const API: Gemini = Gemini {
        caps: caps("gemini"),
        vertex: false,
    };
    pub const VERTEX: Gemini = Gemini {
        caps: caps("vertex"),
        vertex: true,
    };

    fn provider(&self) -> &'static str {
        self.caps.provider
    }

    fn url(&self, target: &Target, stream: bool) -> Result<String, ApiError> {
        let d = &target.deployment;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let model = &target.upstream_model;
        Ok(if self.vertex {
            let project = d.project.as_deref().ok_or_else(ApiError::internal)?;
            format!(
                "{}/v1/projects/{project}/locations/{}/publishers/google/models/{model}:{method}",
                d.base_url, d.region
            )
        } else {
            format!("{}/v1beta/models/{model}:{method}", d.base_url)
        })
    }
}

/// Separates a tool call id from the thought signature it carries (`.` is not in
/// either base64 alphabet).
const SIGNATURE_MARK: char = '.';

fn tool_call_id(signature: Option<&str>) -> String {
    let id = format!("call_{}", uuid::Uuid::now_v7().simple());
    match signature {
        Some(s) => format!("{id}{SIGNATURE_MARK}{s}"),
        None => id,
    }
}

fn signature_of(id: &str) -> Option<&str> {
    id.split_once(SIGNATURE_MARK).map(|(_, s)| s)
}

/// The native request body.
fn native(chat: Chat) -> Value {
    let mut body = Map::new();
    if !chat.system.is_empty() {
        let parts: Vec<Value> = chat
            .system
            .into_iter()
            .map(|t| json!({"text": t}))
            .collect();
        body.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    body.insert("contents".into(), contents(chat.turns).into());
    if !chat.tools.is_empty() {
        let declarations: Vec<Value> = chat
            .tools
            .into_iter()
            .map(|t| {
                let mut f = json!({"name": t.name, "parametersJsonSchema": t.parameters});
                if let Some(d) = t.description {
                    f["description"] = d.into();
                }
                f
            })
            .collect();
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = chat.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Named(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    let mut config = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            config.insert(key.into(), v);
        }
    };
    set("maxOutputTokens", chat.max_tokens.map(Value::from));
    set("temperature", chat.temperature.map(Value::from));
    set("topP", chat.top_p.map(Value::from));
    set("candidateCount", chat.n.map(Value::from));
    set("seed", chat.seed.map(Value::from));
    set("presencePenalty", chat.presence_penalty.map(Value::from));
    set("frequencyPenalty", chat.frequency_penalty.map(Value::from));
    set(
        "stopSequences",
        (!chat.stop.is_empty()).then(|| chat.stop.into()),
    );
    if let Some(format) = chat.response_format {
        set("responseMimeType", Some("application/json".into()));
        if let ResponseFormat::JsonSchema { schema, .. } = format {
            set("responseJsonSchema", Some(schema));
        }
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), config.into());
    }
    Value::Object(body)
}

fn contents(turns: Vec<Turn>) -> Vec<Value> {
    let mut out = Vec::with_capacity(turns.len());
    for turn in turns {
        let (role, parts) = match turn {
            Turn::User(parts) => ("user", parts.into_iter().filter_map(part).collect()),
            Turn::Assistant { text, tool_calls } => {
                let mut parts: Vec<Value> = text.into_iter().map(|t| json!({"text": t})).collect();
                parts.extend(tool_calls.into_iter().map(|c| {
                    let mut part = json!({"functionCall": {"name": c.name, "args": c.arguments}});
                    if let Some(signature) = signature_of(&c.id) {
                        part["thoughtSignature"] = signature.into();
                    }
                    part
                }));
                ("model", parts)
            }
            Turn::ToolResult { name, content, .. } => (
                "user",
                vec![json!({"functionResponse": {"name": name, "response": {"output": content}}})],
            ),
        };
        common::push_merged(&mut out, role, "parts", parts);
    }
    out
}

fn part(part: Part) -> Option<Value> {
    match part {
        Part::Text(t) => Some(json!({"text": t})),
        Part::Image { media_type, data } => {
            Some(json!({"inlineData": {"mimeType": media_type, "data": data}}))
        }
        // Refused by the capabilities before translation.
        Part::ImageUrl(_) => None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
    response_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
    #[serde(default)]
    index: u32,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<ContentPart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentPart {
    text: Option<String>,
    #[serde(default)]
    thought: bool,
    function_call: Option<FunctionCall>,
    thought_signature: Option<String>,
}

#[derive(Deserialize)]
struct FunctionCall {
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
}

impl From<UsageMetadata> for TokenUsage {
    fn from(u: UsageMetadata) -> Self {
        TokenUsage {
            prompt: u.prompt_token_count.unwrap_or(0) + u.tool_use_prompt_token_count.unwrap_or(0),
            completion: u.candidates_token_count.unwrap_or(0) + u.thoughts_token_count.unwrap_or(0),
            cached: u.cached_content_token_count,
            cache_write: None,
            cache_write_1h: None,
            reasoning: u.thoughts_token_count,
        }
    }
}

/// A candidate's visible text and tool calls.
fn read_candidate(content: Option<Content>) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    for p in content.map(|c| c.parts).unwrap_or_default() {
        if let Some(call) = p.function_call {
            let id = tool_call_id(p.thought_signature.as_deref());
            calls.push(common::tool_call(
                &id,
                &call.name,
                common::arguments_text(&call.args),
            ));
        } else if let Some(t) = p.text.filter(|_| !p.thought) {
            text.push_str(&t);
        }
    }
    (text, calls)
}

fn finish_reason(reason: &str, has_tool_calls: bool) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT" => "content_filter",
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    status: Option<String>,
    #[serde(default)]
    details: Vec<Value>,
}

/// `RetryInfo.retryDelay` (`"17s"`) of a quota error, in whole seconds.
fn retry_delay(details: &[Value]) -> Option<u64> {
    details.iter().find_map(|d| {
        let delay = d["retryDelay"].as_str()?.strip_suffix('s')?;
        let secs: f64 = delay.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64)
    })
}

impl Adapter for Gemini {
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        common::chat_only(op, self.provider())?;
        let native = native(Chat::parse(body.to_map()?, &self.caps)?);
        let key = target.deployment.credential.as_ref().map(|k| k.expose());
        let headers = common::json_headers(key.map(|k| {
            if self.vertex {
                ("authorization", format!("Bearer {k}"))
            } else {
                ("x-goog-api-key", k.to_string())
            }
        }))?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url: self.url(target, stream)?,
            headers,
            body: common::json_body(&native)?,
        })
    }

    fn response(
        &self,
        _op: Operation,
        _target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        let r: Response = serde_json::from_slice(&body).map_err(|_| Malformed)?;
        let usage: TokenUsage = r.usage_metadata.map(Into::into).unwrap_or_default();
        let mut choices: Vec<Value> = r
            .candidates
            .into_iter()
            .map(|c| {
                let (text, calls) = read_candidate(c.content);
                let finish = finish_reason(
                    c.finish_reason.as_deref().unwrap_or("STOP"),
                    !calls.is_empty(),
                );
                common::choice(c.index, text, calls, finish)
            })
            .collect();
        if choices.is_empty() {
            // The prompt itself was blocked (`promptFeedback.blockReason`).
            choices.push(common::choice(
                0,
                String::new(),
                Vec::new(),
                "content_filter",
            ));
        }
        let id = r.response_id.unwrap_or_else(common::completion_id);
        let model = r.model_version.unwrap_or_default();
        Ok(ParsedResponse {
            body: ResponseBody::Translated(common::completion(id, &model, choices, &usage)),
            usage,
        })
    }

    fn stream_event(
        &self,
        _target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        let r: Response = serde_json::from_str(event.data).map_err(|_| Malformed)?;
        let first = state.id.is_none();
        common::start(state, r.response_id.as_deref(), r.model_version.as_deref());
        if let Some(u) = r.usage_metadata {
            state.usage = u.into();
            state.usage_seen = true;
        }
        let mut out = Vec::with_capacity(r.candidates.len());
        for c in r.candidates {
            let (text, calls) = read_candidate(c.content);
            state.generated.push_str(&text);
            for call in &calls {
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    state.generated.push_str(arguments);
                }
            }
            let mut delta = Map::new();
            if first {
                delta.insert("role".into(), "assistant".into());
            }
            if !text.is_empty() || first {
                delta.insert("content".into(), text.into());
            }
            if !calls.is_empty() {
                let slot = c.index as usize;
                if state.tool_calls.len() <= slot {
                    state.tool_calls.resize(slot + 1, 0);
                }
                let calls: Vec<Value> = calls
                    .into_iter()
                    .map(|mut call| {
                        call["index"] = state.tool_calls[slot].into();
                        state.tool_calls[slot] += 1;
                        call
                    })
                    .collect();
                delta.insert("tool_calls".into(), calls.into());
            }
            let finish = c.finish_reason.map(|reason| {
                state.finished = true;
                let called = state
                    .tool_calls
                    .get(c.index as usize)
                    .is_some_and(|n| *n > 0);
                finish_reason(&reason, called)
            });
            if !delta.is_empty() || finish.is_some() {
                out.push(common::chunk(state, c.index, delta.into(), finish));
            }
        }
        Ok(match out.len() {
            0 => StreamOut::Skip,
            1 => out.remove(0),
            _ => StreamOut::Many(out),
        })
    }

    fn stream_end(&self, state: &mut StreamState) -> Option<StreamOut> {
        if !state.finished {
            return None;
        }
        Some(if state.usage_seen {
            StreamOut::Many(vec![common::usage_out(state), StreamOut::Done])
        } else {
            StreamOut::Done
        })
    }

    fn error(
        &self,
        _target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        let detail = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .map(|b| b.error);
        let code = detail.as_ref().and_then(|d| d.status.as_deref());
        let retry = detail.as_ref().and_then(|d| retry_delay(&d.details));
        common::refusal(self.provider(), status, headers, code, retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::common::testing::{body, drive, merged, target};
    use meridian_core::config::ProviderKind;

    fn translate(
        provider: ProviderKind,
        client: Value,
        stream: bool,
    ) -> (String, HeaderMap, Value) {
        let t = target(provider, "gemini-2.5-flash", None);
        let adapter = if provider == ProviderKind::Vertex {
            &Gemini::VERTEX
        } else {
            &Gemini::API
        };
        let req = adapter
            .request(Operation::Chat, &t, &body(client), stream)
            .unwrap();
        (
            req.url,
            req.headers,
            serde_json::from_slice(&req.body).unwrap(),
        )
    }

    /// The text-generation guide's first request, on both endpoints.
    #[test]
    fn golden_basic_request_and_urls() {
        let client = json!({"model": "google/gemini-2.5-flash", "messages": [
            {"role": "user", "content": "Explain how AI works in a few words"}]});
        let (url, headers, native) = translate(ProviderKind::Gemini, client.clone(), false);
        assert_eq!(
            url,
            "http://upstream.test/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(headers["x-goog-api-key"], "upstream-key");
        assert_eq!(
            native,
            json!({"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]})
        );
        let (url, headers, vertex) = translate(ProviderKind::Vertex, client, true);
        assert_eq!(
            url,
            "http://upstream.test/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(headers["authorization"], "Bearer upstream-key");
        assert_eq!(vertex, native);
    }

    /// The function-calling guide's meeting scheduler, with the result sent back, an
    /// inline image, JSON mode and the generation settings.
    #[test]
    fn golden_function_calling_request() {
        let (_, _, native) = translate(
            ProviderKind::Gemini,
            json!({"model": "m", "max_tokens": 200, "temperature": 0.2, "top_p": 0.9, "n": 2, "seed": 7,
                "stop": ["\n\n"], "presence_penalty": 0.5, "response_format": {"type": "json_object"},
                "tools": [{"type": "function", "function": {"name": "schedule_meeting",
                    "description": "Schedules a meeting with specified attendees at a given time and date.",
                    "parameters": {"type": "object", "properties": {"attendees": {"type": "array", "items": {"type": "string"}}},
                        "required": ["attendees"]}}}],
                "tool_choice": "required",
                "messages": [
                    {"role": "system", "content": "Be helpful."},
                    {"role": "user", "content": [{"type": "text", "text": "Schedule a meeting with Bob and Alice."},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
                    {"role": "assistant", "tool_calls": [{"id": "call_1.c2lnbmF0dXJl", "type": "function",
                        "function": {"name": "schedule_meeting", "arguments": "{\"attendees\":[\"Bob\",\"Alice\"]}"}}]},
                    {"role": "tool", "tool_call_id": "call_1.c2lnbmF0dXJl", "content": "scheduled"}]}),
            false,
        );
        assert_eq!(
            native,
            json!({
                "systemInstruction": {"parts": [{"text": "Be helpful."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Schedule a meeting with Bob and Alice."},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]},
                    {"role": "model", "parts": [{"functionCall": {"name": "schedule_meeting", "args": {"attendees": ["Bob", "Alice"]}},
                        "thoughtSignature": "c2lnbmF0dXJl"}]},
                    {"role": "user", "parts": [{"functionResponse": {"name": "schedule_meeting", "response": {"output": "scheduled"}}}]}],
                "tools": [{"functionDeclarations": [{"name": "schedule_meeting",
                    "description": "Schedules a meeting with specified attendees at a given time and date.",
                    "parametersJsonSchema": {"type": "object", "properties": {"attendees": {"type": "array", "items": {"type": "string"}}},
                        "required": ["attendees"]}}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
                "generationConfig": {"maxOutputTokens": 200, "temperature": 0.2, "topP": 0.9, "candidateCount": 2,
                    "seed": 7, "presencePenalty": 0.5, "stopSequences": ["\n\n"], "responseMimeType": "application/json"}
            })
        );
    }

    #[test]
    fn golden_json_schema_and_refusals() {
        let schema = json!({"type": "object", "properties": {"recipe_name": {"type": "string"}}});
        let (_, _, native) = translate(
            ProviderKind::Gemini,
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                "tool_choice": {"type": "function", "function": {"name": "f"}},
                "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}}),
            false,
        );
        assert_eq!(
            native["generationConfig"],
            json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
        );
        assert_eq!(
            native["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}})
        );
        let t = target(ProviderKind::Gemini, "gemini-2.5-flash", None);
        for extra in [
            json!({"parallel_tool_calls": false}),
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
        ] {
            let b = merged(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
                extra,
            );
            let err = Gemini::API
                .request(Operation::Chat, &t, &b, false)
                .unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains("gemini"), "{}", err.message);
        }
    }

    /// The guide's response, with thinking and cached tokens.
    #[test]
    fn golden_response() {
        let t = target(ProviderKind::Gemini, "gemini-2.5-flash", None);
        let parsed = Gemini::API
            .response(
                Operation::Chat,
                &t,
                Bytes::from_static(
                    br#"{"candidates": [{"content": {"parts": [{"text": "summary", "thought": true},
                        {"text": "AI learns patterns from data to make predictions or decisions.\n"}], "role": "model"},
                        "finishReason": "STOP", "avgLogprobs": -0.0366}],
                    "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 12, "totalTokenCount": 65,
                        "cachedContentTokenCount": 4, "thoughtsTokenCount": 45,
                        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
                    "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
                ),
            )
            .unwrap();
        assert_eq!(
            parsed.usage,
            TokenUsage {
                prompt: 8,
                completion: 57,
                cached: Some(4),
                cache_write: None,
                cache_write_1h: None,
                reasoning: Some(45)
            }
        );
        let ResponseBody::Translated(mut object) = parsed.body else {
            panic!("translated")
        };
        object.remove("created");
        assert_eq!(
            Value::Object(object),
            json!({"id": "resp-1", "object": "chat.completion", "model": "gemini-2.5-flash",
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null, "message": {"role": "assistant",
                    "refusal": null, "content": "AI learns patterns from data to make predictions or decisions.\n"}}],
                "usage": {"prompt_tokens": 8, "completion_tokens": 57, "total_tokens": 65,
                    "prompt_tokens_details": {"cached_tokens": 4},
                    "completion_tokens_details": {"reasoning_tokens": 45}}})
        );
    }

    /// A function call comes back with its signature inside the tool call id.
    #[test]
    fn golden_function_call_response() {
        let t = target(ProviderKind::Gemini, "gemini-2.5-flash", None);
        let parsed = Gemini::API
            .response(
                Operation::Chat,
                &t,
                Bytes::from_static(
                    br#"{"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "schedule_meeting",
                        "args": {"attendees": ["Bob", "Alice"], "date": "2025-03-27"}}, "thoughtSignature": "c2ln"}]},
                        "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 10}}"#,
                ),
            )
            .unwrap();
        let ResponseBody::Translated(object) = parsed.body else {
            panic!("translated")
        };
        let choice = &object["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(
            call["function"],
            json!({"name": "schedule_meeting", "arguments": "{\"attendees\":[\"Bob\",\"Alice\"],\"date\":\"2025-03-27\"}"})
        );
        assert_eq!(signature_of(call["id"].as_str().unwrap()), Some("c2ln"));
        assert_eq!(
            parsed.usage,
            TokenUsage {
                prompt: 30,
                completion: 10,
                ..Default::default()
            }
        );
    }

    #[test]
    fn golden_stream_ends_with_the_body() {
        let events = [
            r#"{"candidates": [{"content": {"parts": [{"text": "The"}], "role": "model"}, "index": 0}],
                "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash", "responseId": "r1"}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": " answer"}], "role": "model"}, "index": 0}],
                "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 2}, "modelVersion": "gemini-2.5-flash", "responseId": "r1"}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}], "role": "model"},
                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 5, "thoughtsTokenCount": 3},
                "modelVersion": "gemini-2.5-flash", "responseId": "r1"}"#,
        ];
        let t = target(ProviderKind::Gemini, "gemini-2.5-flash", None);
        let (chunks, usage, done) = drive(&t, &events);
        assert!(done, "the end of the body ends a finished stream");
        let deltas: Vec<Value> = chunks
            .iter()
            .map(|c| {
                assert_eq!(c["id"], "r1");
                let mut d = c["choices"][0]["delta"].clone();
                if let Some(calls) = d.get_mut("tool_calls") {
                    calls[0]["id"] = "ID".into();
                }
                json!([d, c["choices"][0]["finish_reason"]])
            })
            .collect();
        assert_eq!(
            deltas,
            vec![
                json!([{"role": "assistant", "content": "The"}, null]),
                json!([{"content": " answer"}, null]),
                json!([{"tool_calls": [{"index": 0, "id": "ID", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "tool_calls"]),
            ]
        );
        let (usage, _) = usage.unwrap();
        assert_eq!(
            usage,
            TokenUsage {
                prompt: 8,
                completion: 8,
                cached: None,
                cache_write: None,
                cache_write_1h: None,
                reasoning: Some(3)
            }
        );
        let mut state = StreamState::default();
        assert!(
            Gemini::API.stream_end(&mut state).is_none(),
            "an unfinished stream was cut off"
        );
    }

    #[test]
    fn resource_exhausted_is_a_rate_limit_with_googles_delay() {
        let t = target(ProviderKind::Gemini, "gemini-2.5-flash", None);
        let body = br#"{"error": {"code": 429, "message": "CANARY", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}]}}"#;
        let err = Gemini::API.error(&t, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), body);
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(err.retry_after_secs, Some(17));
        assert!(err.message.contains("gemini") && !err.message.contains("CANARY"));
        let body =
            br#"{"error": {"code": 400, "message": "CANARY", "status": "INVALID_ARGUMENT"}}"#;
        let err = Gemini::VERTEX.error(&t, StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("vertex") && err.message.contains("INVALID_ARGUMENT"));
        assert!(!err.message.contains("CANARY"));
    }
}
