//! Test support for billing: a fresh, migrated database per test on the suite's
//! Postgres, price versions and rollups written directly, fixed clocks.
#![allow(dead_code)] // each test binary uses a different part

use std::str::FromStr;

use chrono::{DateTime, Utc};
use meridian_billing::customers::{self, NewCustomer};
use meridian_billing::fx;
use meridian_core::CustomerId;
use rust_decimal::Decimal;
use sqlx::PgPool;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A new, migrated database (no price catalog: tests write the versions they need).
pub async fn fresh_database() -> PgPool {
    meridian_test_support::database::fresh().await.0
}

/// One price version: (catalog key, provider, effective from, input, output, cached input).
pub async fn price_version(
    pool: &PgPool,
    key: &str,
    provider: &str,
    from: &str,
    input: &str,
    output: &str,
    cache_read: Option<&str>,
) {
    let price = meridian_core::catalog::ModelPrice {
        catalog_key: key.into(),
        provider: provider.into(),
        mode: Some("chat".into()),
        input: Some(d(input)),
        output: Some(d(output)),
        cache_read: cache_read.map(d),
        cache_write: None,
        cache_write_1h: None,
        reasoning: None,
        max_input_tokens: None,
        max_output_tokens: None,
    };
    let stored = meridian_core::price_versions::import(pool, &[price], utc(from))
        .await
        .unwrap();
    assert_eq!(
        stored, 1,
        "{key} from {from}: the same prices as the version before"
    );
}

/// A rollup row as the metering worker writes it.
#[derive(Debug, Clone)]
pub struct Rollup {
    pub customer: CustomerId,
    pub model: &'static str,
    pub provider: &'static str,
    pub region: &'static str,
    pub catalog_key: &'static str,
    pub hour: &'static str,
    pub prompt: i64,
    pub completion: i64,
    pub cached: i64,
}

pub async fn insert_rollups(pool: &PgPool, rows: &[Rollup]) {
    for r in rows {
        sqlx::query(
            "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
                 hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens,
                 cache_write_tokens, reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count,
                 latency_hist)
             VALUES ($1, NULL, $2, $3, $3 || '-' || $4, $4, $5, $6, 1, 0, $7, $8, $9, 0, 0, 0, 0, 0, 0, '{}')",
        )
        .bind(r.customer)
        .bind(r.model)
        .bind(r.provider)
        .bind(r.region)
        .bind(r.catalog_key)
        .bind(utc(r.hour))
        .bind(r.prompt)
        .bind(r.completion)
        .bind(r.cached)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// ECB rates of Friday 30 October 2026 (the last business day of October).
pub const ECB_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-10-30">
      <Cube currency="USD" rate="1.1600"/>
      <Cube currency="JPY" rate="175.20"/>
      <Cube currency="GBP" rate="0.8720"/>
      <Cube currency="SGD" rate="1.5010"/>
      <Cube currency="KRW" rate="1650.40"/>
      <Cube currency="INR" rate="101.800"/>
      <Cube currency="AUD" rate="1.7700"/>
    </Cube>
    <Cube time="2026-10-29">
      <Cube currency="USD" rate="1.1500"/>
      <Cube currency="JPY" rate="174.00"/>
    </Cube>
  </Cube>
</gesmes:Envelope>"#;

pub async fn import_ecb(pool: &PgPool) {
    fx::import(pool, &fx::parse(ECB_XML).unwrap())
        .await
        .unwrap();
}

pub fn customer(name: &str, entity: &str, currency: &str, locale: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        entity: entity.into(),
        currency: currency.into(),
        locale: locale.into(),
        email: format!("{}@example.com", name.to_lowercase().replace(' ', "-")),
        address: Some("1 Example Street\nExample City".into()),
        ..Default::default()
    }
}

pub async fn create(pool: &PgPool, c: NewCustomer) -> CustomerId {
    customers::create(pool, &c).await.unwrap().id
}

/// Row counts of every billing table: what "nothing written" compares.
pub async fn billing_rows(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "invoices",
        "invoice_lines",
        "invoice_taxes",
        "invoice_series",
        "invoice_runs",
        "document_outbox",
        "fx_rates",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await
                .unwrap(),
        );
    }
    counts
}
