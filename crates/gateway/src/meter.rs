//! Builds the one usage event of a request and hands it to the sink exactly once,
//! also when the request ends early (a request dropped before its answer records
//! status 499; a stream cut short is billed at its counted tokens, [`Meter::cut_short`]).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use meridian_core::{CustomerId, KeyId, RequestId, Staged, TokenUsage, UsageEvent, UsageSink};
use rust_decimal::Decimal;

use crate::capacity::{CapacityStore, Reservation};
use crate::limits::{Admission, Limiter};
use crate::targets::Target;

/// HTTP status recorded when the client goes away before the response is complete.
pub const CLIENT_CLOSED: u16 = 499;

pub struct Meter {
    sink: Arc<dyn UsageSink>,
    event: Option<UsageEvent>,
    started: Instant,
    request_id: RequestId,
    /// The capacity the attempt being served reserved, settled with the event.
    reserved: Option<(Arc<dyn CapacityStore>, Reservation)>,
    /// What the key's and customer's limits and budgets admitted, settled with the
    /// event.
    admitted: Option<(Arc<dyn Limiter>, Admission)>,
    time: DateTime<Utc>,
}

impl Meter {
    pub fn new(
        sink: Arc<dyn UsageSink>,
        request_id: RequestId,
        customer_id: CustomerId,
        key_id: KeyId,
        time: DateTime<Utc>,
        started: Instant,
    ) -> Self {
        let unknown = || "-".to_string();
        Self {
            sink,
            started,
            request_id,
            reserved: None,
            admitted: None,
            time,
            event: Some(UsageEvent {
                request_id,
                customer_id,
                key_id: Some(key_id),
                model: unknown(),
                provider: unknown(),
                deployment: unknown(),
                region: unknown(),
                catalog_key: String::new(),
                time,
                tokens: TokenUsage::default(),
                cost: Decimal::ZERO,
                latency_us: 0,
                ttft_us: None,
                status: 0,
                estimated: false,
            }),
        }
    }

    pub fn set_model(&mut self, public_id: &str) {
        if let Some(e) = &mut self.event {
            e.model = public_id.to_string();
        }
    }

    /// Names the deployment that served (or last failed) the request.
    pub fn set_target(&mut self, target: &Target) {
        if let Some(e) = &mut self.event {
            e.model.clone_from(&target.model);
            e.provider = target.deployment.provider.as_str().to_string();
            e.deployment = target.deployment.id.clone();
            e.region = target.deployment.region.clone();
            e.catalog_key = target.price.catalog_key.clone();
        }
    }

    /// Moves the pending event into a new meter (for a stream that outlives the
    /// handler); this one then records nothing.
    /// A meter that records nothing (a request that is not usage), while still
    /// settling the capacity its attempts reserved.
    pub fn unmetered(mut self) -> Meter {
        self.event = None;
        self
    }

    pub fn hand_over(&mut self) -> Meter {
        Meter {
            sink: self.sink.clone(),
            event: self.event.take(),
            started: self.started,
            request_id: self.request_id,
            reserved: self.reserved.take(),
            admitted: self.admitted.take(),
            time: self.time,
        }
    }

    /// Whether the event is still to be recorded.
    pub fn is_pending(&self) -> bool {
        self.event.is_some()
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// When the request began: the time of its usage event.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// Holds what the limiter admitted until the request ends.
    pub fn set_admission(&mut self, limiter: Arc<dyn Limiter>, admission: Admission) {
        self.admitted = Some((limiter, admission));
    }

    /// Holds the capacity an attempt reserved until the request ends; an earlier
    /// attempt's reservation is settled as having used no tokens (its request still
    /// counts: the provider saw it).
    pub fn set_reservation(&mut self, store: Arc<dyn CapacityStore>, reservation: Reservation) {
        if let Some((store, earlier)) = self.reserved.replace((store, reservation)) {
            store.settle(&earlier, 0);
        }
    }

    /// The request's id, for log lines.
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }

    /// Records a billed success. Returns false when the event could not be made
    /// durable.
    pub fn success(&mut self, tokens: TokenUsage, cost: Decimal, ttft_us: Option<u64>) -> bool {
        self.finish(200, tokens, cost, ttft_us, false)
    }

    /// Takes a billed success without making it durable yet: the caller makes it
    /// durable (`UsageSink::make_durable`) before the client gets its answer. `None`
    /// when it could not be taken.
    pub fn stage_success(&mut self, tokens: TokenUsage, cost: Decimal) -> Option<Staged> {
        let event = self.completed(200, tokens, cost, None)?;
        self.sink
            .stage(event)
            .inspect_err(|e| tracing::error!(error = %e, "usage event could not be recorded"))
            .ok()
    }

    /// Records an unbilled failure.
    pub fn failure(&mut self, status: u16) -> bool {
        self.finish(status, TokenUsage::default(), Decimal::ZERO, None, false)
    }

    /// Records a stream whose usage the provider never reported, billed at `tokens`
    /// that Meridian counted (at least in part) and marked as estimated: `status` 499
    /// when the client left, 502/504 when the provider broke the stream off, 200 when
    /// it ended without usage.
    pub fn estimated(
        &mut self,
        status: u16,
        tokens: TokenUsage,
        cost: Decimal,
        ttft_us: Option<u64>,
    ) -> bool {
        self.finish(status, tokens, cost, ttft_us, true)
    }

    /// The pending event, completed; `None` once taken.
    fn completed(
        &mut self,
        status: u16,
        tokens: TokenUsage,
        cost: Decimal,
        ttft_us: Option<u64>,
    ) -> Option<UsageEvent> {
        if let Some((store, reservation)) = self.reserved.take() {
            store.settle(&reservation, tokens.prompt + tokens.completion);
        }
        if let Some((limiter, admission)) = self.admitted.take() {
            limiter.settle(&admission, tokens.prompt + tokens.completion, cost);
        }
        let mut event = self.event.take()?;
        event.status = status;
        event.tokens = tokens;
        event.cost = cost;
        event.ttft_us = ttft_us;
        event.latency_us = self.started.elapsed().as_micros() as u64;
        Some(event)
    }

    fn finish(
        &mut self,
        status: u16,
        tokens: TokenUsage,
        cost: Decimal,
        ttft_us: Option<u64>,
        estimated: bool,
    ) -> bool {
        let Some(mut event) = self.completed(status, tokens, cost, ttft_us) else {
            return true;
        };
        event.estimated = estimated;
        match self.sink.record(event) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "usage event could not be recorded");
                false
            }
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if self.event.is_some() || self.reserved.is_some() {
            self.failure(CLIENT_CLOSED);
        }
    }
}
