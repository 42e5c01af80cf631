//! The invoice run's guarantees: idempotent, two concurrent runs issue one set of
//! gap-free numbers, issued invoices cannot be changed (the database refuses), bad
//! input is refused with a clear message and nothing written; credit notes have their
//! own series, refer to the invoice, and an invoice with its credit notes sums to 0.

mod common;

use common::*;
use meridian_billing::progress::Progress;
use meridian_billing::query::{self, ListFilter};
use meridian_billing::{BillingError, Period, credit, fx, run, verify};
use meridian_core::CustomerId;
use rust_decimal::Decimal;
use sqlx::PgPool;

const NOW: &str = "2026-11-02T00:00:00Z";

async fn setup(customers: usize, currency: &str) -> (PgPool, Vec<CustomerId>) {
    let pool = fresh_database().await;
    price_version(
        &pool,
        "gpt-4o-mini",
        "openai",
        "2026-01-01T00:00:00Z",
        "0.00000015",
        "0.0000006",
        Some("0.000000075"),
    )
    .await;
    import_ecb(&pool).await;
    let mut ids = Vec::new();
    for i in 0..customers {
        let mut c = customer(&format!("Customer {i}"), "US", currency, "en-US");
        c.country = Some("US".into());
        let id = create(&pool, c).await;
        insert_rollups(
            &pool,
            &[
                Rollup {
                    customer: id,
                    model: "openai/gpt-4o-mini",
                    provider: "openai",
                    region: "us-east",
                    catalog_key: "gpt-4o-mini",
                    hour: "2026-10-05T10:00:00Z",
                    prompt: 1_000 * (i as i64 + 1),
                    completion: 333,
                    cached: 100,
                },
                Rollup {
                    customer: id,
                    model: "openai/gpt-4o-mini",
                    provider: "openai",
                    region: "us-east",
                    catalog_key: "gpt-4o-mini",
                    hour: "2026-10-25T10:00:00Z",
                    prompt: 77,
                    completion: 1_234_567,
                    cached: 0,
                },
            ],
        )
        .await;
        ids.push(id);
    }
    (pool, ids)
}

/// The US entity's run of October, which must not fail for the entity.
async fn run_us(pool: &PgPool) -> Result<Vec<run::RunOutcome>, BillingError> {
    let report = run::run(
        pool,
        Period::parse("2026-10").unwrap(),
        Some("us"),
        utc(NOW),
        &Progress::Log,
    )
    .await?;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    Ok(report.outcomes)
}

async fn numbers(pool: &PgPool) -> Vec<String> {
    query::list(pool, &ListFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.number)
        .collect()
}

fn series(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("MUS-2026-{i:06}")).collect()
}

#[tokio::test]
async fn a_second_run_issues_nothing_new() {
    let (pool, _) = setup(3, "USD").await;
    assert_eq!(run_us(&pool).await.unwrap()[0].issued.len(), 3);
    let again = run_us(&pool).await.unwrap();
    assert_eq!((again[0].issued.len(), again[0].already_invoiced), (0, 3));
    assert_eq!(numbers(&pool).await, series(3));
    let runs = query::runs(&pool, None, None).await.unwrap();
    assert_eq!(
        (
            runs.len(),
            runs[0].status.as_str(),
            runs[0].attempts,
            runs[0].invoices_issued
        ),
        (1, "completed", 2, 3)
    );
    let outbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM document_outbox WHERE topic = 'invoice.issued'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(outbox, 3);
}

#[tokio::test]
async fn two_concurrent_runs_issue_one_set() {
    let (pool, _) = setup(40, "EUR").await;
    let (a, b) = tokio::join!(run_us(&pool), run_us(&pool));
    let issued = a.unwrap()[0].issued.len() + b.unwrap()[0].issued.len();
    assert_eq!(issued, 40);
    assert_eq!(numbers(&pool).await, series(40));
}

