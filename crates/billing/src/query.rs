//! Reading issued documents: the list (`meridian invoices list`, the finance API) and
//! one document with its lines and tax summary. Credit notes carry negative amounts;
//! an invoice's status says whether credit notes cover it.

use chrono::{DateTime, NaiveDate, Utc};
use meridian_core::CustomerId;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::BillingError;
use crate::money::Currency;
use crate::period::Period;

/// One row of the list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InvoiceRow {
    #[serde(skip)]
    pub id: Uuid,
    pub number: String,
    pub kind: String,
    pub customer_id: CustomerId,
    pub entity: String,
    pub period: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    /// `issued`, `partially_credited` or `credited` (credit notes: `issued`).
    pub status: String,
    pub issue_date: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub fx_rate: Decimal,
    pub fx_date: Option<NaiveDate>,
    /// Credit notes: the invoice they correct.
    pub credited_invoice: Option<String>,
}

const ROW_SELECT: &str = "
    SELECT i.id, i.number, i.kind, i.customer_id, i.entity_code AS entity,
           to_char(i.period, 'YYYY-MM') AS period, i.currency, i.subtotal, i.tax, i.total,
           CASE WHEN i.kind = 'credit_note' THEN 'issued'
                WHEN NOT EXISTS (SELECT 1 FROM invoice_lines c WHERE c.credits_invoice_id = i.id) THEN 'issued'
                WHEN (SELECT count(*) FROM invoice_lines c WHERE c.credits_invoice_id = i.id)
                     >= (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id) THEN 'credited'
                ELSE 'partially_credited' END AS status,
           i.issue_date, i.fx_rate, i.fx_date, o.number AS credited_invoice
    FROM invoices i LEFT JOIN invoices o ON o.id = i.credited_invoice_id";

/// Filters of the list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub period: Option<Period>,
    pub entity: Option<String>,
    pub customer: Option<CustomerId>,
}

pub async fn list(pool: &PgPool, filter: &ListFilter) -> Result<Vec<InvoiceRow>, BillingError> {
    let sql = format!(
        "{ROW_SELECT}
         WHERE ($1::date IS NULL OR i.period = $1) AND ($2::text IS NULL OR i.entity_code = $2)
           AND ($3::uuid IS NULL OR i.customer_id = $3)
         ORDER BY i.entity_code, i.kind, i.fiscal_year, i.seq"
    );
    let rows: Vec<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(filter.period.map(Period::first_day))
        .bind(filter.entity.as_ref().map(|e| e.to_ascii_uppercase()))
        .bind(filter.customer)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(InvoiceRow::tidy).collect())
}

/// Amounts as printed: currency amounts at the currency's minor unit, exact USD
/// figures and rates without trailing zeros.
fn in_minor_units(amount: Decimal, currency: &str) -> Decimal {
    let mut amount = amount;
    if let Ok(c) = Currency::parse(currency) {
        amount.rescale(c.minor_units());
    }
    amount
}

impl InvoiceRow {
    fn tidy(mut self) -> InvoiceRow {
        for a in [&mut self.subtotal, &mut self.tax, &mut self.total] {
            *a = in_minor_units(*a, &self.currency);
        }
        self.fx_rate = self.fx_rate.normalize();
        self
    }
}

/// A stored line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoredLine {
    pub line_no: i32,
    pub kind: String,
    pub model: String,
    pub provider: String,
    pub region: String,
    pub catalog_key: String,
    pub price_version: Option<DateTime<Utc>>,
    pub quantity: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price_per_million: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount_usd: Decimal,
    pub tax_group: i32,
    pub credited_line_no: Option<i32>,
}

/// A stored tax of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoredTax {
    pub tax_group: i32,
    pub category: String,
    pub tax_code: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub taxable_usd: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub taxable: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct DetailRow {
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    locale: String,
    tax_treatment: String,
    tax_note: Option<String>,
    place_of_supply: Option<String>,
    subtotal_usd: Decimal,
    reason: Option<String>,
    credited_issue_date: Option<NaiveDate>,
    seller: String,
    buyer: String,
    layout: i16,
}

/// One document with everything it prints.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub row: InvoiceRow,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub locale: String,
    pub tax_treatment: String,
    pub tax_note: Option<String>,
    pub place_of_supply: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal_usd: Decimal,
    pub reason: Option<String>,
    pub credited_invoice_date: Option<NaiveDate>,
    pub seller: Value,
    pub buyer: Value,
    pub lines: Vec<StoredLine>,
    pub taxes: Vec<StoredTax>,
    /// The page layout fixed at issue (see the `invoice_layout` migration).
    #[serde(skip)]
    pub layout: i16,
}

