//! The price catalog with its history: every stored version of every entry (read
//! through `meridian_core::price_versions`, the table's owner), so that usage is
//! rated at the list price in force when it happened.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use meridian_core::catalog::ModelPrice;
use meridian_core::price_versions;

use crate::BillingError;

/// All versions of the catalog, by (catalog key, effective_from).
#[derive(Debug, Default)]
pub struct PriceHistory {
    versions: HashMap<(String, DateTime<Utc>), ModelPrice>,
}

impl PriceHistory {
    pub async fn load(pool: &sqlx::PgPool) -> Result<PriceHistory, BillingError> {
        Ok(PriceHistory {
            versions: price_versions::all(pool).await?,
        })
    }

    pub fn version(&self, catalog_key: &str, effective_from: DateTime<Utc>) -> Option<&ModelPrice> {
        self.versions
            .get(&(catalog_key.to_string(), effective_from))
    }
}
