//! The billing subcommands: `invoices run|list|verify|credit|pdf|send|outbox`,
//! `fx import`, `usage import` and `entities update`. Argument parsing and printing
//! only; the work is in `meridian_billing`, `meridian_metering::import` and (documents
//! and e-mail) `crate::documents_cli`.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use meridian_billing::entities::{self, EntityUpdate};
use meridian_billing::progress::Progress;
use meridian_billing::query::{self, ListFilter};
use meridian_billing::{Naming, Period, credit, fx, run, verify};
use meridian_core::CustomerId;
use meridian_core::config::Config;
use serde_json::json;
use sqlx::PgPool;

use crate::documents_cli;

#[derive(Subcommand)]
pub enum InvoicesCommand {
    /// The monthly batch: one invoice per customer with usage (idempotent, resumable).
    Run {
        /// The month, YYYY-MM; refused until it has ended in the entity's time zone.
        #[arg(long)]
        period: String,
        /// One entity (US, EU, UK, JP, SG, KR, IN, AU); default all.
        #[arg(long)]
        entity: Option<String>,
    },
    /// Issued invoices and credit notes.
    List {
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        customer: Option<String>,
    },
    /// Re-derive an invoice from rollups and catalog; exit 1 on any difference.
    Verify { number: String },
    /// Issue a credit note for an invoice (all its lines, or --lines 1,3).
    Credit {
        number: String,
        #[arg(long)]
        reason: String,
        /// Line numbers to credit, comma-separated; default every line not yet credited.
        #[arg(long, value_delimiter = ',')]
        lines: Option<Vec<i32>>,
    },
    /// Write an issued invoice's or credit note's PDF (the same bytes every time).
    Pdf {
        number: String,
        /// The file to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// E-mail issued documents from the outbox over SMTP_URL: until stopped, or with
    /// --once what is due now (exit 1 if any of it was not sent).
    Send {
        #[arg(long)]
        once: bool,
    },
    /// Where each issued document's e-mail stands.
    Outbox {
        /// pending, sending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum FxCommand {
    /// Load ECB euro reference rates (eurofxref XML or CSV, daily or historical).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub enum UsageCommand {
    /// Backfill usage from a JSONL file, idempotent per request_id.
    Import {
        file: PathBuf,
        /// The deployments that `deployment` may name (default: meridian.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct UpdateEntity {
    /// US, EU, UK, JP, SG, KR, IN or AU.
    code: String,
    #[arg(long)]
    legal_name: Option<String>,
    /// Lines separated by `\n`.
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    tax_id: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// ISO 3166-2 (India: the State of registration, e.g. IN-KA).
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    /// The representative's name (Korea's 대표자).
    #[arg(long)]
    representative: Option<String>,
    /// The bank invoices are paid into.
    #[arg(long)]
    bank: Option<String>,
    /// The account at that bank (an IBAN where there is one).
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    bic: Option<String>,
    /// Days from the issue date to the due date.
    #[arg(long)]
    payment_terms: Option<i32>,
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub async fn invoices(pool: &PgPool, command: InvoicesCommand, json: bool) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    match command {
        InvoicesCommand::Run { period, entity } => {
            let period = Period::parse(&period)?;
            let report = run::run(
                pool,
                period,
                entity.as_deref(),
                now,
                &Progress::for_stderr(),
            )
            .await?;
            if json {
                print_json(
                    &report
                        .outcomes
                        .iter()
                        .flat_map(|o| &o.issued)
                        .collect::<Vec<_>>(),
                )?;
            } else {
                for o in &report.outcomes {
                    println!(
                        "{} {}: {} invoices issued ({} already), issue date {}",
                        o.entity,
                        o.period,
                        o.issued.len(),
                        o.already_invoiced,
                        o.issue_date
                    );
                }
            }
            if report.failures.is_empty() {
                return Ok(());
            }
            // One line per entity not invoiced, `CODE: reason`; the error line ends it.
            for f in &report.failures {
                eprintln!("{}: {}", f.entity, f.reason.replace('\n', " "));
            }
            let codes: Vec<&str> = report.failures.iter().map(|f| f.entity.as_str()).collect();
            bail!(
                "not invoiced for {period}: {} (see above); what was issued stays, run again once fixed",
                codes.join(", ")
            )
        }
        InvoicesCommand::List {
            period,
            entity,
            customer,
        } => {
            let filter = ListFilter {
                period: period.as_deref().map(Period::parse).transpose()?,
                entity,
                customer: customer
                    .map(|c| {
                        CustomerId::from_str(&c)
                            .map_err(|_| anyhow::anyhow!("--customer `{c}` is not a customer id"))
                    })
                    .transpose()?,
            };
            let rows = query::list(pool, &filter).await?;
            if json {
                return print_json(&rows);
            }
            for r in rows {
                println!(
                    "{:<18} {:<11} {} {} {:>14} {} {}",
                    r.number, r.kind, r.period, r.issue_date, r.total, r.currency, r.status
                );
            }
            Ok(())
        }
        InvoicesCommand::Verify { number } => {
            let problems = verify::document(pool, &number).await?;
            if json {
                print_json(
                    &json!({"number": number, "matches": problems.is_empty(), "differences": problems}),
                )?;
            } else if problems.is_empty() {
                println!("{number}: every line matches rollups and catalog");
            }
            if !problems.is_empty() {
                bail!(
                    "{number} differs from rollups and catalog: {}",
                    problems.join("; ")
                );
            }
            Ok(())
        }
        InvoicesCommand::Credit {
            number,
            reason,
            lines,
        } => {
            let note = credit::credit(pool, &number, &reason, lines.as_deref(), now).await?;
            if json {
                return print_json(&note);
            }
            println!("{}", note.number);
            Ok(())
        }
        InvoicesCommand::Pdf { number, output } => {
            documents_cli::pdf(pool, &number, &output, json).await
        }
        InvoicesCommand::Send { once } => documents_cli::send(pool, once, json).await,
        InvoicesCommand::Outbox {
            status,
            entity,
            period,
        } => documents_cli::outbox(pool, status, entity, period, json).await,
    }
}

pub async fn fx(pool: &PgPool, command: FxCommand, json: bool) -> anyhow::Result<()> {
    let FxCommand::Import { file } = command;
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let rates = fx::parse(&text).with_context(|| file.display().to_string())?;
    let new = fx::import(pool, &rates).await?;
    if json {
        return print_json(&json!({"file": file, "rates": rates.len(), "new": new}));
    }
    println!(
        "{} rates read from {}; {new} new",
        rates.len(),
        file.display()
    );
    Ok(())
}

/// The config file `path`, else `meridian.toml` when present, else none.
pub(crate) fn optional_config(path: Option<PathBuf>) -> anyhow::Result<Option<Config>> {
    match path.or_else(|| Some(PathBuf::from("meridian.toml")).filter(|p| p.exists())) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok(Some(
                Config::parse(&text).with_context(|| path.display().to_string())?,
            ))
        }
        None => Ok(None),
    }
}

pub async fn usage(pool: &PgPool, command: UsageCommand, json: bool) -> anyhow::Result<()> {
    let UsageCommand::Import { file, config } = command;
    let config = optional_config(config)?;
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let report =
        meridian_metering::import::import(pool, &text, config.as_ref(), chrono::Utc::now())
            .await
            .with_context(|| file.display().to_string())?;
    if json {
        return print_json(&report);
    }
    println!(
        "{} lines read; {} imported, {} already imported",
        report.lines, report.imported, report.already_imported
    );
    Ok(())
}

pub async fn update_entity(pool: &PgPool, u: UpdateEntity, json: bool) -> anyhow::Result<()> {
    let entity = entities::update(
        pool,
        &u.code,
        EntityUpdate {
            legal_name: u.legal_name,
            address: u.address,
            tax_id: u.tax_id,
            email: u.email,
            state: u.state,
            phone: u.phone,
            representative: u.representative,
            bank_name: u.bank,
            bank_account: u.account,
            bank_bic: u.bic,
            payment_terms_days: u.payment_terms,
        },
        Naming::Flags,
    )
    .await?;
    if json {
        return print_json(&entity);
    }
    println!("{} updated: {}", entity.code, entity.legal_name);
    Ok(())
}
