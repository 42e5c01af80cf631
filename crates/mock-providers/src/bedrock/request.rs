//! A Converse request checked as Bedrock checks it, read into what the generator
//! needs. The model id comes from the path; the body has `messages`, `system`,
//! `inferenceConfig`, `toolConfig`, `outputConfig` (and other fields, accepted and
//! ignored).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::error::Error;
use crate::cache::Prefix;
use crate::conversation::{self, Flaw, Turn};
use crate::reply::{Output, Prompt};
use crate::tokens;

type Object = Map<String, Value>;

const IMAGE_FORMATS: [&str; 4] = ["png", "jpeg", "gif", "webp"];

/// A checked Converse request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) prompt: Prompt<'a>,
    /// The prompt up to its last `cachePoint`.
    pub(crate) prefix: Prefix,
}

/// The body as a JSON object; what is not JSON is a `SerializationException`.
pub(crate) fn parse_object(body: &[u8]) -> Result<Object, Error> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(Error::new(
            axum::http::StatusCode::BAD_REQUEST,
            "SerializationException",
            "Unable to parse the request body as JSON.",
        )),
    }
}

/// `1 validation error detected: Value … at '<at>' failed to satisfy constraint: …`.
fn constraint(at: &str, value: &str, constraint: &str) -> Error {
    Error::validation(format!(
        "1 validation error detected: Value {value} at '{at}' failed to satisfy constraint: {constraint}"
    ))
}

/// The JSON schema of structured output, `outputConfig.textFormat`: `type`
/// `json_schema` and `structure.jsonSchema.schema`, the schema as a string of JSON
/// (with optional `name` and `description`). Bedrock parses the string and refuses a
/// schema that is not a JSON object.
pub(crate) fn output_schema(object: &Object) -> Result<Option<Value>, Error> {
    const AT: &str = "outputConfig.textFormat";
    let Some(format) = object
        .get("outputConfig")
        .and_then(|c| c.get("textFormat"))
        .filter(|f| !f.is_null())
    else {
        return Ok(None);
    };
    match format.get("type") {
        Some(Value::String(t)) if t == "json_schema" => {}
        None | Some(Value::Null) => {
            return Err(constraint(
                &format!("{AT}.type"),
                "null",
                "Member must not be null",
            ));
        }
        Some(other) => {
            return Err(constraint(
                &format!("{AT}.type"),
                &format!("'{}'", other.as_str().unwrap_or_default()),
                "Member must satisfy enum value set: [json_schema]",
            ));
        }
    }
    let Some(definition) = format
        .get("structure")
        .and_then(|s| s.get("jsonSchema"))
        .filter(|d| !d.is_null())
    else {
        return Err(constraint(
            &format!("{AT}.structure.jsonSchema"),
            "null",
            "Member must not be null",
        ));
    };
    let text = match definition.get("schema") {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => {
            return Err(constraint(
                &format!("{AT}.structure.jsonSchema.schema"),
                "null",
                "Member must not be null",
            ));
        }
        Some(_) => {
            return Err(Error::new(
                axum::http::StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("Expected a string for {AT}.structure.jsonSchema.schema."),
            ));
        }
    };
    match serde_json::from_str(text) {
        Ok(schema @ Value::Object(_)) => Ok(Some(schema)),
        _ => Err(Error::validation(
            "The JSON schema in outputConfig.textFormat is invalid: it must be a JSON object.",
        )),
    }
}

