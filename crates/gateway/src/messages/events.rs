//! A translated provider's stream, which its adapter gives as Chat Completions
//! chunks, re-emitted as Anthropic's events in Anthropic's order: `message_start`
//! first; each content block opened when its first delta comes
//! (`content_block_start`, with one `ping` after the first), its deltas, and
//! `content_block_stop` before the next block opens; then `message_delta` with the
//! stop reason and the whole usage (a chat stream reports it only at its end, so
//! `message_start` carries zeros and `message_delta` the input counts too, as newer
//! API versions send them), once it is metered; `message_stop` last.

use bytes::{Bytes, BytesMut};
use meridian_core::TokenUsage;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::from_chat::{self, stop_reason};
use super::native::{self, error_event};
use crate::error::ApiError;
use crate::providers::{Malformed, Operation, StreamOut, StreamState, UpstreamEvent};
use crate::stream::{ChunkPart, StreamFormat, chunk_parts, sse_event};
use crate::targets::Target;

/// What the open content block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Thinking,
    Text,
    /// A tool call, with the chat tool-call index that feeds it.
    ToolUse(u64),
}

pub struct Reencoder {
    id: String,
    /// The model the client asked for.
    model: String,
    started: bool,
    /// The open block and its index; `next` is the index of the next block.
    open: Option<(Block, usize)>,
    next: usize,
    finish: Option<String>,
    /// Whether the provider sent a refusal (OpenAI's `refusal`): the stop reason is
    /// then `refusal`, whatever the finish reason.
    refused: bool,
    completed: bool,
    /// Whether the client asked for usage (then `usage.cost` is added).
    wants_usage: bool,
}

impl Reencoder {
    pub fn new(model: &str, wants_usage: bool) -> Self {
        Self {
            id: from_chat::message_id(),
            model: model.to_string(),
            started: false,
            open: None,
            next: 0,
            finish: None,
            refused: false,
            completed: false,
            wants_usage,
        }
    }

    fn emit(out: &mut BytesMut, kind: &str, data: Value) {
        out.extend_from_slice(&sse_event(
            kind,
            &serde_json::to_vec(&data).unwrap_or_default(),
        ));
    }

    fn start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        let message = json!({"id": self.id, "type": "message", "role": "assistant",
            "model": self.model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": from_chat::usage(&TokenUsage::default())});
        Self::emit(
            out,
            "message_start",
            json!({"type": "message_start", "message": message}),
        );
    }

    /// Opens `block` (described by `content_block`) after closing the one before it.
    fn open(&mut self, out: &mut BytesMut, block: Block, content_block: Value) {
        self.close(out);
        let index = self.next;
        self.next += 1;
        self.open = Some((block, index));
        Self::emit(
            out,
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": content_block}),
        );
        if index == 0 {
            Self::emit(out, "ping", json!({"type": "ping"}));
        }
    }

    fn close(&mut self, out: &mut BytesMut) {
        let Some((block, index)) = self.open.take() else {
            return;
        };
        if block == Block::Thinking {
            // Chat providers sign nothing; the block still ends as Anthropic's do.
            self.delta(
                out,
                index,
                json!({"type": "signature_delta", "signature": ""}),
            );
        }
        Self::emit(
            out,
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        );
    }

    fn delta(&self, out: &mut BytesMut, index: usize, delta: Value) {
        Self::emit(
            out,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }

    /// Appends text to the open block of kind `block`, opening one if needed.
    fn text(&mut self, out: &mut BytesMut, block: Block, text: &str) {
        let index = match self.open {
            Some((open, index)) if open == block => index,
            _ => {
                let content_block = match block {
                    Block::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
                    _ => json!({"type": "text", "text": ""}),
                };
                self.open(out, block, content_block);
                self.next - 1
            }
        };
        let delta = match block {
            Block::Thinking => json!({"type": "thinking_delta", "thinking": text}),
            _ => json!({"type": "text_delta", "text": text}),
        };
        self.delta(out, index, delta);
    }

    fn tool_call(&mut self, out: &mut BytesMut, call: &Value) {
        let call_index = call["index"].as_u64().unwrap_or(0);
        let function = &call["function"];
        if let Some(id) = call["id"].as_str() {
            let name = function["name"].as_str().unwrap_or_default();
            let content_block = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
            self.open(out, Block::ToolUse(call_index), content_block);
        }
        let Some(arguments) = function["arguments"].as_str().filter(|a| !a.is_empty()) else {
            return;
        };
        // Arguments of a call that was never announced have nothing to attach to.
        if let Some((Block::ToolUse(i), index)) = self.open
            && i == call_index
        {
            self.delta(
                out,
                index,
                json!({"type": "input_json_delta", "partial_json": arguments}),
            );
        }
    }

    /// Closes the open block and ends the stream: `message_delta` with the usage
    /// (and its cost, when asked), `message_stop`.
    fn complete(&mut self, usage: Option<&TokenUsage>, cost: Option<Decimal>) -> Bytes {
        let mut out = BytesMut::new();
        if self.completed {
            return out.freeze();
        }
        self.completed = true;
        self.start(&mut out);
        self.close(&mut out);
        let usage = match usage {
            Some(usage) => from_chat::usage(usage),
            None => json!({"output_tokens": 0}),
        };
        let finish = if self.refused {
            Some("content_filter")
        } else {
            self.finish.as_deref()
        };
        let delta = json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(finish), "stop_sequence": null},
            "usage": usage});
        let Value::Object(delta) = delta else {
            return out.freeze();
        };
        out.extend_from_slice(&native::message_delta(
            delta,
            cost.unwrap_or_default(),
            cost.is_some(),
        ));
        Self::emit(&mut out, "message_stop", json!({"type": "message_stop"}));
        out.freeze()
    }
}

