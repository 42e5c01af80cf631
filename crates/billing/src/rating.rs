//! Rating: usage quantities from the hourly rollups, priced at the catalog version in
//! force at each rollup's hour, into invoice lines, one per (model, provider, region,
//! price version, token kind). Every unit price is the catalog's list price: zero
//! markup. Amounts are exact; nothing is rounded here.

use chrono::{DateTime, Utc};
use meridian_core::CustomerId;
use meridian_core::catalog::ModelPrice;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use crate::BillingError;
use crate::prices::PriceHistory;
use meridian_core::price_versions::VERSION_IN_FORCE_CTE;

/// What a line bills. Token kinds follow OpenAI's usage object; a kind the catalog
/// does not price apart is billed within its parent (cached input as input,
/// reasoning as output, a 1-hour cache write as a cache write, or else as input).
/// `CacheWrite` is the 5-minute writes where the 1-hour ones have a line of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Input,
    CachedInput,
    CacheWrite,
    CacheWrite1h,
    Output,
    Reasoning,
    PlatformFee,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::CachedInput => "cached_input",
            Self::CacheWrite => "cache_write",
            Self::CacheWrite1h => "cache_write_1h",
            Self::Output => "output",
            Self::Reasoning => "reasoning",
            Self::PlatformFee => "platform_fee",
        }
    }

    pub fn parse(s: &str) -> Option<LineKind> {
        [
            Self::Input,
            Self::CachedInput,
            Self::CacheWrite,
            Self::CacheWrite1h,
            Self::Output,
            Self::Reasoning,
            Self::PlatformFee,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One rated line: quantity × list unit price (USD per token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub kind: LineKind,
    pub model: String,
    pub provider: String,
    pub region: String,
    pub catalog_key: String,
    pub price_version: Option<DateTime<Utc>>,
    pub quantity: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

impl Line {
    pub fn amount(&self) -> Decimal {
        Decimal::from(self.quantity) * self.unit_price
    }

    /// The unit price as invoices show it: per 1M tokens.
    pub fn unit_price_per_million(&self) -> Decimal {
        self.unit_price * Decimal::from(1_000_000)
    }

    /// The platform fee: one line of 0, shown on every invoice.
    pub fn platform_fee() -> Line {
        Line {
            kind: LineKind::PlatformFee,
            model: String::new(),
            provider: String::new(),
            region: String::new(),
            catalog_key: String::new(),
            price_version: None,
            quantity: 1,
            unit_price: Decimal::ZERO,
        }
    }
}

/// A customer's token counts for one (model, provider, region, catalog entry, price
/// version) over a period.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageAggregate {
    pub customer_id: CustomerId,
    pub model: String,
    pub provider: String,
    pub region: String,
    pub catalog_key: String,
    pub price_version: Option<DateTime<Utc>>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub cache_write_tokens: i64,
    /// The part of `cache_write_tokens` written for 1 hour.
    pub cache_write_1h_tokens: i64,
    pub reasoning_tokens: i64,
}

/// Whose usage to read.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Each entity's customers, over that entity's period `[start, end)`: one scan of
    /// the rollups for a run of every entity.
    Entities(&'a [(String, DateTime<Utc>, DateTime<Utc>)]),
    /// One customer over `[start, end)`.
    Customer(CustomerId, DateTime<Utc>, DateTime<Utc>),
}

/// Billable usage, summed per price version, ordered by customer.
pub async fn usage(pool: &PgPool, scope: Scope<'_>) -> Result<Vec<UsageAggregate>, BillingError> {
    let (join, filter, bounds, customer) = match scope {
        Scope::Entities(bounds) => (
            "JOIN UNNEST($1::text[], $2::timestamptz[], $3::timestamptz[]) AS b(entity, s, e)
                  ON b.entity = c.entity_code AND r.hour >= b.s AND r.hour < b.e",
            "TRUE",
            bounds.to_vec(),
            None,
        ),
        Scope::Customer(id, start, end) => (
            "",
            "r.customer_id = $6",
            vec![(String::new(), start, end)],
            Some(id),
        ),
    };
    let (Some(first), Some(last)) = (
        bounds.iter().map(|b| b.1).min(),
        bounds.iter().map(|b| b.2).max(),
    ) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "WITH {VERSION_IN_FORCE_CTE}
         SELECT r.customer_id, r.model, r.provider, r.region, r.catalog_key,
                v.effective_from AS price_version,
                sum(r.prompt_tokens)::bigint AS prompt_tokens,
                sum(r.completion_tokens)::bigint AS completion_tokens,
                sum(r.cached_tokens)::bigint AS cached_tokens,
                sum(r.cache_write_tokens)::bigint AS cache_write_tokens,
                sum(r.cache_write_1h_tokens)::bigint AS cache_write_1h_tokens,
                sum(r.reasoning_tokens)::bigint AS reasoning_tokens
         FROM usage_rollups r
         JOIN customers c ON c.id = r.customer_id
         {join}
         LEFT JOIN versions v ON v.catalog_key = r.catalog_key
              AND r.hour >= v.valid_from AND r.hour < v.valid_until
         WHERE r.hour >= $4 AND r.hour < $5 AND {filter}
           AND (r.prompt_tokens > 0 OR r.completion_tokens > 0)
         GROUP BY 1, 2, 3, 4, 5, 6"
    );
    // A month of rollups is millions of rows: aggregate in memory (hashing, no sort
    // spilled to disk; the order is made below) and skip JIT compilation.
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await?;
    let mut rows: Vec<UsageAggregate> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(bounds.iter().map(|b| b.0.as_str()).collect::<Vec<_>>())
        .bind(bounds.iter().map(|b| b.1).collect::<Vec<_>>())
        .bind(bounds.iter().map(|b| b.2).collect::<Vec<_>>())
        .bind(first)
        .bind(last)
        .bind(customer)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    rows.sort_unstable_by(|a, b| {
        (
            a.customer_id,
            &a.model,
            &a.provider,
            &a.region,
            &a.catalog_key,
            a.price_version,
        )
            .cmp(&(
                b.customer_id,
                &b.model,
                &b.provider,
                &b.region,
                &b.catalog_key,
                b.price_version,
            ))
    });
    Ok(rows)
}

/// The lines of one customer's usage (any order in, canonical order out), followed
/// by the platform fee of 0.
pub fn rate(usage: &[UsageAggregate], prices: &PriceHistory) -> Result<Vec<Line>, BillingError> {
    let mut lines = Vec::new();
    for u in usage {
        let price = u
            .price_version
            .and_then(|v| prices.version(&u.catalog_key, v))
            .ok_or_else(|| {
                BillingError::Invalid(format!(
                    "customer {} used {} through {} ({}) but the catalog has no price for `{}`; import prices before invoicing",
                    u.customer_id, u.model, u.provider, u.region, u.catalog_key
                ))
            })?;
        lines.extend(split_by_kind(u, price));
    }
    lines.sort_by(|a, b| {
        (
            &a.model,
            &a.provider,
            &a.region,
            &a.catalog_key,
            a.price_version,
            a.kind,
        )
            .cmp(&(
                &b.model,
                &b.provider,
                &b.region,
                &b.catalog_key,
                b.price_version,
                b.kind,
            ))
    });
    lines.push(Line::platform_fee());
    Ok(lines)
}

/// One aggregate's lines, each kind at its own list price, as
/// `meridian_core::catalog::ModelPrice::cost` prices a request.
fn split_by_kind(u: &UsageAggregate, price: &ModelPrice) -> Vec<Line> {
    let input = price.input.unwrap_or_default();
    let output = price.output.unwrap_or_default();
    let reasoning = u.reasoning_tokens.min(u.completion_tokens);
    let write_1h = u.cache_write_1h_tokens.clamp(0, u.cache_write_tokens);
    let mut quantities = vec![
        (
            LineKind::Input,
            (u.prompt_tokens - u.cached_tokens - u.cache_write_tokens).max(0),
            input,
        ),
        (LineKind::Output, u.completion_tokens - reasoning, output),
    ];
    // Each kind with the kinds it is billed as when it has no price of its own, the
    // nearest first (a parent always precedes its children here).
    for (kind, quantity, own, parents) in [
        (
            LineKind::CachedInput,
            u.cached_tokens,
            price.cache_read,
            &[LineKind::Input][..],
        ),
        (
            LineKind::CacheWrite,
            u.cache_write_tokens - write_1h,
            price.cache_write,
            &[LineKind::Input],
        ),
        (
            LineKind::CacheWrite1h,
            write_1h,
            price.cache_write_1h,
            &[LineKind::CacheWrite, LineKind::Input],
        ),
        (
            LineKind::Reasoning,
            reasoning,
            price.reasoning,
            &[LineKind::Output],
        ),
    ] {
        match own {
            Some(p) => quantities.push((kind, quantity, p)),
            None => {
                let parent = parents
                    .iter()
                    .find_map(|p| quantities.iter().position(|q| q.0 == *p));
                if let Some(i) = parent {
                    quantities[i].1 += quantity;
                }
            }
        }
    }
    quantities
        .into_iter()
        .filter(|(_, q, _)| *q > 0)
        .map(|(kind, quantity, unit_price)| Line {
            kind,
            model: u.model.clone(),
            provider: u.provider.clone(),
            region: u.region.clone(),
            catalog_key: u.catalog_key.clone(),
            price_version: u.price_version,
            quantity,
            unit_price,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use meridian_core::TokenUsage;
    use proptest::prelude::*;

    use super::*;

    fn price(
        input: &str,
        output: &str,
        cache_read: Option<&str>,
        reasoning: Option<&str>,
    ) -> ModelPrice {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        ModelPrice {
            catalog_key: "m".into(),
            provider: "openai".into(),
            mode: Some("chat".into()),
            input: Some(d(input)),
            output: Some(d(output)),
            cache_read: cache_read.map(d),
            cache_write: None,
            cache_write_1h: None,
            reasoning: reasoning.map(d),
            max_input_tokens: None,
            max_output_tokens: None,
        }
    }

    fn aggregate(p: i64, c: i64, cached: i64, cw: i64, r: i64) -> UsageAggregate {
        UsageAggregate {
            customer_id: CustomerId::new(),
            model: "openai/m".into(),
            provider: "openai".into(),
            region: "us-east".into(),
            catalog_key: "m".into(),
            price_version: None,
            prompt_tokens: p,
            completion_tokens: c,
            cached_tokens: cached,
            cache_write_tokens: cw,
            cache_write_1h_tokens: 0,
            reasoning_tokens: r,
        }
    }

    #[test]
    fn kinds_without_a_price_of_their_own_bill_within_their_parent() {
        let lines = split_by_kind(
            &aggregate(1000, 500, 400, 0, 100),
            &price("0.000001", "0.000002", None, None),
        );
        let kinds: Vec<_> = lines.iter().map(|l| (l.kind, l.quantity)).collect();
        assert_eq!(
            kinds,
            vec![(LineKind::Input, 1000), (LineKind::Output, 500)]
        );
        let lines = split_by_kind(
            &aggregate(1000, 500, 400, 0, 100),
            &price("0.000001", "0.000002", Some("0.0000005"), Some("0.000003")),
        );
        let kinds: Vec<_> = lines.iter().map(|l| (l.kind, l.quantity)).collect();
        assert_eq!(
            kinds,
            vec![
                (LineKind::Input, 600),
                (LineKind::Output, 400),
                (LineKind::CachedInput, 400),
                (LineKind::Reasoning, 100)
            ]
        );
    }

    #[test]
    fn one_hour_cache_writes_have_a_line_at_their_own_price() {
        let mut u = aggregate(10_000, 0, 0, 3_000, 0);
        u.cache_write_1h_tokens = 1_000;
        let mut p = price("0.000003", "0.000015", None, None);
        p.cache_write = Some(Decimal::from_str("0.00000375").unwrap());
        p.cache_write_1h = Some(Decimal::from_str("0.000006").unwrap());
        let lines: Vec<_> = split_by_kind(&u, &p)
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.quantity,
                    l.unit_price_per_million().normalize().to_string(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![
                (LineKind::Input, 7_000, "3".into()),
                (LineKind::CacheWrite, 2_000, "3.75".into()),
                (LineKind::CacheWrite1h, 1_000, "6".into()),
            ]
        );
        // No 1-hour price: billed as cache writes; no cache-write price: as input.
        p.cache_write_1h = None;
        let kinds: Vec<_> = split_by_kind(&u, &p)
            .iter()
            .map(|l| (l.kind, l.quantity))
            .collect();
        assert_eq!(
            kinds,
            vec![(LineKind::Input, 7_000), (LineKind::CacheWrite, 3_000)]
        );
        p.cache_write = None;
        let kinds: Vec<_> = split_by_kind(&u, &p)
            .iter()
            .map(|l| (l.kind, l.quantity))
            .collect();
        assert_eq!(kinds, vec![(LineKind::Input, 10_000)]);
    }

    proptest! {
        #[test]
        fn lines_sum_to_the_catalog_cost(
            prompt in 0i64..10_000_000, completion in 0i64..10_000_000,
            cached_pct in 0i64..100, write_pct in 0i64..100, write_1h_pct in 0i64..=100,
            reasoning_pct in 0i64..100,
            cache_read in prop::option::of(Just("0.000000075")),
            cache_write in prop::option::of(Just("0.0000001875")),
            cache_write_1h in prop::option::of(Just("0.0000003")),
            reasoning_price in prop::option::of(Just("0.0000044")),
        ) {
            let cached = prompt * cached_pct / 200;
            let write = prompt * write_pct / 200;
            let write_1h = write * write_1h_pct / 100;
            let reasoning = completion * reasoning_pct / 100;
            let mut p = price("0.00000015", "0.0000006", cache_read, reasoning_price);
            p.cache_write = cache_write.map(|d| Decimal::from_str(d).unwrap());
            p.cache_write_1h = cache_write_1h.map(|d| Decimal::from_str(d).unwrap());
            let mut u = aggregate(prompt, completion, cached, write, reasoning);
            u.cache_write_1h_tokens = write_1h;
            let lines = split_by_kind(&u, &p);
            let billed: Decimal = lines.iter().map(Line::amount).sum();
            let usage = TokenUsage {
                prompt: prompt as u64,
                completion: completion as u64,
                cached: Some(cached as u64),
                cache_write: Some(write as u64),
                cache_write_1h: Some(write_1h as u64),
                reasoning: Some(reasoning as u64),
            };
            prop_assert_eq!(billed.normalize(), p.cost(&usage));
        }
    }
}