/// Reads a checked request; `schema` is its [`output_schema`].
pub(crate) fn read<'a>(
    object: &'a Object,
    model: &str,
    schema: Option<&'a Value>,
) -> Result<Request<'a>, Error> {
    let messages = match object.get("messages") {
        Some(Value::Array(messages)) => messages,
        _ => return Err(constraint("messages", "null", "Member must not be null")),
    };
    let turns = messages
        .iter()
        .enumerate()
        .map(|(i, message)| turn(i, message))
        .collect::<Result<Vec<_>, _>>()?;
    let tool_config = object.get("toolConfig").filter(|c| !c.is_null());
    let uses_tools = turns
        .iter()
        .any(|t| !t.tool_uses.is_empty() || !t.tool_results.is_empty());
    if uses_tools && tool_config.is_none() {
        return Err(Error::validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    conversation::check(&turns).map_err(refusal)?;
    let system = system(object.get("system"))?;
    let (tools, tools_breakpoint) = tools(tool_config)?;
    let output = match forced_call(tool_config, &tools)? {
        Output::Text => schema.map_or(Output::Text, |s| Output::JsonSchema(Some(s))),
        call => call,
    };
    let inference = object.get("inferenceConfig").and_then(Value::as_object);
    let max_tokens = budget(inference)?;
    let stop = inference
        .and_then(|c| c.get("stopSequences"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();

    let shares: Vec<u32> = turns
        .iter()
        .map(|t| tokens::share(t.texts.iter().copied(), t.others))
        .collect();
    let mut prefix = Prefix::new(model);
    let last_breakpoint = turns.iter().rposition(|t| t.breakpoint.is_some());
    if let Some(config) = tool_config
        && (tools_breakpoint || system.breakpoint || last_breakpoint.is_some())
    {
        prefix.add(config, 0);
    }
    if let Some(value) = object.get("system")
        && (system.breakpoint || last_breakpoint.is_some())
    {
        prefix.add(value, system.share);
    }
    if let Some(last) = last_breakpoint {
        for (message, share) in messages.iter().zip(&shares).take(last + 1) {
            prefix.add(message, *share);
        }
    }
    let last_user = turns
        .into_iter()
        .rev()
        .find(|t| t.role == "user")
        .map(|t| t.texts)
        .unwrap_or_default();
    Ok(Request {
        prompt: Prompt {
            prompt_tokens: tokens::prompt_tokens(system.share + shares.iter().sum::<u32>()),
            cache_keyed: false,
            last_user,
            max_tokens,
            stop,
            thinks: false,
            output,
        },
        prefix,
    })
}

/// Bedrock's words for a flaw in the conversation.
fn refusal(flaw: Flaw<'_>) -> Error {
    match flaw {
        Flaw::Empty | Flaw::FirstNotUser => Error::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ),
        Flaw::SameRole { .. } => Error::validation(
            "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
        ),
        Flaw::Unanswered { index, ids } => Error::validation(format!(
            "Expected toolResult blocks at messages.{index}.content for the following Ids: {}",
            ids.join(", ")
        )),
        Flaw::Stray { index, .. } => Error::validation(format!(
            "The number of toolResult blocks at messages.{index}.content exceeds the number of toolUse blocks of previous turn."
        )),
    }
}

fn turn(i: usize, message: &Value) -> Result<Turn<'_>, Error> {
    let at = format!("messages.{}.member", i + 1);
    let role = match message.get("role").and_then(Value::as_str) {
        Some(role @ ("user" | "assistant")) => role,
        Some(role) => {
            return Err(constraint(
                &format!("{at}.role"),
                &format!("'{role}'"),
                "Member must satisfy enum value set: [user, assistant]",
            ));
        }
        None => {
            return Err(constraint(
                &format!("{at}.role"),
                "null",
                "Member must not be null",
            ));
        }
    };
    let Some(blocks) = message.get("content").and_then(Value::as_array) else {
        return Err(constraint(
            &format!("{at}.content"),
            "null",
            "Member must not be null",
        ));
    };
    let mut turn = Turn {
        role,
        ..Turn::default()
    };
    for block in blocks {
        read_block(block, &mut turn)?;
    }
    Ok(turn)
}

/// One content block: exactly one member (`text`, `image`, `toolUse`, …).
fn read_block<'a>(block: &'a Value, turn: &mut Turn<'a>) -> Result<(), Error> {
    let member = block
        .as_object()
        .filter(|b| b.len() == 1)
        .and_then(|b| b.iter().next());
    let Some((kind, value)) = member else {
        return Err(Error::validation(
            "A content block must have exactly one member set.",
        ));
    };
    match kind.as_str() {
        "text" => turn.texts.push(value.as_str().unwrap_or_default()),
        "cachePoint" => turn.breakpoint = Some(false),
        "image" => {
            image(value)?;
            turn.others += 1;
        }
        "toolUse" => {
            turn.tool_uses.push(id_of(value));
            turn.others += 1;
        }
        "toolResult" => {
            turn.tool_results.push(id_of(value));
            turn.others += 1;
        }
        _ => turn.others += 1,
    }
    Ok(())
}

