//! `meridian usage import FILE.jsonl`: backfill usage (from another gateway, or a
//! provider's export) through the same path as live traffic: each line becomes a
//! `UsageEvent`, folded into hourly rollups ([`crate::rollup`]) and upserted
//! ([`crate::store::upsert_rollups`]). Idempotent per `request_id`: the "seen" marker
//! and the rollups are written in one transaction, and a marker already present
//! skips its line. The whole file is checked before anything is written.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use meridian_core::catalog::{self, ModelPrice, PriceCatalog};
use meridian_core::config::{Config, ProviderKind};
use meridian_core::price_versions;
use meridian_core::{CustomerId, KeyId, RequestId, TokenUsage, UsageEvent};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::rollup::Rollups;
use crate::store::upsert_rollups;

/// Events per transaction.
const BATCH: usize = 5_000;

/// One line of the file, as the contract in the README names its fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    request_id: String,
    customer_id: CustomerId,
    model: String,
    deployment: String,
    time: DateTime<Utc>,
    prompt_tokens: u64,
    completion_tokens: u64,
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    /// The part of `cache_write_tokens` written for 1 hour.
    cache_write_1h_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
    key_id: Option<KeyId>,
    status: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the file holds no usage lines")]
    Empty,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Catalog(#[from] catalog::CatalogError),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Usage lines read (blank lines aside).
    pub lines: usize,
    /// Events newly folded into the rollups.
    pub imported: usize,
    /// Lines whose request id was imported before (or repeated in the file).
    pub already_imported: usize,
}

/// The version of the catalog in force at any time: one catalog per price import.
struct CatalogHistory {
    epochs: Vec<DateTime<Utc>>,
    catalogs: HashMap<DateTime<Utc>, PriceCatalog>,
    latest: PriceCatalog,
}

impl CatalogHistory {
    async fn load(pool: &PgPool, now: DateTime<Utc>) -> Result<CatalogHistory, ImportError> {
        let epochs = price_versions::epochs(pool).await?;
        let mut catalogs = HashMap::new();
        for &epoch in &epochs {
            catalogs.insert(epoch, price_versions::load_at(pool, epoch).await?);
        }
        Ok(CatalogHistory {
            epochs,
            catalogs,
            latest: price_versions::load_at(pool, now).await?,
        })
    }

    /// The entry's price in force at `time` (its first version for older usage).
    fn price_at(&self, catalog_key: &str, time: DateTime<Utc>) -> Option<&ModelPrice> {
        self.epochs
            .iter()
            .rev()
            .filter(|e| **e <= time)
            .chain(self.epochs.iter())
            .filter_map(|e| self.catalogs.get(e)?.get(catalog_key))
            .next()
    }
}

/// Where a line's usage was served and at which catalog entry it is priced.
struct Served {
    provider: String,
    region: String,
    catalog_key: String,
}

/// A configured deployment serving the model prices it there; any other deployment
/// text means the model's own vendor list price.
fn resolve(
    config: Option<&Config>,
    prices: &PriceCatalog,
    model: &str,
    deployment: &str,
) -> Option<Served> {
    if let Some(d) = config.and_then(|c| c.deployments.iter().find(|d| d.id == deployment))
        && d.models.iter().any(|m| m == model)
    {
        let price = prices.price_for(d.provider, &d.region, &d.upstream_model(model))?;
        return Some(Served {
            provider: d.provider.as_str().to_string(),
            region: d.region.clone(),
            catalog_key: price.catalog_key.clone(),
        });
    }
    let (vendor, name) = model.split_once('/').unwrap_or(("", model));
    let kind = ProviderKind::ALL
        .into_iter()
        .find(|k| k.as_str() == vendor || (vendor == "google" && *k == ProviderKind::Gemini));
    let price = kind
        .and_then(|k| prices.price_for(k, "global", name))
        .or_else(|| prices.get(name))
        .or_else(|| prices.get(model))?;
    Some(Served {
        provider: price.provider.clone(),
        region: "global".into(),
        catalog_key: price.catalog_key.clone(),
    })
}

