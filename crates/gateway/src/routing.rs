//! The routing policy: which deployments may serve a request, in which order they are
//! tried, and what each attempt's outcome does to the deployment's health.
//!
//! For each model the request may be served by (its `model`, then each of `models`):
//! 1. only deployments in a region the customer's residency admits, narrowed by the
//!    request's routing controls (`provider.only`, `ignore`, `max_price`,
//!    `data_collection`);
//! 2. in tiers: reserved pools in the customer's home region; reserved pools in other
//!    regions (follow the sun: a region at night has the most idle capacity to lend);
//!    on-demand in the home region; on-demand elsewhere;
//! 3. within a tier, the reserved pool with the most headroom first (the larger
//!    unused share of its `rpm` or `tpm`, whichever is tighter); on-demand
//!    deployments in configuration order.
//!
//! `provider.sort` puts its criterion before the tiers; `provider.order` puts the
//! deployments it names first, in its order, and with `allow_fallbacks: false` nothing
//! else. Residency is a filter, never a preference: nothing widens it.
//!
//! [`Attempts`] walks the plan: each deployment is admitted by its health (breaker,
//! provider's retry-after) and then by its capacity (a reservation); [`Attempt::finish`]
//! records the outcome. The proxy and `meridian simulate` drive the same walk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meridian_core::config::{Admitted, CapacityKind};
use rust_decimal::Decimal;

use crate::capacity::{CapacityStore, Reservation};
use crate::error::ApiError;
use crate::health::Admit;
use crate::metrics::DeploymentCounters;
use crate::targets::{LiveDeployment, ModelRoute, Target};

/// How a request asked to be routed (OpenRouter's members; consumed, never
/// forwarded). The default leaves the policy as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Controls {
    /// Fallback models, tried in order after the request's `model`.
    pub models: Vec<String>,
    /// Deployment ids or provider names tried first, in this order.
    pub order: Vec<String>,
    /// Deployment ids or provider names the request may be served by (empty: any).
    pub only: Vec<String>,
    pub ignore: Vec<String>,
    pub allow_fallbacks: bool,
    pub sort: Option<Sort>,
    /// Highest list price accepted, USD per 1M tokens.
    pub max_price: MaxPrice,
    /// `data_collection: "deny"`: no deployment whose provider may keep the data.
    pub deny_data_collection: bool,
}

impl Controls {
    pub fn none() -> Self {
        Self {
            allow_fallbacks: true,
            ..Self::default()
        }
    }

    fn names(list: &[String], d: &LiveDeployment) -> bool {
        list.iter().any(|n| *n == d.id || n == d.provider.as_str())
    }

    fn position_in_order(&self, d: &LiveDeployment) -> Option<usize> {
        self.order
            .iter()
            .position(|n| *n == d.id || n == d.provider.as_str())
    }

    fn admits(&self, t: &Target) -> bool {
        let d = &t.deployment;
        (self.only.is_empty() || Self::names(&self.only, d))
            && !Self::names(&self.ignore, d)
            && !(self.deny_data_collection && d.collects_data)
            && self.max_price.admits(t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// The lowest list price (prompt plus completion per token) first.
    Price,
    /// The lowest recent time to first byte first (unmeasured deployments first, so
    /// that they get measured).
    Latency,
    /// The most tokens per minute to spare first (unlimited pools first).
    Throughput,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaxPrice {
    pub prompt: Option<Decimal>,
    pub completion: Option<Decimal>,
}

impl MaxPrice {
    fn admits(&self, t: &Target) -> bool {
        let per_million = |p: Option<Decimal>| p.unwrap_or_default() * Decimal::from(1_000_000);
        self.prompt
            .is_none_or(|max| per_million(t.price.input) <= max)
            && self
                .completion
                .is_none_or(|max| per_million(t.price.output) <= max)
    }
}

/// Where the customer's traffic may go and where it comes from.
#[derive(Debug, Clone)]
pub struct Customer<'a> {
    pub admitted: Admitted<'a>,
    pub home_region: Option<&'a str>,
}

/// Switches of the policy, for comparing it with simpler ones (`meridian simulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Reserved pools of other regions lend their idle capacity (follow the sun).
    pub lend_across_regions: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            lend_across_regions: true,
        }
    }
}

/// The tier of a deployment for one customer, in the order tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    HomeReserved,
    LentReserved,
    HomeOnDemand,
    OnDemand,
}

/// A deployment in the plan.
pub struct Candidate {
    pub target: Arc<Target>,
    pub tier: Tier,
}

