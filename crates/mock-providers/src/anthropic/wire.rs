//! The Messages answer on the wire: a whole `message` object, or the event stream
//! `message_start`, `content_block_start`, `ping`, `content_block_delta`…,
//! `content_block_stop`, `message_delta` (stop reason and usage), `message_stop`.
//! With extended thinking, a `thinking` block (its text, then its `signature`) comes
//! before the answer's block.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::cache::CacheUse;
use crate::reply::{Finish, Generation, random_id};
use crate::stream::{Frame, Frames, Part, sse};

/// What every part of one answer shares.
pub(crate) struct Head {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) cache: CacheUse,
    /// Whether the cache write was asked for one hour (else five minutes).
    pub(crate) long_ttl: bool,
    /// The id of the `tool_use` block, if the answer is one.
    tool_use_id: String,
}

impl Head {
    pub(crate) fn new(model: &str, cache: CacheUse, long_ttl: bool) -> Self {
        Self {
            id: random_id("msg_01", 22),
            model: model.to_owned(),
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
        Finish::Refused => ("refusal", None),
    }
}

/// The one content block, whole (`input` complete) or as it starts a stream.
fn block(head: &Head, generation: &Generation, whole: bool) -> Value {
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

/// A thinking block's signature (opaque to clients, who send it back with the
/// block), one per answer.
fn signature(head: &Head) -> String {
    format!("EqMock{}", head.id)
}

/// Whether the answer opens with a thinking block.
fn thinks(generation: &Generation) -> bool {
    !generation.reasoning.is_empty()
}

/// The whole `message` object.
pub(crate) fn message(head: &Head, generation: &Generation) -> Vec<u8> {
    let (stop_reason, stop_sequence) = stop(generation);
    let mut content = Vec::with_capacity(2);
    if thinks(generation) {
        content.push(json!({"type": "thinking", "thinking": generation.reasoning,
            "signature": signature(head)}));
    }
    content.push(block(head, generation, true));
    let body = json!({
        "id": head.id,
        "type": "message",
        "role": "assistant",
        "model": head.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": head.usage(generation, generation.counts.completion),
    });
    body.to_string().into_bytes()
}

/// The event stream, one `content_block_delta` per token.
pub(crate) fn events(head: Head, generation: Generation) -> Frames<Answer> {
    let mut script: Vec<Part<Answer>> = vec![Part::One(|a, _| Frame::new(a.message_start()))];
    if thinks(&generation) {
        let thinking: [Part<Answer>; 4] = [
            Part::One(|_, _| {
                Frame::new(event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
                ))
            }),
            Part::Pieces(
                |a: &Answer| a.generation.reasoning,
                |_, piece, _| {
                    Frame::token(block_delta(
                        0,
                        json!({"type": "thinking_delta", "thinking": piece}),
                    ))
                },
            ),
            Part::One(|a, _| {
                Frame::new(block_delta(
                    0,
                    json!({"type": "signature_delta", "signature": signature(&a.head)}),
                ))
            }),
            Part::One(|_, _| Frame::new(content_block_stop(0))),
        ];
        script.extend(thinking);
    }
    let answer: [Part<Answer>; 6] = [
        Part::One(|a, _| Frame::new(a.content_block_start())),
        Part::One(|_, _| Frame::new(event("ping", json!({"type": "ping"})))),
        Part::Pieces(
            |a| a.generation.visible(),
            |a, piece, _| Frame::token(a.delta(piece)),
        ),
        Part::One(|a, _| Frame::new(content_block_stop(a.text_index()))),
        Part::One(|a, _| Frame::closing(a.message_delta())),
        Part::One(|_, _| Frame::closing(event("message_stop", json!({"type": "message_stop"})))),
    ];
    script.extend(answer);
    Frames::new(Answer { head, generation }, script)
}

/// What the events are made from.
pub(crate) struct Answer {
    head: Head,
    generation: Generation,
}

impl Answer {
    /// The start reports the first output token, as Anthropic's does.
    fn message_start(&self) -> Bytes {
        let (head, generation) = (&self.head, &self.generation);
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
        event("message_start", start)
    }

    /// The index of the answer's block (after the thinking block, if any).
    fn text_index(&self) -> usize {
        usize::from(thinks(&self.generation))
    }

    fn content_block_start(&self) -> Bytes {
        let block = block(&self.head, &self.generation, false);
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": self.text_index(), "content_block": block}),
        )
    }

    fn delta(&self, piece: &str) -> Bytes {
        let delta = match self.generation.tool_call {
            Some(_) => json!({"type": "input_json_delta", "partial_json": piece}),
            None => json!({"type": "text_delta", "text": piece}),
        };
        block_delta(self.text_index(), delta)
    }

    /// The stop reason, and the usage as the running total.
    fn message_delta(&self) -> Bytes {
        let generation = &self.generation;
        let (stop_reason, stop_sequence) = stop(generation);
        let mut usage = self.head.usage(generation, generation.counts.completion);
        if let Some(usage) = usage.as_object_mut() {
            usage.remove("cache_creation");
            usage.remove("service_tier");
        }
        event(
            "message_delta",
            json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": usage,
            }),
        )
    }
}

fn block_delta(index: usize, delta: Value) -> Bytes {
    event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": delta}),
    )
}

fn content_block_stop(index: usize) -> Bytes {
    event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}

fn event(name: &str, data: Value) -> Bytes {
    sse(Some(name), &data, "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::tests::samples;
    use crate::{stream, tokens};

    /// The frames as they were made before streams were lazy: all at once.
    fn eager(answer: &Answer) -> Vec<Frame> {
        let mut frames = vec![Frame::new(answer.message_start())];
        if thinks(&answer.generation) {
            frames.push(Frame::new(event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            )));
            let pieces = tokens::pieces(answer.generation.reasoning);
            frames.extend(pieces.map(|piece| {
                Frame::token(block_delta(
                    0,
                    json!({"type": "thinking_delta", "thinking": piece}),
                ))
            }));
            frames.push(Frame::new(block_delta(
                0,
                json!({"type": "signature_delta", "signature": signature(&answer.head)}),
            )));
            frames.push(Frame::new(content_block_stop(0)));
        }
        frames.extend([
            Frame::new(answer.content_block_start()),
            Frame::new(event("ping", json!({"type": "ping"}))),
        ]);
        let pieces = tokens::pieces(answer.generation.visible());
        frames.extend(pieces.map(|piece| Frame::token(answer.delta(piece))));
        frames.extend([
            Frame::new(content_block_stop(answer.text_index())),
            Frame::closing(answer.message_delta()),
            Frame::closing(event("message_stop", json!({"type": "message_stop"}))),
        ]);
        frames
    }

    #[test]
    fn the_events_are_the_ones_sent_when_they_were_made_at_once() {
        for long_ttl in [false, true] {
            for generation in samples() {
                let cache = CacheUse { write: 2, read: 1 };
                let answer = Answer {
                    head: Head::new("claude-sonnet-4-5", cache, long_ttl),
                    generation,
                };
                let expected = eager(&answer);
                let Answer { head, generation } = answer;
                assert_eq!(events(head, generation).collect::<Vec<_>>(), expected);
            }
        }
    }

    #[test]
    fn a_million_word_answer_is_streamed_without_making_its_events_first() {
        let head = Head::new("claude-sonnet-4-5", CacheUse::default(), false);
        stream::tests::first_frames_come_at_once(|generation| events(head, generation));
    }
}
