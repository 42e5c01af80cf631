//! A Messages request as a Chat Completions request, for deployments whose provider
//! does not speak the Messages API: the chat adapters then translate it further, as
//! they do a client's chat request. Every member is translated, neutral, or refused
//! with a 400 naming it; nothing that changes the answer is dropped silently. By
//! design: `cache_control` (every form) is a caching hint, and chat providers cache
//! prompts on their own; earlier turns' `thinking` blocks are not sent back (chat APIs
//! take no reasoning back, and Anthropic itself ignores an earlier turn's thinking).
//! Messages name members, never values.

use serde_json::{Map, Value, json};

use crate::body::ClientBody;
use crate::error::ApiError;
use crate::request::chat_translation::{self, invalid, string};

/// The chat request for `body` (a checked Messages request).
pub fn translate(body: &ClientBody) -> Result<ClientBody, ApiError> {
    let request = body.to_map()?;
    let mut chat = Map::new();
    let mut messages = Vec::new();
    if let Some(system) = request.get("system").filter(|s| !s.is_null()) {
        messages.push(json!({"role": "system", "content": system_text(system)?}));
    }
    for (key, value) in &request {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "model" | "stream" | "temperature" | "top_p" | "usage" => {
                chat.insert(key.clone(), value.clone());
            }
            "max_tokens" => {
                chat.insert("max_completion_tokens".into(), value.clone());
            }
            "messages" => read_messages(value, &mut messages)?,
            "stop_sequences" => {
                chat.insert("stop".into(), value.clone());
            }
            "tools" => {
                chat.insert("tools".into(), tools(value)?);
            }
            "tool_choice" => tool_choice(value, &mut chat)?,
            "metadata" => metadata(value, &mut chat)?,
            "output_config" => output_config(value, &mut chat)?,
            "thinking" if value["type"] == "disabled" => {}
            // Read above; a caching hint (see the module's note).
            "system" | "cache_control" => {}
            "service_tier" if value == "auto" || value == "standard_only" => {}
            other => return Err(untranslatable(&format!("`{other}`"))),
        }
    }
    chat_translation::chat_body(chat, messages)
}

fn untranslatable(what: &str) -> ApiError {
    chat_translation::untranslatable(what, "the Messages API")
}

/// A block or tool `type` to show in a refusal: an identifier (Anthropic's types
/// are, such as `document` or `web_search_20250305`), else nothing of the value.
fn shown(kind: &str) -> &str {
    let identifier = !kind.is_empty()
        && kind.len() <= 40
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if identifier { kind } else { "(unknown)" }
}

/// `system`: a string, or text blocks (joined with blank lines).
fn system_text(system: &Value) -> Result<String, ApiError> {
    match system {
        Value::String(text) => Ok(text.clone()),
        Value::Array(blocks) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.iter().enumerate() {
                let at = format!("system[{i}]");
                match block["type"].as_str() {
                    Some("text") => texts.push(string(&block["text"], &format!("{at}.text"))?),
                    Some(kind) => {
                        return Err(untranslatable(&format!("`{at}` of type `{}`", shown(kind))));
                    }
                    None => return Err(invalid(&format!("{at}.type"), "a string")),
                }
            }
            Ok(texts.join("\n\n"))
        }
        _ => Err(invalid("system", "a string or an array")),
    }
}

fn read_messages(value: &Value, out: &mut Vec<Value>) -> Result<(), ApiError> {
    let Value::Array(messages) = value else {
        return Err(invalid("messages", "an array"));
    };
    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = match message["role"].as_str() {
            Some(role @ ("user" | "assistant")) => role,
            _ => return Err(invalid(&format!("{at}.role"), "`user` or `assistant`")),
        };
        match &message["content"] {
            Value::String(text) => out.push(json!({"role": role, "content": text})),
            Value::Array(blocks) if role == "user" => user_turn(&at, blocks, out)?,
            Value::Array(blocks) => out.push(assistant_turn(&at, blocks)?),
            _ => return Err(invalid(&format!("{at}.content"), "a string or an array")),
        }
    }
    Ok(())
}

