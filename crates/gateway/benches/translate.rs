//! What translating to and from each provider's wire format costs per request, beside
//! the OpenAI pass-through adapter (the issue's target: at most 0.05 ms added).
//!
//! For each provider, three timings of the adapter alone (no network): building the
//! native request (with SigV4 signing for Bedrock) from a typical OpenAI chat request
//! (a system prompt, a tool round trip, a tool, sampling parameters); reading a typical
//! whole native answer (about 60 words and usage) into what the client receives; and a
//! 20-event native stream decoded from its framing (SSE, or AWS event-stream for
//! Bedrock) into the client's SSE chunks. The added cost of a request is its request
//! and response (or stream) time less the pass-through's. Each timing is the median
//! of 15 samples of about 20 ms.
//!
//! Then the same for the ingress APIs served by a chat provider (the OpenAI
//! pass-through): the same conversation sent as Anthropic's Messages and as OpenAI's
//! Responses, translated to a chat request, its answer and stream written back as a
//! `message` and Anthropic's events, a `response` and Responses events; the added
//! cost is what the translation takes beside the chat request itself.
//!
//! `cargo bench -p meridian-gateway --bench translate` prints one `RESULT` line per
//! provider and one per ingress API.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use meridian_core::Secret;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::{Config, Deployment, ProviderKind};
use meridian_gateway::ModelTable;
use meridian_gateway::body::ClientBody;
use meridian_gateway::eventstream::EventStreamDecoder;
use meridian_gateway::providers::{
    Framing, Operation, ResponseBody, StreamOut, StreamState, UpstreamEvent,
};
use meridian_gateway::sse::SseDecoder;
use meridian_gateway::targets::Target;
use meridian_gateway::translation::{self, Ingress, Reencoding};
use serde_json::{Value, json};

/// The issue's budget for translation, per request.
const TARGET_MS: f64 = 0.05;
const SAMPLES: usize = 15;
const SAMPLE_TIME: Duration = Duration::from_millis(20);
/// Events in the timed stream.
const STREAM_EVENTS: usize = 20;

/// One deployment per provider, each serving its own public model.
const DEPLOYMENTS: &str = r#"
[[deployments]]
id = "openai"
provider = "openai"
region = "us-east"
kind = "reserved"
base_url = "http://upstream.test/v1"
models = ["openai/gpt-4o-mini"]

[[deployments]]
id = "azure"
provider = "azure"
region = "eu"
kind = "reserved"
base_url = "http://upstream.test"
models = ["azure-openai/gpt-4o-mini"]
upstream_model = "gpt-4o-mini"
azure_deployment = "gpt-4o-mini-prod"
api_version = "2024-10-21"

[[deployments]]
id = "anthropic"
provider = "anthropic"
region = "us-east"
kind = "reserved"
base_url = "http://upstream.test"
models = ["anthropic/claude-sonnet-4-5"]

[[deployments]]
id = "gemini"
provider = "gemini"
region = "global"
kind = "reserved"
base_url = "http://upstream.test"
models = ["google/gemini-2.5-flash"]

[[deployments]]
id = "vertex"
provider = "vertex"
region = "us-central1"
kind = "reserved"
base_url = "http://upstream.test"
project = "bench"
models = ["vertex-google/gemini-2.5-flash"]
upstream_model = "gemini-2.5-flash"

[[deployments]]
id = "bedrock"
provider = "bedrock"
region = "us-east-1"
kind = "reserved"
base_url = "http://upstream.test"
models = ["bedrock-anthropic/claude-sonnet-4-5"]
upstream_model = "anthropic.claude-sonnet-4-5-20250929-v1:0"

[[deployments]]
id = "vertex-claude"
provider = "vertex"
region = "us-east5"
kind = "reserved"
base_url = "http://upstream.test"
project = "bench"
models = ["vertex-anthropic/claude-sonnet-4-5"]
upstream_model = "claude-sonnet-4-5@20250929"
"#;

