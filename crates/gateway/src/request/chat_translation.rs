//! What the translations of another ingress API into a chat request share
//! ([`crate::responses`], [`crate::messages`]): refusals that name members and types,
//! never values, and the finished chat body.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::body::ClientBody;
use crate::error::ApiError;

/// The 400 for `what`, which has no chat form; `api` is the API the client spoke.
pub fn untranslatable(what: &str, api: &str) -> ApiError {
    ApiError::unsupported(format!(
        "{what} cannot be translated for this model: its deployment takes chat requests, not {api}."
    ))
}

pub fn invalid(path: &str, expected: &str) -> ApiError {
    ApiError::invalid_request(format!("`{path}` must be {expected}."))
}

pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| invalid(path, "a string"))
}

/// The chat request: `chat`'s members and the `messages`.
pub fn chat_body(
    mut chat: Map<String, Value>,
    messages: Vec<Value>,
) -> Result<ClientBody, ApiError> {
    chat.insert("messages".into(), Value::Array(messages));
    let bytes = serde_json::to_vec(&chat).map_err(|_| ApiError::internal())?;
    ClientBody::parse(Bytes::from(bytes))
}
