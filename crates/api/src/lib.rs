//! The dashboard (`/api/v1/*`, the customer's own key), the finance routes
//! (`/admin/v1/*`, the admin token) and `/healthz`. Errors are RFC 9457 problem+json.
//! Reads rollups, billing's issued documents and documents' renderings of them; never
//! sees request content.

pub mod admin;
pub mod budget;
mod document_ref;
pub mod documents;
mod idempotency;
pub mod keys;
mod members;
pub mod models;
pub mod page;
pub mod problem;
pub mod spend;
pub mod usage;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use meridian_core::config::Placement;
use meridian_core::served::ModelListing;
use meridian_core::wire::bearer_token;
use meridian_core::{CustomerId, KeyEntry, KeyId, KeyLookup, KeyRole, KeyStatus, RequestId};
use sqlx::PgPool;

pub use problem::Problem;

pub struct ApiState {
    pub pool: PgPool,
    /// The API keys, looked up in memory (the gateway's store).
    pub keys: Arc<dyn KeyLookup>,
    /// The models served and their list prices (the gateway's live table).
    pub models: Arc<dyn ModelListing>,
    /// Bearer token of `/admin/v1/*`; `None` disables those routes.
    pub admin_token: Option<String>,
    /// The gateway's `[gateway]` region and `[residency]` values, which a customer's
    /// residency and home region must name.
    pub placement: Placement,
}

/// Who calls `/api/v1/*`: a live key of one customer.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub customer: CustomerId,
    pub key: KeyId,
    pub role: KeyRole,
}

impl ApiState {
    /// The live key that is the request's bearer token (401 for none, a wrong, a
    /// revoked or an expired one).
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, Problem> {
        self.caller_entry(headers).map(|entry| Caller {
            customer: entry.customer_id,
            key: entry.id,
            role: entry.role,
        })
    }

    /// The live key that is the request's bearer token, as the key store holds it.
    pub fn caller_entry(&self, headers: &HeaderMap) -> Result<KeyEntry, Problem> {
        let key = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| {
                Problem::unauthorized(
                    "Send the customer's API key as `Authorization: Bearer mk-...`.",
                )
            })?;
        let Some(entry) = self.keys.lookup(key) else {
            return Err(Problem::unauthorized("Incorrect API key provided."));
        };
        match entry.status(chrono::Utc::now()) {
            KeyStatus::Live => Ok(entry),
            KeyStatus::Revoked => Err(Problem::unauthorized("This API key has been revoked.")),
            KeyStatus::Expired => Err(Problem::unauthorized("This API key has expired.")),
        }
    }

    /// The customer whose live key is the request's bearer token.
    pub fn customer(&self, headers: &HeaderMap) -> Result<CustomerId, Problem> {
        self.caller(headers).map(|c| c.customer)
    }

    /// A caller whose key has the `admin` role (403 for an `inference` key).
    pub fn key_admin(&self, headers: &HeaderMap) -> Result<Caller, Problem> {
        let caller = self.caller(headers)?;
        match caller.role {
            KeyRole::Admin => Ok(caller),
            KeyRole::Inference => Err(Problem::forbidden(
                "An `inference` key cannot manage keys or budgets: use a key with the `admin` role.",
            )),
        }
    }
}

/// Every route of the dashboard and finance APIs.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/usage", get(usage::get_usage))
        .route("/api/v1/invoices", get(documents::customer_invoices))
        .route("/api/v1/invoices/{id}", get(documents::customer_invoice))
        .route("/api/v1/invoices/{id}/pdf", get(documents::customer_pdf))
        .route("/api/v1/invoices/{id}/xml", get(documents::customer_xml))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route(
            "/api/v1/keys/{id}",
            get(keys::get).patch(keys::update).delete(keys::revoke),
        )
        .route("/api/v1/keys/{id}/rotate", post(keys::rotate))
        .route("/api/v1/budget", get(budget::get).put(budget::put))
        .route("/api/v1/spend", get(spend::get))
        .route("/api/v1/models", get(models::list))
        // A service, not a nested Router: its fallbacks and its gate stay its own.
        .nest_service(FINANCE, finance(state.clone()).into_service::<Body>())
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
        .layer(middleware::map_response(with_request_id))
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every response of these routes an `x-request-id` (a new id per request).
async fn with_request_id(mut response: Response) -> Response {
    if !response.headers().contains_key(REQUEST_ID)
        && let Ok(id) = HeaderValue::from_str(&RequestId::new().to_string())
    {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

const FINANCE: &str = "/admin/v1";

/// The finance routes (under [`FINANCE`]) behind the admin token: a request without
/// it learns nothing, not even whether its path exists (the token is checked before
/// routing, so no 404, 405 or `Allow` header reaches it).
fn finance(state: Arc<ApiState>) -> Router {
    let routes = Router::new()
        .route(
            "/customers",
            get(admin::customers::list).post(admin::customers::create),
        )
        .route(
            "/customers/{id}",
            get(admin::customers::get).patch(admin::customers::patch),
        )
        .route(
            "/customers/{id}/keys",
            get(keys::customer_keys).post(admin::customers::create_key),
        )
        .route("/entities", get(admin::entities::list))
        .route(
            "/entities/{code}",
            get(admin::entities::get).patch(admin::entities::patch),
        )
        .route(
            "/invoice-runs",
            get(admin::list_runs).post(admin::invoice_runs::start),
        )
        .route("/invoice-runs/{id}", get(admin::invoice_runs::get))
        .route("/fx-rates", get(admin::catalog::fx_rates))
        .route("/prices", get(admin::catalog::prices))
        .route(
            "/prices/import",
            post(admin::catalog::import).layer(DefaultBodyLimit::max(admin::catalog::IMPORT_LIMIT)),
        )
        .route("/invoices", get(admin::list_invoices))
        .route("/invoices/{number}", get(admin::get_invoice))
        .route(
            "/invoices/{number}/credit-notes",
            post(admin::create_credit_note),
        )
        .route("/invoices/{number}/pdf", get(documents::finance_pdf))
        .route("/invoices/{number}/xml", get(documents::finance_xml))
        .route("/outbox", get(documents::outbox))
        .route("/outbox/{number}/retry", post(documents::retry))
        .fallback(|method: Method, uri: Uri| async move {
            Problem::no_route(method.as_str(), &format!("{FINANCE}{}", uri.path()))
        })
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn_with_state(state, admin_gate))
}

async fn admin_gate(State(state): State<Arc<ApiState>>, request: Request, next: Next) -> Response {
    match admin::authorize(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(problem) => problem.into_response(),
    }
}

/// The 405 of every route outside `/v1/*`.
pub async fn method_not_allowed(method: Method) -> Problem {
    Problem::method_not_allowed(method.as_str())
}
