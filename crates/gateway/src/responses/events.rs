//! A translated provider's stream, which its adapter gives as Chat Completions chunks,
//! re-emitted as Responses events in OpenAI's order: `response.created` and
//! `response.in_progress` first; each output item opened when its first delta comes
//! (`response.output_item.added`, and `response.content_part.added` for a message or
//! `response.reasoning_summary_part.added` for reasoning), its deltas, and closed with
//! its `….done` events before the next item opens; `response.completed` (or
//! `response.incomplete`) with the usage last, once the usage is metered.

use bytes::{Bytes, BytesMut};
use meridian_core::TokenUsage;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::object::{self, Echo, Head, Status, fields};
use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use crate::providers::{Malformed, Operation, StreamOut, StreamState, UpstreamEvent};
use crate::stream::{ChunkPart, StreamFormat, chunk_parts};
use crate::targets::Target;

/// One output item as it streams.
struct Item {
    id: String,
    kind: Kind,
    /// What was streamed so far: text, reasoning, or arguments.
    text: String,
}

enum Kind {
    Reasoning,
    Message,
    /// A function call, with the chat tool-call index that feeds it.
    Call {
        index: u64,
        call_id: String,
        name: String,
    },
}

pub struct Reencoder {
    echo: Echo,
    id: String,
    created_at: i64,
    model: String,
    sequence: u64,
    started: bool,
    items: Vec<Item>,
    /// Whether the last item still takes deltas.
    open: bool,
    finish: Option<String>,
    completed: bool,
    /// Whether the client asked for usage (then `usage.cost` is added).
    wants_usage: bool,
}

impl Reencoder {
    pub fn new(echo: Echo, wants_usage: bool) -> Self {
        Self {
            echo,
            id: object::new_id("resp_"),
            created_at: chrono::Utc::now().timestamp(),
            model: String::new(),
            sequence: 0,
            started: false,
            items: Vec::new(),
            open: false,
            finish: None,
            completed: false,
            wants_usage,
        }
    }

    fn emit(&mut self, out: &mut BytesMut, kind: &str, data: Value) {
        out.extend_from_slice(&object::event(kind, self.sequence, fields(data)));
        self.sequence += 1;
    }

    fn response(&self, status: Status, usage: Option<&TokenUsage>) -> Map<String, Value> {
        let head = Head {
            id: &self.id,
            created_at: self.created_at,
            model: &self.model,
            echo: &self.echo,
        };
        let output = if status == Status::InProgress {
            Vec::new()
        } else {
            self.items
                .iter()
                .map(|i| self.item_json(i, status))
                .collect()
        };
        object::response(&head, status, output, usage)
    }

    fn item_json(&self, item: &Item, status: Status) -> Value {
        let state = match status {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete(_) => "incomplete",
        };
        match &item.kind {
            Kind::Reasoning => object::reasoning_item(
                &item.id,
                (status != Status::InProgress).then_some(item.text.as_str()),
            ),
            Kind::Message => object::message_item(
                &item.id,
                state,
                (status != Status::InProgress).then_some(item.text.as_str()),
            ),
            Kind::Call { call_id, name, .. } => {
                let arguments = if status == Status::InProgress {
                    ""
                } else {
                    &item.text
                };
                object::function_call_item(&item.id, state, call_id, name, arguments)
            }
        }
    }

