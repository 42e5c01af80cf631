//! Google's generateContent on the mock, as the Gemini API and as Vertex AI serve it,
//! over real HTTP.

#[path = "../common/mod.rs"]
mod common;

mod capacity;
mod faults;
mod generate;
mod refusals;
mod stream;
mod support;
mod vertex;
