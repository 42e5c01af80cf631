//! E-mail from the transactional outbox through a real SMTP server (a small one
//! started by the test) and a real Postgres: one message per invoice with its PDF in
//! its language; an SMTP outage delays a message and it is then sent exactly once; a
//! refusal is visible to finance; a worker that died mid-send is taken over with the
//! same Message-ID; two workers never send the same row.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use meridian_documents::*;
use meridian_test_support::smtp::SmtpServer;
use sqlx::PgPool;
use support::database;
use support::samples::*;
use uuid::Uuid;

#[derive(Clone, Default)]
struct Source(HashMap<Uuid, InvoiceDocument>);

impl DocumentSource for Source {
    async fn load(&self, invoice_id: Uuid) -> Result<InvoiceDocument, DocumentsError> {
        self.0
            .get(&invoice_id)
            .cloned()
            .ok_or_else(|| DocumentsError::Invalid("unknown invoice".into()))
    }
}

static SEQ: AtomicI64 = AtomicI64::new(1);

/// Stores `doc` as billing would issue it: customer, invoice and outbox row in one
/// transaction.
async fn issue(pool: &PgPool, source: &mut Source, doc: InvoiceDocument) -> Uuid {
    let (customer, invoice) = (Uuid::now_v7(), Uuid::now_v7());
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO customers (id, name, entity_code, currency, locale, email) VALUES ($1, $2, 'EU', $3, $4, $5)")
        .bind(customer)
        .bind(&doc.buyer.name)
        .bind(&doc.currency)
        .bind(&doc.locale)
        .bind(&doc.buyer.email)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO invoices (id, number, kind, entity_code, fiscal_year, seq, customer_id, period, period_start,
                               period_end, issue_date, currency, fx_rate, fx_date, locale, tax_treatment,
                               subtotal_usd, subtotal, tax, total, seller, buyer)
         VALUES ($1, $2, 'invoice', 'EU', 2026, $3, $4, $5, $5::date::timestamptz, ($6::date + 1)::timestamptz, $7,
                 $8, $9, $10, $11, 'test', $12, $13, $14, $15, '{}'::jsonb, '{}'::jsonb)",
    )
    .bind(invoice)
    .bind(&doc.number)
    .bind(SEQ.fetch_add(1, Ordering::Relaxed))
    .bind(customer)
    .bind(doc.period.start)
    .bind(doc.period.end)
    .bind(doc.issue_date)
    .bind(&doc.currency)
    .bind(doc.fx.rate)
    .bind(doc.fx.date)
    .bind(&doc.locale)
    .bind(doc.totals.subtotal_usd)
    .bind(doc.totals.subtotal)
    .bind(doc.totals.tax)
    .bind(doc.totals.total)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO document_outbox (invoice_id, topic) VALUES ($1, 'invoice.issued')")
        .bind(invoice)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    source.0.insert(invoice, doc);
    invoice
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(300),
        max: Duration::from_secs(2),
        lease: Duration::from_secs(60),
        poll: Duration::from_millis(50),
    }
}

fn outbox(pool: &PgPool, source: &Source, smtp: SocketAddr) -> Outbox<Source> {
    let mailer = Mailer::from_url(&format!("smtp://{smtp}")).unwrap();
    Outbox::new(pool.clone(), source.clone(), mailer, fast())
}

fn with_number(mut doc: InvoiceDocument, number: &str) -> InvoiceDocument {
    doc.number = number.into();
    doc.payment.reference = number.into();
    doc
}

/// One British invoice numbered `number`, issued into a source of its own.
async fn issue_uk(pool: &PgPool, number: &str) -> (Source, Uuid) {
    let mut source = Source::default();
    let doc = with_number(uk("en-GB", "Brightwater Analytics Ltd"), number);
    let id = issue(pool, &mut source, doc).await;
    (source, id)
}

#[tokio::test]
async fn one_message_per_invoice_with_its_pdf_in_its_language() {
    let pool = database().await;
    let server = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let mut source = Source::default();
    let docs = [
        eu_reverse_charge("de-DE", "Müller & Söhne GmbH"),
        japan("ja-JP", "株式会社山田製作所"),
        india("hi-IN", "रिलायंस डेटा सर्विसेज़", true),
    ];
    let mut ids = Vec::new();
    for doc in docs {
        ids.push(issue(&pool, &mut source, doc).await);
    }
    let worker = outbox(&pool, &source, server.addr);
    assert_eq!(worker.run_once().await.unwrap().sent, 3);
    assert_eq!(
        worker.run_once().await.unwrap().sent,
        0,
        "nothing is sent twice"
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 3);
    for id in ids {
        let row = outbox_status(&pool, id).await.unwrap().unwrap();
        let doc = &source.0[&id];
        assert_eq!(row.status, OutboxStatus::Sent);
        assert_eq!(row.attempts, 1);
        assert_eq!(row.recipient.as_deref(), Some(doc.buyer.email.as_str()));
        let message_id = row.message_id.expect("recorded");
        let raw = messages
            .iter()
            .find(|m| String::from_utf8_lossy(m).contains(&message_id))
            .expect("a message with the recorded Message-ID");
        let mail = MessageParser::default().parse(raw).unwrap();
        let strings = Strings::for_locale(&doc.locale).unwrap();
        let subject = strings
            .format(
                "email-subject-invoice",
                &[("number", &doc.number), ("entity", &doc.seller.legal_name)],
            )
            .unwrap();
        assert_eq!(mail.subject(), Some(subject.as_str()), "{}", doc.locale);
        assert_eq!(mail.message_id(), Some(message_id.as_str()));
        let to = mail
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap();
        assert_eq!(to, doc.buyer.email);
        let body = mail.body_text(0).unwrap();
        let greeting = strings
            .format("email-greeting", &[("name", &doc.buyer.name)])
            .unwrap();
        assert!(body.contains(&greeting), "{}: {body}", doc.locale);
        assert_eq!(mail.attachment_count(), 1);
        let pdf = mail.attachment(0).unwrap();
        assert_eq!(
            pdf.attachment_name(),
            Some(format!("{}.pdf", doc.number).as_str())
        );
        assert_eq!(
            pdf.contents(),
            render_pdf(doc).unwrap().as_slice(),
            "the attachment is the invoice's PDF"
        );
    }
    server.stop();
}

