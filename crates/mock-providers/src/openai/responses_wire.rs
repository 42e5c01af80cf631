//! The Responses API's answer on the wire: the `response` object (output items:
//! `reasoning`, `message` with `output_text`, `function_call`; usage in `input_tokens`,
//! `output_tokens` and their details), and its stream of typed events, each with its
//! `sequence_number`, in OpenAI's order:
//!
//! `response.created`, `response.in_progress`; for a reasoning model a `reasoning`
//! item (`response.output_item.added`, with a summary when asked:
//! `response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`…,
//! `….done`, `response.reasoning_summary_part.done`; `response.output_item.done`);
//! then the message (`response.output_item.added`, `response.content_part.added`,
//! `response.output_text.delta`…, `response.output_text.done`,
//! `response.content_part.done`, `response.output_item.done`) or the function call
//! (`response.output_item.added`, `response.function_call_arguments.delta`…,
//! `response.function_call_arguments.done`, `response.output_item.done`); last
//! `response.completed` (`response.incomplete` when the budget ran out) with usage.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::request::Object;
use crate::reply::{Finish, Generation, random_id};
use crate::stream::{self, Delivery, Frame, Frames, Part, sse};

/// The request parameters a response object repeats, as sent or at their defaults.
pub(crate) struct Echo(Map<String, Value>);

impl Echo {
    pub(crate) fn of(request: &Object) -> Echo {
        let given = |key: &str, default: Value| {
            request
                .get(key)
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or(default)
        };
        let reasoning = request.get("reasoning").cloned().unwrap_or_default();
        let format = request
            .get("text")
            .and_then(|t| t.get("format"))
            .cloned()
            .unwrap_or_else(|| json!({"type": "text"}));
        let mut echo = Map::new();
        echo.insert("instructions".into(), given("instructions", Value::Null));
        echo.insert(
            "max_output_tokens".into(),
            given("max_output_tokens", Value::Null),
        );
        echo.insert("metadata".into(), given("metadata", json!({})));
        echo.insert(
            "parallel_tool_calls".into(),
            given("parallel_tool_calls", json!(true)),
        );
        echo.insert("previous_response_id".into(), Value::Null);
        echo.insert(
            "prompt_cache_key".into(),
            given("prompt_cache_key", Value::Null),
        );
        echo.insert(
            "reasoning".into(),
            json!({"effort": reasoning.get("effort").cloned().unwrap_or_default(),
                   "summary": reasoning.get("summary").cloned().unwrap_or_default()}),
        );
        echo.insert("service_tier".into(), json!("default"));
        echo.insert("store".into(), given("store", json!(true)));
        echo.insert("temperature".into(), given("temperature", json!(1.0)));
        echo.insert(
            "text".into(),
            json!({"format": format, "verbosity": "medium"}),
        );
        echo.insert("tool_choice".into(), given("tool_choice", json!("auto")));
        echo.insert("tools".into(), given("tools", json!([])));
        echo.insert("top_p".into(), given("top_p", json!(1.0)));
        echo.insert("truncation".into(), given("truncation", json!("disabled")));
        echo.insert("user".into(), given("user", Value::Null));
        Echo(echo)
    }
}

/// One answer, with the ids its objects share.
pub(crate) struct Answer {
    id: String,
    created_at: u64,
    model: String,
    generation: Generation,
    /// Whether the reasoning is summarized in the output (`reasoning.summary` asked).
    shows_summary: bool,
    echo: Echo,
    reasoning_id: String,
    item_id: String,
    call_id: String,
}

impl Answer {
    pub(crate) fn new(
        model: &str,
        generation: Generation,
        shows_summary: bool,
        echo: Echo,
    ) -> Self {
        let created_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let item_prefix = if generation.tool_call.is_some() {
            "fc_"
        } else {
            "msg_"
        };
        Self {
            id: random_id("resp_", 48),
            created_at,
            model: model.to_owned(),
            shows_summary,
            echo,
            reasoning_id: random_id("rs_", 48),
            item_id: random_id(item_prefix, 48),
            call_id: random_id("call_", 24),
            generation,
        }
    }

    /// Whether the output starts with a reasoning item (the model reasoned).
    fn reasons(&self) -> bool {
        !self.generation.reasoning.is_empty()
    }

    /// The place of the message or function call in `output`.
    fn item_index(&self) -> usize {
        usize::from(self.reasons())
    }

    fn incomplete(&self) -> bool {
        matches!(self.generation.finish, Finish::Length | Finish::Refused)
    }

    fn reasoning_item(&self, done: bool) -> Value {
        let summary = if done && self.shows_summary {
            json!([{"type": "summary_text", "text": self.generation.reasoning}])
        } else {
            json!([])
        };
        json!({"id": self.reasoning_id, "type": "reasoning", "summary": summary})
    }

    fn text_part(&self, text: &str) -> Value {
        json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
    }

