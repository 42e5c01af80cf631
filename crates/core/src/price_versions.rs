//! The `model_prices` table, its one owner: every version of every catalog entry,
//! each with the time it takes effect. Imports add a version only where a price
//! changed; nothing is ever updated or deleted, so usage is always rated at the
//! price in force when it happened. The gateway, metering, billing and the API read
//! the table through these functions only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::catalog::{CatalogError, ModelPrice, PriceCatalog};

/// One stored version of a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceVersion {
    pub effective_from: DateTime<Utc>,
    pub price: ModelPrice,
}

/// What the table holds in force at one moment, and the next version due after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct InForce {
    /// Versions in force or superseded at that moment.
    pub versions: i64,
    pub newest: Option<DateTime<Utc>>,
    /// The earliest version that takes effect later.
    pub next: Option<DateTime<Utc>>,
}

/// SQL naming, for each rollup row `r`, the version of its catalog entry in force at
/// `r.hour` (a CTE `versions(catalog_key, effective_from, valid_from, valid_until)`
/// for rating's one scan of the rollups). Usage older than an entry's first stored
/// version is rated at that first version (the catalog did not exist yet; its first
/// prices are the best record).
pub const VERSION_IN_FORCE_CTE: &str = "versions AS (
    SELECT catalog_key, effective_from,
           CASE WHEN row_number() OVER w = 1 THEN '-infinity'::timestamptz ELSE effective_from END AS valid_from,
           lead(effective_from, 1, 'infinity'::timestamptz) OVER w AS valid_until
    FROM model_prices
    WINDOW w AS (PARTITION BY catalog_key ORDER BY effective_from))";

#[derive(sqlx::FromRow)]
struct Row {
    catalog_key: String,
    effective_from: DateTime<Utc>,
    provider: String,
    mode: Option<String>,
    input_per_token: Option<Decimal>,
    output_per_token: Option<Decimal>,
    cache_read_per_token: Option<Decimal>,
    cache_write_per_token: Option<Decimal>,
    cache_write_1h_per_token: Option<Decimal>,
    reasoning_per_token: Option<Decimal>,
    max_input_tokens: Option<i64>,
    max_output_tokens: Option<i64>,
}

/// The columns of [`Row`], in one place for every query.
macro_rules! columns {
    () => {
        "catalog_key, effective_from, provider, mode, input_per_token, output_per_token,
         cache_read_per_token, cache_write_per_token, cache_write_1h_per_token,
         reasoning_per_token, max_input_tokens, max_output_tokens"
    };
}

impl From<Row> for PriceVersion {
    fn from(r: Row) -> Self {
        let n = |d: Option<Decimal>| d.map(|d| d.normalize());
        PriceVersion {
            effective_from: r.effective_from,
            price: ModelPrice {
                catalog_key: r.catalog_key,
                provider: r.provider,
                mode: r.mode,
                input: n(r.input_per_token),
                output: n(r.output_per_token),
                cache_read: n(r.cache_read_per_token),
                cache_write: n(r.cache_write_per_token),
                cache_write_1h: n(r.cache_write_1h_per_token),
                reasoning: n(r.reasoning_per_token),
                max_input_tokens: r.max_input_tokens,
                max_output_tokens: r.max_output_tokens,
            },
        }
    }
}

