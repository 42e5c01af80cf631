//! The Messages API passed through to Anthropic, which speaks it (directly, or on
//! Bedrock's InvokeModel, whose events are written again as SSE events, since they
//! come as event-stream frames): its events go to the client as they are, in
//! Anthropic's order (`message_start` with the prompt's
//! usage, `content_block_*`, `ping`, `message_delta` with the final usage,
//! `message_stop`). `message_delta` is metered before it is passed on, with the exact
//! cost added to its `usage` when the client asked for usage; an `error` event is
//! replaced by Meridian's own (the provider's message may quote the prompt).

use bytes::Bytes;
use meridian_core::TokenUsage;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use meridian_core::config::ProviderKind;

use crate::providers::{
    Malformed, Operation, StreamOut, StreamState, UpstreamEvent, anthropic, bedrock,
};
use crate::stream::{StreamFormat, sse_event};
use crate::targets::Target;

/// The pass-through stream format.
pub struct Passthrough {
    /// Whether the client asked for usage (then `usage.cost` is added).
    pub wants_usage: bool,
}

impl StreamFormat for Passthrough {
    fn operation(&self) -> Operation {
        Operation::Messages
    }

    fn read(
        &mut self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        match target.deployment.provider {
            ProviderKind::Bedrock => bedrock::invoke_event(state, event),
            _ => anthropic::passthrough_event(state, event),
        }
    }

    /// An event that came in another framing (Bedrock's), as an SSE event; Bedrock's
    /// own metrics are left out.
    fn chunk(&mut self, mut chunk: Map<String, Value>) -> Bytes {
        chunk.remove("amazon-bedrock-invocationMetrics");
        let name = chunk
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message")
            .to_string();
        sse_event(&name, &serde_json::to_vec(&chunk).unwrap_or_default())
    }

    /// `message_delta`, with `usage.cost` when asked.
    fn usage(&mut self, chunk: Map<String, Value>, _: &TokenUsage, cost: Decimal) -> Bytes {
        message_delta(chunk, cost, self.wants_usage)
    }

    /// The stream ends with `message_stop`, passed on as it came.
    fn done(&mut self) -> Bytes {
        Bytes::new()
    }

    fn error(&mut self, error: &ApiError) -> Bytes {
        error_event(error)
    }
}

/// A `message_delta` event, with `usage.cost` when the client asked for usage.
pub fn message_delta(chunk: Map<String, Value>, cost: Decimal, wants_usage: bool) -> Bytes {
    let json = if wants_usage {
        with_usage_cost(chunk, cost)
    } else {
        serde_json::to_vec(&chunk).unwrap_or_default()
    };
    sse_event("message_delta", &json)
}

/// The `error` event that ends a stream, in Anthropic's shape.
pub fn error_event(error: &ApiError) -> Bytes {
    sse_event(
        "error",
        &serde_json::to_vec(&error.anthropic_body()).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::target;
    use meridian_core::config::ProviderKind;

    /// Anthropic's streaming guide, with cache reads and writes: every event is
    /// forwarded, the usage is `message_start`'s prompt and `message_delta`'s output.
    #[test]
    fn events_pass_and_the_usage_is_read_on_the_way() {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let mut state = StreamState::default();
        let mut format = Passthrough { wants_usage: false };
        let mut read = |data: &str| {
            format
                .read(&t, &mut state, UpstreamEvent { event: None, data })
                .unwrap()
        };
        assert!(matches!(
            read(
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":25,"cache_read_input_tokens":100,"cache_creation_input_tokens":50,"output_tokens":1}}}"#
            ),
            StreamOut::Forward
        ));
        assert!(matches!(
            read(
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#
            ),
            StreamOut::Forward
        ));
        assert!(matches!(
            read(
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"CANARY "}}"#
            ),
            StreamOut::Forward
        ));
        assert!(matches!(
            read(
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#
            ),
            StreamOut::Forward
        ));
        assert!(matches!(read(r#"{"type":"ping"}"#), StreamOut::Forward));
        assert!(matches!(
            read(
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}"#
            ),
            StreamOut::Forward
        ));
        let StreamOut::Usage { usage, chunk } = read(
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
        ) else {
            panic!("the final usage")
        };
        assert_eq!(
            usage,
            TokenUsage {
                prompt: 175,
                completion: 15,
                cached: Some(100),
                cache_write: Some(50),
                cache_write_1h: None,
                reasoning: None
            }
        );
        let bytes = message_delta(chunk, Decimal::new(45, 5), true);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.starts_with("event: message_delta\ndata: {"), "{text}");
        assert!(
            text.contains(r#""usage":{"output_tokens":15,"cost":0.00045}"#),
            "{text}"
        );
        assert!(matches!(
            read(r#"{"type":"message_stop"}"#),
            StreamOut::Many(outs) if matches!(&outs[..], [StreamOut::Forward, StreamOut::Done])
        ));
        assert_eq!(state.generated, "CANARY Hello");
    }

    #[test]
    fn an_error_event_is_worded_by_meridian() {
        let t = target(ProviderKind::Anthropic, "claude-sonnet-4-5", None);
        let mut state = StreamState::default();
        let out = Passthrough { wants_usage: false }
            .read(
                &t,
                &mut state,
                UpstreamEvent {
                    event: Some("error"),
                    data: r#"{"type":"error","error":{"type":"overloaded_error","message":"CANARY"}}"#,
                },
            )
            .unwrap();
        let StreamOut::Error(error) = out else {
            panic!("an error")
        };
        let text = String::from_utf8(error_event(&error).to_vec()).unwrap();
        assert!(text.starts_with("event: error\ndata: "), "{text}");
        assert!(text.contains(r#""type":"overloaded_error""#), "{text}");
        assert!(!text.contains("CANARY"));
    }
}
