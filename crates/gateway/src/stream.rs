//! The streaming response: upstream events are decoded as they arrive and passed on
//! as soon as the upstream goes quiet. The final usage is metered before the client
//! sees the end of the stream, and the usage-only chunk reaches the client only when it
//! asked for usage.
//!
//! Why "as soon as the upstream goes quiet" and not "each event at once": hyper's
//! HTTP/1.1 client hands over one upstream chunk per run of its connection task, and
//! hyper's server writes to the socket whenever the body is pending, so passing each
//! event on at once turns an upstream burst of N events (one TCP read) into N writes.
//! So after taking events the stream lets the scheduler run the connection task once
//! more (it hands over what it already holds) and passes everything on, joined, when
//! that brings nothing new: one write per burst. The first event is the exception: it
//! leaves at once, since the time to the first token is what a user waits for. With
//! real token pacing, events are far apart and each still leaves on its own, one
//! scheduler turn later.
//!
//! That wait needs polls of our own: hyper's server may poll a body twice within one
//! wake-up of its task, with no other task run in between. So the stream runs in a
//! task of its own ([`ProxyStream::into_body`]) and hands batches to the response body
//! through a one-slot channel. The response head waits (briefly) for the first batch,
//! so that both leave in one write.
//!
//! A stream that ends before the provider's usage is still billed, as the provider
//! bills it: when the client goes away (the stream is dropped, which also drops the
//! upstream body and so cancels the upstream request at once), or when the provider
//! breaks it off, the prompt and what was generated are counted with the model's
//! tokenizer ([`crate::tokens`]) and metered as estimated, off the runtime's threads.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use hyper::body::{Body as _, Incoming};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use tokio::time::Sleep;

use meridian_core::TokenUsage;

use crate::Gateway;
use crate::body::ClientBody;
use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use crate::eventstream::EventStreamDecoder;
use crate::meter::{CLIENT_CLOSED, Meter};
use crate::metrics::{InFlight, Metrics};
use crate::providers::{Framing, Malformed, Operation, StreamOut, StreamState, UpstreamEvent};
use crate::sse::SseDecoder;
use crate::targets::Target;
use crate::tokens;

/// The client's side of a stream: how each upstream event is read and how what it
/// means is written. Chat Completions' ([`ChatFormat`]) reads with the adapter and
/// writes `data:` chunks ending with `[DONE]`; another ingress API (Responses) brings
/// its own, and the batching, metering and cut-short billing stay here.
pub trait StreamFormat: Send + 'static {
    /// The operation the stream is counted under in the request metrics.
    fn operation(&self) -> Operation {
        Operation::Chat
    }

    /// Reads one upstream event.
    fn read(
        &mut self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        target.deployment.adapter.stream_event(target, state, event)
    }

    /// The upstream body ended (see [`crate::providers::Adapter::stream_end`]).
    fn end(&mut self, target: &Target, state: &mut StreamState) -> Option<StreamOut> {
        target.deployment.adapter.stream_end(state)
    }

    /// The client's bytes for a chunk.
    fn chunk(&mut self, chunk: Map<String, Value>) -> Bytes {
        sse_data(serde_json::to_vec(&chunk).unwrap_or_default())
    }

    /// The client's bytes once the usage is known (metered before they are sent).
    fn usage(&mut self, chunk: Map<String, Value>, usage: &TokenUsage, cost: Decimal) -> Bytes;

    /// The client's bytes at the end of a complete stream.
    fn done(&mut self) -> Bytes {
        Bytes::from_static(b"data: [DONE]\n\n")
    }

    /// The client's bytes for an error that ends the stream.
    fn error(&mut self, error: &ApiError) -> Bytes {
        sse_data(serde_json::to_vec(&error.body()).unwrap_or_default())
    }
}

/// Chat Completions' stream format.
pub struct ChatFormat {
    /// Whether the client asked for usage (then the usage chunk, with its cost, is
    /// sent).
    pub wants_usage: bool,
}

impl StreamFormat for ChatFormat {
    fn usage(&mut self, chunk: Map<String, Value>, _: &TokenUsage, cost: Decimal) -> Bytes {
        if self.wants_usage {
            sse_data(with_usage_cost(chunk, cost))
        } else {
            Bytes::new()
        }
    }
}

/// Held events are passed on once they reach this size, burst or not.
const BATCH_LIMIT: usize = 32 * 1024;

