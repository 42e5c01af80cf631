//! Token counts estimated with a tokenizer, for a request the provider bills but never
//! reported usage for: a stream the client abandoned, or one the provider broke off,
//! before its usage event. OpenAI models are counted with their own tokenizer
//! (tiktoken's tables, through `tiktoken-rs`); other vendors publish none for local use,
//! so their text is counted with `o200k_base`, which is within a few percent of them
//! on English text. The event of such a request is marked `estimated`.
//!
//! The tables are loaded on first use (a few hundred milliseconds, tens of megabytes),
//! which happens only when a stream ends without usage.

use std::sync::OnceLock;
use std::sync::mpsc;

use serde::Deserialize;
use serde_json::Value;
use tiktoken_rs::CoreBPE;

use crate::body::ClientBody;

/// Tokens OpenAI adds around each message (role and separators), and before the reply.
const PER_MESSAGE: u64 = 4;
const REPLY_PRIMING: u64 = 3;
/// What a provider charges for an image at the least (OpenAI's low-detail tile).
const PER_IMAGE: u64 = 85;

/// Bytes of request text per token in the admission estimate (the usual figure for
/// English; JSON's quotes and keys make it an overestimate, which is the safe side).
const BYTES_PER_TOKEN: u64 = 4;
/// Output reserved for a request when neither it nor the catalog caps it.
const DEFAULT_OUTPUT_CAP: u64 = 4_096;

/// The tokens a request may cost, reserved against a deployment's capacity before it
/// is sent ([`crate::capacity`]). Not tokenized (that would cost more than the rest of
/// the request path): the JSON text of its messages and tools (embeddings: `input`;
/// Responses: `instructions` and `input` too) at four bytes a token, at most the
/// model's context (an image's base64 is not its tokens), plus its output cap:
/// `max_completion_tokens`, `max_tokens` (Responses: `max_output_tokens`), else the
/// model's, else 4,096. The reservation is corrected to the provider's count when the
/// request ends.
pub fn admission_estimate(
    body: &ClientBody,
    embeddings: bool,
    max_input: Option<i64>,
    max_output: Option<i64>,
) -> u64 {
    let prompt = prompt_estimate(body, embeddings, max_input);
    if embeddings {
        return prompt;
    }
    prompt + output_cap(asked_output(body), max_output)
}

/// The prompt part of [`admission_estimate`]: the request's text at four bytes a
/// token, at most the model's context.
pub fn prompt_estimate(body: &ClientBody, embeddings: bool, max_input: Option<i64>) -> u64 {
    let bytes = if embeddings {
        body.get("input").map_or(0, str::len)
    } else {
        ["messages", "tools", "instructions", "input"]
            .iter()
            .map(|k| body.get(k).map_or(0, str::len))
            .sum()
    } as u64;
    let context = max_input
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(u64::MAX);
    (bytes / BYTES_PER_TOKEN).min(context)
}

/// The output cap the client set: `max_completion_tokens`, `max_tokens` (Responses:
/// `max_output_tokens`).
pub fn asked_output(body: &ClientBody) -> Option<u64> {
    ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| body.get(k)?.parse::<u64>().ok())
}

/// The most a request may generate, as admission counts it: what it `asked` for,
/// else the model's cap (`max_output`, from the catalog), else 4,096.
pub fn output_cap(asked: Option<u64>, max_output: Option<i64>) -> u64 {
    asked
        .or_else(|| max_output.and_then(|n| u64::try_from(n).ok()))
        .unwrap_or(DEFAULT_OUTPUT_CAP)
}

