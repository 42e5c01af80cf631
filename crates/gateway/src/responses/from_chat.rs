//! A translated provider's whole answer, which its adapter gives in Chat Completions'
//! shape, as a Responses `response`: reasoning (where the provider shows it, as
//! DeepSeek's `reasoning_content`) as a reasoning item with its summary, the text as
//! a message item, each tool call as a `function_call` item.

use meridian_core::TokenUsage;
use serde_json::{Map, Value};

use super::object::{self, Echo, Head, Status};
use crate::providers::{Malformed, ResponseBody, first_choice};

/// The `response` for a chat completion.
pub fn response(
    completion: ResponseBody,
    usage: &TokenUsage,
    echo: &Echo,
) -> Result<Map<String, Value>, Malformed> {
    let completion = completion.into_object()?;
    let choice = first_choice(&completion)?;
    let message = &choice["message"];
    let mut output = Vec::new();
    if let Some(reasoning) = message["reasoning_content"]
        .as_str()
        .filter(|r| !r.is_empty())
    {
        output.push(object::reasoning_item(
            &object::new_id("rs_"),
            Some(reasoning),
        ));
    }
    let status = Status::of_finish(choice["finish_reason"].as_str());
    let item_status = if status == Status::Completed {
        "completed"
    } else {
        "incomplete"
    };
    if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
        output.push(object::message_item(
            &object::new_id("msg_"),
            item_status,
            Some(text),
        ));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let function = &call["function"];
        output.push(object::function_call_item(
            &object::new_id("fc_"),
            item_status,
            call["id"].as_str().ok_or(Malformed)?,
            function["name"].as_str().ok_or(Malformed)?,
            function["arguments"].as_str().unwrap_or("{}"),
        ));
    }
    let head = Head {
        id: &object::new_id("resp_"),
        created_at: completion
            .get("created")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| chrono::Utc::now().timestamp()),
        model: completion
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        echo,
    };
    Ok(object::response(&head, status, output, Some(usage)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_calls_and_reasoning_become_items_and_usage_is_the_providers() {
        let completion = json!({"id": "c", "object": "chat.completion", "created": 7, "model": "deepseek-reasoner",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
                "content": "Let me look.", "reasoning_content": "thinking",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}]});
        let usage = TokenUsage {
            prompt: 10,
            completion: 5,
            cached: Some(2),
            cache_write: None,
            cache_write_1h: None,
            reasoning: Some(1),
        };
        let echo = Echo::of(&Map::new());
        let map = completion.as_object().unwrap().clone();
        let r = response(ResponseBody::Translated(map), &usage, &echo).unwrap();
        assert_eq!(
            (
                r["status"].clone(),
                r["model"].clone(),
                r["created_at"].clone()
            ),
            (json!("completed"), json!("deepseek-reasoner"), json!(7))
        );
        let kinds: Vec<&str> = r["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(r["output"][0]["summary"][0]["text"], "thinking");
        assert_eq!(r["output"][1]["content"][0]["text"], "Let me look.");
        assert_eq!(r["output"][2]["call_id"], "call_1");
        assert_eq!(r["output"][2]["arguments"], "{\"a\":1}");
        assert_eq!(
            r["usage"],
            json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2},
            "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 15})
        );
        assert_eq!(r["store"], false);
        let cut = json!({"choices": [{"finish_reason": "length", "message": {"content": "You"}}]});
        let r = response(
            ResponseBody::Translated(cut.as_object().unwrap().clone()),
            &usage,
            &echo,
        )
        .unwrap();
        assert_eq!(r["status"], "incomplete");
        assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
        assert_eq!(r["output"][0]["status"], "incomplete");
    }
}
