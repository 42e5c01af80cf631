//! New price versions reach the running gateway: a background task polls what the
//! catalog holds in force and, when that changed, reloads it and swaps a repriced
//! [`ModelTable`] snapshot in. The request path only reads the snapshot (no database
//! round trip); a request keeps the prices of the snapshot it resolved its model in.
//!
//! Polled rather than LISTEN/NOTIFY: the key table already polls every 250 ms, and a
//! poll sees every writer (`prices import` of any version, a restore, hand-written
//! SQL), needs no dedicated connection, and misses nothing while the connection is
//! down — LISTEN would still need this poll as its fallback for notifications lost
//! across a reconnect. The poll is one aggregate over `model_prices` (a few thousand
//! rows); the catalog itself is read only when it changed.
//!
//! A version whose `effective_from` lies ahead is not applied early: each poll also
//! reads the next such time, and when it falls before the next poll the catalog as of
//! that time is read ahead and swapped in when it comes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use meridian_core::catalog::{CatalogError, PriceCatalog};
use meridian_core::price_versions::{self, InForce};
use sqlx::PgPool;

use crate::targets::{ModelTable, TableError};

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Whether `b` holds the same versions in force as `a` (versions are only added).
fn same_versions(a: InForce, b: InForce) -> bool {
    (a.versions, a.newest) == (b.versions, b.newest)
}

/// Keeps a table's prices those in force.
pub struct PriceRefresher {
    table: ModelTable,
    pool: PgPool,
    /// What the table was last priced from; `None` until the first poll, which prices
    /// it again (a version stored while the server started is not missed).
    applied: Option<InForce>,
}

impl PriceRefresher {
    pub fn new(table: ModelTable, pool: PgPool) -> PriceRefresher {
        PriceRefresher {
            table,
            pool,
            applied: None,
        }
    }

    /// One poll at `now`: prices the table from the versions in force when they
    /// changed, and from a version due within `horizon` when it comes.
    pub async fn poll(
        &mut self,
        now: DateTime<Utc>,
        horizon: Duration,
    ) -> Result<(), RefreshError> {
        let state = price_versions::in_force(&self.pool, now).await?;
        if !self.applied.is_some_and(|a| same_versions(a, state)) {
            let catalog = price_versions::load_at(&self.pool, now).await?;
            self.reprice(&catalog, now)?;
            self.applied = Some(state);
        }
        if let Some(due) = state.next
            && (due - now).to_std().is_ok_and(|wait| wait <= horizon)
        {
            let ahead = price_versions::load_at(&self.pool, due).await?;
            if let Ok(wait) = (due - Utc::now()).to_std() {
                tokio::time::sleep(wait).await;
            }
            self.reprice(&ahead, due)?;
            self.applied = Some(price_versions::in_force(&self.pool, due).await?);
        }
        Ok(())
    }

    fn reprice(&self, catalog: &PriceCatalog, at: DateTime<Utc>) -> Result<(), TableError> {
        let changed = self.table.reprice(catalog)?;
        if changed > 0 {
            tracing::info!(targets = changed, in_force_at = %at, "list prices updated");
        }
        Ok(())
    }

    /// Polls every `every` until the process ends.
    pub fn spawn(mut self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.poll(Utc::now(), every).await {
                    tracing::warn!(error = %e, "price refresh failed; serving the prices already loaded");
                }
            }
        })
    }
}
