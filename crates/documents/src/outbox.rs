//! The e-mail sender over billing's transactional outbox (`document_outbox`): one row
//! per issued document, written in the transaction that issued it, so a document is
//! never issued without its e-mail being queued (never lost); and one per budget alert,
//! written with the alert (billing's `budget_alerts`).
//!
//! The protocol that keeps a message from going out twice (see the migration
//! `20261125000020_documents_outbox.sql`): a row is claimed in its own committed
//! transaction, which leases it, counts the attempt and records its deterministic
//! Message-ID *before* SMTP is spoken; it is marked `sent` only after the server accepted
//! the message. Failures go back to `pending` with exponential backoff (transient:
//! connection refused, timeouts, 4xx) or to `failed` (permanent: 5xx refusals, a
//! document that no longer renders), with the attempt count and last error visible to
//! finance and no message content. The one window left is a crash after the server
//! accepted and before `sent` was committed: the lease runs out and the message is sent
//! again with the same Message-ID, which receiving systems deduplicate on.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use meridian_billing::{Period, budget_alerts};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::mail::{Mailer, SendError, compose, compose_budget_alert};
use crate::model::InvoiceDocument;
use crate::{DocumentsError, render_pdf};

/// Where the sender gets an issued document from: [`crate::IssuedDocuments`] reads
/// billing's issued rows; tests give documents of their own.
pub trait DocumentSource: Send + Sync {
    fn load(
        &self,
        invoice_id: Uuid,
    ) -> impl Future<Output = Result<InvoiceDocument, DocumentsError>> + Send;
}

/// Backoff and lease timings.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubled after each further one.
    pub base: Duration,
    /// The longest delay between attempts. Transient failures are retried forever.
    pub max: Duration,
    /// How long a claimed row stays with its worker before another may take it.
    pub lease: Duration,
    /// How often an idle worker looks for due rows.
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 20) as u32 - 1;
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    const ALL: [OutboxStatus; 4] = [Self::Pending, Self::Sending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One outbox row as finance sees it: where the e-mail of a document or of a budget
/// alert stands. Holds ids, counts and the last SMTP or rendering error, never message
/// content.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutboxRow {
    pub id: i64,
    /// The document's (`None` for a budget alert's e-mail).
    pub invoice_id: Option<Uuid>,
    /// The document's number.
    pub number: Option<String>,
    /// The budget alert's (`None` for a document's e-mail).
    pub alert_id: Option<i64>,
    pub topic: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub recipient: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// What one pass over the due rows did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Drained {
    pub sent: usize,
    /// Transient failures, back in the queue with a backoff.
    pub retrying: usize,
    /// Permanent failures, waiting for finance.
    pub failed: usize,
}

/// The sender. Messages go out from the seller's snapshotted e-mail address, under its
/// legal name.
pub struct Outbox<S> {
    pool: PgPool,
    source: S,
    mailer: Mailer,
    policy: RetryPolicy,
}

/// What a row's e-mail is about.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Document(Uuid),
    BudgetAlert(i64),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Document(id) => write!(f, "document {id}"),
            Subject::BudgetAlert(id) => write!(f, "budget alert {id}"),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    invoice_id: Option<Uuid>,
    alert_id: Option<i64>,
    message_id: String,
    attempts: i32,
}

struct Claimed {
    id: i64,
    subject: Subject,
    message_id: String,
    attempts: i32,
}

/// The rows with their document's number.
const SELECT: &str =
    "SELECT o.id, o.invoice_id, i.number, o.alert_id, o.topic, o.status, o.attempts, o.last_error,
        o.message_id, o.recipient, o.next_attempt_at, o.sent_at
   FROM document_outbox o LEFT JOIN invoices i ON i.id = o.invoice_id";

/// How a claimed row ended.
enum Outcome {
    Sent,
    Retrying,
    Failed,
}

impl<S: DocumentSource> Outbox<S> {
    pub fn new(pool: PgPool, source: S, mailer: Mailer, policy: RetryPolicy) -> Self {
        Outbox {
            pool,
            source,
            mailer,
            policy,
        }
    }

