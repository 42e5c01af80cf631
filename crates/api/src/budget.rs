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
use meridian_keys::KeySettings;
use serde_json::{Value, json};

use crate::keys::body;
use crate::{ApiState, Caller, Problem};

fn budget_json(terms: &SpendingTerms) -> Value {
    json!({
        "amount": terms.budget.map(|b| b.amount.to_string()),
        "period": terms.budget.map(|b| b.period.as_str()),
        "alerts": terms.alerts,
        "currency": terms.currency,
    })
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
pub async fn get(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    let (_, terms) = own_terms(&state, &headers).await?;
    Ok(Json(budget_json(&terms)))
}

/// `PUT /api/v1/budget` `{"amount", "period", "alerts"?}`: sets the customer-wide
/// budget; its limits stay as they are.
pub async fn put(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, Problem> {
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
    Ok(Json(budget_json(&terms)))
}