/// A provider's fixtures: its route, a whole native answer, a native stream.
struct Case {
    name: &'static str,
    target: Arc<Target>,
    response: Bytes,
    stream: Vec<u8>,
}

/// The words of the fixtures' answers.
fn words(n: usize) -> Vec<String> {
    const TEXT: &str = "The weather in Paris today is mild and mostly sunny with a light breeze from the west and temperatures around twenty degrees";
    TEXT.split(' ')
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_string()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

fn answer() -> String {
    words(60).concat()
}

/// A typical client request: a system prompt, a question, a tool round trip, a
/// follow-up, one tool and sampling parameters.
fn client_request(model: &str) -> ClientBody {
    let body = json!({
        "model": model,
        "temperature": 0.7,
        "max_tokens": 512,
        "messages": [
            {"role": "system", "content": "You are a concise travel assistant. Answer in two sentences at most and use the tools when the answer depends on live data."},
            {"role": "user", "content": "I am visiting Paris tomorrow morning. What should I wear for a walk along the Seine?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 19, \"conditions\": \"partly cloudy\", \"wind_kmh\": 12}"},
            {"role": "user", "content": "Thanks. And is it worth taking an umbrella for the afternoon?"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "description": "The current weather and forecast for a city",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city"]}}}]
    });
    ClientBody::parse(Bytes::from(body.to_string())).expect("an object")
}

/// [`client_request`]'s conversation in Anthropic's Messages API.
fn messages_request(model: &str) -> ClientBody {
    let body = json!({
        "model": model, "temperature": 0.7, "max_tokens": 512,
        "system": "You are a concise travel assistant. Answer in two sentences at most and use the tools when the answer depends on live data.",
        "messages": [
            {"role": "user", "content": "I am visiting Paris tomorrow morning. What should I wear for a walk along the Seine?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                "input": {"city": "Paris", "unit": "celsius"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"temperature\": 19, \"conditions\": \"partly cloudy\", \"wind_kmh\": 12}"},
                {"type": "text", "text": "Thanks. And is it worth taking an umbrella for the afternoon?"}]}
        ],
        "tools": [{"name": "get_weather", "description": "The current weather and forecast for a city",
            "input_schema": {"type": "object", "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city"]}}]
    });
    ClientBody::parse(Bytes::from(body.to_string())).expect("an object")
}

/// [`client_request`]'s conversation in OpenAI's Responses API.
fn responses_request(model: &str) -> ClientBody {
    let body = json!({
        "model": model, "temperature": 0.7, "max_output_tokens": 512,
        "instructions": "You are a concise travel assistant. Answer in two sentences at most and use the tools when the answer depends on live data.",
        "input": [
            {"role": "user", "content": "I am visiting Paris tomorrow morning. What should I wear for a walk along the Seine?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather",
                "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"},
            {"type": "function_call_output", "call_id": "call_1",
                "output": "{\"temperature\": 19, \"conditions\": \"partly cloudy\", \"wind_kmh\": 12}"},
            {"role": "user", "content": "Thanks. And is it worth taking an umbrella for the afternoon?"}
        ],
        "tools": [{"type": "function", "name": "get_weather",
            "description": "The current weather and forecast for a city",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city"]}}]
    });
    ClientBody::parse(Bytes::from(body.to_string())).expect("an object")
}

fn sse(events: impl IntoIterator<Item = (Option<&'static str>, Value)>) -> Vec<u8> {
    let mut out = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            out.push_str(&format!("event: {name}\n"));
        }
        out.push_str(&format!("data: {data}\n\n"));
    }
    out.into_bytes()
}

fn openai_response(extra: Value) -> Bytes {
    let mut body = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_735_689_600,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
            "message": {"role": "assistant", "content": answer(), "refusal": null}}],
        "usage": {"prompt_tokens": 180, "completion_tokens": 60, "total_tokens": 240,
            "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    Bytes::from(body.to_string())
}

