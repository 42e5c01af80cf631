//! Invoice runs started in the background (`POST /admin/v1/invoice-runs`), and the
//! `invoice_run_jobs` table, its one owner. A job is [`run::run`] of one period (one
//! entity or all), the same run as `meridian invoices run`, with its progress counted
//! on the job's row: invoices issued so far (`done`) out of those to issue (`total`,
//! growing as each entity's run is prepared).
//!
//! A job beats its row's heartbeat while it runs. One whose process died keeps
//! `running` with a heartbeat that stopped: it is shown `interrupted`, and a new job
//! of the same period resumes the run (each batch of invoices committed on its own,
//! customers already invoiced skipped). Two jobs of one entity at once serialize on
//! the run's advisory lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::progress::Progress;
use crate::{BillingError, Period, run};

/// How often a running job beats its heartbeat.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// A running job whose heartbeat is older than this has lost its process.
const STALE_AFTER_SECS: i32 = 30;

/// A job as `GET /admin/v1/invoice-runs/{id}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    /// `None`: every entity.
    pub entity: Option<String>,
    /// `running`, `completed`, `failed` (see `error`; what was issued stays), or
    /// `interrupted` (its process stopped; start the run again to resume it).
    #[schema(example = "completed")]
    pub status: String,
    pub progress: JobProgress,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct JobProgress {
    /// Invoices this job issued so far.
    pub done: i32,
    /// Invoices it has to issue, over the entities prepared so far.
    pub total: i32,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    period: NaiveDate,
    entity_code: Option<String>,
    status: String,
    stale: bool,
    done: i32,
    total: i32,
    error: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<Row> for Job {
    fn from(r: Row) -> Self {
        let status = if r.status == "running" && r.stale {
            "interrupted".to_string()
        } else {
            r.status
        };
        Job {
            id: r.id,
            period: Period::from_first_day(r.period).to_string(),
            entity: r.entity_code,
            status,
            progress: JobProgress {
                done: r.done,
                total: r.total,
            },
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// Records a new job of `period` (`entity` uppercased, or every entity) in `conn`'s
/// transaction, once [`run::check`] found it could start; [`execute`] runs it.
pub async fn create(
    conn: &mut PgConnection,
    period: Period,
    entity: Option<&str>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO invoice_run_jobs (id, period, entity_code, status) VALUES ($1, $2, $3, 'running')",
    )
    .bind(id)
    .bind(period.first_day())
    .bind(entity.map(|e| e.trim().to_ascii_uppercase()))
    .execute(conn)
    .await?;
    Ok(id)
}

/// The job `id`, if there is one.
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Job>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, period, entity_code, status, done, total, error, started_at, finished_at,
                heartbeat_at < now() - make_interval(secs => $2) AS stale
         FROM invoice_run_jobs WHERE id = $1",
    )
    .bind(id)
    .bind(STALE_AFTER_SECS)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Job::from))
}

/// Runs the job `id` (created by [`create`]) to its end as of `now`, beating its
/// heartbeat, and records how it ended.
pub async fn execute(pool: PgPool, id: Uuid, now: DateTime<Utc>) {
    if let Err(e) = execute_inner(&pool, id, now).await {
        tracing::error!(job = %id, error = %e, "invoice run job could not record its end");
    }
}

async fn execute_inner(pool: &PgPool, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    let (first_day, entity): (NaiveDate, Option<String>) =
        sqlx::query_as("SELECT period, entity_code FROM invoice_run_jobs WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let progress = Progress::Job(Tracker {
        pool: pool.clone(),
        id,
        last: AtomicUsize::new(0),
    });
    let running = run::run(
        pool,
        Period::from_first_day(first_day),
        entity.as_deref(),
        now,
        &progress,
    );
    tokio::pin!(running);
    let mut beat = tokio::time::interval(HEARTBEAT);
    let outcome = loop {
        tokio::select! {
            outcome = &mut running => break outcome,
            _ = beat.tick() => {
                sqlx::query("UPDATE invoice_run_jobs SET heartbeat_at = now() WHERE id = $1")
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
        }
    };
    let error = match outcome {
        Ok(report) if report.failures.is_empty() => None,
        Ok(report) => Some(
            report
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.entity, f.reason.replace('\n', " ")))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(BillingError::Db(e)) => {
            tracing::error!(job = %id, error = %e, "invoice run job failed on the database");
            Some("the database failed during the run; what was issued stays, start the run again to resume it".into())
        }
        Err(e) => Some(e.to_string()),
    };
    sqlx::query(
        "UPDATE invoice_run_jobs SET status = $2, error = $3, finished_at = now(), heartbeat_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(if error.is_none() { "completed" } else { "failed" })
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts a job's progress on its row.
pub struct Tracker {
    pool: PgPool,
    id: Uuid,
    /// Invoices counted of the entity being run.
    last: AtomicUsize,
}

const ADD_TOTAL: &str =
    "UPDATE invoice_run_jobs SET total = total + $2, heartbeat_at = now() WHERE id = $1";
const ADD_DONE: &str =
    "UPDATE invoice_run_jobs SET done = done + $2, heartbeat_at = now() WHERE id = $1";

impl Tracker {
    pub(crate) async fn start(&self, total: usize) {
        self.last.store(0, Ordering::Relaxed);
        self.add(ADD_TOTAL, total).await;
    }

    pub(crate) async fn advance(&self, done: usize) {
        let before = self.last.swap(done, Ordering::Relaxed);
        self.add(ADD_DONE, done.saturating_sub(before)).await;
    }

    /// Progress is a report: failing to count it does not stop the run.
    async fn add(&self, sql: &'static str, n: usize) {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        if let Err(e) = sqlx::query(sql)
            .bind(self.id)
            .bind(n)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(job = %self.id, error = %e, "invoice run progress not recorded");
        }
    }
}
