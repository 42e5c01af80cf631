//! Zero markup, provable: re-derives issued invoices from the rollups and the price
//! catalog and reports every difference: a line whose quantity, unit price (the list
//! price of its version) or amount differs, a missing or extra line, or totals that do
//! not follow from the lines at the invoice's stored FX and tax rates. Credit notes are
//! checked against the invoice lines they credit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use meridian_core::CustomerId;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::BillingError;
use crate::money::Currency;
use crate::period::Period;
use crate::prices::PriceHistory;
use crate::query::{self, LINE_COLUMNS, StoredLine};
use crate::rating::{self, Line, Scope, UsageAggregate};
use crate::taxes::TaxComponent;
use crate::totals;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Header {
    id: Uuid,
    number: String,
    customer_id: CustomerId,
    currency: String,
    fx_rate: Decimal,
    subtotal: Decimal,
    tax: Decimal,
    total: Decimal,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    credited_invoice_id: Option<Uuid>,
}

const HEADER_SELECT: &str =
    "SELECT id, number, customer_id, currency, fx_rate, subtotal, tax, total,
    period_start, period_end, credited_invoice_id FROM invoices";

#[derive(sqlx::FromRow)]
struct OwnedLine {
    invoice_id: Uuid,
    #[sqlx(flatten)]
    line: StoredLine,
}

#[derive(sqlx::FromRow)]
struct OwnedTax {
    invoice_id: Uuid,
    tax_group: i32,
    tax_code: String,
    rate: Decimal,
}

/// Differences between the invoice (or credit note) `number` and what rollups and
/// catalog give; empty when every line matches.
pub async fn document(pool: &PgPool, number: &str) -> Result<Vec<String>, BillingError> {
    let sql = format!("{HEADER_SELECT} WHERE number = $1");
    let header: Header = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(number.trim())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| BillingError::UnknownInvoice(number.to_string()))?;
    if let Some(original) = header.credited_invoice_id {
        return credit_note(pool, &header, original).await;
    }
    let usage = rating::usage(
        pool,
        Scope::Customer(header.customer_id, header.period_start, header.period_end),
    )
    .await?;
    check_all(pool, vec![header], &usage).await
}

/// Differences of every invoice of `entity` for `period` from `usage` (the
/// rollups as the run read them, covering the entity's customers).
pub async fn period(
    pool: &PgPool,
    entity: &str,
    period: Period,
    usage: &[UsageAggregate],
) -> Result<Vec<String>, BillingError> {
    let sql =
        format!("{HEADER_SELECT} WHERE kind = 'invoice' AND entity_code = $1 AND period = $2");
    let headers: Vec<Header> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(entity)
        .bind(period.first_day())
        .fetch_all(pool)
        .await?;
    check_all(pool, headers, usage).await
}

async fn check_all(
    pool: &PgPool,
    headers: Vec<Header>,
    usage: &[UsageAggregate],
) -> Result<Vec<String>, BillingError> {
    let ids: Vec<Uuid> = headers.iter().map(|h| h.id).collect();
    let sql = format!(
        "SELECT invoice_id, {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = ANY($1) ORDER BY invoice_id, line_no"
    );
    let mut lines: HashMap<Uuid, Vec<StoredLine>> = HashMap::new();
    for l in sqlx::query_as::<_, OwnedLine>(sqlx::AssertSqlSafe(sql))
        .bind(&ids)
        .fetch_all(pool)
        .await?
    {
        lines.entry(l.invoice_id).or_default().push(l.line);
    }
    let mut taxes: HashMap<(Uuid, i32), Vec<TaxComponent>> = HashMap::new();
    for t in sqlx::query_as::<_, OwnedTax>(
        "SELECT invoice_id, tax_group, tax_code, rate FROM invoice_taxes WHERE invoice_id = ANY($1) ORDER BY tax_code",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?
    {
        taxes.entry((t.invoice_id, t.tax_group)).or_default().push(TaxComponent {
            code: t.tax_code,
            rate: t.rate,
        });
    }
    let usage_of: HashMap<CustomerId, &[UsageAggregate]> = usage
        .chunk_by(|a, b| a.customer_id == b.customer_id)
        .map(|rows| (rows[0].customer_id, rows))
        .collect();
    let prices = PriceHistory::load(pool).await?;
    let mut problems = Vec::new();
    for h in headers {
        let stored = lines.remove(&h.id).unwrap_or_default();
        let expected = rating::rate(
            usage_of.get(&h.customer_id).copied().unwrap_or_default(),
            &prices,
        )?;
        compare_lines(&h.number, &expected, &stored, &mut problems);
        let currency = Currency::parse(&h.currency)?;
        let t = totals::summarize(
            stored.iter().map(|l| (l.tax_group as u32, l.amount_usd)),
            |g| taxes.get(&(h.id, g as i32)).map_or(&[][..], Vec::as_slice),
            h.fx_rate,
            currency,
        );
        if (t.subtotal, t.tax, t.total) != (h.subtotal, h.tax, h.total) {
            problems.push(format!(
                "{}: stored subtotal/tax/total {}/{}/{} but the lines give {}/{}/{}",
                h.number, h.subtotal, h.tax, h.total, t.subtotal, t.tax, t.total
            ));
        }
    }
    Ok(problems)
}

fn compare_lines(
    number: &str,
    expected: &[Line],
    stored: &[StoredLine],
    problems: &mut Vec<String>,
) {
    if expected.len() != stored.len() {
        problems.push(format!(
            "{number}: {} lines stored but rollups and catalog give {}",
            stored.len(),
            expected.len()
        ));
    }
    for (e, s) in expected.iter().zip(stored) {
        let same = e.kind.as_str() == s.kind
            && e.model == s.model
            && e.provider == s.provider
            && e.region == s.region
            && e.catalog_key == s.catalog_key
            && e.price_version == s.price_version
            && e.quantity == s.quantity
            && e.unit_price == s.unit_price
            && e.amount() == s.amount_usd;
        if !same {
            problems.push(format!(
                "{number} line {}: stored {} {} {} × {} = {} but rollups and catalog give {} {} {} × {} = {}",
                s.line_no, s.model, s.kind, s.quantity, s.unit_price, s.amount_usd,
                e.model, e.kind.as_str(), e.quantity, e.unit_price, e.amount()
            ));
        }
    }
}

async fn credit_note(
    pool: &PgPool,
    header: &Header,
    original: Uuid,
) -> Result<Vec<String>, BillingError> {
    let credited = query::lines_of(pool, original).await?;
    let mut problems = Vec::new();
    for l in query::lines_of(pool, header.id).await? {
        let Some(o) = credited
            .iter()
            .find(|o| Some(o.line_no) == l.credited_line_no)
        else {
            problems.push(format!(
                "{} line {}: credits no line of the invoice",
                header.number, l.line_no
            ));
            continue;
        };
        let mirrors = (
            &o.kind,
            &o.model,
            &o.provider,
            &o.region,
            &o.catalog_key,
            o.price_version,
            o.unit_price,
        ) == (
            &l.kind,
            &l.model,
            &l.provider,
            &l.region,
            &l.catalog_key,
            l.price_version,
            l.unit_price,
        ) && l.quantity == -o.quantity
            && l.amount_usd == -o.amount_usd;
        if !mirrors {
            problems.push(format!(
                "{} line {}: does not mirror invoice line {}",
                header.number, l.line_no, o.line_no
            ));
        }
    }
    Ok(problems)
}
