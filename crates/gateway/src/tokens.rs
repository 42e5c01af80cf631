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
use tiktoken_rs::tokenizer::Tokenizer;

use crate::body::ClientBody;

/// Tokens OpenAI adds around each message (role and separators), and before the reply.
const PER_MESSAGE: u64 = 4;
const REPLY_PRIMING: u64 = 3;
/// What a provider charges for an image at the least (OpenAI's low-detail tile).
const PER_IMAGE: u64 = 85;

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
        .or_else(|_| tiktoken_rs::bpe_for_tokenizer(Tokenizer::O200kBase))
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
