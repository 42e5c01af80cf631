//! Metering: usage events in, hourly rollups in Postgres out, exactly once.
//!
//! The gateway appends each event to a local journal ([`journal`]) before it answers
//! the client; the [`worker`] folds the journal into rollups ([`rollup`]) and commits
//! them together with its journal position ([`store`]), so a replay after a crash or
//! an outage of Postgres counts every event once; [`spend`] reads what the current
//! budget periods already cost back from both. Quantities only: this crate never
//! sees request content and never decides prices.

pub mod histogram;
pub mod import;
pub mod journal;
pub mod rollup;
pub mod spend;
pub mod store;
pub mod worker;

pub use journal::{Journal, JournalPosition};
pub use worker::{MeteringWorker, WorkerConfig};
