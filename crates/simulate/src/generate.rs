//! `meridian simulate generate`: a synthetic trace of customers in the Americas,
//! Europe and Asia, each region busy in its own working hours, with bursts, and one
//! deployment down for half an hour in the middle of the trace.
//!
//! The rates are sized for `bench/simulate/three-regions.toml`: one unit of a region's
//! demand is about 66,000 tokens a minute (its reserved pool takes 50,000).
//! A region's demand is 0.3 units at night, 1.2 in its morning and evening and 2.5 in
//! its working hours, so each region alone leaves its pool idle most of the night while
//! the three together need more than the three pools all day. Requests arrive as a
//! Poisson process at the region's rate of the moment (thinning), with log-normal
//! prompt and completion lengths.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};

use crate::trace::{Fault, Line, Outage, OutageOf, Request};

/// What the generator makes.
#[derive(Debug, Clone)]
pub struct Shape {
    pub hours: u64,
    pub seed: u64,
    /// The deployment taken down in the middle of the trace.
    pub outage: String,
}

/// One region's customers.
struct Region {
    home_region: &'static str,
    /// Hours from UTC of its working day.
    utc_offset: i64,
    /// (residency, share of its customers).
    residencies: &'static [(&'static str, f64)],
}

const REGIONS: [Region; 3] = [
    Region {
        home_region: "us-east",
        utc_offset: -5,
        residencies: &[("any", 0.7), ("us", 0.3)],
    },
    Region {
        home_region: "eu-west",
        utc_offset: 1,
        residencies: &[("any", 0.6), ("eu", 0.4)],
    },
    Region {
        home_region: "ap-northeast",
        utc_offset: 9,
        residencies: &[("any", 0.7), ("apac", 0.3)],
    },
];

const CUSTOMERS_PER_REGION: usize = 10;
const MODEL: &str = "openai/gpt-4o-mini";
/// Requests a minute in one unit of demand (the mean request is about 1,650 tokens).
const UNIT_RPM: f64 = 40.0;
/// A burst multiplies its region's rate for a few minutes.
const BURST_FACTOR: f64 = 3.0;
/// Chance that a region bursts in a given hour.
const BURST_CHANCE: f64 = 0.2;
const OUTAGE_MS: u64 = 30 * 60_000;
const HOUR_MS: u64 = 3_600_000;

/// A region's demand, in units, at `local_hour` (0..24).
fn demand_units(local_hour: i64) -> f64 {
    match local_hour {
        9..=17 => 2.5,
        7..=8 | 18..=20 => 1.2,
        _ => 0.3,
    }
}

/// The trace, in time order.
pub fn generate(shape: &Shape) -> Vec<Line> {
    let mut rng = StdRng::seed_from_u64(shape.seed);
    let end_ms = shape.hours * HOUR_MS;
    let mut requests: Vec<Request> = Vec::new();
    for (r, region) in REGIONS.iter().enumerate() {
        let bursts = bursts(&mut rng, shape.hours);
        let peak_per_ms = 2.5 * BURST_FACTOR * UNIT_RPM / 60_000.0;
        let gap = Exp::new(peak_per_ms).expect("a positive rate");
        let mut t = 0.0;
        loop {
            t += gap.sample(&mut rng);
            let t_ms = t as u64;
            if t_ms >= end_ms {
                break;
            }
            let local_hour = ((t_ms / HOUR_MS) as i64 + region.utc_offset).rem_euclid(24);
            let burst = if bursts.iter().any(|b| b.contains(&t_ms)) {
                BURST_FACTOR
            } else {
                1.0
            };
            let rate = demand_units(local_hour) * burst * UNIT_RPM / 60_000.0;
            if rng.random::<f64>() < rate / peak_per_ms {
                requests.push(request(&mut rng, r, region, t_ms));
            }
        }
    }
    requests.sort_by_key(|r| r.t_ms);
    let outage_at = end_ms / 2;
    let fault = Line::Fault(Fault {
        t_ms: outage_at,
        outage: Outage {
            of: OutageOf::Deployment(shape.outage.clone()),
            duration_ms: OUTAGE_MS,
        },
    });
    let split = requests.partition_point(|r| r.t_ms < outage_at);
    let mut lines: Vec<Line> = Vec::with_capacity(requests.len() + 1);
    let mut requests = requests.into_iter().map(Line::Request);
    lines.extend(requests.by_ref().take(split));
    lines.push(fault);
    lines.extend(requests);
    lines
}

