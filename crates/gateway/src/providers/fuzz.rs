//! Property tests over every adapter's inputs. A client body, whatever it holds
//! (nesting, huge exponents, escapes and unpaired surrogates, wrong types), is either
//! refused with a 4xx or becomes an upstream request the provider can read; upstream
//! bytes, whatever they are, are read or found `Malformed`. Neither ever panics.
//! [`CASES`] cases run per property.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use meridian_core::config::ProviderKind;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::common::testing::target;
use super::{Operation, StreamState, UpstreamEvent};
use crate::request::{parse_chat, parse_embedding};

/// Cases per property (a few seconds for all of them in a debug build).
const CASES: u32 = 256;

/// Every adapter (Vertex is Gemini's, with another URL).
const KINDS: &[ProviderKind] = &[
    ProviderKind::OpenAi,
    ProviderKind::Azure,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
    ProviderKind::Bedrock,
];

const MEMBER_NAMES: &[&str] = &[
    "type",
    "role",
    "content",
    "text",
    "image_url",
    "url",
    "function",
    "name",
    "arguments",
    "parameters",
    "json_schema",
    "schema",
    "properties",
    "tool_calls",
    "id",
    "tool_call_id",
    "include_usage",
    "include",
    "refusal",
    "description",
    "strict",
    "delta",
    "index",
    "content_block",
    "usage",
    "input_tokens",
    "output_tokens",
    "candidates",
    "parts",
    "functionCall",
    "usageMetadata",
    "promptTokenCount",
    "candidatesTokenCount",
    "choices",
    "message",
    "output",
    "stopReason",
    "contentBlockIndex",
    "start",
    "toolUse",
    "toolUseId",
    "input",
    "finishReason",
    "thought",
    "error",
    "args",
    "partial_json",
    "stop_reason",
    "prompt_tokens",
    "completion_tokens",
    "data",
    "embedding",
    "inputTokens",
    "outputTokens",
    "thoughtSignature",
];

const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
    "x",
];

const RESPONSE_FORMATS: &[&str] = &["text", "json_object", "json_schema", "x"];

const TEMPLATES: &[&str] = &[
    r#"{"type":"content_block_delta","index":$,"delta":$}"#,
    r#"{"type":"content_block_start","index":$,"content_block":$}"#,
    r#"{"type":"message_start","message":$}"#,
    r#"{"type":"message_delta","delta":{"stop_reason":$},"usage":$}"#,
    r#"{"id":"m","content":$,"usage":$,"stop_reason":$}"#,
    r#"{"candidates":[{"content":{"parts":$},"finishReason":$}],"usageMetadata":$}"#,
    r#"{"contentBlockIndex":$,"delta":$,"start":$}"#,
    r#"{"output":{"message":{"content":$}},"stopReason":$,"usage":$}"#,
    r#"{"usage":$,"metrics":$}"#,
    r#"{"id":"c","choices":$,"usage":$}"#,
    r#"{"object":"list","data":$,"usage":$}"#,
];

const EVENT_NAMES: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "throttlingException",
    "validationException",
    "x",
];

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(items).prop_map(str::to_string)
}

/// Numbers: mostly ordinary, some beyond `f64` or with hundreds of digits.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => one_of(&["0", "1", "2", "0.5", "-1", "1e2", "64000"]),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        1 => (0u32..10, -420i32..420).prop_map(|(m, e)| format!("{m}.5e{e}")),
        1 => "-?[1-9][0-9]{280,330}",
        1 => one_of(&["1e309", "-1E400", "1e-400"]),
    ]
}

/// JSON strings: mostly plain text, some with escapes, NULs and unpaired surrogates.
fn string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        12 => "[a-zA-Z0-9 _/:.-]{1,6}",
        4 => one_of(&["\\\"", "\\\\", "\\n", "\\u00e9", "é日", "\\ud83d\\ude00",
            "data:image/png;base64,iVBORw0KGgo=", "{\\\"a\\\":[1e309]}", "\\u0000"]),
        1 => one_of(&["\\ud800", "\\udfff", "\\ud800\\u0041"]),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|parts| format!("\"{}\"", parts.concat()))
}