/// The document numbered `number`, or `BillingError::UnknownInvoice`.
pub async fn get(pool: &PgPool, number: &str) -> Result<InvoiceDetail, BillingError> {
    let sql = format!("{ROW_SELECT} WHERE i.number = $1");
    let row: InvoiceRow = sqlx::query_as::<_, InvoiceRow>(sqlx::AssertSqlSafe(sql))
        .bind(number.trim())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| BillingError::UnknownInvoice(number.to_string()))?;
    detail(pool, row.tidy()).await
}

/// The document with id `id`, if there is one.
pub async fn get_by_id(pool: &PgPool, id: Uuid) -> Result<Option<InvoiceDetail>, BillingError> {
    let sql = format!("{ROW_SELECT} WHERE i.id = $1");
    let row: Option<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => Ok(Some(detail(pool, row.tidy()).await?)),
        None => Ok(None),
    }
}

/// `row` with everything else the document prints.
async fn detail(pool: &PgPool, row: InvoiceRow) -> Result<InvoiceDetail, BillingError> {
    let d: DetailRow = sqlx::query_as(
        "SELECT i.period_start, i.period_end, i.locale, i.tax_treatment, i.tax_note, i.place_of_supply,
                i.subtotal_usd, i.reason, o.issue_date AS credited_issue_date,
                i.seller::text AS seller, i.buyer::text AS buyer, i.layout
         FROM invoices i LEFT JOIN invoices o ON o.id = i.credited_invoice_id WHERE i.id = $1",
    )
    .bind(row.id)
    .fetch_one(pool)
    .await?;
    let lines = lines_of(pool, row.id).await?;
    let taxes: Vec<StoredTax> = sqlx::query_as(
        "SELECT tax_group, category, tax_code, rate, taxable_usd, taxable, tax
         FROM invoice_taxes WHERE invoice_id = $1 ORDER BY tax_group, tax_code",
    )
    .bind(row.id)
    .fetch_all(pool)
    .await?;
    let taxes = taxes
        .into_iter()
        .map(|t| StoredTax {
            rate: t.rate.normalize(),
            taxable_usd: t.taxable_usd.normalize(),
            taxable: in_minor_units(t.taxable, &row.currency),
            tax: in_minor_units(t.tax, &row.currency),
            ..t
        })
        .collect();
    let json = |s: &str| serde_json::from_str(s).unwrap_or(Value::Null);
    Ok(InvoiceDetail {
        period_start: d.period_start,
        period_end: d.period_end,
        locale: d.locale,
        tax_treatment: d.tax_treatment,
        tax_note: d.tax_note,
        place_of_supply: d.place_of_supply,
        subtotal_usd: d.subtotal_usd.normalize(),
        reason: d.reason,
        credited_invoice_date: d.credited_issue_date,
        seller: json(&d.seller),
        buyer: json(&d.buyer),
        layout: d.layout,
        lines: lines
            .into_iter()
            .map(|l| StoredLine {
                unit_price: l.unit_price.normalize(),
                unit_price_per_million: l.unit_price_per_million.normalize(),
                amount_usd: l.amount_usd.normalize(),
                ..l
            })
            .collect(),
        taxes,
        row,
    })
}

pub(crate) const LINE_COLUMNS: &str =
    "line_no, kind, model, provider, region, catalog_key, price_version, quantity,
    unit_price, unit_price_per_million, amount_usd, tax_group, credited_line_no";

pub(crate) async fn lines_of(
    pool: &PgPool,
    invoice_id: Uuid,
) -> Result<Vec<StoredLine>, BillingError> {
    let sql =
        format!("SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(invoice_id)
        .fetch_all(pool)
        .await?)
}

/// Invoice runs, newest first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunRow {
    pub id: Uuid,
    pub entity: String,
    pub period: String,
    pub issue_date: NaiveDate,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub invoices_issued: i32,
}

pub async fn runs(
    pool: &PgPool,
    entity: Option<&str>,
    period: Option<Period>,
) -> Result<Vec<RunRow>, BillingError> {
    Ok(sqlx::query_as(
        "SELECT id, entity_code AS entity, to_char(period, 'YYYY-MM') AS period, issue_date, status,
                started_at, finished_at, attempts, invoices_issued
         FROM invoice_runs
         WHERE ($1::text IS NULL OR entity_code = $1) AND ($2::date IS NULL OR period = $2)
         ORDER BY period DESC, entity_code",
    )
    .bind(entity.map(str::to_ascii_uppercase))
    .bind(period.map(Period::first_day))
    .fetch_all(pool)
    .await?)
}
