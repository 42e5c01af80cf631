//! `GET /api/v1/models`: the models the customer may be served (narrowed to its
//! residency), each with every deployment serving it and that deployment's list
//! prices, USD per million tokens. Meridian bills the provider's list price with no
//! markup, so each offer shows both, equal, and `markup` 0. Paginated by model id.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use meridian_core::catalog::ModelPrice;
use meridian_core::config::CapacityKind;
use meridian_core::served::{ModelOffer, ServedModel};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::page::{self, Page};
use crate::{ApiState, Problem};

/// A model served to the caller, with its offers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Model {
    pub id: String,
    /// The vendor part of the id (`openai`).
    pub owned_by: String,
    pub context_length: Option<i64>,
    pub max_output_tokens: Option<i64>,
    pub offers: Vec<Offer>,
}

/// One deployment serving a model, at its prices.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub deployment: String,
    pub provider: &'static str,
    pub region: String,
    /// `reserved` or `on-demand`.
    pub kind: &'static str,
    /// The provider's list price and the price Meridian bills: the same.
    pub provider_price: Prices,
    pub meridian_price: Prices,
    #[serde(with = "rust_decimal::serde::str")]
    pub markup: Decimal,
}

/// USD per million tokens of each kind, as decimal strings; `null` where the
/// provider lists no separate price (the input or output price applies).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Prices {
    #[serde(with = "rust_decimal::serde::str_option")]
    pub input: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub output: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub cache_read: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub cache_write: Option<Decimal>,
    /// The 1-hour cache write, where priced apart (`cache_write` is the 5-minute one).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub cache_write_1h: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub reasoning: Option<Decimal>,
}

impl From<&ModelPrice> for Prices {
    fn from(p: &ModelPrice) -> Self {
        let per_million =
            |d: Option<Decimal>| d.map(|d| (d * Decimal::from(1_000_000)).normalize());
        Prices {
            input: per_million(p.input),
            output: per_million(p.output),
            cache_read: per_million(p.cache_read),
            cache_write: per_million(p.cache_write),
            cache_write_1h: per_million(p.cache_write_1h),
            reasoning: per_million(p.reasoning),
        }
    }
}

impl From<ServedModel> for Model {
    fn from(m: ServedModel) -> Self {
        let first = m.offers.first().map(|o| &o.price);
        Model {
            owned_by: m.owned_by,
            context_length: first.and_then(|p| p.max_input_tokens),
            max_output_tokens: first.and_then(|p| p.max_output_tokens),
            offers: m.offers.iter().map(offer).collect(),
            id: m.id,
        }
    }
}

fn offer(o: &ModelOffer) -> Offer {
    let price = Prices::from(&o.price);
    Offer {
        deployment: o.deployment.clone(),
        provider: o.provider.as_str(),
        region: o.region.clone(),
        kind: match o.kind {
            CapacityKind::Reserved => "reserved",
            CapacityKind::OnDemand => "on-demand",
        },
        provider_price: price.clone(),
        meridian_price: price,
        markup: Decimal::ZERO,
    }
}

/// `GET /api/v1/models?limit=&cursor=`: the models the caller may use (its
/// residency's), by id, with list prices.
#[utoipa::path(get, path = "/api/v1/models", tag = "models",
    params(page::Params),
    responses(
        (status = 200, body = Page<Model>),
        (status = 400, description = "A `limit` or `cursor` this list does not take."),
    ))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<Model>>, Problem> {
    let entry = state.caller_entry(&headers)?;
    let q = page::parse::<String>(raw.as_deref())?;
    let served = state.models.served(entry.residency.as_deref());
    Ok(Json(
        Page::within(served, q, |m| m.id.clone())?.map(Model::from),
    ))
}
