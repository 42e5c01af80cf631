//! The mock over real HTTP on 127.0.0.1, driven by a third-party client (reqwest).

mod capacity;
mod chat;
mod embeddings;
mod faults;
mod flavors;
mod refusals;
mod sdk;
mod server;
mod stream;
mod support;
