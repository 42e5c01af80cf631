//! Running the `meridian` binary from tests: one command and its JSON or its one-line
//! error, and a run killed (SIGKILL) after a random delay.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary against the database at `url`, logging warnings only.
pub fn command(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meridian"));
    c.env("DATABASE_URL", url).env("MERIDIAN_LOG", "warn");
    c
}

pub fn meridian(url: &str, args: &[&str]) -> Output {
    command(url).args(args).output().expect("run meridian")
}

/// The JSON a command that must succeed prints.
pub fn ok_json(url: &str, args: &[&str]) -> Value {
    let out = meridian(url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The one-line error of a command that must fail.
pub fn error_line(url: &str, args: &[&str]) -> String {
    let out = meridian(url, args);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

/// Runs `command` for at most `delay`: its output (which must be a success) when it
/// finished by then, `None` when it was killed with SIGKILL.
pub fn run_or_kill(mut command: Command, delay: Duration) -> Option<Output> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start meridian");
    let started = Instant::now();
    while started.elapsed() < delay && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    if child.try_wait().unwrap().is_some() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Some(out);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    None
}

/// Delays of `min_ms` up to `min_ms + spread_ms`, from a generator seeded by the clock.
pub struct RandomDelays {
    seed: u64,
    min_ms: u64,
    spread_ms: u64,
}

impl RandomDelays {
    pub fn new(min_ms: u64, spread_ms: u64) -> RandomDelays {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        RandomDelays {
            seed,
            min_ms,
            spread_ms,
        }
    }

    /// Doubles the spread (up to 30 s): for a loop that made no progress in the time
    /// it was given, as on a machine busy with other work.
    pub fn widen(&mut self) {
        self.spread_ms = (self.spread_ms * 2).min(30_000);
    }
}

impl Iterator for RandomDelays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Some(Duration::from_millis(
            self.min_ms + (self.seed >> 33) % self.spread_ms,
        ))
    }
}
