//! `stream: true` in the OpenAI format: (Azure's prompt-filter chunk,) the role chunk,
//! one chunk per token (reasoning first, where shown), the finish chunk, the usage
//! chunk when asked for, `[DONE]`.

use axum::response::Response;
use bytes::Bytes;

use super::wire::{self, Event, Head, StreamOptions};
use crate::reply::Generation;
use crate::stream::{self, Delivery, Frame, Frames, Part};

const DONE: &[u8] = b"data: [DONE]\n\n";

/// The streamed answer, cut after `cut_after` events when a fault says so.
pub(crate) fn respond(
    head: Head,
    generation: Generation,
    options: StreamOptions,
    delivery: Delivery,
) -> Response {
    let answer = Answer {
        head,
        generation,
        options,
    };
    stream::respond(frames(answer), stream::SSE, delivery)
}

/// What the chunks are made from.
struct Answer {
    head: Head,
    generation: Generation,
    options: StreamOptions,
}

impl Answer {
    fn chunk(&self, event: Event<'_>) -> Bytes {
        wire::chunk(&self.head, &self.generation, self.options, event)
    }
}

fn frames(answer: Answer) -> Frames<Answer> {
    let flavor = answer.head.flavor;
    let mut script: Vec<Part<Answer>> = Vec::new();
    if flavor.filters() {
        script.push(Part::One(|a, _| Frame::new(a.chunk(Event::PromptFilter))));
    }
    script.push(Part::One(|a, _| Frame::new(a.chunk(Event::Start))));
    if flavor.shows_reasoning() {
        script.push(Part::Pieces(
            |a| a.generation.reasoning,
            |a, piece, _| Frame::token(a.chunk(Event::Reasoning(piece))),
        ));
    }
    script.push(Part::Pieces(
        |a| a.generation.visible(),
        |a, piece, _| Frame::token(a.chunk(Event::Token(piece))),
    ));
    script.push(Part::One(|a, _| Frame::new(a.chunk(Event::Finish))));
    if answer.options.include_usage {
        script.push(Part::One(|a, _| Frame::closing(a.chunk(Event::Usage))));
    }
    script.push(Part::One(|_, _| Frame::closing(Bytes::from_static(DONE))));
    Frames::new(answer, script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::wire::Flavor;
    use crate::reply::tests::samples;
    use crate::{stream, tokens};

    /// The frames as they were made before streams were lazy: all at once.
    fn eager(answer: &Answer) -> Vec<Frame> {
        let (head, generation) = (&answer.head, &answer.generation);
        let chunk = |event| answer.chunk(event);
        let mut frames = Vec::new();
        if head.flavor.filters() {
            frames.push(Frame::new(chunk(Event::PromptFilter)));
        }
        frames.push(Frame::new(chunk(Event::Start)));
        if head.flavor.shows_reasoning() {
            let reasoning = tokens::pieces(generation.reasoning);
            frames.extend(reasoning.map(|piece| Frame::token(chunk(Event::Reasoning(piece)))));
        }
        let visible = tokens::pieces(generation.visible());
        frames.extend(visible.map(|piece| Frame::token(chunk(Event::Token(piece)))));
        frames.push(Frame::new(chunk(Event::Finish)));
        if answer.options.include_usage {
            frames.push(Frame::closing(chunk(Event::Usage)));
        }
        frames.push(Frame::closing(Bytes::from_static(DONE)));
        frames
    }

    fn answer(flavor: Flavor, generation: Generation, include_usage: bool) -> Answer {
        Answer {
            head: Head::new("o3-mini", flavor),
            generation,
            // Random padding would make two makings of one chunk differ.
            options: StreamOptions {
                include_usage,
                obfuscate: false,
            },
        }
    }

    #[test]
    fn every_flavor_streams_the_frames_it_streamed_when_they_were_made_at_once() {
        for flavor in [
            Flavor::OpenAi,
            Flavor::DeepSeek,
            Flavor::Qwen,
            Flavor::Azure,
        ] {
            for include_usage in [false, true] {
                for generation in samples() {
                    let answer = answer(flavor, generation, include_usage);
                    let expected = eager(&answer);
                    assert_eq!(frames(answer).collect::<Vec<_>>(), expected, "{flavor:?}");
                }
            }
        }
    }

    #[test]
    fn a_million_word_answer_is_streamed_without_making_its_frames_first() {
        stream::tests::first_frames_come_at_once(|generation| {
            frames(answer(Flavor::DeepSeek, generation, true))
        });
    }
}
