//! The one router of the listener: the gateway's `/v1/*` and `/metrics`, the REST
//! API, and the answers for paths no route takes, each in its family's error shape
//! (OpenAI's under `/v1/*`, problem+json elsewhere).

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use meridian_api::{ApiState, Problem};
use meridian_gateway::{ApiError, Gateway};

pub(crate) fn app(gateway: Arc<Gateway>, api: Arc<ApiState>) -> Router {
    gateway
        .router()
        .merge(meridian_api::router(api))
        .fallback(no_route)
        // The gateway's routes have their own (OpenAI-shaped) 405.
        .method_not_allowed_fallback(meridian_api::method_not_allowed)
        // Binds every handler to the state once, not once per request.
        .with_state(())
}

fn is_openai(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

async fn no_route(method: Method, uri: Uri) -> Response {
    if is_openai(uri.path()) {
        ApiError::unknown_endpoint(method.as_str(), uri.path()).into_response()
    } else {
        Problem::no_route(method.as_str(), uri.path()).into_response()
    }
}

/// The answer to a request whose body did not arrive in time; the rest of the body
/// is not read, so the connection is closed.
pub(crate) fn body_timeout(path: &str) -> Response {
    let mut response = if is_openai(path) {
        ApiError::body_timeout().into_response()
    } else {
        Problem::body_timeout().into_response()
    };
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
