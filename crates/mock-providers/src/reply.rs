//! What the mock "generates" for a chat request: an echo of the last user message,
//! a JSON document, or a forced tool call, with hidden or shown reasoning for
//! reasoning models, cut to the token budget.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use crate::schema;
use crate::tokens::{self, Counts};

/// What a reasoning model "thinks" before answering (shown only where the provider
/// shows reasoning, e.g. DeepSeek's `reasoning_content`).
const REASONING: &str = "The user wants their own words back, so I will repeat them.";

/// The answer to one chat request.
#[derive(Debug)]
pub(crate) struct Generation {
    /// The visible answer in full: message content, or a tool call's arguments.
    pub(crate) text: String,
    /// How much of `text` was produced within the budget (a byte offset).
    pub(crate) text_end: usize,
    /// The reasoning actually produced (empty for other models).
    pub(crate) reasoning: &'static str,
    pub(crate) tool_call: Option<ToolCall>,
    pub(crate) finish_reason: &'static str,
    pub(crate) counts: Counts,
}

impl Generation {
    pub(crate) fn visible(&self) -> &str {
        &self.text[..self.text_end]
    }
}

#[derive(Debug)]
pub(crate) struct ToolCall {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// The form the answer takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Output<'a> {
    Text,
    JsonObject,
    JsonSchema(Option<&'a Value>),
    ToolCall {
        name: &'a str,
        parameters: Option<&'a Value>,
    },
}

/// What the generator needs to know about a request.
#[derive(Debug)]
pub(crate) struct Prompt<'a> {
    pub(crate) model: &'a str,
    pub(crate) prompt_tokens: u32,
    pub(crate) cache_keyed: bool,
    /// The `content` of the last user message.
    pub(crate) last_user: Option<&'a Value>,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) output: Output<'a>,
}

/// Whether the model "reasons": a name segment `o1`, `o3` or `o4` (`o3-mini`,
/// `openai/o4-mini`), or a name containing `reasoner` (`deepseek-reasoner`).
pub(crate) fn is_reasoning_model(model: &str) -> bool {
    model.contains("reasoner")
        || model
            .split(['/', '-', ':', '.', '@'])
            .any(|segment| matches!(segment, "o1" | "o3" | "o4"))
}

pub(crate) fn generate(prompt: &Prompt<'_>) -> Generation {
    let (text, tool_call) = match prompt.output {
        Output::Text => (echo(prompt.last_user), None),
        Output::JsonObject => (
            schema::to_spaced_json(&json!({ "reply": echo(prompt.last_user) })),
            None,
        ),
        Output::JsonSchema(schema) => (document(schema), None),
        Output::ToolCall { name, parameters } => (
            document(parameters),
            Some(ToolCall {
                id: random_id("call_", 24),
                name: name.to_owned(),
            }),
        ),
    };
    let budget = prompt.max_tokens.unwrap_or(u32::MAX);
    let reasoning_text = if is_reasoning_model(prompt.model) {
        REASONING
    } else {
        ""
    };
    let reasoning = tokens::take(reasoning_text, budget);
    let visible = tokens::take(&text, budget - reasoning.tokens);
    let finish_reason = if reasoning.truncated || visible.truncated {
        "length"
    } else if tool_call.is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    Generation {
        text_end: visible.end,
        text,
        reasoning: &reasoning_text[..reasoning.end],
        tool_call,
        finish_reason,
        counts: Counts {
            prompt: prompt.prompt_tokens,
            cached: tokens::cached_tokens(prompt.prompt_tokens, prompt.cache_keyed),
            completion: reasoning.tokens + visible.tokens,
            reasoning: reasoning.tokens,
        },
    }
}

/// `"You said: <the words of the last user message>"`, single-spaced.
fn echo(last_user: Option<&Value>) -> String {
    let mut reply = String::from("You said:");
    for word in last_user
        .into_iter()
        .flat_map(tokens::text_parts)
        .flat_map(str::split_whitespace)
    {
        reply.push(' ');
        reply.push_str(word);
    }
    reply
}

/// A JSON document for `schema` (`{}` without one).
fn document(schema: Option<&Value>) -> String {
    schema.map_or_else(
        || "{}".to_owned(),
        |s| schema::to_spaced_json(&schema::sample(s)),
    )
}

/// `prefix` and `len` random letters and digits, like OpenAI's ids.
pub(crate) fn random_id(prefix: &str, len: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    id.extend(
        rand::rng()
            .sample_iter(Alphanumeric)
            .take(len)
            .map(char::from),
    );
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt<'a>(model: &'a str, max_tokens: Option<u32>, last_user: &'a Value) -> Prompt<'a> {
        Prompt {
            model,
            prompt_tokens: 10,
            cache_keyed: false,
            last_user: Some(last_user),
            max_tokens,
            output: Output::Text,
        }
    }

    #[test]
    fn reasoning_models_are_recognised_by_name() {
        for model in [
            "o1",
            "o3-mini",
            "openai/o4-mini",
            "o1-preview",
            "deepseek-reasoner",
        ] {
            assert!(is_reasoning_model(model), "{model}");
        }
        for model in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "deepseek-chat",
            "qwen-max",
        ] {
            assert!(!is_reasoning_model(model), "{model}");
        }
    }

    #[test]
    fn the_reply_echoes_and_the_budget_cuts() {
        let g = generate(&prompt("gpt-4o", None, &json!("hello   big\nworld")));
        assert_eq!(g.visible(), "You said: hello big world");
        assert_eq!((g.counts.completion, g.finish_reason), (5, "stop"));

        let g = generate(&prompt("gpt-4o", Some(3), &json!("hello big world")));
        assert_eq!(g.visible(), "You said: hello");
        assert_eq!((g.counts.completion, g.finish_reason), (3, "length"));
    }

    #[test]
    fn reasoning_counts_inside_completion_and_spends_the_budget_first() {
        let reasoning = tokens::words(REASONING);
        assert_eq!(reasoning, 12, "the crate documentation promises 12");
        let g = generate(&prompt("o3-mini", None, &json!("hi")));
        assert_eq!(g.counts.reasoning, reasoning);
        assert_eq!(g.counts.completion, reasoning + 3);

        let g = generate(&prompt("o3-mini", Some(reasoning + 1), &json!("hi")));
        assert_eq!(g.visible(), "You");
        assert_eq!(g.finish_reason, "length");
    }
}
