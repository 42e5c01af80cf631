//! The `GenerateContentResponse` on the wire: whole, or streamed as one response per
//! token (as server-sent events with `alt=sse`, else as the items of one JSON array),
//! the last carrying the finish reason and the complete usage. Vertex adds
//! `createTime` and a `trafficType` to the usage.

use serde_json::{Value, json};

use crate::reply::{Finish, Generation, random_id};
use crate::stream::{Frame, Frames, Part, sse};

/// What every response of one answer shares.
pub(crate) struct Head {
    pub(crate) model: String,
    /// Vertex AI's variant of the response.
    pub(crate) vertex: bool,
    /// `candidateCount`.
    pub(crate) candidates: u32,
    /// Whether the thoughts are sent as `thought: true` parts.
    pub(crate) show_thoughts: bool,
    id: String,
    created: String,
}

impl Head {
    pub(crate) fn new(model: &str, vertex: bool, candidates: u32, show_thoughts: bool) -> Self {
        Self {
            model: model.to_owned(),
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
        Finish::Refused => "SAFETY",
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
pub(crate) fn whole(head: &Head, generation: &Generation) -> Vec<u8> {
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
pub(crate) fn stream(head: Head, generation: Generation, framing: Framing) -> Frames<Answer> {
    // One response per token piece (a call is one): the counts count those pieces, so
    // the last response is known without walking them first.
    let counts = generation.counts;
    let mut script: Vec<Part<Answer>> = Vec::new();
    let mut responses = 0;
    if head.show_thoughts {
        script.push(Part::Pieces(
            |a| a.generation.reasoning,
            |a, piece, i| a.response(i, &[thought(piece)], true),
        ));
        responses += counts.reasoning;
    }
    if generation.tool_call.is_some() {
        script.push(Part::One(|a, i| {
            a.response(i, call(&a.generation).as_slice(), false)
        }));
        responses += 1;
    } else {
        script.push(Part::Pieces(
            |a| a.generation.visible(),
            |a, piece, i| a.response(i, &[json!({"text": piece})], true),
        ));
        responses += counts.completion - counts.reasoning;
    }
    if responses == 0 {
        script.push(Part::One(|a, i| a.response(i, &[], false)));
    }
    if framing == Framing::JsonArray {
        script.push(Part::One(|_, _| Frame::closing("]")));
    }
    let answer = Answer {
        head,
        generation,
        framing,
        responses: responses.max(1),
    };
    Frames::new(answer, script)
}

/// What the responses are made from.
pub(crate) struct Answer {
    head: Head,
    generation: Generation,
    framing: Framing,
    /// How many responses the stream has: the last closes it.
    responses: u32,
}

impl Answer {
    /// The response `index` (from 0), framed.
    fn response(&self, index: usize, parts: &[Value], paced: bool) -> Frame {
        self.framed(index, index + 1 == self.responses as usize, parts, paced)
    }

    fn framed(&self, index: usize, last: bool, parts: &[Value], paced: bool) -> Frame {
        let response = self.head.response(&self.generation, parts, last);
        let bytes = match self.framing {
            Framing::Sse => sse(None, &response, "\r\n"),
            Framing::JsonArray => {
                let separator = if index == 0 { "[" } else { ",\r\n" };
                format!("{separator}{response}").into()
            }
        };
        Frame {
            bytes,
            paced,
            closing: last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::tests::samples;
    use crate::{stream, tokens};

    /// The frames as they were made before streams were lazy: all at once.
    fn eager(answer: &Answer) -> Vec<Frame> {
        let (head, generation) = (&answer.head, &answer.generation);
        let mut pieces: Vec<(Value, bool)> = Vec::new();
        if head.show_thoughts {
            pieces.extend(tokens::pieces(generation.reasoning).map(|p| (thought(p), true)));
        }
        match call(generation) {
            Some(call) => pieces.push((call, false)),
            None => pieces
                .extend(tokens::pieces(generation.visible()).map(|p| (json!({"text": p}), true))),
        }
        let count = pieces.len().max(1);
        let mut frames: Vec<Frame> = pieces
            .into_iter()
            .enumerate()
            .map(|(i, (part, paced))| answer.framed(i, i + 1 == count, &[part], paced))
            .collect();
        if frames.is_empty() {
            frames.push(answer.framed(0, true, &[], false));
        }
        if answer.framing == Framing::JsonArray {
            frames.push(Frame::closing("]"));
        }
        frames
    }

    #[test]
    fn gemini_and_vertex_stream_the_responses_they_streamed_when_made_at_once() {
        for (vertex, show_thoughts) in [(false, false), (false, true), (true, true)] {
            for framing in [Framing::Sse, Framing::JsonArray] {
                for generation in samples() {
                    let answer = Answer {
                        head: Head::new("gemini-2.5-pro", vertex, 2, show_thoughts),
                        generation,
                        framing,
                        // Unused: the old way counts the responses itself.
                        responses: 0,
                    };
                    let expected = eager(&answer);
                    let Answer {
                        head, generation, ..
                    } = answer;
                    let frames: Vec<Frame> = stream(head, generation, framing).collect();
                    assert_eq!(frames, expected, "{framing:?}");
                }
            }
        }
    }

    #[test]
    fn a_million_word_answer_is_streamed_without_making_its_responses_first() {
        let head = Head::new("gemini-2.5-pro", false, 1, true);
        stream::tests::first_frames_come_at_once(|generation| {
            stream(head, generation, Framing::JsonArray)
        });
    }
}
