//! Every metric of the gateway, named once, rendered in the Prometheus text format at
//! `/metrics`. Labels are fixed sets (operation, status class, provider), never
//! anything a client sends.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use meridian_core::config::ProviderKind;

use crate::providers::Operation;

const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
pub struct Metrics {
    /// meridian_requests_total{operation, status}
    requests: [[AtomicU64; 5]; 2],
    /// meridian_upstream_failures_total{provider}: attempts that moved to the next deployment or failed.
    upstream_failures: [AtomicU64; ProviderKind::ALL.len()],
    /// meridian_requests_in_flight: `/v1` requests being served (streams until they end).
    in_flight: Arc<AtomicU64>,
}

/// One request counted in `meridian_requests_in_flight` while it lives (a stream's
/// body holds it until the stream ends).
pub struct InFlight(Arc<AtomicU64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn op_index(op: Operation) -> usize {
    match op {
        Operation::Chat => 0,
        Operation::Embeddings => 1,
    }
}

fn provider_index(p: ProviderKind) -> usize {
    ProviderKind::ALL.iter().position(|k| *k == p).unwrap_or(0)
}

impl Metrics {
    pub fn request(&self, op: Operation, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[op_index(op)][class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn upstream_failure(&self, provider: ProviderKind) {
        self.upstream_failures[provider_index(provider)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request as in flight until the returned guard drops.
    pub fn enter(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.in_flight.clone())
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP meridian_requests_total Requests to /v1 by operation and response status class.\n");
        out.push_str("# TYPE meridian_requests_total counter\n");
        for (op, name) in [(0, "chat"), (1, "embeddings")] {
            for (class, label) in STATUS_CLASSES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "meridian_requests_total{{operation=\"{name}\",status=\"{label}\"}} {}",
                    self.requests[op][class].load(Ordering::Relaxed)
                );
            }
        }
        out.push_str("# HELP meridian_upstream_failures_total Upstream attempts that failed (connection, timeout, 429, 5xx).\n");
        out.push_str("# TYPE meridian_upstream_failures_total counter\n");
        for (i, p) in ProviderKind::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "meridian_upstream_failures_total{{provider=\"{p}\"}} {}",
                self.upstream_failures[i].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP meridian_requests_in_flight Requests to /v1 being served (streams until they end).\n");
        out.push_str("# TYPE meridian_requests_in_flight gauge\n");
        let _ = writeln!(out, "meridian_requests_in_flight {}", self.in_flight());
        out
    }
}