/// Why a request has no deployment at all (before any is tried).
#[derive(Debug)]
pub enum NoRoute {
    /// The customer's residency value is not in `[residency]`.
    ResidencyNotConfigured,
    /// No deployment of the model is in a region the residency admits.
    OutsideResidency,
    /// The routing controls left nothing.
    ExcludedByControls,
}

impl NoRoute {
    pub fn error(&self, model: &str, residency: Option<&str>) -> ApiError {
        let residency = residency.unwrap_or("any");
        match self {
            NoRoute::ResidencyNotConfigured => ApiError::residency_unavailable(format!(
                "Your account's data residency (`{residency}`) is not served by this gateway; contact support."
            )),
            NoRoute::OutsideResidency => ApiError::residency_unavailable(format!(
                "No deployment of `{model}` is in a region your data residency (`{residency}`) admits."
            )),
            NoRoute::ExcludedByControls => ApiError::invalid_request(format!(
                "The routing controls (`provider`) leave no deployment of `{model}` to serve the request."
            )),
        }
    }
}

/// A pool's unused share of its tighter limit, 0..=1 (1 for an unlimited pool).
fn headroom(capacity: &dyn CapacityStore, pool: usize, now: Instant) -> f64 {
    let ((requests, tokens), cap) = capacity.used(pool, now);
    let share = |used: u64, limit: Option<u64>| match limit {
        Some(0) => 0.0,
        Some(limit) => 1.0 - (used as f64 / limit as f64).min(1.0),
        None => 1.0,
    };
    share(requests, cap.rpm).min(share(tokens, cap.tpm))
}

/// Tokens a pool can still take this minute (`u64::MAX` when unlimited).
fn spare_tokens(capacity: &dyn CapacityStore, pool: usize, now: Instant) -> u64 {
    let ((_, tokens), cap) = capacity.used(pool, now);
    cap.tpm.map_or(u64::MAX, |tpm| tpm.saturating_sub(tokens))
}

/// Orders the deployments of `routes` (the request's model, then its fallbacks) for
/// `customer`.
pub fn plan(
    routes: &[Arc<ModelRoute>],
    customer: &Customer<'_>,
    controls: &Controls,
    policy: Policy,
    capacity: &dyn CapacityStore,
    now: Instant,
) -> Result<Vec<Candidate>, NoRoute> {
    let mut plan = Vec::new();
    let mut in_residency = false;
    for route in routes {
        let mut candidates = Vec::new();
        for target in &route.targets {
            let d = &target.deployment;
            if !customer.admitted.admits(&d.region) {
                continue;
            }
            in_residency = true;
            if !controls.admits(target) {
                continue;
            }
            let home = customer.home_region == Some(d.region.as_str());
            let tier = match (d.kind, home) {
                (CapacityKind::Reserved, true) => Tier::HomeReserved,
                (CapacityKind::Reserved, false) if policy.lend_across_regions => Tier::LentReserved,
                (CapacityKind::Reserved, false) => continue,
                (CapacityKind::OnDemand, true) => Tier::HomeOnDemand,
                (CapacityKind::OnDemand, false) => Tier::OnDemand,
            };
            candidates.push(Candidate {
                target: target.clone(),
                tier,
            });
        }
        plan.extend(ordered(candidates, controls, capacity, now));
    }
    if !controls.allow_fallbacks {
        if controls.order.is_empty() {
            plan.truncate(1);
        } else {
            plan.retain(|c| controls.position_in_order(&c.target.deployment).is_some());
        }
    }
    match (plan.is_empty(), in_residency) {
        (false, _) => Ok(plan),
        (true, true) => Err(NoRoute::ExcludedByControls),
        (true, false) => Err(NoRoute::OutsideResidency),
    }
}

/// One model's candidates in the order tried: `order`'s position, then `sort`'s
/// criterion, then the tier, then headroom (reserved pools only; the sort is stable,
/// so on-demand deployments keep their configuration order).
fn ordered(
    candidates: Vec<Candidate>,
    controls: &Controls,
    capacity: &dyn CapacityStore,
    now: Instant,
) -> impl Iterator<Item = Candidate> {
    #[derive(PartialEq, PartialOrd)]
    struct Key {
        order: usize,
        sort: f64,
        tier: Tier,
        headroom: f64,
    }
    let key = |c: &Candidate| {
        let d = &c.target.deployment;
        let sort = match controls.sort {
            None => 0.0,
            Some(Sort::Price) => {
                let p = &c.target.price;
                let per_token = p.input.unwrap_or_default() + p.output.unwrap_or_default();
                f64::try_from(per_token).unwrap_or(f64::MAX)
            }
            Some(Sort::Latency) => d.health.latency().map_or(0.0, |l| l.as_secs_f64()),
            Some(Sort::Throughput) => -(spare_tokens(capacity, d.pool, now) as f64),
        };
        let headroom = match d.kind {
            CapacityKind::Reserved => -headroom(capacity, d.pool, now),
            CapacityKind::OnDemand => 0.0,
        };
        Key {
            order: controls.position_in_order(d).unwrap_or(usize::MAX),
            sort,
            tier: c.tier,
            headroom,
        }
    };
    let mut keyed: Vec<(Key, Candidate)> = candidates.into_iter().map(|c| (key(&c), c)).collect();
    keyed.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    keyed.into_iter().map(|(_, c)| c)
}

