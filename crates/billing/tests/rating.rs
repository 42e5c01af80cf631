//! Rating a month of synthetic rollups across providers and regions, with a price
//! change in the middle of the month, gives exactly the hand-computed decimals; the
//! period follows the entity's time zone; `verify` proves the invoice and catches a
//! change of the rollups after issue.

mod common;

use common::*;
use meridian_billing::progress::Progress;
use meridian_billing::{Period, query, run, verify};

#[tokio::test]
async fn a_month_across_providers_with_a_mid_month_price_change_rates_exactly() {
    let pool = fresh_database().await;
    price_version(
        &pool,
        "gpt-4o-mini",
        "openai",
        "2026-01-01T00:00:00Z",
        "0.00000015",
        "0.0000006",
        Some("0.000000075"),
    )
    .await;
    price_version(
        &pool,
        "gpt-4o-mini",
        "openai",
        "2026-10-15T00:00:00Z",
        "0.0000002",
        "0.0000008",
        Some("0.0000001"),
    )
    .await;
    price_version(
        &pool,
        "azure/eu/gpt-4o",
        "azure",
        "2026-01-01T00:00:00Z",
        "0.00000275",
        "0.000011",
        None,
    )
    .await;
    price_version(
        &pool,
        "bedrock/us-east-1/anthropic.claude-sonnet-4-5",
        "bedrock",
        "2026-01-01T00:00:00Z",
        "0.000003",
        "0.000015",
        None,
    )
    .await;
    price_version(
        &pool,
        "deepseek-chat",
        "deepseek",
        "2026-01-01T00:00:00Z",
        "0.00000027",
        "0.0000011",
        Some("0.00000007"),
    )
    .await;
    let c = create(&pool, {
        let mut n = customer("Acme", "US", "USD", "en-US");
        n.country = Some("US".into());
        n
    })
    .await;
    let r = |model, provider, region, catalog_key, hour, prompt, completion, cached| Rollup {
        customer: c,
        model,
        provider,
        region,
        catalog_key,
        hour,
        prompt,
        completion,
        cached,
    };
    insert_rollups(
        &pool,
        &[
            // Before the price change (two hours, one line)...
            r(
                "openai/gpt-4o-mini",
                "openai",
                "us-east",
                "gpt-4o-mini",
                "2026-10-03T10:00:00Z",
                1_000_000,
                200_000,
                400_000,
            ),
            r(
                "openai/gpt-4o-mini",
                "openai",
                "us-east",
                "gpt-4o-mini",
                "2026-10-14T23:00:00Z",
                1,
                1,
                0,
            ),
            // ... and after it.
            r(
                "openai/gpt-4o-mini",
                "openai",
                "us-east",
                "gpt-4o-mini",
                "2026-10-20T05:00:00Z",
                500_000,
                100_000,
                0,
            ),
            r(
                "openai/gpt-4o",
                "azure",
                "eu",
                "azure/eu/gpt-4o",
                "2026-10-10T12:00:00Z",
                10_000,
                5_000,
                0,
            ),
            r(
                "anthropic/claude-sonnet-4-5",
                "bedrock",
                "us-east-1",
                "bedrock/us-east-1/anthropic.claude-sonnet-4-5",
                "2026-10-25T00:00:00Z",
                123_457,
                9_876,
                0,
            ),
            // 23:00 on 31 October in Los Angeles: still October.
            r(
                "deepseek/deepseek-chat",
                "deepseek",
                "global",
                "deepseek-chat",
                "2026-11-01T06:00:00Z",
                7,
                3,
                2,
            ),
            // 23:00 on 30 September in Los Angeles: not October.
            r(
                "openai/gpt-4o-mini",
                "openai",
                "us-east",
                "gpt-4o-mini",
                "2026-10-01T06:00:00Z",
                9_999_999,
                9_999_999,
                0,
            ),
        ],
    )
    .await;

    let period = Period::parse("2026-10").unwrap();
    let outcome = run::run(
        &pool,
        period,
        Some("US"),
        utc("2026-11-02T00:00:00Z"),
        &Progress::Log,
    )
    .await
    .unwrap();
    assert_eq!(outcome.outcomes[0].issued.len(), 1);
    let invoice = query::get(&pool, &outcome.outcomes[0].issued[0].number)
        .await
        .unwrap();

    let lines: Vec<(String, String, String, i64, String, String)> = invoice
        .lines
        .iter()
        .map(|l| {
            (
                l.model.clone(),
                l.region.clone(),
                l.kind.clone(),
                l.quantity,
                l.unit_price_per_million.normalize().to_string(),
                l.amount_usd.normalize().to_string(),
            )
        })
        .collect();
    let expected = [
        (
            "anthropic/claude-sonnet-4-5",
            "us-east-1",
            "input",
            123_457,
            "3",
            "0.370371",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            "us-east-1",
            "output",
            9_876,
            "15",
            "0.14814",
        ),
        (
            "deepseek/deepseek-chat",
            "global",
            "input",
            5,
            "0.27",
            "0.00000135",
        ),
        (
            "deepseek/deepseek-chat",
            "global",
            "cached_input",
            2,
            "0.07",
            "0.00000014",
        ),
        (
            "deepseek/deepseek-chat",
            "global",
            "output",
            3,
            "1.1",
            "0.0000033",
        ),
        ("openai/gpt-4o", "eu", "input", 10_000, "2.75", "0.0275"),
        ("openai/gpt-4o", "eu", "output", 5_000, "11", "0.055"),
        (
            "openai/gpt-4o-mini",
            "us-east",
            "input",
            600_001,
            "0.15",
            "0.09000015",
        ),
        (
            "openai/gpt-4o-mini",
            "us-east",
            "cached_input",
            400_000,
            "0.075",
            "0.03",
        ),
        (
            "openai/gpt-4o-mini",
            "us-east",
            "output",
            200_001,
            "0.6",
            "0.1200006",
        ),
        (
            "openai/gpt-4o-mini",
            "us-east",
            "input",
            500_000,
            "0.2",
            "0.1",
        ),
        (
            "openai/gpt-4o-mini",
            "us-east",
            "output",
            100_000,
            "0.8",
            "0.08",
        ),
        ("", "", "platform_fee", 1, "0", "0"),
    ]
    .map(|(m, r, k, q, p, a)| {
        (
            m.to_string(),
            r.to_string(),
            k.to_string(),
            q,
            p.to_string(),
            a.to_string(),
        )
    });
    assert_eq!(lines, expected);
    assert_eq!(invoice.subtotal_usd, d("1.02101654"));
    assert_eq!(
        (invoice.row.subtotal, invoice.row.tax, invoice.row.total),
        (d("1.02"), d("0"), d("1.02"))
    );
    assert_eq!(
        invoice.lines[10].price_version,
        Some(utc("2026-10-15T00:00:00Z"))
    );

    // Zero markup, provable: the invoice re-derives from rollups and catalog...
    assert_eq!(
        verify::document(&pool, &invoice.row.number).await.unwrap(),
        Vec::<String>::new()
    );
    // ... and a rollup changed after issue is caught.
    insert_rollups(
        &pool,
        &[r(
            "openai/gpt-4o",
            "azure",
            "eu",
            "azure/eu/gpt-4o",
            "2026-10-11T12:00:00Z",
            1,
            0,
            0,
        )],
    )
    .await;
    let problems = verify::document(&pool, &invoice.row.number).await.unwrap();
    assert!(
        problems.iter().any(|p| p.contains("line 6")),
        "{problems:?}"
    );
}
