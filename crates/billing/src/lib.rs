//! Billing: money from usage quantities. Owns the price history, rating, taxes, FX,
//! entities and customers, the monthly invoice run with its gap-free numbering, credit
//! notes, and the proof of zero markup (`verify`).
//!
//! Reads quantities from the metering rollups and never sees request content. Money is
//! `rust_decimal` and `NUMERIC`, never a float; it is rounded only in [`totals`].

pub mod budget_alerts;
pub mod credit;
pub mod customers;
pub mod document;
pub mod entities;
pub mod fx;
pub mod india;
pub mod issue;
pub mod money;
pub mod period;
pub mod prices;
pub mod progress;
pub mod query;
pub mod rating;
pub mod run;
pub mod run_jobs;
pub mod tax_ids;
pub mod taxes;
pub mod totals;
pub mod verify;

pub use customers::{Customer, NewCustomer};
pub use entities::Entity;
pub use money::{Currency, Money};
pub use period::Period;

/// How a validation message names the field it refuses: as the CLI's flag
/// (`--tax-id`) or as a REST body's member (`` `tax_id` ``).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Naming {
    #[default]
    Flags,
    Members,
}

impl Naming {
    /// The name of the field whose body member is `member` (`tax_id`, `bank_name`).
    pub fn of(self, member: &str) -> String {
        match self {
            Naming::Members => format!("`{member}`"),
            Naming::Flags => {
                let flag = match member {
                    "bank_name" => "bank",
                    "bank_account" => "account",
                    "bank_bic" => "bic",
                    "payment_terms_days" => "payment-terms",
                    other => other,
                };
                format!("--{}", flag.replace('_', "-"))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Invalid(String),
    /// A run asked for a period that has not ended in an entity's time zone.
    #[error("{0}")]
    PeriodNotEnded(String),
    #[error("unknown billing entity `{0}` (known: US, EU, UK, JP, SG, KR, IN, AU)")]
    UnknownEntity(String),
    #[error("no invoice or credit note numbered `{0}`")]
    UnknownInvoice(String),
    #[error("issued invoices do not match rollups and catalog: {0}")]
    VerificationFailed(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
