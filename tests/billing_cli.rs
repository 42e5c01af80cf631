//! Billing through the `meridian` binary against a real Postgres: an invoice run of
//! 1,000 customers killed (SIGKILL) at random points and restarted ends with the same
//! invoices, without gaps or duplicates; an entity that cannot be invoiced is reported
//! while the others are issued; `usage import` is idempotent per request id; bad input
//! is one line on stderr, exit 1, nothing written.

mod common;

use common::cli::{RandomDelays, command, error_line, ok_json, run_or_kill};
use serde_json::Value;
use sqlx::PgPool;

const ECB_CSV: &str = "Date, USD, JPY, GBP, \n30 October 2026, 1.1600, 175.20, 0.8720, \n";

/// Every series is 1..n, every customer has at most one invoice for the period, and
/// within an entity the numbers follow the customer ids (the order a clean run uses).
async fn assert_gap_free(pool: &PgPool) -> i64 {
    let (count, customers, gaps, out_of_order): (i64, i64, i64, i64) = sqlx::query_as(
        "WITH s AS (
             SELECT entity_code, seq, customer_id,
                    row_number() OVER (PARTITION BY entity_code ORDER BY seq) AS expected,
                    lag(customer_id) OVER (PARTITION BY entity_code ORDER BY seq) AS previous
             FROM invoices WHERE kind = 'invoice')
         SELECT count(*), count(DISTINCT customer_id), count(*) FILTER (WHERE seq <> expected),
                count(*) FILTER (WHERE previous > customer_id) FROM s",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (customers, gaps, out_of_order),
        (count, 0, 0),
        "duplicates, gaps or disorder"
    );
    count
}

#[tokio::test]
async fn a_run_killed_at_random_points_ends_with_the_same_invoices() {
    let (pool, url) = common::fresh_database().await;
    // One customer in four is the EU entity's.
    let us = ("US", "USD", "en-US", "US");
    common::seed_customers(&pool, 1_000, &[("EU", "EUR", "en-US", "DE"), us, us, us]).await;
    let fx = common::temp_dir("fx").join("eurofxref.csv");
    std::fs::write(&fx, ECB_CSV).unwrap();
    ok_json(&url, &["fx", "import", fx.to_str().unwrap(), "--json"]);

    let mut kills = Vec::new();
    let mut delays = RandomDelays::new(50, 1_500);
    let finished = loop {
        let delay = delays.next().unwrap();
        let mut run = command(&url);
        run.args(["invoices", "run", "--period", "2026-10", "--json"]);
        if let Some(out) = run_or_kill(run, delay) {
            break out;
        }
        let issued = assert_gap_free(&pool).await;
        if issued == kills.last().map_or(0, |k: &(u128, i64)| k.1) {
            delays.widen();
        }
        kills.push((delay.as_millis(), issued));
        assert!(kills.len() < 40, "the run never finished: {kills:?}");
    };
    eprintln!("killed at (ms, invoices issued so far): {kills:?}");
    assert_eq!(assert_gap_free(&pool).await, 1_000);
    let last_run: Vec<Value> = serde_json::from_slice(&finished.stdout).unwrap();
    let before_last: usize = 1_000 - last_run.len();
    assert_eq!(before_last as i64, kills.last().map_or(0, |k| k.1));

    // Idempotent: one more run issues nothing; every invoice verifies.
    assert_eq!(
        ok_json(&url, &["invoices", "run", "--period", "2026-10", "--json"]),
        Value::Array(vec![])
    );
    let list = ok_json(
        &url,
        &[
            "invoices", "list", "--period", "2026-10", "--entity", "EU", "--json",
        ],
    );
    assert_eq!(list.as_array().unwrap().len(), 250);
    let first = &list[0];
    assert_eq!(
        (
            first["number"].as_str(),
            first["kind"].as_str(),
            first["currency"].as_str()
        ),
        (Some("MEU-2026-000001"), Some("invoice"), Some("EUR"))
    );
    assert_eq!(first["fx_rate"], "0.8620689655");
    let verified = ok_json(&url, &["invoices", "verify", "MEU-2026-000001", "--json"]);
    assert_eq!(verified["matches"], true);
}

