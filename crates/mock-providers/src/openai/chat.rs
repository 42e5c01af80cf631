//! `POST …/chat/completions`: the request checked as OpenAI checks it, then answered
//! whole or streamed.

use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::azure;
use super::error::ApiError;
use super::request::{self, Object, array_at, bool_at, object_at, positive_at, required, str_at};
use super::stream;
use super::wire::{self, Flavor, Head, StreamOptions};
use crate::gate::{self, Admitted, Provider};
use crate::reply::{self, Output, Prompt, is_reasoning_model};
use crate::tokens;

/// The roles OpenAI accepts, in the order its error message lists them.
const ROLES: [&str; 6] = [
    "system",
    "assistant",
    "user",
    "function",
    "tool",
    "developer",
];

/// The answer to a chat request; `deployment` names the model where the path does
/// (Azure), making `model` optional in the body.
pub(crate) fn respond<P: Provider>(
    flavor: Flavor,
    request: &Admitted<P>,
    deployment: Option<&str>,
) -> Response {
    answer(flavor, request, deployment).unwrap_or_else(IntoResponse::into_response)
}

fn answer<P: Provider>(
    flavor: Flavor,
    request: &Admitted<P>,
    deployment: Option<&str>,
) -> Result<Response, ApiError> {
    let object = request::parse_object(&request.body)?;
    let model = request::model_or(&object, deployment)?;
    let chat = parse(&object, model, flavor)?;
    if flavor == Flavor::Azure && azure::filtered(&object) {
        return Ok(azure::content_filter_error());
    }
    let generation = reply::generate(&chat.prompt);
    let deployment = deployment.unwrap_or(model);
    if let Some(throttled) =
        request.over_capacity(flavor.route(), deployment, generation.counts.spent())
    {
        return Ok(throttled);
    }
    let head = Head::new(model, flavor);
    Ok(match chat.stream {
        Some(options) => stream::respond(head, generation, options, request.delivery()),
        None => gate::json_response(wire::completion(&head, &generation), request.cut_after),
    })
}

/// A checked chat request.
struct Chat<'a> {
    prompt: Prompt<'a>,
    /// `None` for a whole answer.
    stream: Option<StreamOptions>,
}

fn parse<'a>(object: &'a Object, model: &str, flavor: Flavor) -> Result<Chat<'a>, ApiError> {
    let messages = messages(object)?;
    let stream = stream_options(object, flavor)?;
    let max_tokens = max_tokens(object, model, flavor)?;
    let output = output(object, messages.list)?;
    let cache_keyed = str_at(object.get("prompt_cache_key"), "prompt_cache_key")?
        .is_some_and(|key| !key.is_empty());
    Ok(Chat {
        prompt: Prompt {
            prompt_tokens: tokens::prompt_tokens(messages.shares),
            cache_keyed,
            last_user: messages
                .last_user
                .into_iter()
                .flat_map(tokens::text_parts)
                .collect(),
            max_tokens,
            stop: Vec::new(),
            thinks: is_reasoning_model(model),
            output,
        },
        stream,
    })
}

struct Messages<'a> {
    list: &'a [Value],
    /// The messages' shares of `prompt_tokens`.
    shares: u32,
    last_user: Option<&'a Value>,
}

fn messages(object: &Object) -> Result<Messages<'_>, ApiError> {
    let list = required(array_at(object.get("messages"), "messages")?, "messages")?;
    if list.is_empty() {
        return Err(ApiError::invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        )
        .with_param("messages")
        .with_code("empty_array"));
    }
    let mut checked = Messages {
        list,
        shares: 0,
        last_user: None,
    };
    for (i, message) in list.iter().enumerate() {
        let Value::Object(message) = message else {
            return Err(ApiError::wrong_type(
                &format!("messages[{i}]"),
                "an object",
                message,
            ));
        };
        let role = match message.get("role") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing(&format!("messages[{i}].role")));
            }
            Some(Value::String(role)) if ROLES.contains(&role.as_str()) => role,
            Some(Value::String(role)) => {
                return Err(ApiError::unsupported_value(
                    &format!("messages[{i}].role"),
                    role,
                    &ROLES,
                ));
            }
            Some(other) => {
                return Err(ApiError::wrong_type(
                    &format!("messages[{i}].role"),
                    "a string",
                    other,
                ));
            }
        };
        let content = match message.get("content") {
            None | Some(Value::Null) => None,
            Some(content @ (Value::String(_) | Value::Array(_))) => Some(content),
            Some(other) => {
                return Err(ApiError::wrong_type(
                    &format!("messages[{i}].content"),
                    "one of a string or array of objects",
                    other,
                ));
            }
        };
        if role == "user" {
            if content.is_none() {
                return Err(ApiError::missing(&format!("messages[{i}].content")));
            }
            checked.last_user = content;
        }
        checked.shares += tokens::message_tokens(content);
    }
    Ok(checked)
}

/// `None` without `stream: true`; `stream_options` without it is refused.
fn stream_options(object: &Object, flavor: Flavor) -> Result<Option<StreamOptions>, ApiError> {
    let stream = bool_at(object.get("stream"), "stream")?.unwrap_or(false);
    let options = object_at(object.get("stream_options"), "stream_options")?;
    if !stream {
        return match options {
            None => Ok(None),
            Some(_) => Err(ApiError::invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            )
            .with_param("stream_options")),
        };
    }
    let option = |key: &str| match options {
        Some(options) => bool_at(options.get(key), &format!("stream_options.{key}")),
        None => Ok(None),
    };
    Ok(Some(StreamOptions {
        include_usage: option("include_usage")?.unwrap_or(false),
        obfuscate: flavor.obfuscates() && option("include_obfuscation")?.unwrap_or(true),
    }))
}

