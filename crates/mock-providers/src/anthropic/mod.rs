//! Anthropic's Messages API, `POST /v1/messages` and `POST /v1/messages/count_tokens`:
//! the key in `x-api-key` (or `Authorization: Bearer`), `anthropic-version` required,
//! the request checked as Anthropic checks it, the answer whole or as an event stream
//! (or the prompt's `input_tokens`), errors in Anthropic's shape. Claude on Vertex
//! AI ([`vertex`]) is the same API under Vertex's paths.

mod content;
mod error;
pub(crate) mod request;
pub(crate) mod vertex;
pub(crate) mod wire;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::capacity::Route;
use crate::gate::{self, Admitted, Provider};
use crate::reply::{self, random_id};
use crate::stream;
use error::Error;

/// Anthropic: a status fault in Anthropic's shape (429 `rate_limit_error` with
/// `retry-after`, 529 `overloaded_error`, …).
pub(crate) struct Anthropic;

impl Provider for Anthropic {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        Error::for_status(status, retry_after_secs).into_response()
    }

    fn refusal(head: &Parts, body: &Bytes) -> Option<Response> {
        let headers = &head.headers;
        let refusal = if !gate::has_value(headers, "x-api-key") && gate::bearer(headers).is_none() {
            Error::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "x-api-key header is required",
            )
        } else if !gate::has_value(headers, "anthropic-version") {
            Error::invalid("anthropic-version: header is required")
        } else if let Some(field) = beta_field_without_beta(headers, body) {
            Error::invalid(format!("{field}: Extra inputs are not permitted"))
        } else {
            return None;
        };
        Some(refusal.into_response())
    }
}

/// Request fields of beta features, each known only with its `anthropic-beta`.
const BETA_FIELDS: [(&str, &str); 2] = [
    ("context_management", "context-management-2025-06-27"),
    ("mcp_servers", "mcp-client-2025-04-04"),
];

/// The first beta field of the body whose beta the request did not name.
fn beta_field_without_beta(headers: &HeaderMap, body: &Bytes) -> Option<&'static str> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    missing_beta(&object, &betas(headers))
}

/// The betas the `anthropic-beta` headers name.
pub(crate) fn betas(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect()
}

/// The first beta field of `object` whose beta is not among `betas`.
pub(crate) fn missing_beta(
    object: &serde_json::Map<String, serde_json::Value>,
    betas: &[&str],
) -> Option<&'static str> {
    BETA_FIELDS
        .iter()
        .find(|(field, beta)| object.contains_key(*field) && !betas.contains(beta))
        .map(|(field, _)| *field)
}

/// `POST /v1/messages`.
pub(crate) async fn messages(request: Admitted<Anthropic>) -> Response {
    answer(&request).unwrap_or_else(IntoResponse::into_response)
}

fn answer(admitted: &Admitted<Anthropic>) -> Result<Response, Error> {
    let object = request::parse_object(&admitted.body)?;
    answer_object(&object, Route::Anthropic, admitted)
}

/// The answer to a Messages request (`object`, with its `model`), counted against
/// the capacity of `route`.
fn answer_object<P: Provider>(
    object: &serde_json::Map<String, serde_json::Value>,
    route: Route,
    admitted: &Admitted<P>,
) -> Result<Response, Error> {
    let request = request::read(object)?;
    let generation = reply::generate(&request.prompt);
    if let Some(throttled) = admitted.over_capacity(route, request.model, generation.counts.spent())
    {
        return Ok(throttled);
    }
    let cache = admitted.shared.prompt_cache.lookup(request.prefix);
    let head = wire::Head::new(request.model, cache, request.long_ttl);
    let mut response = if request.stream {
        let frames = wire::events(head, generation);
        stream::respond(frames, stream::SSE, admitted.delivery())
    } else {
        gate::json_response(wire::message(&head, &generation), admitted.cut_after)
    };
    let id = HeaderValue::from_str(&request_id()).expect("ids are ASCII");
    response.headers_mut().insert("request-id", id);
    Ok(response)
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens"}`, the prompt's tokens as the
/// same prompt's usage reports them (not counted against capacity: Anthropic limits
/// it apart from messages).
pub(crate) async fn count_tokens(request: Admitted<Anthropic>) -> Response {
    let counted = request::parse_object(&request.body).and_then(|object| request::count(&object));
    match counted {
        Ok(input_tokens) => {
            let body = serde_json::json!({ "input_tokens": input_tokens });
            let mut response = gate::json_response(body.to_string().into_bytes(), None);
            let id = HeaderValue::from_str(&request_id()).expect("ids are ASCII");
            response.headers_mut().insert("request-id", id);
            response
        }
        Err(error) => error.into_response(),
    }
}

/// A request id, as Anthropic sends in `request-id` and error bodies.
fn request_id() -> String {
    random_id("req_011", 21)
}
