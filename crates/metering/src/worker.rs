//! The metering worker: takes journal records, aggregates, commits, repeats.
//!
//! In the steady state the records arrive in memory from the journal's tail channel,
//! each with its journal position; the worker only accepts a record that starts where
//! the previous one ended. Any gap (the channel was full), any failed commit (Postgres
//! unreachable, or a commit whose outcome is unknown) and a restart switch it to
//! reading the journal file from the cursor stored in Postgres, until it has caught up.
//! So nothing is counted twice and nothing is lost; meanwhile the journal keeps growing
//! on disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use crate::journal::{Appended, Journal, JournalPosition};
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
    /// Records held in memory at most (about 300 bytes each); past that the worker
    /// reads them back from the journal file.
    pub tail_capacity: usize,
    /// How often the journal is flushed to the disk (`fdatasync`): the most a crash of
    /// the machine can lose. Each flush makes appends wait for the filesystem's
    /// journal commit for a few milliseconds, so not every round; ext4 itself commits
    /// every 5 s.
    pub sync_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_millis(500),
            batch_events: 200_000,
            max_backoff: Duration::from_secs(5),
            tail_capacity: 100_000,
            sync_interval: Duration::from_secs(5),
        }
    }
}

pub struct MeteringWorker {
    journal: Arc<Journal>,
    pool: PgPool,
    config: WorkerConfig,
    /// The cursor as last read from or written to Postgres; `None` until known.
    committed: Option<JournalPosition>,
    /// Records offered in memory; `None` when the journal already had a subscriber.
    tail: Option<mpsc::Receiver<Appended>>,
    /// Whether the file holds records past the cursor that memory has not seen.
    behind: bool,
}

/// Events aggregated between two yields to the runtime.
const YIELD_EVERY: u64 = 64;

impl MeteringWorker {
    pub fn new(journal: Arc<Journal>, pool: PgPool, config: WorkerConfig) -> Self {
        let tail = journal.subscribe(config.tail_capacity);
        Self {
            journal,
            pool,
            config,
            committed: None,
            tail,
            behind: true,
        }
    }

    /// Runs until `shutdown` turns true, then commits what the journal holds (when
    /// Postgres allows) and returns.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.config.flush_interval;
        let mut synced = Instant::now();
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
            if stopping || synced.elapsed() >= self.config.sync_interval {
                self.sync_journal().await;
                synced = Instant::now();
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

    /// Flushes the journal to the disk; until then a crash of the machine (not of the
    /// process) could lose the newest records.
    async fn sync_journal(&self) {
        self.on_blocking_thread("usage journal fdatasync", Journal::sync)
            .await;
    }

    /// Runs `work` on the journal on a blocking thread (it waits for the disk, which
    /// the runtime's threads, serving requests, must not), logging a failure as `what`.
    async fn on_blocking_thread(
        &self,
        what: &'static str,
        work: impl FnOnce(&Journal) -> std::io::Result<()> + Send + 'static,
    ) {
        let journal = self.journal.clone();
        match tokio::task::spawn_blocking(move || work(&journal)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "{what} failed"),
            Err(e) => tracing::warn!(error = %e, "{what} did not run"),
        }
    }

    /// Commits what the journal holds past the cursor, batch by batch: at least every
    /// record written before the call.
    pub async fn drain(&mut self) -> Result<(), store::CommitError> {
        if self.committed.is_none() {
            self.committed = Some(store::committed_position(&self.pool, self.journal.id()).await?);
            self.behind = true;
        }
        let result = self.drain_known().await;
        if result.is_err() {
            self.committed = None;
        }
        result
    }

    async fn drain_known(&mut self) -> Result<(), store::CommitError> {
        // Records written after this point wait for the next round: chasing them would
        // turn steady traffic into back-to-back transactions.
        let target = self.journal.end();
        loop {
            let from = self.committed.unwrap_or_default();
            if from >= target {
                return Ok(());
            }
            if !self.behind {
                let (rollups, to) = self.take_from_memory(from).await;
                if to != from {
                    self.commit(from, to, &rollups).await?;
                    continue;
                }
                // A record before `target` that the channel dropped.
                self.behind = true;
            }
            let (rollups, to, complete) = self.read_from_file(from).await?;
            if to != from {
                self.commit(from, to, &rollups).await?;
            }
            if complete {
                self.behind = false;
                return Ok(());
            }
        }
    }

    /// Aggregates the in-memory records that continue from `from` (at most one batch).
    /// Records already read from the file are skipped; a gap marks the worker behind.
    async fn take_from_memory(&mut self, from: JournalPosition) -> (Rollups, JournalPosition) {
        let mut rollups = Rollups::default();
        let mut next = from;
        let Some(tail) = &mut self.tail else {
            self.behind = true;
            return (rollups, next);
        };
        while rollups.events() < self.config.batch_events as u64 {
            let Ok(appended) = tail.try_recv() else { break };
            if appended.end <= next {
                continue;
            }
            if appended.start != next {
                self.behind = true;
                break;
            }
            rollups.add(appended.event);
            next = appended.end;
            // The worker shares the runtime (often one core) with requests: let them in.
            if rollups.events() % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
        (rollups, next)
    }

    /// Aggregates up to one batch from the journal file. `complete`: it reached the end.
    async fn read_from_file(
        &self,
        from: JournalPosition,
    ) -> Result<(Rollups, JournalPosition, bool), store::CommitError> {
        let journal = self.journal.clone();
        let limit = self.config.batch_events;
        let (events, to) = tokio::task::spawn_blocking(move || journal.read_from(from, limit))
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(sqlx::Error::Io)?;
        let mut rollups = Rollups::default();
        let complete = events.len() < limit;
        events.into_iter().for_each(|e| rollups.add(e));
        Ok((rollups, to, complete))
    }

    async fn commit(
        &mut self,
        from: JournalPosition,
        to: JournalPosition,
        rollups: &Rollups,
    ) -> Result<(), store::CommitError> {
        store::commit(&self.pool, self.journal.id(), from, to, rollups).await?;
        tracing::debug!(
            events = rollups.events(),
            rows = rollups.len(),
            "usage rollups committed"
        );
        self.committed = Some(to);
        if to.segment > from.segment {
            // Unlinking a 64 MB file can take milliseconds.
            self.on_blocking_thread("deleting committed journal segments", move |journal| {
                journal.remove_before(to)
            })
            .await;
        }
        Ok(())
    }
}
