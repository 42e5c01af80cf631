//! Billing's issued invoices and credit notes as documents: [`document`] maps what
//! billing stored at issue — the invoice row, its lines, its tax summary and the seller
//! and buyer snapshots — to an [`InvoiceDocument`], and [`IssuedDocuments`] is the
//! [`DocumentSource`] over Postgres that the outbox sender reads through.
//!
//! Everything comes from the issued rows, never from the entity or customer as they are
//! today, so a document re-rendered years later gives the same bytes. Which country's
//! words a document carries follows from the seller's snapshotted country.

use meridian_billing::document::{BuyerSnapshot, SellerSnapshot};
use meridian_billing::query::{self, InvoiceDetail, StoredLine, StoredTax};
use meridian_billing::tax_ids::{self, TaxIdScheme as BillingScheme};
use meridian_billing::taxes::INDIA_SAC;
use meridian_billing::{BillingError, Period};
use sqlx::PgPool;
use uuid::Uuid;

use crate::DocumentsError;
use crate::model::*;
use crate::outbox::DocumentSource;

impl From<BillingError> for DocumentsError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => DocumentsError::Db(e),
            other => DocumentsError::Invalid(other.to_string()),
        }
    }
}

/// The document of an issued invoice or credit note.
pub fn document(issued: &InvoiceDetail) -> Result<InvoiceDocument, DocumentsError> {
    let row = &issued.row;
    let seller = SellerSnapshot::parse(&issued.seller)?;
    let buyer = BuyerSnapshot::parse(&issued.buyer)?;
    let period = Period::parse(&row.period)?;
    let country = seller.entity.country.as_str();
    let kind = match row.kind.as_str() {
        "invoice" => DocumentKind::Invoice,
        "credit_note" => DocumentKind::CreditNote {
            invoice_number: row.credited_invoice.clone().ok_or_else(|| {
                invalid(&row.number, "a credit note without its invoice's number")
            })?,
            invoice_date: issued
                .credited_invoice_date
                .ok_or_else(|| invalid(&row.number, "a credit note without its invoice's date"))?,
            reason: issued.reason.clone().unwrap_or_default(),
        },
        other => return Err(invalid(&row.number, &format!("unknown kind `{other}`"))),
    };
    Ok(InvoiceDocument {
        kind,
        number: row.number.clone(),
        issue_date: row.issue_date,
        period: BillingPeriod {
            start: period.first_day(),
            end: period.last_day(),
        },
        locale: issued.locale.clone(),
        currency: row.currency.clone(),
        // USD invoices convert at 1 and print no rate; their date is the period's end.
        fx: FxRate {
            rate: row.fx_rate,
            date: row.fx_date.unwrap_or(period.last_day()),
        },
        lines: issued.lines.iter().map(line).collect::<Result<_, _>>()?,
        taxes: issued
            .taxes
            .iter()
            .map(|t| tax_row(t, &row.number))
            .collect::<Result<_, _>>()?,
        totals: Totals {
            subtotal_usd: issued.subtotal_usd,
            subtotal: row.subtotal,
            tax: row.tax,
            total: row.total,
        },
        payment: payment(&seller, issued),
        legal: LegalNotes {
            reverse_charge: issued.tax_treatment == "reverse_charge",
            tax_invoice: matches!(country, "SG" | "AU" | "IN"),
            japan_qualified_invoice: country == "JP",
            korea_terms: country == "KR",
            india: match country {
                "IN" => Some(india(&seller, &buyer, &row.number)?),
                _ => None,
            },
        },
        buyer: to_buyer(buyer, country),
        seller: to_seller(seller),
        layout: LayoutVersion::from_stored(issued.layout).ok_or_else(|| {
            invalid(
                &row.number,
                &format!(
                    "layout {} is newer than this Meridian renders",
                    issued.layout
                ),
            )
        })?,
    })
}

fn invalid(number: &str, why: &str) -> DocumentsError {
    DocumentsError::Invalid(format!("issued document {number}: {why}"))
}

