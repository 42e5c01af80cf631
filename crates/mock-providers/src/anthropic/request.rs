//! A Messages request checked as Anthropic checks it (unknown fields are refused, as
//! its validator does), read into what the generator needs.

use serde_json::{Map, Value};

use super::content::{self, Conversation};
use super::error::Error;
use crate::cache::Prefix;
use crate::reply::{Output, Prompt};
use crate::tokens;

type Object = Map<String, Value>;

/// The request fields the Messages API knows.
const FIELDS: [&str; 22] = [
    "model",
    "cache_control",
    "inference_geo",
    "speed",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
    "output_config",
    "output_format",
];

/// The request fields `count_tokens` knows (no `max_tokens`, sampling or `stream`).
const COUNT_FIELDS: [&str; 12] = [
    "model",
    "cache_control",
    "speed",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
    "context_management",
    "output_config",
    "output_format",
];

/// Least `thinking.budget_tokens` Anthropic takes.
const MIN_THINKING_BUDGET: u64 = 1024;

/// A checked Messages request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) model: &'a str,
    pub(crate) stream: bool,
    pub(crate) prompt: Prompt<'a>,
    /// The prompt up to its last cache breakpoint.
    pub(crate) prefix: Prefix,
    /// Whether that breakpoint asked for a one-hour cache.
    pub(crate) long_ttl: bool,
}

/// The body as a JSON object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Object, Error> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::invalid("Input should be a valid dictionary")),
        Err(_) => Err(Error::invalid("The request body is not valid JSON.")),
    }
}

pub(crate) fn read(object: &Object) -> Result<Request<'_>, Error> {
    known_fields(object, &FIELDS)?;
    let model = model(object)?;
    let max_tokens = max_tokens(object.get("max_tokens"))?;
    let messages = messages(object)?;
    let mut conversation = content::read(messages)?;
    // Automatic caching: a top-level `cache_control` puts the breakpoint on the last
    // message.
    if let Some(control) = object.get("cache_control").filter(|c| c.is_object()) {
        let long_ttl = control.get("ttl").and_then(Value::as_str) == Some("1h");
        conversation.breakpoint = Some((messages.len().saturating_sub(1), long_ttl));
    }
    let system = system(object.get("system"))?;
    let tools = tools(object.get("tools"))?;
    let output = output(object, &tools)?;
    let thinks = thinking(object.get("thinking"), Some(max_tokens))?;
    temperature(object.get("temperature"))?;
    let stop = stop_sequences(object.get("stop_sequences"))?;
    let stream = match object.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(_) => return Err(Error::invalid("stream: Input should be a valid boolean")),
    };

    let shares = system.map_or(0, |s| s.share) + conversation.shares.iter().sum::<u32>();
    let (prefix, long_ttl) = prefix(model, object, &tools, system, messages, &conversation);
    let Conversation { last_user, .. } = conversation;
    Ok(Request {
        model,
        stream,
        prompt: Prompt {
            prompt_tokens: tokens::prompt_tokens(shares),
            cache_keyed: false,
            last_user,
            max_tokens: Some(max_tokens),
            stop,
            thinks,
            output,
        },
        prefix,
        long_ttl,
    })
}

/// A `count_tokens` request checked as Anthropic checks it: the prompt's tokens, as
/// the same prompt sent to `/v1/messages` reports them in its usage.
pub(crate) fn count(object: &Object) -> Result<u32, Error> {
    known_fields(object, &COUNT_FIELDS)?;
    model(object)?;
    let conversation = content::read(messages(object)?)?;
    let system = system(object.get("system"))?;
    let tools = tools(object.get("tools"))?;
    output(object, &tools)?;
    thinking(object.get("thinking"), None)?;
    let shares = system.map_or(0, |s| s.share) + conversation.shares.iter().sum::<u32>();
    Ok(tokens::prompt_tokens(shares))
}

fn known_fields(object: &Object, fields: &[&str]) -> Result<(), Error> {
    match object.keys().find(|key| !fields.contains(&key.as_str())) {
        Some(unknown) => Err(Error::invalid(format!(
            "{unknown}: Extra inputs are not permitted"
        ))),
        None => Ok(()),
    }
}

fn model(object: &Object) -> Result<&str, Error> {
    match object.get("model") {
        Some(Value::String(model)) if !model.is_empty() => Ok(model.as_str()),
        Some(_) => Err(Error::invalid("model: Input should be a valid string")),
        None => Err(Error::invalid("model: Field required")),
    }
}

