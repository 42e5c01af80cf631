//! Every metric of the gateway, named once, rendered in the Prometheus text format at
//! `/metrics`. Labels are fixed sets (operation, status class, provider), never
//! anything a client sends.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use meridian_core::config::ProviderKind;

use crate::capacity::Capacity;
use crate::providers::Operation;

/// The `status` label: the class of the status, but 499 (the client went away before
/// the answer ended, streams included) apart from the client's other errors.
const STATUS_LABELS: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "499", "5xx"];

fn status_label(status: u16) -> usize {
    match status {
        499 => 4,
        500.. => 5,
        _ => usize::from(status / 100).clamp(1, 4) - 1,
    }
}

#[derive(Default)]
pub struct Metrics {
    /// meridian_requests_total{operation, status}; a stream counts when it ends.
    requests: [[AtomicU64; STATUS_LABELS.len()]; 5],
    /// meridian_upstream_failures_total{provider}: attempts that moved to the next deployment or failed.
    upstream_failures: [AtomicU64; ProviderKind::ALL.len()],
    /// meridian_stream_failures_total{provider}: streams the provider broke off after
    /// the client got its 200 (cut, malformed, silent too long, an error event).
    stream_failures: [AtomicU64; ProviderKind::ALL.len()],
    /// meridian_requests_in_flight: `/v1` requests being served (streams until they end).
    in_flight: Arc<AtomicU64>,
}

/// Counters of one deployment, kept on it (deployments come from the configuration,
/// so their ids are a fixed set of labels).
#[derive(Debug, Default)]
pub struct DeploymentCounters {
    /// meridian_deployment_capacity_skips_total: attempts not made, the pool was full.
    pub capacity_skips: AtomicU64,
    /// meridian_deployment_breaker_skips_total: attempts not made, the breaker was
    /// open or the provider had asked to wait.
    pub health_skips: AtomicU64,
    /// meridian_deployment_upstream_429_total: 429s the provider answered.
    pub upstream_429: AtomicU64,
    /// meridian_deployment_spilled_out_total: requests the policy put on this
    /// deployment first that another one served.
    pub spilled_out: AtomicU64,
    /// meridian_deployment_spilled_in_total: requests this deployment served that the
    /// policy had put on another one first.
    pub spilled_in: AtomicU64,
}

impl DeploymentCounters {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What `/metrics` shows of one deployment.
pub struct DeploymentView<'a> {
    pub id: &'a str,
    pub counters: &'a DeploymentCounters,
    pub breaker_open: bool,
    /// (requests, tokens) in the capacity window, and the capacity.
    pub used: (u64, u64),
    pub capacity: Capacity,
}

/// Appends the per-deployment metrics.
pub fn render_deployments(out: &mut String, deployments: &[DeploymentView<'_>]) {
    let counter =
        |out: &mut String, name: &str, help: &str, value: &dyn Fn(&DeploymentView<'_>) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for d in deployments {
                let _ = writeln!(out, "{name}{{deployment=\"{}\"}} {}", d.id, value(d));
            }
        };
    counter(
        out,
        "meridian_deployment_capacity_skips_total",
        "Attempts not made because the deployment's capacity window was full.",
        &|d| d.counters.capacity_skips.load(Ordering::Relaxed),
    );
    counter(
        out,
        "meridian_deployment_breaker_skips_total",
        "Attempts not made because the deployment's breaker was open or the provider had asked to wait.",
        &|d| d.counters.health_skips.load(Ordering::Relaxed),
    );
    counter(
        out,
        "meridian_deployment_upstream_429_total",
        "429s the deployment's provider answered.",
        &|d| d.counters.upstream_429.load(Ordering::Relaxed),
    );
    counter(
        out,
        "meridian_deployment_spilled_out_total",
        "Requests the routing policy put on the deployment first that another deployment served.",
        &|d| d.counters.spilled_out.load(Ordering::Relaxed),
    );
    counter(
        out,
        "meridian_deployment_spilled_in_total",
        "Requests the deployment served that the routing policy had put on another deployment first.",
        &|d| d.counters.spilled_in.load(Ordering::Relaxed),
    );
    out.push_str("# HELP meridian_deployment_breaker_open Whether the deployment's circuit breaker is open (1) or closed (0).\n# TYPE meridian_deployment_breaker_open gauge\n");
    for d in deployments {
        let _ = writeln!(
            out,
            "meridian_deployment_breaker_open{{deployment=\"{}\"}} {}",
            d.id,
            u8::from(d.breaker_open)
        );
    }
    out.push_str("# HELP meridian_deployment_utilization Share of the deployment's capacity used in the last minute, by limit (deployments with that limit).\n# TYPE meridian_deployment_utilization gauge\n");
    for d in deployments {
        for (limit, used, capacity) in [
            ("requests", d.used.0, d.capacity.rpm),
            ("tokens", d.used.1, d.capacity.tpm),
        ] {
            if let Some(capacity) = capacity.filter(|c| *c > 0) {
                let _ = writeln!(
                    out,
                    "meridian_deployment_utilization{{deployment=\"{}\",limit=\"{limit}\"}} {}",
                    d.id,
                    used as f64 / capacity as f64
                );
            }
        }
    }
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
        Operation::Responses => 2,
        Operation::Messages => 3,
        Operation::CountTokens => 4,
    }
}

fn provider_index(p: ProviderKind) -> usize {
    ProviderKind::ALL.iter().position(|k| *k == p).unwrap_or(0)
}

impl Metrics {
    pub fn request(&self, op: Operation, status: u16) {
        self.requests[op_index(op)][status_label(status)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn upstream_failure(&self, provider: ProviderKind) {
        self.upstream_failures[provider_index(provider)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn stream_failure(&self, provider: ProviderKind) {
        self.stream_failures[provider_index(provider)].fetch_add(1, Ordering::Relaxed);
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
        out.push_str("# HELP meridian_requests_total Requests to /v1 by operation and status class (499: the client left first; streams count when they end).\n");
        out.push_str("# TYPE meridian_requests_total counter\n");
        for (op, name) in [
            (0, "chat"),
            (1, "embeddings"),
            (2, "responses"),
            (3, "messages"),
            (4, "count_tokens"),
        ] {
            for (class, label) in STATUS_LABELS.iter().enumerate() {
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
        out.push_str("# HELP meridian_stream_failures_total Streams the provider broke off after the response began (cut, malformed, silent, error event).\n");
        out.push_str("# TYPE meridian_stream_failures_total counter\n");
        for (i, p) in ProviderKind::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "meridian_stream_failures_total{{provider=\"{p}\"}} {}",
                self.stream_failures[i].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP meridian_requests_in_flight Requests to /v1 being served (streams until they end).\n");
        out.push_str("# TYPE meridian_requests_in_flight gauge\n");
        let _ = writeln!(out, "meridian_requests_in_flight {}", self.in_flight());
        out
    }
}
