//! What a replay counted, and its report: the run's totals (the Contract's `--json`
//! fields), each reserved pool's, and each hour's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

const HOUR_MS: u64 = 3_600_000;
const MINUTE_MS: f64 = 60_000.0;

/// One deployment as the report shows it.
pub struct PoolInfo {
    pub id: String,
    pub region: String,
    /// Tokens per minute, for a reserved pool.
    pub reserved_tpm: Option<u64>,
}

#[derive(Default, Clone)]
struct HourTally {
    /// Tokens served by each deployment (by pool index).
    tokens: Vec<u64>,
    client_429: u64,
    failed: u64,
    /// Time lost before the attempt that served, per request served, ms.
    queueing_ms: Vec<u32>,
    on_demand_cost: Decimal,
}

/// Counts as the replay goes.
pub struct Tally {
    pools: Vec<PoolInfo>,
    hours: Vec<HourTally>,
    requests: u64,
    client_429_while_room: u64,
    billed: Decimal,
}

impl Tally {
    /// `pools` by pool index.
    pub fn new(pools: Vec<PoolInfo>) -> Self {
        Self {
            pools,
            hours: Vec::new(),
            requests: 0,
            client_429_while_room: 0,
            billed: Decimal::ZERO,
        }
    }

    fn hour(&mut self, t_ms: u64) -> &mut HourTally {
        let hour = usize::try_from(t_ms / HOUR_MS).unwrap_or(usize::MAX);
        if self.hours.len() <= hour {
            let empty = HourTally {
                tokens: vec![0; self.pools.len()],
                ..HourTally::default()
            };
            self.hours.resize(hour + 1, empty);
        }
        &mut self.hours[hour]
    }

    pub fn arrived(&mut self) {
        self.requests += 1;
    }

    /// A request served by `pool` with `tokens` (prompt and completion) at list price
    /// `cost`, after `queueing_ms` lost on earlier attempts; `t_ms` is when it was sent.
    pub fn served(&mut self, pool: usize, t_ms: u64, tokens: u64, cost: Decimal, queueing_ms: u32) {
        let reserved = self.pools[pool].reserved_tpm.is_some();
        self.billed += cost;
        let hour = self.hour(t_ms);
        hour.tokens[pool] += tokens;
        hour.queueing_ms.push(queueing_ms);
        if !reserved {
            hour.on_demand_cost += cost;
        }
    }

    /// The client got a 429; `while_room`: some eligible pool had room for it then.
    pub fn refused(&mut self, t_ms: u64, while_room: bool) {
        self.hour(t_ms).client_429 += 1;
        self.client_429_while_room += u64::from(while_room);
    }

    /// The client got another error (every eligible deployment failed).
    pub fn failed(&mut self, t_ms: u64) {
        self.hour(t_ms).failed += 1;
    }