/// Stores a parsed price file as of `now`: an entry gets a new version row only when
/// one of its prices differs from the version in force at `now`. Returns the number
/// of versions written.
pub async fn import(
    pool: &PgPool,
    prices: &[ModelPrice],
    now: DateTime<Utc>,
) -> Result<u64, CatalogError> {
    let current = load_at(pool, now).await?;
    let changed: Vec<&ModelPrice> = prices
        .iter()
        .filter(|p| current.get(&p.catalog_key) != Some(*p))
        .collect();
    let mut tx = pool.begin().await?;
    for chunk in changed.chunks(1000) {
        let col =
            |f: fn(&ModelPrice) -> Option<Decimal>| chunk.iter().map(|p| f(p)).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO model_prices (catalog_key, effective_from, provider, mode, input_per_token,
                output_per_token, cache_read_per_token, cache_write_per_token, reasoning_per_token,
                max_input_tokens, max_output_tokens, cache_write_1h_per_token)
             SELECT k, $2, p, m, i, o, cr, cw, r, mi, mo, cw1
             FROM UNNEST($1::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
                         $8::numeric[], $9::numeric[], $10::bigint[], $11::bigint[], $12::numeric[])
                  AS t(k, p, m, i, o, cr, cw, r, mi, mo, cw1)
             ON CONFLICT (catalog_key, effective_from) DO NOTHING",
        )
        .bind(chunk.iter().map(|p| p.catalog_key.as_str()).collect::<Vec<_>>())
        .bind(now)
        .bind(chunk.iter().map(|p| p.provider.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.mode.as_deref()).collect::<Vec<_>>())
        .bind(col(|p| p.input))
        .bind(col(|p| p.output))
        .bind(col(|p| p.cache_read))
        .bind(col(|p| p.cache_write))
        .bind(col(|p| p.reasoning))
        .bind(chunk.iter().map(|p| p.max_input_tokens).collect::<Vec<_>>())
        .bind(chunk.iter().map(|p| p.max_output_tokens).collect::<Vec<_>>())
        .bind(col(|p| p.cache_write_1h))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(changed.len() as u64)
}

/// The catalog as it stood at `at`: for each entry the latest version not after `at`.
pub async fn load_at(pool: &PgPool, at: DateTime<Utc>) -> Result<PriceCatalog, CatalogError> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT DISTINCT ON (catalog_key) ",
        columns!(),
        " FROM model_prices WHERE effective_from <= $1
         ORDER BY catalog_key, effective_from DESC"
    ))
    .bind(at)
    .fetch_all(pool)
    .await?;
    Ok(PriceCatalog::new(
        rows.into_iter().map(|r| PriceVersion::from(r).price),
    ))
}

/// Every stored version, by (catalog key, effective from).
pub async fn all(pool: &PgPool) -> sqlx::Result<HashMap<(String, DateTime<Utc>), ModelPrice>> {
    let rows: Vec<Row> = sqlx::query_as(concat!("SELECT ", columns!(), " FROM model_prices"))
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let v = PriceVersion::from(r);
            ((v.price.catalog_key.clone(), v.effective_from), v.price)
        })
        .collect())
}

/// The versions of the entries whose catalog key is `model` or ends in `/model`
/// (`gpt-4o-mini`, `azure/gpt-4o-mini`, `azure/eu/gpt-4o-mini`), ordered by key and
/// time, from after (`after_key`, `after_time`) on, at most `limit`.
pub async fn of_model(
    pool: &PgPool,
    model: &str,
    after: Option<(&str, DateTime<Utc>)>,
    limit: u32,
) -> sqlx::Result<Vec<PriceVersion>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM model_prices
         WHERE (catalog_key = $1 OR right(catalog_key, length($1) + 1) = '/' || $1)
           AND ($2::text IS NULL OR (catalog_key, effective_from) > ($2, $3))
         ORDER BY catalog_key, effective_from LIMIT $4"
    ))
    .bind(model)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(PriceVersion::from).collect())
}

/// The distinct times at which versions take effect, oldest first.
pub async fn epochs(pool: &PgPool) -> sqlx::Result<Vec<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT DISTINCT effective_from FROM model_prices ORDER BY 1")
        .fetch_all(pool)
        .await
}

/// What is in force at `at` (one aggregate over the table: cheap to poll).
pub async fn in_force(pool: &PgPool, at: DateTime<Utc>) -> sqlx::Result<InForce> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE effective_from <= $1) AS versions,
                max(effective_from) FILTER (WHERE effective_from <= $1) AS newest,
                min(effective_from) FILTER (WHERE effective_from > $1) AS next
         FROM model_prices",
    )
    .bind(at)
    .fetch_one(pool)
    .await
}

/// Whether no version is stored at all.
pub async fn is_empty(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM model_prices)")
        .fetch_one(pool)
        .await
}
