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
pub mod openapi;
pub mod page;
pub mod problem;
pub mod spend;
pub mod usage;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use meridian_core::config::Placement;
use meridian_core::served::ModelListing;
use meridian_core::wire::bearer_token;
use meridian_core::{CustomerId, KeyEntry, KeyId, KeyLookup, KeyRole, KeyStatus, RequestId};
use sqlx::PgPool;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_scalar::{Scalar, Servable as _};

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

/// The routes of `/api/v1/*`, those of `/admin/v1/*` (relative to it), and their
/// OpenAPI document.
struct Routes {
    dashboard: Router<Arc<ApiState>>,
    finance: Router<Arc<ApiState>>,
    doc: utoipa::openapi::OpenApi,
}

fn routes() -> Routes {
    let (finance, finance_doc) = finance_routes().split_for_parts();
    let (dashboard, doc) = OpenApiRouter::with_openapi(openapi::Frame::openapi())
        .routes(routes!(usage::get_usage))
        .routes(routes!(documents::customer_invoices))
        .routes(routes!(documents::customer_invoice))
        .routes(routes!(documents::customer_pdf))
        .routes(routes!(documents::customer_xml))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::get, keys::update, keys::revoke))
        .routes(routes!(keys::rotate))
        .routes(routes!(budget::get, budget::put))
        .route("/api/v1/spend", get(spend::get))
        .route("/api/v1/models", get(models::list))
        .split_for_parts();
    let mut doc = doc.nest(FINANCE, finance_doc);
    openapi::conventions(&mut doc);
    Routes {
        dashboard,
        finance,
        doc,
    }
}

/// The OpenAPI document of the dashboard and finance APIs (what `/openapi.json` serves).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().doc
}

/// Every route of the dashboard and finance APIs, `/openapi.json` (their document) and
/// `/docs` (its rendering).
pub fn router(state: Arc<ApiState>) -> Router {
    let Routes {
        dashboard,
        finance: finance_routes,
        doc,
    } = routes();
    let json = Arc::new(doc.to_json().unwrap_or_default());
    dashboard
        // A service, not a nested Router: its fallbacks and its gate stay its own.
        .nest_service(
            FINANCE,
            finance(state.clone(), finance_routes).into_service::<Body>(),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    json.as_str().to_owned(),
                )
            }),
        )
        .merge(Scalar::with_url("/docs", doc).title("Meridian API reference"))
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

/// The finance routes, at paths relative to [`FINANCE`].
fn finance_routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new()
        .routes(routes!(admin::list_runs, admin::invoice_runs::start))
        .routes(routes!(admin::list_invoices))
        .routes(routes!(admin::get_invoice))
        .routes(routes!(admin::create_credit_note))
        .routes(routes!(documents::finance_pdf))
        .routes(routes!(documents::finance_xml))
        .routes(routes!(documents::outbox))
        .routes(routes!(documents::retry))
        .routes(routes!(admin::customers::list, admin::customers::create))
        .routes(routes!(admin::customers::get, admin::customers::patch))
        .routes(routes!(keys::customer_keys, admin::customers::create_key))
        .routes(routes!(admin::entities::list))
        .routes(routes!(admin::entities::get, admin::entities::patch))
        .routes(routes!(admin::invoice_runs::get))
        .routes(routes!(admin::catalog::fx_rates))
        .routes(routes!(admin::catalog::prices))
        .routes(routes!(admin::catalog::import))
}

/// The finance routes (under [`FINANCE`]) behind the admin token: a request without
/// it learns nothing, not even whether its path exists (the token is checked before
/// routing, so no 404, 405 or `Allow` header reaches it).
fn finance(state: Arc<ApiState>, routes: Router<Arc<ApiState>>) -> Router {
    let routes = routes
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
