//! The monthly invoice run of one or all entities: refuses a period that has not
//! ended in the entity's time zone, rates every customer with usage, issues one
//! invoice per customer in batches (numbered without gaps, see `issue`), then
//! verifies what it issued against rollups and catalog.
//!
//! Idempotent (a customer invoiced for the period is skipped), resumable (each batch
//! commits on its own; a restart rates what is left, with the run's issue date), and
//! safe to start twice (a Postgres advisory lock per entity makes the second wait).
//!
//! Entities are independent: one that cannot be invoiced (no FX rate for its
//! customers' currency, say) is reported in [`RunReport::failures`] and the others are
//! still issued; a rerun once the cause is fixed issues what is left.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use meridian_core::CustomerId;
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::customers::Customer;
use crate::document::{DocumentKind, Draft, DraftLine, buyer_snapshot, seller_snapshot};
use crate::entities::{self, Entity};
use crate::fx::{self, FxRate};
use crate::money::Currency;
use crate::period::{self, Period};
use crate::prices::PriceHistory;
use crate::rating::{self, Scope, UsageAggregate};
use crate::taxes::TaxTable;
use crate::{BillingError, issue, progress::Progress, totals, verify};

/// Invoices issued per transaction.
const BATCH: usize = 500;
/// Advisory-lock namespace of invoice runs (the second key is the entity).
const RUN_LOCK: i32 = 0x4d52_4e01;

#[derive(Debug, Clone, Serialize)]
pub struct IssuedInvoice {
    pub number: String,
    pub customer_id: CustomerId,
    pub entity: String,
    pub period: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: rust_decimal::Decimal,
}

/// What one entity's run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub entity: String,
    pub period: String,
    pub run_id: Uuid,
    pub issue_date: NaiveDate,
    /// Customers invoiced for the period before this run.
    pub already_invoiced: usize,
    pub issued: Vec<IssuedInvoice>,
}

/// An entity whose run issued nothing, and why (the run's error message).
#[derive(Debug, Clone, Serialize)]
pub struct EntityFailure {
    pub entity: String,
    pub reason: String,
}

/// What a run did: the entities it issued and those it could not.
#[derive(Debug, Default, Serialize)]
pub struct RunReport {
    pub outcomes: Vec<RunOutcome>,
    pub failures: Vec<EntityFailure>,
}

