//! Budget alerts, the owner of `budget_alerts`: which thresholds of a customer-wide
//! budget its spend has crossed in a period, recorded once per customer, period and
//! threshold, each with its e-mail queued on the documents outbox in the same
//! transaction (so an alert is never recorded without its e-mail, nor sent twice).

use chrono::{DateTime, Utc};
use meridian_core::{BudgetPeriod, CustomerId, KeyBudget};
use rust_decimal::Decimal;
use sqlx::PgPool;

/// A threshold crossed: the customer's spend in the period that began at
/// `period_start` reached `threshold` % of its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub customer: CustomerId,
    pub period: BudgetPeriod,
    pub period_start: DateTime<Utc>,
    pub threshold: i32,
    /// The budget and the spend, in `currency`.
    pub amount: Decimal,
    pub spent: Decimal,
    pub currency: String,
}

/// The thresholds of `alerts` (percentages) that `spent` has reached of `budget`,
/// both in the customer's currency.
pub fn crossed(budget: &KeyBudget, alerts: &[i32], spent: Decimal) -> Vec<i32> {
    alerts
        .iter()
        .copied()
        .filter(|&t| spent * Decimal::ONE_HUNDRED >= budget.amount * Decimal::from(t))
        .collect()
}

/// Records the crossings not recorded before and queues their e-mails; returns how
/// many were new.
pub async fn record(pool: &PgPool, crossings: &[Crossing]) -> sqlx::Result<u64> {
    if crossings.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&Crossing) -> String| crossings.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await?;
    let new: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO budget_alerts (customer_id, period, period_start, threshold, budget_amount, spent, currency)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::numeric[],
                              $6::numeric[], $7::text[])
         ON CONFLICT (customer_id, period_start, threshold) DO NOTHING
         RETURNING id",
    )
    .bind(crossings.iter().map(|c| c.customer.0).collect::<Vec<_>>())
    .bind(column(|c| c.period.as_str().to_owned()))
    .bind(crossings.iter().map(|c| c.period_start).collect::<Vec<_>>())
    .bind(crossings.iter().map(|c| c.threshold).collect::<Vec<_>>())
    .bind(crossings.iter().map(|c| c.amount).collect::<Vec<_>>())
    .bind(crossings.iter().map(|c| c.spent).collect::<Vec<_>>())
    .bind(column(|c| c.currency.clone()))
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO document_outbox (alert_id, topic)
         SELECT id, 'budget.alert' FROM UNNEST($1::bigint[]) AS t(id)",
    )
    .bind(&new)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(new.len() as u64)
}

/// One recorded alert with what its e-mail needs: the customer as addressee, and the
/// billing entity it sends from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BudgetAlert {
    pub id: i64,
    pub threshold: i32,
    #[sqlx(try_from = "String")]
    pub period: PeriodName,
    pub period_start: DateTime<Utc>,
    pub budget_amount: Decimal,
    pub spent: Decimal,
    pub currency: String,
    pub customer_name: String,
    pub customer_email: String,
    pub locale: String,
    pub entity_name: String,
    pub entity_email: String,
}

/// A stored period name, read back as the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodName(pub BudgetPeriod);

impl TryFrom<String> for PeriodName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
            .map(PeriodName)
            .map_err(|_| format!("unknown budget period `{s}`"))
    }
}

/// The alert `id` (`None`: no such alert).
pub async fn load(pool: &PgPool, id: i64) -> sqlx::Result<Option<BudgetAlert>> {
    sqlx::query_as(
        "SELECT a.id, a.threshold, a.period, a.period_start, a.budget_amount, a.spent, a.currency,
                c.name AS customer_name, c.email AS customer_email, c.locale,
                e.legal_name AS entity_name, e.email AS entity_email
         FROM budget_alerts a JOIN customers c ON c.id = a.customer_id
              JOIN billing_entities e ON e.code = c.entity_code
         WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_is_crossed_when_the_spend_reaches_its_share_exactly() {
        let budget = KeyBudget {
            amount: Decimal::from(200),
            period: BudgetPeriod::Month,
        };
        let alerts = [50, 80, 100];
        assert!(crossed(&budget, &alerts, "99.99".parse().unwrap()).is_empty());
        assert_eq!(crossed(&budget, &alerts, Decimal::from(100)), vec![50]);
        assert_eq!(
            crossed(&budget, &alerts, "160".parse().unwrap()),
            vec![50, 80]
        );
        assert_eq!(crossed(&budget, &alerts, Decimal::from(250)), alerts);
    }
}