/// When the deployments skipped may take the request: the earliest of those without
/// room (or resting after a provider's 429), and of those whose breaker is open.
#[derive(Debug, Default, Clone, Copy)]
pub struct Skipped {
    pub room_in: Option<Duration>,
    pub healthy_in: Option<Duration>,
}

impl Skipped {
    fn note(slot: &mut Option<Duration>, wait: Duration) {
        *slot = Some(slot.map_or(wait, |w| w.min(wait)));
    }
}

/// The plan being walked.
pub struct Attempts {
    plan: std::vec::IntoIter<Candidate>,
    /// The deployment the policy put first, for the spill counters.
    first_choice: Option<Arc<LiveDeployment>>,
    pub skipped: Skipped,
}

/// An admitted attempt: its deployment, and the capacity it reserved.
pub struct Attempt {
    pub target: Arc<Target>,
    pub reservation: Reservation,
    pub tier: Tier,
    probe: bool,
}

/// How an attempt ended, as far as the deployment's health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The deployment answered (a success, or a refusal of the request itself).
    Answered,
    /// The provider answered 429 and asked to wait this long.
    Throttled(Duration),
    /// A connection error, a timeout or a 5xx.
    Failed,
    /// Nothing was sent (the adapter refused the request for this provider).
    NotSent,
}

impl Attempts {
    pub fn new(plan: Vec<Candidate>) -> Self {
        Self {
            first_choice: plan.first().map(|c| c.target.deployment.clone()),
            plan: plan.into_iter(),
            skipped: Skipped::default(),
        }
    }

    /// The next deployment that its health and its capacity admit, with `demand`
    /// tokens reserved; `None` when the plan is exhausted.
    pub fn next(
        &mut self,
        capacity: &dyn CapacityStore,
        demand: impl Fn(&Target) -> u64,
        now: Instant,
    ) -> Option<Attempt> {
        for Candidate { target, tier } in self.plan.by_ref() {
            let d = &target.deployment;
            let probe = match d.health.admit(now) {
                Admit::Yes => false,
                Admit::Probe => true,
                Admit::No { until, resting } => {
                    DeploymentCounters::count(&d.counters.health_skips);
                    let slot = if resting {
                        &mut self.skipped.room_in
                    } else {
                        &mut self.skipped.healthy_in
                    };
                    Skipped::note(slot, until.saturating_duration_since(now));
                    continue;
                }
            };
            match capacity.reserve(d.pool, demand(&target), now) {
                Ok(reservation) => {
                    return Some(Attempt {
                        target,
                        reservation,
                        tier,
                        probe,
                    });
                }
                Err(full) => {
                    DeploymentCounters::count(&d.counters.capacity_skips);
                    if probe {
                        d.health.release_probe();
                    }
                    Skipped::note(&mut self.skipped.room_in, full.retry_after);
                }
            }
        }
        None
    }

    /// Counts a request served by `attempt` away from the deployment the policy put
    /// first: spilled out of that one, into this one.
    pub fn served(&self, attempt: &Attempt) {
        let served = &attempt.target.deployment;
        if let Some(first) = &self.first_choice
            && first.pool != served.pool
        {
            DeploymentCounters::count(&first.counters.spilled_out);
            DeploymentCounters::count(&served.counters.spilled_in);
        }
    }
}

impl Attempt {
    /// Records the outcome in the deployment's health. Returns whether it opened the
    /// breaker.
    pub fn finish(&self, outcome: Outcome, now: Instant) -> bool {
        let d = &self.target.deployment;
        match outcome {
            Outcome::Answered => {
                d.health.succeeded();
                false
            }
            Outcome::Throttled(wait) => {
                DeploymentCounters::count(&d.counters.upstream_429);
                d.health.rest(now, wait);
                false
            }
            Outcome::Failed => d.health.failed(now),
            Outcome::NotSent => {
                if self.probe {
                    d.health.release_probe();
                }
                false
            }
        }
    }
}
