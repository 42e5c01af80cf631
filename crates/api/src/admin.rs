//! Finance routes (`/admin/v1/*`, bearer `MERIDIAN_ADMIN_TOKEN`): invoice runs and
//! their state, invoices and credit notes per entity and period, one document with
//! its lines and tax summary, and issuing a credit note; customers, entities, runs
//! started over REST and the price and FX catalogs in the modules below. Errors are
//! problem+json.

pub mod catalog;
pub mod customers;
pub mod entities;
pub mod invoice_runs;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use meridian_billing::credit::CreditOutcome;
use meridian_billing::query::{self, InvoiceDetail, InvoiceRow, ListFilter, RunRow};
use meridian_billing::{BillingError, Period, credit};
use meridian_core::wire::{bearer_token, is_identity_encoding, shown_id};
use serde::Deserialize;

use crate::document_ref::{DocumentRef, NumberParam, no_document};
use crate::{ApiState, Problem};

/// The filters of the finance lists, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ListParams {
    /// The issuing entity's code (`US`, `EU`, …).
    entity: Option<String>,
    /// The billing period, a month like `2026-10`.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    period: Option<String>,
    /// A customer's id.
    customer: Option<meridian_core::CustomerId>,
}

impl From<BillingError> for Problem {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => e.into(),
            BillingError::UnknownInvoice(number) => no_document(&number),
            BillingError::UnknownEntity(code) => {
                Problem::bad_request(BillingError::UnknownEntity(shown_id(&code)).to_string())
            }
            BillingError::PeriodNotEnded(why) => Problem::conflict(why),
            other => Problem::bad_request(other.to_string()),
        }
    }
}

/// Refuses the request unless it carries the admin token.
pub(crate) fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), Problem> {
    let Some(expected) = state.admin_token.as_deref() else {
        return Err(Problem::unauthorized(
            "The finance API is disabled: start Meridian with MERIDIAN_ADMIN_TOKEN set.",
        ));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .unwrap_or_default();
    // Compared in time independent of where the first difference is.
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Problem::unauthorized(
            "Send the admin token as `Authorization: Bearer ...`.",
        ))
    }
}

/// A finance route's query string: the list filter, and `status` where the route
/// takes it.
#[derive(Default)]
pub(crate) struct FinanceQuery {
    pub filter: ListFilter,
    pub status: Option<String>,
}

/// `entity`, `period`, `customer` and `status`, those of `keys` only.
pub(crate) fn finance_query(raw: Option<&str>, keys: &[&str]) -> Result<FinanceQuery, Problem> {
    let mut q = FinanceQuery::default();
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !keys.contains(&key) {
            return Err(Problem::bad_request(format!(
                "Unknown query parameter `{key}`."
            )));
        }
        match key {
            "entity" => q.filter.entity = Some(value.to_string()),
            "period" => {
                q.filter.period =
                    Some(Period::parse(value).map_err(|_| {
                        Problem::bad_request("`period` must be a month like 2026-10.")
                    })?)
            }
            "customer" => {
                q.filter.customer = Some(
                    value
                        .parse()
                        .map_err(|_| Problem::bad_request("`customer` must be a customer id."))?,
                )
            }
            _ => q.status = Some(value.to_string()),
        }
    }
    Ok(q)
}

/// The keys of the invoice and run lists.
const LIST_KEYS: &[&str] = &["entity", "period", "customer"];

/// `GET /admin/v1/invoice-runs?entity=&period=`
#[utoipa::path(get, path = "/invoice-runs", tag = "finance",
    params(ListParams),
    responses(
        (status = 200, body = Vec<RunRow>),
        (status = 400, description = "A filter this list does not take (the message names it)."),
    ))]
pub async fn list_runs(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    let f = finance_query(raw.as_deref(), LIST_KEYS)?.filter;
    Ok(Json(
        query::runs(&state.pool, f.entity.as_deref(), f.period).await?,
    ))
}

/// `GET /admin/v1/invoices?entity=&period=&customer=`
#[utoipa::path(get, path = "/invoices", tag = "finance",
    params(ListParams),
    responses(
        (status = 200, body = Vec<InvoiceRow>),
        (status = 400, description = "A filter this list does not take (the message names it)."),
    ))]
pub async fn list_invoices(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    let f = finance_query(raw.as_deref(), LIST_KEYS)?.filter;
    Ok(Json(query::list(&state.pool, &f).await?))
}

/// `GET /admin/v1/invoices/{number}`: the document with its lines and taxes.
#[utoipa::path(get, path = "/invoices/{number}", tag = "finance",
    params(NumberParam),
    responses(
        (status = 200, body = InvoiceDetail),
        (status = 404, description = "No document with this number."),
    ))]
pub async fn get_invoice(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    number: DocumentRef,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    Ok(Json(query::get(&state.pool, &number.get()?).await?))
}

/// `POST /admin/v1/invoices/{number}/credit-notes`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreditRequest {
    /// Printed on the credit note.
    #[schema(min_length = 1)]
    reason: String,
    /// The invoice's line numbers to credit (default: every line not yet credited).
    lines: Option<Vec<i32>>,
}

/// `POST /admin/v1/invoices/{number}/credit-notes` `{"reason", "lines"?}` → 201.
#[utoipa::path(post, path = "/invoices/{number}/credit-notes", tag = "finance",
    params(NumberParam),
    request_body = CreditRequest,
    responses(
        (status = 201, body = CreditOutcome),
        (status = 400, description = "A body this route does not take, or lines that cannot be credited."),
        (status = 404, description = "No invoice with this number."),
        (status = 415, description = "A `Content-Encoding` other than `identity`."),
    ))]
pub async fn create_credit_note(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    number: DocumentRef,
    body: Bytes,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    let number = number.get()?;
    if let Some(coding) = headers.get(axum::http::header::CONTENT_ENCODING)
        && !coding.to_str().is_ok_and(is_identity_encoding)
    {
        return Err(Problem::unsupported_encoding());
    }
    let request: CreditRequest = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(format!(
            "The body must be {{\"reason\": \"...\", \"lines\": [1, 2]}} ({}).",
            e.to_string().split(" at line").next().unwrap_or_default()
        ))
    })?;
    if request.reason.contains('\0') {
        return Err(Problem::bad_request(
            "`reason` must not contain NUL characters.",
        ));
    }
    let note = credit::credit(
        &state.pool,
        &number,
        &request.reason,
        request.lines.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(note)))
}
