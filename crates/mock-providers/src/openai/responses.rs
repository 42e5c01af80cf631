//! `POST /v1/responses` (OpenAI's Responses API; Azure's `/openai/v1/responses`): the
//! request checked as OpenAI checks it (unknown parameters, input items and their
//! pairing, `max_output_tokens` of at least 16, reasoning options on models that do
//! not reason), then answered whole or streamed ([`super::responses_wire`]). The mock
//! stores nothing: a `previous_response_id` or an `item_reference` names something it
//! cannot find, as OpenAI answers for a response made with `store: false`.

use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::request::{self, Object, array_at, bool_at, object_at, required, str_at};
use super::responses_wire::{self, Answer, Echo};
use crate::capacity::Route;
use crate::gate::{self, Admitted, Provider};
use crate::reply::{self, Output, Prompt, is_reasoning_model};
use crate::tokens;

/// The request parameters the Responses API knows.
const PARAMETERS: &[&str] = &[
    "background",
    "conversation",
    "include",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "metadata",
    "model",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "user",
];

const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

const ITEM_TYPES: [&str; 5] = [
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "item_reference",
];

const PART_TYPES: [&str; 5] = [
    "input_text",
    "input_image",
    "input_file",
    "output_text",
    "refusal",
];

/// The answer to a Responses request; `route` keys its capacity (OpenAI or Azure).
pub(crate) fn respond<P: Provider>(route: Route, request: &Admitted<P>) -> Response {
    answer(route, request).unwrap_or_else(IntoResponse::into_response)
}

fn answer<P: Provider>(route: Route, request: &Admitted<P>) -> Result<Response, ApiError> {
    let object = request::parse_object(&request.body)?;
    if let Some(unknown) = object.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(
            ApiError::invalid(format!("Unknown parameter: '{unknown}'."))
                .with_param(unknown.clone())
                .with_code("unknown_parameter"),
        );
    }
    let model = request::model_or(&object, None)?;
    if let Some(id) = str_at(object.get("previous_response_id"), "previous_response_id")? {
        return Err(
            ApiError::invalid(format!("Previous response with id '{id}' not found."))
                .with_param("previous_response_id")
                .with_code("previous_response_not_found"),
        );
    }
    let thinks = is_reasoning_model(model);
    let input = read_input(&object)?;
    let instructions = str_at(object.get("instructions"), "instructions")?;
    let max_tokens = max_output_tokens(&object)?;
    let shows_summary = reasoning_options(&object, thinks)?;
    let output = output(&object, &input)?;
    let stream = bool_at(object.get("stream"), "stream")?.unwrap_or(false);
    let cache_keyed = str_at(object.get("prompt_cache_key"), "prompt_cache_key")?
        .is_some_and(|key| !key.is_empty());
    let instruction_share = instructions.map_or(0, |text| tokens::share([text], 0));
    let prompt = Prompt {
        prompt_tokens: tokens::prompt_tokens(input.shares + instruction_share),
        cache_keyed,
        last_user: input.last_user,
        max_tokens,
        stop: Vec::new(),
        thinks,
        output,
    };
    let generation = reply::generate(&prompt);
    if let Some(throttled) = request.over_capacity(route, model, generation.counts.spent()) {
        return Ok(throttled);
    }
    let answer = Answer::new(model, generation, shows_summary, Echo::of(&object));
    Ok(if stream {
        responses_wire::stream(answer, request.delivery())
    } else {
        gate::json_response(answer.whole(), request.cut_after)
    })
}

/// What the mock needs of `input`.
struct Input<'a> {
    /// The items' shares of the prompt's tokens.
    shares: u32,
    /// The text parts of the last user message.
    last_user: Vec<&'a str>,
    /// Whether any text mentions JSON (for `text.format` `json_object`).
    mentions_json: bool,
}

