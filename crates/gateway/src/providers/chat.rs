//! The client's chat request, read once for the translating adapters (Anthropic,
//! Gemini, Bedrock) into a [`Chat`] of provider-neutral turns. Every field is either
//! translated, neutral (OpenAI's default, which changes nothing), or refused with a 400
//! that names the field and the provider: nothing is silently dropped. What a
//! provider can do is declared in its [`Capabilities`]. Messages name fields, never
//! values.

use serde_json::{Map, Number, Value, json};

use crate::body::values;
use crate::error::ApiError;

/// What a provider can do beyond plain chat. A request asking for anything else is
/// refused before it is sent.
pub struct Capabilities {
    /// The provider's name in messages (`anthropic`).
    pub provider: &'static str,
    pub seed: bool,
    /// `presence_penalty` and `frequency_penalty` other than 0.
    pub penalties: bool,
    /// `n` other than 1.
    pub n: bool,
    /// `response_format: {"type": "json_object"}` (a schema-less JSON mode).
    pub json_object: bool,
    /// Images by `http(s)` URL (all providers take `data:` URLs).
    pub image_urls: bool,
    /// `tool_choice: "none"`.
    pub tool_choice_none: bool,
    /// `parallel_tool_calls: false`.
    pub serial_tool_calls: bool,
    /// The highest `temperature` the provider accepts.
    pub max_temperature: f64,
}

/// The client's chat request, read and checked.
#[derive(Debug, Default)]
pub struct Chat {
    /// System and developer messages, in order.
    pub system: Vec<String>,
    pub turns: Vec<Turn>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub response_format: Option<ResponseFormat>,
    pub stop: Vec<String>,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_tokens: Option<u64>,
    pub temperature: Option<Number>,
    pub top_p: Option<Number>,
    /// Number of choices, when more than one.
    pub n: Option<u64>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<Number>,
    pub frequency_penalty: Option<Number>,
    /// `Some(false)` when the client asked for one tool call at a time.
    pub parallel_tool_calls: Option<bool>,
    pub user: Option<String>,
}

#[derive(Debug, PartialEq)]
pub enum Turn {
    User(Vec<Part>),
    Assistant {
        text: Option<String>,
        tool_calls: Vec<ToolCall>,
    },
    /// A `tool` message, with the name of the call it answers.
    ToolResult {
        call_id: String,
        name: String,
        content: String,
    },
}

#[derive(Debug, PartialEq)]
pub enum Part {
    Text(String),
    /// A base64 image from a `data:` URL.
    Image {
        media_type: String,
        data: String,
    },
    ImageUrl(String),
}

#[derive(Debug, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments, parsed from OpenAI's JSON string.
    pub arguments: Value,
}

#[derive(Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments (`{"type": "object"}` when the client gave none).
    pub parameters: Value,
    pub strict: Option<bool>,
}

#[derive(Debug, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    Named(String),
}

#[derive(Debug, PartialEq)]
pub enum ResponseFormat {
    JsonObject,
    JsonSchema {
        name: String,
        description: Option<String>,
        schema: Value,
    },
}

fn unsupported(caps: &Capabilities, what: &str) -> ApiError {
    ApiError::unsupported(format!("{what} is not supported by {}.", caps.provider))
}

fn invalid(path: &str, expected: &str) -> ApiError {
    ApiError::invalid_request(format!("`{path}` must be {expected}."))
}

fn string(v: &Value, path: &str) -> Result<String, ApiError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| invalid(path, "a string"))
}

fn number(v: &Value, path: &str) -> Result<Number, ApiError> {
    match v {
        Value::Number(n) => Ok(n.clone()),
        _ => Err(invalid(path, "a number")),
    }
}

fn count(v: &Value, path: &str) -> Result<u64, ApiError> {
    v.as_u64()
        .ok_or_else(|| invalid(path, "a non-negative integer"))
}

fn is_zero(n: &Number) -> bool {
    n.as_f64() == Some(0.0)
}

