//! Streamed answers, whatever their framing (server-sent events, AWS event stream, a
//! JSON array): a provider describes its answer as a script of [`Part`]s, [`Frames`]
//! makes the frames from it one at a time as the connection pulls them (so a stream
//! holds its answer and one frame, however long the answer), and [`respond`] sends
//! them, each generated token after `token_delay`, each frame handed to the connection
//! as soon as it is due, and cut short when a fault says so.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use crate::routes::Shared;
use crate::tokens;

/// The content type of server-sent events.
pub(crate) const SSE: &str = "text/event-stream; charset=utf-8";

/// One unit of a streamed answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) bytes: Bytes,
    /// A generated token, sent after the token delay.
    pub(crate) paced: bool,
    /// Part of the stream's close (the usage, the end marker): a stream cut by a fault
    /// never reaches it, however late the cut.
    pub(crate) closing: bool,
}

impl Frame {
    /// A frame sent at once.
    pub(crate) fn new(bytes: impl Into<Bytes>) -> Self {
        Self {
            bytes: bytes.into(),
            paced: false,
            closing: false,
        }
    }

    /// A frame carrying a generated token.
    pub(crate) fn token(bytes: impl Into<Bytes>) -> Self {
        Self {
            paced: true,
            ..Self::new(bytes)
        }
    }

    /// A frame of the stream's close.
    pub(crate) fn closing(bytes: impl Into<Bytes>) -> Self {
        Self {
            closing: true,
            ..Self::new(bytes)
        }
    }
}

/// One step of a stream's script; `index` is the place of the frame in the stream,
/// from 0.
pub(crate) enum Part<A> {
    /// One frame.
    One(fn(&A, usize) -> Frame),
    /// One frame per token piece of a text (see [`tokens::pieces`]).
    Pieces(fn(&A) -> &str, fn(&A, &str, usize) -> Frame),
}

// Not derived: a derive would ask `A: Copy`, and a part holds no `A`.
impl<A> Clone for Part<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Part<A> {}

/// The frames of a streamed answer, made from the answer they own as they are pulled:
/// the token pieces are walked by position, nothing is collected.
pub(crate) struct Frames<A> {
    answer: A,
    script: Vec<Part<A>>,
    /// The part being made, and how far into its text (a byte offset).
    part: usize,
    at: usize,
    /// How many frames were made.
    made: usize,
}

impl<A> Frames<A> {
    pub(crate) fn new(answer: A, script: Vec<Part<A>>) -> Self {
        Self {
            answer,
            script,
            part: 0,
            at: 0,
            made: 0,
        }
    }
}

impl<A> Iterator for Frames<A> {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        let index = self.made;
        let frame = loop {
            match *self.script.get(self.part)? {
                Part::One(make) => {
                    self.part += 1;
                    break make(&self.answer, index);
                }
                Part::Pieces(text, make) => {
                    let rest = &text(&self.answer)[self.at..];
                    let Some(piece) = tokens::pieces(rest).next() else {
                        (self.part, self.at) = (self.part + 1, 0);
                        continue;
                    };
                    self.at += piece.len();
                    break make(&self.answer, piece, index);
                }
            }
        };
        self.made += 1;
        Some(frame)
    }
}

/// How a stream is sent: the delay before each token, the cut a fault asked for, and
/// the server's count of open streams.
pub(crate) struct Delivery {
    pub(crate) token_delay: Duration,
    pub(crate) cut_after: Option<u32>,
    pub(crate) shared: Arc<Shared>,
}

/// Counts a stream in `streams_open` while its body lives: the connection drops the
/// body when the client goes away, so a client that cancels can be seen to.
struct OpenStream(Arc<Shared>);

