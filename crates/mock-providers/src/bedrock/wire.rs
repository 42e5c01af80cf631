//! The Converse answer on the wire: a whole `ConverseResponse`, or ConverseStream's
//! AWS event-stream messages (binary frames with a prelude, headers and CRC32s)
//! `messageStart`, `contentBlockStart` (a tool use), `contentBlockDelta`…,
//! `contentBlockStop`, `messageStop`, `metadata` (usage and metrics). Each event's
//! JSON carries random padding `p`, as Bedrock's do.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use serde_json::{Value, json};

use crate::cache::CacheUse;
use crate::reply::{Finish, Generation, random_id};
use crate::stream::Frame;
use crate::tokens;

/// What the padding is cut from.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// What every part of one answer shares.
pub(crate) struct Head {
    pub(crate) cache: CacheUse,
    /// How long the answer took, for `metrics.latencyMs`.
    pub(crate) latency_ms: u64,
    /// The id of the tool use, if the answer is one.
    tool_use_id: String,
}

impl Head {
    pub(crate) fn new(cache: CacheUse, latency_ms: u64) -> Self {
        Self {
            cache,
            latency_ms,
            tool_use_id: random_id("tooluse_", 22),
        }
    }

    /// `inputTokens` leaves out what was written to or read from the cache;
    /// `totalTokens` counts everything.
    fn usage(&self, generation: &Generation) -> Value {
        let CacheUse { write, read } = self.cache;
        let counts = generation.counts;
        json!({
            "inputTokens": counts.prompt - write - read,
            "outputTokens": counts.completion,
            "totalTokens": counts.prompt + counts.completion,
            "cacheReadInputTokens": read,
            "cacheWriteInputTokens": write,
        })
    }
}

fn stop_reason(generation: &Generation) -> &'static str {
    match generation.finish {
        Finish::Stop => "end_turn",
        Finish::StopSequence(_) => "stop_sequence",
        Finish::Length => "max_tokens",
        Finish::ToolCall => "tool_use",
    }
}

/// The whole `ConverseResponse`.
pub(crate) fn whole(head: &Head, generation: &Generation) -> Vec<u8> {
    let block = match &generation.tool_call {
        Some(name) => json!({"toolUse": {
            "toolUseId": head.tool_use_id,
            "name": name,
            "input": generation.arguments(),
        }}),
        None => json!({"text": generation.visible()}),
    };
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [block]}},
        "stopReason": stop_reason(generation),
        "usage": head.usage(generation),
        "metrics": {"latencyMs": head.latency_ms},
    });
    body.to_string().into_bytes()
}

/// ConverseStream's events, one `contentBlockDelta` per token.
pub(crate) fn events(head: &Head, generation: &Generation) -> Vec<Frame> {
    let mut frames = vec![Frame::new(event(
        "messageStart",
        json!({"role": "assistant"}),
    ))];
    if let Some(name) = &generation.tool_call {
        frames.push(Frame::new(event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": head.tool_use_id, "name": name}}}),
        )));
    }
    let delta = |piece: &str| match generation.tool_call {
        Some(_) => json!({"toolUse": {"input": piece}}),
        None => json!({"text": piece}),
    };
    frames.extend(tokens::pieces(generation.visible()).map(|piece| {
        Frame::token(event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": delta(piece)}),
        ))
    }));
    frames.extend([
        Frame::new(event("contentBlockStop", json!({"contentBlockIndex": 0}))),
        Frame::new(event(
            "messageStop",
            json!({"stopReason": stop_reason(generation)}),
        )),
        Frame::closing(event(
            "metadata",
            json!({"usage": head.usage(generation), "metrics": {"latencyMs": head.latency_ms}}),
        )),
    ]);
    frames
}

/// One event-stream message: the event's JSON, padded, with its headers.
fn event(name: &'static str, mut payload: Value) -> Vec<u8> {
    let padding = rand::random_range(1..=PADDING.len());
    payload["p"] = json!(&PADDING[..padding]);
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(":event-type", HeaderValue::String(name.into())))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    let mut frame = Vec::new();
    write_message_to(&message, &mut frame).expect("an event always fits a frame");
    frame
}
