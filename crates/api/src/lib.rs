//! The dashboard (`/api/v1/*`, the customer's own key), the finance routes
//! (`/admin/v1/*`, the admin token) and `/healthz`. Errors are RFC 9457 problem+json.
//! Reads rollups, billing's issued documents and documents' renderings of them; never
//! sees request content.

pub mod admin;
mod document_ref;
pub mod documents;
pub mod problem;
pub mod usage;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use meridian_core::CustomerId;
use meridian_core::wire::bearer_token;
use meridian_gateway::KeyStore;
use sqlx::PgPool;

pub use problem::Problem;

pub struct ApiState {
    pub pool: PgPool,
    pub keys: Arc<KeyStore>,
    /// Bearer token of `/admin/v1/*`; `None` disables those routes.
    pub admin_token: Option<String>,
}

impl ApiState {
    /// The customer whose live key is the request's bearer token.
    pub fn customer(&self, headers: &HeaderMap) -> Result<CustomerId, Problem> {
        let key = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| {
                Problem::unauthorized(
                    "Send the customer's API key as `Authorization: Bearer mk-...`.",
                )
            })?;
        match self.keys.lookup(key) {
            Some(entry) if !entry.revoked => Ok(entry.customer_id),
            Some(_) => Err(Problem::unauthorized("This API key has been revoked.")),
            None => Err(Problem::unauthorized("Incorrect API key provided.")),
        }
    }
}

/// Every route of the dashboard and finance APIs.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/usage", get(usage::get_usage))
        .route("/api/v1/invoices", get(documents::customer_invoices))
        .route("/api/v1/invoices/{id}/pdf", get(documents::customer_pdf))
        .route("/admin/v1/invoice-runs", get(admin::list_runs))
        .route("/admin/v1/invoices", get(admin::list_invoices))
        .route("/admin/v1/invoices/{number}", get(admin::get_invoice))
        .route(
            "/admin/v1/invoices/{number}/credit-notes",
            post(admin::create_credit_note),
        )
        .route(
            "/admin/v1/invoices/{number}/pdf",
            get(documents::finance_pdf),
        )
        .route(
            "/admin/v1/invoices/{number}/xml",
            get(documents::finance_xml),
        )
        .route("/admin/v1/outbox", get(documents::outbox))
        .route("/admin/v1/outbox/{number}/retry", post(documents::retry))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}
