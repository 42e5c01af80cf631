//! The Messages answer on the wire: a whole `message` object, or the event stream
//! `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
//! `content_block_stop`, `message_delta` (stop reason and usage), `message_stop`.

use serde_json::{Value, json};

use crate::cache::CacheUse;
use crate::reply::{Finish, Generation, random_id};
use crate::stream::{Frame, sse};
use crate::tokens;

/// What every part of one answer shares.
pub(crate) struct Head<'a> {
    pub(crate) id: String,
    pub(crate) model: &'a str,
    pub(crate) cache: CacheUse,
    /// Whether the cache write was asked for one hour (else five minutes).
    pub(crate) long_ttl: bool,
    /// The id of the `tool_use` block, if the answer is one.
    tool_use_id: String,
}

impl<'a> Head<'a> {
    pub(crate) fn new(model: &'a str, cache: CacheUse, long_ttl: bool) -> Self {
        Self {
            id: random_id("msg_01", 22),
            model,
            cache,
            long_ttl,
            tool_use_id: random_id("toolu_01", 22),
        }
    }

    /// The usage object; `input_tokens` leaves out what was written to or read from
    /// the cache.
    fn usage(&self, generation: &Generation, output_tokens: u32) -> Value {
        let CacheUse { write, read } = self.cache;
        let (short, long) = if self.long_ttl {
            (0, write)
        } else {
            (write, 0)
        };
        json!({
            "input_tokens": generation.counts.prompt - write - read,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": short,
                "ephemeral_1h_input_tokens": long,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        })
    }
}

/// `stop_reason` and `stop_sequence`.
fn stop(generation: &Generation) -> (&'static str, Option<&str>) {
    match &generation.finish {
        Finish::Stop => ("end_turn", None),
        Finish::StopSequence(sequence) => ("stop_sequence", Some(sequence)),
        Finish::Length => ("max_tokens", None),
        Finish::ToolCall => ("tool_use", None),
    }
}

/// The one content block, whole (`input` complete) or as it starts a stream.
fn block(head: &Head<'_>, generation: &Generation, whole: bool) -> Value {
    match &generation.tool_call {
        Some(name) => json!({
            "type": "tool_use",
            "id": head.tool_use_id,
            "name": name,
            "input": if whole { generation.arguments() } else { json!({}) },
        }),
        None => json!({
            "type": "text",
            "text": if whole { generation.visible() } else { "" },
        }),
    }
}

/// The whole `message` object.
pub(crate) fn message(head: &Head<'_>, generation: &Generation) -> Vec<u8> {
    let (stop_reason, stop_sequence) = stop(generation);
    let body = json!({
        "id": head.id,
        "type": "message",
        "role": "assistant",
        "model": head.model,
        "content": [block(head, generation, true)],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": head.usage(generation, generation.counts.completion),
    });
    body.to_string().into_bytes()
}

/// The event stream, one `content_block_delta` per token.
pub(crate) fn events(head: &Head<'_>, generation: &Generation) -> Vec<Frame> {
    let event = |name: &str, data: Value| sse(Some(name), &data, "\n");
    let (stop_reason, stop_sequence) = stop(generation);
    // The start reports the first output token, as Anthropic's does; the delta's usage
    // is the running total.
    let start = json!({
        "type": "message_start",
        "message": {
            "id": head.id,
            "type": "message",
            "role": "assistant",
            "model": head.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": head.usage(generation, 1),
        },
    });
    let mut frames = vec![
        Frame::new(event("message_start", start)),
        Frame::new(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": block(head, generation, false)}),
        )),
        Frame::new(event("ping", json!({"type": "ping"}))),
    ];
    let delta = |piece: &str| match generation.tool_call {
        Some(_) => json!({"type": "input_json_delta", "partial_json": piece}),
        None => json!({"type": "text_delta", "text": piece}),
    };
    frames.extend(tokens::pieces(generation.visible()).map(|piece| {
        Frame::token(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta(piece)}),
        ))
    }));
    let mut usage = head.usage(generation, generation.counts.completion);
    if let Some(usage) = usage.as_object_mut() {
        usage.remove("cache_creation");
        usage.remove("service_tier");
    }
    frames.extend([
        Frame::new(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        )),
        Frame::closing(event(
            "message_delta",
            json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": usage,
            }),
        )),
        Frame::closing(event("message_stop", json!({"type": "message_stop"}))),
    ]);
    frames
}