/// The provider's stream framing, chosen by its adapter.
enum Decoder {
    Sse(SseDecoder),
    AwsEventStream(EventStreamDecoder),
}

pub struct ProxyStream {
    upstream: Incoming,
    format: Box<dyn StreamFormat>,
    decoder: Decoder,
    state: StreamState,
    target: Arc<Target>,
    meter: Meter,
    /// The client's request, to count its prompt if the provider never reports it.
    body: Option<ClientBody>,
    metrics: Arc<Metrics>,
    /// The status metered, once it is.
    status: Option<u16>,
    _in_flight: InFlight,
    out: VecDeque<Bytes>,
    /// Bytes in `out`.
    held: usize,
    /// Whether a batch has been passed on (the first is never held back).
    started: bool,
    idle_timeout: Duration,
    idle: Pin<Box<Sleep>>,
    ttft_us: Option<u64>,
    done: bool,
}

impl ProxyStream {
    pub fn new(
        gw: &Gateway,
        upstream: Incoming,
        target: Arc<Target>,
        body: ClientBody,
        meter: Meter,
        in_flight: InFlight,
        format: Box<dyn StreamFormat>,
    ) -> Self {
        let idle_timeout = gw.options.stream_idle_timeout;
        let decoder = match target.deployment.adapter.framing() {
            Framing::Sse => Decoder::Sse(SseDecoder::default()),
            Framing::AwsEventStream => Decoder::AwsEventStream(EventStreamDecoder::default()),
        };
        Self {
            upstream,
            format,
            decoder,
            state: StreamState::default(),
            target,
            meter,
            body: Some(body),
            metrics: gw.metrics.clone(),
            status: None,
            _in_flight: in_flight,
            out: VecDeque::new(),
            held: 0,
            started: false,
            idle_timeout,
            idle: Box::pin(tokio::time::sleep(idle_timeout)),
            ttft_us: None,
            done: false,
        }
    }