    /// Sends every row that is due now; says how each went.
    pub async fn run_once(&self) -> Result<Drained, DocumentsError> {
        let mut drained = Drained::default();
        while let Some(outcome) = self.next().await? {
            match outcome {
                Outcome::Sent => drained.sent += 1,
                Outcome::Retrying => drained.retrying += 1,
                Outcome::Failed => drained.failed += 1,
            }
        }
        Ok(drained)
    }

    /// Runs until `shutdown` resolves, polling for due rows. It stops between rows,
    /// never in the middle of one, so shutting down adds no duplicate. A database error
    /// is logged and retried at the next poll; rows are never lost, only delayed.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.next().await {
                Ok(Some(_)) => {
                    let stop = tokio::select! {
                        biased;
                        _ = &mut shutdown => true,
                        _ = std::future::ready(()) => false,
                    };
                    if stop {
                        return;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "documents outbox: will retry"),
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(self.policy.poll) => {}
            }
        }
    }

    /// Claims, sends and records the next due row; `None` when no row is due.
    async fn next(&self) -> Result<Option<Outcome>, DocumentsError> {
        match self.claim().await? {
            Some(row) => Ok(Some(self.deliver(row).await?)),
            None => Ok(None),
        }
    }

    async fn claim(&self) -> Result<Option<Claimed>, DocumentsError> {
        let lease = self.policy.lease.as_millis() as i64;
        let row: Option<ClaimedRow> = sqlx::query_as(
            "UPDATE document_outbox o
                SET status = 'sending', attempts = attempts + 1,
                    locked_until = now() + make_interval(secs => $1::bigint / 1000.0),
                    message_id = COALESCE(message_id,
                        COALESCE(invoice_id::text, 'budget-alert-' || alert_id) || '.' || id || '@meridian')
              WHERE id = (SELECT id FROM document_outbox
                           WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                             AND (locked_until IS NULL OR locked_until < now())
                           ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
              RETURNING id, invoice_id, alert_id, message_id, attempts",
        )
        .bind(lease)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|row| {
            let ClaimedRow {
                id,
                invoice_id,
                alert_id,
                message_id,
                attempts,
            } = row;
            let subject = match (invoice_id, alert_id) {
                (Some(invoice), _) => Subject::Document(invoice),
                (None, Some(alert)) => Subject::BudgetAlert(alert),
                // The table's check constraint rules this out.
                (None, None) => return None,
            };
            Some(Claimed {
                id,
                subject,
                message_id,
                attempts,
            })
        }))
    }

    /// Renders and sends one claimed row, then records the outcome.
    async fn deliver(&self, row: Claimed) -> Result<Outcome, DocumentsError> {
        let outcome = match self.message(&row).await {
            Ok((message, recipient)) => match self.mailer.send(message).await {
                Ok(()) => Ok(recipient),
                Err(e) => Err(e),
            },
            Err(e @ DocumentsError::Db(_)) => Err(SendError::Transient(e.to_string())),
            Err(e) => Err(SendError::Permanent(e.to_string())),
        };
        match outcome {
            Ok(recipient) => {
                sqlx::query(
                    "UPDATE document_outbox SET status = 'sent', sent_at = now(), processed_at = now(),
                            recipient = $2, last_error = NULL, locked_until = NULL
                      WHERE id = $1 AND status = 'sending'",
                )
                .bind(row.id)
                .bind(recipient)
                .execute(&self.pool)
                .await?;
                tracing::info!(outbox_id = row.id, subject = %row.subject, "e-mailed");
                Ok(Outcome::Sent)
            }
            Err(SendError::Transient(error)) => {
                let delay = self.policy.backoff(row.attempts).as_millis() as i64;
                sqlx::query(
                    "UPDATE document_outbox SET status = 'pending', last_error = $2, locked_until = NULL,
                            next_attempt_at = now() + make_interval(secs => $3::bigint / 1000.0)
                      WHERE id = $1 AND status = 'sending'",
                )
                .bind(row.id)
                .bind(&error)
                .bind(delay)
                .execute(&self.pool)
                .await?;
                tracing::warn!(outbox_id = row.id, subject = %row.subject, %error, attempts = row.attempts, "e-mail will be retried");
                Ok(Outcome::Retrying)
            }
            Err(SendError::Permanent(error)) => {
                sqlx::query(
                    "UPDATE document_outbox SET status = 'failed', last_error = $2, locked_until = NULL
                      WHERE id = $1 AND status = 'sending'",
                )
                .bind(row.id)
                .bind(&error)
                .execute(&self.pool)
                .await?;
                // The reason may quote the document; it stays in the row, for finance.
                tracing::error!(outbox_id = row.id, subject = %row.subject, "e-mail failed for good; see its last_error in the outbox");
                Ok(Outcome::Failed)
            }
        }
    }

    /// The message of a claimed row and its recipient.
    async fn message(&self, row: &Claimed) -> Result<(lettre::Message, String), DocumentsError> {
        match row.subject {
            Subject::Document(invoice) => self.document_message(invoice, &row.message_id).await,
            Subject::BudgetAlert(alert) => {
                let alert = budget_alerts::load(&self.pool, alert)
                    .await?
                    .ok_or_else(|| DocumentsError::Invalid("the budget alert is gone".into()))?;
                let from = mailbox(&alert.entity_name, &alert.entity_email)?;
                let message = compose_budget_alert(&alert, from, &row.message_id)?;
                Ok((message, alert.customer_email))
            }
        }
    }

    /// A document's message, with its PDF. Rendering is CPU work, so it runs off the
    /// async threads that serve requests.
    async fn document_message(
        &self,
        invoice: Uuid,
        message_id: &str,
    ) -> Result<(lettre::Message, String), DocumentsError> {
        let doc = self.source.load(invoice).await?;
        let (doc, pdf) = tokio::task::spawn_blocking(move || {
            let pdf = render_pdf(&doc);
            (doc, pdf)
        })
        .await
        .map_err(|e| DocumentsError::Pdf(format!("rendering stopped: {e}")))?;
        let address = doc.seller.email.as_deref().ok_or_else(|| {
            DocumentsError::Invalid("the seller has no e-mail address to send from".into())
        })?;
        let from = mailbox(&doc.seller.legal_name, address)?;
        let message = compose(&doc, from, pdf?, message_id)?;
        Ok((message, doc.buyer.email))
    }
}

