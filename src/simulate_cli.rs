//! `meridian simulate`: the routing policy against the baseline over a trace, and
//! `meridian simulate generate`, which writes one.

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use meridian::BUNDLED_PRICES;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::Config;
use meridian_simulate::generate::{self, Shape};
use meridian_simulate::trace::{self, Line};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    command: Option<SimulateCommand>,
    /// The gateway configuration whose deployments, capacities and residency are
    /// replayed (e.g. bench/simulate/three-regions.toml).
    #[arg(long, required = true)]
    config: Option<PathBuf>,
    /// The trace (JSON lines, as `simulate generate` writes).
    #[arg(long, required = true)]
    trace: Option<PathBuf>,
    /// Run the replay's clock at most N times faster than real time (default: as fast
    /// as the machine goes).
    #[arg(long)]
    speed: Option<f64>,
    /// Price file in LiteLLM's format (default: the bundled catalog).
    #[arg(long)]
    prices: Option<PathBuf>,
}

#[derive(Subcommand)]
enum SimulateCommand {
    /// Write a synthetic trace: customers in the Americas, Europe and Asia busy in
    /// their own working hours, bursts, and one deployment down for 30 minutes in the
    /// middle.
    Generate {
        #[arg(long, default_value_t = 24)]
        hours: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The deployment the outage takes down.
        #[arg(long, default_value = "azure-eu-west-ptu")]
        outage: String,
    },
}

pub fn run(args: SimulateArgs, json: bool) -> anyhow::Result<()> {
    if let Some(SimulateCommand::Generate {
        hours,
        out,
        seed,
        outage,
    }) = args.command
    {
        return write_trace(
            &Shape {
                hours,
                seed,
                outage,
            },
            &out,
        );
    }
    let (Some(config_path), Some(trace_path)) = (args.config, args.trace) else {
        bail!("`meridian simulate` needs --config and --trace");
    };
    if let Some(speed) = args.speed
        && !(speed.is_finite() && speed > 0.0)
    {
        bail!("--speed must be a positive number, not {speed}");
    }
    let config_text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let config = Config::parse(&config_text)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let prices = match &args.prices {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => BUNDLED_PRICES.to_string(),
    };
    let catalog: PriceCatalog = prices.parse().context("reading the price file")?;
    let file = std::fs::File::open(&trace_path)
        .with_context(|| format!("reading {}", trace_path.display()))?;
    let lines = trace::read(BufReader::new(file))
        .with_context(|| format!("reading {}", trace_path.display()))?;
    let comparison = meridian_simulate::compare(&config, &catalog, &lines, args.speed)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", comparison.render());
    }
    Ok(())
}

fn write_trace(shape: &Shape, out: &PathBuf) -> anyhow::Result<()> {
    if shape.hours == 0 {
        bail!("--hours must be at least 1");
    }
    let lines = generate::generate(shape);
    let file = std::fs::File::create(out).with_context(|| format!("writing {}", out.display()))?;
    trace::write(&lines, &mut BufWriter::new(file))
        .with_context(|| format!("writing {}", out.display()))?;
    let requests = lines
        .iter()
        .filter(|l| matches!(l, Line::Request(_)))
        .count();
    println!(
        "wrote {requests} requests over {} h and an outage of {} to {}",
        shape.hours,
        shape.outage,
        out.display()
    );
    Ok(())
}
