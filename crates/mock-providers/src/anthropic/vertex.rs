//! Claude on Vertex AI: `POST /v1/projects/{project}/locations/{location}/publishers/
//! anthropic/models/{model}:rawPredict` and `:streamRawPredict` take the Messages
//! body without `model` (the path names it) and with `anthropic_version:
//! vertex-2023-10-16`; `…/models/count-tokens:rawPredict` takes it with `model`.
//! Credentials are Vertex's (an OAuth bearer token, else 401 `UNAUTHENTICATED` in
//! Google's shape, as are injected faults); betas come as the `anthropic-beta`
//! header; what Claude refuses is in Anthropic's shape, as on Anthropic's API.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::Error;
use super::{answer_object, betas, missing_beta, request};
use crate::capacity::Route;
use crate::gate::{self, Admitted};
use crate::google::Vertex;

/// The version Vertex requires of an Anthropic body.
const VERSION: &str = "vertex-2023-10-16";

/// `POST …/publishers/anthropic/models/{model}:{rawPredict|streamRawPredict}` and
/// `…/models/count-tokens:rawPredict` (and the same under `/v1beta1`).
pub(crate) async fn raw_predict(
    Path((_project, _location, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    admitted: Admitted<Vertex>,
) -> Response {
    answer(&action, &headers, &admitted).unwrap_or_else(IntoResponse::into_response)
}

fn answer(
    action: &str,
    headers: &HeaderMap,
    admitted: &Admitted<Vertex>,
) -> Result<Response, Error> {
    let (model, specifier) = action
        .rsplit_once(':')
        .filter(|(_, s)| matches!(*s, "rawPredict" | "streamRawPredict"))
        .ok_or_else(|| {
            Error::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found_error",
                "Unknown method; Claude on Vertex takes rawPredict and streamRawPredict.",
            )
        })?;
    let mut object = request::parse_object(&admitted.body)?;
    match object.remove("anthropic_version") {
        Some(Value::String(v)) if v == VERSION => {}
        Some(_) => {
            return Err(Error::invalid(format!(
                "anthropic_version: Input should be '{VERSION}'"
            )));
        }
        None => return Err(Error::invalid("anthropic_version: Field required")),
    }
    if let Some(field) = missing_beta(&object, &betas(headers)) {
        return Err(Error::invalid(format!(
            "{field}: Extra inputs are not permitted"
        )));
    }
    if model == "count-tokens" {
        if specifier != "rawPredict" {
            return Err(Error::invalid("count-tokens takes rawPredict only"));
        }
        let input_tokens = request::count(&object)?;
        let body = json!({ "input_tokens": input_tokens }).to_string();
        return Ok(gate::json_response(body.into_bytes(), None));
    }
    if object.contains_key("model") {
        return Err(Error::invalid("model: Extra inputs are not permitted"));
    }
    object.insert("model".into(), json!(model));
    answer_object(&object, Route::Vertex, admitted)
}