/// The seller's sender address, under its legal name.
fn mailbox(name: &str, address: &str) -> Result<Mailbox, DocumentsError> {
    let address = address
        .parse()
        .map_err(|e| DocumentsError::Invalid(format!("sender address: {e}")))?;
    Ok(Mailbox::new(Some(name.to_owned()), address))
}

/// Finance's view of one document's e-mail.
pub async fn status(pool: &PgPool, invoice_id: Uuid) -> Result<Option<OutboxRow>, DocumentsError> {
    let sql = format!("{SELECT} WHERE o.invoice_id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(invoice_id)
        .fetch_optional(pool)
        .await?)
}

/// Which rows to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub entity: Option<String>,
    pub period: Option<Period>,
}

/// Finance's view of the outbox, oldest row first.
pub async fn list(pool: &PgPool, filter: &OutboxFilter) -> Result<Vec<OutboxRow>, DocumentsError> {
    let sql = format!(
        "{SELECT}
          WHERE ($1::text IS NULL OR o.status = $1) AND ($2::text IS NULL OR i.entity_code = $2)
            AND ($3::date IS NULL OR i.period = $3)
          ORDER BY o.id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(filter.status)
        .bind(
            filter
                .entity
                .as_ref()
                .map(|e| e.trim().to_ascii_uppercase()),
        )
        .bind(filter.period.map(Period::first_day))
        .fetch_all(pool)
        .await?)
}

/// Puts a `failed` row back in the queue (after finance fixed the address, say).
/// Returns whether a failed row was found.
pub async fn retry_failed(pool: &PgPool, invoice_id: Uuid) -> Result<bool, DocumentsError> {
    let done = sqlx::query(
        "UPDATE document_outbox SET status = 'pending', next_attempt_at = now()
          WHERE invoice_id = $1 AND status = 'failed'",
    )
    .bind(invoice_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
