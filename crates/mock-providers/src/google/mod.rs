//! Google's `generateContent` and `streamGenerateContent`, as the Gemini API serves
//! them (`/v1` and `/v1beta`, the key in `x-goog-api-key` or `?key=`) and as Vertex AI
//! serves Gemini (`/v1` and `/v1beta1` under a project and location, an OAuth bearer
//! token): one body for both, answered in Google's shapes.

mod error;
mod fields;
mod request;
mod wire;

use axum::extract::Path;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::capacity::Route;
use crate::gate::{self, Admitted, Provider};
use crate::reply;
use crate::stream;
use error::Error;
use wire::Framing;

const UNREGISTERED: &str = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

const UNAUTHENTICATED: &str = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// The Gemini API: an API key in `x-goog-api-key` or `?key=` (else 403
/// `PERMISSION_DENIED`).
pub(crate) struct Gemini;

impl Provider for Gemini {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        Error::for_status(status, retry_after_secs).into_response()
    }

    fn refusal(head: &Parts, _: &Bytes) -> Option<Response> {
        let keyed = gate::has_value(&head.headers, "x-goog-api-key")
            || gate::query_param(&head.uri, "key").is_some();
        (!keyed).then(|| Error::new(StatusCode::FORBIDDEN, UNREGISTERED).into_response())
    }
}

/// Vertex AI: an OAuth access token as `Authorization: Bearer` (else 401
/// `UNAUTHENTICATED`).
pub(crate) struct Vertex;

impl Provider for Vertex {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        Error::for_status(status, retry_after_secs).into_response()
    }

    fn refusal(head: &Parts, _: &Bytes) -> Option<Response> {
        let bearer = gate::bearer(&head.headers);
        bearer
            .is_none()
            .then(|| Error::new(StatusCode::UNAUTHORIZED, UNAUTHENTICATED).into_response())
    }
}

/// `POST /v1beta/models/{model}:{method}` (and `/v1`).
pub(crate) async fn gemini(
    Path(action): Path<String>,
    uri: Uri,
    request: Admitted<Gemini>,
) -> Response {
    answer(&action, &uri, &request, false).unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}`
/// (and `/v1beta1`).
pub(crate) async fn vertex(
    Path((_project, _location, action)): Path<(String, String, String)>,
    uri: Uri,
    request: Admitted<Vertex>,
) -> Response {
    answer(&action, &uri, &request, true).unwrap_or_else(IntoResponse::into_response)
}

fn answer<P: Provider>(
    action: &str,
    uri: &Uri,
    admitted: &Admitted<P>,
    vertex: bool,
) -> Result<Response, Error> {
    let (model, streamed) = match action.rsplit_once(':') {
        Some((model, "generateContent")) => (model, false),
        Some((model, "streamGenerateContent")) => (model, true),
        _ => return Err(Error::new(StatusCode::NOT_FOUND, "Method not found.")),
    };
    let object = request::parse_object(&admitted.body)?;
    let request = request::read(&object, model)?;
    let generation = reply::generate(&request.prompt);
    let counts = generation.counts;
    let spent = counts
        .prompt
        .saturating_add(counts.completion.saturating_mul(request.candidates));
    let route = if vertex { Route::Vertex } else { Route::Gemini };
    if let Some(throttled) = admitted.over_capacity(route, model, spent) {
        return Ok(throttled);
    }
    let head = wire::Head::new(model, vertex, request.candidates, request.show_thoughts);
    if !streamed {
        return Ok(gate::json_response(
            wire::whole(&head, &generation),
            admitted.cut_after,
        ));
    }
    let (framing, content_type) = match gate::query_param(uri, "alt") {
        Some("sse") => (Framing::Sse, "text/event-stream"),
        _ => (Framing::JsonArray, "application/json; charset=UTF-8"),
    };
    let frames = wire::stream(head, generation, framing);
    Ok(stream::respond(frames, content_type, admitted.delivery()))
}
