//! The budget-alert watcher: every few seconds it compares each customer's spend in
//! its budget's current period (the limiter's: requests that ended, in exact USD, at
//! the customer's latest stored ECB rate) with the thresholds of its customer-wide
//! budget, and has billing record those newly crossed, each with its e-mail on the
//! outbox. Billing's unique key keeps an alert to once per threshold and period across
//! restarts and processes; the thresholds recorded are remembered here, so a customer
//! whose spend does not move costs no database write.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use meridian_billing::budget_alerts::{self, Crossing};
use meridian_core::{BudgetPeriod, CustomerId};
use meridian_gateway::limits::{CustomerTable, Limiter};
use sqlx::PgPool;

pub struct BudgetWatch {
    limiter: Arc<dyn Limiter>,
    customers: Arc<CustomerTable>,
    pool: PgPool,
    /// Crossings recorded (by this process or before it), by customer, period start
    /// and threshold.
    recorded: HashSet<(CustomerId, DateTime<Utc>, i32)>,
}

impl BudgetWatch {
    pub fn new(limiter: Arc<dyn Limiter>, customers: Arc<CustomerTable>, pool: PgPool) -> Self {
        Self {
            limiter,
            customers,
            pool,
            recorded: HashSet::new(),
        }
    }

    /// Records the thresholds crossed by `now` and not recorded yet; returns how many
    /// alerts were new.
    pub async fn check(&mut self, now: DateTime<Utc>) -> sqlx::Result<u64> {
        let mut crossings = Vec::new();
        for (&customer, terms) in self.customers.snapshot().iter() {
            let (Some(budget), Some(per_usd)) = (terms.budget, terms.per_usd) else {
                continue;
            };
            let period_start = budget.period.start(now);
            let spent =
                (self.limiter.customer_spent(customer, budget.period, now) * per_usd).normalize();
            crossings.extend(
                budget_alerts::crossed(&budget, &terms.alerts, spent)
                    .into_iter()
                    .filter(|&t| !self.recorded.contains(&(customer, period_start, t)))
                    .map(|threshold| Crossing {
                        customer,
                        period: budget.period,
                        period_start,
                        threshold,
                        amount: budget.amount,
                        spent,
                        currency: terms.currency.to_string(),
                    }),
            );
        }
        let new = budget_alerts::record(&self.pool, &crossings).await?;
        self.recorded.extend(
            crossings
                .iter()
                .map(|c| (c.customer, c.period_start, c.threshold)),
        );
        // Days and months before the current month cannot be crossed again.
        let month = BudgetPeriod::Month.start(now);
        self.recorded.retain(|&(_, start, _)| start >= month);
        Ok(new)
    }

    /// Checks every `every` until the process ends.
    pub fn spawn(mut self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.check(Utc::now()).await {
                    tracing::warn!(error = %e, "budget alerts: will check again");
                }
            }
        })
    }
}