impl Chat {
    /// Reads an OpenAI chat body. Every field is either translated, neutral (its
    /// default value), or refused.
    pub fn parse(body: Map<String, Value>, caps: &Capabilities) -> Result<Chat, ApiError> {
        let mut chat = Chat::default();
        let mut max_tokens = None;
        for (key, value) in &body {
            if value.is_null() {
                continue;
            }
            match key.as_str() {
                // Handled by the gateway: the route, the stream switch, usage reporting.
                "model" | "stream" | "stream_options" | "usage" => {}
                "messages" => read_messages(&mut chat, value, caps)?,
                "max_completion_tokens" => chat.max_tokens = Some(count(value, key)?),
                "max_tokens" => max_tokens = Some(count(value, key)?),
                "temperature" => {
                    let t = number(value, key)?;
                    if t.as_f64().is_some_and(|t| t > caps.max_temperature) {
                        return Err(ApiError::unsupported(format!(
                            "`temperature` above {} is not supported by {}.",
                            caps.max_temperature, caps.provider
                        )));
                    }
                    chat.temperature = Some(t);
                }
                "top_p" => chat.top_p = Some(number(value, key)?),
                "n" => match count(value, key)? {
                    1 => {}
                    _ if !caps.n => return Err(unsupported(caps, "`n` other than 1")),
                    n => chat.n = Some(n),
                },
                "seed" if caps.seed => {
                    chat.seed = Some(value.as_i64().ok_or_else(|| invalid(key, "an integer"))?)
                }
                "presence_penalty" | "frequency_penalty" => {
                    let p = number(value, key)?;
                    if !is_zero(&p) {
                        if !caps.penalties {
                            return Err(unsupported(caps, &format!("`{key}`")));
                        }
                        if key == "presence_penalty" {
                            chat.presence_penalty = Some(p);
                        } else {
                            chat.frequency_penalty = Some(p);
                        }
                    }
                }
                "stop" => chat.stop = read_stop(value)?,
                "tools" => chat.tools = read_tools(value)?,
                "tool_choice" => chat.tool_choice = Some(read_tool_choice(value, caps)?),
                "response_format" => chat.response_format = read_response_format(value, caps)?,
                "parallel_tool_calls" => match value.as_bool() {
                    Some(true) => {}
                    Some(false) => chat.parallel_tool_calls = Some(false),
                    None => return Err(invalid(key, "a boolean")),
                },
                "user" => chat.user = Some(string(value, key)?),
                // OpenAI's defaults, which change nothing.
                "logprobs" | "store" if value == &Value::Bool(false) => {}
                other => return Err(unsupported(caps, &format!("`{other}`"))),
            }
        }
        chat.max_tokens = chat.max_tokens.or(max_tokens);
        if chat.parallel_tool_calls == Some(false) && !caps.serial_tool_calls {
            // A forced function is one call: asking for one at a time then means
            // nothing (LangChain's `with_structured_output` sends both).
            if !matches!(chat.tool_choice, Some(ToolChoice::Named(_))) {
                return Err(unsupported(
                    caps,
                    "`parallel_tool_calls: false` (unless `tool_choice` names a function)",
                ));
            }
            chat.parallel_tool_calls = None;
        }
        Ok(chat)
    }
}

/// Text of a `content` that may be a string or an array of text parts.
fn text_content(v: &Value, path: &str) -> Result<String, ApiError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (j, p) in parts.iter().enumerate() {
                let kind = p.get("type").and_then(Value::as_str);
                let field = match kind {
                    Some("text") => "text",
                    Some("refusal") => "refusal",
                    _ => return Err(invalid(&format!("{path}[{j}].type"), "`text`")),
                };
                text.push_str(&string(&p[field], &format!("{path}[{j}].{field}"))?);
            }
            Ok(text)
        }
        _ => Err(invalid(path, "a string or an array")),
    }
}