/// The completion budget. OpenAI's reasoning models refuse the older `max_tokens`.
fn max_tokens(object: &Object, model: &str, flavor: Flavor) -> Result<Option<u32>, ApiError> {
    let legacy = positive_at(object.get("max_tokens"), "max_tokens")?;
    if legacy.is_some() && flavor == Flavor::OpenAi && is_reasoning_model(model) {
        return Err(ApiError::invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        )
        .with_param("max_tokens")
        .with_code("unsupported_parameter"));
    }
    Ok(positive_at(object.get("max_completion_tokens"), "max_completion_tokens")?.or(legacy))
}

/// A forced tool call wins over `response_format`.
fn output<'a>(object: &'a Object, messages: &'a [Value]) -> Result<Output<'a>, ApiError> {
    if let Some(call) = forced_tool_call(object)? {
        return Ok(call);
    }
    let Some(format) = object_at(object.get("response_format"), "response_format")? else {
        return Ok(Output::Text);
    };
    let kind = required(
        str_at(format.get("type"), "response_format.type")?,
        "response_format.type",
    )?;
    match kind {
        "text" => Ok(Output::Text),
        "json_object" if mentions_json(messages) => Ok(Output::JsonObject),
        "json_object" => Err(ApiError::invalid(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        )
        .with_param("messages")),
        "json_schema" => {
            let param = "response_format.json_schema";
            let spec = required(object_at(format.get("json_schema"), param)?, param)?;
            let param = "response_format.json_schema.name";
            required(str_at(spec.get("name"), param)?, param)?;
            Ok(Output::JsonSchema(spec.get("schema")))
        }
        other => Err(ApiError::unsupported_value(
            "response_format.type",
            other,
            &["text", "json_object", "json_schema"],
        )),
    }
}

fn mentions_json(messages: &[Value]) -> bool {
    messages
        .iter()
        .filter_map(|m| m.get("content"))
        .flat_map(tokens::text_parts)
        .any(|text| {
            text.as_bytes()
                .windows(4)
                .any(|w| w.eq_ignore_ascii_case(b"json"))
        })
}

/// The tool call that `tool_choice` forces (`"required"`: the first function; an
/// object: the named one), or `None` when the model may answer in text.
fn forced_tool_call(object: &Object) -> Result<Option<Output<'_>>, ApiError> {
    let tools = array_at(object.get("tools"), "tools")?.unwrap_or_default();
    let functions = tools
        .iter()
        .enumerate()
        .map(|(i, tool)| function(i, tool))
        .collect::<Result<Vec<_>, _>>()?;
    let choice = match object.get("tool_choice") {
        None | Some(Value::Null) => return Ok(None),
        Some(_) if tools.is_empty() => {
            return Err(ApiError::invalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            )
            .with_param("tool_choice"));
        }
        Some(choice) => choice,
    };
    let name = match choice {
        Value::String(mode) => match mode.as_str() {
            "none" | "auto" => return Ok(None),
            "required" => None,
            other => {
                return Err(ApiError::unsupported_value(
                    "tool_choice",
                    other,
                    &["none", "auto", "required"],
                ));
            }
        },
        Value::Object(choice) if choice.get("type").and_then(Value::as_str) == Some("function") => {
            let name = choice.get("function").and_then(|f| f.get("name"));
            let param = "tool_choice.function.name";
            Some(required(str_at(name, param)?, param)?)
        }
        // Other kinds of choice (allowed tools, custom tools) leave the model free.
        Value::Object(_) => return Ok(None),
        other => {
            return Err(ApiError::wrong_type(
                "tool_choice",
                "a string or an object",
                other,
            ));
        }
    };
    let mut candidates = functions.into_iter().flatten();
    let found = match name {
        None => candidates.next(),
        Some(name) => candidates.find(|(candidate, _)| *candidate == name),
    };
    match (found, name) {
        (Some((name, parameters)), _) => Ok(Some(Output::ToolCall { name, parameters })),
        (None, Some(name)) => Err(ApiError::invalid(format!(
            "Invalid value for 'tool_choice': function '{name}' not found in 'tools'."
        ))
        .with_param("tool_choice")),
        // "required" with only non-function tools: nothing the mock can call.
        (None, None) => Ok(None),
    }
}

/// A function tool's name and parameter schema; `None` for other kinds of tool.
fn function(i: usize, tool: &Value) -> Result<Option<(&str, Option<&Value>)>, ApiError> {
    let Value::Object(tool) = tool else {
        return Err(ApiError::wrong_type(
            &format!("tools[{i}]"),
            "an object",
            tool,
        ));
    };
    let param = format!("tools[{i}].type");
    if required(str_at(tool.get("type"), &param)?, &param)? != "function" {
        return Ok(None);
    }
    let param = format!("tools[{i}].function");
    let function = required(object_at(tool.get("function"), &param)?, &param)?;
    let param = format!("tools[{i}].function.name");
    let name = required(str_at(function.get("name"), &param)?, &param)?;
    Ok(Some((
        name,
        function.get("parameters").filter(|p| !p.is_null()),
    )))
}