    /// The report of a run that lasted `span_ms`, with each pool's spill counters and
    /// the upstreams' 429s.
    pub fn report(mut self, span_ms: u64, spills: &[(u64, u64)], upstream_429: u64) -> RunReport {
        let span_ms = span_ms.max(1);
        self.hour(span_ms.saturating_sub(1));
        let minutes = |from_ms: u64, to_ms: u64| (to_ms.min(span_ms) - from_ms) as f64 / MINUTE_MS;
        let share = |part: u64, whole: f64| {
            if whole > 0.0 {
                part as f64 / whole
            } else {
                0.0
            }
        };
        let reserved: Vec<usize> = (0..self.pools.len())
            .filter(|&p| self.pools[p].reserved_tpm.is_some())
            .collect();
        let capacity_per_minute = |pools: &[usize]| {
            pools
                .iter()
                .filter_map(|&p| self.pools[p].reserved_tpm)
                .sum::<u64>() as f64
        };
        let tokens_of = |pool: usize| self.hours.iter().map(|h| h.tokens[pool]).sum::<u64>();
        let all_tokens: u64 = (0..self.pools.len()).map(tokens_of).sum();
        let reserved_tokens: u64 = reserved.iter().map(|&p| tokens_of(p)).sum();
        let run_minutes = minutes(0, span_ms);

        let mut regions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &p in &reserved {
            regions
                .entry(self.pools[p].region.as_str())
                .or_default()
                .push(p);
        }
        let hours = self
            .hours
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let from = i as u64 * HOUR_MS;
                let m = minutes(from, from + HOUR_MS);
                let served: u64 = h.tokens.iter().sum();
                let reserved_served: u64 = reserved.iter().map(|&p| h.tokens[p]).sum();
                let mut queue = h.queueing_ms.clone();
                queue.sort_unstable();
                HourReport {
                    hour: i as u64,
                    reserved_utilization: share(
                        reserved_served,
                        capacity_per_minute(&reserved) * m,
                    ),
                    by_region: regions
                        .iter()
                        .map(|(region, pools)| {
                            let used = pools.iter().map(|&p| h.tokens[p]).sum();
                            (
                                region.to_string(),
                                share(used, capacity_per_minute(pools) * m),
                            )
                        })
                        .collect(),
                    on_demand_share: share(served - reserved_served, served as f64),
                    client_429: h.client_429,
                    failed: h.failed,
                    queue_p50_ms: percentile(&queue, 0.50),
                    queue_p99_ms: percentile(&queue, 0.99),
                    cost_usd: h.on_demand_cost.normalize(),
                }
            })
            .collect();
        RunReport {
            reserved_utilization: share(
                reserved_tokens,
                capacity_per_minute(&reserved) * run_minutes,
            ),
            on_demand_share: share(all_tokens - reserved_tokens, all_tokens as f64),
            client_429: self.hours.iter().map(|h| h.client_429).sum(),
            client_429_while_room: self.client_429_while_room,
            upstream_429,
            cost_usd: self
                .hours
                .iter()
                .map(|h| h.on_demand_cost)
                .sum::<Decimal>()
                .normalize(),
            billed_usd: self.billed.normalize(),
            requests: self.requests,
            failed: self.hours.iter().map(|h| h.failed).sum(),
            pools: reserved
                .iter()
                .map(|&p| PoolReport {
                    id: self.pools[p].id.clone(),
                    region: self.pools[p].region.clone(),
                    reserved_utilization: share(
                        tokens_of(p),
                        capacity_per_minute(&[p]) * run_minutes,
                    ),
                    spilled_in: spills[p].0,
                    spilled_out: spills[p].1,
                })
                .collect(),
            on_demand: (0..self.pools.len())
                .filter(|p| !reserved.contains(p))
                .map(|p| OnDemandReport {
                    id: self.pools[p].id.clone(),
                    region: self.pools[p].region.clone(),
                    tokens: tokens_of(p),
                    spilled_in: spills[p].0,
                })
                .collect(),
            hours,
        }
    }
}

fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// One run (the policy, or the baseline). The first six fields and `pools` are the
/// Contract's; the others say more.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Tokens served from reserved pools over their `tpm` × minutes of the run.
    pub reserved_utilization: f64,
    /// Tokens served on demand over all tokens served.
    pub on_demand_share: f64,
    /// 429s the clients got.
    pub client_429: u64,
    /// Of those, 429s while some eligible pool had room (the policy's promise: 0).
    pub client_429_while_room: u64,
    /// 429s the deployments answered to attempts the gateway admitted.
    pub upstream_429: u64,
    /// What serving beyond the reserved pools cost: on-demand tokens at list price
    /// (the reserved pools are paid for either way).
    pub cost_usd: Decimal,
    /// Every token served at list price: what customers are billed.
    pub billed_usd: Decimal,
    pub requests: u64,
    /// Requests that got an error other than 429 (every eligible deployment failed).
    pub failed: u64,
    pub pools: Vec<PoolReport>,
    pub on_demand: Vec<OnDemandReport>,
    pub hours: Vec<HourReport>,
}

#[derive(Debug, Serialize)]
pub struct PoolReport {
    pub id: String,
    pub region: String,
    pub reserved_utilization: f64,
    pub spilled_in: u64,
    pub spilled_out: u64,
}

#[derive(Debug, Serialize)]
pub struct OnDemandReport {
    pub id: String,
    pub region: String,
    pub tokens: u64,
    pub spilled_in: u64,
}

