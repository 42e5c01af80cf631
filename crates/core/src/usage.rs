//! The usage event: what the gateway tells metering about one request. Counts and
//! durations only; no field can hold prompt or completion content.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CustomerId, KeyId, RequestId};

/// Token counts as OpenAI's usage object defines them: `cached` and `cache_write` are
/// parts of `prompt`, `reasoning` is a part of `completion`. `None` means the
/// provider did not report the kind, which is not the same as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt: u64,
    pub completion: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<u64>,
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
    /// HTTP status returned to the client; only 2xx is billed.
    pub status: u16,
}

impl UsageEvent {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Where the gateway hands usage events. `record` returns once the event is durable
/// enough to survive a crash of this process, and must never wait on the database.
pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, event: UsageEvent) -> Result<(), UsageSinkError>;
}

#[derive(Debug, thiserror::Error)]
pub enum UsageSinkError {
    #[error("usage journal write failed: {0}")]
    Journal(#[from] std::io::Error),
    #[error("usage sink is shut down")]
    Closed,
}