/// Member names the adapters look for, and others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(MEMBER_NAMES).prop_map(|k| format!("\"{k}\"")),
        1 => string(),
    ]
}

/// Nesting around the limits, and well past them.
fn deep() -> impl Strategy<Value = String> {
    (1usize..160, any::<bool>()).prop_map(|(n, object)| {
        if object {
            format!("{}1{}", r#"{"type":"#.repeat(n), "}".repeat(n))
        } else {
            format!("{}{}", "[".repeat(n), "]".repeat(n))
        }
    })
}

/// Any JSON value, as text (which a `serde_json::Value` could not always hold).
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        2 => one_of(&["null", "true", "false"]),
        3 => number(),
        6 => string(),
        1 => deep(),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key(), inner), 0..5).prop_map(|members| {
                let members: Vec<String> =
                    members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// A message, mostly of a shape the gateway takes, with any values inside.
fn message() -> impl Strategy<Value = String> {
    let role = prop_oneof![
        8 => one_of(&["system", "user", "assistant"][..]),
        1 => one_of(ROLES),
    ];
    let content = prop_oneof![
        6 => string(),
        1 => value(),
        2 => string().prop_map(|v| format!(r#"[{{"type":"text","text":{v}}}]"#)),
        1 => string().prop_map(|v| format!(r#"[{{"type":"image_url","image_url":{{"url":{v}}}}}]"#)),
    ];
    let extra = prop_oneof![
        6 => Just(String::new()),
        1 => value().prop_map(|v| format!(
            r#","tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":{v}}}}}]"#
        )),
        1 => value().prop_map(|v| format!(
            r#","tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":"{}"}}}}]"#,
            v.replace('\\', "\\\\").replace('"', "\\\"")
        )),
        1 => value().prop_map(|v| format!(r#","tool_call_id":{v}"#)),
    ];
    (role, content, extra).prop_map(|(role, content, extra)| {
        format!(r#"{{"role":"{role}","content":{content}{extra}}}"#)
    })
}

/// A top-level member: known fields with values of their shape or of any shape,
/// and unknown ones.
fn member() -> impl Strategy<Value = (String, String)> {
    let named =
        |k: &'static str, v: BoxedStrategy<String>| v.prop_map(move |v| (format!("\"{k}\""), v));
    let typical_or_any =
        |typical: BoxedStrategy<String>| prop_oneof![3 => typical, 1 => value()].boxed();
    prop_oneof![
        named("temperature", number().boxed()),
        named("top_p", number().boxed()),
        named("max_tokens", number().boxed()),
        named("seed", number().boxed()),
        named("n", number().boxed()),
        named("stop", typical_or_any(string().boxed())),
        named("stream", typical_or_any(Just("true".to_string()).boxed())),
        named(
            "parallel_tool_calls",
            typical_or_any(Just("false".to_string()).boxed())
        ),
        named(
            "tools",
            typical_or_any(
                value()
                    .prop_map(|v| format!(
                        r#"[{{"type":"function","function":{{"name":"f","parameters":{v}}}}}]"#
                    ))
                    .boxed(),
            )
        ),
        named(
            "tool_choice",
            typical_or_any(
                one_of(&[
                    r#"{"type":"function","function":{"name":"f"}}"#,
                    r#""none""#,
                    r#""required""#,
                    r#""auto""#,
                ])
                .boxed(),
            )
        ),
        named(
            "response_format",
            typical_or_any(
                (prop::sample::select(RESPONSE_FORMATS), value())
                    .prop_map(|(t, v)| {
                        format!(r#"{{"type":"{t}","json_schema":{{"name":"s","schema":{v}}}}}"#)
                    })
                    .boxed(),
            )
        ),
        named("metadata", value().boxed()),
        named(
            "stream_options",
            typical_or_any(Just(r#"{"include_usage":true}"#.to_string()).boxed(),)
        ),
        named(
            "usage",
            typical_or_any(Just(r#"{"include":true}"#.to_string()).boxed())
        ),
        named("user", string().boxed()),
        named("messages", value().boxed()),
        named("dimensions", number().boxed()),
        named(
            "encoding_format",
            typical_or_any(Just(r#""float""#.to_string()).boxed())
        ),
        (key(), value()),
    ]
}

fn object(head: String, members: Vec<(String, String)>) -> String {
    let mut body = head;
    for (k, v) in members {
        body.push_str(&format!(",{k}:{v}"));
    }
    body.push('}');
    body
}

/// A chat body: a model and messages, and any members.
fn chat_body() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(message(), 1..4),
        prop::collection::vec(member(), 0..4),
    )
        .prop_map(|(messages, members)| {
            object(
                format!(r#"{{"model":"m","messages":[{}]"#, messages.join(",")),
                members,
            )
        })
}

/// A Messages body: a chat body's messages and members, with `max_tokens`.
fn messages_body() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(message(), 1..4),
        prop::collection::vec(member(), 0..4),
    )
        .prop_map(|(messages, members)| {
            object(
                format!(
                    r#"{{"model":"m","max_tokens":16,"messages":[{}]"#,
                    messages.join(",")
                ),
                members,
            )
        })
}

/// An embeddings body: a model and inputs, and any members.
fn embedding_body() -> impl Strategy<Value = String> {
    let input = prop_oneof![
        3 => string(),
        3 => prop::collection::vec(string(), 1..4).prop_map(|s| format!("[{}]", s.join(","))),
        1 => prop::collection::vec(number(), 1..4).prop_map(|n| format!("[{}]", n.join(","))),
        1 => value(),
    ];
    (input, prop::collection::vec(member(), 0..3))
        .prop_map(|(input, members)| object(format!(r#"{{"model":"m","input":{input}"#), members))
}

/// A client body through the gateway's checks and `kind`'s adapter.
fn through(kind: ProviderKind, op: Operation, body: String) -> Result<(), TestCaseError> {
    let parsed = match op {
        Operation::Chat => parse_chat(Bytes::from(body)),
        Operation::Embeddings => parse_embedding(Bytes::from(body)),
        Operation::Responses => crate::request::parse_responses(Bytes::from(body)),
        Operation::Messages | Operation::CountTokens => {
            crate::request::parse_messages(Bytes::from(body), op == Operation::CountTokens)
        }
    };
    let request = match parsed {
        Ok(request) => request,
        Err(e) => {
            prop_assert!(e.status.is_client_error(), "{}: {}", e.status, e.message);
            return Ok(());
        }
    };
    let target = target(kind, "m", None);
    match target
        .deployment
        .adapter
        .request(op, &target, &request.body, request.stream)
    {
        Ok(upstream) => {
            let read = serde_json::from_slice::<Value>(&upstream.body);
            prop_assert!(
                read.is_ok(),
                "{kind:?}: the upstream body does not read: {read:?}"
            );
        }
        Err(e) => prop_assert!(
            e.status.is_client_error(),
            "{kind:?}: {} {}",
            e.status,
            e.message
        ),
    }
    Ok(())
}

/// A Messages body through the gateway's checks: to Anthropic and Bedrock as it is, to every
/// other adapter through the chat translation.
fn messages_through(body: String) -> Result<(), TestCaseError> {
    let request = match crate::request::parse_messages(Bytes::from(body), false) {
        Ok(request) => request,
        Err(e) => {
            prop_assert!(e.status.is_client_error(), "{}: {}", e.status, e.message);
            return Ok(());
        }
    };
    for kind in [ProviderKind::Anthropic, ProviderKind::Bedrock] {
        let target = target(kind, "anthropic.m", None);
        let upstream = target.deployment.adapter.request(
            Operation::Messages,
            &target,
            &request.body,
            request.stream,
        );
        prop_assert!(upstream.is_ok(), "{kind:?}: passed through");
    }
    match crate::messages::to_chat::translate(&request.body) {
        Ok(chat) => {
            let text = String::from_utf8(chat.with_changes(&[])).unwrap_or_default();
            for kind in KINDS {
                through(*kind, Operation::Chat, text.clone())?;
            }
        }
        Err(e) => prop_assert!(e.status.is_client_error(), "{}: {}", e.status, e.message),
    }
    Ok(())
}

/// What a provider might send: its events and bodies with any values, JSON of any
/// shape, and bytes.
fn upstream() -> impl Strategy<Value = Vec<u8>> {
    let templates = prop::sample::select(TEMPLATES);
    prop_oneof![
        (templates, prop::collection::vec(value(), 3)).prop_map(|(t, holes)| {
            let mut text = t.to_string();
            for hole in holes {
                text = text.replacen('$', &hole, 1);
            }
            text.replace('$', "null").into_bytes()
        }),
        value().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
        Just(b"[DONE]".to_vec()),
    ]
}

fn event_name() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(EVENT_NAMES))
}

/// Upstream bytes through `kind`'s readers: never a panic.
fn read_upstream(kind: ProviderKind, body: &[u8], events: &[(Option<&str>, Vec<u8>)], status: u16) {
    let target = target(kind, "m", None);
    let adapter = target.deployment.adapter;
    for op in [Operation::Chat, Operation::Embeddings] {
        let _ = adapter.response(op, &target, Bytes::copy_from_slice(body));
    }
    let mut state = StreamState::default();
    for (event, data) in events {
        let data = String::from_utf8_lossy(data);
        let _ = adapter.stream_event(
            &target,
            &mut state,
            UpstreamEvent {
                event: *event,
                data: &data,
            },
        );
    }
    let _ = adapter.stream_end(&mut state);
    // The Messages API's own readers, for the providers that speak it.
    let mut state = StreamState::default();
    for (event, data) in events {
        let data = String::from_utf8_lossy(data);
        let event = UpstreamEvent {
            event: *event,
            data: &data,
        };
        let _ = match kind {
            ProviderKind::Bedrock => super::bedrock::invoke_event(&mut state, event),
            _ => super::anthropic::passthrough_event(&mut state, event),
        };
    }
    let _ = adapter.response(Operation::Messages, &target, Bytes::copy_from_slice(body));
    if let Ok(status) = StatusCode::from_u16(status) {
        let _ = adapter.error(&target, status, &HeaderMap::new(), body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn openai_chat_bodies_are_served_or_refused_with_a_4xx(body in chat_body()) {
        through(ProviderKind::OpenAi, Operation::Chat, body)?;
    }

    #[test]
    fn azure_chat_bodies_are_served_or_refused_with_a_4xx(body in chat_body()) {
        through(ProviderKind::Azure, Operation::Chat, body)?;
    }

    #[test]
    fn anthropic_chat_bodies_are_served_or_refused_with_a_4xx(body in chat_body()) {
        through(ProviderKind::Anthropic, Operation::Chat, body)?;
    }

    #[test]
    fn gemini_chat_bodies_are_served_or_refused_with_a_4xx(body in chat_body()) {
        through(ProviderKind::Gemini, Operation::Chat, body)?;
    }

    #[test]
    fn bedrock_chat_bodies_are_served_or_refused_with_a_4xx(body in chat_body()) {
        through(ProviderKind::Bedrock, Operation::Chat, body)?;
    }

    #[test]
    fn messages_bodies_are_served_or_refused_with_a_4xx(body in messages_body()) {
        messages_through(body)?;
    }

    #[test]
    fn embedding_bodies_are_served_or_refused_with_a_4xx_by_every_adapter(body in embedding_body()) {
        for kind in KINDS {
            through(*kind, Operation::Embeddings, body.clone())?;
        }
    }

    #[test]
    fn upstream_bytes_are_read_or_malformed_by_every_adapter(
        body in upstream(),
        events in prop::collection::vec((event_name(), upstream()), 0..6),
        status in 400u16..600,
    ) {
        for kind in KINDS {
            read_upstream(*kind, &body, &events, status);
        }
    }
}
