//! The usage event: what the gateway tells metering about one request. Counts and
//! durations only; no field can hold prompt or completion content.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CustomerId, KeyId, RequestId};

/// Token counts as OpenAI's usage object defines them: `cached` and `cache_write` are
/// parts of `prompt`, `reasoning` is a part of `completion`. `None` means the
/// provider did not report the kind, which is not the same as zero.
///
/// `cache_write` is every token written to a prompt cache; `cache_write_1h` is the
/// part of it written with a 1-hour lifetime (Anthropic's `ttl: "1h"`), priced apart
/// from the 5-minute writes that make up the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt: u64,
    pub completion: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<u64>,
}

/// One request's metering record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub request_id: RequestId,
    pub customer_id: CustomerId,
    pub key_id: Option<KeyId>,
    /// Public model id (`openai/gpt-4o-mini`), or `-` when the request named no known model.
    pub model: String,
    pub provider: String,
    pub deployment: String,
    pub region: String,
    /// The price-catalog entry the request was priced at (`gpt-4o-mini`,
    /// `azure/eu/gpt-4o`); empty when no deployment served it.
    #[serde(default)]
    pub catalog_key: String,
    pub time: DateTime<Utc>,
    pub tokens: TokenUsage,
    /// The list-price cost shown to the client; zero for errors.
    pub cost: Decimal,
    pub latency_us: u64,
    pub ttft_us: Option<u64>,
    /// HTTP status returned to the client (499: the client went away first). Only 2xx
    /// is billed, and streams cut short ([`UsageEvent::estimated`]).
    pub status: u16,
    /// The token counts were not all reported by the provider: the stream ended (the
    /// client left, or the provider broke it off) before its usage, so what was
    /// generated was counted with the model's tokenizer. The provider charges for
    /// those tokens, so they are billed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl UsageEvent {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the event's tokens and cost are billed: a success, or a stream cut
    /// short, whose tokens the provider charges (other errors carry none).
    pub fn is_billed(&self) -> bool {
        self.is_success() || self.estimated
    }

    /// Appends the event as one JSON object, byte for byte what `serde_json` writes
    /// for it (a test holds that), at about half the cost: this runs once per request
    /// on the request path (the usage journal), where serializing the event with
    /// serde_json, escaping every key and id, was ~8% of the gateway's instructions.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use std::io::Write;

        fn uuid(out: &mut Vec<u8>, id: uuid::Uuid) {
            out.push(b'"');
            out.extend_from_slice(
                id.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    .as_bytes(),
            );
            out.push(b'"');
        }
        fn text(out: &mut Vec<u8>, s: &str) {
            // Writing a string to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }

        out.extend_from_slice(b"{\"request_id\":");
        uuid(out, self.request_id.0);
        out.extend_from_slice(b",\"customer_id\":");
        uuid(out, self.customer_id.0);
        out.extend_from_slice(b",\"key_id\":");
        match self.key_id {
            Some(id) => uuid(out, id.0),
            None => out.extend_from_slice(b"null"),
        }
        for (key, value) in [
            (&b",\"model\":"[..], &self.model),
            (b",\"provider\":", &self.provider),
            (b",\"deployment\":", &self.deployment),
            (b",\"region\":", &self.region),
            (b",\"catalog_key\":", &self.catalog_key),
        ] {
            out.extend_from_slice(key);
            text(out, value);
        }
        let time = self
            .time
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let t = &self.tokens;
        let _ = write!(
            out,
            ",\"time\":\"{time}\",\"tokens\":{{\"prompt\":{},\"completion\":{}",
            t.prompt, t.completion
        );
        for (key, value) in [
            (&b",\"cached\":"[..], t.cached),
            (b",\"cache_write\":", t.cache_write),
            (b",\"cache_write_1h\":", t.cache_write_1h),
            (b",\"reasoning\":", t.reasoning),
        ] {
            if let Some(n) = value {
                out.extend_from_slice(key);
                let _ = write!(out, "{n}");
            }
        }
        let _ = write!(
            out,
            "}},\"cost\":\"{}\",\"latency_us\":{},\"ttft_us\":",
            self.cost, self.latency_us
        );
        match self.ttft_us {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.extend_from_slice(b"null"),
        }
        let _ = write!(out, ",\"status\":{}", self.status);
        if self.estimated {
            out.extend_from_slice(b",\"estimated\":true");
        }
        out.push(b'}');
    }
}

/// Where the gateway hands usage events. `record` returns once the event is durable
/// enough to survive a crash of this process, and must never wait on the database.
pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, event: UsageEvent) -> Result<(), UsageSinkError>;

    /// Takes the event without making it durable yet. [`UsageSink::make_durable`]
    /// does that for it and for every event staged meanwhile, so that requests which
    /// finish in the same turn of the scheduler share one write.
    fn stage(&self, event: UsageEvent) -> Result<Staged, UsageSinkError>;

    /// Returns once the staged event is as durable as [`UsageSink::record`] makes
    /// it, or fails if it never will be (it is then not counted).
    fn make_durable(&self, staged: Staged) -> Result<(), UsageSinkError>;
}

/// An event taken by [`UsageSink::stage`]: the batch it is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staged(pub u64);

#[derive(Debug, thiserror::Error)]
pub enum UsageSinkError {
    #[error("usage journal write failed: {0}")]
    Journal(#[from] std::io::Error),
    #[error("usage sink is shut down")]
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = UsageEvent> {
        let ids = (any::<u128>(), any::<u128>(), any::<Option<u128>>());
        let names = prop::collection::vec("\\PC{0,6}|[\"\\\\\u{0}-\u{1f}]{0,3}|-", 5);
        let time = (0i64..4_102_444_800, 0u32..1_000_000_000, 0usize..4);
        let counts = (
            any::<u64>(),
            any::<u64>(),
            any::<[Option<u64>; 4]>(),
            any::<u64>(),
            any::<Option<u64>>(),
            any::<u16>(),
            any::<bool>(),
        );
        let cost = (any::<i64>(), 0u32..=28);
        (ids, names, time, counts, cost).prop_map(
            |(
                (r, c, k),
                names,
                (secs, nanos, precision),
                (p, cp, [ca, cw, cw1, re], l, tt, st, est),
                (m, sc),
            )| {
                // Whole seconds, milliseconds, microseconds or nanoseconds, as clocks give.
                let nanos = nanos - nanos % [1_000_000_000, 1_000_000, 1_000, 1][precision];
                UsageEvent {
                    request_id: RequestId(uuid::Uuid::from_u128(r)),
                    customer_id: CustomerId(uuid::Uuid::from_u128(c)),
                    key_id: k.map(|k| KeyId(uuid::Uuid::from_u128(k))),
                    model: names[0].clone(),
                    provider: names[1].clone(),
                    deployment: names[2].clone(),
                    region: names[3].clone(),
                    catalog_key: names[4].clone(),
                    time: Utc.timestamp_opt(secs, nanos % 1_000_000_000).unwrap(),
                    tokens: TokenUsage {
                        prompt: p,
                        completion: cp,
                        cached: ca,
                        cache_write: cw,
                        cache_write_1h: cw1,
                        reasoning: re,
                    },
                    cost: Decimal::new(m, sc),
                    latency_us: l,
                    ttft_us: tt,
                    status: st,
                    estimated: est,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn write_json_is_what_serde_json_writes(e in event()) {
            let mut ours = Vec::new();
            e.write_json(&mut ours);
            let theirs = serde_json::to_vec(&e).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }
}
