//! The key subcommands: `keys create|list|revoke|rotate`. Argument parsing and
//! printing only; the `api_keys` table is `meridian_keys::table`'s.

use std::str::FromStr;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Subcommand};
use meridian_billing::customers;
use meridian_core::{BudgetPeriod, CustomerId, KeyBudget, KeyId, KeyLimits, KeyRole};
use meridian_keys::{KeyRecord, KeySettings, Scope, table};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key; prints it once (only its hash is stored).
    Create(CreateKey),
    /// A customer's keys, revoked ones included.
    List {
        #[arg(long)]
        customer: String,
    },
    /// Revoke a key (a rotated key's previous secret too).
    Revoke { id: String },
    /// Give a key a new secret; prints it once. The replaced one stays valid for the
    /// grace period.
    Rotate {
        id: String,
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u32).range(0..=604_800))]
        grace_seconds: u32,
    },
}

#[derive(Args)]
pub struct CreateKey {
    #[arg(long)]
    customer: String,
    #[arg(long)]
    name: Option<String>,
    /// admin (the default: manages keys and budgets) or inference (/v1/* only).
    #[arg(long, default_value = "admin")]
    role: String,
    /// Requests per minute (sliding 60 s).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    rpm: Option<u32>,
    /// Tokens per minute (sliding 60 s).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=i64::MAX as u64))]
    tpm: Option<u64>,
    /// Requests in flight at once.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    max_concurrency: Option<u32>,
    /// Spend budget in the customer's currency, a decimal amount.
    #[arg(long)]
    budget: Option<String>,
    /// day or month (default month), in UTC.
    #[arg(long)]
    budget_period: Option<String>,
    /// RFC 3339 time after which the key is refused.
    #[arg(long)]
    expires_at: Option<String>,
}

fn key_id(id: &str) -> anyhow::Result<KeyId> {
    KeyId::from_str(id).map_err(|_| anyhow::anyhow!("`{id}` is not a key id"))
}

fn customer_id(id: &str) -> anyhow::Result<CustomerId> {
    CustomerId::from_str(id).map_err(|_| anyhow::anyhow!("--customer `{id}` is not a customer id"))
}

fn settings(c: &CreateKey) -> anyhow::Result<(KeyRole, KeySettings)> {
    let role = KeyRole::from_str(&c.role)
        .map_err(|_| anyhow::anyhow!("--role `{}` must be admin or inference", c.role))?;
    let period = match c.budget_period.as_deref() {
        None => BudgetPeriod::Month,
        Some(p) => BudgetPeriod::from_str(p)
            .map_err(|_| anyhow::anyhow!("--budget-period `{p}` must be day or month"))?,
    };
    let budget = match &c.budget {
        Some(b) => Some(KeyBudget {
            amount: Decimal::from_str_exact(b)
                .map_err(|_| anyhow::anyhow!("--budget `{b}` is not a decimal amount"))?,
            period,
        }),
        None if c.budget_period.is_some() => bail!("--budget-period needs --budget"),
        None => None,
    };
    let expires_at = c
        .expires_at
        .as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| anyhow::anyhow!("--expires-at `{t}` is not an RFC 3339 time"))
        })
        .transpose()?;
    let settings = KeySettings {
        name: c.name.clone(),
        expires_at,
        limits: KeyLimits {
            rpm: c.rpm,
            tpm: c.tpm,
            max_concurrency: c.max_concurrency,
        },
        budget,
    };
    settings.validate(Utc::now())?;
    Ok((role, settings))
}

pub async fn run(pool: &PgPool, command: KeysCommand, json: bool) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create(c) => {
            let customer = customer_id(&c.customer)?;
            let (role, settings) = settings(&c)?;
            if customers::get(pool, customer).await?.is_none() {
                bail!("no customer with id {customer}");
            }
            let mut conn = pool.acquire().await?;
            let key = table::create(&mut conn, customer, role, &settings).await?;
            let secret = key.secret.expose();
            print_secret(json, &key.record, secret);
        }
        KeysCommand::List { customer } => {
            let customer = customer_id(&customer)?;
            let mut keys = Vec::new();
            let mut after = None;
            loop {
                let page = table::list(pool, customer, after, 200).await?;
                after = page.last().map(|k| k.id);
                let done = page.len() < 200;
                keys.extend(page);
                if done {
                    break;
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            }
            for k in keys.iter().filter(|_| !json) {
                let state = match (k.revoked_at, k.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(at)) if at <= Utc::now() => "expired",
                    _ => "live",
                };
                println!(
                    "{}  {:<9} {:<9} {:<8} {}",
                    k.id,
                    k.prefix,
                    k.role,
                    state,
                    k.name.as_deref().unwrap_or("-")
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let id = key_id(&id)?;
            let mut conn = pool.acquire().await?;
            let key = table::revoke(&mut conn, Scope::Operator, id)
                .await?
                .with_context(|| format!("no key with id {id}"))?;
            let text = format!("key {id} revoked");
            crate::print(json, serde_json::to_value(&key)?, &text);
        }
        KeysCommand::Rotate { id, grace_seconds } => {
            let id = key_id(&id)?;
            let grace = TimeDelta::seconds(i64::from(grace_seconds));
            let mut conn = pool.acquire().await?;
            let key = table::rotate(&mut conn, Scope::Operator, id, grace)
                .await?
                .with_context(|| format!("no key with id {id}"))?;
            print_secret(json, &key.record, key.secret.expose());
        }
    }
    Ok(())
}

/// A key with its new secret: the secret alone as text, the record and `key` as JSON.
fn print_secret(json: bool, record: &KeyRecord, secret: &str) {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    value["key"] = json!(secret);
    crate::print(json, value, secret);
}