    /// The message or function call; in progress (empty) or done.
    fn item(&self, done: bool) -> Value {
        let status = match (done, self.incomplete()) {
            (false, _) => "in_progress",
            (true, true) => "incomplete",
            (true, false) => "completed",
        };
        let visible = self.generation.visible();
        match &self.generation.tool_call {
            Some(name) => json!({"id": self.item_id, "type": "function_call", "status": status,
                "arguments": if done { visible } else { "" }, "call_id": self.call_id, "name": name}),
            None => {
                let content = if done {
                    json!([self.text_part(visible)])
                } else {
                    json!([])
                };
                json!({"id": self.item_id, "type": "message", "status": status,
                    "content": content, "role": "assistant"})
            }
        }
    }

    fn usage(&self) -> Value {
        let c = &self.generation.counts;
        json!({
            "input_tokens": c.prompt,
            "input_tokens_details": {"cached_tokens": c.cached},
            "output_tokens": c.completion,
            "output_tokens_details": {"reasoning_tokens": c.reasoning},
            "total_tokens": c.prompt + c.completion,
        })
    }

    /// The `response` object: in progress (no output, no usage) or finished.
    fn response(&self, done: bool) -> Value {
        let (status, details) = match (done, self.incomplete()) {
            (false, _) => ("in_progress", Value::Null),
            (true, true) if self.generation.finish == Finish::Refused => {
                ("incomplete", json!({"reason": "content_filter"}))
            }
            (true, true) => ("incomplete", json!({"reason": "max_output_tokens"})),
            (true, false) => ("completed", Value::Null),
        };
        let mut output = Vec::new();
        if done {
            if self.reasons() {
                output.push(self.reasoning_item(true));
            }
            output.push(self.item(true));
        }
        let mut object = Map::new();
        object.insert("id".into(), json!(self.id));
        object.insert("object".into(), json!("response"));
        object.insert("created_at".into(), json!(self.created_at));
        object.insert("status".into(), json!(status));
        object.insert("background".into(), json!(false));
        object.insert("error".into(), Value::Null);
        object.insert("incomplete_details".into(), details);
        object.insert("model".into(), json!(self.model));
        object.insert("output".into(), Value::Array(output));
        for (key, value) in &self.echo.0 {
            object.insert(key.clone(), value.clone());
        }
        object.insert(
            "usage".into(),
            if done { self.usage() } else { Value::Null },
        );
        Value::Object(object)
    }

    /// The whole answer, for `stream` absent or false.
    pub(crate) fn whole(&self) -> Vec<u8> {
        serde_json::to_vec(&self.response(true)).expect("a response always serializes")
    }

    /// One event: `event: <type>` and its data, `type` and `sequence_number` first.
    fn event(&self, kind: &str, index: usize, fields: Value) -> Frame {
        let mut data = Map::new();
        data.insert("type".into(), json!(kind));
        data.insert("sequence_number".into(), json!(index));
        if let Value::Object(fields) = fields {
            data.extend(fields);
        }
        Frame::new(sse(Some(kind), &data, "\n"))
    }

    fn item_event(&self, kind: &str, index: usize, mut fields: Value) -> Frame {
        fields["item_id"] = json!(self.item_id);
        fields["output_index"] = json!(self.item_index());
        self.event(kind, index, fields)
    }

    fn summary_event(&self, kind: &str, index: usize, mut fields: Value) -> Frame {
        fields["item_id"] = json!(self.reasoning_id);
        fields["output_index"] = json!(0);
        fields["summary_index"] = json!(0);
        self.event(kind, index, fields)
    }
}

/// The streamed answer.
pub(crate) fn stream(answer: Answer, delivery: Delivery) -> Response {
    stream::respond(frames(answer), stream::SSE, delivery)
}