impl StreamFormat for Reencoder {
    fn operation(&self) -> Operation {
        Operation::Messages
    }

    /// The adapter's reading, as chat chunks to re-encode.
    fn read(
        &mut self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        crate::stream::read_chat_chunks(target, state, event)
    }

    fn chunk(&mut self, chunk: Map<String, Value>) -> Bytes {
        let mut out = BytesMut::new();
        if self.completed {
            return out.freeze();
        }
        self.start(&mut out);
        for part in chunk_parts(&chunk) {
            match part {
                ChunkPart::Reasoning(text) => self.text(&mut out, Block::Thinking, text),
                ChunkPart::Text(text) => self.text(&mut out, Block::Text, text),
                ChunkPart::Refusal(text) => {
                    self.refused = true;
                    self.text(&mut out, Block::Text, text);
                }
                ChunkPart::ToolCall(call) => self.tool_call(&mut out, call),
                ChunkPart::Finish(finish) => self.finish = Some(finish.to_string()),
            }
        }
        out.freeze()
    }

    fn usage(&mut self, _: Map<String, Value>, usage: &TokenUsage, cost: Decimal) -> Bytes {
        self.complete(Some(usage), self.wants_usage.then_some(cost))
    }

    /// A stream that ended without usage (metered by counting) still completes.
    fn done(&mut self) -> Bytes {
        self.complete(None, None)
    }

    fn error(&mut self, error: &ApiError) -> Bytes {
        error_event(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(delta: Value, finish: Option<&str>) -> Map<String, Value> {
        let Value::Object(chunk) = json!({"id": "c", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        else {
            unreachable!()
        };
        chunk
    }

    fn names(bytes: &[Bytes]) -> Vec<(String, Value)> {
        bytes
            .iter()
            .flat_map(|b| {
                String::from_utf8(b.to_vec())
                    .unwrap()
                    .split("\n\n")
                    .filter(|e| !e.is_empty())
                    .map(|e| {
                        let (name, data) = e.split_once('\n').unwrap();
                        let data: Value =
                            serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
                        assert_eq!(data["type"], name.strip_prefix("event: ").unwrap());
                        (name.strip_prefix("event: ").unwrap().to_string(), data)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn chat_chunks_become_anthropic_events_in_order() {
        let mut r = Reencoder::new("openai/gpt-4o-mini", true);
        let mut out = vec![
            r.chunk(chunk(json!({"role": "assistant", "content": ""}), None)),
            r.chunk(chunk(json!({"reasoning_content": "hm"}), None)),
            r.chunk(chunk(json!({"content": "Hel"}), None)),
            r.chunk(chunk(json!({"content": "lo"}), None)),
            r.chunk(chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "f", "arguments": ""}}]}),
                None,
            )),
            r.chunk(chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                None,
            )),
            r.chunk(chunk(json!({}), Some("tool_calls"))),
        ];
        let usage = TokenUsage {
            prompt: 10,
            completion: 5,
            cached: Some(4),
            ..Default::default()
        };
        out.push(r.usage(Map::new(), &usage, Decimal::new(3, 5)));
        out.push(r.done());
        let events = names(&out);
        let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(events[1].1["content_block"]["type"], "thinking");
        assert_eq!(events[6].1["index"], 1);
        assert_eq!(events[10].1["content_block"]["id"], "call_1");
        assert_eq!(events[11].1["delta"]["partial_json"], "{}");
        let delta = &events[13].1;
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
        assert_eq!(
            delta["usage"],
            json!({"input_tokens": 6, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 4, "output_tokens": 5, "cost": 0.00003})
        );
    }
}
