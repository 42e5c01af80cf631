//! The metering worker: reads the journal, aggregates, commits, repeats.
//!
//! Memory only caches what the journal holds. After any failed commit (Postgres
//! unreachable, or a commit whose outcome is unknown) the worker forgets its deltas and
//! re-reads the journal from the cursor stored in Postgres, so nothing is counted twice
//! and nothing is lost; meanwhile the journal keeps growing on disk.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use crate::journal::{Journal, JournalPosition};
use crate::rollup::Rollups;
use crate::store;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often new journal records are folded and committed.
    pub flush_interval: Duration,
    /// Most events per transaction.
    pub batch_events: usize,
    /// Longest wait between retries while Postgres is unreachable.
    pub max_backoff: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_millis(500),
            batch_events: 200_000,
            max_backoff: Duration::from_secs(5),
        }
    }
}

pub struct MeteringWorker {
    journal: Arc<Journal>,
    pool: PgPool,
    config: WorkerConfig,
    /// The cursor as last read from or written to Postgres; `None` until known.
    committed: Option<JournalPosition>,
}

impl MeteringWorker {
    pub fn new(journal: Arc<Journal>, pool: PgPool, config: WorkerConfig) -> Self {
        Self {
            journal,
            pool,
            config,
            committed: None,
        }
    }

    /// Runs until `shutdown` turns true, then commits what the journal holds (when
    /// Postgres allows) and returns.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.config.flush_interval;
        loop {
            let stopping = *shutdown.borrow();
            match self.drain().await {
                Ok(()) => backoff = self.config.flush_interval,
                Err(e) => {
                    self.committed = None;
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "metering commit failed; usage stays in the journal");
                    backoff = (backoff * 2).min(self.config.max_backoff);
                }
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Commits everything the journal holds past the cursor, batch by batch.
    pub async fn drain(&mut self) -> Result<(), store::CommitError> {
        let mut from = match self.committed {
            Some(p) => p,
            None => {
                let p = store::committed_position(&self.pool, self.journal.id()).await?;
                self.committed = Some(p);
                p
            }
        };
        loop {
            let journal = self.journal.clone();
            let limit = self.config.batch_events;
            let (events, to) = tokio::task::spawn_blocking(move || journal.read_from(from, limit))
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
                .map_err(sqlx::Error::Io)?;
            if events.is_empty() && to == from {
                return Ok(());
            }
            let mut rollups = Rollups::default();
            events.iter().for_each(|e| rollups.add(e));
            store::commit(&self.pool, self.journal.id(), from, to, &rollups).await?;
            tracing::debug!(
                events = rollups.events(),
                rows = rollups.len(),
                "usage rollups committed"
            );
            self.committed = Some(to);
            if let Err(e) = self.journal.remove_before(to) {
                tracing::warn!(error = %e, "could not delete committed journal segments");
            }
            from = to;
            if events.len() < limit {
                return Ok(());
            }
        }
    }
}
