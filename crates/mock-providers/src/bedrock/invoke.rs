//! Bedrock's InvokeModel for Anthropic's models, `POST /model/{modelId}/invoke` and
//! `/model/{modelId}/invoke-with-response-stream`: the Messages API's body without
//! `model` (the path names it) or `stream`, with `anthropic_version`
//! `bedrock-2023-05-31` (and `anthropic_beta`, the betas Anthropic takes as a
//! header), checked as Anthropic checks it; the answer is Anthropic's `message`, or each of its stream events, base64, as
//! the `bytes` of an event-stream `chunk`. Refusals are Bedrock's
//! `ValidationException`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::error::Error;
use super::request::parse_object;
use crate::anthropic::{request, wire};
use crate::capacity::Route;
use crate::gate::{self, Admitted};
use crate::reply;
use crate::stream::{self, Frame};

/// The version Bedrock requires of an Anthropic body.
const VERSION: &str = "bedrock-2023-05-31";

type Object = Map<String, Value>;

pub(crate) fn answer(
    model: &str,
    admitted: &Admitted<super::Bedrock>,
    streamed: bool,
) -> Result<axum::response::Response, Error> {
    let object = messages_body(model, parse_object(&admitted.body)?)?;
    let request = request::read(&object).map_err(|e| Error::validation(e.message()))?;
    let generation = reply::generate(&request.prompt);
    if let Some(throttled) =
        admitted.over_capacity(Route::Bedrock, model, generation.counts.spent())
    {
        return Ok(throttled);
    }
    let cache = admitted.shared.prompt_cache.lookup(request.prefix);
    let head = wire::Head::new(model, cache, request.long_ttl);
    Ok(if streamed {
        let frames = wire::events(head, generation).map(chunk);
        stream::respond(frames, super::EVENT_STREAM, admitted.delivery())
    } else {
        gate::json_response(wire::message(&head, &generation), admitted.cut_after)
    })
}

/// An InvokeModel body checked as Bedrock checks it, as the Messages request it
/// carries (with `model`, as Anthropic's checks read it).
pub(crate) fn messages_body(model: &str, mut object: Object) -> Result<Object, Error> {
    if let Some(extra) = ["model", "stream"]
        .iter()
        .find(|k| object.contains_key(**k))
    {
        return Err(Error::validation(format!(
            "Malformed input request: #: extraneous key [{extra}] is not permitted, please reformat your input and try again."
        )));
    }
    match object.remove("anthropic_version") {
        Some(Value::String(v)) if v == VERSION => {}
        _ => {
            return Err(Error::validation(
                "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.",
            ));
        }
    }
    let betas = object.remove("anthropic_beta").unwrap_or_default();
    let betas: Vec<&str> = betas
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(field) = crate::anthropic::missing_beta(&object, &betas) {
        return Err(Error::validation(format!(
            "{field}: Extra inputs are not permitted"
        )));
    }
    object.insert("model".into(), json!(model));
    Ok(object)
}

/// An Anthropic SSE event as the event-stream `chunk` that carries it.
fn chunk(frame: Frame) -> Frame {
    let text = String::from_utf8_lossy(&frame.bytes);
    let data = text
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or("{}");
    let payload = json!({ "bytes": STANDARD.encode(data) });
    Frame {
        bytes: super::wire::event("chunk", payload).into(),
        ..frame
    }
}