/// A user turn: its `tool_result` blocks as tool messages (which must follow the
/// assistant's calls), then its other blocks as one user message.
fn user_turn(at: &str, blocks: &[Value], out: &mut Vec<Value>) -> Result<(), ApiError> {
    let mut parts = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match block["type"].as_str() {
            Some("text") => {
                parts.push(json!({"type": "text", "text": string(&block["text"], &at)?}));
            }
            Some("image") => parts.push(image(&at, &block["source"])?),
            Some("tool_result") => {
                let id = string(&block["tool_use_id"], &format!("{at}.tool_use_id"))?;
                let mut content = tool_result_text(&at, &block["content"])?;
                if block["is_error"] == true {
                    content.insert_str(0, "Error: ");
                }
                out.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
            }
            Some(kind) => {
                return Err(untranslatable(&format!("`{at}` of type `{}`", shown(kind))));
            }
            None => return Err(invalid(&format!("{at}.type"), "a string")),
        }
    }
    if !parts.is_empty() {
        out.push(json!({"role": "user", "content": parts}));
    }
    Ok(())
}

/// An image block's `source` as a chat `image_url` part: base64 data as a `data:`
/// URL, or the URL itself.
fn image(at: &str, source: &Value) -> Result<Value, ApiError> {
    let url = match source["type"].as_str() {
        Some("base64") => {
            let media_type = string(&source["media_type"], &format!("{at}.source.media_type"))?;
            let data = string(&source["data"], &format!("{at}.source.data"))?;
            format!("data:{media_type};base64,{data}")
        }
        Some("url") => string(&source["url"], &format!("{at}.source.url"))?.to_string(),
        _ => return Err(untranslatable(&format!("`{at}.source`"))),
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// A `tool_result`'s content as text: a string, or text blocks joined.
fn tool_result_text(at: &str, content: &Value) -> Result<String, ApiError> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(text) => Ok(text.clone()),
        Value::Array(blocks) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (k, block) in blocks.iter().enumerate() {
                let at = format!("{at}.content[{k}]");
                match block["type"].as_str() {
                    Some("text") => texts.push(string(&block["text"], &at)?),
                    Some(kind) => {
                        return Err(untranslatable(&format!("`{at}` of type `{}`", shown(kind))));
                    }
                    None => return Err(invalid(&format!("{at}.type"), "a string")),
                }
            }
            Ok(texts.join("\n\n"))
        }
        _ => Err(invalid(&format!("{at}.content"), "a string or an array")),
    }
}

/// An assistant turn: its text, and its `tool_use` blocks as tool calls. Thinking
/// blocks are not sent back (see the module's note).
fn assistant_turn(at: &str, blocks: &[Value]) -> Result<Value, ApiError> {
    let mut text = String::new();
    let mut calls = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match block["type"].as_str() {
            Some("text") => text.push_str(string(&block["text"], &at)?),
            Some("tool_use") => {
                let id = string(&block["id"], &format!("{at}.id"))?;
                let name = string(&block["name"], &format!("{at}.name"))?;
                let arguments = serde_json::to_string(&block["input"]).unwrap_or_default();
                calls.push(json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": arguments}}));
            }
            Some("thinking" | "redacted_thinking") => {}
            Some(kind) => {
                return Err(untranslatable(&format!("`{at}` of type `{}`", shown(kind))));
            }
            None => return Err(invalid(&format!("{at}.type"), "a string")),
        }
    }
    let mut message = json!({"role": "assistant", "content": text});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    Ok(message)
}

