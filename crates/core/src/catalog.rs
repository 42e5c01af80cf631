//! The price catalog: list prices per token, parsed exactly from the decimal text of
//! `model-prices.json` (`1.5e-07` included) and held in memory for the hot path.
//! Stored versions are read and written through [`crate::price_versions`].

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use crate::config::ProviderKind;
use crate::usage::TokenUsage;

/// List prices of one catalog entry, USD per token. `None`: the provider lists no
/// separate price for that kind (the base input or output price applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub catalog_key: String,
    pub provider: String,
    pub mode: Option<String>,
    pub input: Option<Decimal>,
    pub output: Option<Decimal>,
    pub cache_read: Option<Decimal>,
    /// A 5-minute cache write (Anthropic's default lifetime), or any cache write where
    /// the provider has one price.
    pub cache_write: Option<Decimal>,
    /// A 1-hour cache write (`cache_creation_input_token_cost_above_1hr`).
    pub cache_write_1h: Option<Decimal>,
    pub reasoning: Option<Decimal>,
    pub max_input_tokens: Option<i64>,
    pub max_output_tokens: Option<i64>,
}

impl ModelPrice {
    /// The exact list-price cost of `usage`: each token kind at its own price,
    /// normalized (no trailing zeros).
    pub fn cost(&self, usage: &TokenUsage) -> Decimal {
        let input = self.input.unwrap_or_default();
        let output = self.output.unwrap_or_default();
        let cached = usage.cached.unwrap_or(0);
        let cache_write = usage.cache_write.unwrap_or(0);
        let cache_write_1h = usage.cache_write_1h.unwrap_or(0).min(cache_write);
        let reasoning = usage.reasoning.unwrap_or(0).min(usage.completion);
        let plain_input = usage.prompt.saturating_sub(cached + cache_write);
        let plain_output = usage.completion - reasoning;
        let write_price = self.cache_write.unwrap_or(input);
        (Decimal::from(plain_input) * input
            + Decimal::from(cached) * self.cache_read.unwrap_or(input)
            + Decimal::from(cache_write - cache_write_1h) * write_price
            + Decimal::from(cache_write_1h) * self.cache_write_1h.unwrap_or(write_price)
            + Decimal::from(plain_output) * output
            + Decimal::from(reasoning) * self.reasoning.unwrap_or(output))
        .normalize()
    }

