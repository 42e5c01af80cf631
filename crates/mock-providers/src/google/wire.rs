//! The `GenerateContentResponse` on the wire: whole, or streamed as one response per
//! token (as server-sent events with `alt=sse`, else as the items of one JSON array),
//! the last carrying the finish reason and the complete usage. Vertex adds
//! `createTime` and a `trafficType` to the usage.

use serde_json::{Value, json};

use crate::reply::{Finish, Generation, random_id};
use crate::stream::{Frame, sse};
use crate::tokens;

/// What every response of one answer shares.
pub(crate) struct Head<'a> {
    pub(crate) model: &'a str,
    /// Vertex AI's variant of the response.
    pub(crate) vertex: bool,
    /// `candidateCount`.
    pub(crate) candidates: u32,
    /// Whether the thoughts are sent as `thought: true` parts.
    pub(crate) show_thoughts: bool,
    id: String,
    created: String,
}

impl<'a> Head<'a> {
    pub(crate) fn new(model: &'a str, vertex: bool, candidates: u32, show_thoughts: bool) -> Self {
        Self {
            model,
            vertex,
            candidates,
            show_thoughts,
            id: random_id("", 22),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }

    /// One response: `parts` in every candidate, with the finish reason and complete
    /// usage when `last`.
    fn response(&self, generation: &Generation, parts: &[Value], last: bool) -> Value {
        let content = match parts {
            // A candidate cut before any output has no parts at all.
            [] => json!({"role": "model"}),
            parts => json!({"role": "model", "parts": parts}),
        };
        let candidates: Vec<Value> = (0..self.candidates)
            .map(|index| {
                let mut candidate = json!({"content": content, "index": index});
                if last {
                    candidate["finishReason"] = json!(finish_reason(generation));
                }
                candidate
            })
            .collect();
        let mut response = json!({
            "candidates": candidates,
            "usageMetadata": self.usage(generation, last),
            "modelVersion": self.model,
            "responseId": self.id,
        });
        if self.vertex {
            response["createTime"] = json!(self.created);
        }
        response
    }

    /// `usageMetadata`: zero counts are left out, as proto3 JSON leaves them out.
    /// Before the last response, Gemini reports only the prompt, Vertex only its
    /// traffic type.
    fn usage(&self, generation: &Generation, last: bool) -> Value {
        let counts = generation.counts;
        let prompt = json!([{"modality": "TEXT", "tokenCount": counts.prompt}]);
        let mut usage = match (last, self.vertex) {
            (false, true) => json!({}),
            (false, false) => json!({
                "promptTokenCount": counts.prompt,
                "totalTokenCount": counts.prompt,
                "promptTokensDetails": prompt,
            }),
            (true, _) => {
                let answer = (counts.completion - counts.reasoning) * self.candidates;
                let thoughts = counts.reasoning * self.candidates;
                let mut usage = json!({
                    "promptTokenCount": counts.prompt,
                    "totalTokenCount": counts.prompt + answer + thoughts,
                    "promptTokensDetails": prompt,
                });
                for (name, count) in [
                    ("candidatesTokenCount", answer),
                    ("cachedContentTokenCount", counts.cached),
                    ("thoughtsTokenCount", thoughts),
                ] {
                    if count > 0 {
                        usage[name] = json!(count);
                    }
                }
                usage
            }
        };
        if self.vertex {
            usage["trafficType"] = json!("ON_DEMAND");
        }
        usage
    }
}

fn finish_reason(generation: &Generation) -> &'static str {
    match generation.finish {
        Finish::Length => "MAX_TOKENS",
        Finish::Stop | Finish::StopSequence(_) | Finish::ToolCall => "STOP",
    }
}

fn thought(text: &str) -> Value {
    json!({"text": text, "thought": true})
}

/// The answer's parts when it is a function call: the call, whole.
fn call(generation: &Generation) -> Option<Value> {
    let name = generation.tool_call.as_ref()?;
    Some(json!({"functionCall": {"name": name, "args": generation.arguments()}}))
}

/// The whole response.
pub(crate) fn whole(head: &Head<'_>, generation: &Generation) -> Vec<u8> {
    let mut parts = Vec::new();
    if head.show_thoughts && !generation.reasoning.is_empty() {
        parts.push(thought(generation.reasoning));
    }
    match call(generation) {
        Some(call) => parts.push(call),
        None if !generation.visible().is_empty() => {
            parts.push(json!({"text": generation.visible()}));
        }
        None => {}
    }
    head.response(generation, &parts, true)
        .to_string()
        .into_bytes()
}

/// How a stream is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `alt=sse`: `data: <response>` events, lines ended by CRLF.
    Sse,
    /// Without `alt=sse`: one JSON array, its items written as they come.
    JsonArray,
}

/// The streamed responses: the thoughts (when shown) and the text token by token, or
/// a function call whole; the last response closes the stream.
pub(crate) fn stream(head: &Head<'_>, generation: &Generation, framing: Framing) -> Vec<Frame> {
    let mut pieces: Vec<(Value, bool)> = Vec::new();
    if head.show_thoughts {
        pieces.extend(tokens::pieces(generation.reasoning).map(|p| (thought(p), true)));
    }
    match call(generation) {
        Some(call) => pieces.push((call, false)),
        None => {
            pieces.extend(tokens::pieces(generation.visible()).map(|p| (json!({"text": p}), true)))
        }
    }
    let count = pieces.len().max(1);
    let mut responses: Vec<(Value, bool)> = pieces
        .into_iter()
        .enumerate()
        .map(|(i, (part, paced))| (head.response(generation, &[part], i + 1 == count), paced))
        .collect();
    if responses.is_empty() {
        responses.push((head.response(generation, &[], true), false));
    }
    let mut frames: Vec<Frame> = responses
        .iter()
        .enumerate()
        .map(|(i, (response, paced))| {
            let bytes = match framing {
                Framing::Sse => sse(None, response, "\r\n"),
                Framing::JsonArray => {
                    let separator = if i == 0 { "[" } else { ",\r\n" };
                    format!("{separator}{response}").into()
                }
            };
            Frame {
                bytes,
                paced: *paced,
                closing: i + 1 == count,
            }
        })
        .collect();
    if framing == Framing::JsonArray {
        frames.push(Frame::closing("]"));
    }
    frames
}