#[tokio::test]
async fn an_entity_without_an_fx_rate_does_not_stop_the_others() {
    let (pool, url) = common::fresh_database().await;
    common::seed_customers(
        &pool,
        10,
        &[("EU", "EUR", "de-DE", "DE"), ("JP", "JPY", "ja-JP", "JP")],
    )
    .await;
    // USD alone: enough for euro invoices (crossed through the euro), none for yen.
    let dir = common::temp_dir("fx");
    let usd_only = dir.join("usd.csv");
    std::fs::write(&usd_only, "Date, USD, \n30 October 2026, 1.1600, \n").unwrap();
    ok_json(
        &url,
        &["fx", "import", usd_only.to_str().unwrap(), "--json"],
    );

    let out = common::cli::meridian(&url, &["invoices", "run", "--period", "2026-10", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let issued: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(issued.len(), 5);
    assert!(issued.iter().all(|i| i["entity"] == "EU"), "{issued:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("JP: no ECB rate for USD/JPY on or in the 10 days before 2026-10-31")
            && lines[0].contains("meridian fx import"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("error: not invoiced for 2026-10: JP"),
        "{stderr}"
    );
    let jp_rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM invoices WHERE entity_code = 'JP')
              + (SELECT count(*) FROM invoice_runs WHERE entity_code = 'JP')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(jp_rows, 0, "nothing of the failed entity is written");

    // With the yen rate the rerun issues the rest, and only the rest.
    let full = dir.join("eurofxref.csv");
    std::fs::write(&full, ECB_CSV).unwrap();
    ok_json(&url, &["fx", "import", full.to_str().unwrap(), "--json"]);
    let rest = ok_json(&url, &["invoices", "run", "--period", "2026-10", "--json"]);
    let rest = rest.as_array().unwrap();
    assert_eq!(rest.len(), 5);
    assert!(rest.iter().all(|i| i["entity"] == "JP"), "{rest:?}");
    assert_eq!(assert_gap_free(&pool).await, 10);
    assert_eq!(
        ok_json(&url, &["invoices", "run", "--period", "2026-10", "--json"]),
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn usage_import_is_idempotent_per_request_id() {
    let (pool, url) = common::fresh_database().await;
    let (customer, _) = common::customer_and_key(&pool).await;
    let dir = common::temp_dir("import");
    let file = dir.join("usage.jsonl");
    let line = |id: &str, status: u16| {
        format!(
            r#"{{"request_id": "{id}", "customer_id": "{customer}", "model": "openai/gpt-4o-mini", "deployment": "old-gateway", "time": "2026-10-03T10:15:00Z", "prompt_tokens": 1000, "completion_tokens": 500, "cached_tokens": 200, "status": {status}}}"#
        )
    };
    std::fs::write(
        &file,
        [
            line("req-1", 200),
            line("req-2", 200),
            line("req-1", 200),
            line("req-3", 429),
        ]
        .join("\n"),
    )
    .unwrap();
    let first = ok_json(&url, &["usage", "import", file.to_str().unwrap(), "--json"]);
    assert_eq!(
        (
            first["imported"].as_u64(),
            first["already_imported"].as_u64()
        ),
        (Some(3), Some(1))
    );
    let again = ok_json(&url, &["usage", "import", file.to_str().unwrap(), "--json"]);
    assert_eq!(
        (
            again["imported"].as_u64(),
            again["already_imported"].as_u64()
        ),
        (Some(0), Some(4))
    );
    let (requests, errors, prompt, completion, cost) = common::rollup_totals(&pool, customer).await;
    assert_eq!((requests, errors, prompt, completion), (3, 1, 2000, 1000));
    // 2 × (800 × 0.15/M + 200 × 0.075/M + 500 × 0.6/M) at the shipped gpt-4o-mini prices
    assert_eq!(cost.normalize().to_string(), "0.00087");

    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        format!("{}\n{{\"request_id\": \"req-9\"}}\n", line("req-8", 200)),
    )
    .unwrap();
    let err = error_line(&url, &["usage", "import", bad.to_str().unwrap()]);
    assert!(err.contains("bad.jsonl: line 2: missing field"), "{err}");
    assert_eq!(
        common::rollup_totals(&pool, customer).await.0,
        3,
        "nothing of a bad file is written"
    );
}

#[tokio::test]
async fn bad_input_is_one_line_and_nothing_is_written() {
    let (pool, url) = common::fresh_database().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT count(*) FROM fx_rates) + (SELECT count(*) FROM invoice_runs)",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let err = error_line(&url, &["invoices", "run", "--period", "2026-13"]);
    assert_eq!(err, "error: --period `2026-13` is not a month like 2026-10");
    let err = error_line(
        &url,
        &["invoices", "run", "--period", "2026-10", "--entity", "MARS"],
    );
    assert!(err.contains("unknown billing entity `MARS`"), "{err}");
    let err = error_line(&url, &["invoices", "run", "--period", "2099-01"]);
    assert!(err.contains("period 2099-01 has not ended"), "{err}");
    let fx = common::temp_dir("fx").join("broken.xml");
    std::fs::write(
        &fx,
        "<Cube><Cube time=\"2026-10-30\"><Cube currency=\"USD\" rate=\"one\"/></Cube></Cube>",
    )
    .unwrap();
    let err = error_line(&url, &["fx", "import", fx.to_str().unwrap()]);
    assert!(
        err.contains("broken.xml: malformed ECB rates file: line 1: rate `one`"),
        "{err}"
    );
    assert_eq!(count().await, 0);
    let err = error_line(
        &url,
        &["entities", "update", "JP", "--tax-id", "T1234567890123"],
    );
    assert!(err.contains("its check digit does not match"), "{err}");
    let err = error_line(
        &url,
        &[
            "customers",
            "create",
            "--name",
            "X",
            "--entity",
            "KR",
            "--currency",
            "KRW",
            "--locale",
            "ko-KR",
            "--email",
            "x@example.com",
        ],
    );
    assert!(
        err.contains("--tax-id (the business registration number) is required"),
        "{err}"
    );
    let updated = ok_json(
        &url,
        &[
            "entities",
            "update",
            "KR",
            "--representative",
            "이서연",
            "--json",
        ],
    );
    assert_eq!(updated["representative"], "이서연");
}
