//! Bedrock's CountTokens, `POST /model/{modelId}/count-tokens`: `{"input": {...}}`
//! holding one member of the union, `invokeModel` (`{"body": "<the InvokeModel body,
//! base64>"}`, checked as InvokeModel checks it) or `converse` (`{"messages",
//! "system"}`, checked as Converse checks them); the answer is `{"inputTokens": N}`,
//! the prompt's tokens as the same request's usage reports them. Not counted against
//! capacity, and nothing is generated.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::error::Error;
use super::{invoke, request};
use crate::anthropic;

pub(crate) fn answer(model: &str, body: &[u8]) -> Result<axum::response::Response, Error> {
    let mut object = request::parse_object(body)?;
    let input = match object.remove("input") {
        Some(Value::Object(input)) => input,
        _ => {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    if input.len() != 1 {
        return Err(Error::validation(
            "Exactly one of invokeModel or converse must be set in input.",
        ));
    }
    let tokens = match input.into_iter().next() {
        Some((kind, Value::Object(member))) if kind == "invokeModel" => {
            invoke_tokens(model, member)?
        }
        Some((kind, Value::Object(member))) if kind == "converse" => {
            converse_tokens(model, member)?
        }
        Some((kind, _)) => {
            return Err(Error::validation(format!(
                "Unknown member of input: {kind}"
            )));
        }
        None => unreachable!("one member"),
    };
    let body = json!({ "inputTokens": tokens }).to_string();
    Ok(crate::gate::json_response(body.into_bytes(), None))
}

fn invoke_tokens(model: &str, member: Map<String, Value>) -> Result<u32, Error> {
    let decoded = member
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or_else(|| {
            Error::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                "invokeModel.body must be a base64-encoded blob.",
            )
        })?;
    let object = invoke::messages_body(model, request::parse_object(&decoded)?)?;
    let request = anthropic::request::read(&object).map_err(|e| Error::validation(e.message()))?;
    Ok(request.prompt.prompt_tokens)
}

fn converse_tokens(model: &str, member: Map<String, Value>) -> Result<u32, Error> {
    if let Some(extra) = member
        .keys()
        .find(|k| !["messages", "system"].contains(&k.as_str()))
    {
        return Err(Error::validation(format!(
            "Unknown member of converse: {extra}"
        )));
    }
    let request = request::read(&member, model, None)?;
    Ok(request.prompt.prompt_tokens)
}
