//! The `meridian` command line. Each subcommand parses its arguments and calls into the
//! crates; output is text, or JSON with `--json`; errors are one line and exit 1.

mod billing_cli;
mod documents_cli;
mod keys_cli;
mod simulate_cli;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use meridian::{BUNDLED_PRICES, ServeOptions, Server, demo};
use meridian_billing::Naming;
use meridian_billing::customers::{self, Checks, NewCustomer};
use meridian_core::config::Config;
use meridian_core::db;
use meridian_core::{catalog, price_versions};
use serde_json::json;
use sqlx::PgPool;

#[derive(Parser)]
#[command(
    name = "meridian",
    version,
    about = "OpenAI-compatible AI gateway with zero-markup metering and invoicing"
)]
struct Cli {
    /// Print data as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Provision Postgres, seed a demo customer and key, start mock providers, serve.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = ".meridian")]
        data_dir: PathBuf,
    },
    /// Serve /v1/*, /api/v1/*, /admin/v1/*, /healthz on one listener; with SMTP_URL set,
    /// also e-mail issued documents from the outbox.
    Serve {
        #[arg(long, default_value = "meridian.toml")]
        config: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Holds the usage journal.
        #[arg(long, default_value = ".meridian")]
        data_dir: PathBuf,
    },
    /// Apply migrations and seed the eight billing entities (idempotent).
    Migrate,
    /// Serve the fake upstreams of every provider wire format.
    MockProviders {
        #[arg(long, default_value = "127.0.0.1:9100")]
        listen: SocketAddr,
        /// Delay before each response's headers.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Delay between streamed chunks.
        #[arg(long, default_value_t = 0)]
        token_delay_ms: u64,
    },
    /// Manage customers.
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: keys_cli::KeysCommand,
    },
    /// Manage the price catalog.
    Prices {
        #[command(subcommand)]
        command: PricesCommand,
    },
    /// See billing entities.
    Entities {
        #[command(subcommand)]
        command: EntitiesCommand,
    },
    /// Run, list, verify and credit invoices; their PDFs and e-mails.
    Invoices {
        #[command(subcommand)]
        command: billing_cli::InvoicesCommand,
    },
    /// ECB reference rates.
    Fx {
        #[command(subcommand)]
        command: billing_cli::FxCommand,
    },
    /// Backfill usage.
    Usage {
        #[command(subcommand)]
        command: billing_cli::UsageCommand,
    },
    /// Replay a traffic trace through the routing policy and the baseline; `simulate
    /// generate` writes a trace.
    Simulate(simulate_cli::SimulateArgs),
}

#[derive(Subcommand)]
enum CustomersCommand {
    /// Create a customer; prints its id.
    Create(CreateCustomer),
}

#[derive(Args)]
struct CreateCustomer {
    #[arg(long)]
    name: String,
    /// Billing entity: US, EU, UK, JP, SG, KR, IN or AU.
    #[arg(long)]
    entity: String,
    #[arg(long)]
    currency: String,
    #[arg(long)]
    locale: String,
    #[arg(long)]
    email: String,
    #[arg(long)]
    tax_id: Option<String>,
    #[arg(long)]
    country: Option<String>,
    #[arg(long)]
    state: Option<String>,
    /// Lines separated by `\n`.
    #[arg(long)]
    address: Option<String>,
    /// Data residency: a `[residency]` value of the config (e.g. `eu`), or `any`.
    #[arg(long)]
    residency: Option<String>,
    /// The region whose reserved pools serve this customer first (default: the
    /// gateway's region when the residency admits it, else its first region).
    #[arg(long)]
    home_region: Option<String>,
    /// The gateway config whose `[residency]` values --residency must name (default:
    /// meridian.toml when present; without one, any well-formed value is taken).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PricesCommand {
    /// Load a LiteLLM-format price file (default: ../shared/data/model-prices.json when
    /// present, else the copy compiled into the binary).
    Import { file: Option<PathBuf> },
}

#[derive(Subcommand)]
enum EntitiesCommand {
    /// List the billing entities.
    List,
    /// Set an entity's legal and payment details.
    Update(Box<billing_cli::UpdateEntity>),
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MERIDIAN_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or collector gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = runtime().and_then(|rt| rt.block_on(run(cli)));
    if let Err(e) = result {
        eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
        std::process::exit(1);
    }
}

/// One worker thread per CPU the process may run on, or `MERIDIAN_WORKER_THREADS`.
/// With one, a current-thread runtime: a single worker gains nothing from the
/// work-stealing scheduler and pays for its synchronisation on every task wake-up
/// (40% of the throughput of a gateway pinned to one core).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let threads = match std::env::var("MERIDIAN_WORKER_THREADS") {
        Ok(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| {
                format!("MERIDIAN_WORKER_THREADS={text:?} is not a positive number")
            })?,
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    Ok(builder.enable_all().build()?)
}