    /// The most `prompt` and `completion` tokens can cost at these prices, whichever
    /// kinds they turn out to be (a prompt written to a cache, a completion spent
    /// reasoning): what a spend budget reserves before a call.
    pub fn most_cost(&self, prompt: u64, completion: u64) -> Decimal {
        let input = self.input.unwrap_or_default();
        let output = self.output.unwrap_or_default();
        let prompt_price = input
            .max(self.cache_write.unwrap_or(input))
            .max(self.cache_write_1h.unwrap_or(input));
        let completion_price = output.max(self.reasoning.unwrap_or(output));
        (Decimal::from(prompt) * prompt_price + Decimal::from(completion) * completion_price)
            .normalize()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("price file is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("price file entry `{key}`: field `{field}` is not a decimal number")]
    BadNumber { key: String, field: &'static str },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Parses the LiteLLM-format price file. Entries without a provider (the
/// `sample_spec` documentation entry) are skipped.
pub fn parse_price_file(text: &str) -> Result<Vec<ModelPrice>, CatalogError> {
    let entries: HashMap<String, HashMap<String, &RawValue>> = serde_json::from_str(text)?;
    let mut prices = Vec::with_capacity(entries.len());
    for (key, fields) in entries {
        let Some(provider) = fields.get("litellm_provider").and_then(|v| json_str(v)) else {
            continue;
        };
        if key == "sample_spec" {
            continue;
        }
        let price = |field: &'static str| -> Result<Option<Decimal>, CatalogError> {
            fields
                .get(field)
                .map(|raw| {
                    parse_decimal(raw.get()).ok_or_else(|| CatalogError::BadNumber {
                        key: key.clone(),
                        field,
                    })
                })
                .transpose()
        };
        let count = |field: &str| {
            fields
                .get(field)
                .and_then(|raw| raw.get().parse::<i64>().ok())
        };
        prices.push(ModelPrice {
            input: price("input_cost_per_token")?,
            output: price("output_cost_per_token")?,
            cache_read: price("cache_read_input_token_cost")?,
            cache_write: price("cache_creation_input_token_cost")?,
            cache_write_1h: price("cache_creation_input_token_cost_above_1hr")?,
            reasoning: price("output_cost_per_reasoning_token")?,
            max_input_tokens: count("max_input_tokens"),
            max_output_tokens: count("max_output_tokens"),
            mode: fields.get("mode").and_then(|v| json_str(v)),
            provider,
            catalog_key: key,
        });
    }
    prices.sort_by(|a, b| a.catalog_key.cmp(&b.catalog_key));
    Ok(prices)
}

fn json_str(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

/// Parses a JSON number's text into an exact decimal, scientific notation included.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let value = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()?
    } else {
        Decimal::from_str_exact(text).ok()?
    };
    Some(value.normalize())
}

/// The catalog in memory, keyed by catalog key (`gpt-4o-mini`, `azure/eu/gpt-4o`, …).
#[derive(Debug, Default, Clone)]
pub struct PriceCatalog {
    by_key: HashMap<String, ModelPrice>,
}

impl PriceCatalog {
    pub fn new(prices: impl IntoIterator<Item = ModelPrice>) -> Self {
        Self {
            by_key: prices
                .into_iter()
                .map(|p| (p.catalog_key.clone(), p))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn get(&self, catalog_key: &str) -> Option<&ModelPrice> {
        self.by_key.get(catalog_key)
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &ModelPrice> {
        self.by_key.values()
    }

    /// The list price of `upstream_model` as served by `provider` in `region`: the
    /// regional entry when the catalog has one, else the provider's global entry.
    pub fn price_for(
        &self,
        provider: ProviderKind,
        region: &str,
        upstream_model: &str,
    ) -> Option<&ModelPrice> {
        catalog_candidates(provider, region, upstream_model)
            .into_iter()
            .filter_map(|key| self.by_key.get(&key))
            .find(|p| provider.serves_catalog_provider(&p.provider))
    }
}

/// Catalog keys to try, most specific first.
fn catalog_candidates(provider: ProviderKind, region: &str, model: &str) -> Vec<String> {
    let prefix = provider.catalog_prefix();
    let mut keys = vec![
        format!("{prefix}/{region}/{model}"),
        format!("{prefix}/{model}"),
        model.to_string(),
    ];
    if let Some((_, bare)) = model.split_once('/') {
        keys.push(format!("{prefix}/{bare}"));
        keys.push(bare.to_string());
    }
    keys
}

impl FromStr for PriceCatalog {
    type Err = CatalogError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_price_file(text).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = r#"{
        "sample_spec": {"litellm_provider": "one of ...", "input_cost_per_token": 0.0},
        "gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07,
            "cache_read_input_token_cost": 7.5e-08, "max_input_tokens": 128000},
        "azure/eu/gpt-4o-mini": {"litellm_provider": "azure", "input_cost_per_token": 1.65e-07,
            "output_cost_per_token": 6.6e-07},
        "azure/gpt-4o-mini": {"litellm_provider": "azure", "input_cost_per_token": 1.5e-07,
            "output_cost_per_token": 6e-07}
    }"#;

    #[test]
    fn parses_scientific_prices_exactly() {
        let catalog: PriceCatalog = SAMPLE.parse().unwrap();
        assert_eq!(
            catalog.len(),
            3,
            "sample_spec is documentation, not a model"
        );
        let p = catalog.get("gpt-4o-mini").unwrap();
        assert_eq!(p.input, Some(Decimal::from_str("0.00000015").unwrap()));
        assert_eq!(
            p.cache_read,
            Some(Decimal::from_str("0.000000075").unwrap())
        );
        assert_eq!(p.max_input_tokens, Some(128000));
    }

    #[test]
    fn gpt_4o_mini_thousand_in_five_hundred_out_costs_exactly() {
        let catalog: PriceCatalog = SAMPLE.parse().unwrap();
        let price = catalog
            .price_for(ProviderKind::OpenAi, "us-east", "gpt-4o-mini")
            .unwrap();
        let usage = TokenUsage {
            prompt: 1000,
            completion: 500,
            ..Default::default()
        };
        assert_eq!(price.cost(&usage).to_string(), "0.00045");
    }

    #[test]
    fn cached_tokens_are_priced_apart() {
        let catalog: PriceCatalog = SAMPLE.parse().unwrap();
        let price = catalog.get("gpt-4o-mini").unwrap();
        let usage = TokenUsage {
            prompt: 1000,
            completion: 0,
            cached: Some(400),
            ..Default::default()
        };
        // 600 × 0.00000015 + 400 × 0.000000075
        assert_eq!(price.cost(&usage).normalize().to_string(), "0.00012");
    }

    /// Claude Sonnet 4.5's list prices: input $3, 5-minute write $3.75, 1-hour write
    /// $6 per 1M tokens.
    #[test]
    fn one_hour_cache_writes_are_priced_apart_from_five_minute_ones() {
        let catalog: PriceCatalog = r#"{"claude-sonnet-4-5": {"litellm_provider": "anthropic",
            "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06}}"#
            .parse()
            .unwrap();
        let price = catalog.get("claude-sonnet-4-5").unwrap();
        let usage = TokenUsage {
            prompt: 1_000_000 + 200_000 + 100_000,
            cache_write: Some(300_000),
            cache_write_1h: Some(100_000),
            ..Default::default()
        };
        // 1M × 3e-6 + 200k × 3.75e-6 + 100k × 6e-6
        assert_eq!(price.cost(&usage).to_string(), "4.35");
        assert_eq!(price.most_cost(1, 0).to_string(), "0.000006");
        // Without a 1-hour price, a 1-hour write is a cache write.
        let one_price = ModelPrice {
            cache_write_1h: None,
            ..price.clone()
        };
        assert_eq!(one_price.cost(&usage).to_string(), "4.125");
    }

    #[test]
    fn regional_entry_wins_over_global() {
        let catalog: PriceCatalog = SAMPLE.parse().unwrap();
        let eu = catalog
            .price_for(ProviderKind::Azure, "eu", "gpt-4o-mini")
            .unwrap();
        assert_eq!(eu.catalog_key, "azure/eu/gpt-4o-mini");
        let us = catalog
            .price_for(ProviderKind::Azure, "eastus", "gpt-4o-mini")
            .unwrap();
        assert_eq!(us.catalog_key, "azure/gpt-4o-mini");
        assert!(
            catalog
                .price_for(ProviderKind::Anthropic, "us", "gpt-4o-mini")
                .is_none()
        );
    }

    #[test]
    fn bad_number_is_named() {
        let err = parse_price_file(
            r#"{"m": {"litellm_provider": "openai", "input_cost_per_token": "x"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "price file entry `m`: field `input_cost_per_token` is not a decimal number"
        );
    }

    #[test]
    fn shipped_catalog_parses_every_entry() {
        let text = include_str!("../../../data/model-prices.json");
        let prices = parse_price_file(text).unwrap();
        assert!(prices.len() > 4000, "{}", prices.len());
    }

    proptest! {
        #[test]
        fn decimal_text_round_trips(mantissa in 1u64..10_000_000, exp in 0u32..12) {
            let exact = Decimal::from_i128_with_scale(mantissa as i128, exp);
            let sci = format!("{}e-{}", mantissa, exp);
            prop_assert_eq!(parse_decimal(&sci), Some(exact.normalize()));
            prop_assert_eq!(parse_decimal(&exact.to_string()), Some(exact.normalize()));
        }
    }
}
