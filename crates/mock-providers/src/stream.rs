//! Streamed answers, whatever their framing (server-sent events, AWS event stream, a
//! JSON array): a provider turns its answer into [`Frame`]s, and this sends them, each
//! generated token after `token_delay`, each frame handed to the connection as soon as
//! it is due, and cut short when a fault says so.

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

/// The content type of server-sent events.
pub(crate) const SSE: &str = "text/event-stream; charset=utf-8";

/// One unit of a streamed answer.
#[derive(Debug)]
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

/// The streamed answer, cut after `cut_after` frames (and before the first closing
/// frame) when a fault says so.
pub(crate) fn respond(
    frames: Vec<Frame>,
    content_type: &'static str,
    delivery: Delivery,
) -> Response {
    let Delivery {
        token_delay,
        cut_after,
        shared,
    } = delivery;
    // The gauge guard lives in the stream's state, so it goes when the body does.
    let state = (frames.into_iter(), 0u32, cut_after, OpenStream::new(shared));
    let body = futures::stream::unfold(
        state,
        move |(mut frames, sent, cut_after, open)| async move {
            let frame = frames.next()?;
            if cut_after.is_some_and(|n| sent >= n || frame.closing) {
                // Nothing follows the error: the frames left are dropped with the state.
                return Some((Err(cut().await), (Vec::new().into_iter(), sent, None, open)));
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
