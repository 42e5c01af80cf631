//! Test-only helpers shared by the crates' tests and the binary's end-to-end tests: a
//! fresh database per test ([`database`]), a small real SMTP server ([`smtp`]) and the
//! poppler tools that read PDFs back ([`pdf`]). Never a dependency of anything but tests.

pub mod database;
pub mod pdf;
pub mod smtp;
