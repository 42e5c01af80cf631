//! What the mock "generates" for a chat request: an echo of the last user message,
//! a JSON document, or a forced tool call, with hidden or shown reasoning for
//! reasoning models, cut to the token budget.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

use crate::schema;
use crate::tokens::{self, Counts};

/// What a reasoning model "thinks" before answering (shown only where the provider
/// shows reasoning: DeepSeek's `reasoning_content`, Gemini's thought parts).
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
    /// The name of the function called, when the answer is a tool call.
    pub(crate) tool_call: Option<String>,
    pub(crate) finish: Finish,
    pub(crate) counts: Counts,
}

impl Generation {
    pub(crate) fn visible(&self) -> &str {
        &self.text[..self.text_end]
    }

    /// The tool call's arguments as JSON: `{}` when the budget cut them short.
    pub(crate) fn arguments(&self) -> Value {
        serde_json::from_str(self.visible()).unwrap_or_else(|_| json!({}))
    }
}

/// Why the answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The answer was complete.
    Stop,
    /// The text reached this stop sequence (left out of the answer).
    StopSequence(String),
    /// The token budget ran out.
    Length,
    /// The answer is a complete tool call.
    ToolCall,
    /// The model declined to go on ([`REFUSE_WORD`]): a safety stop, Anthropic's
    /// `refusal`, OpenAI's `content_filter`.
    Refused,
}

impl Finish {
    /// OpenAI's `finish_reason`.
    pub(crate) fn openai(&self) -> &'static str {
        match self {
            Finish::Stop | Finish::StopSequence(_) => "stop",
            Finish::Length => "length",
            Finish::ToolCall => "tool_calls",
            Finish::Refused => "content_filter",
        }
    }
}

/// A last user message holding this word is declined by every provider's model
/// after the first two tokens of its answer (`You said:`), with no tool call: the
/// way to ask the mock for a refusal.
pub(crate) const REFUSE_WORD: &str = "MERIDIAN_REFUSE_ME";

/// How many tokens of its answer a model gives before it declines.
const REFUSED_AFTER: u32 = 2;

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
    pub(crate) prompt_tokens: u32,
    pub(crate) cache_keyed: bool,
    /// The text of the last user message, part by part.
    pub(crate) last_user: Vec<&'a str>,
    pub(crate) max_tokens: Option<u32>,
    /// Stop sequences: the text ends before the first one it contains.
    pub(crate) stop: Vec<&'a str>,
    /// Whether the model "reasons" first (see [`REASONING`]).
    pub(crate) thinks: bool,
    pub(crate) output: Output<'a>,
}

/// Whether an OpenAI-format model "reasons": a name segment `o1`, `o3` or `o4`
/// (`o3-mini`, `openai/o4-mini`), or a name containing `reasoner` (`deepseek-reasoner`).
pub(crate) fn is_reasoning_model(model: &str) -> bool {
    model.contains("reasoner")
        || model
            .split(['/', '-', ':', '.', '@'])
            .any(|segment| matches!(segment, "o1" | "o3" | "o4"))
}

pub(crate) fn generate(prompt: &Prompt<'_>) -> Generation {
    let refused = prompt.last_user.iter().any(|t| t.contains(REFUSE_WORD));
    let output = if refused { Output::Text } else { prompt.output };
    let (mut text, tool_call) = match output {
        Output::Text => (echo(&prompt.last_user), None),
        Output::JsonObject => (
            schema::to_spaced_json(&json!({ "reply": echo(&prompt.last_user) })),
            None,
        ),
        Output::JsonSchema(schema) => (document(schema), None),
        Output::ToolCall { name, parameters } => (document(parameters), Some(name.to_owned())),
    };
    let stopped = if tool_call.is_none() {
        stop_at(&mut text, &prompt.stop)
    } else {
        None
    };
    let budget = prompt.max_tokens.unwrap_or(u32::MAX);
    let budget = if refused {
        budget.min(REFUSED_AFTER)
    } else {
        budget
    };
    let reasoning_text = if prompt.thinks { REASONING } else { "" };
    let reasoning = tokens::take(reasoning_text, budget);
    let visible = tokens::take(&text, budget - reasoning.tokens);
    let finish = if refused {
        Finish::Refused
    } else if reasoning.truncated || visible.truncated {
        Finish::Length
    } else if let Some(sequence) = stopped {
        Finish::StopSequence(sequence)
    } else if tool_call.is_some() {
        Finish::ToolCall
    } else {
        Finish::Stop
    };
    Generation {
        text_end: visible.end,
        text,
        reasoning: &reasoning_text[..reasoning.end],
        tool_call,
        finish,
        counts: Counts {
            prompt: prompt.prompt_tokens,
            cached: tokens::cached_tokens(prompt.prompt_tokens, prompt.cache_keyed),
            completion: reasoning.tokens + visible.tokens,
            reasoning: reasoning.tokens,
        },
    }
}

