//! One replay of a trace on a virtual clock, through the gateway's own routing: the
//! model table built from the configuration as `serve` builds it, [`routing::plan`]
//! with the policy under test, the walk of [`Attempts`] with its breakers and
//! provider waits, and [`MemoryCapacity`]'s reservations, settled to the tokens used
//! when each request ends. Only the network is simulated ([`Upstreams`]).
//!
//! Events happen in time order: a request's arrival, each of its attempts (a failed
//! one hands over to the next after it has cost its time), and its end. Requests in
//! flight overlap as they do in a gateway; the clock only jumps between events.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meridian_core::Secret;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::{CapacityKind, Config, Deployment};
use meridian_core::usage::TokenUsage;
use meridian_gateway::capacity::{CapacityStore, MemoryCapacity};
use meridian_gateway::routing::{self, Attempt, Attempts, Controls, Customer, Outcome, Policy};
use meridian_gateway::targets::{LiveDeployment, ModelRoute, TableError, Target};
use meridian_gateway::{ModelTable, tokens};

use crate::report::{PoolInfo, RunReport, Tally};
use crate::trace::{Line, Request};
use crate::upstream::{Answer, Upstreams};

/// A request on its way: its plan being walked.
struct Pending<'t> {
    request: &'t Request,
    route: Arc<ModelRoute>,
    attempts: Attempts,
    /// An attempt that failed, recorded when its time has passed.
    failed: Option<(Attempt, Outcome)>,
}

/// A request being served, until its last token.
struct Serving {
    attempt: Attempt,
    tokens: u64,
}

enum Event<'t> {
    Walk(Box<Pending<'t>>),
    Done(Box<Serving>),
}

/// An event at `at_us` on the replay's clock; `seq` keeps ties in scheduling order.
struct Timed<'t> {
    at_us: u64,
    seq: u64,
    event: Event<'t>,
}

impl PartialEq for Timed<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.at_us, self.seq) == (other.at_us, other.seq)
    }
}
impl Eq for Timed<'_> {}
impl PartialOrd for Timed<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at_us, self.seq).cmp(&(other.at_us, other.seq))
    }
}

struct Replay<'t> {
    config: &'t Config,
    policy: Policy,
    table: ModelTable,
    capacity: MemoryCapacity,
    upstreams: Upstreams,
    tally: Tally,
    /// The replay clock's zero.
    start: Instant,
    queue: BinaryHeap<Reverse<Timed<'t>>>,
    seq: u64,
}

/// Replays `trace` under `policy`. `speed`: how many times faster than real time the
/// clock may run (`None`: as fast as the machine goes).
pub fn replay(
    config: &Config,
    catalog: &PriceCatalog,
    trace: &[Line],
    policy: Policy,
    speed: Option<f64>,
) -> Result<RunReport, TableError> {
    let credential = |_: &Deployment| Some(Secret::new("simulated"));
    let table = ModelTable::build(config, catalog, &credential)?;
    let deployments = table.deployments();
    let start = Instant::now();
    let mut replay = Replay {
        config,
        policy,
        capacity: MemoryCapacity::for_config(config, start),
        upstreams: Upstreams::new(&deployments),
        tally: Tally::new(pool_infos(config)),
        table,
        start,
        queue: BinaryHeap::new(),
        seq: 0,
    };
    let wall = Instant::now();
    let mut lines = trace.iter().peekable();
    loop {
        let line_us = lines.peek().map(|l| l.t_ms() * 1000);
        let event_us = replay.queue.peek().map(|Reverse(t)| t.at_us);
        let at_us = match (line_us, event_us) {
            (None, None) => break,
            (Some(l), Some(e)) => l.min(e),
            (Some(t), None) | (None, Some(t)) => t,
        };
        if let Some(speed) = speed {
            pace(wall, at_us, speed);
        }
        if event_us == Some(at_us) {
            let Some(Reverse(timed)) = replay.queue.pop() else {
                break;
            };
            replay.handle(timed.event, at_us);
        } else if let Some(line) = lines.next() {
            match line {
                Line::Request(request) => replay.arrive(request, at_us),
                Line::Fault(fault) => replay.upstreams.take_down(fault.t_ms, &fault.outage),
            }
        }
    }
    let span_ms = trace.last().map_or(0, Line::t_ms);
    let spills: Vec<(u64, u64)> = spill_counters(&deployments, config.deployments.len());
    Ok(replay
        .tally
        .report(span_ms, &spills, replay.upstreams.throttled))
}

/// Sleeps until the wall clock has caught up with the replay's at `speed`.
fn pace(wall: Instant, at_us: u64, speed: f64) {
    let due = Duration::from_secs_f64(at_us as f64 / 1e6 / speed);
    let ahead = due.saturating_sub(wall.elapsed());
    if ahead > Duration::from_millis(1) {
        std::thread::sleep(ahead);
    }
}

fn pool_infos(config: &Config) -> Vec<PoolInfo> {
    config
        .deployments
        .iter()
        .map(|d| PoolInfo {
            id: d.id.clone(),
            region: d.region.clone(),
            reserved_tpm: (d.kind == CapacityKind::Reserved).then(|| d.tpm.unwrap_or(0)),
        })
        .collect()
}

