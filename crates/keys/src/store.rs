//! The keys in memory, by the hash of their secret, for the hot path. A background
//! task polls the rows whose `updated_at` moved, so a creation, change, rotation or
//! revocation takes effect within one poll interval (250 ms by default) in every
//! process. Expiry needs no refresh: it is checked against the clock at each use.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, TimeDelta, Utc};
use meridian_core::{KeyEntry, KeyId, KeyLookup};
use sqlx::PgPool;

use crate::secret::{KeyHash, hash_key};
use crate::table::{self, StoredKey};

/// Rows changed this long before the newest change seen are read again, so a
/// transaction that committed late is not missed.
const POLL_OVERLAP: TimeDelta = TimeDelta::seconds(2);

/// The in-memory key table: each secret's hash (a rotated key's previous secret too)
/// to what its key is.
#[derive(Default)]
pub struct KeyStore {
    keys: ArcSwap<HashMap<KeyHash, KeyEntry>>,
    newest_change: parking_lot::Mutex<Option<DateTime<Utc>>>,
}

impl KeyLookup for KeyStore {
    fn lookup(&self, secret: &str) -> Option<KeyEntry> {
        KeyStore::lookup(self, secret)
    }
}

/// The secrets of one key and what each stands for: the previous secret of a rotated
/// key expires with its grace period.
fn entries(key: &StoredKey) -> Vec<(KeyHash, KeyEntry)> {
    let r = &key.record;
    let entry = KeyEntry {
        id: r.id,
        customer_id: r.customer_id,
        role: r.role,
        revoked: r.revoked_at.is_some(),
        expires_at: r.expires_at,
        limits: r.limits,
        budget: r.budget,
        residency: key.residency.as_deref().map(Arc::from),
        home_region: key.home_region.as_deref().map(Arc::from),
    };
    let mut entries = Vec::with_capacity(2);
    if let (Some(hash), Some(grace_end)) = (key.previous_key_hash, r.previous_key_expires_at) {
        let previous = KeyEntry {
            expires_at: Some(r.expires_at.map_or(grace_end, |at| at.min(grace_end))),
            ..entry.clone()
        };
        entries.push((hash, previous));
    }
    entries.push((key.key_hash, entry));
    entries
}

impl KeyStore {
    pub fn lookup(&self, key: &str) -> Option<KeyEntry> {
        self.keys.load().get(&hash_key(key)).cloned()
    }

    /// Secrets held (a rotated key within its grace period has two).
    pub fn len(&self) -> usize {
        self.keys.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the keys changed since the last refresh (all of them the first time).
    pub async fn refresh(&self, pool: &PgPool) -> sqlx::Result<()> {
        let since = *self.newest_change.lock();
        let rows = table::changed_since(pool, since.map(|t| t - POLL_OVERLAP)).await?;
        let current = self.keys.load();
        let wanted: Vec<(KeyHash, KeyEntry)> = rows.iter().flat_map(entries).collect();
        // A changed secret shows as a hash not held yet, so stale hashes are dropped
        // whenever one appears.
        let changed = wanted
            .iter()
            .any(|(hash, entry)| current.get(hash) != Some(entry));
        if changed {
            let ids: HashSet<KeyId> = rows.iter().map(|r| r.record.id).collect();
            let mut next = HashMap::clone(&current);
            next.retain(|_, e| !ids.contains(&e.id));
            next.extend(wanted);
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