#[tokio::test]
async fn the_database_refuses_to_change_an_issued_invoice() {
    let (pool, _) = setup(1, "USD").await;
    run_us(&pool).await.unwrap();
    for sql in [
        "UPDATE invoices SET total = 0",
        "DELETE FROM invoices",
        "UPDATE invoice_lines SET unit_price = 0, amount_usd = 0",
        "DELETE FROM invoice_lines",
        "UPDATE invoice_taxes SET tax = 0",
        "TRUNCATE invoices CASCADE",
    ] {
        let e = sqlx::query(sql)
            .execute(&pool)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("issued invoices are immutable"), "{sql}: {e}");
    }
    assert_eq!(
        verify::document(&pool, "MUS-2026-000001").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    let (pool, _) = setup(2, "EUR").await;
    let before = billing_rows(&pool).await;
    let period = Period::parse("2026-10").unwrap();
    let early = run::run(
        &pool,
        period,
        Some("US"),
        utc("2026-11-01T06:59:00Z"),
        &Progress::Log,
    )
    .await
    .unwrap_err();
    assert!(
        early
            .to_string()
            .contains("period 2026-10 has not ended for entity US (America/Los_Angeles)"),
        "{early}"
    );
    let unknown = run::run(&pool, period, Some("XX"), utc(NOW), &Progress::Log)
        .await
        .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "unknown billing entity `XX` (known: US, EU, UK, JP, SG, KR, IN, AU)"
    );
    assert!(
        Period::parse("2026-13")
            .unwrap_err()
            .to_string()
            .contains("`2026-13` is not a month")
    );
    let fx_error = fx::parse("Date,USD\n2026-10-30,1,16\n2026-10-29,x\n")
        .unwrap_err()
        .to_string();
    assert!(fx_error.contains("line 3: rate `x`"), "{fx_error}");
    // No rate for the period: refused before anything is recorded.
    let september = run::run(
        &pool,
        Period::parse("2026-09").unwrap(),
        Some("US"),
        utc(NOW),
        &Progress::Log,
    )
    .await;
    assert!(
        september.unwrap().outcomes[0].issued.is_empty(),
        "no usage in September: nothing to rate"
    );
    sqlx::query("INSERT INTO usage_rollups SELECT customer_id, key_id, model, provider, deployment, region, catalog_key,
                 hour - interval '9 months', requests, errors, prompt_tokens, completion_tokens, cached_tokens,
                 cache_write_tokens, reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist
                 FROM usage_rollups").execute(&pool).await.unwrap();
    let before_january = billing_rows(&pool).await;
    let no_rate = run::run(
        &pool,
        Period::parse("2026-01").unwrap(),
        Some("US"),
        utc(NOW),
        &Progress::Log,
    )
    .await
    .unwrap();
    assert!(no_rate.outcomes.is_empty());
    assert_eq!(no_rate.failures[0].entity, "US");
    assert!(
        no_rate.failures[0]
            .reason
            .contains("no ECB rate for USD/EUR"),
        "{:?}",
        no_rate.failures
    );
    assert_eq!(billing_rows(&pool).await, before_january);
    // The early and unknown runs wrote nothing; September wrote only its (empty) run.
    let mut after = billing_rows(&pool).await;
    after[4] -= 1;
    assert_eq!(after, before);
}

#[tokio::test]
async fn credit_notes_have_their_own_series_and_sum_the_invoice_to_zero() {
    let (pool, ids) = setup(2, "JPY").await;
    run_us(&pool).await.unwrap();
    let invoice = query::get(&pool, "MUS-2026-000001").await.unwrap();
    let now = utc("2026-11-20T00:00:00Z");
    assert_eq!(invoice.lines.len(), 4, "{:?}", invoice.lines);

    let partial = credit::credit(
        &pool,
        "MUS-2026-000001",
        "wrong cache discount",
        Some(&[1, 2]),
        now,
    )
    .await
    .unwrap();
    assert_eq!(partial.number, "MUSC-2026-000001");
    let status = |rows: &[query::InvoiceRow], n: &str| {
        rows.iter().find(|r| r.number == n).unwrap().status.clone()
    };
    let rows = query::list(
        &pool,
        &ListFilter {
            customer: Some(ids[0]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(status(&rows, "MUS-2026-000001"), "partially_credited");
    let again = credit::credit(&pool, "MUS-2026-000001", "twice", Some(&[2]), now)
        .await
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        "line 2 of MUS-2026-000001 is already credited"
    );

    let rest = credit::credit(&pool, "MUS-2026-000001", "customer left", None, now)
        .await
        .unwrap();
    assert_eq!(rest.number, "MUSC-2026-000002");
    assert_eq!(rest.lines, vec![3, 4]);
    let full = credit::credit(&pool, "MUS-2026-000001", "again", None, now)
        .await
        .unwrap_err();
    assert_eq!(
        full.to_string(),
        "MUS-2026-000001 is already fully credited"
    );

    let rows = query::list(
        &pool,
        &ListFilter {
            customer: Some(ids[0]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(status(&rows, "MUS-2026-000001"), "credited");
    let notes: Vec<_> = rows.iter().filter(|r| r.kind == "credit_note").collect();
    assert!(notes[1].total < Decimal::ZERO);
    assert!(
        notes.iter().all(|n| n.total <= Decimal::ZERO
            && n.credited_invoice.as_deref() == Some("MUS-2026-000001"))
    );
    let sum: Decimal = rows.iter().map(|r| r.total).sum();
    assert_eq!(sum, Decimal::ZERO);
    let json = serde_json::to_value(&rows[0]).unwrap();
    for field in [
        "number",
        "customer_id",
        "entity",
        "period",
        "currency",
        "subtotal",
        "tax",
        "total",
        "status",
        "kind",
        "issue_date",
        "fx_rate",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    let note = query::get(&pool, "MUSC-2026-000001").await.unwrap();
    assert_eq!(note.credited_invoice_date, Some(invoice.row.issue_date));
    assert_eq!(note.reason.as_deref(), Some("wrong cache discount"));
    assert_eq!(note.row.fx_rate, invoice.row.fx_rate);
    assert_eq!(
        verify::document(&pool, "MUSC-2026-000001").await.unwrap(),
        Vec::<String>::new()
    );
    let unknown = credit::credit(&pool, "MUS-2026-999999", "x", None, now)
        .await
        .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "no invoice or credit note numbered `MUS-2026-999999`"
    );
}
