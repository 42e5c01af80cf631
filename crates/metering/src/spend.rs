//! What was spent since a time, from the rollups plus the events of this process's
//! journal not yet folded into them: where the gateway's spend budgets start from
//! after a restart. Read before the metering worker starts, so that no event is
//! counted both in the journal and in the rollups.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use meridian_core::{CustomerId, KeyId};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::journal::Journal;
use crate::store;

/// Journal records read at a time.
const READ_BATCH: usize = 10_000;

/// The billed cost of one customer's key (`None`: requests without a key) in one
/// hour, USD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    pub customer_id: CustomerId,
    pub key_id: Option<KeyId>,
    pub hour: DateTime<Utc>,
    pub cost: Decimal,
}

#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("reading the usage journal: {0}")]
    Journal(#[from] std::io::Error),
}

/// The billed cost of every hour from the one holding `since` on, by customer and
/// key: the committed rollups, then `journal`'s events past its committed position.
pub async fn since(
    pool: &PgPool,
    journal: &Journal,
    since: DateTime<Utc>,
) -> Result<Vec<Spent>, SpendError> {
    let hour = since.duration_trunc(TimeDelta::hours(1)).unwrap_or(since);
    let rows: Vec<(CustomerId, Option<KeyId>, DateTime<Utc>, Decimal)> = sqlx::query_as(
        "SELECT customer_id, key_id, hour, sum(cost) FROM usage_rollups
         WHERE hour >= $1 GROUP BY customer_id, key_id, hour HAVING sum(cost) <> 0",
    )
    .bind(hour)
    .fetch_all(pool)
    .await?;
    let mut spent: Vec<Spent> = rows
        .into_iter()
        .map(|(customer_id, key_id, hour, cost)| Spent {
            customer_id,
            key_id,
            hour,
            cost,
        })
        .collect();
    let mut from = store::committed_position(pool, journal.id()).await?;
    loop {
        let (events, next) = journal.read_from(from, READ_BATCH)?;
        if events.is_empty() {
            break;
        }
        spent.extend(
            events
                .into_iter()
                .filter(|e| e.is_billed() && e.time >= hour && !e.cost.is_zero())
                .map(|e| Spent {
                    customer_id: e.customer_id,
                    key_id: e.key_id,
                    hour: e.time.duration_trunc(TimeDelta::hours(1)).unwrap_or(e.time),
                    cost: e.cost,
                }),
        );
        from = next;
    }
    Ok(spent)
}