/// A counting job, run by [`off_thread`].
type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` (a count, and the metering of its result) on the one thread that does
/// all counting, one job after another. One thread, not one per job: the tokenizer's
/// regex caches and the allocator's arenas are per thread, and a thread per count
/// (`spawn_blocking`) grew the resident set by ~40 MB over 100 aborted streams that
/// never came back; counting also never takes more than one core from requests.
/// Runs `job` here if that thread cannot be started.
pub fn off_thread(job: impl FnOnce() + Send + 'static) {
    static COUNTER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let sender = COUNTER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("meridian-count".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .ok()
            .map(|_| tx)
    });
    let job: Job = Box::new(job);
    match sender {
        Some(tx) => {
            if let Err(mpsc::SendError(job)) = tx.send(job) {
                job();
            }
        }
        None => job(),
    }
}

/// The tokenizer of `upstream_model` (the provider's name of the model).
fn tokenizer(upstream_model: &str) -> &'static CoreBPE {
    tiktoken_rs::bpe_for_model(upstream_model)
        .unwrap_or_else(|_| tiktoken_rs::o200k_base_singleton())
}

/// Tokens of generated `text`.
pub fn count_text(upstream_model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    tokenizer(upstream_model).encode_ordinary(text).len() as u64
}

/// Tokens of a chat request's prompt: the text of every message and of the tool
/// definitions, with OpenAI's per-message overhead. A Responses request's
/// `instructions` and `input` items (messages, function calls and their outputs),
/// and a Messages request's `system`, count as messages.
pub fn count_prompt(upstream_model: &str, body: &ClientBody) -> u64 {
    let bpe = tokenizer(upstream_model);
    let count = |text: &str| bpe.encode_ordinary(text).len() as u64;
    let count_content = |content: &Option<Value>| match content {
        Some(Value::String(text)) => count(text),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|part| match part.get("text").and_then(Value::as_str) {
                Some(text) => count(text),
                None => match part.get("type").and_then(Value::as_str) {
                    Some("image_url" | "input_image" | "image") => PER_IMAGE,
                    _ => 0,
                },
            })
            .sum(),
        _ => 0,
    };
    let mut tokens = REPLY_PRIMING;
    let messages = match body.get("messages").or_else(|| body.get("input")) {
        Some(text) if text.starts_with('"') => vec![Message {
            content: serde_json::from_str(text).ok(),
            ..Message::default()
        }],
        Some(items) => serde_json::from_str::<Vec<Message>>(items).unwrap_or_default(),
        None => Vec::new(),
    };
    if let Some(Ok(instructions)) = body.get("instructions").map(serde_json::from_str::<String>) {
        tokens += PER_MESSAGE + count(&instructions);
    }
    if let Some(system) = body.get("system") {
        tokens += PER_MESSAGE + count_content(&serde_json::from_str(system).ok());
    }
    for message in &messages {
        tokens += PER_MESSAGE + count_content(&message.content) + count_content(&message.output);
        if let Some(calls) = &message.tool_calls {
            tokens += count(calls.get());
        }
        if let Some(arguments) = &message.arguments {
            tokens += count(arguments);
        }
    }
    if let Some(tools) = body.get("tools") {
        tokens += count(tools);
    }
    tokens
}

/// The parts of a message (or a Responses input item) that hold prompt text.
#[derive(Default, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Box<serde_json::value::RawValue>>,
    /// A Responses `function_call`'s arguments.
    #[serde(default)]
    arguments: Option<String>,
    /// A Responses `function_call_output`'s output.
    #[serde(default)]
    output: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Messages request's `system`, as a string or as text blocks, is counted too.
    #[test]
    fn a_messages_system_prompt_counts() {
        let body = |system: &str| {
            ClientBody::parse(bytes::Bytes::from(format!(
                r#"{{"model":"m","max_tokens":8,{system}"messages":[{{"role":"user","content":"hello world"}}]}}"#
            )))
            .unwrap()
        };
        let bare = count_prompt("claude-sonnet-4-5", &body(""));
        let string = count_prompt("claude-sonnet-4-5", &body(r#""system":"hello world","#));
        let blocks = count_prompt(
            "claude-sonnet-4-5",
            &body(r#""system":[{"type":"text","text":"hello world"}],"#),
        );
        assert_eq!(string, bare + PER_MESSAGE + 2);
        assert_eq!(blocks, string);
    }

    #[test]
    fn counts_with_the_models_tokenizer() {
        // "hello world" is two tokens in cl100k_base and o200k_base alike.
        assert_eq!(count_text("gpt-4o-mini", "hello world"), 2);
        assert_eq!(count_text("claude-sonnet-4-5", "hello world"), 2);
        assert_eq!(count_text("gpt-4o-mini", ""), 0);
    }

    #[test]
    fn admission_takes_the_text_at_four_bytes_a_token_and_the_output_cap() {
        let body = |extra: &str| {
            ClientBody::parse(bytes::Bytes::from(format!(
                r#"{{"model":"m","messages":[{{"role":"user","content":"{}"}}]{extra}}}"#,
                "a".repeat(370)
            )))
            .unwrap()
        };
        // 400 bytes of messages: 100 tokens.
        assert_eq!(
            admission_estimate(&body(r#","max_tokens":50"#), false, None, Some(16_384)),
            150
        );
        assert_eq!(
            admission_estimate(&body(r#","max_completion_tokens":7"#), false, None, None),
            107
        );
        assert_eq!(
            admission_estimate(&body(""), false, None, Some(16_384)),
            100 + 16_384
        );
        assert_eq!(
            admission_estimate(&body(""), false, None, None),
            100 + DEFAULT_OUTPUT_CAP
        );
        assert_eq!(admission_estimate(&body(""), false, Some(10), Some(1)), 11);
    }

    #[test]
    fn prompt_counts_messages_parts_and_tools() {
        let body = ClientBody::parse(bytes::Bytes::from_static(
            br#"{"model":"m","messages":[{"role":"system","content":"hello world"},
            {"role":"user","content":[{"type":"text","text":"hello world"},{"type":"image_url","image_url":{"url":"x"}}]}],
            "tools":[{"type":"function","function":{"name":"f"}}]}"#,
        ))
        .unwrap();
        let tools = count_text("gpt-4o", r#"[{"type":"function","function":{"name":"f"}}]"#);
        assert_eq!(
            count_prompt("gpt-4o", &body),
            REPLY_PRIMING + 2 * PER_MESSAGE + 2 + 2 + PER_IMAGE + tools
        );
    }

    #[test]
    fn a_responses_prompt_counts_instructions_and_input_items() {
        let body = |input: &str| {
            ClientBody::parse(bytes::Bytes::from(format!(
                r#"{{"model":"m","instructions":"hello world","input":{input}}}"#
            )))
            .unwrap()
        };
        assert_eq!(
            count_prompt("gpt-4o", &body(r#""hello world""#)),
            REPLY_PRIMING + 2 * PER_MESSAGE + 2 + 2
        );
        let items = r#"[{"role":"user","content":[{"type":"input_text","text":"hello world"},
            {"type":"input_image","image_url":"x"}]},
            {"type":"function_call","call_id":"c","name":"f","arguments":"hello world"},
            {"type":"function_call_output","call_id":"c","output":"hello world"}]"#;
        assert_eq!(
            count_prompt("gpt-4o", &body(items)),
            REPLY_PRIMING + 4 * PER_MESSAGE + 2 + 2 + PER_IMAGE + 2 + 2
        );
    }
}