/// Custom tools as function tools; Anthropic's server and client tools (with a
/// versioned `type`) have no chat form.
fn tools(value: &Value) -> Result<Value, ApiError> {
    let Value::Array(tools) = value else {
        return Err(invalid("tools", "an array"));
    };
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        match tool["type"].as_str() {
            None | Some("custom") => {}
            Some(kind) => {
                return Err(untranslatable(&format!("`{at}` of type `{}`", shown(kind))));
            }
        }
        let mut function = json!({
            "name": string(&tool["name"], &format!("{at}.name"))?,
            "parameters": tool["input_schema"],
        });
        if let Some(description) = tool.get("description").filter(|d| !d.is_null()) {
            function["description"] = description.clone();
        }
        if let Some(strict) = tool.get("strict").filter(|s| !s.is_null()) {
            function["strict"] = strict.clone();
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(Value::Array(out))
}

fn tool_choice(value: &Value, chat: &mut Map<String, Value>) -> Result<(), ApiError> {
    let choice = match value["type"].as_str() {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => json!({"type": "function",
            "function": {"name": string(&value["name"], "tool_choice.name")?}}),
        _ => {
            return Err(invalid(
                "tool_choice.type",
                "`auto`, `any`, `tool` or `none`",
            ));
        }
    };
    chat.insert("tool_choice".into(), choice);
    if value["disable_parallel_tool_use"] == true {
        chat.insert("parallel_tool_calls".into(), Value::Bool(false));
    }
    Ok(())
}

/// `metadata.user_id` is chat's `user`.
fn metadata(value: &Value, chat: &mut Map<String, Value>) -> Result<(), ApiError> {
    let Value::Object(metadata) = value else {
        return Err(invalid("metadata", "an object"));
    };
    for (key, v) in metadata {
        match key.as_str() {
            "user_id" if v.is_string() => {
                chat.insert("user".into(), v.clone());
            }
            "user_id" if v.is_null() => {}
            "user_id" => return Err(invalid("metadata.user_id", "a string")),
            _ => return Err(untranslatable("a `metadata` member other than `user_id`")),
        }
    }
    Ok(())
}

/// `output_config.format` (a JSON schema) is chat's `response_format`.
fn output_config(value: &Value, chat: &mut Map<String, Value>) -> Result<(), ApiError> {
    let Value::Object(config) = value else {
        return Err(invalid("output_config", "an object"));
    };
    for (key, v) in config {
        match key.as_str() {
            _ if v.is_null() => {}
            "format" if v["type"] == "json_schema" => {
                chat.insert(
                    "response_format".into(),
                    json!({"type": "json_schema",
                        "json_schema": {"name": "output", "schema": v["schema"], "strict": true}}),
                );
            }
            "format" => return Err(invalid("output_config.format.type", "`json_schema`")),
            _ => {
                return Err(untranslatable(
                    "a member of `output_config` other than `format`",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(request: Value) -> Result<Value, ApiError> {
        let body = ClientBody::parse(bytes::Bytes::from(request.to_string())).unwrap();
        let chat = translate(&body)?;
        Ok(serde_json::from_str(&String::from_utf8(chat.with_changes(&[])).unwrap()).unwrap())
    }

    /// The tool-use guide's round trip, with the members Claude Code sends.
    #[test]
    fn a_tool_round_trip_becomes_chat_messages() {
        let out = chat(json!({"model": "openai/gpt-4o-mini", "max_tokens": 1024, "stream": true,
            "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
            "cache_control": {"type": "ephemeral"},
            "metadata": {"user_id": "u-1"}, "stop_sequences": ["END"],
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"},
                       "cache_control": {"type": "ephemeral"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}]},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "SF"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "15"}]},
                    {"type": "text", "text": "thanks"}]}]}))
        .unwrap();
        assert_eq!(
            out,
            json!({"model": "openai/gpt-4o-mini", "max_completion_tokens": 1024, "stream": true,
                "user": "u-1", "stop": ["END"], "tool_choice": "required", "parallel_tool_calls": false,
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                    "parameters": {"type": "object"}}}],
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": [{"type": "text", "text": "Weather?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]},
                    {"role": "assistant", "content": "Checking.", "tool_calls": [{"id": "toolu_1",
                        "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"SF\"}"}}]},
                    {"role": "tool", "tool_call_id": "toolu_1", "content": "15"},
                    {"role": "user", "content": [{"type": "text", "text": "thanks"}]}]})
        );
    }

    #[test]
    fn what_chat_cannot_say_is_refused_by_name() {
        let base = json!({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "CANARY"}]});
        for (extra, named) in [
            (
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
                "`thinking`",
            ),
            (json!({"top_k": 5}), "`top_k`"),
            (
                json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
                "`tools[0]` of type `web_search_20250305`",
            ),
            (
                json!({"output_config": {"effort": "high"}}),
                "`output_config`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "CANARY"}}]}]}),
                "`messages[0].content[0]` of type `document`",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "CANARY"}]}]}),
                "(unknown)",
            ),
        ] {
            let mut request = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                request[k] = v.clone();
            }
            let err = chat(request).unwrap_err();
            assert_eq!(err.status, 400);
            assert!(err.message.contains(named), "{named}: {}", err.message);
            assert!(!err.message.contains("CANARY"));
        }
        let out = chat(
            json!({"model": "m", "max_tokens": 8, "thinking": {"type": "disabled"},
            "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
            "messages": [{"role": "user", "content": "x"}]}),
        )
        .unwrap();
        assert_eq!(
            out["response_format"]["json_schema"]["schema"],
            json!({"type": "object"})
        );
    }
}
