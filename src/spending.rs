//! Wiring of the gateway's limits and budgets to what other crates own: each
//! customer's currency, limits and budget (billing's `customers`), the latest ECB
//! rates (billing's `fx`), and, at start, what the current periods already cost
//! (metering's rollups and journal).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use meridian_billing::{customers, fx};
use meridian_core::BudgetPeriod;
use meridian_gateway::limits::{CustomerTable, CustomerTerms, MemoryLimiter, PastSpend};
use meridian_metering::{Journal, spend};
use sqlx::PgPool;

/// Hands the limiter what this day and month already cost. Runs before the metering
/// worker starts: an event is then either in the rollups or past the journal's
/// committed position, never both.
pub async fn seed(limiter: &MemoryLimiter, pool: &PgPool, journal: &Journal) -> anyhow::Result<()> {
    let now = Utc::now();
    let spent = spend::since(pool, journal, BudgetPeriod::Month.start(now)).await?;
    limiter.seed(
        spent.into_iter().map(|s| PastSpend {
            customer: s.customer_id,
            key: s.key_id,
            at: s.hour,
            cost: s.cost,
        }),
        now,
    );
    Ok(())
}

/// Reads every customer's terms and rate into `table`.
pub async fn refresh(table: &CustomerTable, pool: &PgPool) -> sqlx::Result<()> {
    let terms = customers::spending_terms(pool).await?;
    let rates = fx::latest_usd_rates(pool).await?;
    let mut currencies: HashMap<String, Arc<str>> = HashMap::new();
    let loaded = terms
        .into_iter()
        .map(|t| {
            let per_usd = rates.get(&t.currency).copied();
            let currency = currencies
                .entry(t.currency)
                .or_insert_with_key(|code| Arc::from(code.as_str()))
                .clone();
            let terms = CustomerTerms {
                currency,
                per_usd,
                limits: t.limits,
                budget: t.budget,
                alerts: t.alerts.into(),
            };
            (t.id, terms)
        })
        .collect();
    table.replace(loaded);
    Ok(())
}

/// Keeps `table` fresh until the process ends.
pub fn spawn_refresher(
    table: Arc<CustomerTable>,
    pool: PgPool,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = refresh(&table, &pool).await {
                tracing::warn!(error = %e, "customer limits refresh failed; serving the ones already loaded");
            }
        }
    })
}