async fn database() -> anyhow::Result<PgPool> {
    let url = db::configured_url();
    db::connect_and_migrate(&url)
        .await
        .with_context(|| format!("connecting to {url} (set DATABASE_URL)"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Demo { listen, data_dir } => run_demo(listen, data_dir).await,
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let config = Config::parse(&text)?;
            let pool = database().await?;
            let server = Server::start(pool, ServeOptions::new(listen, config, data_dir)).await?;
            tracing::info!(addr = %server.addr, "meridian serving");
            tokio::signal::ctrl_c().await?;
            server.shutdown().await;
            Ok(())
        }
        Command::Migrate => {
            let url = db::configured_url();
            db::create_database(&url).await?;
            database().await?;
            print(
                json,
                json!({"migrated": true}),
                "migrations applied; billing entities seeded",
            );
            Ok(())
        }
        Command::MockProviders {
            listen,
            latency_ms,
            token_delay_ms,
        } => {
            let cfg = meridian_mock_providers::MockConfig {
                latency: std::time::Duration::from_millis(latency_ms),
                token_delay: std::time::Duration::from_millis(token_delay_ms),
                ..Default::default()
            };
            eprintln!("mock providers on http://{listen}");
            meridian_mock_providers::run(listen, cfg).await?;
            Ok(())
        }
        Command::Customers {
            command: CustomersCommand::Create(c),
        } => {
            let config = billing_cli::optional_config(c.config)?;
            let checks = Checks {
                naming: Naming::Flags,
                placement: config.as_ref().map(|c| &c.placement),
            };
            let pool = database().await?;
            let customer = customers::create_with(
                &mut *pool.acquire().await?,
                &NewCustomer {
                    name: c.name,
                    entity: c.entity,
                    currency: c.currency,
                    locale: c.locale,
                    email: c.email,
                    tax_id: c.tax_id,
                    country: c.country,
                    state: c.state,
                    address: c.address,
                    residency: c.residency,
                    home_region: c.home_region,
                },
                checks,
            )
            .await?;
            print(
                json,
                serde_json::to_value(&customer)?,
                &customer.id.to_string(),
            );
            Ok(())
        }
        Command::Keys { command } => keys_cli::run(&database().await?, command, json).await,
        Command::Simulate(args) => simulate_cli::run(args, json),
        Command::Prices {
            command: PricesCommand::Import { file },
        } => {
            let repo_copy = PathBuf::from("../shared/data/model-prices.json");
            let (source, text) = match file {
                Some(f) => (
                    f.display().to_string(),
                    std::fs::read_to_string(&f)
                        .with_context(|| format!("reading {}", f.display()))?,
                ),
                None if repo_copy.exists() => (
                    repo_copy.display().to_string(),
                    std::fs::read_to_string(&repo_copy)?,
                ),
                None => ("bundled catalog".to_string(), BUNDLED_PRICES.to_string()),
            };
            let prices =
                catalog::parse_price_file(&text).with_context(|| format!("reading {source}"))?;
            let pool = database().await?;
            let versions = price_versions::import(&pool, &prices, chrono::Utc::now()).await?;
            print(
                json,
                json!({"source": source, "entries": prices.len(), "new_versions": versions}),
                &format!(
                    "{} entries read from {source}; {versions} new price versions stored",
                    prices.len()
                ),
            );
            Ok(())
        }
        Command::Invoices { command } => {
            billing_cli::invoices(&database().await?, command, json).await
        }
        Command::Fx { command } => billing_cli::fx(&database().await?, command, json).await,
        Command::Usage { command } => billing_cli::usage(&database().await?, command, json).await,
        Command::Entities {
            command: EntitiesCommand::Update(update),
        } => billing_cli::update_entity(&database().await?, *update, json).await,
        Command::Entities {
            command: EntitiesCommand::List,
        } => {
            let pool = database().await?;
            let entities = meridian_billing::entities::list(&pool).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entities)?);
            } else {
                for e in entities {
                    println!(
                        "{:<3} {:<4} {:<6} {:<20} {}",
                        e.code, e.currency, e.default_locale, e.time_zone, e.legal_name
                    );
                }
            }
            Ok(())
        }
    }
}

pub(crate) fn print(json: bool, value: serde_json::Value, text: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

async fn run_demo(listen: SocketAddr, data_dir: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir)?;
    let data_dir = data_dir.canonicalize()?;
    let url = db::provision(&db::configured_url(), &data_dir).await?;
    let pool = db::connect_and_migrate(&url).await?;
    let customer = demo::demo_customer(&pool).await?;
    let key = demo::demo_key(&pool, customer.id).await?;
    meridian::ensure_prices(&pool).await?;
    let catalog = price_versions::load_at(&pool, chrono::Utc::now()).await?;
    let (config, mock) = demo::demo_config(&catalog).await?;
    let mut options = ServeOptions::new(listen, config, data_dir.clone());
    options.credentials = demo::credential_source();
    let server = Server::start(pool, options).await?;
    demo::print_welcome(&demo::Welcome {
        base_url: &server.base_url(),
        key: key.expose(),
        database_url: &url,
        data_dir: &data_dir,
        mock: mock.as_ref(),
    });
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
