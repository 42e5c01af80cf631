//! A Responses request as a Chat Completions request, for deployments whose provider
//! does not speak the Responses API: the chat adapters then translate it further, as
//! they do a client's chat request. Every member is translated, neutral, or refused
//! with a 400 naming it; nothing is dropped silently. Earlier `reasoning` input items
//! are the one exception by design: chat APIs take no reasoning back (Anthropic and
//! Gemini ignore an earlier turn's thinking themselves). Messages name members, never
//! values.

use serde_json::{Map, Value, json};

use crate::body::ClientBody;
use crate::error::ApiError;
use crate::request::chat_translation::{self, invalid, string};

/// The chat request for `body` (a checked Responses request).
pub fn translate(body: &ClientBody) -> Result<ClientBody, ApiError> {
    let request = body.to_map()?;
    let mut chat = Map::new();
    let mut messages = Vec::new();
    if let Some(Value::String(instructions)) = request.get("instructions") {
        messages.push(json!({"role": "system", "content": instructions}));
    }
    for (key, value) in &request {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "stream" | "temperature" | "top_p" | "parallel_tool_calls" | "user" => {
                chat.insert(key.clone(), value.clone());
            }
            "input" => read_input(value, &mut messages)?,
            "max_output_tokens" => {
                chat.insert("max_completion_tokens".into(), value.clone());
            }
            "tools" => {
                chat.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => {
                chat.insert("tool_choice".into(), tool_choice(value)?);
            }
            "text" => {
                if let Some(format) = response_format(value)? {
                    chat.insert("response_format".into(), format);
                }
            }
            "reasoning" => {
                if let Some(effort) = value.get("effort").filter(|e| !e.is_null()) {
                    chat.insert("reasoning_effort".into(), effort.clone());
                }
            }
            "safety_identifier" => {
                chat.insert("user".into(), value.clone());
            }
            "include" => check_include(value)?,
            // Handled by the gateway (cost reporting), repeated in the answer, or
            // what a stateless translation is anyway.
            "instructions" | "usage" | "metadata" | "store" | "stream_options" => {}
            // Hints that change no output.
            "prompt_cache_key" | "prompt_cache_retention" => {}
            "truncation" if value == "disabled" => {}
            "service_tier" if value == "auto" || value == "default" => {}
            "background" if value == &Value::Bool(false) => {}
            other => return Err(untranslatable(&format!("`{other}`"))),
        }
    }
    chat_translation::chat_body(chat, messages)
}

fn untranslatable(what: &str) -> ApiError {
    chat_translation::untranslatable(what, "the Responses API")
}

/// Types of the Responses API with no chat form, named in refusals; any other value
/// is not repeated (it could be content).
const KNOWN_TYPES: &[&str] = &[
    "web_search",
    "web_search_preview",
    "file_search",
    "computer_use_preview",
    "code_interpreter",
    "image_generation",
    "mcp",
    "local_shell",
    "shell",
    "custom",
    "input_file",
    "input_audio",
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "mcp_call",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "custom_tool_call",
    "custom_tool_call_output",
];

/// A type name to show: one of [`KNOWN_TYPES`], else nothing of the value.
fn shown(kind: &str) -> &str {
    KNOWN_TYPES
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("(unknown)")
}

fn read_input(input: &Value, messages: &mut Vec<Value>) -> Result<(), ApiError> {
    let items = match input {
        Value::String(text) => {
            messages.push(json!({"role": "user", "content": text}));
            return Ok(());
        }
        Value::Array(items) => items,
        _ => return Err(invalid("input", "a string or an array")),
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        if !item.is_object() {
            return Err(invalid(&at, "an object"));
        }
        let kind = match &item["type"] {
            Value::Null => "message",
            kind => string(kind, &format!("{at}.type"))?,
        };
        match kind {
            "message" => messages.push(message(item, &at)?),
            "function_call" => {
                let call = json!({
                    "id": string(&item["call_id"], &format!("{at}.call_id"))?,
                    "type": "function",
                    "function": {
                        "name": string(&item["name"], &format!("{at}.name"))?,
                        "arguments": string(&item["arguments"], &format!("{at}.arguments"))?,
                    },
                });
                push_tool_call(messages, call);
            }
            "function_call_output" => messages.push(json!({
                "role": "tool",
                "tool_call_id": string(&item["call_id"], &format!("{at}.call_id"))?,
                "content": output_text(&item["output"], &format!("{at}.output"))?,
            })),
            "reasoning" => {}
            other => {
                return Err(untranslatable(&format!("`{at}.type` `{}`", shown(other))));
            }
        }
    }
    Ok(())
}

