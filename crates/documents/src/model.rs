//! The document model: everything an invoice or credit note page and its e-invoice XML
//! print, as billing snapshotted it at issue (`issued` fills it from billing's issued
//! rows). This crate never computes prices or taxes; it only checks that what it is
//! given adds up before printing it. Money is `rust_decimal` throughout, never a float.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{DocumentsError, currency};

/// An issued invoice or credit note, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDocument {
    pub kind: DocumentKind,
    /// The gap-free number (`EU-2026-000042`).
    pub number: String,
    pub issue_date: NaiveDate,
    /// The time of supply.
    pub period: BillingPeriod,
    /// The customer's locale, any BCP 47 tag (`fr-CA`, `en-IN`): strings come from the
    /// nearest shipped locale, numbers and dates follow this exact tag.
    pub locale: String,
    /// ISO 4217 code of the invoice currency.
    pub currency: String,
    /// USD → invoice currency, as stored on the invoice (1 for USD invoices).
    pub fx: FxRate,
    pub seller: Seller,
    pub buyer: Buyer,
    /// Usage lines in exact USD, and the platform fee line of 0.
    pub lines: Vec<Line>,
    /// One row per tax rate (India's CGST and SGST are two rows over one base).
    pub taxes: Vec<TaxRow>,
    pub totals: Totals,
    pub payment: PaymentDetails,
    pub legal: LegalNotes,
    /// The page layout, fixed at issue so that a re-render is byte-identical.
    pub layout: LayoutVersion,
}

/// Versions of the page layout. A document keeps the one it was issued with; new
/// documents get [`LayoutVersion::CURRENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LayoutVersion {
    /// Header values wrapped at any space (a date could break), the country printed
    /// after the address even when its last line names it.
    V1 = 1,
    /// Header values wrapped only between dates and phrases, in a column as wide as
    /// its labels leave; the country printed once.
    V2 = 2,
}

impl LayoutVersion {
    pub const CURRENT: LayoutVersion = LayoutVersion::V2;

    /// The version stored on an issued document.
    pub fn from_stored(version: i16) -> Option<LayoutVersion> {
        match version {
            1 => Some(LayoutVersion::V1),
            2 => Some(LayoutVersion::V2),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    /// Refers to the invoice it corrects; its amounts are negative.
    CreditNote {
        invoice_number: String,
        invoice_date: NaiveDate,
        reason: String,
    },
}

/// First and last day of the billing period, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Units of the invoice currency per 1 USD, from the ECB reference rates of `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    pub rate: Decimal,
    pub date: NaiveDate,
}

/// The billing entity that issues the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub legal_name: String,
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub tax_id: Option<TaxId>,
    /// India: the State of registration.
    pub state: Option<State>,
    pub phone: Option<String>,
    /// Korea's 대표자.
    pub representative: Option<String>,
    pub email: Option<String>,
}

/// The customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: String,
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub state: Option<State>,
    /// Absent for consumers.
    pub tax_id: Option<TaxId>,
    pub email: String,
}

/// A tax registration as the country prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxId {
    pub scheme: TaxIdScheme,
    pub value: String,
}

/// Which identifier a tax id is; decides its printed label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxIdScheme {
    /// EU or UK VAT number.
    Vat,
    /// Japan's qualified-invoice registration number (`T` + 13 digits, 登録番号).
    JpRegistration,
    /// Singapore GST registration number / UEN.
    SgGst,
    /// Korea's business registration number (사업자등록번호).
    KrBusiness,
    /// India's GSTIN.
    Gstin,
    /// Australia's ABN.
    Abn,
    /// Anything else (a US EIN …).
    Other,
}

/// An Indian State (or any first-level subdivision) with its code as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    /// India: the two-digit GST State code (`29` for Karnataka).
    pub code: String,
}

/// One invoice line. `amount` is exact USD (`quantity × unit price`), not rounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: LineKind,
    /// `openai/gpt-4o-mini`; empty for the platform fee.
    pub model: String,
    pub provider: String,
    pub region: String,
    /// Tokens (negative on credit notes).
    pub quantity: i64,
    /// The provider's list price per 1M tokens, USD, exact.
    pub unit_price_per_million: Decimal,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Input,
    CachedInput,
    CacheWrite,
    /// A prompt-cache write with a 1-hour lifetime, priced apart from `CacheWrite`.
    CacheWrite1h,
    Output,
    Reasoning,
    /// The platform fee: always one line of 0.
    PlatformFee,
}

/// One row of the tax summary, in the invoice currency, rounded to its minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRow {
    pub category: TaxCategory,
    /// 0.19 for 19 %.
    pub rate: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
}

/// The printed name of a tax and, for the e-invoice, its EN 16931 category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxCategory {
    Vat,
    /// EU B2B across borders: 0 %, the buyer accounts for the VAT.
    VatReverseCharge,
    Gst,
    Igst,
    Cgst,
    Sgst,
    /// Japan's consumption tax.
    Jct,
    /// No tax applies (United States).
    NotTaxed,
}

