//! Customer API keys: the `api_keys` table and its in-memory copy.
//!
//! [`table`] is the one module that reads and writes `api_keys` (creation, listing,
//! changes, rotation, revocation, and the rows a refresh reads); [`store`] serves the
//! keys from memory on the hot path and refreshes them in the background; [`secret`]
//! makes and hashes the secrets. A secret is shown once and only its hash is stored;
//! this crate never logs one.

pub mod secret;
pub mod store;
pub mod table;

pub use secret::{KEY_PREFIX, KeyHash, hash_key};
pub use store::KeyStore;
pub use table::{
    BudgetPatch, CreatedKey, KeyError, KeyPatch, KeyRecord, KeySettings, RotatedKey, Scope,
};