#[derive(Debug, Serialize)]
pub struct HourReport {
    /// Hours from the start of the trace.
    pub hour: u64,
    pub reserved_utilization: f64,
    /// Reserved utilization of each region's pools.
    pub by_region: BTreeMap<String, f64>,
    pub on_demand_share: f64,
    pub client_429: u64,
    pub failed: u64,
    /// Time lost on attempts before the one that served (connect timeouts on a
    /// deployment that is down, a provider's 429), p50 and p99 of the hour.
    pub queue_p50_ms: u32,
    pub queue_p99_ms: u32,
    pub cost_usd: Decimal,
}

/// Both runs of one trace.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub policy: RunReport,
    pub baseline: RunReport,
}

impl Comparison {
    /// The routing issue's targets, each with whether it was met.
    pub fn targets(&self) -> Vec<(String, bool)> {
        let (p, b) = (&self.policy, &self.baseline);
        vec![
            (
                format!(
                    "reserved utilization ≥ 90% with the policy: {:.1}% (baseline {:.1}%)",
                    p.reserved_utilization * 100.0,
                    b.reserved_utilization * 100.0
                ),
                p.reserved_utilization >= 0.90,
            ),
            (
                format!(
                    "0 client 429s while an eligible pool had room: {} (of {} client 429s)",
                    p.client_429_while_room, p.client_429
                ),
                p.client_429_while_room == 0,
            ),
            (
                format!(
                    "cost lower than the baseline: ${} against ${}",
                    p.cost_usd.round_dp(2),
                    b.cost_usd.round_dp(2)
                ),
                p.cost_usd < b.cost_usd,
            ),
        ]
    }

    /// The tables `meridian simulate` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, run) in [("policy", &self.policy), ("baseline", &self.baseline)] {
            render_run(&mut out, name, run);
        }
        out.push_str("targets\n");
        for (target, met) in self.targets() {
            let _ = writeln!(out, "  [{}] {target}", if met { "met" } else { "MISSED" });
        }
        out
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn render_run(out: &mut String, name: &str, run: &RunReport) {
    let _ = writeln!(
        out,
        "{name}: {} requests, reserved utilization {}, on-demand share {}, client 429 {}, upstream 429 {}, other errors {}, on-demand cost ${}, billed ${}",
        run.requests,
        pct(run.reserved_utilization),
        pct(run.on_demand_share),
        run.client_429,
        run.upstream_429,
        run.failed,
        run.cost_usd.round_dp(2),
        run.billed_usd.round_dp(2),
    );
    let _ = writeln!(
        out,
        "  {:<28} {:<14} {:>8} {:>10} {:>11}",
        "pool", "region", "util", "spilled in", "spilled out"
    );
    for p in &run.pools {
        let _ = writeln!(
            out,
            "  {:<28} {:<14} {:>8} {:>10} {:>11}",
            p.id,
            p.region,
            pct(p.reserved_utilization),
            p.spilled_in,
            p.spilled_out
        );
    }
    for d in &run.on_demand {
        let _ = writeln!(
            out,
            "  {:<28} {:<14} {:>8} {:>10} {:>11}",
            d.id, d.region, "on-demand", d.spilled_in, "-"
        );
    }
    let regions: Vec<&String> = run
        .hours
        .first()
        .map(|h| h.by_region.keys().collect())
        .unwrap_or_default();
    let _ = write!(out, "  {:>4}", "hour");
    for r in &regions {
        let _ = write!(out, " {:>13}", r);
    }
    let _ = writeln!(
        out,
        " {:>9} {:>5} {:>6} {:>13} {:>10}",
        "on-demand", "429", "errors", "queue p50/p99", "cost $"
    );
    for h in &run.hours {
        let _ = write!(out, "  {:>4}", h.hour);
        for r in &regions {
            let _ = write!(out, " {:>13}", pct(h.by_region[*r]));
        }
        let _ = writeln!(
            out,
            " {:>9} {:>5} {:>6} {:>13} {:>10}",
            pct(h.on_demand_share),
            h.client_429,
            h.failed,
            format!("{}/{} ms", h.queue_p50_ms, h.queue_p99_ms),
            h.cost_usd.round_dp(2)
        );
    }
    out.push('\n');
}
