//! The gateway: OpenAI-compatible `/v1/*` on axum. Authenticates from memory, routes
//! a model to its deployments, translates through a provider adapter, streams, and
//! hands one usage event per request to the metering sink.
//!
//! Request and response bodies live only in memory while a request is served: this
//! crate never logs, stores or echoes them (error messages name fields, never values).

pub mod body;
pub mod capacity;
pub mod client;
mod cost_json;
pub mod deadline;
pub mod error;
pub mod eventstream;
pub mod health;
pub mod limits;
mod messages;
mod meter;
pub mod metrics;
mod models;
pub mod price_refresh;
pub mod providers;
mod proxy;
pub mod request;
mod responses;
pub mod routing;
pub mod sse;
mod stream;
pub mod targets;
pub mod tokens;
pub mod translation;
pub mod window;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::http::header::RETRY_AFTER;
use axum::routing::{get, post};
use meridian_core::UsageSink;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

pub use client::UpstreamClient;
pub use error::ApiError;
pub use meridian_keys::KeyStore;
pub use models::ServedModels;
pub use proxy::{COST, DEPLOYMENT, PROVIDER, REGION, REQUEST_ID};
pub use targets::ModelTable;

#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Largest request body accepted (413 above).
    pub body_limit: usize,
    /// How long a provider may take, after its response head, to send a whole answer's
    /// body or an error's (the head itself has each deployment's
    /// `first_byte_timeout`).
    pub upstream_timeout: Duration,
    /// Longest silence inside a stream before it is considered broken.
    pub stream_idle_timeout: Duration,
    /// How long a stream's response head waits for the first event, to leave with it.
    pub stream_head_wait: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            body_limit: 10 * 1024 * 1024,
            upstream_timeout: Duration::from_secs(120),
            stream_idle_timeout: Duration::from_secs(120),
            stream_head_wait: Duration::from_secs(1),
        }
    }
}

pub struct Gateway {
    pub models: ModelTable,
    pub keys: Arc<KeyStore>,
    pub sink: Arc<dyn UsageSink>,
    pub client: UpstreamClient,
    pub options: GatewayOptions,
    pub metrics: Arc<metrics::Metrics>,
    /// Each deployment's capacity, spent before a call and corrected after.
    pub capacity: Arc<dyn capacity::CapacityStore>,
    /// Key and customer limits and spend budgets, counted before a call and
    /// corrected after.
    pub limiter: Arc<dyn limits::Limiter>,
    /// Each customer's currency and rate, and its own limits and budget.
    pub customers: Arc<limits::CustomerTable>,
    /// The gateway's region, the residency values and the request deadline.
    pub placement: meridian_core::config::Placement,
}

impl Gateway {
    /// `/metrics`: the request metrics, then each deployment's.
    fn render_metrics(&self) -> String {
        let mut out = self.metrics.render();
        let now = std::time::Instant::now();
        let deployments = self.models.deployments();
        let views: Vec<metrics::DeploymentView<'_>> = deployments
            .iter()
            .map(|d| {
                let (used, capacity) = self.capacity.used(d.pool, now);
                metrics::DeploymentView {
                    id: &d.id,
                    counters: &d.counters,
                    breaker_open: d.health.is_open(),
                    used,
                    capacity,
                }
            })
            .collect();
        metrics::render_deployments(&mut out, &views);
        out
    }

    /// The `/v1/*` routes, open to browsers of any origin (CORS), and
    /// `/metrics`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(proxy::chat_completions))
            .route("/v1/embeddings", post(proxy::embeddings))
            .route("/v1/responses", post(proxy::responses))
            .route("/v1/messages", post(proxy::messages))
            .route("/v1/messages/count_tokens", post(proxy::count_tokens))
            .route("/v1/models", get(models::list))
            // A wildcard: public ids hold a slash (`openai/gpt-4o-mini`).
            .route("/v1/models/{*id}", get(models::retrieve))
            .method_not_allowed_fallback(|method: Method| async move {
                ApiError::method_not_allowed(method.as_str())
            })
            .layer(cors())
            .route(
                "/metrics",
                get(|State(gw): State<Arc<Gateway>>| async move { gw.render_metrics() }),
            )
            .with_state(self)
    }
}

/// Any origin may call `/v1/*` from a browser: keys are bearer tokens the page must
/// send itself, never cookies, so no credentials are allowed. The headers a
/// preflight asks for are allowed (browser SDKs add their own `x-stainless-*`), and
/// Meridian's response headers are readable.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            REQUEST_ID,
            PROVIDER,
            DEPLOYMENT,
            REGION,
            COST,
            RETRY_AFTER,
            messages::TOKEN_COUNT,
        ])
        .max_age(Duration::from_secs(3600))
}