fn read_messages(chat: &mut Chat, v: &Value, caps: &Capabilities) -> Result<(), ApiError> {
    let messages = v
        .as_array()
        .ok_or_else(|| invalid("messages", "an array"))?;
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let content = &m["content"];
        match m["role"].as_str() {
            Some("system" | "developer") => chat
                .system
                .push(text_content(content, &format!("{at}.content"))?),
            Some("user") => chat
                .turns
                .push(Turn::User(read_user_content(content, &at, caps)?)),
            Some("assistant") => {
                if m.get("function_call").is_some_and(|f| !f.is_null()) {
                    return Err(unsupported(
                        caps,
                        &format!("`{at}.function_call` (use `tool_calls`)"),
                    ));
                }
                let text = text_content(content, &format!("{at}.content"))?;
                let tool_calls = read_tool_calls(&m["tool_calls"], &at)?;
                chat.turns.push(Turn::Assistant {
                    text: (!text.is_empty()).then_some(text),
                    tool_calls,
                });
            }
            Some("tool") => {
                let call_id = string(&m["tool_call_id"], &format!("{at}.tool_call_id"))?;
                let name = chat
                    .turns
                    .iter()
                    .rev()
                    .find_map(|t| match t {
                        Turn::Assistant { tool_calls, .. } => {
                            tool_calls.iter().find(|c| c.id == call_id).map(|c| c.name.clone())
                        }
                        _ => None,
                    })
                    .ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "`{at}.tool_call_id` answers no tool call of an earlier assistant message."
                        ))
                    })?;
                let content = text_content(content, &format!("{at}.content"))?;
                chat.turns.push(Turn::ToolResult {
                    call_id,
                    name,
                    content,
                });
            }
            Some("function") => {
                return Err(unsupported(
                    caps,
                    &format!("`{at}.role` `function` (use `tool`)"),
                ));
            }
            _ => {
                return Err(invalid(
                    &format!("{at}.role"),
                    "one of `system`, `developer`, `user`, `assistant`, `tool`",
                ));
            }
        }
    }
    Ok(())
}

fn read_user_content(v: &Value, at: &str, caps: &Capabilities) -> Result<Vec<Part>, ApiError> {
    let Value::Array(parts) = v else {
        return Ok(vec![Part::Text(text_content(v, &format!("{at}.content"))?)]);
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let path = format!("{at}.content[{j}]");
        match p.get("type").and_then(Value::as_str) {
            Some("text") => out.push(Part::Text(string(&p["text"], &format!("{path}.text"))?)),
            Some("image_url") => {
                let url_path = format!("{path}.image_url.url");
                let url = p["image_url"]["url"]
                    .as_str()
                    .or_else(|| p["image_url"].as_str())
                    .ok_or_else(|| invalid(&url_path, "a string"))?;
                out.push(read_image(url, &url_path, caps)?);
            }
            Some(other) if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                return Err(unsupported(caps, &format!("`{path}.type` `{other}`")));
            }
            _ => return Err(invalid(&format!("{path}.type"), "`text` or `image_url`")),
        }
    }
    Ok(out)
}

fn read_image(url: &str, path: &str, caps: &Capabilities) -> Result<Part, ApiError> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (head, data) = rest
            .split_once(',')
            .ok_or_else(|| invalid(path, "a `data:` URL with a comma"))?;
        let media_type = head
            .strip_suffix(";base64")
            .filter(|m| m.starts_with("image/"))
            .ok_or_else(|| invalid(path, "a base64 `data:image/...` URL"))?;
        return Ok(Part::Image {
            media_type: media_type.to_string(),
            data: data.to_string(),
        });
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid(path, "an http(s) or `data:` URL"));
    }
    if !caps.image_urls {
        return Err(ApiError::unsupported(format!(
            "`{path}`: {} takes images as base64 `data:` URLs only.",
            caps.provider
        )));
    }
    Ok(Part::ImageUrl(url.to_string()))
}

fn read_tool_calls(v: &Value, at: &str) -> Result<Vec<ToolCall>, ApiError> {
    let Some(calls) = v.as_array() else {
        return if v.is_null() {
            Ok(Vec::new())
        } else {
            Err(invalid(&format!("{at}.tool_calls"), "an array"))
        };
    };
    calls
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let path = format!("{at}.tool_calls[{j}]");
            let f = &c["function"];
            let args = f["arguments"].as_str().unwrap_or_default();
            let arguments = if args.trim().is_empty() {
                json!({})
            } else {
                let field = format!("{path}.function.arguments");
                let arguments = serde_json::from_str(args);
                // What cannot be read is refused with its reason when there is one.
                values::check(args, 1).map_err(|p| p.error(&field))?;
                arguments.map_err(|_| invalid(&field, "a JSON document"))?
            };
            Ok(ToolCall {
                id: string(&c["id"], &format!("{path}.id"))?,
                name: string(&f["name"], &format!("{path}.function.name"))?,
                arguments,
            })
        })
        .collect()
}

