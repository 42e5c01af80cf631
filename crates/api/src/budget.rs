//! Customer-wide limits and spend budget, enforced by the gateway over all of the
//! customer's keys (the gateway reads them again within a second): `GET/PUT
//! /api/v1/budget` for the customer's `admin` key (an `inference` key gets 403);
//! finance sets them with `PATCH /admin/v1/customers/{id}` `{"limits", "budget"}`
//! (`admin::customers`). Amounts are in the customer's currency.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use meridian_billing::customers::{self, SpendingTerms};
use meridian_core::{BudgetPeriod, CustomerId};
use meridian_keys::KeySettings;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::keys::body::{self, schema::BudgetPutRequest};
use crate::{ApiState, Caller, Problem};

/// The customer-wide budget (`amount` and `period` null when there is none).
#[derive(Serialize, ToSchema)]
pub struct Budget {
    #[serde(with = "rust_decimal::serde::str_option")]
    amount: Option<Decimal>,
    period: Option<BudgetPeriod>,
    /// The percentages at which the customer is e-mailed, once per period each.
    alerts: Vec<i32>,
    currency: String,
}

impl From<&SpendingTerms> for Budget {
    fn from(terms: &SpendingTerms) -> Self {
        Budget {
            amount: terms.budget.map(|b| b.amount),
            period: terms.budget.map(|b| b.period),
            alerts: terms.alerts.clone(),
            currency: terms.currency.clone(),
        }
    }
}

/// The `{id}` of a customer route, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct CustomerIdParam {
    /// The customer's id.
    id: CustomerId,
}

fn gone() -> Problem {
    Problem::not_found("The customer of this key no longer exists.")
}

/// The caller (an `admin` key) and its customer's terms.
async fn own_terms(
    state: &ApiState,
    headers: &HeaderMap,
) -> Result<(Caller, SpendingTerms), Problem> {
    let caller = state.key_admin(headers)?;
    let terms = customers::spending_terms_of(&state.pool, caller.customer)
        .await?
        .ok_or_else(gone)?;
    Ok((caller, terms))
}

/// `GET /api/v1/budget`: `{"amount", "period", "alerts", "currency"}` (amount and
/// period null when the customer has no budget).
#[utoipa::path(get, path = "/api/v1/budget", tag = "budget",
    responses(
        (status = 200, body = Budget),
        (status = 403, description = "An `inference` key cannot read or set budgets."),
        (status = 404, description = "The key's customer no longer exists."),
    ))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<Budget>, Problem> {
    let (_, terms) = own_terms(&state, &headers).await?;
    Ok(Json(Budget::from(&terms)))
}

/// `PUT /api/v1/budget` `{"amount", "period", "alerts"?}`: sets the customer-wide
/// budget; its limits stay as they are.
#[utoipa::path(put, path = "/api/v1/budget", tag = "budget",
    request_body = BudgetPutRequest,
    responses(
        (status = 200, body = Budget),
        (status = 400, description = "A member missing, unknown or out of range (the message names it)."),
        (status = 403, description = "An `inference` key cannot read or set budgets."),
        (status = 404, description = "The key's customer no longer exists."),
    ))]
pub async fn put(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Budget>, Problem> {
    let (budget, alerts) = body::budget_put(&bytes)?;
    let (caller, current) = own_terms(&state, &headers).await?;
    let settings = KeySettings {
        limits: current.limits,
        budget: Some(budget),
        ..KeySettings::default()
    };
    settings.validate(Utc::now())?;
    let terms = customers::set_spending(
        &state.pool,
        caller.customer,
        settings.limits,
        settings.budget,
        Some(&alerts),
    )
    .await?
    .ok_or_else(gone)?;
    Ok(Json(Budget::from(&terms)))
}