fn frames(answer: Answer) -> Frames<Answer> {
    let mut script: Vec<Part<Answer>> = vec![
        Part::One(|a, i| {
            a.event(
                "response.created",
                i,
                json!({"response": a.response(false)}),
            )
        }),
        Part::One(|a, i| {
            a.event(
                "response.in_progress",
                i,
                json!({"response": a.response(false)}),
            )
        }),
    ];
    if answer.reasons() {
        script.push(Part::One(|a, i| {
            a.event(
                "response.output_item.added",
                i,
                json!({"output_index": 0, "item": a.reasoning_item(false)}),
            )
        }));
        if answer.shows_summary {
            script.extend::<[Part<Answer>; _]>([
                Part::One(|a, i| {
                    a.summary_event(
                        "response.reasoning_summary_part.added",
                        i,
                        json!({"part": {"type": "summary_text", "text": ""}}),
                    )
                }),
                Part::Pieces(
                    |a| a.generation.reasoning,
                    |a, piece, i| {
                        let mut frame = a.summary_event(
                            "response.reasoning_summary_text.delta",
                            i,
                            json!({"delta": piece}),
                        );
                        frame.paced = true;
                        frame
                    },
                ),
                Part::One(|a, i| {
                    a.summary_event(
                        "response.reasoning_summary_text.done",
                        i,
                        json!({"text": a.generation.reasoning}),
                    )
                }),
                Part::One(|a, i| {
                    a.summary_event(
                        "response.reasoning_summary_part.done",
                        i,
                        json!({"part": {"type": "summary_text", "text": a.generation.reasoning}}),
                    )
                }),
            ]);
        }
        script.push(Part::One(|a, i| {
            a.event(
                "response.output_item.done",
                i,
                json!({"output_index": 0, "item": a.reasoning_item(true)}),
            )
        }));
    }
    script.push(Part::One(|a, i| {
        a.event(
            "response.output_item.added",
            i,
            json!({"output_index": a.item_index(), "item": a.item(false)}),
        )
    }));
    if answer.generation.tool_call.is_some() {
        script.extend::<[Part<Answer>; _]>([
            Part::Pieces(
                |a| a.generation.visible(),
                |a, piece, i| {
                    let mut frame = a.item_event(
                        "response.function_call_arguments.delta",
                        i,
                        json!({"delta": piece, "obfuscation": random_id("", 8)}),
                    );
                    frame.paced = true;
                    frame
                },
            ),
            Part::One(|a, i| {
                a.item_event(
                    "response.function_call_arguments.done",
                    i,
                    json!({"arguments": a.generation.visible()}),
                )
            }),
        ]);
    } else {
        script.extend::<[Part<Answer>; _]>([
            Part::One(|a, i| {
                a.item_event(
                    "response.content_part.added",
                    i,
                    json!({"content_index": 0, "part": a.text_part("")}),
                )
            }),
            Part::Pieces(
                |a| a.generation.visible(),
                |a, piece, i| {
                    let mut frame = a.item_event(
                        "response.output_text.delta",
                        i,
                        json!({"content_index": 0, "delta": piece, "logprobs": [],
                               "obfuscation": random_id("", 8)}),
                    );
                    frame.paced = true;
                    frame
                },
            ),
            Part::One(|a, i| {
                a.item_event(
                    "response.output_text.done",
                    i,
                    json!({"content_index": 0, "text": a.generation.visible(), "logprobs": []}),
                )
            }),
            Part::One(|a, i| {
                a.item_event(
                    "response.content_part.done",
                    i,
                    json!({"content_index": 0, "part": a.text_part(a.generation.visible())}),
                )
            }),
        ]);
    }
    script.push(Part::One(|a, i| {
        a.event(
            "response.output_item.done",
            i,
            json!({"output_index": a.item_index(), "item": a.item(true)}),
        )
    }));
    script.push(Part::One(|a, i| {
        let kind = if a.incomplete() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        let mut frame = a.event(kind, i, json!({"response": a.response(true)}));
        frame.closing = true;
        frame
    }));
    Frames::new(answer, script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::tests::samples;

    fn events(answer: Answer) -> Vec<Value> {
        frames(answer)
            .map(|f| {
                let text = String::from_utf8(f.bytes.to_vec()).unwrap();
                let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                serde_json::from_str(data).unwrap()
            })
            .collect()
    }

    #[test]
    fn every_answer_streams_in_openais_order_and_ends_with_the_whole_response() {
        for generation in samples() {
            let answer = Answer::new("o3-mini", generation, true, Echo::of(&Map::new()));
            let whole: Value = serde_json::from_slice(&answer.whole()).unwrap();
            let events = events(answer);
            let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(kinds[..2], ["response.created", "response.in_progress"]);
            for (i, e) in events.iter().enumerate() {
                assert_eq!(e["sequence_number"], i);
            }
            let last = events.last().unwrap();
            assert!(matches!(
                kinds.last().copied(),
                Some("response.completed" | "response.incomplete")
            ));
            assert_eq!(last["response"]["output"], whole["output"]);
            assert_eq!(last["response"]["usage"], whole["usage"]);
            let added = kinds
                .iter()
                .filter(|k| **k == "response.output_item.added")
                .count();
            let done = kinds
                .iter()
                .filter(|k| **k == "response.output_item.done")
                .count();
            assert_eq!(
                (added, done),
                (whole["output"].as_array().unwrap().len(), added)
            );
            let streamed: String = events
                .iter()
                .filter(|e| {
                    matches!(
                        e["type"].as_str(),
                        Some(
                            "response.output_text.delta" | "response.function_call_arguments.delta"
                        )
                    )
                })
                .map(|e| e["delta"].as_str().unwrap())
                .collect();
            let item = whole["output"].as_array().unwrap().last().unwrap();
            let full = item["arguments"]
                .as_str()
                .or(item["content"][0]["text"].as_str())
                .unwrap();
            assert_eq!(streamed.trim(), full.trim());
        }
    }
}