fn messages(object: &Object) -> Result<&[Value], Error> {
    match object.get("messages") {
        Some(Value::Array(messages)) => Ok(messages),
        Some(_) => Err(Error::invalid("messages: Input should be a valid list")),
        None => Err(Error::invalid("messages: Field required")),
    }
}

/// Extended thinking: `enabled` with a `budget_tokens` of at least 1,024 and below
/// `max_tokens`, `adaptive`, or `disabled`. Whether the model thinks.
fn thinking(value: Option<&Value>, max_tokens: Option<u32>) -> Result<bool, Error> {
    let Some(thinking) = value.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    match thinking.get("type").and_then(Value::as_str) {
        Some("disabled") => Ok(false),
        Some("adaptive") => Ok(true),
        Some("enabled") => {
            let Some(budget) = thinking.get("budget_tokens") else {
                return Err(Error::invalid(
                    "thinking.enabled.budget_tokens: Field required",
                ));
            };
            match budget.as_u64() {
                Some(b) if b < MIN_THINKING_BUDGET => Err(Error::invalid(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
                )),
                Some(b) if max_tokens.is_some_and(|m| u64::from(m) <= b) => Err(Error::invalid(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
                )),
                Some(_) => Ok(true),
                None => Err(Error::invalid(
                    "thinking.enabled.budget_tokens: Input should be a valid integer",
                )),
            }
        }
        _ => Err(Error::invalid(
            "thinking: Input tag found using 'type' does not match any of the expected tags: 'disabled', 'enabled', 'adaptive'",
        )),
    }
}

fn max_tokens(value: Option<&Value>) -> Result<u32, Error> {
    match value {
        None | Some(Value::Null) => Err(Error::invalid("max_tokens: Field required")),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Err(Error::invalid(
                "max_tokens: Input should be greater than or equal to 1",
            )),
            Some(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
            None if n.is_i64() => Err(Error::invalid(
                "max_tokens: Input should be greater than or equal to 1",
            )),
            None => Err(Error::invalid(
                "max_tokens: Input should be a valid integer",
            )),
        },
        Some(_) => Err(Error::invalid(
            "max_tokens: Input should be a valid integer",
        )),
    }
}

/// The checked `system` prompt: its share of the prompt tokens, and whether a block of
/// it holds a cache breakpoint (and with a `1h` TTL).
#[derive(Debug, Clone, Copy)]
struct System {
    share: u32,
    breakpoint: Option<bool>,
}

/// A string, or a list of text blocks.
fn system(value: Option<&Value>) -> Result<Option<System>, Error> {
    let blocks = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => {
            return Ok(Some(System {
                share: tokens::share([text.as_str()], 0),
                breakpoint: None,
            }));
        }
        Some(Value::Array(blocks)) => blocks,
        Some(_) => {
            return Err(Error::invalid(
                "system: Input should be a valid string or a valid list",
            ));
        }
    };
    let mut texts = Vec::new();
    let mut breakpoint = None;
    for (i, block) in blocks.iter().enumerate() {
        if block.get("type").and_then(Value::as_str) != Some("text") {
            return Err(Error::invalid(format!(
                "system.{i}.type: Input should be 'text'"
            )));
        }
        match block.get("text") {
            Some(Value::String(text)) => texts.push(text.as_str()),
            _ => return Err(Error::invalid(format!("system.{i}.text: Field required"))),
        }
        if let Some(control) = block.get("cache_control").filter(|c| c.is_object()) {
            breakpoint = Some(control.get("ttl").and_then(Value::as_str) == Some("1h"));
        }
    }
    Ok(Some(System {
        share: tokens::share(texts, 0),
        breakpoint,
    }))
}

/// A custom tool's name and input schema.
struct Tool<'a> {
    name: &'a str,
    schema: &'a Value,
}

/// The checked `tools`: custom tools (a `name` and an `input_schema`), and whether any
/// tool holds a cache breakpoint. Server tools (with a `type` of their own) are kept
/// out: the mock never calls them.
struct Tools<'a> {
    list: Option<&'a [Value]>,
    custom: Vec<Tool<'a>>,
    breakpoint: Option<bool>,
}

