//! The seam between what holds the API keys (the gateway's store, in memory) and what
//! authenticates with them (the dashboard and finance API): a lookup by the bearer
//! secret, so that the API does not link the gateway's upstream stack.

use std::sync::Arc;

use crate::{CustomerId, KeyId};

/// What a key is, as a request needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub id: KeyId,
    pub customer_id: CustomerId,
    pub revoked: bool,
    /// The customer's residency value (`None`: any region) and home region (`None`:
    /// the default the config gives), for routing.
    pub residency: Option<Arc<str>>,
    pub home_region: Option<Arc<str>>,
}

pub trait KeyLookup: Send + Sync + 'static {
    /// The key whose secret is `secret`, revoked ones included (the caller says why
    /// it refuses).
    fn lookup(&self, secret: &str) -> Option<KeyEntry>;
}
