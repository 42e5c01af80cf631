//! Amazon Bedrock's Converse API, `POST /model/{modelId}/converse` and
//! `/model/{modelId}/converse-stream`, and InvokeModel with Anthropic's body
//! ([`invoke`]), and CountTokens ([`count`]): every request signed with SigV4 by the test credentials, checked as
//! Bedrock checks it, answered in JSON or as an AWS event stream, errors in AWS's
//! REST-JSON shape.

mod count;
mod error;
mod invoke;
mod request;
pub(crate) mod sigv4;
mod wire;

use axum::extract::Path;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::capacity::Route;
use crate::gate::{self, Admitted, Provider};
use crate::reply;
use crate::stream;
use error::Error;
use sigv4::Refusal;

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// Bedrock: a status fault as the exception AWS sends with it (429
/// `ThrottlingException`, …), never a `retry-after`.
pub(crate) struct Bedrock;

impl Provider for Bedrock {
    fn fault(status: StatusCode, _: Option<u32>) -> Response {
        Error::for_status(status).into_response()
    }

    fn refusal(head: &Parts, body: &Bytes) -> Option<Response> {
        let refusal = sigv4::verify(head, body, chrono::Utc::now()).err()?;
        let forbidden =
            |exception, message: String| Error::new(StatusCode::FORBIDDEN, exception, message);
        let error = match refusal {
            Refusal::Missing => forbidden(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ),
            Refusal::Incomplete(message) => forbidden("IncompleteSignatureException", message),
            Refusal::UnknownKey => forbidden(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ),
            Refusal::Invalid(message) => forbidden("InvalidSignatureException", message),
        };
        Some(error.into_response())
    }
}

/// `POST /model/{modelId}/converse`.
pub(crate) async fn converse(Path(model): Path<String>, request: Admitted<Bedrock>) -> Response {
    answer(&model, &request, false).unwrap_or_else(IntoResponse::into_response)
}

/// `POST /model/{modelId}/converse-stream`.
pub(crate) async fn converse_stream(
    Path(model): Path<String>,
    request: Admitted<Bedrock>,
) -> Response {
    answer(&model, &request, true).unwrap_or_else(IntoResponse::into_response)
}

/// `POST /model/{modelId}/invoke` (an Anthropic model).
pub(crate) async fn invoke(Path(model): Path<String>, request: Admitted<Bedrock>) -> Response {
    with_request_id(invoke::answer(&model, &request, false))
}

/// `POST /model/{modelId}/invoke-with-response-stream` (an Anthropic model).
pub(crate) async fn invoke_stream(
    Path(model): Path<String>,
    request: Admitted<Bedrock>,
) -> Response {
    with_request_id(invoke::answer(&model, &request, true))
}

/// `POST /model/{modelId}/count-tokens`.
pub(crate) async fn count_tokens(
    Path(model): Path<String>,
    request: Admitted<Bedrock>,
) -> Response {
    with_request_id(count::answer(&model, &request.body))
}

fn with_request_id(answer: Result<Response, Error>) -> Response {
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    let id = HeaderValue::from_str(&request_id()).expect("ids are ASCII");
    response.headers_mut().insert("x-amzn-requestid", id);
    response
}

fn answer(model: &str, admitted: &Admitted<Bedrock>, streamed: bool) -> Result<Response, Error> {
    let object = request::parse_object(&admitted.body)?;
    let schema = request::output_schema(&object)?;
    let request = request::read(&object, model, schema.as_ref())?;
    let generation = reply::generate(&request.prompt);
    if let Some(throttled) =
        admitted.over_capacity(Route::Bedrock, model, generation.counts.spent())
    {
        return Ok(throttled);
    }
    let cache = admitted.shared.prompt_cache.lookup(request.prefix);
    let latency = u64::try_from(admitted.received.elapsed().as_millis()).unwrap_or(u64::MAX);
    let head = wire::Head::new(cache, latency);
    let mut response = if streamed {
        let frames = wire::events(head, generation);
        stream::respond(frames, EVENT_STREAM, admitted.delivery())
    } else {
        gate::json_response(wire::whole(&head, &generation), admitted.cut_after)
    };
    let id = HeaderValue::from_str(&request_id()).expect("ids are ASCII");
    response.headers_mut().insert("x-amzn-requestid", id);
    Ok(response)
}

/// A request id, a random UUID as AWS sends in `x-amzn-RequestId`.
fn request_id() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