fn spill_counters(deployments: &[Arc<LiveDeployment>], pools: usize) -> Vec<(u64, u64)> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut spills = vec![(0, 0); pools];
    for d in deployments {
        spills[d.pool] = (
            d.counters.spilled_in.load(Relaxed),
            d.counters.spilled_out.load(Relaxed),
        );
    }
    spills
}

/// What admission reserves for `request` on `target`: its prompt and its output cap
/// (the gateway's rule, [`tokens::output_cap`]).
fn demand(request: &Request, target: &Target) -> u64 {
    request.prompt_tokens + tokens::output_cap(request.max_tokens, target.price.max_output_tokens)
}

impl<'t> Replay<'t> {
    fn at(&self, at_us: u64) -> Instant {
        self.start + Duration::from_micros(at_us)
    }

    fn schedule(&mut self, at_us: u64, event: Event<'t>) {
        self.seq += 1;
        self.queue.push(Reverse(Timed {
            at_us,
            seq: self.seq,
            event,
        }));
    }

    fn arrive(&mut self, request: &'t Request, at_us: u64) {
        self.tally.arrived();
        let placement = &self.config.placement;
        let Some(route) = self.table.resolve(&request.model) else {
            self.tally.failed(request.t_ms);
            return;
        };
        let Some(admitted) = placement.admitted(request.residency.as_deref()) else {
            self.tally.failed(request.t_ms);
            return;
        };
        let customer = Customer {
            home_region: placement.home_region(request.home_region.as_deref(), &admitted),
            admitted,
        };
        let plan = routing::plan(
            std::slice::from_ref(&route),
            &customer,
            &Controls::none(),
            self.policy,
            &self.capacity,
            self.at(at_us),
        );
        match plan {
            Ok(plan) => self.walk(
                Box::new(Pending {
                    request,
                    route,
                    attempts: Attempts::new(plan),
                    failed: None,
                }),
                at_us,
            ),
            Err(_) => self.tally.failed(request.t_ms),
        }
    }

    fn handle(&mut self, event: Event<'t>, at_us: u64) {
        match event {
            Event::Walk(mut pending) => {
                if let Some((attempt, outcome)) = pending.failed.take() {
                    self.capacity.settle(&attempt.reservation, 0);
                    attempt.finish(outcome, self.at(at_us));
                }
                self.walk(pending, at_us);
            }
            Event::Done(serving) => {
                self.capacity
                    .settle(&serving.attempt.reservation, serving.tokens);
            }
        }
    }

    /// Takes `pending` to its next attempt at `at_us`.
    fn walk(&mut self, mut pending: Box<Pending<'t>>, at_us: u64) {
        let now = self.at(at_us);
        let request = pending.request;
        let next = pending
            .attempts
            .next(&self.capacity, |t| demand(request, t), now);
        let Some(attempt) = next else {
            let skipped = pending.attempts.skipped;
            if skipped.room_in.is_some() || skipped.healthy_in.is_some() {
                let while_room = self.had_room(&pending, now);
                self.tally.refused(request.t_ms, while_room);
            } else {
                self.tally.failed(request.t_ms);
            }
            return;
        };
        let d = attempt.target.deployment.clone();
        let t_ms = at_us / 1000;
        let answer = self.upstreams.call(
            &d,
            request.prompt_tokens,
            request.completion_tokens,
            t_ms,
            now,
        );
        match answer {
            Answer::Unreachable { after } => {
                pending.failed = Some((attempt, Outcome::Failed));
                self.schedule(at_us + micros(after), Event::Walk(pending));
            }
            Answer::Throttled { after, retry_after } => {
                pending.failed = Some((attempt, Outcome::Throttled(retry_after)));
                self.schedule(at_us + micros(after), Event::Walk(pending));
            }
            Answer::Served { first_byte, done } => {
                d.health.observe_latency(first_byte);
                attempt.finish(Outcome::Answered, now + first_byte);
                pending.attempts.served(&attempt);
                let usage = TokenUsage {
                    prompt: request.prompt_tokens,
                    completion: request.completion_tokens,
                    ..TokenUsage::default()
                };
                let tokens = usage.prompt + usage.completion;
                let queueing = u32::try_from(t_ms - request.t_ms).unwrap_or(u32::MAX);
                self.tally.served(
                    d.pool,
                    t_ms,
                    tokens,
                    attempt.target.price.cost(&usage),
                    queueing,
                );
                self.schedule(
                    at_us + micros(done),
                    Event::Done(Box::new(Serving { attempt, tokens })),
                );
            }
        }
    }

    /// Whether a deployment the request may use had room for it at `now` and was not
    /// known to be down: a 429 then would break the policy's promise.
    fn had_room(&self, pending: &Pending<'_>, now: Instant) -> bool {
        let request = pending.request;
        pending.route.targets.iter().any(|t| {
            let d = &t.deployment;
            let ((requests, tokens), cap) = self.capacity.used(d.pool, now);
            let eligible = self
                .config
                .placement
                .admitted(request.residency.as_deref())
                .is_some_and(|a| a.admits(&d.region))
                && (self.policy.lend_across_regions
                    || d.kind == CapacityKind::OnDemand
                    || request.home_region.as_deref() == Some(d.region.as_str()));
            eligible
                && !d.health.is_open()
                && cap.rpm.is_none_or(|rpm| requests < rpm)
                && cap.tpm.is_none_or(|tpm| tokens + demand(request, t) <= tpm)
        })
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