/// Imports the JSONL `text`; `config` names the configured deployments.
pub async fn import(
    pool: &PgPool,
    text: &str,
    config: Option<&Config>,
    now: DateTime<Utc>,
) -> Result<ImportReport, ImportError> {
    let history = CatalogHistory::load(pool, now).await?;
    let mut report = ImportReport::default();
    let mut seen_in_file = HashSet::new();
    let mut events: Vec<(String, UsageEvent)> = Vec::new();
    let mut customer_lines: HashMap<CustomerId, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        let bad = |reason: String| ImportError::Line { line, reason };
        let r: Record = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if r.request_id.trim().is_empty() {
            return Err(bad("`request_id` must not be empty".into()));
        }
        let cached = r.cached_tokens.unwrap_or(0);
        let cache_write = r.cache_write_tokens.unwrap_or(0);
        if cached + cache_write > r.prompt_tokens
            || r.reasoning_tokens.unwrap_or(0) > r.completion_tokens
        {
            return Err(bad("cached and cache-write tokens are parts of `prompt_tokens`, reasoning tokens of `completion_tokens`".into()));
        }
        if r.cache_write_1h_tokens.unwrap_or(0) > cache_write {
            return Err(bad(
                "`cache_write_1h_tokens` is a part of `cache_write_tokens`".into(),
            ));
        }
        let served =
            resolve(config, &history.latest, &r.model, &r.deployment).ok_or_else(|| {
                bad(format!(
                    "no list price for model `{}` in the catalog",
                    r.model
                ))
            })?;
        if !seen_in_file.insert(r.request_id.clone()) {
            report.already_imported += 1;
            continue;
        }
        customer_lines.entry(r.customer_id).or_insert(line);
        let tokens = TokenUsage {
            prompt: r.prompt_tokens,
            completion: r.completion_tokens,
            cached: r.cached_tokens,
            cache_write: r.cache_write_tokens,
            cache_write_1h: r.cache_write_1h_tokens,
            reasoning: r.reasoning_tokens,
        };
        let status = r.status.unwrap_or(200);
        let success = (200..300).contains(&status);
        let cost = match history.price_at(&served.catalog_key, r.time) {
            Some(p) if success => p.cost(&tokens),
            _ => rust_decimal::Decimal::ZERO,
        };
        events.push((
            r.request_id.clone(),
            UsageEvent {
                request_id: r.request_id.parse().unwrap_or_else(|_| RequestId::new()),
                customer_id: r.customer_id,
                key_id: r.key_id,
                model: r.model,
                provider: served.provider,
                deployment: r.deployment,
                region: served.region,
                catalog_key: served.catalog_key,
                time: r.time,
                tokens,
                cost,
                latency_us: 0,
                ttft_us: None,
                status,
                estimated: false,
            },
        ));
    }
    if report.lines == 0 {
        return Err(ImportError::Empty);
    }
    let ids: Vec<CustomerId> = customer_lines.keys().copied().collect();
    let known: HashSet<CustomerId> =
        sqlx::query_scalar("SELECT id FROM customers WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    if let Some((id, line)) = customer_lines
        .iter()
        .filter(|(id, _)| !known.contains(id))
        .min_by_key(|(_, l)| **l)
    {
        return Err(ImportError::Line {
            line: *line,
            reason: format!("no customer with id {id}"),
        });
    }
    for batch in events.chunks(BATCH) {
        let mut tx = pool.begin().await?;
        let new: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO usage_import_seen (request_id) SELECT * FROM UNNEST($1::text[])
             ON CONFLICT DO NOTHING RETURNING request_id",
        )
        .bind(batch.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let mut rollups = Rollups::default();
        batch
            .iter()
            .filter(|(id, _)| new.contains(id))
            .for_each(|(_, e)| rollups.add(e.clone()));
        upsert_rollups(&mut tx, &rollups).await?;
        tx.commit().await?;
        report.imported += new.len();
        report.already_imported += batch.len() - new.len();
    }
    Ok(report)
}