/// OpenAI's chunks: the role, the words, the finish, the usage (and Azure's
/// prompt-filter chunk first), then `[DONE]`: `STREAM_EVENTS` events.
fn openai_stream(azure: bool) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_735_689_600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]})
    };
    let mut events = Vec::new();
    if azure {
        events.push(
            json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}),
        );
    }
    events.push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    let text_events = STREAM_EVENTS - events.len() - 3;
    events.extend(
        words(text_events)
            .into_iter()
            .map(|w| chunk(json!({"content": w}), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    events.push(
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_735_689_600,
        "model": "gpt-4o-mini-2024-07-18", "choices": [],
        "usage": {"prompt_tokens": 180, "completion_tokens": 16, "total_tokens": 196}}),
    );
    let mut bytes = sse(events.into_iter().map(|e| (None, e)));
    bytes.extend_from_slice(b"data: [DONE]\n\n");
    bytes
}

fn anthropic_response() -> Bytes {
    Bytes::from(
        json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": answer()}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 180, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "output_tokens": 60, "service_tier": "standard"}})
        .to_string(),
    )
}

fn anthropic_stream() -> Vec<u8> {
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_01", "type": "message",
            "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 180, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
    ];
    events.extend(words(STREAM_EVENTS - 6).into_iter().map(|w| {
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": w}}),
        )
    }));
    events.extend([
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn",
            "stop_sequence": null}, "usage": {"output_tokens": 14}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]);
    sse(events.into_iter().map(|(name, data)| (Some(name), data)))
}

fn gemini_chunk(text: &str, last: bool) -> Value {
    let mut candidate =
        json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    let mut usage = json!({"promptTokenCount": 180});
    if last {
        candidate["finishReason"] = json!("STOP");
        usage = json!({"promptTokenCount": 180, "candidatesTokenCount": 60, "thoughtsTokenCount": 24,
            "totalTokenCount": 264, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 180}]});
    }
    json!({"candidates": [candidate], "usageMetadata": usage,
        "modelVersion": "gemini-2.5-flash", "responseId": "r-1"})
}

fn gemini_stream() -> Vec<u8> {
    let pieces = words(STREAM_EVENTS);
    let last = pieces.len() - 1;
    sse(pieces
        .iter()
        .enumerate()
        .map(|(i, w)| (None, gemini_chunk(w, i == last))))
}

