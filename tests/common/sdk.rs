//! The official provider SDKs (Python, from PyPI) for tests that drive Meridian the way
//! its users do: `scripts/sdk-python` makes the virtualenv once per machine.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The Python that has `anthropic` and `openai` installed.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| installed("sdk-python")).clone()
}

/// The path that `scripts/{script}` prints once it has installed what it installs.
pub fn installed(script: &str) -> PathBuf {
    let path = format!("{}/scripts/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&path)
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(
        out.status.success(),
        "scripts/{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs `program` (Python source) with `env` set; panics with its stderr on failure and
/// returns its output otherwise.
pub fn run(program: &str, env: &[(&str, &str)]) -> Output {
    let out = Command::new(python())
        .arg("-c")
        .arg(program)
        .envs(env.iter().copied())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `program` off the async runtime (which serves, in this process, the gateway
/// the program calls) with `env` set, and reads what it prints as JSON.
pub async fn run_json(program: &'static str, env: &[(&str, &str)]) -> serde_json::Value {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(program, &env)
    })
    .await
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}