/// Runs `period` for `entity` (or every entity), as of `now`. A period that has not
/// ended for one of them, and a database failure, stop the run (`Err`); any other
/// error stops only its entity's run and is reported with the rest.
pub async fn run(
    pool: &PgPool,
    period: Period,
    entity: Option<&str>,
    now: DateTime<Utc>,
    progress: &Progress,
) -> Result<RunReport, BillingError> {
    let (entities, bounds) = ready(pool, period, entity, now).await?;
    let prices = PriceHistory::load(pool).await?;
    let taxes = TaxTable::load(pool).await?;
    let usage = rating::usage(pool, Scope::Entities(&bounds)).await?;
    let mut report = RunReport::default();
    for e in entities {
        let mut lock = PgConnection::connect_with(&pool.connect_options()).await?;
        let waited: bool = sqlx::query_scalar("SELECT NOT pg_try_advisory_lock($1, hashtext($2))")
            .bind(RUN_LOCK)
            .bind(&e.code)
            .fetch_one(&mut lock)
            .await?;
        if waited {
            tracing::info!(entity = %e.code, "another invoice run of this entity is in progress; waiting for it");
            sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
                .bind(RUN_LOCK)
                .bind(&e.code)
                .execute(&mut lock)
                .await?;
        }
        let code = e.code.clone();
        let outcome = EntityRun::prepare(pool, e, period, now, &prices, &taxes, &usage).await;
        let outcome = match outcome {
            Ok(r) => r.execute(pool, progress, &usage).await,
            Err(err) => Err(err),
        };
        // Closing the session releases the lock, whatever happened.
        lock.close().await?;
        match outcome {
            Ok(o) => report.outcomes.push(o),
            Err(e @ BillingError::Db(_)) => return Err(e),
            Err(e) => {
                report.failures.push(EntityFailure {
                    entity: code,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(report)
}

/// The entities of a run of `period` (`entity`, or every one) with each one's
/// bounds of the period; refused when one is unknown or the period has not ended for
/// one of them.
async fn ready(
    pool: &PgPool,
    period: Period,
    entity: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Vec<Entity>, Vec<(String, DateTime<Utc>, DateTime<Utc>)>), BillingError> {
    let entities = match entity {
        Some(code) => vec![entities::require(pool, code).await?],
        None => entities::list(pool).await?,
    };
    let mut bounds = Vec::new();
    for e in &entities {
        let tz = period::time_zone(&e.time_zone)?;
        let (start, end) = period.bounds(tz);
        bounds.push((e.code.clone(), start, end));
        if !period.has_ended(tz, now) {
            return Err(BillingError::PeriodNotEnded(format!(
                "period {period} has not ended for entity {} ({}): it closes at {}",
                e.code,
                e.time_zone,
                period
                    .bounds(tz)
                    .1
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M %Z")
            )));
        }
    }
    Ok((entities, bounds))
}

/// Whether a run of `period` (`entity`, or every one) could start at `now`: what
/// [`run`] would refuse before doing anything.
pub async fn check(
    pool: &PgPool,
    period: Period,
    entity: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    ready(pool, period, entity, now).await.map(|_| ())
}

/// One entity's run, prepared: everything rated and drafted before anything is issued.
struct EntityRun {
    entity: Entity,
    period: Period,
    run_id: Uuid,
    issue_date: NaiveDate,
    already_invoiced: usize,
    drafts: Vec<Draft>,
}

impl EntityRun {
    async fn prepare(
        pool: &PgPool,
        entity: Entity,
        period: Period,
        now: DateTime<Utc>,
        prices: &PriceHistory,
        taxes: &TaxTable,
        usage: &[UsageAggregate],
    ) -> Result<EntityRun, BillingError> {
        let tz = period::time_zone(&entity.time_zone)?;
        let (start, end) = period.bounds(tz);
        // A resumed run keeps its id and issue date; a new one is recorded only once
        // everything is drafted, so bad input leaves nothing behind.
        let existing: Option<(Uuid, NaiveDate)> = sqlx::query_as(
            "SELECT id, issue_date FROM invoice_runs WHERE entity_code = $1 AND period = $2",
        )
        .bind(&entity.code)
        .bind(period.first_day())
        .fetch_optional(pool)
        .await?;
        let (run_id, issue_date) =
            existing.unwrap_or_else(|| (Uuid::now_v7(), period::local_date(tz, now)));

        let invoiced: Vec<CustomerId> = sqlx::query_scalar(
            "SELECT customer_id FROM invoices WHERE kind = 'invoice' AND entity_code = $1 AND period = $2",
        )
        .bind(&entity.code)
        .bind(period.first_day())
        .fetch_all(pool)
        .await?;
        let customers: HashMap<CustomerId, Customer> =
            sqlx::query_as::<_, Customer>("SELECT * FROM customers WHERE entity_code = $1")
                .bind(&entity.code)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        let mut by_customer: Vec<(&Customer, &[UsageAggregate])> = usage
            .chunk_by(|a, b| a.customer_id == b.customer_id)
            .filter(|rows| !invoiced.contains(&rows[0].customer_id))
            .filter_map(|rows| customers.get(&rows[0].customer_id).map(|c| (c, rows)))
            .collect();
        by_customer.sort_by_key(|(c, _)| c.id);

        let mut rates: HashMap<String, FxRate> = HashMap::new();
        for (c, _) in &by_customer {
            if !rates.contains_key(&c.currency) {
                let currency = Currency::parse(&c.currency)?;
                rates.insert(
                    c.currency.clone(),
                    fx::usd_rate(pool, currency, period.last_day()).await?,
                );
            }
        }
        let context = DraftContext {
            entity: &entity,
            period,
            start,
            end,
            issue_date,
            run_id,
            seller: seller_snapshot(&entity),
        };
        let drafts = by_customer
            .iter()
            .map(|(c, rows)| context.invoice(c, rows, prices, taxes, rates[&c.currency]))
            .collect::<Result<Vec<_>, _>>()?;
        sqlx::query(
            "INSERT INTO invoice_runs (id, entity_code, period, issue_date, status, started_at)
             VALUES ($1, $2, $3, $4, 'running', $5)
             ON CONFLICT (entity_code, period) DO UPDATE
                 SET status = 'running', attempts = invoice_runs.attempts + 1, finished_at = NULL",
        )
        .bind(run_id)
        .bind(&entity.code)
        .bind(period.first_day())
        .bind(issue_date)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(EntityRun {
            entity,
            period,
            run_id,
            issue_date,
            already_invoiced: invoiced.len(),
            drafts,
        })
    }

    async fn execute(
        self,
        pool: &PgPool,
        progress: &Progress,
        usage: &[UsageAggregate],
    ) -> Result<RunOutcome, BillingError> {
        let (code, period) = (self.entity.code.clone(), self.period.to_string());
        let total = self.drafts.len();
        progress.start(&code, &period, total).await;
        let mut issued = Vec::with_capacity(total);
        let mut drafts = self.drafts.into_iter().peekable();
        while drafts.peek().is_some() {
            let batch: Vec<Draft> = drafts.by_ref().take(BATCH).collect();
            for doc in issue::issue(pool, batch).await? {
                issued.push(IssuedInvoice {
                    number: doc.number.text,
                    customer_id: doc.draft.customer_id,
                    entity: code.clone(),
                    period: period.clone(),
                    currency: doc.draft.currency.code().to_string(),
                    total: doc.draft.totals.total,
                });
            }
            progress.advance(&code, &period, issued.len(), total).await;
        }
        let mismatches = verify::period(pool, &code, self.period, usage).await?;
        if !mismatches.is_empty() {
            return Err(BillingError::VerificationFailed(mismatches.join("; ")));
        }
        sqlx::query(
            "UPDATE invoice_runs SET status = 'completed', finished_at = now() WHERE id = $1",
        )
        .bind(self.run_id)
        .execute(pool)
        .await?;
        progress.finish(&code, &period, issued.len()).await;
        Ok(RunOutcome {
            entity: code,
            period,
            run_id: self.run_id,
            issue_date: self.issue_date,
            already_invoiced: self.already_invoiced,
            issued,
        })
    }
}

/// What every invoice of one entity's run shares.
pub(crate) struct DraftContext<'a> {
    pub entity: &'a Entity,
    pub period: Period,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub issue_date: NaiveDate,
    pub run_id: Uuid,
    pub seller: serde_json::Value,
}

impl DraftContext<'_> {
    /// The invoice draft of one customer's usage.
    pub fn invoice(
        &self,
        customer: &Customer,
        usage: &[UsageAggregate],
        prices: &PriceHistory,
        taxes: &TaxTable,
        fx: FxRate,
    ) -> Result<Draft, BillingError> {
        let currency = Currency::parse(&customer.currency)?;
        let regime = taxes.regime(self.entity, customer, self.period.last_day())?;
        let lines: Vec<DraftLine> = rating::rate(usage, prices)?
            .into_iter()
            .map(|line| DraftLine {
                line,
                tax_group: 0,
                credited_line_no: None,
            })
            .collect();
        let totals = totals::summarize(
            lines.iter().map(|l| (l.tax_group, l.line.amount())),
            |_| &regime.components,
            fx.rate,
            currency,
        );
        Ok(Draft {
            kind: DocumentKind::Invoice,
            entity: self.entity.clone(),
            customer_id: customer.id,
            period: self.period,
            period_start: self.start,
            period_end: self.end,
            issue_date: self.issue_date,
            run_id: Some(self.run_id),
            credits: None,
            currency,
            fx,
            locale: customer.locale.clone(),
            regime,
            lines,
            totals,
            seller: self.seller.clone(),
            buyer: buyer_snapshot(customer, self.entity),
        })
    }
}
