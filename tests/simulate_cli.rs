//! `meridian simulate generate` and `meridian simulate --json` as a script calls them:
//! the Contract's fields, and errors that name what is wrong.

use std::process::Command;

fn meridian(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("meridian runs")
}

#[test]
fn a_generated_trace_replays_into_the_contract_json() {
    let dir = tempfile_dir();
    let trace = dir.join("trace.jsonl");
    let trace = trace.to_str().unwrap();
    let out = meridian(&["simulate", "generate", "--hours", "3", "--out", trace]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("wrote "));

    let out = meridian(&[
        "simulate",
        "--config",
        "bench/simulate/three-regions.toml",
        "--trace",
        trace,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for run in ["policy", "baseline"] {
        let r = &report[run];
        for field in ["reserved_utilization", "on_demand_share"] {
            let x = r[field].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&x), "{run}.{field} = {}", r[field]);
        }
        for field in ["client_429", "upstream_429"] {
            assert!(r[field].is_u64(), "{run}.{field} = {}", r[field]);
        }
        let cost = r["cost_usd"]
            .as_str()
            .expect("cost_usd is a decimal string");
        assert!(cost.parse::<rust_decimal::Decimal>().is_ok(), "{cost}");
        let pools = r["pools"].as_array().expect("pools");
        assert_eq!(pools.len(), 3);
        for pool in pools {
            assert!(pool["id"].as_str().is_some_and(|id| id.ends_with("-ptu")));
            assert!(pool["reserved_utilization"].is_f64());
            assert!(pool["spilled_in"].is_u64() && pool["spilled_out"].is_u64());
        }
    }
    let spilled_in = |run: &str| -> u64 {
        report[run]["pools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["spilled_in"].as_u64().unwrap())
            .sum()
    };
    assert!(spilled_in("policy") > 0);
    assert_eq!(
        spilled_in("baseline"),
        0,
        "the baseline lends nothing across regions"
    );

    let text = meridian(&[
        "simulate",
        "--config",
        "bench/simulate/three-regions.toml",
        "--trace",
        trace,
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("policy: ") && text.contains("baseline: ") && text.contains("targets"),
        "{text}"
    );
}

#[test]
fn a_bad_trace_or_speed_is_one_line_naming_it() {
    let dir = tempfile_dir();
    let trace = dir.join("bad.jsonl");
    std::fs::write(&trace, "{\"t_ms\": 1, \"customer\": \"c\"}\n").unwrap();
    let trace = trace.to_str().unwrap();
    let config = "bench/simulate/three-regions.toml";
    let out = meridian(&["simulate", "--config", config, "--trace", trace]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("trace line 1: missing field"), "{err}");

    let out = meridian(&[
        "simulate", "--config", config, "--trace", trace, "--speed", "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed must be a positive number"));

    let out = meridian(&["simulate", "--trace", trace]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("meridian-simulate-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