#[tokio::test]
async fn smtp_down_for_a_while_then_sent_exactly_once() {
    let pool = database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (source, id) = issue_uk(&pool, "UK-DOWN-1").await;
    let worker = outbox(&pool, &source, port);

    assert_eq!(
        worker.run_once().await.unwrap(),
        Drained {
            sent: 0,
            retrying: 1,
            failed: 0
        }
    );
    let row = outbox_status(&pool, id).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 1));
    let error = row.last_error.expect("the failure is visible");
    assert!(
        !error.contains("Brightwater"),
        "no content in errors: {error}"
    );
    assert!(row.next_attempt_at > chrono::Utc::now(), "backs off");

    let server = SmtpServer::start(port, false).await;
    assert_eq!(
        worker.run_once().await.unwrap().sent,
        0,
        "not before the backoff ends"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert_eq!(worker.run_once().await.unwrap().sent, 0);
    assert_eq!(server.messages().len(), 1);
    let row = outbox_status(&pool, id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.attempts, row.last_error),
        (OutboxStatus::Sent, 2, None)
    );
    server.stop();
}

#[tokio::test]
async fn a_refused_recipient_is_failed_visible_and_can_be_retried() {
    let pool = database().await;
    let server = SmtpServer::start("127.0.0.1:0".parse().unwrap(), true).await;
    let (source, id) = issue_uk(&pool, "UK-REFUSED-1").await;
    let worker = outbox(&pool, &source, server.addr);
    assert_eq!(
        worker.run_once().await.unwrap(),
        Drained {
            sent: 0,
            retrying: 0,
            failed: 1
        }
    );
    let row = outbox_status(&pool, id).await.unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Failed);
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{:?}",
        row.last_error
    );
    assert_eq!(
        worker.run_once().await.unwrap().sent,
        0,
        "failed rows wait for finance"
    );
    assert!(retry_failed(&pool, id).await.unwrap());
    assert_eq!(
        outbox_status(&pool, id).await.unwrap().unwrap().status,
        OutboxStatus::Pending
    );
    server.stop();
}

#[tokio::test]
async fn a_worker_that_died_mid_send_is_taken_over_with_the_same_message_id() {
    let pool = database().await;
    let server = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let (source, id) = issue_uk(&pool, "UK-CRASH-1").await;
    // What a worker killed after claiming leaves behind: 'sending', lease run out.
    sqlx::query(
        "UPDATE document_outbox SET status = 'sending', attempts = 1, message_id = 'claimed-before-crash@meridian',
                locked_until = now() - interval '1 second' WHERE invoice_id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let worker = outbox(&pool, &source, server.addr);
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    let mail = server.messages().pop().unwrap();
    let parsed = MessageParser::default().parse(&mail).unwrap();
    assert_eq!(parsed.message_id(), Some("claimed-before-crash@meridian"));
    let row = outbox_status(&pool, id).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Sent, 2));
    server.stop();
}

#[tokio::test]
async fn two_workers_never_send_the_same_row() {
    let pool = database().await;
    let server = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let mut source = Source::default();
    for i in 0..8 {
        issue(
            &pool,
            &mut source,
            with_number(
                uk("en-GB", "Brightwater Analytics Ltd"),
                &format!("UK-PAR-{i}"),
            ),
        )
        .await;
    }
    let (a, b) = (
        outbox(&pool, &source, server.addr),
        outbox(&pool, &source, server.addr),
    );
    let (sent_a, sent_b) = tokio::join!(a.run_once(), b.run_once());
    assert_eq!(sent_a.unwrap().sent + sent_b.unwrap().sent, 8);
    let mut ids: Vec<String> = server
        .messages()
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(m)
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    server.stop();
}

#[tokio::test]
async fn the_worker_loop_sends_what_is_issued_while_it_runs_and_stops_on_shutdown() {
    let pool = database().await;
    let server = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let (source, id) = issue_uk(&pool, "UK-LOOP-1").await;
    let worker = std::sync::Arc::new(outbox(&pool, &source, server.addr));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(async { stopped.await.unwrap_or(()) }).await }
    });
    for _ in 0..100 {
        if outbox_status(&pool, id).await.unwrap().unwrap().status == OutboxStatus::Sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        outbox_status(&pool, id).await.unwrap().unwrap().status,
        OutboxStatus::Sent
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stops")
        .unwrap();
    assert_eq!(server.messages().len(), 1);
    server.stop();
}
