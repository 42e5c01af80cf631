//! What invoices are priced and converted with, for operators (admin token): `GET
//! /admin/v1/fx-rates?date=` (the ECB rates in force on a date), `GET
//! /admin/v1/prices?model=` (every stored version of a model's catalog entries) and
//! `POST /admin/v1/prices/import` (a catalog file in the format of `meridian prices
//! import`, stored as `meridian_core::price_versions` stores it).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use meridian_billing::fx::{self, StoredRate};
use meridian_core::catalog::{self, CatalogError};
use meridian_core::price_versions::{self, PriceVersion};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::customers::SCOPE;
use crate::idempotency::begin_post;
use crate::page::{self, Page};
use crate::{ApiState, Problem};

/// The largest catalog file `prices/import` takes (the shipped one is about 3 MB).
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// The `date` of the FX list, in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct FxParams {
    /// An ISO date (default today, UTC).
    date: Option<NaiveDate>,
}

/// The `model` of the price list, in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct PriceParams {
    /// A public id (`openai/gpt-4o-mini`) or a catalog name (`gpt-4o-mini`).
    model: String,
}

/// `GET /admin/v1/fx-rates?date=YYYY-MM-DD&limit=&cursor=`: units of each currency
/// per EUR on the latest ECB date on or before `date` (default today, UTC); empty
/// when no rate that old is stored.
#[utoipa::path(get, path = "/fx-rates", tag = "catalog",
    params(FxParams, page::Params),
    responses(
        (status = 200, body = Page<StoredRate>),
        (status = 400, description = "A `date` that is not an ISO date, or a parameter this list does not take."),
    ))]
pub async fn fx_rates(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<StoredRate>>, Problem> {
    let (q, filters) = page::parse_with::<String>(raw.as_deref(), &["date"])?;
    let date = match filters.get("date") {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| Problem::bad_request("`date` must be an ISO date like 2026-10-30."))?,
        None => Utc::now().date_naive(),
    };
    let rows = fx::rates_on(&state.pool, date, q.cursor.as_deref(), q.limit + 1).await?;
    Ok(Json(Page::of(rows, q.limit, |r| r.currency.clone())))
}

/// Where a page of price versions starts: after this (effective from, catalog key).
struct VersionCursor {
    effective_from: DateTime<Utc>,
    catalog_key: String,
}

impl fmt::Display for VersionCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            self.effective_from.timestamp_micros(),
            self.catalog_key
        )
    }
}

impl FromStr for VersionCursor {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (micros, key) = s.split_once('.').ok_or(())?;
        Ok(VersionCursor {
            effective_from: DateTime::from_timestamp_micros(micros.parse().map_err(|_| ())?)
                .ok_or(())?,
            catalog_key: key.to_string(),
        })
    }
}

/// One stored version of a catalog entry: USD per token, each a decimal string (null
/// where the provider lists no separate price for that kind).
#[derive(Serialize, ToSchema)]
pub struct PriceVersionView {
    catalog_key: String,
    provider: String,
    mode: Option<String>,
    effective_from: DateTime<Utc>,
    /// Always `USD`.
    currency: &'static str,
    per_token: PerToken,
    max_input_tokens: Option<i64>,
    max_output_tokens: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PerToken {
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "0.00000015")]
    input: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    output: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    cache_read: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    cache_write: Option<Decimal>,
    /// The 1-hour cache write, where priced apart.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    cache_write_1h: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    reasoning: Option<Decimal>,
}

impl From<PriceVersion> for PriceVersionView {
    fn from(v: PriceVersion) -> Self {
        let p = v.price;
        PriceVersionView {
            catalog_key: p.catalog_key,
            provider: p.provider,
            mode: p.mode,
            effective_from: v.effective_from,
            currency: "USD",
            per_token: PerToken {
                input: p.input,
                output: p.output,
                cache_read: p.cache_read,
                cache_write: p.cache_write,
                cache_write_1h: p.cache_write_1h,
                reasoning: p.reasoning,
            },
            max_input_tokens: p.max_input_tokens,
            max_output_tokens: p.max_output_tokens,
        }
    }
}

