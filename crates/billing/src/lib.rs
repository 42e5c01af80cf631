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
pub mod tax_ids;
pub mod taxes;
pub mod totals;
pub mod verify;

pub use customers::{Customer, NewCustomer};
pub use entities::Entity;
pub use money::{Currency, Money};
pub use period::Period;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown billing entity `{0}` (known: US, EU, UK, JP, SG, KR, IN, AU)")]
    UnknownEntity(String),
    #[error("no invoice or credit note numbered `{0}`")]
    UnknownInvoice(String),
    #[error("issued invoices do not match rollups and catalog: {0}")]
    VerificationFailed(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
