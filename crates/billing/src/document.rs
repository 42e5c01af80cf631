//! The invoice lifecycle in types: a [`Draft`] (invoice or credit note) is built in
//! memory, and becomes an [`Issued`] document only through [`Draft::finalize`], which
//! consumes it and takes its gap-free [`DocumentNumber`]. Issued documents are stored
//! once and never changed; corrections are credit notes.

use chrono::{DateTime, NaiveDate, Utc};
use meridian_core::CustomerId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::Customer;
use crate::entities::Entity;
use crate::fx::FxRate;
use crate::money::Currency;
use crate::period::Period;
use crate::rating::Line;
use crate::taxes::{INDIA_SAC, TaxRegime, customer_state};
use crate::totals::Totals;
use crate::{BillingError, india};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::CreditNote => "credit_note",
        }
    }
}

/// A line of a draft, with the invoice line it credits (credit notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftLine {
    pub line: Line,
    pub tax_group: u32,
    pub credited_line_no: Option<i32>,
}

/// What a credit note corrects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditedInvoice {
    pub id: Uuid,
    pub number: String,
    pub issue_date: NaiveDate,
    pub reason: String,
}

/// A document not yet numbered. Lives in memory only.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: DocumentKind,
    pub entity: Entity,
    pub customer_id: CustomerId,
    pub period: Period,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub issue_date: NaiveDate,
    pub run_id: Option<Uuid>,
    pub credits: Option<CreditedInvoice>,
    pub currency: Currency,
    pub fx: FxRate,
    pub locale: String,
    pub regime: TaxRegime,
    pub lines: Vec<DraftLine>,
    pub totals: Totals,
    /// The seller's and buyer's details as printed, snapshotted at issue.
    pub seller: Value,
    pub buyer: Value,
}

/// An invoice or credit note number: `PREFIX-YYYY-000123` (credit notes
/// `PREFIXC-YYYY-000123`), YYYY the fiscal year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentNumber {
    pub fiscal_year: i32,
    pub seq: i64,
    pub text: String,
}

impl DocumentNumber {
    pub fn new(
        entity: &Entity,
        kind: DocumentKind,
        fiscal_year: i32,
        seq: i64,
    ) -> Result<DocumentNumber, BillingError> {
        let series = match kind {
            DocumentKind::Invoice => entity.number_prefix.clone(),
            DocumentKind::CreditNote => format!("{}C", entity.number_prefix),
        };
        let text = format!("{series}-{fiscal_year}-{seq:06}");
        // India (Rule 46): at most 16 characters of letters, digits, `-` and `/`.
        let legal = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/');
        if entity.country == "IN" && (text.len() > 16 || !legal) {
            return Err(BillingError::Invalid(format!(
                "invoice number `{text}` breaks India's limit of 16 characters of [A-Za-z0-9/-]; shorten entity {}'s prefix",
                entity.code
            )));
        }
        Ok(DocumentNumber {
            fiscal_year,
            seq,
            text,
        })
    }
}

/// A numbered document, ready to be stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub id: Uuid,
    pub number: DocumentNumber,
    pub draft: Draft,
}

impl Draft {
    /// Takes the number; the only way to an [`Issued`] document.
    pub fn finalize(self, number: DocumentNumber) -> Issued {
        Issued {
            id: Uuid::now_v7(),
            number,
            draft: self,
        }
    }
}

/// The seller as an issued document prints it: the entity's details at issue and, for
/// India, its State's name and GST code and the SAC of the supply. Written by
/// [`seller_snapshot`], read back by [`SellerSnapshot::parse`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SellerSnapshot {
    #[serde(flatten)]
    pub entity: Entity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_gst_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sac: Option<String>,
}

/// The buyer as an issued document prints it: the customer's details at issue and, for
/// India, the State of the place of supply. Written by [`buyer_snapshot`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuyerSnapshot {
    #[serde(flatten)]
    pub customer: Customer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_gst_code: Option<String>,
}

impl SellerSnapshot {
    pub fn parse(stored: &Value) -> Result<SellerSnapshot, BillingError> {
        serde_json::from_value(stored.clone())
            .map_err(|e| BillingError::Invalid(format!("stored seller snapshot: {e}")))
    }
}

impl BuyerSnapshot {
    pub fn parse(stored: &Value) -> Result<BuyerSnapshot, BillingError> {
        serde_json::from_value(stored.clone())
            .map_err(|e| BillingError::Invalid(format!("stored buyer snapshot: {e}")))
    }
}

/// The seller's details as the invoice prints them.
pub fn seller_snapshot(entity: &Entity) -> Value {
    let state = (entity.country == "IN")
        .then(|| entity.state.as_deref().and_then(india::state_by_iso))
        .flatten();
    json!(SellerSnapshot {
        entity: entity.clone(),
        state_name: state.as_ref().map(|s| s.name.to_string()),
        state_gst_code: state.as_ref().map(|s| s.gst_code.to_string()),
        sac: state.map(|_| INDIA_SAC.to_string()),
    })
}

/// The buyer's details as the invoice prints them.
pub fn buyer_snapshot(customer: &Customer, entity: &Entity) -> Value {
    let state = (entity.country == "IN")
        .then(|| customer_state(customer))
        .flatten();
    json!(BuyerSnapshot {
        customer: customer.clone(),
        state_name: state.as_ref().map(|s| s.name.to_string()),
        state_gst_code: state.map(|s| s.gst_code.to_string()),
    })
}