fn read_stop(v: &Value) -> Result<Vec<String>, ApiError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, s)| string(s, &format!("stop[{i}]")))
            .collect(),
        _ => Err(invalid("stop", "a string or an array of strings")),
    }
}

fn read_tools(v: &Value) -> Result<Vec<Tool>, ApiError> {
    let tools = v.as_array().ok_or_else(|| invalid("tools", "an array"))?;
    tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if t["type"].as_str() != Some("function") {
                return Err(invalid(&format!("tools[{i}].type"), "`function`"));
            }
            let f = &t["function"];
            Ok(Tool {
                name: string(&f["name"], &format!("tools[{i}].function.name"))?,
                description: f["description"].as_str().map(str::to_string),
                parameters: match &f["parameters"] {
                    Value::Null => json!({"type": "object", "properties": {}}),
                    p => p.clone(),
                },
                strict: f["strict"].as_bool(),
            })
        })
        .collect()
}

fn read_tool_choice(v: &Value, caps: &Capabilities) -> Result<ToolChoice, ApiError> {
    match v.as_str() {
        Some("auto") => Ok(ToolChoice::Auto),
        Some("required") => Ok(ToolChoice::Required),
        Some("none") if caps.tool_choice_none => Ok(ToolChoice::None),
        Some("none") => Err(unsupported(caps, "`tool_choice: \"none\"`")),
        Some(_) => Err(invalid(
            "tool_choice",
            "`none`, `auto`, `required` or an object",
        )),
        None => v["function"]["name"]
            .as_str()
            .map(|n| ToolChoice::Named(n.to_string()))
            .ok_or_else(|| invalid("tool_choice.function.name", "a string")),
    }
}

