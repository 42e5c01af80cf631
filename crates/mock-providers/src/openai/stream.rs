//! `stream: true` in the OpenAI format: (Azure's prompt-filter chunk,) the role chunk,
//! one chunk per token (reasoning first, where shown), the finish chunk, the usage
//! chunk when asked for, `[DONE]`.

use axum::response::Response;
use bytes::Bytes;

use super::wire::{self, Event, Head, StreamOptions};
use crate::reply::Generation;
use crate::stream::{self, Delivery, Frame};
use crate::tokens;

const DONE: &[u8] = b"data: [DONE]\n\n";

/// The streamed answer, cut after `cut_after` events when a fault says so.
pub(crate) fn respond(
    head: &Head,
    generation: &Generation,
    options: StreamOptions,
    delivery: Delivery,
) -> Response {
    let chunk = |event| wire::chunk(head, generation, options, event);
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
    if options.include_usage {
        frames.push(Frame::closing(chunk(Event::Usage)));
    }
    frames.push(Frame::closing(Bytes::from_static(DONE)));
    stream::respond(frames, stream::SSE, delivery)
}