    /// The response body, fed by this stream running in a task of its own. The task
    /// ends when the stream does or when the client goes away (the body is dropped).
    ///
    /// Waits up to `head_wait` for the first batch before returning, so that the
    /// response head and the first event leave in one write (hyper writes the head
    /// alone when the body is not ready yet): the client's first token arrives one
    /// write and one wake-up sooner. A provider slow to its first token (reasoning
    /// models) gets its head sent once the wait is over.
    pub async fn into_body(mut self, head_wait: Duration) -> Body {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        tokio::spawn(async move {
            loop {
                let batch = tokio::select! {
                    biased;
                    () = tx.closed() => break,
                    batch = self.next() => batch,
                };
                let Some(batch) = batch else { break };
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
        });
        let mut first = match tokio::time::timeout(head_wait, rx.recv()).await {
            Ok(Some(batch)) => Some(batch),
            Ok(None) => return Body::empty(),
            Err(_) => None,
        };
        Body::from_stream(futures::stream::poll_fn(move |cx| match first.take() {
            Some(batch) => Poll::Ready(Some(Ok::<_, std::io::Error>(batch))),
            None => rx.poll_recv(cx).map(|batch| batch.map(Ok)),
        }))
    }

    fn on_bytes(&mut self, data: &[u8]) -> Result<(), Malformed> {
        match &mut self.decoder {
            Decoder::Sse(d) => {
                for event in d.feed(data).map_err(|_| Malformed)? {
                    let upstream_event = UpstreamEvent {
                        event: event.event.as_deref(),
                        data: &event.data,
                    };
                    self.on_event(upstream_event, Some(&event.raw))?;
                }
            }
            Decoder::AwsEventStream(d) => {
                for message in d.feed(data).map_err(|_| Malformed)? {
                    let upstream_event = UpstreamEvent {
                        event: Some(&message.name),
                        data: &message.payload,
                    };
                    // An event-stream frame is not something to forward to an SSE client.
                    self.on_event(upstream_event, None)?;
                }
            }
        }
        Ok(())
    }

    /// One decoded event; `raw` is its bytes, when they can be forwarded as they are.
    fn on_event(&mut self, event: UpstreamEvent<'_>, raw: Option<&Bytes>) -> Result<(), Malformed> {
        if self.done {
            return Ok(());
        }
        let out = self.format.read(&self.target, &mut self.state, event)?;
        self.apply(out, raw)
    }

    fn apply(&mut self, out: StreamOut, raw: Option<&Bytes>) -> Result<(), Malformed> {
        match out {
            StreamOut::Forward => {
                self.first_token();
                self.push(raw.ok_or(Malformed)?.clone());
            }
            StreamOut::Chunk(chunk) => {
                self.first_token();
                let bytes = self.format.chunk(chunk);
                self.push(bytes);
            }
            StreamOut::Usage { usage, chunk } => {
                let cost = self.target.price.cost(&usage);
                self.meter.success(usage, cost, self.ttft_us);
                self.status = Some(200);
                let bytes = self.format.usage(chunk, &usage, cost);
                self.push(bytes);
            }
            StreamOut::Skip => {}
            StreamOut::Done => {
                if self.meter.is_pending() {
                    tracing::warn!(request_id = %self.meter.request_id(), deployment = %self.target.deployment.id, "stream ended without usage; counted");
                    self.meter_estimated(200);
                }
                let bytes = self.format.done();
                self.push(bytes);
                self.done = true;
            }
            StreamOut::Error(error) => self.broken(error),
            StreamOut::Many(outs) => {
                for out in outs {
                    if self.done {
                        break;
                    }
                    self.apply(out, raw)?;
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.held += bytes.len();
        self.out.push_back(bytes);
    }

    /// Everything held, as one piece.
    fn take_batch(&mut self) -> Bytes {
        let batch = if self.out.len() == 1 {
            self.out.pop_front().unwrap_or_default()
        } else {
            let mut batch = BytesMut::with_capacity(self.held);
            for bytes in self.out.drain(..) {
                batch.extend_from_slice(&bytes);
            }
            batch.freeze()
        };
        self.held = 0;
        self.started = true;
        batch
    }

    fn first_token(&mut self) {
        if self.ttft_us.is_none() {
            self.ttft_us = Some(self.meter.started().elapsed().as_micros() as u64);
        }
    }

    /// Ends a stream the provider broke off: an error event for the client (and no
    /// `[DONE]`), what was delivered metered as estimated, a log line and a count.
    fn broken(&mut self, error: ApiError) {
        let provider = self.target.deployment.provider;
        tracing::warn!(
            request_id = %self.meter.request_id(),
            deployment = %self.target.deployment.id,
            class = %error.code.unwrap_or("upstream_error"),
            "stream broken off by the provider"
        );
        self.metrics.stream_failure(provider);
        self.meter_estimated(error.status.as_u16());
        self.status = Some(error.status.as_u16());
        let bytes = self.format.error(&error);
        self.push(bytes);
        self.done = true;
    }

    /// Meters the stream at the provider's usage so far, completed by counting the
    /// prompt and what was generated. Counting can take milliseconds (and loads the
    /// tokenizer the first time), so it runs off the runtime's threads.
    fn meter_estimated(&mut self, status: u16) {
        if !self.meter.is_pending() {
            return;
        }
        self.status = Some(status);
        let mut meter = self.meter.hand_over();
        let target = self.target.clone();
        let reported = self.state.usage_seen.then_some(self.state.usage);
        let generated = std::mem::take(&mut self.state.generated);
        let body = self.body.take();
        let ttft_us = self.ttft_us;
        let count = move || {
            let usage = estimate(&target.upstream_model, reported, &generated, body.as_ref());
            let cost = target.price.cost(&usage);
            meter.estimated(status, usage, cost, ttft_us);
        };
        tokens::off_thread(count);
    }
}

/// The usage of a stream cut short: what the provider reported (Anthropic and Gemini
/// report the prompt as the stream begins), the prompt counted where it did not, and
/// the completion at least as long as what was generated.
fn estimate(
    upstream_model: &str,
    reported: Option<TokenUsage>,
    generated: &str,
    body: Option<&ClientBody>,
) -> TokenUsage {
    let mut usage = reported.unwrap_or_default();
    if usage.prompt == 0 {
        usage.prompt = body.map_or(0, |b| tokens::count_prompt(upstream_model, b));
    }
    usage.completion = usage
        .completion
        .max(tokens::count_text(upstream_model, generated));
    usage
}

/// A stream dropped before it ended is one the client left: it is metered as such
/// (and the upstream body, dropped with it, closes the provider's connection). Every
/// stream is counted in the request metrics here, with the status it ended with.
impl Drop for ProxyStream {
    fn drop(&mut self) {
        if self.meter.is_pending() {
            tracing::info!(
                request_id = %self.meter.request_id(),
                deployment = %self.target.deployment.id,
                "client closed the stream"
            );
            self.meter_estimated(CLIENT_CLOSED);
        }
        self.metrics.request(
            self.format.operation(),
            self.status.unwrap_or(CLIENT_CLOSED),
        );
    }
}

/// How a stream format that re-encodes chat chunks (a translated ingress API) reads
/// an event: with the adapter, and the chunks an OpenAI-compatible adapter would
/// forward unchanged read as chunks to re-encode.
pub fn read_chat_chunks(
    target: &Target,
    state: &mut StreamState,
    event: UpstreamEvent<'_>,
) -> Result<StreamOut, Malformed> {
    let data = event.data;
    let out = target
        .deployment
        .adapter
        .stream_event(target, state, event)?;
    as_chunks(out, data)
}

/// What a chat chunk's first choice holds, in the order a re-encoder writes it:
/// reasoning text, text, tool-call deltas, then the finish reason.
pub enum ChunkPart<'a> {
    Reasoning(&'a str),
    Text(&'a str),
    /// OpenAI's `refusal`: the model's words declining the request, in place of content.
    Refusal(&'a str),
    ToolCall(&'a Value),
    Finish(&'a str),
}

/// The parts of `chunk`'s first choice, in order (none without a choice).
pub fn chunk_parts(chunk: &Map<String, Value>) -> Vec<ChunkPart<'_>> {
    let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
        return Vec::new();
    };
    let delta = &choice["delta"];
    let text = |key: &str| delta[key].as_str().filter(|t| !t.is_empty());
    let mut parts = Vec::new();
    parts.extend(text("reasoning_content").map(ChunkPart::Reasoning));
    parts.extend(text("content").map(ChunkPart::Text));
    parts.extend(text("refusal").map(ChunkPart::Refusal));
    parts.extend(
        delta["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(ChunkPart::ToolCall),
    );
    parts.extend(choice["finish_reason"].as_str().map(ChunkPart::Finish));
    parts
}

/// `out` with every `Forward` of the event `data` made a `Chunk` (to write again
/// rather than forward as its bytes).
pub fn as_chunks(out: StreamOut, data: &str) -> Result<StreamOut, Malformed> {
    Ok(match out {
        StreamOut::Forward => StreamOut::Chunk(serde_json::from_str(data).map_err(|_| Malformed)?),
        StreamOut::Many(outs) => StreamOut::Many(
            outs.into_iter()
                .map(|o| as_chunks(o, data))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

/// An SSE event from its name and its data's JSON text.
pub fn sse_event(name: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + name.len() + 16);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

pub fn sse_data(json: Vec<u8>) -> Bytes {
    let mut event = Vec::with_capacity(json.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(&json);
    event.extend_from_slice(b"\n\n");
    Bytes::from(event)
}

/// Batches of events for the client; each poll of the stream is one run of its task.
impl Stream for ProxyStream {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        // Whether this poll took anything from the upstream.
        let mut took = false;
        loop {
            if this.done {
                return Poll::Ready((!this.out.is_empty()).then(|| this.take_batch()));
            }
            let provider = this.target.deployment.provider.as_str();
            match Pin::new(&mut this.upstream).poll_frame(cx) {
                Poll::Pending => {
                    if this.idle.as_mut().poll(cx).is_ready() {
                        this.broken(ApiError::upstream_timeout(provider));
                        continue;
                    }
                    if this.out.is_empty() {
                        return Poll::Pending;
                    }
                    if took && this.started && this.held < BATCH_LIMIT {
                        // The connection task runs before this task's next poll.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    return Poll::Ready(Some(this.take_batch()));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    took = true;
                    let deadline = tokio::time::Instant::now() + this.idle_timeout;
                    this.idle.as_mut().reset(deadline);
                    if let Ok(data) = frame.into_data()
                        && this.on_bytes(&data).is_err()
                    {
                        this.broken(ApiError::upstream_malformed(provider));
                    }
                }
                Poll::Ready(None) => {
                    // Some providers end their stream with the body alone.
                    let end = this.format.end(&this.target, &mut this.state);
                    if let Some(out) = end
                        && this.apply(out, None).is_err()
                    {
                        this.broken(ApiError::upstream_malformed(provider));
                    }
                    if !this.done {
                        this.broken(ApiError::upstream_unreachable(provider));
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    this.broken(ApiError::upstream_unreachable(provider));
                }
            }
        }
    }
}