fn bedrock_response() -> Bytes {
    Bytes::from(
        json!({"output": {"message": {"role": "assistant", "content": [{"text": answer()}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 180, "outputTokens": 60, "totalTokens": 240,
                "cacheReadInputTokens": 0, "cacheWriteInputTokens": 0},
            "metrics": {"latencyMs": 812}})
        .to_string(),
    )
}

fn bedrock_frame(name: &str, payload: Value) -> Vec<u8> {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(name.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    let mut frame = Vec::new();
    write_message_to(&message, &mut frame).expect("a small event fits a frame");
    frame
}

fn bedrock_stream() -> Vec<u8> {
    let mut frames = vec![bedrock_frame(
        "messageStart",
        json!({"role": "assistant", "p": "abcdef"}),
    )];
    frames.extend(words(STREAM_EVENTS - 4).into_iter().map(|w| {
        bedrock_frame(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": w}, "p": "abcd"}),
        )
    }));
    frames.extend([
        bedrock_frame(
            "contentBlockStop",
            json!({"contentBlockIndex": 0, "p": "ab"}),
        ),
        bedrock_frame("messageStop", json!({"stopReason": "end_turn", "p": "abc"})),
        bedrock_frame(
            "metadata",
            json!({"usage": {"inputTokens": 180, "outputTokens": 16, "totalTokens": 196},
            "metrics": {"latencyMs": 400}, "p": "a"}),
        ),
    ]);
    frames.concat()
}

/// The bytes a client receives for one adapter output, as the proxy writes them.
fn client_bytes(out: StreamOut, raw: Option<&Bytes>, sent: &mut Vec<Bytes>) {
    match out {
        StreamOut::Forward => sent.push(raw.cloned().unwrap_or_default()),
        StreamOut::Chunk(chunk) | StreamOut::Usage { chunk, .. } => {
            sent.push(Bytes::from(serde_json::to_vec(&chunk).unwrap_or_default()))
        }
        StreamOut::Many(outs) => outs.into_iter().for_each(|o| client_bytes(o, raw, sent)),
        StreamOut::Skip | StreamOut::Done | StreamOut::Error(_) => {}
    }
}

/// Decodes a whole native stream and translates each of its events.
fn translate_stream(target: &Target, bytes: &[u8]) -> Vec<Bytes> {
    let adapter = target.deployment.adapter;
    let mut state = StreamState::default();
    let mut sent = Vec::with_capacity(STREAM_EVENTS + 1);
    match adapter.framing() {
        Framing::Sse => {
            for e in SseDecoder::default().feed(bytes).expect("well-formed SSE") {
                let event = UpstreamEvent {
                    event: e.event.as_deref(),
                    data: &e.data,
                };
                let out = adapter
                    .stream_event(target, &mut state, event)
                    .expect("valid event");
                client_bytes(out, Some(&e.raw), &mut sent);
            }
        }
        Framing::AwsEventStream => {
            for m in EventStreamDecoder::default()
                .feed(bytes)
                .expect("well-formed frames")
            {
                let event = UpstreamEvent {
                    event: Some(&m.name),
                    data: &m.payload,
                };
                let out = adapter
                    .stream_event(target, &mut state, event)
                    .expect("valid event");
                client_bytes(out, None, &mut sent);
            }
        }
    }
    if let Some(out) = adapter.stream_end(&mut state) {
        client_bytes(out, None, &mut sent);
    }
    assert!(
        sent.len() >= STREAM_EVENTS - 4,
        "{} sent too little",
        target.deployment.id
    );
    sent
}

/// Translates `ingress`'s request to chat and builds the chat provider's request.
fn ingress_request(ingress: Ingress, target: &Target, body: &ClientBody) {
    let chat = translation::to_chat(ingress, body).expect("the request translates");
    black_box(
        target
            .deployment
            .adapter
            .request(Operation::Chat, target, &chat, false)
            .expect("the chat request builds"),
    );
}

/// A chat provider's SSE stream written as `ingress`'s events.
fn ingress_stream(
    ingress: Ingress,
    target: &Target,
    body: &ClientBody,
    bytes: &[u8],
) -> Vec<Bytes> {
    let mut format = Reencoding::new(ingress, body).expect("the request reads");
    let mut state = StreamState::default();
    let mut sent = Vec::with_capacity(2 * STREAM_EVENTS);
    for e in SseDecoder::default().feed(bytes).expect("well-formed SSE") {
        let event = UpstreamEvent {
            event: e.event.as_deref(),
            data: &e.data,
        };
        format
            .feed(target, &mut state, event, &mut sent)
            .expect("valid event");
    }
    assert!(
        sent.len() >= STREAM_EVENTS - 4,
        "{ingress:?} sent too little"
    );
    sent
}

fn measure_ingress(ingress: Ingress, case: &Case) -> Timing {
    let target = &case.target;
    let body = match ingress {
        Ingress::Messages => messages_request(&target.model),
        Ingress::Responses => responses_request(&target.model),
    };
    Timing {
        request: time(|| ingress_request(ingress, target, &body)),
        response: time(|| {
            let parsed = target
                .deployment
                .adapter
                .response(Operation::Chat, target, case.response.clone())
                .expect("the answer reads");
            translation::answer(ingress, parsed.body, &parsed.usage, &body).expect("written")
        }),
        stream: time(|| ingress_stream(ingress, target, &body, &case.stream)),
    }
}

/// Median time of one call of `f`, in microseconds.
fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < SAMPLE_TIME {
        black_box(f());
        calls += 1;
    }
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                black_box(f());
            }
            start.elapsed().as_secs_f64() * 1e6 / calls as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

/// A provider's three timings, in microseconds.
struct Timing {
    request: f64,
    response: f64,
    stream: f64,
}

fn measure(case: &Case) -> Timing {
    let target = &case.target;
    let adapter = target.deployment.adapter;
    let body = client_request(&target.model);
    Timing {
        request: time(|| {
            adapter
                .request(Operation::Chat, target, &body, false)
                .expect("the request translates")
        }),
        response: time(|| {
            let parsed = adapter
                .response(Operation::Chat, target, case.response.clone())
                .expect("the answer reads");
            match parsed.body {
                ResponseBody::Unchanged(bytes) => bytes,
                ResponseBody::Translated(object) => {
                    Bytes::from(serde_json::to_vec(&object).unwrap_or_default())
                }
            }
        }),
        stream: time(|| translate_stream(target, &case.stream)),
    }
}

fn main() {
    let catalog: PriceCatalog = include_str!("../../../data/model-prices.json")
        .parse()
        .expect("the bundled catalog");
    let config = Config::parse(DEPLOYMENTS).expect("the bench's deployments");
    let credential = |d: &Deployment| {
        Some(Secret::new(match d.provider {
            ProviderKind::Bedrock => "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            _ => "bench-key",
        }))
    };
    let table = ModelTable::build(&config, &catalog, &credential).expect("priced");
    let target = |model: &str| table.resolve(model).expect("routed").targets[0].clone();
    let cases = [
        Case {
            name: "openai",
            target: target("openai/gpt-4o-mini"),
            response: openai_response(json!({})),
            stream: openai_stream(false),
        },
        Case {
            name: "azure",
            target: target("azure-openai/gpt-4o-mini"),
            response: openai_response(json!({"prompt_filter_results": [{"prompt_index": 0,
                "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}}]})),
            stream: openai_stream(true),
        },
        Case {
            name: "anthropic",
            target: target("anthropic/claude-sonnet-4-5"),
            response: anthropic_response(),
            stream: anthropic_stream(),
        },
        Case {
            name: "gemini",
            target: target("google/gemini-2.5-flash"),
            response: Bytes::from(gemini_chunk(&answer(), true).to_string()),
            stream: gemini_stream(),
        },
        Case {
            name: "vertex",
            target: target("vertex-google/gemini-2.5-flash"),
            response: Bytes::from(gemini_chunk(&answer(), true).to_string()),
            stream: gemini_stream(),
        },
        Case {
            name: "bedrock",
            target: target("bedrock-anthropic/claude-sonnet-4-5"),
            response: bedrock_response(),
            stream: bedrock_stream(),
        },
        Case {
            name: "vertex-claude",
            target: target("vertex-anthropic/claude-sonnet-4-5"),
            response: anthropic_response(),
            stream: anthropic_stream(),
        },
    ];
    let timings: Vec<Timing> = cases.iter().map(measure).collect();
    let base = &timings[0];
    for (case, t) in cases.iter().zip(&timings) {
        report(&format!("provider={}", case.name), t, base);
    }
    // The ingress APIs, served by the OpenAI pass-through: beside chat's own request.
    for ingress in [Ingress::Messages, Ingress::Responses] {
        report(
            &format!("ingress={ingress:?}"),
            &measure_ingress(ingress, &cases[0]),
            base,
        );
    }
}

/// One `RESULT` line: the timings, and what they add to the pass-through's `base`.
fn report(what: &str, t: &Timing, base: &Timing) {
    let added_ms = (t.request + t.response - base.request - base.response) / 1000.0;
    let added_stream_ms = (t.request + t.stream - base.request - base.stream) / 1000.0;
    let within = added_ms.max(added_stream_ms) <= TARGET_MS;
    println!(
        "RESULT {what} request_us={:.2} response_us={:.2} stream{STREAM_EVENTS}_us={:.2} added_ms={added_ms:.4} added_stream_ms={added_stream_ms:.4} target_ms={TARGET_MS} within_target={within}",
        t.request, t.response, t.stream
    );
}
