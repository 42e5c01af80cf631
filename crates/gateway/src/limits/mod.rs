//! Key and customer limits and spend budgets on `/v1/*`, checked from memory before
//! any upstream call (no database round-trip).
//!
//! [`Limiter`] is the seam: [`MemoryLimiter`] counts for one process; a store shared
//! by several gateway processes (Redis) implements the same two calls. What a request
//! is checked against (its key's and its customer's [`Terms`]) travels with it in the
//! [`Demand`], so a backend only counts.
//!
//! - `rpm` and `tpm` count over any sliding 60-second window ([`crate::window`], the
//!   one deployment capacity counts in): tokens are reserved at the request's prompt
//!   estimate plus the output cap it set (none when it set none; at most the whole
//!   `tpm`, so that one large request still fits an idle minute) and corrected to
//!   what the provider reported when it ends.
//! - `max_concurrency` refuses at once (never queues).
//! - A spend budget reserves the most the request can cost at the tokens reserved
//!   (the highest list price among its deployments, exact decimal) and is corrected
//!   to the real cost when it ends. Spend is kept in exact USD and compared with the
//!   budget at the customer's latest stored ECB rate. A request without an output
//!   cap is reserved at its prompt: the overspend is then at most what the requests
//!   in flight cost beyond it (the specification's bound).
//!
//! `governor` (GCRA) was not used: GCRA cannot give back an over-estimate, which
//! `tpm`'s reserve-then-correct needs, and it is not the sliding window the
//! specification counts in.

mod admit;
pub mod customers;
pub mod memory;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use meridian_core::{BudgetPeriod, CustomerId, KeyId, KeyLimits};
use rust_decimal::Decimal;

pub(crate) use admit::admit;
pub use customers::{CustomerTable, CustomerTerms};
pub use memory::{MemoryLimiter, PastSpend};

/// Whose limit or budget it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Customer,
}

/// Which limit refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rpm(u32),
    Tpm(u64),
    Concurrency(u32),
}

/// A spend budget, with the rate that converts a USD cost into its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// In the customer's currency.
    pub amount: Decimal,
    pub period: BudgetPeriod,
    /// Units of the customer's currency per USD.
    pub per_usd: Decimal,
}

/// The limits and budget of one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terms {
    pub limits: KeyLimits,
    pub budget: Option<Budget>,
}

/// One request, as the limiter checks it.
#[derive(Debug, Clone)]
pub struct Demand {
    pub key: KeyId,
    pub customer: CustomerId,
    pub key_terms: Terms,
    pub customer_terms: Terms,
    /// Tokens to reserve against `tpm` (0 when no `tpm` applies).
    pub tokens: u64,
    /// The most the request can cost, USD (0 when no budget applies).
    pub max_cost: Decimal,
    /// When the request began (its budget period; its usage event's time).
    pub time: DateTime<Utc>,
    pub now: Instant,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooMany {
        scope: Scope,
        limit: Limit,
        retry_after: Duration,
    },
    BudgetExceeded {
        scope: Scope,
        budget: Budget,
        resets_at: DateTime<Utc>,
    },
}

/// What an admitted request holds until it ends ([`Limiter::settle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub key: KeyId,
    pub customer: CustomerId,
    /// The window's second the tokens were counted in.
    pub second: u64,
    /// Tokens reserved in the key's and in the customer's window.
    pub key_tokens: u64,
    pub customer_tokens: u64,
    /// USD reserved against the spend of the day and of the month that began at
    /// `day` and `month`.
    pub max_cost: Decimal,
    pub day: DateTime<Utc>,
    pub month: DateTime<Utc>,
}

pub trait Limiter: Send + Sync + 'static {
    /// Admits the request against its key's and its customer's terms (both or
    /// neither are counted), or says which one refuses.
    fn admit(&self, demand: &Demand) -> Result<Admission, Refusal>;

    /// Ends an admitted request: frees its place, corrects its tokens to `used_tokens`
    /// and its reserved cost to `cost` (USD; zero when it is not billed).
    fn settle(&self, admission: &Admission, used_tokens: u64, cost: Decimal);

    /// What the customer's requests that ended have cost in the `period` holding
    /// `now`, USD (what budget alerts compare with the budget).
    fn customer_spent(
        &self,
        customer: CustomerId,
        period: BudgetPeriod,
        now: DateTime<Utc>,
    ) -> Decimal;
}
