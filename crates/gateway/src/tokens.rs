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
/// the request path): the JSON text of its messages and tools (embeddings: `input`) at
/// four bytes a token, at most the model's context (an image's base64 is not its
/// tokens), plus its output cap: `max_completion_tokens`, `max_tokens`, else the
/// model's, else 4,096. The reservation is corrected to the provider's count when the
/// request ends.
pub fn admission_estimate(
    body: &ClientBody,
    embeddings: bool,
    max_input: Option<i64>,
    max_output: Option<i64>,
) -> u64 {
    let bytes = if embeddings {
        body.get("input").map_or(0, str::len)
    } else {
        body.get("messages").map_or(0, str::len) + body.get("tools").map_or(0, str::len)
    } as u64;
    let context = max_input
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(u64::MAX);
    let prompt = (bytes / BYTES_PER_TOKEN).min(context);
    if embeddings {
        return prompt;
    }
    let asked = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| body.get(k)?.parse::<u64>().ok());
    let output = asked
        .or_else(|| max_output.and_then(|n| u64::try_from(n).ok()))
        .unwrap_or(DEFAULT_OUTPUT_CAP);
    prompt + output
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
/// definitions, with OpenAI's per-message overhead.
pub fn count_prompt(upstream_model: &str, body: &ClientBody) -> u64 {
    let bpe = tokenizer(upstream_model);
    let count = |text: &str| bpe.encode_ordinary(text).len() as u64;
    let mut tokens = REPLY_PRIMING;
    let messages = body
        .get("messages")
        .and_then(|m| serde_json::from_str::<Vec<Message>>(m).ok())
        .unwrap_or_default();
    for message in &messages {
        tokens += PER_MESSAGE;
        match &message.content {
            Some(Value::String(text)) => tokens += count(text),
            Some(Value::Array(parts)) => {
                for part in parts {
                    match part.get("text").and_then(Value::as_str) {
                        Some(text) => tokens += count(text),
                        None if part.get("type").and_then(Value::as_str) == Some("image_url") => {
                            tokens += PER_IMAGE;
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
        if let Some(calls) = &message.tool_calls {
            tokens += count(calls.get());
        }
    }
    if let Some(tools) = body.get("tools") {
        tokens += count(tools);
    }
    tokens
}

/// The parts of a message that hold prompt text.
#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_calls: Option<Box<serde_json::value::RawValue>>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
