//! The Responses API passed through to OpenAI and Azure, which speak it: what the
//! gateway reads of their answers (the usage, for metering; in a stream also the
//! generated text, to bill a stream cut short) while their bytes go to the client as
//! they are. A stream's last event (`response.completed`, or `response.incomplete`)
//! carries the usage: it is metered before it is passed on, with the exact cost added
//! when the client asked for usage. An `error` or `response.failed` event is replaced
//! by Meridian's own `error` event (the provider's message may quote the prompt).

use std::borrow::Cow;

use bytes::Bytes;
use meridian_core::TokenUsage;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::object;
use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use crate::providers::{Malformed, Operation, StreamOut, StreamState, UpstreamEvent};
use crate::stream::StreamFormat;
use crate::targets::Target;

/// The Responses API's usage object.
#[derive(Debug, Deserialize)]
struct Usage {
    input_tokens: u64,
    output_tokens: u64,
    input_tokens_details: Option<InputDetails>,
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Debug, Deserialize)]
struct InputDetails {
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct OutputDetails {
    reasoning_tokens: Option<u64>,
}

impl From<Usage> for TokenUsage {
    fn from(u: Usage) -> Self {
        TokenUsage {
            prompt: u.input_tokens,
            completion: u.output_tokens,
            cached: u.input_tokens_details.and_then(|d| d.cached_tokens),
            cache_write: None,
            cache_write_1h: None,
            reasoning: u.output_tokens_details.and_then(|d| d.reasoning_tokens),
        }
    }
}

#[derive(Deserialize)]
struct WithUsage {
    usage: Option<Usage>,
}

/// The usage of a whole `response`.
pub fn usage(body: &[u8]) -> Result<TokenUsage, Malformed> {
    let parsed: WithUsage = serde_json::from_slice(body).map_err(|_| Malformed)?;
    Ok(parsed.usage.map(Into::into).unwrap_or_default())
}

/// What the gateway reads of a stream event.
#[derive(Deserialize)]
struct EventHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    sequence_number: Option<u64>,
    #[serde(default, borrow)]
    delta: Option<Cow<'a, str>>,
    response: Option<WithUsage>,
}

/// The pass-through stream format.
pub struct Passthrough {
    /// The sequence number the next event of Meridian's own would take.
    next_sequence: u64,
    /// Whether the client asked for usage (then `usage.cost` is added).
    wants_usage: bool,
}

impl Passthrough {
    pub fn new(wants_usage: bool) -> Self {
        Self {
            next_sequence: 0,
            wants_usage,
        }
    }
}

impl StreamFormat for Passthrough {
    fn operation(&self) -> Operation {
        Operation::Responses
    }

    fn read(
        &mut self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        let head: EventHead = serde_json::from_str(event.data).map_err(|_| Malformed)?;
        if let Some(n) = head.sequence_number {
            self.next_sequence = n + 1;
        }
        let usage = head.response.and_then(|r| r.usage).map(TokenUsage::from);
        if let Some(usage) = usage {
            state.usage = usage;
            state.usage_seen = true;
        }
        let provider = target.deployment.provider.as_str();
        Ok(match &*head.kind {
            "response.output_text.delta"
            | "response.refusal.delta"
            | "response.function_call_arguments.delta"
            | "response.reasoning_summary_text.delta"
            | "response.reasoning_text.delta" => {
                if let Some(delta) = &head.delta {
                    state.generated.push_str(delta);
                }
                StreamOut::Forward
            }
            "response.completed" | "response.incomplete" => match usage {
                Some(usage) => StreamOut::Many(vec![
                    StreamOut::Usage {
                        usage,
                        chunk: serde_json::from_str(event.data).map_err(|_| Malformed)?,
                    },
                    StreamOut::Done,
                ]),
                None => StreamOut::Many(vec![StreamOut::Forward, StreamOut::Done]),
            },
            "response.failed" | "error" => StreamOut::Error(ApiError::upstream_status(
                provider,
                http::StatusCode::INTERNAL_SERVER_ERROR,
            )),
            _ => StreamOut::Forward,
        })
    }