/// A function call joins the assistant message just before it (the text and calls
/// of one turn are one chat message), else starts one.
fn push_tool_call(messages: &mut Vec<Value>, call: Value) {
    if let Some(last) = messages.last_mut()
        && last["role"] == "assistant"
    {
        match last.get_mut("tool_calls").and_then(Value::as_array_mut) {
            Some(calls) => calls.push(call),
            None => last["tool_calls"] = json!([call]),
        }
        return;
    }
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
}

fn message(item: &Value, at: &str) -> Result<Value, ApiError> {
    let role = string(&item["role"], &format!("{at}.role"))?;
    if !matches!(role, "user" | "assistant" | "system" | "developer") {
        return Err(invalid(
            &format!("{at}.role"),
            "one of `user`, `assistant`, `system`, `developer`",
        ));
    }
    let path = format!("{at}.content");
    let content = match &item["content"] {
        Value::String(text) => Value::String(text.clone()),
        Value::Array(parts) if role == "assistant" => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                let field = match part["type"].as_str() {
                    Some("output_text") => "text",
                    Some("refusal") => "refusal",
                    _ => {
                        return Err(invalid(
                            &format!("{path}[{j}].type"),
                            "`output_text` or `refusal`",
                        ));
                    }
                };
                text.push_str(string(&part[field], &format!("{path}[{j}].{field}"))?);
            }
            Value::String(text)
        }
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .enumerate()
                .map(|(j, part)| input_part(part, &format!("{path}[{j}]")))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(invalid(&path, "a string or an array")),
    };
    Ok(json!({"role": role, "content": content}))
}

/// An input content part as a chat content part.
fn input_part(part: &Value, at: &str) -> Result<Value, ApiError> {
    match part["type"].as_str() {
        Some("input_text") => Ok(json!({"type": "text",
            "text": string(&part["text"], &format!("{at}.text"))?})),
        Some("input_image") => {
            if !part["file_id"].is_null() {
                return Err(ApiError::unsupported(format!(
                    "`{at}.file_id` cannot be used: Meridian stores no files; send the image as `image_url` (an http(s) or `data:` URL)."
                )));
            }
            let mut image = Map::new();
            image.insert(
                "url".into(),
                json!(string(&part["image_url"], &format!("{at}.image_url"))?),
            );
            if let Some(detail) = part["detail"].as_str() {
                image.insert("detail".into(), json!(detail));
            }
            Ok(json!({"type": "image_url", "image_url": image}))
        }
        Some(other) => Err(untranslatable(&format!("`{at}.type` `{}`", shown(other)))),
        None => Err(invalid(&format!("{at}.type"), "a string")),
    }
}

/// A function call's output: a string, or text parts.
fn output_text(output: &Value, path: &str) -> Result<String, ApiError> {
    match output {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (j, part) in parts.iter().enumerate() {
                match part["type"].as_str() {
                    Some("input_text") => {
                        text.push_str(string(&part["text"], &format!("{path}[{j}].text"))?)
                    }
                    Some(other) => {
                        return Err(untranslatable(&format!(
                            "`{path}[{j}].type` `{}`",
                            shown(other)
                        )));
                    }
                    None => return Err(invalid(&format!("{path}[{j}].type"), "a string")),
                }
            }
            Ok(text)
        }
        _ => Err(invalid(path, "a string or an array")),
    }
}

fn tools(value: &Value) -> Result<Value, ApiError> {
    let tools = value
        .as_array()
        .ok_or_else(|| invalid("tools", "an array"))?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        match tool["type"].as_str() {
            Some("function") => {
                let mut function = Map::new();
                function.insert(
                    "name".into(),
                    json!(string(&tool["name"], &format!("tools[{i}].name"))?),
                );
                for field in ["description", "parameters", "strict"] {
                    if !tool[field].is_null() {
                        function.insert(field.into(), tool[field].clone());
                    }
                }
                out.push(json!({"type": "function", "function": function}));
            }
            Some(other) => {
                return Err(untranslatable(&format!(
                    "`tools[{i}].type` `{}`",
                    shown(other)
                )));
            }
            None => return Err(invalid(&format!("tools[{i}].type"), "a string")),
        }
    }
    Ok(Value::Array(out))
}

