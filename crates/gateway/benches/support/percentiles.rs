//! The percentile pass of the gateway's benches: after criterion's mean, 200,000
//! single runs of one operation, and a `RESULT` line with p50, p99 and p99.9 against
//! the p99 target.

use std::time::{Duration, Instant};

/// Runs `op` 10,000 times to warm up, then times 200,000 single runs and prints the
/// `RESULT` line for `what`.
pub fn report(what: &str, target_p99: Duration, mut op: impl FnMut()) {
    for _ in 0..10_000 {
        op();
    }
    let mut samples: Vec<Duration> = (0..200_000)
        .map(|_| {
            let start = Instant::now();
            op();
            start.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let (p50, p99, p999) = (at(0.50), at(0.99), at(0.999));
    println!(
        "RESULT {what}: p50 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs (target p99 ≤ {} µs: {})",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        p999.as_secs_f64() * 1e6,
        target_p99.as_micros(),
        if p99 <= target_p99 { "met" } else { "MISSED" }
    );
}
