//! Anthropic's Messages API on the mock, over real HTTP.

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod capacity;
mod faults;
mod messages;
mod refusals;
mod stream;
mod support;
mod vertex;
