//! The e-mail sender over billing's transactional outbox (`document_outbox`): one row
//! per issued document, written in the transaction that issued it, so a document is
//! never issued without its e-mail being queued (never lost).
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
use sqlx::PgPool;
use uuid::Uuid;

use crate::mail::{Mailer, SendError, compose};
use crate::model::InvoiceDocument;
use crate::{DocumentsError, render_pdf};

/// Where the sender gets an issued document from (billing's invoice → document mapping).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

/// One outbox row as finance sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub invoice_id: Uuid,
    pub topic: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub recipient: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The sender.
pub struct Outbox<S> {
    pool: PgPool,
    source: S,
    mailer: Mailer,
    /// Sender address when the seller has none; the display name is the seller's.
    from: String,
    policy: RetryPolicy,
}

struct Claimed {
    id: i64,
    invoice_id: Uuid,
    message_id: String,
    attempts: i32,
}

const COLUMNS: &str = "id, invoice_id, topic, status, attempts, last_error, message_id, recipient, next_attempt_at, sent_at";

impl<S: DocumentSource> Outbox<S> {
    pub fn new(pool: PgPool, source: S, mailer: Mailer, from: String, policy: RetryPolicy) -> Self {
        Outbox {
            pool,
            source,
            mailer,
            from,
            policy,
        }
    }

    /// Sends every row that is due now; returns how many were sent.
    pub async fn run_once(&self) -> Result<usize, DocumentsError> {
        let mut sent = 0;
        while let Some(row) = self.claim().await? {
            if self.deliver(row).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Runs until `shutdown` resolves, polling for due rows. A database error is logged
    /// and retried at the next poll; rows are never lost, only delayed.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "documents outbox: will retry");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(self.policy.poll) => {}
            }
        }
    }

    async fn claim(&self) -> Result<Option<Claimed>, DocumentsError> {
        let lease = self.policy.lease.as_millis() as i64;
        let row: Option<(i64, Uuid, String, i32)> = sqlx::query_as(
            "UPDATE document_outbox o
                SET status = 'sending', attempts = attempts + 1,
                    locked_until = now() + make_interval(secs => $1::bigint / 1000.0),
                    message_id = COALESCE(message_id, invoice_id::text || '.' || id || '@meridian')
              WHERE id = (SELECT id FROM document_outbox
                           WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                             AND (locked_until IS NULL OR locked_until < now())
                           ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
              RETURNING id, invoice_id, message_id, attempts",
        )
        .bind(lease)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, invoice_id, message_id, attempts)| Claimed {
            id,
            invoice_id,
            message_id,
            attempts,
        }))
    }

    /// Renders and sends one claimed row, then records the outcome.
    async fn deliver(&self, row: Claimed) -> Result<bool, DocumentsError> {
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
                tracing::info!(outbox_id = row.id, invoice_id = %row.invoice_id, "document e-mailed");
                Ok(true)
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
                tracing::warn!(outbox_id = row.id, %error, attempts = row.attempts, "document e-mail will be retried");
                Ok(false)
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
                tracing::error!(outbox_id = row.id, %error, "document e-mail refused; see document_outbox");
                Ok(false)
            }
        }
    }

    async fn message(&self, row: &Claimed) -> Result<(lettre::Message, String), DocumentsError> {
        let doc = self.source.load(row.invoice_id).await?;
        let pdf = render_pdf(&doc)?;
        let address = doc
            .seller
            .email
            .clone()
            .unwrap_or_else(|| self.from.clone());
        let from = Mailbox::new(
            Some(doc.seller.legal_name.clone()),
            address
                .parse()
                .map_err(|e| DocumentsError::Invalid(format!("sender address: {e}")))?,
        );
        let message = compose(&doc, from, pdf, &row.message_id)?;
        Ok((message, doc.buyer.email))
    }
}

/// Finance's view of one document's e-mail.
pub async fn status(pool: &PgPool, invoice_id: Uuid) -> Result<Option<OutboxRow>, DocumentsError> {
    let sql = format!("SELECT {COLUMNS} FROM document_outbox WHERE invoice_id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(invoice_id)
        .fetch_optional(pool)
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
