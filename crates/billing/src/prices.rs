//! The price catalog with its history: every stored version of every entry, so that
//! usage is rated at the list price in force when it happened.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use meridian_core::catalog::ModelPrice;
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::BillingError;

/// All versions of the catalog, by (catalog key, effective_from).
#[derive(Debug, Default)]
pub struct PriceHistory {
    versions: HashMap<(String, DateTime<Utc>), ModelPrice>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
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
}

impl PriceHistory {
    pub async fn load(pool: &PgPool) -> Result<PriceHistory, BillingError> {
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT catalog_key, effective_from, provider, mode, input_per_token, output_per_token,
                    cache_read_per_token, cache_write_per_token, cache_write_1h_per_token,
                    reasoning_per_token
             FROM model_prices",
        )
        .fetch_all(pool)
        .await?;
        let n = |d: Option<Decimal>| d.map(|d| d.normalize());
        Ok(PriceHistory {
            versions: rows
                .into_iter()
                .map(|r| {
                    let price = ModelPrice {
                        catalog_key: r.catalog_key.clone(),
                        provider: r.provider,
                        mode: r.mode,
                        input: n(r.input_per_token),
                        output: n(r.output_per_token),
                        cache_read: n(r.cache_read_per_token),
                        cache_write: n(r.cache_write_per_token),
                        cache_write_1h: n(r.cache_write_1h_per_token),
                        reasoning: n(r.reasoning_per_token),
                        max_input_tokens: None,
                        max_output_tokens: None,
                    };
                    ((r.catalog_key, r.effective_from), price)
                })
                .collect(),
        })
    }

    pub fn version(&self, catalog_key: &str, effective_from: DateTime<Utc>) -> Option<&ModelPrice> {
        self.versions
            .get(&(catalog_key.to_string(), effective_from))
    }
}

/// SQL naming, for each rollup row `r`, the version of its catalog entry in force at
/// `r.hour`. Usage older than an entry's first stored version is rated at that first
/// version (the catalog did not exist yet; its first prices are the best record).
pub const VERSION_IN_FORCE_CTE: &str = "versions AS (
    SELECT catalog_key, effective_from,
           CASE WHEN row_number() OVER w = 1 THEN '-infinity'::timestamptz ELSE effective_from END AS valid_from,
           lead(effective_from, 1, 'infinity'::timestamptz) OVER w AS valid_until
    FROM model_prices
    WINDOW w AS (PARTITION BY catalog_key ORDER BY effective_from))";
