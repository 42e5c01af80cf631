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
/// reads and writes, which are parts of the prompt in OpenAI's; the writes by
/// lifetime where the provider told them apart.
pub fn usage(usage: &TokenUsage) -> Value {
    let read = usage.cached.unwrap_or(0);
    let write = usage.cache_write.unwrap_or(0);
    let mut object = json!({
        "input_tokens": usage.prompt.saturating_sub(read + write),
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": usage.completion,
    });
    if let Some(write_1h) = usage.cache_write_1h {
        object["cache_creation"] = json!({
            "ephemeral_5m_input_tokens": write.saturating_sub(write_1h),
            "ephemeral_1h_input_tokens": write_1h,
        });
    }
    object
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
    // OpenAI's `refusal` (the model's words declining, in place of content) is
    // Anthropic's text with the stop reason `refusal`.
    let refusal = message["refusal"].as_str().filter(|t| !t.is_empty());
    if let Some(text) = refusal {
        content.push(json!({"type": "text", "text": text}));
    }
    let finish = match refusal {
        Some(_) => Some("content_filter"),
        None => choice["finish_reason"].as_str(),
    };
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
        "stop_reason": stop_reason(finish),
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

    /// OpenAI's structured-output refusal: `content` null, the words in `refusal`.
    #[test]
    fn an_openai_refusal_is_a_text_block_with_the_stop_reason_refusal() {
        let Value::Object(completion) = json!({"id": "chatcmpl-1", "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                "content": null, "refusal": "I can't help with that."}}]})
        else {
            unreachable!()
        };
        let m = message(
            ResponseBody::Translated(completion),
            &TokenUsage::default(),
            "openai/gpt-4o",
        )
        .unwrap();
        assert_eq!(m["stop_reason"], "refusal");
        assert_eq!(
            m["content"],
            json!([{"type": "text", "text": "I can't help with that."}])
        );
    }

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
            cache_write_1h: None,
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
