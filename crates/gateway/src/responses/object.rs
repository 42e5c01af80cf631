//! The Responses API's objects as Meridian writes them for a translated answer: the
//! `response` (with the request parameters it repeats), its output items, its usage,
//! and the typed SSE events of a stream.

use bytes::Bytes;
use meridian_core::TokenUsage;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::stream::sse_event;

/// The request parameters a response repeats, as sent or at their defaults. Meridian
/// stores nothing, so `store` is always false.
#[derive(Debug, Clone)]
pub struct Echo(Map<String, Value>);

impl Echo {
    pub fn of(request: &Map<String, Value>) -> Echo {
        let given = |key: &str, default: Value| {
            request
                .get(key)
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or(default)
        };
        let reasoning = given("reasoning", json!({}));
        let format = request
            .get("text")
            .and_then(|t| t.get("format"))
            .filter(|f| !f.is_null())
            .cloned()
            .unwrap_or_else(|| json!({"type": "text"}));
        let mut echo = Map::new();
        echo.insert("instructions".into(), given("instructions", Value::Null));
        echo.insert(
            "max_output_tokens".into(),
            given("max_output_tokens", Value::Null),
        );
        echo.insert("metadata".into(), given("metadata", json!({})));
        echo.insert(
            "parallel_tool_calls".into(),
            given("parallel_tool_calls", json!(true)),
        );
        echo.insert("previous_response_id".into(), Value::Null);
        echo.insert(
            "reasoning".into(),
            json!({"effort": reasoning.get("effort").cloned().unwrap_or_default(),
                   "summary": reasoning.get("summary").cloned().unwrap_or_default()}),
        );
        echo.insert("store".into(), json!(false));
        echo.insert("temperature".into(), given("temperature", Value::Null));
        echo.insert("text".into(), json!({"format": format}));
        echo.insert("tool_choice".into(), given("tool_choice", json!("auto")));
        echo.insert("tools".into(), given("tools", json!([])));
        echo.insert("top_p".into(), given("top_p", Value::Null));
        echo.insert("truncation".into(), json!("disabled"));
        echo.insert("user".into(), given("user", Value::Null));
        Echo(echo)
    }
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Completed,
    /// Cut short: the output budget ran out, or the provider's content filter.
    Incomplete(&'static str),
}

impl Status {
    /// From a chat `finish_reason`.
    pub fn of_finish(finish: Option<&str>) -> Status {
        match finish {
            Some("length") => Status::Incomplete("max_output_tokens"),
            Some("content_filter") => Status::Incomplete("content_filter"),
            _ => Status::Completed,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete(_) => "incomplete",
        }
    }

    /// The event that ends a stream with this status.
    pub fn final_event(self) -> &'static str {
        match self {
            Status::Incomplete(_) => "response.incomplete",
            _ => "response.completed",
        }
    }
}

/// A fresh id with OpenAI's prefix for its kind (`resp_`, `msg_`, `fc_`, `rs_`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// The Responses API's usage object. A kind the provider did not report counts as 0
/// (the object has no way to leave it out).
pub fn usage_json(u: &TokenUsage) -> Value {
    json!({
        "input_tokens": u.prompt,
        "input_tokens_details": {"cached_tokens": u.cached.unwrap_or(0)},
        "output_tokens": u.completion,
        "output_tokens_details": {"reasoning_tokens": u.reasoning.unwrap_or(0)},
        "total_tokens": u.prompt + u.completion,
    })
}

/// What a response is made of besides the repeated parameters.
pub struct Head<'a> {
    pub id: &'a str,
    pub created_at: i64,
    pub model: &'a str,
    pub echo: &'a Echo,
}

/// A `response` object.
pub fn response(
    head: &Head<'_>,
    status: Status,
    output: Vec<Value>,
    usage: Option<&TokenUsage>,
) -> Map<String, Value> {
    let mut object = head.echo.0.clone();
    object.insert("id".into(), json!(head.id));
    object.insert("object".into(), json!("response"));
    object.insert("created_at".into(), json!(head.created_at));
    object.insert("status".into(), json!(status.name()));
    object.insert("error".into(), Value::Null);
    object.insert(
        "incomplete_details".into(),
        match status {
            Status::Incomplete(reason) => json!({"reason": reason}),
            _ => Value::Null,
        },
    );
    object.insert("model".into(), json!(head.model));
    object.insert("output".into(), Value::Array(output));
    object.insert("usage".into(), usage.map_or(Value::Null, usage_json));
    object
}

pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// An assistant message item holding `text`.
pub fn message_item(id: &str, status: &str, text: Option<&str>) -> Value {
    let content = text.map_or_else(|| json!([]), |t| json!([text_part(t)]));
    json!({"id": id, "type": "message", "status": status, "role": "assistant", "content": content})
}

pub fn function_call_item(
    id: &str,
    status: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Value {
    json!({"id": id, "type": "function_call", "status": status, "call_id": call_id,
           "name": name, "arguments": arguments})
}

/// A reasoning item whose summary is the provider's reasoning text.
pub fn reasoning_item(id: &str, summary: Option<&str>) -> Value {
    let summary = summary.map_or_else(
        || json!([]),
        |text| json!([{"type": "summary_text", "text": text}]),
    );
    json!({"id": id, "type": "reasoning", "summary": summary})
}

/// One SSE event: `event: <kind>` and its data, whose `type` is `kind`.
pub fn event(kind: &str, sequence_number: u64, mut data: Map<String, Value>) -> Bytes {
    data.insert("type".into(), json!(kind));
    data.insert("sequence_number".into(), json!(sequence_number));
    sse_event(kind, &serde_json::to_vec(&data).unwrap_or_default())
}

/// The data of a stream's last event, `kind`, around the response's JSON text (which
/// carries the exact cost as written by [`crate::cost_json`]).
pub fn with_response(kind: &str, sequence_number: u64, response: String) -> Vec<u8> {
    let data = json!({"type": kind, "sequence_number": sequence_number}).to_string();
    crate::cost_json::append_raw_field(data, "response", &response).into_bytes()
}

/// The `error` event that ends a stream the provider broke off.
pub fn error_event(sequence_number: u64, error: &ApiError) -> Bytes {
    let mut data = Map::new();
    data.insert("code".into(), json!(error.code.unwrap_or(error.kind)));
    data.insert("message".into(), json!(error.message));
    data.insert("param".into(), Value::Null);
    event("error", sequence_number, data)
}

/// A map from `json!` object literals.
pub fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