    fn start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        let response = Value::Object(self.response(Status::InProgress, None));
        self.emit(out, "response.created", json!({"response": response}));
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    /// Opens a new item after closing the one before it.
    fn open(&mut self, out: &mut BytesMut, kind: Kind) {
        self.close(out);
        let prefix = match kind {
            Kind::Reasoning => "rs_",
            Kind::Message => "msg_",
            Kind::Call { .. } => "fc_",
        };
        let item = Item {
            id: object::new_id(prefix),
            kind,
            text: String::new(),
        };
        let index = self.items.len();
        let json = self.item_json(&item, Status::InProgress);
        let id = item.id.clone();
        let part = match item.kind {
            Kind::Reasoning => Some((
                "response.reasoning_summary_part.added",
                json!({"item_id": id, "output_index": index, "summary_index": 0,
                       "part": {"type": "summary_text", "text": ""}}),
            )),
            Kind::Message => Some((
                "response.content_part.added",
                json!({"item_id": id, "output_index": index, "content_index": 0,
                       "part": object::text_part("")}),
            )),
            Kind::Call { .. } => None,
        };
        self.items.push(item);
        self.open = true;
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": index, "item": json}),
        );
        if let Some((kind, data)) = part {
            self.emit(out, kind, data);
        }
    }

    /// The `….done` events of the open item.
    fn close(&mut self, out: &mut BytesMut) {
        if !self.open {
            return;
        }
        self.open = false;
        let index = self.items.len() - 1;
        let status = Status::of_finish(self.finish.as_deref());
        let (id, text) = (self.items[index].id.clone(), self.items[index].text.clone());
        let done = self.item_json(&self.items[index], status);
        match &self.items[index].kind {
            Kind::Reasoning => {
                let at = json!({"item_id": id, "output_index": index, "summary_index": 0});
                let mut text_done = at.clone();
                text_done["text"] = json!(text);
                let mut part_done = at;
                part_done["part"] = json!({"type": "summary_text", "text": text});
                self.emit(out, "response.reasoning_summary_text.done", text_done);
                self.emit(out, "response.reasoning_summary_part.done", part_done);
            }
            Kind::Message => {
                let at = json!({"item_id": id, "output_index": index, "content_index": 0});
                let mut text_done = at.clone();
                text_done["text"] = json!(text);
                text_done["logprobs"] = json!([]);
                let mut part_done = at;
                part_done["part"] = object::text_part(&text);
                self.emit(out, "response.output_text.done", text_done);
                self.emit(out, "response.content_part.done", part_done);
            }
            Kind::Call { name, .. } => {
                let data =
                    json!({"item_id": id, "output_index": index, "name": name, "arguments": text});
                self.emit(out, "response.function_call_arguments.done", data);
            }
        }
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        );
    }

    /// Appends `delta` to the open item (opening one of `kind` if needed) and emits it.
    fn delta(&mut self, out: &mut BytesMut, delta: &str, event: &str, kind: fn() -> Kind) {
        let fits = self.open
            && self.items.last().is_some_and(|item| {
                std::mem::discriminant(&item.kind) == std::mem::discriminant(&kind())
            });
        if !fits {
            self.open(out, kind());
        }
        let index = self.items.len() - 1;
        self.items[index].text.push_str(delta);
        let id = self.items[index].id.clone();
        let data = match event {
            "response.reasoning_summary_text.delta" => {
                json!({"item_id": id, "output_index": index, "summary_index": 0, "delta": delta})
            }
            _ => json!({"item_id": id, "output_index": index, "content_index": 0,
                        "delta": delta, "logprobs": []}),
        };
        self.emit(out, event, data);
    }

    fn tool_call(&mut self, out: &mut BytesMut, call: &Value) {
        let index = call["index"].as_u64().unwrap_or(0);
        let function = &call["function"];
        if let Some(call_id) = call["id"].as_str() {
            let name = function["name"].as_str().unwrap_or_default().to_string();
            let call_id = call_id.to_string();
            self.open(
                out,
                Kind::Call {
                    index,
                    call_id,
                    name,
                },
            );
        }
        let Some(arguments) = function["arguments"].as_str().filter(|a| !a.is_empty()) else {
            return;
        };
        let feeds = |item: &Item| matches!(item.kind, Kind::Call { index: i, .. } if i == index);
        if !(self.open && self.items.last().is_some_and(feeds)) {
            // Arguments of a call that was never announced: nothing to attach them to.
            return;
        }
        let at = self.items.len() - 1;
        self.items[at].text.push_str(arguments);
        let id = self.items[at].id.clone();
        self.emit(
            out,
            "response.function_call_arguments.delta",
            json!({"item_id": id, "output_index": at, "delta": arguments}),
        );
    }

    /// Closes the open item and ends the stream with the whole response.
    fn complete(&mut self, usage: Option<&TokenUsage>, cost: Option<Decimal>) -> Bytes {
        let mut out = BytesMut::new();
        if self.completed {
            return out.freeze();
        }
        self.start(&mut out);
        self.close(&mut out);
        self.completed = true;
        let status = Status::of_finish(self.finish.as_deref());
        let response = self.response(status, usage);
        let response = match cost {
            Some(cost) => with_usage_cost(response, cost),
            None => serde_json::to_vec(&response).unwrap_or_default(),
        };
        let response = String::from_utf8(response).unwrap_or_default();
        let kind = status.final_event();
        let json = object::with_response(kind, self.sequence, response);
        self.sequence += 1;
        out.extend_from_slice(&crate::stream::sse_event(kind, &json));
        out.freeze()
    }
}

