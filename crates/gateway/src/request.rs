//! Reading a client's JSON body: syntax and the types of the fields the gateway or
//! the providers rely on. Errors name the field path and the expected type, never the
//! value that was sent. Unknown fields pass through untouched.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// What a field must be.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Bool,
    Integer,
    Number,
    Object,
    Array,
    StringOrArray,
    StringOrObject,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::String => v.is_string(),
            Kind::Bool => v.is_boolean(),
            Kind::Integer => v.is_i64() || v.is_u64(),
            Kind::Number => v.is_number(),
            Kind::Object => v.is_object(),
            Kind::Array => v.is_array(),
            Kind::StringOrArray => v.is_string() || v.is_array(),
            Kind::StringOrObject => v.is_string() || v.is_object(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Bool => "a boolean",
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::StringOrArray => "a string or an array",
            Kind::StringOrObject => "a string or an object",
        }
    }
}

/// Top-level fields of `/v1/chat/completions` whose type is checked.
const CHAT_FIELDS: &[(&str, Kind)] = &[
    ("model", Kind::String),
    ("messages", Kind::Array),
    ("stream", Kind::Bool),
    ("stream_options", Kind::Object),
    ("max_tokens", Kind::Integer),
    ("max_completion_tokens", Kind::Integer),
    ("n", Kind::Integer),
    ("temperature", Kind::Number),
    ("top_p", Kind::Number),
    ("presence_penalty", Kind::Number),
    ("frequency_penalty", Kind::Number),
    ("seed", Kind::Integer),
    ("stop", Kind::StringOrArray),
    ("tools", Kind::Array),
    ("tool_choice", Kind::StringOrObject),
    ("response_format", Kind::Object),
    ("user", Kind::String),
    ("logprobs", Kind::Bool),
    ("top_logprobs", Kind::Integer),
    ("parallel_tool_calls", Kind::Bool),
    ("usage", Kind::Object),
];

const EMBEDDING_FIELDS: &[(&str, Kind)] = &[
    ("model", Kind::String),
    ("input", Kind::StringOrArray),
    ("encoding_format", Kind::String),
    ("dimensions", Kind::Integer),
    ("user", Kind::String),
    ("usage", Kind::Object),
];

/// A validated chat request. `body` is the client's object as sent.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub body: Map<String, Value>,
    pub model: String,
    pub stream: bool,
    /// The client asked for usage: `stream_options.include_usage` or `usage.include`.
    pub wants_usage: bool,
}

#[derive(Debug, Clone)]
pub struct EmbeddingRequest {
    pub body: Map<String, Value>,
    pub model: String,
    pub wants_usage: bool,
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid_request(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::invalid_request(format!(
            "The request body is not valid JSON (line {}, column {}).",
            e.line(),
            e.column()
        ))),
    }
}

fn check_types(body: &Map<String, Value>, fields: &[(&str, Kind)]) -> Result<(), ApiError> {
    for (name, kind) in fields {
        match body.get(*name) {
            Some(v) if !v.is_null() && !kind.accepts(v) => {
                return Err(ApiError::invalid_request(format!(
                    "`{name}` must be {}.",
                    kind.describe()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn required_model(body: &Map<String, Value>) -> Result<String, ApiError> {
    match body.get("model").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => Ok(m.to_string()),
        _ => Err(ApiError::invalid_request("`model` is required.")),
    }
}

fn flag(body: &Map<String, Value>, object: &str, field: &str) -> Result<bool, ApiError> {
    match body.get(object).and_then(|o| o.get(field)) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid_request(format!(
            "`{object}.{field}` must be a boolean."
        ))),
    }
}

pub fn parse_chat(bytes: &[u8]) -> Result<ChatRequest, ApiError> {
    let body = parse_object(bytes)?;
    check_types(&body, CHAT_FIELDS)?;
    let model = required_model(&body)?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid_request("`messages` is required."))?;
    if messages.is_empty() {
        return Err(ApiError::invalid_request("`messages` must not be empty."));
    }
    for (i, m) in messages.iter().enumerate() {
        let Some(m) = m.as_object() else {
            return Err(ApiError::invalid_request(format!(
                "`messages[{i}]` must be an object."
            )));
        };
        if !m.get("role").is_some_and(Value::is_string) {
            return Err(ApiError::invalid_request(format!(
                "`messages[{i}].role` must be a string."
            )));
        }
        if let Some(c) = m.get("content")
            && !(c.is_null() || c.is_string() || c.is_array())
        {
            return Err(ApiError::invalid_request(format!(
                "`messages[{i}].content` must be a string or an array."
            )));
        }
    }
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let wants_usage =
        flag(&body, "stream_options", "include_usage")? || flag(&body, "usage", "include")?;
    Ok(ChatRequest {
        body,
        model,
        stream,
        wants_usage,
    })
}

pub fn parse_embedding(bytes: &[u8]) -> Result<EmbeddingRequest, ApiError> {
    let body = parse_object(bytes)?;
    check_types(&body, EMBEDDING_FIELDS)?;
    let model = required_model(&body)?;
    if !body.contains_key("input") {
        return Err(ApiError::invalid_request("`input` is required."));
    }
    let wants_usage = flag(&body, "usage", "include")?;
    Ok(EmbeddingRequest {
        body,
        model,
        wants_usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_name_the_field_not_the_value() {
        let err = parse_chat(
            br#"{"model":"m","messages":[{"role":"user","content":"CANARY"}],"stream":"CANARY"}"#,
        )
        .unwrap_err();
        assert_eq!(err.message, "`stream` must be a boolean.");
        let err =
            parse_chat(br#"{"model":"m","messages":[{"role":7,"content":"CANARY"}]}"#).unwrap_err();
        assert_eq!(err.message, "`messages[0].role` must be a string.");
    }

    #[test]
    fn syntax_errors_give_a_position_only() {
        let err = parse_chat(br#"{"model":"m","messages":[{"role":"user","content":"CANARY}]"#)
            .unwrap_err();
        assert!(
            err.message
                .starts_with("The request body is not valid JSON (line 1"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("CANARY"));
    }

    #[test]
    fn usage_switches() {
        let r = parse_chat(
            br#"{"model":"m","messages":[{"role":"user","content":"x"}],"usage":{"include":true}}"#,
        )
        .unwrap();
        assert!(r.wants_usage && !r.stream);
        let r = parse_chat(br#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#).unwrap();
        assert!(r.wants_usage && r.stream);
    }
}
