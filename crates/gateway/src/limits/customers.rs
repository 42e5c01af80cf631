//! What the gateway knows of each customer for its limits: the currency its budgets
//! are in, the latest stored rate of that currency per USD, and the customer-wide
//! limits and budget with its alert thresholds. Handed in by the binary, which reads
//! them in the background; the hot path only reads memory.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use meridian_core::{CustomerId, KeyBudget, KeyLimits};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTerms {
    /// ISO 4217 code of the customer's currency.
    pub currency: Arc<str>,
    /// Units of `currency` per USD at the latest stored ECB rate; `None` when none is
    /// stored (a budget cannot be checked then).
    pub per_usd: Option<Decimal>,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudget>,
    /// The percentages of `budget` at which the customer is told by e-mail.
    pub alerts: Arc<[i32]>,
}

#[derive(Default)]
pub struct CustomerTable {
    terms: ArcSwap<HashMap<CustomerId, CustomerTerms>>,
}

impl CustomerTable {
    /// Replaces what is known of every customer.
    pub fn replace(&self, terms: HashMap<CustomerId, CustomerTerms>) {
        self.terms.store(Arc::new(terms));
    }

    pub fn get(&self, customer: CustomerId) -> Option<CustomerTerms> {
        self.terms.load().get(&customer).cloned()
    }

    /// Every customer's terms, as last loaded.
    pub fn snapshot(&self) -> Arc<HashMap<CustomerId, CustomerTerms>> {
        self.terms.load_full()
    }

    pub fn len(&self) -> usize {
        self.terms.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
