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
use crate::stream::{Frame, Frames, Part};

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
        Finish::Refused => "content_filtered",
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
pub(crate) fn events(head: Head, generation: Generation) -> Frames<Answer> {
    let mut script: Vec<Part<Answer>> = vec![Part::One(|_, _| {
        Frame::new(event("messageStart", json!({"role": "assistant"})))
    })];
    if generation.tool_call.is_some() {
        script.push(Part::One(|a, _| Frame::new(a.tool_use_start())));
    }
    script.push(Part::Pieces(
        |a| a.generation.visible(),
        |a, piece, _| Frame::token(a.delta(piece)),
    ));
    script.push(Part::One(|_, _| Frame::new(content_block_stop())));
    script.push(Part::One(|a, _| Frame::new(a.message_stop())));
    script.push(Part::One(|a, _| Frame::closing(a.metadata())));
    Frames::new(Answer { head, generation }, script)
}

/// What the events are made from.
pub(crate) struct Answer {
    head: Head,
    generation: Generation,
}

impl Answer {
    fn tool_use_start(&self) -> Vec<u8> {
        let name = &self.generation.tool_call;
        let tool_use = json!({"toolUseId": self.head.tool_use_id, "name": name});
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": 0, "start": {"toolUse": tool_use}}),
        )
    }

    fn delta(&self, piece: &str) -> Vec<u8> {
        let delta = match self.generation.tool_call {
            Some(_) => json!({"toolUse": {"input": piece}}),
            None => json!({"text": piece}),
        };
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": delta}),
        )
    }

    fn message_stop(&self) -> Vec<u8> {
        let stop_reason = stop_reason(&self.generation);
        event("messageStop", json!({"stopReason": stop_reason}))
    }

    fn metadata(&self) -> Vec<u8> {
        let head = &self.head;
        let usage = head.usage(&self.generation);
        event(
            "metadata",
            json!({"usage": usage, "metrics": {"latencyMs": head.latency_ms}}),
        )
    }
}

fn content_block_stop() -> Vec<u8> {
    event("contentBlockStop", json!({"contentBlockIndex": 0}))
}

/// One event-stream message: the event's JSON, padded, with its headers.
pub(crate) fn event(name: &'static str, mut payload: Value) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::read_message_from;

    use super::*;
    use crate::reply::tests::samples;
    use crate::{stream, tokens};

    /// The frames as they were made before streams were lazy: all at once.
    fn eager(answer: &Answer) -> Vec<Frame> {
        let mut frames = vec![Frame::new(event(
            "messageStart",
            json!({"role": "assistant"}),
        ))];
        if answer.generation.tool_call.is_some() {
            frames.push(Frame::new(answer.tool_use_start()));
        }
        let pieces = tokens::pieces(answer.generation.visible());
        frames.extend(pieces.map(|piece| Frame::token(answer.delta(piece))));
        frames.extend([
            Frame::new(content_block_stop()),
            Frame::new(answer.message_stop()),
            Frame::closing(answer.metadata()),
        ]);
        frames
    }

    /// A frame with the event's random padding left out: its headers, its JSON
    /// without `p`, and how it is sent.
    fn unpadded(frame: &Frame) -> (String, bool, bool) {
        let message = read_message_from(frame.bytes.clone()).expect("a whole message");
        let mut payload: Value = serde_json::from_slice(message.payload()).expect("JSON");
        payload.as_object_mut().expect("an object").remove("p");
        let headers = format!("{:?}", message.headers());
        (format!("{headers} {payload}"), frame.paced, frame.closing)
    }

    #[test]
    fn converse_stream_sends_the_events_it_sent_when_they_were_made_at_once() {
        for generation in samples() {
            let cache = CacheUse { write: 2, read: 1 };
            let answer = Answer {
                head: Head::new(cache, 12),
                generation,
            };
            let expected: Vec<_> = eager(&answer).iter().map(unpadded).collect();
            let Answer { head, generation } = answer;
            let frames: Vec<_> = events(head, generation).map(|f| unpadded(&f)).collect();
            assert_eq!(frames, expected);
        }
    }

    #[test]
    fn a_million_word_answer_is_streamed_without_making_its_events_first() {
        let head = Head::new(CacheUse::default(), 12);
        stream::tests::first_frames_come_at_once(|generation| events(head, generation));
    }
}