impl OpenStream {
    fn new(shared: Arc<Shared>) -> Self {
        shared.streams_open.fetch_add(1, Ordering::Relaxed);
        Self(shared)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.streams_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The streamed answer, its frames pulled one by one as they are due, cut after
/// `cut_after` frames (and before the first closing frame) when a fault says so.
pub(crate) fn respond(
    frames: impl Iterator<Item = Frame> + Send + 'static,
    content_type: &'static str,
    delivery: Delivery,
) -> Response {
    let Delivery {
        token_delay,
        cut_after,
        shared,
    } = delivery;
    // The gauge guard lives in the stream's state, so it goes when the body does.
    let state = (Some(frames), 0u32, cut_after, OpenStream::new(shared));
    let body = futures::stream::unfold(
        state,
        move |(mut frames, sent, cut_after, open)| async move {
            let frame = frames.as_mut()?.next()?;
            if cut_after.is_some_and(|n| sent >= n || frame.closing) {
                // Nothing follows the error: the answer is dropped with its frames.
                return Some((Err(cut().await), (None, sent, None, open)));
            }
            if frame.paced && !token_delay.is_zero() {
                tokio::time::sleep(token_delay).await;
            }
            Some((Ok(frame.bytes), (frames, sent + 1, cut_after, open)))
        },
    );
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One server-sent event: `event: <name>` when named, then `data: <JSON>`, each line
/// ended by `newline`, and an empty line.
pub(crate) fn sse(name: Option<&str>, data: &impl Serialize, newline: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(256);
    if let Some(name) = name {
        out.put_slice(b"event: ");
        out.put_slice(name.as_bytes());
        out.put_slice(newline.as_bytes());
    }
    out.put_slice(b"data: ");
    let mut out = out.writer();
    serde_json::to_writer(&mut out, data).expect("an event always serializes");
    let mut out = out.into_inner();
    out.put_slice(newline.as_bytes());
    out.put_slice(newline.as_bytes());
    out.freeze()
}

/// The error that ends a body cut by a fault, hyper then closes the connection. It
/// comes after one pending poll, so that hyper first flushes what was sent before.
pub(crate) async fn cut() -> io::Error {
    tokio::task::yield_now().await;
    io::Error::other("body cut by an injected fault")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::reply::{Generation, tests::echo_of};

    /// An answer that counts the frames made from it.
    struct Counted {
        text: String,
        made: Cell<usize>,
    }

    impl Counted {
        fn frame(&self, bytes: String) -> Frame {
            self.made.set(self.made.get() + 1);
            Frame::new(bytes)
        }
    }

    fn script() -> Vec<Part<Counted>> {
        vec![
            Part::One(|a, i| a.frame(format!("{i}: start"))),
            Part::Pieces(|a| &a.text, |a, piece, i| a.frame(format!("{i}:{piece}"))),
            Part::One(|a, i| a.frame(format!("{i}: end"))),
        ]
    }

    fn counted(text: String) -> Frames<Counted> {
        let made = Cell::new(0);
        Frames::new(Counted { text, made }, script())
    }

    #[test]
    fn frames_are_made_only_as_they_are_pulled() {
        let mut frames = counted("word ".repeat(1_000_000));
        let first: Vec<Frame> = frames.by_ref().take(3).collect();
        assert_eq!(
            first,
            [
                Frame::new("0: start"),
                Frame::new("1:word"),
                Frame::new("2: word")
            ]
        );
        assert_eq!(frames.answer.made.get(), 3);
        // What a stream holds is its answer and its script, whatever the answer's length.
        assert_eq!(frames.script.len(), 3);
        assert_eq!(frames.at, "word word".len());
    }

    #[test]
    fn an_empty_text_makes_no_frame_and_the_script_goes_on() {
        let frames: Vec<Frame> = counted(" \n ".into()).collect();
        assert_eq!(frames, [Frame::new("0: start"), Frame::new("1: end")]);
    }

    /// Checks that a provider's first frames of a million-word answer come at once
    /// (about a millisecond here, in a debug build): all of them take 8 to 30 seconds,
    /// and 120 to 280 MB.
    pub(crate) fn first_frames_come_at_once<A>(frames: impl FnOnce(Generation) -> Frames<A>) {
        let generation = echo_of(1_000_000);
        let started = Instant::now();
        let first = frames(generation).take(3).count();
        assert_eq!(first, 3);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