fn read_input(object: &Object) -> Result<Input<'_>, ApiError> {
    let mut input = Input {
        shares: 0,
        last_user: Vec::new(),
        mentions_json: false,
    };
    let items = match object.get("input") {
        None | Some(Value::Null) => return Ok(input),
        Some(Value::String(text)) => {
            input.shares = tokens::share([text.as_str()], 0);
            input.last_user = vec![text.as_str()];
            input.mentions_json = mentions_json(text);
            return Ok(input);
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::wrong_type(
                "input",
                "a string or array of objects",
                other,
            ));
        }
    };
    let mut calls: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let Value::Object(item) = item else {
            return Err(ApiError::wrong_type(&at, "an object", item));
        };
        let kind = str_at(item.get("type"), &format!("{at}.type"))?.unwrap_or("message");
        let text = |field: &str| -> Result<&str, ApiError> {
            let param = format!("{at}.{field}");
            required(str_at(item.get(field), &param)?, &param)
        };
        match kind {
            "message" => {
                let (texts, non_text) = read_message(item, &at)?;
                input.mentions_json |= texts.iter().any(|t| mentions_json(t));
                input.shares += tokens::share(texts.iter().copied(), non_text);
                if item.get("role").and_then(Value::as_str) == Some("user") {
                    input.last_user = texts;
                }
            }
            "function_call" => {
                calls.push(text("call_id")?);
                text("name")?;
                input.shares += tokens::share([text("arguments")?], 0);
            }
            "function_call_output" => {
                let call_id = text("call_id")?;
                if !calls.contains(&call_id) {
                    return Err(ApiError::invalid(format!(
                        "No tool call found for function call output with call_id {call_id}."
                    ))
                    .with_param("input"));
                }
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.as_str(),
                    Some(Value::Array(_)) => "",
                    _ => return Err(ApiError::missing(&format!("{at}.output"))),
                };
                input.shares += tokens::share([output], 0);
            }
            "reasoning" => {}
            "item_reference" => {
                let id = text("id")?;
                return Err(ApiError::invalid(format!("Item with id '{id}' not found."))
                    .with_param("input"));
            }
            other => {
                return Err(ApiError::unsupported_value(
                    &format!("{at}.type"),
                    other,
                    &ITEM_TYPES,
                ));
            }
        }
    }
    Ok(input)
}

/// A message item's texts and how many parts are not text.
fn read_message<'a>(item: &'a Object, at: &str) -> Result<(Vec<&'a str>, usize), ApiError> {
    let param = format!("{at}.role");
    let role = required(str_at(item.get("role"), &param)?, &param)?;
    if !ROLES.contains(&role) {
        return Err(ApiError::unsupported_value(&param, role, &ROLES));
    }
    let param = format!("{at}.content");
    let parts = match item.get("content") {
        Some(Value::String(text)) => return Ok((vec![text.as_str()], 0)),
        Some(Value::Array(parts)) => parts,
        None | Some(Value::Null) => return Err(ApiError::missing(&param)),
        Some(other) => {
            return Err(ApiError::wrong_type(
                &param,
                "one of a string or array of objects",
                other,
            ));
        }
    };
    let mut texts = Vec::new();
    let mut non_text = 0;
    for (j, part) in parts.iter().enumerate() {
        let param = format!("{at}.content[{j}].type");
        let kind = required(str_at(part.get("type"), &param)?, &param)?;
        match kind {
            "input_text" | "output_text" => {
                let param = format!("{at}.content[{j}].text");
                texts.push(required(str_at(part.get("text"), &param)?, &param)?);
            }
            "refusal" => {}
            "input_image" | "input_file" => non_text += 1,
            other => return Err(ApiError::unsupported_value(&param, other, &PART_TYPES)),
        }
    }
    Ok((texts, non_text))
}

fn mentions_json(text: &str) -> bool {
    text.as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"json"))
}

/// `max_output_tokens`: at least 16, as OpenAI requires.
fn max_output_tokens(object: &Object) -> Result<Option<u32>, ApiError> {
    let param = "max_output_tokens";
    match object.get(param) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => match n.as_u64() {
            Some(n) if n >= 16 => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
            Some(_) => Err(ApiError::below_minimum(param, 16, v)),
            None if n.is_i64() => Err(ApiError::below_minimum(param, 16, v)),
            None => Err(ApiError::wrong_type(param, "an integer", v)),
        },
        Some(other) => Err(ApiError::wrong_type(param, "an integer", other)),
    }
}

