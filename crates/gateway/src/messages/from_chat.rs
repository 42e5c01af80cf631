//! A translated provider's answer, which its adapter gives in Chat Completions'
//! shape, as an Anthropic `message`: reasoning (where the provider shows it, as
//! DeepSeek's `reasoning_content`) as a `thinking` block, the text as a `text` block,
//! each tool call as a `tool_use` block; usage in Anthropic's terms.

use meridian_core::TokenUsage;
use serde_json::{Map, Value, json};

use crate::providers::{Malformed, ResponseBody, first_choice};

/// Anthropic's `stop_reason` for a chat `finish_reason`.
pub fn stop_reason(finish_reason: Option<&str>) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// The usage object in Anthropic's terms: `input_tokens` leaves out the cache's
/// reads and writes, which are parts of the prompt in OpenAI's.
pub fn usage(usage: &TokenUsage) -> Value {
    let read = usage.cached.unwrap_or(0);
    let write = usage.cache_write.unwrap_or(0);
    json!({
        "input_tokens": usage.prompt.saturating_sub(read + write),
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": usage.completion,
    })
}

/// A new message id, `msg_` and a UUID's hex digits.
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// The `message` for a chat completion; `model` is the model the client asked for.
pub fn message(
    completion: ResponseBody,
    tokens: &TokenUsage,
    model: &str,
) -> Result<Map<String, Value>, Malformed> {
    let completion = completion.into_object()?;
    let choice = first_choice(&completion)?;
    let message = &choice["message"];
    let mut content = Vec::new();
    if let Some(reasoning) = message["reasoning_content"]
        .as_str()
        .filter(|r| !r.is_empty())
    {
        content.push(json!({"type": "thinking", "thinking": reasoning, "signature": ""}));
    }
    if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let function = &call["function"];
        let arguments = function["arguments"].as_str().unwrap_or("{}");
        content.push(json!({
            "type": "tool_use",
            "id": call["id"].as_str().ok_or(Malformed)?,
            "name": function["name"].as_str().ok_or(Malformed)?,
            "input": serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({})),
        }));
    }
    let object = json!({
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice["finish_reason"].as_str()),
        "stop_sequence": null,
        "usage": usage(tokens),
    });
    match object {
        Value::Object(object) => Ok(object),
        _ => Err(Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completion_with_reasoning_and_a_tool_call_is_a_message() {
        let completion = json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "deepseek-reasoner",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
                "reasoning_content": "hm", "content": "Checking.",
                "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"SF\"}"}}]}}]});
        let Value::Object(completion) = completion else {
            unreachable!()
        };
        let tokens = TokenUsage {
            prompt: 100,
            completion: 20,
            cached: Some(64),
            cache_write: None,
            reasoning: Some(5),
        };
        let mut m = message(
            ResponseBody::Translated(completion),
            &tokens,
            "deepseek/deepseek-reasoner",
        )
        .unwrap();
        assert!(
            m.remove("id")
                .unwrap()
                .as_str()
                .unwrap()
                .starts_with("msg_")
        );
        assert_eq!(
            Value::Object(m),
            json!({"type": "message", "role": "assistant", "model": "deepseek/deepseek-reasoner",
                "content": [{"type": "thinking", "thinking": "hm", "signature": ""},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "SF"}}],
                "stop_reason": "tool_use", "stop_sequence": null,
                "usage": {"input_tokens": 36, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 64, "output_tokens": 20}})
        );
    }
}
