//! Test support: sample documents and the command-line tools the tests read PDFs with
//! (shared with the binary's tests through `meridian-test-support`).
#![allow(dead_code)] // each test binary uses a different part

pub mod samples;

use std::path::Path;
use std::process::Command;

use meridian_test_support::pdf::tools;

/// A new, migrated database on the suite's Postgres.
pub async fn database() -> sqlx::PgPool {
    meridian_test_support::database::fresh().await.0
}

/// Runs a tool on a file and returns its standard output.
pub fn run(tool: &str, args: &[&str], file: &Path) -> String {
    tools();
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .expect(tool);
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Writes `bytes` to a fresh temporary file.
pub fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("meridian-{}-{name}", uuid::Uuid::now_v7()));
    std::fs::write(&path, bytes).unwrap();
    path
}
