//! Reading a client's JSON body: syntax and the types of the fields the gateway or
//! the providers rely on. Errors name the field path and the expected type, never the
//! value that was sent. Unknown fields pass through untouched.

use std::cell::Cell;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::body::{ClientBody, Key, Members};
use crate::error::ApiError;
use crate::routing::Controls;

pub mod chat_translation;
pub mod controls;

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

/// What a JSON value is, told by its text (which `serde_json` has checked).
fn is_string(json: &str) -> bool {
    json.starts_with('"')
}

fn is_number(json: &str) -> bool {
    json.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

fn is_integer(json: &str) -> bool {
    is_number(json) && (json.parse::<i64>().is_ok() || json.parse::<u64>().is_ok())
}

fn is_object(json: &str) -> bool {
    json.starts_with('{')
}

fn is_array(json: &str) -> bool {
    json.starts_with('[')
}

fn as_bool(json: &str) -> Option<bool> {
    match json {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

impl Kind {
    fn accepts(self, v: &str) -> bool {
        match self {
            Kind::String => is_string(v),
            Kind::Bool => as_bool(v).is_some(),
            Kind::Integer => is_integer(v),
            Kind::Number => is_number(v),
            Kind::Object => is_object(v),
            Kind::Array => is_array(v),
            Kind::StringOrArray => is_string(v) || is_array(v),
            Kind::StringOrObject => is_string(v) || is_object(v),
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

/// Top-level fields of `/v1/responses` whose type is checked.
const RESPONSES_FIELDS: &[(&str, Kind)] = &[
    ("model", Kind::String),
    ("input", Kind::StringOrArray),
    ("instructions", Kind::String),
    ("stream", Kind::Bool),
    ("store", Kind::Bool),
    ("max_output_tokens", Kind::Integer),
    ("temperature", Kind::Number),
    ("top_p", Kind::Number),
    ("tools", Kind::Array),
    ("tool_choice", Kind::StringOrObject),
    ("text", Kind::Object),
    ("reasoning", Kind::Object),
    ("parallel_tool_calls", Kind::Bool),
    ("metadata", Kind::Object),
    ("include", Kind::Array),
    ("user", Kind::String),
    ("previous_response_id", Kind::String),
    ("usage", Kind::Object),
];

/// Top-level fields of `/v1/messages` (and `count_tokens`) whose type is checked.
const MESSAGES_FIELDS: &[(&str, Kind)] = &[
    ("model", Kind::String),
    ("messages", Kind::Array),
    ("max_tokens", Kind::Integer),
    ("system", Kind::StringOrArray),
    ("stream", Kind::Bool),
    ("stop_sequences", Kind::Array),
    ("temperature", Kind::Number),
    ("top_p", Kind::Number),
    ("top_k", Kind::Integer),
    ("tools", Kind::Array),
    ("tool_choice", Kind::Object),
    ("metadata", Kind::Object),
    ("thinking", Kind::Object),
    ("output_config", Kind::Object),
    ("usage", Kind::Object),
];

/// A validated request. `body` is the client's object as sent.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    pub body: ClientBody,
    pub model: String,
    pub stream: bool,
    /// The client asked for usage: `stream_options.include_usage` or `usage.include`.
    pub wants_usage: bool,
    /// The request's routing members, taken out of `body`.
    pub controls: Controls,
}

fn check_types(body: &ClientBody, fields: &[(&str, Kind)]) -> Result<(), ApiError> {
    for (name, kind) in fields {
        match body.get(name) {
            Some(v) if v != "null" && !kind.accepts(v) => {
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

fn required_model(body: &ClientBody) -> Result<String, ApiError> {
    match body.get("model").map(serde_json::from_str::<String>) {
        Some(Ok(m)) if !m.is_empty() => Ok(m),
        _ => Err(ApiError::invalid_request("`model` is required.")),
    }
}

/// Member `field` of the object member `object` (whose type is already checked).
fn flag(body: &ClientBody, object: &str, field: &str) -> Result<bool, ApiError> {
    let value = body
        .get(object)
        .filter(|o| is_object(o))
        .and_then(|o| Members::parse(o).ok()?.get(field));
    match value {
        None | Some("null") => Ok(false),
        Some(v) => as_bool(v).ok_or_else(|| {
            ApiError::invalid_request(format!("`{object}.{field}` must be a boolean."))
        }),
    }
}

fn check_messages(body: &ClientBody) -> Result<(), ApiError> {
    let messages = body
        .get("messages")
        .filter(|m| is_array(m))
        .ok_or_else(|| ApiError::invalid_request("`messages` is required."))?;
    let walk = MessagesWalk::default();
    let walked = (&mut serde_json::Deserializer::from_str(messages)).deserialize_seq(&walk);
    let problem = match walked {
        Ok(0) => Some(MessageProblem::Empty),
        Ok(_) => walk.first.get(),
        // The text is valid JSON (the body parsed), so the walk fails only on a
        // message that is not an object.
        Err(_) => walk
            .first
            .get()
            .or(Some(MessageProblem::NotObject(walk.at.get()))),
    };
    problem.map_or(Ok(()), |p| Err(p.error()))
}

/// The first thing wrong with `messages`.
#[derive(Debug, Clone, Copy)]
enum MessageProblem {
    Empty,
    NotObject(usize),
    Role(usize),
    Content(usize),
}

impl MessageProblem {
    fn error(self) -> ApiError {
        ApiError::invalid_request(match self {
            MessageProblem::Empty => "`messages` must not be empty.".to_string(),
            MessageProblem::NotObject(i) => format!("`messages[{i}]` must be an object."),
            MessageProblem::Role(i) => format!("`messages[{i}].role` must be a string."),
            MessageProblem::Content(i) => {
                format!("`messages[{i}].content` must be a string or an array.")
            }
        })
    }
}

/// One pass over the messages' text (they are the bulk of a body, so they are not
/// read twice): `at` is the message being read, `first` the first problem seen.
#[derive(Default)]
struct MessagesWalk {
    at: Cell<usize>,
    first: Cell<Option<MessageProblem>>,
}

impl<'de> Visitor<'de> for &MessagesWalk {
    /// How many messages there are.
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        while let Some(message) = seq.next_element::<MessageKinds>()? {
            let i = self.at.get();
            if self.first.get().is_none() {
                self.first.set(message.problem(i));
            }
            self.at.set(i + 1);
        }
        Ok(self.at.get())
    }
}

/// Whether a message's `role` and `content` (the last of each, as with any member)
/// have the types providers rely on. Deserializing anything but an object fails.
struct MessageKinds {
    role: bool,
    content: bool,
}

impl MessageKinds {
    fn problem(&self, i: usize) -> Option<MessageProblem> {
        if !self.role {
            Some(MessageProblem::Role(i))
        } else if !self.content {
            Some(MessageProblem::Content(i))
        } else {
            None
        }
    }
}

impl<'de> Deserialize<'de> for MessageKinds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MessageVisitor;

        impl<'de> Visitor<'de> for MessageVisitor {
            type Value = MessageKinds;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MessageKinds, A::Error> {
                let mut kinds = MessageKinds {
                    role: false,
                    content: true,
                };
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        "role" => kinds.role = is_string(map.next_value::<&RawValue>()?.get()),
                        "content" => {
                            let c = map.next_value::<&RawValue>()?.get();
                            kinds.content = c == "null" || is_string(c) || is_array(c);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(kinds)
            }
        }

        deserializer.deserialize_map(MessageVisitor)
    }
}

pub fn parse_chat(bytes: Bytes) -> Result<ClientRequest, ApiError> {
    let mut body = ClientBody::parse(bytes)?;
    let controls = controls::take(&mut body)?;
    check_types(&body, CHAT_FIELDS)?;
    let model = required_model(&body)?;
    check_messages(&body)?;
    let stream = body.get("stream").and_then(as_bool).unwrap_or(false);
    let wants_usage =
        flag(&body, "stream_options", "include_usage")? || flag(&body, "usage", "include")?;
    Ok(ClientRequest {
        body,
        model,
        stream,
        wants_usage,
        controls,
    })
}

/// Reads a `/v1/responses` body. Meridian keeps no content, so nothing can be
/// referred to by id: `previous_response_id`, `conversation` and `item_reference`
/// input items are refused, with what to send instead.
pub fn parse_responses(bytes: Bytes) -> Result<ClientRequest, ApiError> {
    let mut body = ClientBody::parse(bytes)?;
    let controls = controls::take(&mut body)?;
    check_types(&body, RESPONSES_FIELDS)?;
    let model = required_model(&body)?;
    for member in ["previous_response_id", "conversation"] {
        if body.get(member).is_some_and(|v| v != "null") {
            return Err(ApiError::unsupported(format!(
                "`{member}` cannot be used: Meridian stores no responses or conversations (every request is stateless, as with `store: false`); send the whole conversation in `input`."
            )));
        }
    }
    let input = body
        .get("input")
        .filter(|i| *i != "null")
        .ok_or_else(|| ApiError::invalid_request("`input` is required."))?;
    if is_array(input) {
        let items: Vec<ItemKind> = serde_json::from_str(input).map_err(|_| {
            ApiError::invalid_request("`input` must be a string or an array of objects.")
        })?;
        if let Some(i) = items
            .iter()
            .position(|item| item.kind.as_deref() == Some("item_reference"))
        {
            return Err(ApiError::unsupported(format!(
                "`input[{i}]` is an `item_reference`: Meridian stores no items (every request is stateless); send the item itself in `input`."
            )));
        }
    }
    let stream = body.get("stream").and_then(as_bool).unwrap_or(false);
    let wants_usage = flag(&body, "usage", "include")?;
    Ok(ClientRequest {
        body,
        model,
        stream,
        wants_usage,
        controls,
    })
}

/// Reads a `/v1/messages` body (`count` for `/v1/messages/count_tokens`, which takes
/// no `max_tokens` and never streams). Members are checked for their type only: what
/// they hold is the provider's to judge, or the translation's
/// ([`crate::messages`]).
pub fn parse_messages(bytes: Bytes, count: bool) -> Result<ClientRequest, ApiError> {
    let mut body = ClientBody::parse(bytes)?;
    let controls = controls::take(&mut body)?;
    check_types(&body, MESSAGES_FIELDS)?;
    let model = required_model(&body)?;
    if !body.get("messages").is_some_and(is_array) {
        return Err(ApiError::invalid_request("`messages` is required."));
    }
    if !count && !body.get("max_tokens").is_some_and(is_integer) {
        return Err(ApiError::invalid_request("`max_tokens` is required."));
    }
    let stream = !count && body.get("stream").and_then(as_bool).unwrap_or(false);
    let wants_usage = flag(&body, "usage", "include")?;
    Ok(ClientRequest {
        body,
        model,
        stream,
        wants_usage,
        controls,
    })
}

/// The `type` of a Responses input item.
#[derive(Deserialize)]
struct ItemKind<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// Most inputs one embeddings request may carry, as OpenAI allows.
pub const MAX_EMBEDDING_INPUTS: usize = 2048;

/// How many inputs an `input` array holds: one when it is a single tokenized input
/// (an array of integers), else one per item.
struct InputCount;

impl<'de> Visitor<'de> for InputCount {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of inputs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let Some(first) = seq.next_element::<&RawValue>()? else {
            return Ok(0);
        };
        let mut items = 1;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            items += 1;
        }
        Ok(if is_number(first.get()) { 1 } else { items })
    }
}

fn check_input(body: &ClientBody) -> Result<(), ApiError> {
    let input = body
        .get("input")
        .filter(|i| *i != "null")
        .ok_or_else(|| ApiError::invalid_request("`input` is required."))?;
    if !is_array(input) {
        return Ok(());
    }
    let count = (&mut serde_json::Deserializer::from_str(input))
        .deserialize_seq(InputCount)
        .unwrap_or(0);
    match count {
        0 => Err(ApiError::invalid_request("`input` must not be empty.")),
        n if n > MAX_EMBEDDING_INPUTS => Err(ApiError::invalid_request(format!(
            "`input` holds {n} inputs; at most {MAX_EMBEDDING_INPUTS} are embedded per request."
        ))),
        _ => Ok(()),
    }
}

pub fn parse_embedding(bytes: Bytes) -> Result<ClientRequest, ApiError> {
    let mut body = ClientBody::parse(bytes)?;
    let controls = controls::take(&mut body)?;
    check_types(&body, EMBEDDING_FIELDS)?;
    let model = required_model(&body)?;
    check_input(&body)?;
    let wants_usage = flag(&body, "usage", "include")?;
    Ok(ClientRequest {
        body,
        model,
        stream: false,
        wants_usage,
        controls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(body: &'static [u8]) -> Result<ClientRequest, ApiError> {
        parse_chat(Bytes::from_static(body))
    }

    #[test]
    fn wrong_types_name_the_field_not_the_value() {
        let err = chat(
            br#"{"model":"m","messages":[{"role":"user","content":"CANARY"}],"stream":"CANARY"}"#,
        )
        .unwrap_err();
        assert_eq!(err.message, "`stream` must be a boolean.");
        let err = chat(br#"{"model":"m","messages":[{"role":7,"content":"CANARY"}]}"#).unwrap_err();
        assert_eq!(err.message, "`messages[0].role` must be a string.");
        let err = chat(br#"{"model":"m","messages":[{"role":"user","content":7}]}"#).unwrap_err();
        assert_eq!(
            err.message,
            "`messages[0].content` must be a string or an array."
        );
        let err = chat(br#"{"model":"m","messages":["CANARY"]}"#).unwrap_err();
        assert_eq!(err.message, "`messages[0]` must be an object.");
    }

    #[test]
    fn the_first_wrong_message_is_named() {
        for (messages, expected) in [
            (r#"[]"#, "`messages` must not be empty."),
            (
                r#"[{"role":7}, "x"]"#,
                "`messages[0].role` must be a string.",
            ),
            (
                r#"[{"role":"user"}, "x"]"#,
                "`messages[1]` must be an object.",
            ),
            (
                r#"[{"role":"user"}, {"role":"user","content":[]}, {"content":"hi"}]"#,
                "`messages[2].role` must be a string.",
            ),
            (
                r#"[{"role":"user","content":{}}, {"role":1}]"#,
                "`messages[0].content` must be a string or an array.",
            ),
            (
                r#"[{"role":"user"}, [{"role":"user"}]]"#,
                "`messages[1]` must be an object.",
            ),
            (
                r#"[{"role":"user"}, null]"#,
                "`messages[1]` must be an object.",
            ),
        ] {
            let body = format!(r#"{{"model":"m","messages":{messages}}}"#);
            let err = parse_chat(Bytes::from(body)).unwrap_err();
            assert_eq!(err.message, expected, "{messages}");
        }
    }

    #[test]
    fn a_message_member_counts_as_its_last_occurrence_and_escaped_names_count() {
        for messages in [
            r#"[{"role":7,"role":"user"}]"#,
            r#"[{"r\u006fle":"user","content":"hi","extra":{"role":1}}]"#,
            r#"[{"role":"user","content":7,"content":null}]"#,
        ] {
            let body = format!(r#"{{"model":"m","messages":{messages}}}"#);
            let ok = parse_chat(Bytes::from(body));
            assert!(ok.is_ok(), "{messages}: {:?}", ok.err().map(|e| e.message));
        }
        let err = chat(br#"{"model":"m","messages":[{"role":"user","role":7}]}"#).unwrap_err();
        assert_eq!(err.message, "`messages[0].role` must be a string.");
    }

    #[test]
    fn numbers_integers_and_nulls() {
        let ok = chat(
            br#"{"model":"m","messages":[{"role":"user","content":null}],"max_tokens":12,
                "seed":-3,"temperature":0.5e0,"top_p":1,"stop":null,"n":18446744073709551615}"#,
        );
        assert!(ok.is_ok(), "{:?}", ok.err().map(|e| e.message));
        for (body, field) in [
            (
                &br#"{"model":"m","messages":[{"role":"u"}],"max_tokens":1.5}"#[..],
                "max_tokens",
            ),
            (
                br#"{"model":"m","messages":[{"role":"u"}],"seed":1e3}"#,
                "seed",
            ),
            (
                br#"{"model":"m","messages":[{"role":"u"}],"temperature":"1"}"#,
                "temperature",
            ),
            (br#"{"model":"m","messages":[{"role":"u"}],"n":true}"#, "n"),
        ] {
            let err = chat(body).unwrap_err();
            assert!(
                err.message.starts_with(&format!("`{field}` must be")),
                "{}",
                err.message
            );
        }
        let err = chat(br#"{"model":"","messages":[{"role":"u"}]}"#).unwrap_err();
        assert_eq!(err.message, "`model` is required.");
        let err = chat(br#"{"model":"m","messages":[]}"#).unwrap_err();
        assert_eq!(err.message, "`messages` must not be empty.");
    }

    #[test]
    fn syntax_errors_give_a_position_only() {
        let err =
            chat(br#"{"model":"m","messages":[{"role":"user","content":"CANARY}]"#).unwrap_err();
        assert!(
            err.message
                .starts_with("The request body is not valid JSON (line 1"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("CANARY"));
    }

    #[test]
    fn embedding_inputs_are_capped_as_openai_caps_them() {
        let embed = |input: String| {
            parse_embedding(Bytes::from(format!(r#"{{"model":"m","input":{input}}}"#)))
        };
        let items = |n: usize| format!("[{}]", vec![r#""CANARY""#; n].join(","));
        assert!(embed(items(MAX_EMBEDDING_INPUTS)).is_ok());
        let err = embed(items(MAX_EMBEDDING_INPUTS + 1)).unwrap_err();
        assert_eq!(
            err.message,
            "`input` holds 2049 inputs; at most 2048 are embedded per request."
        );
        // Token arrays count as inputs; one array of tokens is one input.
        let tokens = format!("[{}]", vec!["[1,2]"; MAX_EMBEDDING_INPUTS + 1].join(","));
        assert!(
            embed(tokens)
                .unwrap_err()
                .message
                .starts_with("`input` holds 2049")
        );
        assert!(embed(format!("[{}]", vec!["7"; 5000].join(","))).is_ok());
        assert_eq!(
            embed("[]".into()).unwrap_err().message,
            "`input` must not be empty."
        );
        assert_eq!(
            embed("null".into()).unwrap_err().message,
            "`input` is required."
        );
        assert!(embed(r#""one""#.into()).is_ok());
    }

    #[test]
    fn responses_refer_to_nothing_stored() {
        let responses = |extra: &str| {
            parse_responses(Bytes::from(format!(
                r#"{{"model":"m","input":[{{"role":"user","content":"CANARY"}}]{extra}}}"#
            )))
        };
        assert!(responses("").is_ok());
        assert!(responses(r#","previous_response_id":null"#).is_ok());
        for (extra, named) in [
            (
                r#","previous_response_id":"resp_1""#,
                "`previous_response_id`",
            ),
            (r#","conversation":"conv_1""#, "`conversation`"),
        ] {
            let err = responses(extra).unwrap_err();
            assert!(err.message.starts_with(&format!("{named} cannot be used")));
            assert!(
                err.message
                    .contains("send the whole conversation in `input`")
            );
        }
        let err = parse_responses(Bytes::from_static(
            br#"{"model":"m","input":[{"role":"user","content":"x"},{"type":"item_reference","id":"msg_1"}]}"#,
        ))
        .unwrap_err();
        assert!(
            err.message.starts_with("`input[1]` is an `item_reference`"),
            "{}",
            err.message
        );
        let err = parse_responses(Bytes::from_static(br#"{"model":"m"}"#)).unwrap_err();
        assert_eq!(err.message, "`input` is required.");
        let err = parse_responses(Bytes::from_static(br#"{"model":"m","input":7}"#)).unwrap_err();
        assert_eq!(err.message, "`input` must be a string or an array.");
    }

    #[test]
    fn usage_switches() {
        let r = chat(
            br#"{"model":"m","messages":[{"role":"user","content":"x"}],"usage":{"include":true}}"#,
        )
        .unwrap();
        assert!(r.wants_usage && !r.stream);
        let r = chat(br#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#).unwrap();
        assert!(r.wants_usage && r.stream);
        let err = chat(
            br#"{"model":"m","messages":[{"role":"u"}],"stream_options":{"include_usage":1}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "`stream_options.include_usage` must be a boolean."
        );
    }
}
