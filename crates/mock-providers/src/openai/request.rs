//! Reading a JSON request body the way OpenAI's validator does: the checks that chat
//! and embeddings share.

use serde_json::{Map, Value, error::Category};

use super::error::ApiError;

pub(crate) type Object = Map<String, Value>;

const UNPARSABLE: &str = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

/// OpenRouter's members, which OpenAI does not know: the `usage` switch and the
/// routing controls.
const OPENROUTER_ARGUMENTS: [&str; 3] = ["usage", "models", "provider"];

/// The body as a JSON object, refusing what OpenAI refuses before looking at any
/// parameter: bytes that are not JSON, JSON that is not an object, and the
/// OpenRouter-style members (arguments OpenAI does not know).
pub(crate) fn parse_object(body: &[u8]) -> Result<Object, ApiError> {
    let object: Object = serde_json::from_slice(body).map_err(|e| match e.classify() {
        Category::Data => ApiError::invalid("Invalid type for body: expected an object.")
            .with_code("invalid_type"),
        Category::Io | Category::Syntax | Category::Eof => ApiError::invalid(UNPARSABLE),
    })?;
    if let Some(name) = OPENROUTER_ARGUMENTS
        .iter()
        .find(|a| object.contains_key(**a))
    {
        return Err(ApiError::invalid(format!(
            "Unrecognized request argument supplied: {name}"
        )));
    }
    Ok(object)
}

/// The `model` string. Where a deployment in the path names the model (Azure), it may
/// be left out and the deployment's name stands in for it.
pub(crate) fn model_or<'a>(
    object: &'a Object,
    deployment: Option<&'a str>,
) -> Result<&'a str, ApiError> {
    let model = match object.get("model") {
        Some(Value::String(model)) if !model.is_empty() => Some(model.as_str()),
        None | Some(Value::Null) | Some(Value::String(_)) => None,
        Some(other) => return Err(ApiError::wrong_type("model", "a string", other)),
    };
    model
        .or(deployment)
        .ok_or_else(|| ApiError::invalid("you must provide a model parameter"))
}

/// A parameter that must be there.
pub(crate) fn required<T>(found: Option<T>, param: &str) -> Result<T, ApiError> {
    found.ok_or_else(|| ApiError::missing(param))
}

/// An optional object; `null` is absent.
pub(crate) fn object_at<'a>(
    value: Option<&'a Value>,
    param: &str,
) -> Result<Option<&'a Object>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(other) => Err(ApiError::wrong_type(param, "an object", other)),
    }
}

/// An optional array; `null` is absent.
pub(crate) fn array_at<'a>(
    value: Option<&'a Value>,
    param: &str,
) -> Result<Option<&'a [Value]>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(ApiError::wrong_type(param, "an array", other)),
    }
}

/// An optional boolean; `null` is absent.
pub(crate) fn bool_at(value: Option<&Value>, param: &str) -> Result<Option<bool>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::wrong_type(param, "a boolean", other)),
    }
}

/// An optional string; `null` is absent.
pub(crate) fn str_at<'a>(
    value: Option<&'a Value>,
    param: &str,
) -> Result<Option<&'a str>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::wrong_type(param, "a string", other)),
    }
}

/// An optional integer of at least 1; `null` is absent. Values beyond `u32` saturate.
pub(crate) fn positive_at(value: Option<&Value>, param: &str) -> Result<Option<u32>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => match n.as_u64() {
            Some(0) => Err(ApiError::below_minimum(param, 1, v)),
            Some(n) => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
            None if n.is_i64() => Err(ApiError::below_minimum(param, 1, v)),
            None => Err(ApiError::wrong_type(param, "an integer", v)),
        },
        Some(other) => Err(ApiError::wrong_type(param, "an integer", other)),
    }
}
