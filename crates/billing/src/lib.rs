//! Billing: entities, customers, and (as it grows) rating, taxes, FX and invoices.
//! Money only: this crate reads usage quantities from rollups and never sees request
//! content.

pub mod customers;
pub mod entities;

pub use customers::{Customer, NewCustomer};
pub use entities::Entity;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown billing entity `{0}` (known: US, EU, UK, JP, SG, KR, IN, AU)")]
    UnknownEntity(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