/// `GET /admin/v1/prices?model=&limit=&cursor=`: the stored versions of the catalog
/// entries of `model` (a public id like `openai/gpt-4o-mini` or a catalog name like
/// `gpt-4o-mini`: every provider's and region's entry of it), by entry and time.
#[utoipa::path(get, path = "/prices", tag = "catalog",
    params(PriceParams, page::Params),
    responses(
        (status = 200, body = Page<PriceVersionView>),
        (status = 400, description = "No `model`, or a parameter this list does not take (the message names it)."),
    ))]
pub async fn prices(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<PriceVersionView>>, Problem> {
    let (q, filters) = page::parse_with::<VersionCursor>(raw.as_deref(), &["model"])?;
    let model = filters
        .get("model")
        .map(|m| m.trim())
        .filter(|m| !m.is_empty() && !m.contains('\0'))
        .ok_or_else(|| {
            Problem::bad_request("`model` is required: a model like openai/gpt-4o-mini.")
        })?;
    // The catalog names a model without its vendor (`gpt-4o-mini`).
    let name = model.rsplit('/').next().unwrap_or(model);
    let after = q
        .cursor
        .as_ref()
        .map(|c| (c.catalog_key.as_str(), c.effective_from));
    let rows = price_versions::of_model(&state.pool, name, after, q.limit + 1).await?;
    let page = Page::of(rows, q.limit, |v| {
        VersionCursor {
            effective_from: v.effective_from,
            catalog_key: v.price.catalog_key.clone(),
        }
        .to_string()
    });
    Ok(Json(page.map(PriceVersionView::from)))
}

impl From<CatalogError> for Problem {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Db(e) => e.into(),
            other => Problem::bad_request(other.to_string()),
        }
    }
}

/// What `POST /admin/v1/prices/import` stored.
#[derive(Serialize, ToSchema)]
pub struct ImportOutcome {
    /// Entries in the file.
    entries: usize,
    /// Versions stored: the entries whose prices changed.
    new_versions: u64,
    /// When they take effect (now).
    effective_from: DateTime<Utc>,
}

/// `POST /admin/v1/prices/import` with a LiteLLM-format catalog as the body: a new
/// version of every entry whose prices changed, in force from now → 200 `{"entries",
/// "new_versions", "effective_from"}`.
#[utoipa::path(post, path = "/prices/import", tag = "catalog",
    params(crate::idempotency::Params),
    request_body(content = Object, description = "A catalog file in the format of `meridian prices import` (LiteLLM's `model-prices.json`), up to 32 MB."),
    responses(
        (status = 200, body = ImportOutcome),
        (status = 400, description = "Not JSON, or an entry whose price is not a decimal number (the message names it)."),
        (status = 409, description = "The `Idempotency-Key` was used for a different request."),
        (status = 413, description = "A body over 32 MB."),
    ))]
pub async fn import(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, Problem> {
    // Read here rather than by the `Bytes` extractor, whose limit (2 MB) is the
    // other routes'.
    let bytes = axum::body::to_bytes(body, IMPORT_LIMIT)
        .await
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                Problem::too_large(IMPORT_LIMIT)
            } else {
                Problem::bad_request("The body could not be read.")
            }
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Problem::bad_request("The body must be the catalog's JSON, in UTF-8."))?;
    let prices = catalog::parse_price_file(text)?;
    let work = begin_post!(&state.pool, SCOPE.into(), &headers, uri, &bytes);
    // As Postgres keeps it (microseconds), so the answer names the stored version.
    let now = Utc::now().trunc_subsecs(6);
    let new_versions = price_versions::import(&state.pool, &prices, now).await?;
    let answer = json!(ImportOutcome {
        entries: prices.len(),
        new_versions,
        effective_from: now,
    });
    work.answer(StatusCode::OK, answer).await
}
