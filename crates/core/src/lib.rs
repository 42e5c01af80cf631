//! Shared vocabulary of Meridian: ids, the usage event, token counts, the price
//! catalog's in-memory form, the configuration schema, secrets, and the few HTTP
//! rules every route family shares.
//!
//! This crate does no IO except the price catalog's Postgres loader; it must never hold
//! or log request or response content.

pub mod catalog;
pub mod config;
pub mod db;
pub mod ids;
pub mod keys;
pub mod price_versions;
pub mod secret;
pub mod served;
pub mod usage;
pub mod wire;

pub use ids::{CustomerId, KeyId, RequestId};
pub use keys::{BudgetPeriod, KeyBudget, KeyEntry, KeyLimits, KeyLookup, KeyRole, KeyStatus};
pub use secret::Secret;
pub use usage::{Staged, TokenUsage, UsageEvent, UsageSink};