fn read_response_format(
    v: &Value,
    caps: &Capabilities,
) -> Result<Option<ResponseFormat>, ApiError> {
    match v["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") if caps.json_object => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_object") => Err(unsupported(
            caps,
            "`response_format` `json_object` (send a `json_schema`)",
        )),
        Some("json_schema") => {
            let s = &v["json_schema"];
            Ok(Some(ResponseFormat::JsonSchema {
                name: string(&s["name"], "response_format.json_schema.name")?,
                description: s["description"].as_str().map(str::to_string),
                schema: match &s["schema"] {
                    Value::Object(o) => Value::Object(o.clone()),
                    _ => return Err(invalid("response_format.json_schema.schema", "an object")),
                },
            }))
        }
        _ => Err(invalid(
            "response_format.type",
            "`text`, `json_object` or `json_schema`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::providers::common::testing::merged;

    const ALL: Capabilities = Capabilities {
        provider: "test",
        seed: true,
        penalties: true,
        n: true,
        json_object: true,
        image_urls: true,
        tool_choice_none: true,
        serial_tool_calls: true,
        max_temperature: 2.0,
    };
    const NONE: Capabilities = Capabilities {
        provider: "test",
        seed: false,
        penalties: false,
        n: false,
        json_object: false,
        image_urls: false,
        tool_choice_none: false,
        serial_tool_calls: false,
        max_temperature: 1.0,
    };

    fn chat(extra: Value, caps: &Capabilities) -> Result<Chat, ApiError> {
        let b = merged(
            json!({"model": "m", "messages": [{"role": "user", "content": "CANARY"}]}),
            extra,
        );
        Chat::parse(b.to_map().unwrap(), caps)
    }

    #[test]
    fn what_the_provider_lacks_is_refused_by_name_never_by_value() {
        for (extra, field) in [
            (json!({"seed": 7}), "`seed`"),
            (json!({"n": 2}), "`n`"),
            (json!({"presence_penalty": 0.5}), "`presence_penalty`"),
            (json!({"logit_bias": {"CANARY": 1}}), "`logit_bias`"),
            (json!({"tool_choice": "none"}), "tool_choice"),
            (json!({"parallel_tool_calls": false}), "parallel_tool_calls"),
            (
                json!({"response_format": {"type": "json_object"}}),
                "json_object",
            ),
            (json!({"temperature": 1.5}), "`temperature`"),
            (json!({"reasoning_effort": "high"}), "`reasoning_effort`"),
        ] {
            let err = chat(extra, &NONE).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(field), "{}", err.message);
            assert!(err.message.contains("test"), "{}", err.message);
            assert!(!err.message.contains("CANARY"));
        }
        let err = chat(
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/CANARY.png"}}]}]}),
            &NONE,
        )
        .unwrap_err();
        assert!(err.message.contains("data:"), "{}", err.message);
        assert!(!err.message.contains("CANARY"));
    }

    #[test]
    fn one_call_at_a_time_means_nothing_when_a_function_is_forced() {
        let forced = json!({"tools": [{"type": "function", "function": {"name": "Answer"}}],
            "tool_choice": {"type": "function", "function": {"name": "Answer"}},
            "parallel_tool_calls": false});
        let c = chat(forced.clone(), &NONE).unwrap();
        assert_eq!(c.parallel_tool_calls, None);
        assert_eq!(c.tool_choice, Some(ToolChoice::Named("Answer".into())));
        assert_eq!(chat(forced, &ALL).unwrap().parallel_tool_calls, Some(false));
        for choice in [json!("auto"), json!("required"), Value::Null] {
            let err = chat(
                json!({"tools": [{"type": "function", "function": {"name": "Answer"}}],
                    "tool_choice": choice, "parallel_tool_calls": false}),
                &NONE,
            )
            .unwrap_err();
            assert!(
                err.message.contains("parallel_tool_calls"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn unreadable_tool_call_arguments_are_refused_with_their_reason() {
        let call = |arguments: String| {
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                "function": {"name": "f", "arguments": arguments}}]}]})
        };
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = chat(call(deep), &ALL).unwrap_err();
        assert!(
            err.message
                .starts_with("`messages[0].tool_calls[0].function.arguments` is nested too deeply"),
            "{}",
            err.message
        );
        let err = chat(call(r#"{"a":"\ud800"}"#.into()), &ALL).unwrap_err();
        assert!(err.message.contains("surrogate"), "{}", err.message);
        let err = chat(call(r#"{"t":1e309}"#.into()), &ALL).unwrap_err();
        assert!(err.message.contains("out of range"), "{}", err.message);
    }

    #[test]
    fn neutral_values_pass() {
        let c = chat(
            json!({"n": 1, "presence_penalty": 0, "logprobs": false, "store": false,
                   "parallel_tool_calls": true, "stream": true, "stream_options": {"include_usage": true},
                   "usage": {"include": true}, "seed": null, "response_format": {"type": "text"}}),
            &NONE,
        )
        .unwrap();
        assert_eq!(c.n, None);
        assert_eq!(c.response_format, None);
        assert_eq!(c.parallel_tool_calls, None);
    }

    #[test]
    fn messages_become_turns() {
        let c = chat(
            json!({"messages": [
                {"role": "system", "content": "be brief"},
                {"role": "developer", "content": [{"type": "text", "text": "really"}]},
                {"role": "user", "content": [{"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"}],
                "max_tokens": 10, "max_completion_tokens": 20, "stop": "END"}),
            &ALL,
        )
        .unwrap();
        assert_eq!(c.system, vec!["be brief", "really"]);
        assert_eq!(c.max_tokens, Some(20));
        assert_eq!(c.stop, vec!["END"]);
        assert_eq!(
            c.turns,
            vec![
                Turn::User(vec![
                    Part::Text("hi".into()),
                    Part::Image {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into()
                    }
                ]),
                Turn::Assistant {
                    text: None,
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        name: "f".into(),
                        arguments: json!({"a": 1})
                    }]
                },
                Turn::ToolResult {
                    call_id: "call_1".into(),
                    name: "f".into(),
                    content: "42".into()
                },
            ]
        );
    }

    #[test]
    fn a_tool_result_must_answer_an_earlier_call() {
        let err = chat(
            json!({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "CANARY"}]}),
            &ALL,
        )
        .unwrap_err();
        assert!(
            err.message.contains("messages[0].tool_call_id"),
            "{}",
            err.message
        );
        let err = chat(
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                "function": {"name": "f", "arguments": "{CANARY"}}]}]}),
            &ALL,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "`messages[0].tool_calls[0].function.arguments` must be a JSON document."
        );
    }
}
