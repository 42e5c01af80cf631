//! Server-sent events for `stream: true`: the role chunk, one chunk per token (paced by
//! `token_delay`), the finish chunk, the usage chunk when asked for, `[DONE]`. Each
//! event is handed to the connection as soon as it exists.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;

use crate::reply::Generation;
use crate::tokens::next_piece_end;
use crate::wire::{self, Event, Head, StreamOptions};

const DONE: &[u8] = b"data: [DONE]\n\n";

/// The streamed answer, cut after `cut_after` events when a fault says so.
pub(crate) fn respond(
    head: Head,
    generation: Generation,
    options: StreamOptions,
    token_delay: Duration,
    cut_after: Option<u32>,
) -> Response {
    let sse = Sse {
        head,
        generation,
        options,
        token_delay,
        cut_after,
        sent: 0,
        step: Step::Start,
        cursor: 0,
    };
    let events = futures::stream::unfold(sse, |mut sse| async move {
        if sse.cut_now() {
            sse.step = Step::Over;
            sse.cut_after = None;
            return Some((Err(cut().await), sse));
        }
        let (event, paced) = sse.next_event()?;
        if paced && !sse.token_delay.is_zero() {
            tokio::time::sleep(sse.token_delay).await;
        }
        sse.sent += 1;
        Some((Ok(event), sse))
    });
    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The error that ends a body cut by a fault, hyper then closes the connection. It
/// comes after one pending poll, so that hyper first flushes what was sent before.
pub(crate) async fn cut() -> io::Error {
    tokio::task::yield_now().await;
    io::Error::other("body cut by an injected fault")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Reasoning,
    Tokens,
    Finish,
    Usage,
    Done,
    Over,
}

struct Sse {
    head: Head,
    generation: Generation,
    options: StreamOptions,
    token_delay: Duration,
    cut_after: Option<u32>,
    /// Events sent so far.
    sent: u32,
    step: Step,
    /// Where the next token starts, in the reasoning or the visible text.
    cursor: usize,
}

impl Sse {
    /// Whether a fault ends the stream here: after `cut_after` events, and never later
    /// than before the usage chunk and `[DONE]`.
    fn cut_now(&self) -> bool {
        self.cut_after
            .is_some_and(|n| self.sent >= n || matches!(self.step, Step::Usage | Step::Done))
    }

    /// The next event, and whether it is a generated token (paced).
    fn next_event(&mut self) -> Option<(Bytes, bool)> {
        loop {
            let event = match self.step {
                Step::Start => {
                    self.step = Step::Reasoning;
                    (self.chunk(Event::Start), false)
                }
                Step::Reasoning => {
                    let shown = self.head.flavor.shows_reasoning();
                    let reasoning = self.generation.reasoning;
                    match next_piece_end(reasoning, self.cursor).filter(|_| shown) {
                        Some(end) => {
                            let piece = &reasoning[self.cursor..end];
                            self.cursor = end;
                            (self.chunk(Event::Reasoning(piece)), true)
                        }
                        None => {
                            self.step = Step::Tokens;
                            self.cursor = 0;
                            continue;
                        }
                    }
                }
                Step::Tokens => match next_piece_end(self.generation.visible(), self.cursor) {
                    Some(end) => {
                        let start = std::mem::replace(&mut self.cursor, end);
                        let piece = &self.generation.visible()[start..end];
                        (self.chunk(Event::Token(piece)), true)
                    }
                    None => {
                        self.step = Step::Finish;
                        continue;
                    }
                },
                Step::Finish => {
                    self.step = if self.options.include_usage {
                        Step::Usage
                    } else {
                        Step::Done
                    };
                    (self.chunk(Event::Finish), false)
                }
                Step::Usage => {
                    self.step = Step::Done;
                    (self.chunk(Event::Usage), false)
                }
                Step::Done => {
                    self.step = Step::Over;
                    (Bytes::from_static(DONE), false)
                }
                Step::Over => return None,
            };
            return Some(event);
        }
    }

    fn chunk(&self, event: Event<'_>) -> Bytes {
        wire::chunk(&self.head, &self.generation, self.options, event)
    }
}