/// `reasoning` (only reasoning models take its options) and `temperature` (reasoning
/// models refuse it). Returns whether a reasoning summary is asked for.
fn reasoning_options(object: &Object, thinks: bool) -> Result<bool, ApiError> {
    let unsupported = |param: &str| {
        ApiError::invalid(format!(
            "Unsupported parameter: '{param}' is not supported with this model."
        ))
        .with_param(param)
        .with_code("unsupported_parameter")
    };
    if thinks && object.get("temperature").is_some_and(|t| !t.is_null()) {
        return Err(unsupported("temperature"));
    }
    let Some(reasoning) = object_at(object.get("reasoning"), "reasoning")? else {
        return Ok(false);
    };
    let effort = str_at(reasoning.get("effort"), "reasoning.effort")?;
    if let Some(effort) = effort {
        const EFFORTS: [&str; 5] = ["none", "minimal", "low", "medium", "high"];
        if !EFFORTS.contains(&effort) {
            return Err(ApiError::unsupported_value(
                "reasoning.effort",
                effort,
                &EFFORTS,
            ));
        }
        if !thinks {
            return Err(unsupported("reasoning.effort"));
        }
    }
    let summary = str_at(reasoning.get("summary"), "reasoning.summary")?;
    if let Some(summary) = summary {
        const SUMMARIES: [&str; 3] = ["auto", "concise", "detailed"];
        if !SUMMARIES.contains(&summary) {
            return Err(ApiError::unsupported_value(
                "reasoning.summary",
                summary,
                &SUMMARIES,
            ));
        }
    }
    Ok(thinks && summary.is_some())
}

/// A forced function call wins over `text.format`.
fn output<'a>(object: &'a Object, input: &Input<'_>) -> Result<Output<'a>, ApiError> {
    if let Some(call) = forced_call(object)? {
        return Ok(call);
    }
    let text = object_at(object.get("text"), "text")?;
    let Some(format) = text
        .map(|t| object_at(t.get("format"), "text.format"))
        .transpose()?
    else {
        return Ok(Output::Text);
    };
    let Some(format) = format else {
        return Ok(Output::Text);
    };
    let kind = required(
        str_at(format.get("type"), "text.format.type")?,
        "text.format.type",
    )?;
    match kind {
        "text" => Ok(Output::Text),
        "json_object" if input.mentions_json => Ok(Output::JsonObject),
        "json_object" => Err(ApiError::invalid(
            "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.",
        )
        .with_param("input")),
        "json_schema" => {
            required(str_at(format.get("name"), "text.format.name")?, "text.format.name")?;
            required(
                object_at(format.get("schema"), "text.format.schema")?,
                "text.format.schema",
            )?;
            Ok(Output::JsonSchema(format.get("schema")))
        }
        other => Err(ApiError::unsupported_value(
            "text.format.type",
            other,
            &["text", "json_schema", "json_object"],
        )),
    }
}

/// The function call `tool_choice` forces: `"required"` the first function tool, an
/// object `{"type": "function", "name"}` the named one.
fn forced_call(object: &Object) -> Result<Option<Output<'_>>, ApiError> {
    let tools = array_at(object.get("tools"), "tools")?.unwrap_or_default();
    let mut functions = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        let Value::Object(tool) = tool else {
            return Err(ApiError::wrong_type(
                &format!("tools[{i}]"),
                "an object",
                tool,
            ));
        };
        let param = format!("tools[{i}].type");
        if required(str_at(tool.get("type"), &param)?, &param)? != "function" {
            continue;
        }
        let param = format!("tools[{i}].name");
        let name = required(str_at(tool.get("name"), &param)?, &param)?;
        functions.push((name, tool.get("parameters").filter(|p| !p.is_null())));
    }
    let name = match object.get("tool_choice") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(mode)) => match mode.as_str() {
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
        Some(Value::Object(choice))
            if choice.get("type").and_then(Value::as_str) == Some("function") =>
        {
            let param = "tool_choice.name";
            Some(required(str_at(choice.get("name"), param)?, param)?)
        }
        Some(Value::Object(_)) => return Ok(None),
        Some(other) => {
            return Err(ApiError::wrong_type(
                "tool_choice",
                "a string or an object",
                other,
            ));
        }
    };
    let found = match name {
        None => functions.first().copied(),
        Some(name) => functions.iter().find(|(n, _)| *n == name).copied(),
    };
    match (found, name) {
        (Some((name, parameters)), _) => Ok(Some(Output::ToolCall { name, parameters })),
        (None, Some(name)) => Err(ApiError::invalid(format!(
            "Tool choice '{name}' not found in 'tools' parameter."
        ))
        .with_param("tool_choice")),
        (None, None) => Ok(None),
    }
}