/// Totals in the invoice currency, each rounded to its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ line amounts, exact USD.
    pub subtotal_usd: Decimal,
    /// Σ tax-row nets (India's CGST/SGST pair counted once).
    pub subtotal: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// How to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDetails {
    pub due_date: NaiveDate,
    pub account_holder: String,
    pub bank: String,
    /// IBAN, or the local account number.
    pub account: String,
    /// BIC / SWIFT.
    pub bic: Option<String>,
    /// What to quote with the payment (usually the invoice number).
    pub reference: String,
}

/// The country-specific words the document must carry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LegalNotes {
    /// EU reverse charge: 0 VAT, "Reverse charge" in the invoice language.
    pub reverse_charge: bool,
    /// Titled "Tax invoice" (Singapore, Australia, India).
    pub tax_invoice: bool,
    /// Japan's qualified invoice (適格請求書): the seller's tax id is printed as its
    /// registration number (登録番号) and tax is shown per rate.
    pub japan_qualified_invoice: bool,
    /// Korea: totals as 공급가액 / 세액, and the note that the statutory tax invoice is
    /// the electronic one filed with the NTS.
    pub korea_terms: bool,
    pub india: Option<IndiaNotes>,
}

/// India's Rule 46 particulars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndiaNotes {
    /// 998315 by default.
    pub sac: String,
    /// The recipient's State.
    pub place_of_supply: State,
    /// Printed as "Tax payable on reverse charge: No" unless true.
    pub reverse_charge: bool,
}

impl InvoiceDocument {
    /// Whether this is a credit note.
    pub fn is_credit_note(&self) -> bool {
        matches!(self.kind, DocumentKind::CreditNote { .. })
    }

    /// Checks what the page and the XML rely on: a known currency, totals rounded to its
    /// minor unit and adding up, line amounts equal to quantity × unit price, one
    /// platform fee line of 0 (credit notes: at most one). Returns every problem at once.
    pub fn validate(&self) -> Result<(), DocumentsError> {
        let mut problems = Vec::new();
        let code = &self.currency;
        currency::minor_units(code)?;
        let t = &self.totals;
        for (name, v) in [("subtotal", t.subtotal), ("tax", t.tax), ("total", t.total)] {
            if !currency::is_rounded(v, code)? {
                problems.push(format!("{name} {v} is not rounded to {code}'s minor unit"));
            }
        }
        for row in &self.taxes {
            if !currency::is_rounded(row.net, code)? || !currency::is_rounded(row.tax, code)? {
                problems.push(format!("tax row {:?} is not rounded", row.category));
            }
        }
        if t.total != t.subtotal + t.tax {
            problems.push(format!(
                "total {} ≠ subtotal {} + tax {}",
                t.total, t.subtotal, t.tax
            ));
        }
        let tax_sum: Decimal = self.taxes.iter().map(|r| r.tax).sum();
        if tax_sum != t.tax {
            problems.push(format!("tax {} ≠ Σ tax rows {tax_sum}", t.tax));
        }
        let net_sum: Decimal = self.tax_bases().iter().map(|r| r.net).sum();
        if net_sum != t.subtotal {
            problems.push(format!(
                "subtotal {} ≠ Σ taxable amounts {net_sum}",
                t.subtotal
            ));
        }
        let usd_sum: Decimal = self.lines.iter().map(|l| l.amount).sum();
        if usd_sum != t.subtotal_usd {
            problems.push(format!(
                "subtotal_usd {} ≠ Σ lines {usd_sum}",
                t.subtotal_usd
            ));
        }
        for (i, l) in self.lines.iter().enumerate() {
            let expected =
                Decimal::from(l.quantity) * l.unit_price_per_million / Decimal::from(1_000_000);
            if expected != l.amount {
                problems.push(format!(
                    "line {}: amount {} ≠ quantity × unit price {expected}",
                    i + 1,
                    l.amount
                ));
            }
        }
        let fees: Vec<&Line> = self
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::PlatformFee)
            .collect();
        // A partial credit note credits chosen lines, which may leave the fee out.
        let fee_ok = match fees.as_slice() {
            [fee] => fee.amount.is_zero(),
            [] => self.is_credit_note(),
            _ => false,
        };
        if !fee_ok {
            problems.push(
                "an invoice has exactly one platform fee line, of 0 (a credit note at most one)"
                    .to_string(),
            );
        }
        if self.fx.rate <= Decimal::ZERO {
            problems.push("the FX rate must be positive".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DocumentsError::Invalid(problems.join("; ")))
        }
    }

    /// The tax rows with one row per taxable base: India's CGST and SGST share theirs,
    /// so only the first of the pair is counted.
    pub fn tax_bases(&self) -> Vec<&TaxRow> {
        self.taxes
            .iter()
            .filter(|r| r.category != TaxCategory::Sgst)
            .collect()
    }
}