/// Cuts `text` before the earliest stop sequence it contains, and names that sequence.
fn stop_at(text: &mut String, stop: &[&str]) -> Option<String> {
    let (at, sequence) = stop
        .iter()
        .filter(|sequence| !sequence.is_empty())
        .filter_map(|sequence| Some((text.find(sequence)?, *sequence)))
        .min_by_key(|(at, _)| *at)?;
    text.truncate(at);
    Some(sequence.to_owned())
}

/// `"You said: <the words of the last user message>"`, single-spaced.
fn echo(last_user: &[&str]) -> String {
    let mut reply = String::from("You said:");
    for word in last_user.iter().flat_map(|text| text.split_whitespace()) {
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
pub(crate) mod tests {
    use super::*;

    /// Answers of every shape the streams tell apart: text, reasoning, a tool call,
    /// cut by the budget (in the reasoning, in the text, before any text).
    pub(crate) fn samples() -> Vec<Generation> {
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
        let mut call = prompt(false, None, "x");
        call.output = Output::ToolCall {
            name: "f",
            parameters: Some(&schema),
        };
        [
            prompt(false, None, "hello   big\nworld"),
            prompt(true, None, "hi there"),
            prompt(true, Some(3), "hi there"),
            prompt(false, Some(2), "hello big world"),
            prompt(false, Some(0), "hello"),
            call,
        ]
        .iter()
        .map(generate)
        .collect()
    }

    /// The echo of `words` words.
    pub(crate) fn echo_of(words: usize) -> Generation {
        generate(&prompt(false, None, &"word ".repeat(words)))
    }

    fn prompt<'a>(thinks: bool, max_tokens: Option<u32>, last_user: &'a str) -> Prompt<'a> {
        Prompt {
            prompt_tokens: 10,
            cache_keyed: false,
            last_user: vec![last_user],
            max_tokens,
            stop: Vec::new(),
            thinks,
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
        let g = generate(&prompt(false, None, "hello   big\nworld"));
        assert_eq!(g.visible(), "You said: hello big world");
        assert_eq!((g.counts.completion, g.finish), (5, Finish::Stop));

        let g = generate(&prompt(false, Some(3), "hello big world"));
        assert_eq!(g.visible(), "You said: hello");
        assert_eq!((g.counts.completion, g.finish), (3, Finish::Length));
    }

    #[test]
    fn the_earliest_stop_sequence_ends_the_text_unless_the_budget_ends_it_first() {
        let mut p = prompt(false, None, "alpha beta gamma");
        p.stop = vec!["gamma", "beta"];
        let g = generate(&p);
        assert_eq!(g.visible(), "You said: alpha");
        assert_eq!(g.counts.completion, 3);
        assert_eq!(g.finish, Finish::StopSequence("beta".into()));

        p.max_tokens = Some(2);
        assert_eq!(generate(&p).finish, Finish::Length);
    }

    #[test]
    fn reasoning_counts_inside_completion_and_spends_the_budget_first() {
        let reasoning = tokens::words(REASONING);
        assert_eq!(reasoning, 12, "the crate documentation promises 12");
        let g = generate(&prompt(true, None, "hi"));
        assert_eq!(g.counts.reasoning, reasoning);
        assert_eq!(g.counts.completion, reasoning + 3);

        let g = generate(&prompt(true, Some(reasoning + 1), "hi"));
        assert_eq!(g.visible(), "You");
        assert_eq!(g.finish, Finish::Length);
    }

    #[test]
    fn cut_tool_arguments_read_as_an_empty_object() {
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
        let mut p = prompt(false, None, "x");
        p.output = Output::ToolCall {
            name: "f",
            parameters: Some(&schema),
        };
        let g = generate(&p);
        assert_eq!(
            (g.arguments(), g.finish),
            (json!({"a": "example"}), Finish::ToolCall)
        );
        p.max_tokens = Some(1);
        assert_eq!(generate(&p).arguments(), json!({}));
    }
}
