//! `meridian simulate`: replays a traffic trace through the gateway's own routing
//! (admission, policy, failover and breakers) on a virtual clock, against simulated
//! deployments with the configured capacities, once with the routing policy and once
//! with the baseline (each region only on its own reserved pools, then on demand), and
//! reports both. `meridian simulate generate` writes a trace.

pub mod generate;
pub mod replay;
pub mod report;
pub mod trace;
mod upstream;

use meridian_core::catalog::PriceCatalog;
use meridian_core::config::Config;
use meridian_gateway::routing::Policy;
use meridian_gateway::targets::TableError;

pub use report::Comparison;

/// The policy and the baseline over one trace, side by side (one thread each).
pub fn compare(
    config: &Config,
    catalog: &PriceCatalog,
    trace: &[trace::Line],
    speed: Option<f64>,
) -> Result<Comparison, TableError> {
    let baseline = Policy {
        lend_across_regions: false,
    };
    std::thread::scope(|s| {
        let policy = s.spawn(|| replay::replay(config, catalog, trace, Policy::default(), speed));
        let baseline = replay::replay(config, catalog, trace, baseline, speed)?;
        let policy = policy.join().expect("the policy's replay")?;
        Ok(Comparison { policy, baseline })
    })
}
