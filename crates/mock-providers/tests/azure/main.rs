//! Azure OpenAI on the mock, over real HTTP, with a third-party client (async-openai's
//! Azure configuration) among others.

#[path = "../common/mod.rs"]
mod common;

mod capacity;
mod chat;
mod sdk;
mod support;