    /// The last event, passed on with `usage.cost` in its response when asked.
    fn usage(
        &mut self,
        mut chunk: Map<String, Value>,
        _usage: &TokenUsage,
        cost: Decimal,
    ) -> Bytes {
        let kind = chunk
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("response.completed")
            .to_string();
        if !self.wants_usage {
            let json = serde_json::to_vec(&chunk).unwrap_or_default();
            return crate::stream::sse_event(&kind, &json);
        }
        let response = match chunk.remove("response") {
            Some(Value::Object(response)) => response,
            _ => Map::new(),
        };
        let response = String::from_utf8(with_usage_cost(response, cost)).unwrap_or_default();
        let sequence = chunk
            .get("sequence_number")
            .and_then(Value::as_u64)
            .unwrap_or(self.next_sequence);
        crate::stream::sse_event(&kind, &object::with_response(&kind, sequence, response))
    }

    /// The stream ends with its last event; Responses streams have no `[DONE]`.
    fn done(&mut self) -> Bytes {
        Bytes::new()
    }

    fn error(&mut self, error: &ApiError) -> Bytes {
        object::error_event(self.next_sequence, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::target;
    use meridian_core::config::ProviderKind;

    #[test]
    fn usage_is_read_from_the_response_and_its_last_event() {
        let body = br#"{"id":"resp_1","object":"response","usage":{"input_tokens":36,
            "input_tokens_details":{"cached_tokens":12},"output_tokens":87,
            "output_tokens_details":{"reasoning_tokens":40},"total_tokens":123}}"#;
        let u = usage(body).unwrap();
        assert_eq!(
            (u.prompt, u.cached, u.completion, u.reasoning),
            (36, Some(12), 87, Some(40))
        );

        let t = target(ProviderKind::OpenAi, "gpt-4o", None);
        let mut state = StreamState::default();
        let mut format = Passthrough::new(false);
        let mut read = |data: &str| {
            format
                .read(&t, &mut state, UpstreamEvent { event: None, data })
                .unwrap()
        };
        assert!(matches!(
            read(r#"{"type":"response.output_text.delta","sequence_number":4,"delta":"CANARY"}"#),
            StreamOut::Forward
        ));
        let last = read(
            r#"{"type":"response.completed","sequence_number":5,"response":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        );
        let StreamOut::Many(outs) = last else {
            panic!("usage and end")
        };
        assert!(
            matches!(&outs[..], [StreamOut::Usage { usage, .. }, StreamOut::Done]
            if usage.prompt == 3 && usage.completion == 1)
        );
        assert!(matches!(
            read(r#"{"type":"error","sequence_number":6,"message":"CANARY"}"#),
            StreamOut::Error(e) if !e.message.contains("CANARY")
        ));
        assert_eq!(state.generated, "CANARY");
    }

    #[test]
    fn the_last_event_gets_the_exact_cost_when_asked() {
        let chunk: Map<String, Value> = serde_json::from_str(
            r#"{"type":"response.completed","sequence_number":9,"response":{"id":"r","usage":{"input_tokens":3}}}"#,
        )
        .unwrap();
        let cost = Decimal::new(45, 5);
        let bytes = Passthrough::new(true).usage(chunk.clone(), &TokenUsage::default(), cost);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            text.starts_with("event: response.completed\ndata: "),
            "{text}"
        );
        let data: Value =
            serde_json::from_str(text.lines().nth(1).unwrap().strip_prefix("data: ").unwrap())
                .unwrap();
        assert_eq!(data["sequence_number"], 9);
        assert_eq!(data["response"]["usage"]["cost"].to_string(), "0.00045");
        let bytes = Passthrough::new(false).usage(chunk, &TokenUsage::default(), cost);
        assert!(!String::from_utf8(bytes.to_vec()).unwrap().contains("cost"));
    }
}
