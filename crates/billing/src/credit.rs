//! Credit notes: the only correction of an issued invoice. Full (every line not yet
//! credited) or partial (chosen line numbers); numbered in their own gap-free series
//! per entity; they refer to the invoice's number and date and reuse its snapshotted
//! FX rate, tax rates, locale and buyer. Amounts are negative. The credit note that
//! credits the last lines of a tax group takes exactly what is left of that group's
//! rounded net and tax, so an invoice and its credit notes always sum to zero.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use crate::document::{CreditedInvoice, DocumentKind, Draft, DraftLine, seller_snapshot};
use crate::fx::FxRate;
use crate::money::Currency;
use crate::period::{self, Period};
use crate::query::{self, InvoiceDetail, StoredLine};
use crate::rating::{Line, LineKind};
use crate::taxes::{TaxComponent, TaxRegime, TaxTreatment};
use crate::totals::{self, TaxAmount, TaxGroupTotal};
use crate::{BillingError, entities, issue};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditOutcome {
    pub number: String,
    pub credited_invoice: String,
    pub issue_date: NaiveDate,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub lines: Vec<i32>,
}

/// Issues a credit note for `lines` of invoice `number` (all lines not yet credited
/// when `None`), dated `now` in the entity's time zone.
pub async fn credit(
    pool: &PgPool,
    number: &str,
    reason: &str,
    lines: Option<&[i32]>,
    now: DateTime<Utc>,
) -> Result<CreditOutcome, BillingError> {
    if reason.trim().is_empty() {
        return Err(BillingError::Invalid(
            "--reason must say why the invoice is credited".into(),
        ));
    }
    let invoice = query::get(pool, number).await?;
    if invoice.row.kind != "invoice" {
        return Err(BillingError::Invalid(format!(
            "{number} is a credit note; only invoices are credited"
        )));
    }
    let already: BTreeSet<i32> = sqlx::query_scalar(
        "SELECT credited_line_no FROM invoice_lines WHERE credits_invoice_id = $1 AND credited_line_no IS NOT NULL",
    )
    .bind(invoice.row.id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let chosen = choose_lines(&invoice, &already, lines)?;
    let entity = entities::require(pool, &invoice.row.entity).await?;
    let tz = period::time_zone(&entity.time_zone)?;
    let draft = Draft {
        kind: DocumentKind::CreditNote,
        customer_id: invoice.row.customer_id,
        period: Period::parse(&invoice.row.period)?,
        period_start: invoice.period_start,
        period_end: invoice.period_end,
        issue_date: period::local_date(tz, now),
        run_id: None,
        credits: Some(CreditedInvoice {
            id: invoice.row.id,
            number: invoice.row.number.clone(),
            issue_date: invoice.row.issue_date,
            reason: reason.trim().to_string(),
        }),
        currency: Currency::parse(&invoice.row.currency)?,
        fx: FxRate {
            rate: invoice.row.fx_rate,
            date: invoice.row.fx_date,
        },
        locale: invoice.locale.clone(),
        regime: stored_regime(&invoice),
        totals: credit_totals(pool, &invoice, &already, &chosen).await?,
        lines: chosen
            .iter()
            .map(|l| DraftLine {
                line: negated(l),
                tax_group: l.tax_group as u32,
                credited_line_no: Some(l.line_no),
            })
            .collect(),
        seller: seller_snapshot(&entity),
        buyer: invoice.buyer.clone(),
        entity,
    };
    let issued = issue::issue(pool, vec![draft]).await.map_err(|e| match e {
        BillingError::Db(sqlx::Error::Database(d))
            if d.constraint() == Some("invoice_lines_credited_once") =>
        {
            BillingError::Invalid(format!(
                "a line of {number} was credited by another credit note meanwhile; retry"
            ))
        }
        other => other,
    })?;
    let doc = issued
        .into_iter()
        .next()
        .ok_or_else(|| BillingError::Invalid("the credit note was not issued".into()))?;
    Ok(CreditOutcome {
        number: doc.number.text,
        credited_invoice: invoice.row.number,
        issue_date: doc.draft.issue_date,
        currency: doc.draft.currency.code().to_string(),
        subtotal: doc.draft.totals.subtotal,
        tax: doc.draft.totals.tax,
        total: doc.draft.totals.total,
        lines: chosen.iter().map(|l| l.line_no).collect(),
    })
}

fn choose_lines(
    invoice: &InvoiceDetail,
    already: &BTreeSet<i32>,
    lines: Option<&[i32]>,
) -> Result<Vec<StoredLine>, BillingError> {
    let number = &invoice.row.number;
    let chosen: Vec<StoredLine> = match lines {
        None => invoice
            .lines
            .iter()
            .filter(|l| !already.contains(&l.line_no))
            .cloned()
            .collect(),
        Some(wanted) => {
            let mut out = Vec::new();
            for n in wanted.iter().collect::<BTreeSet<_>>() {
                let line = invoice
                    .lines
                    .iter()
                    .find(|l| l.line_no == *n)
                    .ok_or_else(|| {
                        BillingError::Invalid(format!(
                            "{number} has no line {n} (lines 1–{})",
                            invoice.lines.len()
                        ))
                    })?;
                if already.contains(n) {
                    return Err(BillingError::Invalid(format!(
                        "line {n} of {number} is already credited"
                    )));
                }
                out.push(line.clone());
            }
            out
        }
    };
    if chosen.is_empty() {
        return Err(BillingError::Invalid(format!(
            "{number} is already fully credited"
        )));
    }
    Ok(chosen)
}

fn negated(l: &StoredLine) -> Line {
    Line {
        kind: LineKind::parse(&l.kind).unwrap_or(LineKind::Input),
        model: l.model.clone(),
        provider: l.provider.clone(),
        region: l.region.clone(),
        catalog_key: l.catalog_key.clone(),
        price_version: l.price_version,
        quantity: -l.quantity,
        unit_price: l.unit_price,
    }
}

fn stored_regime(invoice: &InvoiceDetail) -> TaxRegime {
    TaxRegime {
        treatment: TaxTreatment::parse(&invoice.tax_treatment).unwrap_or(TaxTreatment::Standard),
        components: invoice
            .taxes
            .iter()
            .map(|t| TaxComponent {
                code: t.tax_code.clone(),
                rate: t.rate,
            })
            .collect(),
        note: invoice.tax_note.clone(),
        place_of_supply: invoice.place_of_supply.clone(),
    }
}

/// Per tax group: the chosen lines' net rounded once at the invoice's rates, or, when
/// they are the group's last uncredited lines, exactly what remains of it.
async fn credit_totals(
    pool: &PgPool,
    invoice: &InvoiceDetail,
    already: &BTreeSet<i32>,
    chosen: &[StoredLine],
) -> Result<totals::Totals, BillingError> {
    let currency = Currency::parse(&invoice.row.currency)?;
    let prior: Vec<(i32, String, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT t.tax_group, t.tax_code, sum(t.taxable_usd), sum(t.taxable), sum(t.tax)
         FROM invoice_taxes t JOIN invoices c ON c.id = t.invoice_id
         WHERE c.credited_invoice_id = $1 GROUP BY 1, 2",
    )
    .bind(invoice.row.id)
    .fetch_all(pool)
    .await?;
    let groups: BTreeSet<i32> = chosen.iter().map(|l| l.tax_group).collect();
    let mut out = Vec::new();
    for g in groups {
        let components: Vec<TaxComponent> = invoice
            .taxes
            .iter()
            .filter(|t| t.tax_group == g)
            .map(|t| TaxComponent {
                code: t.tax_code.clone(),
                rate: t.rate,
            })
            .collect();
        let net: Decimal = chosen
            .iter()
            .filter(|l| l.tax_group == g)
            .map(|l| -l.amount_usd)
            .sum();
        let closes_group =
            invoice.lines.iter().filter(|l| l.tax_group == g).all(|l| {
                already.contains(&l.line_no) || chosen.iter().any(|c| c.line_no == l.line_no)
            });
        if !closes_group {
            out.push(totals::group_total(
                g as u32,
                net,
                &components,
                invoice.row.fx_rate,
                currency,
            ));
            continue;
        }
        let remaining = |code: &str,
                         pick: fn(&(i32, String, Decimal, Decimal, Decimal)) -> Decimal|
         -> Decimal {
            prior
                .iter()
                .filter(|p| p.0 == g && p.1 == code)
                .map(pick)
                .sum()
        };
        let stored: HashMap<&str, _> = invoice
            .taxes
            .iter()
            .filter(|t| t.tax_group == g)
            .map(|t| (t.tax_code.as_str(), t))
            .collect();
        let any_code = components
            .first()
            .map(|c| c.code.clone())
            .unwrap_or_default();
        let taxable = stored
            .get(any_code.as_str())
            .map_or(Decimal::ZERO, |t| t.taxable);
        out.push(TaxGroupTotal {
            group: g as u32,
            taxable_usd: net,
            taxable: -(taxable + remaining(&any_code, |p| p.3)),
            taxes: components
                .iter()
                .map(|c| TaxAmount {
                    code: c.code.clone(),
                    rate: c.rate,
                    tax: -(stored.get(c.code.as_str()).map_or(Decimal::ZERO, |t| t.tax)
                        + remaining(&c.code, |p| p.4)),
                })
                .collect(),
        });
    }
    Ok(totals::totals(out))
}
