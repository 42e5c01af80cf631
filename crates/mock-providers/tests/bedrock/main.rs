//! Amazon Bedrock's Converse API on the mock, over real HTTP, with requests signed by
//! AWS's own SigV4 implementation (`aws-sigv4`) and streams decoded by AWS's own
//! event-stream reader (`aws-smithy-eventstream`).

#[path = "../common/mod.rs"]
mod common;

mod capacity;
mod converse;
mod faults;
mod signing;
mod stream;
mod support;
