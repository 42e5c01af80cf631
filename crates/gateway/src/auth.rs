//! API keys: `mk-` plus 40 random base-62 characters (~238 bits), stored only as a
//! SHA-256 hash, served from memory on the hot path. A background task polls the rows
//! whose `updated_at` moved, so a revocation takes effect within one poll interval
//! (250 ms by default) in every process.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, TimeDelta, Utc};
pub use meridian_core::KeyEntry;
use meridian_core::{CustomerId, KeyId, KeyLookup};
use rand::Rng;
use rand::distr::Alphanumeric;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

pub const KEY_PREFIX: &str = "mk-";
const KEY_RANDOM_CHARS: usize = 40;
/// Rows changed this long before the newest change seen are read again, so a
/// transaction that committed late is not missed.
const POLL_OVERLAP: TimeDelta = TimeDelta::seconds(2);

pub type KeyHash = [u8; 32];

pub fn hash_key(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// A freshly created key. `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub id: KeyId,
    pub secret: String,
}

/// The in-memory key table.
#[derive(Default)]
pub struct KeyStore {
    keys: ArcSwap<HashMap<KeyHash, KeyEntry>>,
    newest_change: parking_lot::Mutex<Option<DateTime<Utc>>>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: KeyId,
    customer_id: CustomerId,
    key_hash: Vec<u8>,
    revoked: bool,
    residency: Option<String>,
    home_region: Option<String>,
    updated_at: DateTime<Utc>,
}

impl KeyRow {
    fn entry(&self) -> KeyEntry {
        KeyEntry {
            id: self.id,
            customer_id: self.customer_id,
            revoked: self.revoked,
            residency: self.residency.as_deref().map(Arc::from),
            home_region: self.home_region.as_deref().map(Arc::from),
        }
    }
}

impl KeyLookup for KeyStore {
    fn lookup(&self, secret: &str) -> Option<KeyEntry> {
        KeyStore::lookup(self, secret)
    }
}

impl KeyStore {
    pub fn lookup(&self, key: &str) -> Option<KeyEntry> {
        self.keys.load().get(&hash_key(key)).cloned()
    }

    pub fn len(&self) -> usize {
        self.keys.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the keys changed since the last refresh (all of them the first time).
    pub async fn refresh(&self, pool: &PgPool) -> sqlx::Result<()> {
        let since = *self.newest_change.lock();
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, customer_id, key_hash, revoked_at IS NOT NULL AS revoked, residency,
                    home_region, updated_at
             FROM api_keys WHERE $1::timestamptz IS NULL OR updated_at > $1",
        )
        .bind(since.map(|t| t - POLL_OVERLAP))
        .fetch_all(pool)
        .await?;
        let current = self.keys.load();
        let changed: Vec<(KeyHash, KeyEntry)> = rows
            .iter()
            .filter_map(|r| {
                let hash = KeyHash::try_from(r.key_hash.as_slice()).ok()?;
                let entry = r.entry();
                (current.get(&hash) != Some(&entry)).then_some((hash, entry))
            })
            .collect();
        if !changed.is_empty() {
            let mut next = HashMap::clone(&current);
            next.extend(changed);
            self.keys.store(Arc::new(next));
        }
        if let Some(newest) = rows.iter().map(|r| r.updated_at).max() {
            let mut guard = self.newest_change.lock();
            *guard = Some(guard.map_or(newest, |t| t.max(newest)));
        }
        Ok(())
    }

    /// Keeps the table fresh until the process ends.
    pub fn spawn_refresher(
        self: &Arc<Self>,
        pool: PgPool,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = store.refresh(&pool).await {
                    tracing::warn!(error = %e, "API key refresh failed; serving the keys already loaded");
                }
            }
        })
    }
}

/// Creates a key for `customer_id`; returns it once.
pub async fn create_key(
    pool: &PgPool,
    customer_id: CustomerId,
    name: Option<&str>,
    budget: Option<Decimal>,
) -> sqlx::Result<CreatedKey> {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_RANDOM_CHARS)
        .map(char::from)
        .collect();
    let secret = format!("{KEY_PREFIX}{random}");
    let id = KeyId::new();
    sqlx::query(
        "INSERT INTO api_keys (id, customer_id, name, key_hash, key_prefix, budget) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(customer_id)
    .bind(name)
    .bind(hash_key(&secret).as_slice())
    .bind(&secret[..KEY_PREFIX.len() + 4])
    .bind(budget)
    .execute(pool)
    .await?;
    Ok(CreatedKey { id, secret })
}

/// Revokes a key of `customer_id`. Returns false when the customer has no such live key.
pub async fn revoke_key(
    pool: &PgPool,
    customer_id: CustomerId,
    key_id: KeyId,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND customer_id = $2 AND revoked_at IS NULL",
    )
    .bind(key_id)
    .bind(customer_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