/// When a region bursts: a few minutes in some hours.
fn bursts(rng: &mut StdRng, hours: u64) -> Vec<std::ops::Range<u64>> {
    let mut bursts = Vec::new();
    for h in 0..hours {
        if rng.random_bool(BURST_CHANCE) {
            let from = h * HOUR_MS + rng.random_range(0..50 * 60_000);
            bursts.push(from..from + rng.random_range(2 * 60_000..8 * 60_000));
        }
    }
    bursts
}

fn request(rng: &mut StdRng, r: usize, region: &Region, t_ms: u64) -> Request {
    let n = rng.random_range(0..CUSTOMERS_PER_REGION);
    // The customer's residency is fixed by its number: the first share of them has the
    // first residency, and so on.
    let mut cumulative = 0.0;
    let position = (n as f64 + 0.5) / CUSTOMERS_PER_REGION as f64;
    let residency = region
        .residencies
        .iter()
        .find(|(_, share)| {
            cumulative += share;
            position < cumulative
        })
        .map_or("any", |(name, _)| name);
    let prompt = LogNormal::new(1_000f64.ln(), 0.8).expect("valid");
    let completion = LogNormal::new(220f64.ln(), 0.7).expect("valid");
    let max_tokens = match rng.random_range(0..20) {
        0 => None,
        1..=4 => Some(4_096),
        _ => Some(1_024),
    };
    let cap = max_tokens.unwrap_or(4_096);
    Request {
        t_ms,
        customer: format!("{}-{n}", ["americas", "europe", "asia"][r]),
        home_region: Some(region.home_region.to_string()),
        residency: Some(residency.to_string()),
        model: MODEL.to_string(),
        prompt_tokens: (prompt.sample(rng) as u64).clamp(20, 30_000),
        max_tokens,
        completion_tokens: (completion.sample(rng) as u64).clamp(1, cap),
        stream: rng.random_bool(0.6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(hours: u64) -> Shape {
        Shape {
            hours,
            seed: 7,
            outage: "azure-eu-west-ptu".into(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_trace() {
        assert_eq!(generate(&shape(2)), generate(&shape(2)));
    }

    #[test]
    fn each_region_peaks_in_its_own_working_hours_and_the_outage_is_in_the_middle() {
        let lines = generate(&shape(24));
        assert!(lines.windows(2).all(|w| w[0].t_ms() <= w[1].t_ms()));
        let faults: Vec<u64> = lines
            .iter()
            .filter(|l| matches!(l, Line::Fault(_)))
            .map(Line::t_ms)
            .collect();
        assert_eq!(faults, vec![12 * HOUR_MS]);
        let per_hour = |home: &str, utc_hour: u64| {
            lines
                .iter()
                .filter(|l| match l {
                    Line::Request(r) => {
                        r.home_region.as_deref() == Some(home) && r.t_ms / HOUR_MS == utc_hour
                    }
                    Line::Fault(_) => false,
                })
                .count()
        };
        // 14:00 UTC is Europe's afternoon, New York's morning and Tokyo's night.
        assert!(per_hour("eu-west", 14) > 4 * per_hour("ap-northeast", 14));
        // 03:00 UTC is Tokyo's noon.
        assert!(per_hour("ap-northeast", 3) > 4 * per_hour("eu-west", 3));
        for line in &lines {
            if let Line::Request(r) = line {
                assert!(r.completion_tokens <= r.max_tokens.unwrap_or(4_096));
            }
        }
    }
}