fn address_lines(address: Option<&str>) -> Vec<String> {
    address
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The tax id as the country of its holder prints it.
fn tax_id(value: Option<&String>, country: &str) -> Option<TaxId> {
    let scheme = match BillingScheme::for_country(country) {
        Some(BillingScheme::EuVat | BillingScheme::GbVat) => TaxIdScheme::Vat,
        Some(BillingScheme::JpRegistration) => TaxIdScheme::JpRegistration,
        Some(BillingScheme::SgUen) => TaxIdScheme::SgGst,
        Some(BillingScheme::KrBusinessNumber) => TaxIdScheme::KrBusiness,
        Some(BillingScheme::InGstin) => TaxIdScheme::Gstin,
        Some(BillingScheme::AuAbn) => TaxIdScheme::Abn,
        Some(BillingScheme::UsEin) | None => TaxIdScheme::Other,
    };
    value.map(|v| TaxId {
        scheme,
        value: v.clone(),
    })
}

/// India's States as snapshotted (name and GST code); other countries print none.
fn state(name: &Option<String>, code: &Option<String>) -> Option<State> {
    Some(State {
        name: name.clone()?,
        code: code.clone()?,
    })
}

fn to_seller(s: SellerSnapshot) -> Seller {
    let e = s.entity;
    Seller {
        address_lines: address_lines(Some(&e.address)),
        tax_id: tax_id(e.tax_id.as_ref(), &e.country),
        state: state(&s.state_name, &s.state_gst_code),
        legal_name: e.legal_name,
        country: e.country,
        phone: e.phone,
        representative: e.representative,
        email: Some(e.email),
    }
}

/// The buyer's country: its own, else that of its EU VAT number, else the seller's.
fn buyer_country(c: &meridian_billing::Customer, seller_country: &str) -> String {
    c.country
        .clone()
        .or_else(|| {
            let id = tax_ids::validate(BillingScheme::EuVat, c.tax_id.as_deref()?).ok()?;
            id.eu_country().map(str::to_string)
        })
        .unwrap_or_else(|| seller_country.to_string())
}

fn to_buyer(b: BuyerSnapshot, seller_country: &str) -> Buyer {
    let country = buyer_country(&b.customer, seller_country);
    let c = b.customer;
    Buyer {
        address_lines: address_lines(c.address.as_deref()),
        tax_id: tax_id(c.tax_id.as_ref(), &country),
        state: state(&b.state_name, &b.state_gst_code),
        name: c.name,
        country,
        email: c.email,
    }
}

fn line(l: &StoredLine) -> Result<Line, DocumentsError> {
    let kind = match l.kind.as_str() {
        "input" => LineKind::Input,
        "cached_input" => LineKind::CachedInput,
        "cache_write" => LineKind::CacheWrite,
        "cache_write_1h" => LineKind::CacheWrite1h,
        "output" => LineKind::Output,
        "reasoning" => LineKind::Reasoning,
        "platform_fee" => LineKind::PlatformFee,
        other => {
            return Err(DocumentsError::Invalid(format!(
                "line {}: unknown kind `{other}`",
                l.line_no
            )));
        }
    };
    Ok(Line {
        kind,
        model: l.model.clone(),
        provider: l.provider.clone(),
        region: l.region.clone(),
        quantity: l.quantity,
        unit_price_per_million: l.unit_price_per_million,
        amount: l.amount_usd,
    })
}

/// A row of billing's tax summary: its EN 16931 category (`S`, `AE`, `O`) and tax code
/// decide the printed name.
fn tax_row(t: &StoredTax, number: &str) -> Result<TaxRow, DocumentsError> {
    let category = match (t.category.as_str(), t.tax_code.as_str()) {
        ("AE", _) => TaxCategory::VatReverseCharge,
        ("O", _) => TaxCategory::NotTaxed,
        ("S", "VAT") => TaxCategory::Vat,
        ("S", "GST") => TaxCategory::Gst,
        ("S", "IGST") => TaxCategory::Igst,
        ("S", "CGST") => TaxCategory::Cgst,
        ("S", "SGST") => TaxCategory::Sgst,
        ("S", "JCT") => TaxCategory::Jct,
        (category, code) => {
            return Err(invalid(
                number,
                &format!("unknown tax {code} of category {category}"),
            ));
        }
    };
    Ok(TaxRow {
        category,
        rate: t.rate,
        net: t.taxable,
        tax: t.tax,
    })
}

fn payment(seller: &SellerSnapshot, issued: &InvoiceDetail) -> PaymentDetails {
    let e = &seller.entity;
    PaymentDetails {
        due_date: issued.row.issue_date + chrono::Days::new(e.payment_terms_days.max(0) as u64),
        account_holder: e.legal_name.clone(),
        bank: e.bank_name.clone().unwrap_or_default(),
        account: e.bank_account.clone().unwrap_or_default(),
        bic: e.bank_bic.clone(),
        reference: issued.row.number.clone(),
    }
}

/// India's particulars: the SAC and the place of supply (the buyer's State).
fn india(
    seller: &SellerSnapshot,
    buyer: &BuyerSnapshot,
    number: &str,
) -> Result<IndiaNotes, DocumentsError> {
    Ok(IndiaNotes {
        sac: seller.sac.clone().unwrap_or_else(|| INDIA_SAC.to_string()),
        place_of_supply: state(&buyer.state_name, &buyer.state_gst_code)
            .ok_or_else(|| invalid(number, "an Indian invoice without a place of supply"))?,
        reverse_charge: false,
    })
}

/// Issued documents in Postgres, as the outbox sender reads them.
#[derive(Clone)]
pub struct IssuedDocuments {
    pool: PgPool,
}

impl IssuedDocuments {
    pub fn new(pool: PgPool) -> IssuedDocuments {
        IssuedDocuments { pool }
    }
}

impl DocumentSource for IssuedDocuments {
    async fn load(&self, invoice_id: Uuid) -> Result<InvoiceDocument, DocumentsError> {
        let issued = query::get_by_id(&self.pool, invoice_id)
            .await?
            .ok_or_else(|| {
                DocumentsError::Invalid(format!("no issued document with id {invoice_id}"))
            })?;
        document(&issued)
    }
}