fn tool_choice(value: &Value) -> Result<Value, ApiError> {
    match value {
        Value::String(mode) if matches!(mode.as_str(), "none" | "auto" | "required") => {
            Ok(value.clone())
        }
        Value::String(_) => Err(invalid(
            "tool_choice",
            "`none`, `auto`, `required` or an object",
        )),
        Value::Object(choice) if choice.get("type") == Some(&json!("function")) => {
            let name = string(&value["name"], "tool_choice.name")?;
            Ok(json!({"type": "function", "function": {"name": name}}))
        }
        _ => Err(untranslatable(
            "`tool_choice` other than a mode or a function",
        )),
    }
}

/// `text.format` as `response_format` (`None`: plain text).
fn response_format(text: &Value) -> Result<Option<Value>, ApiError> {
    if let Some(verbosity) = text.get("verbosity").filter(|v| !v.is_null())
        && verbosity != "medium"
    {
        return Err(untranslatable("`text.verbosity`"));
    }
    let format = match text.get("format") {
        None | Some(Value::Null) => return Ok(None),
        Some(format) => format,
    };
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = Map::new();
            schema.insert(
                "name".into(),
                json!(string(&format["name"], "text.format.name")?),
            );
            if !format["schema"].is_object() {
                return Err(invalid("text.format.schema", "an object"));
            }
            for field in ["schema", "description", "strict"] {
                if !format[field].is_null() {
                    schema.insert(field.into(), format[field].clone());
                }
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        _ => Err(invalid(
            "text.format.type",
            "`text`, `json_schema` or `json_object`",
        )),
    }
}

fn check_include(value: &Value) -> Result<(), ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid("include", "an array"))?;
    for (i, item) in items.iter().enumerate() {
        // Translated answers carry no encrypted reasoning: there is nothing to include.
        if item != "reasoning.encrypted_content" {
            return Err(untranslatable(&format!("`include[{i}]`")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translated(request: Value) -> Result<Value, ApiError> {
        let body = ClientBody::parse(bytes::Bytes::from(request.to_string())).unwrap();
        Ok(Value::Object(translate(&body)?.to_map().unwrap()))
    }

    #[test]
    fn items_become_messages_and_members_their_chat_names() {
        let chat = translated(json!({
            "model": "m", "instructions": "be brief", "stream": true, "store": true,
            "max_output_tokens": 64, "reasoning": {"effort": "low", "summary": "auto"},
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {"format": {"type": "json_schema", "name": "A", "schema": {"type": "object"}}},
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hi"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AA=="}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "42"},
                {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "43"}]}
            ]
        }))
        .unwrap();
        assert_eq!(
            chat,
            json!({
                "model": "m", "stream": true, "max_completion_tokens": 64, "reasoning_effort": "low",
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": true}}],
                "tool_choice": {"type": "function", "function": {"name": "f"}},
                "response_format": {"type": "json_schema", "json_schema": {"name": "A", "schema": {"type": "object"}}},
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": [{"type": "text", "text": "hi"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]},
                    {"role": "assistant", "content": "ok", "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                        {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "42"},
                    {"role": "tool", "tool_call_id": "c2", "content": "43"}
                ]
            })
        );
    }

    #[test]
    fn what_has_no_chat_form_is_refused_by_name_never_by_value() {
        for (extra, named) in [
            (
                json!({"tools": [{"type": "web_search"}]}),
                "`tools[0].type` `web_search`",
            ),
            (json!({"include": ["CANARY"]}), "`include[0]`"),
            (
                json!({"input": [{"type": "CANARY"}]}),
                "`input[0].type` `(unknown)`",
            ),
            (json!({"top_logprobs": 2}), "`top_logprobs`"),
            (json!({"truncation": "auto"}), "`truncation`"),
            (json!({"text": {"verbosity": "low"}}), "`text.verbosity`"),
            (
                json!({"input": [{"type": "file_search_call", "id": "CANARY"}]}),
                "`input[0].type` `file_search_call`",
            ),
            (
                json!({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "CANARY"}]}]}),
                "`input[0].content[0].type` `input_file`",
            ),
        ] {
            let mut request = json!({"model": "m", "input": "CANARY"});
            request
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let err = translated(request).unwrap_err();
            assert_eq!(err.code, Some("unsupported_parameter"));
            assert!(err.message.starts_with(named), "{}", err.message);
            assert!(!err.message.contains("CANARY"), "{}", err.message);
        }
        let err = translated(json!({"model": "m", "input": [{"role": "user",
            "content": [{"type": "input_image", "file_id": "file_CANARY"}]}]}))
        .unwrap_err();
        assert!(err.message.contains("stores no files"), "{}", err.message);
        assert!(!err.message.contains("CANARY"));
    }
}