fn tools(value: Option<&Value>) -> Result<Tools<'_>, Error> {
    let list = match value {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(list.as_slice()),
        Some(_) => return Err(Error::invalid("tools: Input should be a valid list")),
    };
    let mut tools = Tools {
        list,
        custom: Vec::new(),
        breakpoint: None,
    };
    for (i, tool) in list.unwrap_or_default().iter().enumerate() {
        let custom = matches!(
            tool.get("type").and_then(Value::as_str),
            None | Some("custom")
        );
        if custom {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                return Err(Error::invalid(format!(
                    "tools.{i}.custom.name: Field required"
                )));
            };
            let Some(schema) = tool.get("input_schema").filter(|s| s.is_object()) else {
                return Err(Error::invalid(format!(
                    "tools.{i}.custom.input_schema: Field required"
                )));
            };
            tools.custom.push(Tool { name, schema });
        }
        if let Some(control) = tool.get("cache_control").filter(|c| c.is_object()) {
            tools.breakpoint = Some(control.get("ttl").and_then(Value::as_str) == Some("1h"));
        }
    }
    Ok(tools)
}

/// A forced tool call (`tool_choice` `any`: the first custom tool; `tool`: the named
/// one), else a JSON document (`output_config.format` or the beta `output_format`),
/// else text.
fn output<'a>(object: &'a Object, tools: &Tools<'a>) -> Result<Output<'a>, Error> {
    if let Some(choice) = object.get("tool_choice").filter(|c| !c.is_null()) {
        if tools.list.is_none_or(<[Value]>::is_empty) {
            return Err(Error::invalid(
                "tool_choice: tool_choice may only be specified while providing tools",
            ));
        }
        let forced = match choice.get("type").and_then(Value::as_str) {
            Some("auto" | "none") => None,
            Some("any") => tools.custom.first(),
            Some("tool") => {
                let Some(name) = choice.get("name").and_then(Value::as_str) else {
                    return Err(Error::invalid("tool_choice.tool.name: Field required"));
                };
                let found = tools.custom.iter().find(|tool| tool.name == name);
                if found.is_none() {
                    return Err(Error::invalid(format!(
                        "tool_choice.tool.name: Tool '{name}' not found in tools"
                    )));
                }
                found
            }
            _ => {
                return Err(Error::invalid(
                    "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
                ));
            }
        };
        if let Some(tool) = forced {
            return Ok(Output::ToolCall {
                name: tool.name,
                parameters: Some(tool.schema),
            });
        }
    }
    let format = object
        .get("output_config")
        .and_then(|config| config.get("format"))
        .or_else(|| object.get("output_format"))
        .filter(|format| !format.is_null());
    match format {
        None => Ok(Output::Text),
        Some(format) if format.get("type").and_then(Value::as_str) == Some("json_schema") => {
            match format.get("schema").filter(|s| s.is_object()) {
                Some(schema) => Ok(Output::JsonSchema(Some(schema))),
                None => Err(Error::invalid("output_format.schema: Field required")),
            }
        }
        Some(_) => Err(Error::invalid(
            "output_format.type: Input should be 'json_schema'",
        )),
    }
}

/// A number from 0 to 1.
fn temperature(value: Option<&Value>) -> Result<(), Error> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t < 0.0 => Err(Error::invalid(
                "temperature: Input should be greater than or equal to 0",
            )),
            Some(t) if t > 1.0 => Err(Error::invalid(
                "temperature: Input should be less than or equal to 1",
            )),
            _ => Ok(()),
        },
        Some(_) => Err(Error::invalid(
            "temperature: Input should be a valid number",
        )),
    }
}

fn stop_sequences(value: Option<&Value>) -> Result<Vec<&str>, Error> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(Error::invalid(
                "stop_sequences: Input should be a valid list",
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str().ok_or_else(|| {
                Error::invalid(format!(
                    "stop_sequences.{i}: Input should be a valid string"
                ))
            })
        })
        .collect()
}

/// The prompt up to its last cache breakpoint, in Anthropic's order: tools, system,
/// messages. Tools count no tokens.
fn prefix(
    model: &str,
    object: &Object,
    tools: &Tools<'_>,
    system: Option<System>,
    messages: &[Value],
    conversation: &Conversation<'_>,
) -> (Prefix, bool) {
    let mut prefix = Prefix::new(model);
    let system_breakpoint = system.and_then(|s| s.breakpoint);
    let Some(long_ttl) = conversation
        .breakpoint
        .map(|(_, long)| long)
        .or(system_breakpoint)
        .or(tools.breakpoint)
    else {
        return (prefix, false);
    };
    if let Some(list) = object.get("tools") {
        prefix.add(list, 0);
    }
    if let (Some(value), Some(system)) = (object.get("system"), system)
        && (system_breakpoint.is_some() || conversation.breakpoint.is_some())
    {
        prefix.add(value, system.share);
    }
    conversation.extend_prefix(messages, &mut prefix);
    (prefix, long_ttl)
}