impl StreamFormat for Reencoder {
    fn operation(&self) -> Operation {
        Operation::Responses
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
        if self.model.is_empty()
            && let Some(model) = chunk.get("model").and_then(Value::as_str)
        {
            self.model = model.to_string();
        }
        self.start(&mut out);
        for part in chunk_parts(&chunk) {
            match part {
                ChunkPart::Reasoning(text) => self.delta(
                    &mut out,
                    text,
                    "response.reasoning_summary_text.delta",
                    || Kind::Reasoning,
                ),
                // The Responses stream of a translated chat provider shows a refusal's
                // words as the message's text.
                ChunkPart::Text(text) | ChunkPart::Refusal(text) => {
                    self.delta(&mut out, text, "response.output_text.delta", || {
                        Kind::Message
                    })
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
        let event = object::error_event(self.sequence, error);
        self.sequence += 1;
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(bytes: &[Bytes]) -> Vec<Value> {
        bytes
            .iter()
            .flat_map(|b| {
                let text = String::from_utf8(b.to_vec()).unwrap();
                text.split("\n\n")
                    .filter(|e| !e.is_empty())
                    .map(|e| {
                        let (name, data) = e.split_once('\n').unwrap();
                        let data: Value =
                            serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
                        assert_eq!(name.strip_prefix("event: ").unwrap(), data["type"]);
                        data
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn chunk(delta: Value, finish: Option<&str>) -> Map<String, Value> {
        fields(
            json!({"id": "c", "object": "chat.completion.chunk", "model": "claude",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    }

    #[test]
    fn chunks_become_items_in_order_and_the_usage_completes_the_response() {
        let mut r = Reencoder::new(Echo::of(&Map::new()), true);
        let usage = TokenUsage {
            prompt: 9,
            completion: 4,
            ..Default::default()
        };
        let out = vec![
            r.chunk(chunk(json!({"role": "assistant", "content": ""}), None)),
            r.chunk(chunk(json!({"content": "Hi"}), None)),
            r.chunk(chunk(json!({"content": " there"}), None)),
            r.chunk(chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "f", "arguments": ""}}]}),
                None,
            )),
            r.chunk(chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]}),
                None,
            )),
            r.chunk(chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
                None,
            )),
            r.chunk(chunk(json!({}), Some("tool_calls"))),
            r.usage(Map::new(), &usage, Decimal::new(15, 6)),
            r.done(),
        ];
        let events = events(&out);
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["sequence_number"], i);
        }
        assert_eq!(events[6]["text"], "Hi there");
        assert_eq!(events[12]["arguments"], "{\"a\":1}");
        assert_eq!(events[13]["output_index"], 1);
        let done = &events[14]["response"];
        assert_eq!(done["status"], "completed");
        assert_eq!(done["model"], "claude");
        assert_eq!(done["output"][0]["content"][0]["text"], "Hi there");
        assert_eq!(done["output"][1]["call_id"], "call_1");
        assert_eq!(done["usage"]["input_tokens"], 9);
        assert_eq!(done["usage"]["cost"].to_string(), "0.000015");
        assert_eq!(events[0]["response"]["id"], done["id"]);
    }

    #[test]
    fn a_cut_answer_is_incomplete_and_an_error_is_an_error_event() {
        let mut r = Reencoder::new(Echo::of(&Map::new()), false);
        let out = vec![
            r.chunk(chunk(json!({"content": "You"}), Some("length"))),
            r.usage(Map::new(), &TokenUsage::default(), Decimal::ZERO),
        ];
        let events = events(&out);
        let last = events.last().unwrap();
        assert_eq!(last["type"], "response.incomplete");
        assert_eq!(
            last["response"]["incomplete_details"]["reason"],
            "max_output_tokens"
        );
        assert!(last["response"]["usage"].get("cost").is_none());
        let error = r.error(&ApiError::upstream_unreachable("anthropic"));
        let error = &events_of(&error)[0];
        assert_eq!(error["type"], "error");
        assert_eq!(error["code"], "upstream_unreachable");
        assert_eq!(error["sequence_number"], events.len());
    }

    fn events_of(bytes: &Bytes) -> Vec<Value> {
        events(std::slice::from_ref(bytes))
    }
}