fn id_of(block: &Value) -> &str {
    block
        .get("toolUseId")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// An image: a known `format`, and `source.bytes` in base64.
fn image(image: &Value) -> Result<(), Error> {
    let format = image.get("format").and_then(Value::as_str);
    if !format.is_some_and(|f| IMAGE_FORMATS.contains(&f)) {
        return Err(Error::validation(
            "The provided image format is not supported. Supported formats: png, jpeg, gif, webp.",
        ));
    }
    let bytes = image.get("source").and_then(|s| s.get("bytes"));
    match bytes.and_then(Value::as_str) {
        Some(data) if STANDARD.decode(data).is_ok() => Ok(()),
        Some(_) => Err(Error::validation(
            "Unable to decode the image bytes: invalid base64.",
        )),
        None if image
            .get("source")
            .and_then(|s| s.get("s3Location"))
            .is_some() =>
        {
            Ok(())
        }
        None => Err(Error::validation(
            "The image source must have bytes or an s3Location.",
        )),
    }
}

/// The `system` blocks: their share of the prompt, and whether one is a `cachePoint`.
struct System {
    share: u32,
    breakpoint: bool,
}

fn system(value: Option<&Value>) -> Result<System, Error> {
    let Some(blocks) = value.filter(|v| !v.is_null()) else {
        return Ok(System {
            share: 0,
            breakpoint: false,
        });
    };
    let Some(blocks) = blocks.as_array() else {
        return Err(Error::validation(
            "The system field must be a list of blocks.",
        ));
    };
    let texts = blocks.iter().filter_map(|b| b.get("text")?.as_str());
    Ok(System {
        share: tokens::share(texts, 0),
        breakpoint: blocks.iter().any(|b| b.get("cachePoint").is_some()),
    })
}

/// A tool's name and input schema.
struct Tool<'a> {
    name: &'a str,
    schema: Option<&'a Value>,
}

/// `toolConfig.tools`: at least one; each a `toolSpec` (or a `cachePoint`).
fn tools(config: Option<&Value>) -> Result<(Vec<Tool<'_>>, bool), Error> {
    let Some(config) = config else {
        return Ok((Vec::new(), false));
    };
    let list = match config.get("tools").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list,
        Some(_) => {
            return Err(constraint(
                "toolConfig.tools",
                "'[]'",
                "Member must have length greater than or equal to 1",
            ));
        }
        None => {
            return Err(constraint(
                "toolConfig.tools",
                "null",
                "Member must not be null",
            ));
        }
    };
    let mut tools = Vec::new();
    let mut breakpoint = false;
    for (i, tool) in list.iter().enumerate() {
        if tool.get("cachePoint").is_some() {
            breakpoint = true;
            continue;
        }
        let Some(spec) = tool.get("toolSpec") else {
            continue;
        };
        let Some(name) = spec.get("name").and_then(Value::as_str) else {
            return Err(constraint(
                &format!("toolConfig.tools.{}.member.toolSpec.name", i + 1),
                "null",
                "Member must not be null",
            ));
        };
        let schema = spec.get("inputSchema").and_then(|s| s.get("json"));
        tools.push(Tool { name, schema });
    }
    Ok((tools, breakpoint))
}

/// The call `toolChoice` forces: `any` the first tool, `tool` the named one.
fn forced_call<'a>(config: Option<&'a Value>, tools: &[Tool<'a>]) -> Result<Output<'a>, Error> {
    let Some(choice) = config.and_then(|c| c.get("toolChoice")) else {
        return Ok(Output::Text);
    };
    let tool = if choice.get("any").is_some() {
        tools.first()
    } else if let Some(named) = choice.get("tool") {
        let name = named
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let found = tools.iter().find(|tool| tool.name == name);
        if found.is_none() {
            return Err(Error::validation(format!(
                "The tool {name} in toolChoice is not defined in toolConfig.tools."
            )));
        }
        found
    } else {
        None
    };
    Ok(tool.map_or(Output::Text, |tool| Output::ToolCall {
        name: tool.name,
        parameters: tool.schema,
    }))
}

/// `inferenceConfig`: `temperature` and `topP` from 0 to 1, and the budget,
/// `maxTokens`, at least 1.
fn budget(inference: Option<&Object>) -> Result<Option<u32>, Error> {
    for field in ["temperature", "topP"] {
        if let Some(value) = inference.and_then(|c| c.get(field))
            && !value.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v))
        {
            return Err(constraint(
                &format!("inferenceConfig.{field}"),
                &format!("'{value}'"),
                "Member must have value less than or equal to 1",
            ));
        }
    }
    let Some(value) = inference.and_then(|c| c.get("maxTokens")) else {
        return Ok(None);
    };
    match value.as_u64() {
        Some(n) if n >= 1 => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
        _ => Err(constraint(
            "inferenceConfig.maxTokens",
            &format!("'{value}'"),
            "Member must have value greater than or equal to 1",
        )),
    }
}
