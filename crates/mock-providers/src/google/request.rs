//! A `GenerateContentRequest` checked as Google checks it (Gemini and Vertex take the
//! same body), read into what the generator needs.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::Value;

use super::error::Error;
use super::fields::{self, Object, check_known, get};
use crate::reply::{Output, Prompt};
use crate::tokens;

const FIELDS: [&str; 9] = [
    "model",
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "generationConfig",
    "cachedContent",
    "labels",
];

const GENERATION_FIELDS: [&str; 21] = [
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "_responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "mediaResolution",
    "audioTimestamp",
];

const PART_FIELDS: [&str; 10] = [
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "thought",
    "thoughtSignature",
    "videoMetadata",
];

/// A checked request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) prompt: Prompt<'a>,
    /// `candidateCount`: how many (identical) candidates to answer with.
    pub(crate) candidates: u32,
    /// Whether the thoughts are sent (`thinkingConfig.includeThoughts`).
    pub(crate) show_thoughts: bool,
}

/// The body as a JSON object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Object, Error> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(Error::invalid(
            "Invalid JSON payload received. Expected an object.",
        )),
    }
}

/// Reads the request for `model`.
pub(crate) fn read<'a>(object: &'a Object, model: &str) -> Result<Request<'a>, Error> {
    check_known(object, &FIELDS, None)?;
    let contents = match get(object, "contents") {
        Some(Value::Array(contents)) if !contents.is_empty() => contents,
        None | Some(Value::Array(_)) => {
            return Err(Error::field("contents", "contents is not specified"));
        }
        Some(_) => {
            return Err(Error::invalid(
                "Invalid value at 'contents': expected a list.",
            ));
        }
    };
    let mut shares = 0;
    let mut last_user = Vec::new();
    for (i, content) in contents.iter().enumerate() {
        let turn = turn(content, &format!("contents[{i}]"), true)?;
        shares += tokens::share(turn.texts.iter().copied(), turn.others);
        if turn.role == "user" {
            last_user = turn.texts;
        }
    }
    if let Some(system) = get(object, "systemInstruction") {
        // The system instruction's role, if any, is ignored.
        let turn = turn(system, "system_instruction", false)?;
        shares += tokens::share(turn.texts, turn.others);
    }
    let config = match get(object, "generationConfig") {
        Some(Value::Object(config)) => Some(config),
        None => None,
        Some(_) => {
            return Err(Error::invalid(
                "Invalid value at 'generation_config': expected an object.",
            ));
        }
    };
    let config = Config::read(config, model)?;
    let prompt_tokens = tokens::prompt_tokens(shares);
    let cache_keyed = get(object, "cachedContent")
        .and_then(Value::as_str)
        .is_some_and(|name| !name.is_empty());
    let output = match forced_call(object)? {
        Some(call) => call,
        None => config.output,
    };
    Ok(Request {
        prompt: Prompt {
            prompt_tokens,
            cache_keyed,
            last_user,
            max_tokens: config.max_tokens,
            stop: config.stop,
            thinks: config.thinks,
            output,
        },
        candidates: config.candidates,
        show_thoughts: config.show_thoughts,
    })
}

/// One checked `Content`.
struct Turn<'a> {
    role: &'a str,
    texts: Vec<&'a str>,
    others: usize,
}

/// One `Content`; with `roles`, its role must be `user` or `model`.
fn turn<'a>(content: &'a Value, at: &str, roles: bool) -> Result<Turn<'a>, Error> {
    let Value::Object(content) = content else {
        return Err(Error::invalid(format!(
            "Invalid value at '{at}': expected an object."
        )));
    };
    check_known(content, &["role", "parts"], Some(at))?;
    let role = match get(content, "role") {
        None => "user",
        Some(Value::String(role)) if role == "user" || role == "model" => role.as_str(),
        Some(_) if !roles => "system",
        Some(_) => return Err(Error::invalid("Please use a valid role: user, model.")),
    };
    let parts = match get(content, "parts") {
        Some(Value::Array(parts)) if !parts.is_empty() => parts,
        _ => {
            return Err(Error::field(
                &format!("{at}.parts"),
                "contents.parts must not be empty.",
            ));
        }
    };
    let mut turn = Turn {
        role,
        texts: Vec::new(),
        others: 0,
    };
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{at}.parts[{j}]");
        let Value::Object(part) = part else {
            return Err(Error::invalid(format!(
                "Invalid value at '{at}': expected an object."
            )));
        };
        check_known(part, &PART_FIELDS, Some(&at))?;
        if let Some(text) = get(part, "text") {
            let text = text.as_str().ok_or_else(|| {
                Error::invalid(format!("Invalid value at '{at}.text' (TYPE_STRING)"))
            })?;
            turn.texts.push(text);
            continue;
        }
        if let Some(data) = get(part, "inlineData") {
            inline_data(data, &format!("{at}.inline_data"))?;
        } else if ![
            "fileData",
            "functionCall",
            "functionResponse",
            "executableCode",
            "codeExecutionResult",
        ]
        .iter()
        .any(|field| get(part, field).is_some())
        {
            return Err(Error::field(
                &format!("{at}.data"),
                "required oneof field 'data' must have one initialized field",
            ));
        }
        turn.others += 1;
    }
    Ok(turn)
}

/// `inlineData`: a MIME type and base64 bytes (standard or URL-safe alphabet).
fn inline_data(data: &Value, at: &str) -> Result<(), Error> {
    let Some(mime) = data.as_object().and_then(|d| get(d, "mimeType")) else {
        return Err(Error::field(
            &format!("{at}.mime_type"),
            "mime_type is not specified",
        ));
    };
    let bytes = data
        .as_object()
        .and_then(|d| get(d, "data"))
        .and_then(Value::as_str);
    let decodes = bytes.is_some_and(|b| STANDARD.decode(b).is_ok() || URL_SAFE.decode(b).is_ok());
    if !mime.is_string() || !decodes {
        return Err(Error::invalid(format!(
            "Invalid value at '{at}.data' (TYPE_BYTES), Base64 decoding failed"
        )));
    }
    Ok(())
}

/// What `generationConfig` asks for.
struct Config<'a> {
    max_tokens: Option<u32>,
    stop: Vec<&'a str>,
    candidates: u32,
    thinks: bool,
    show_thoughts: bool,
    output: Output<'a>,
}

impl<'a> Config<'a> {
    fn read(config: Option<&'a Object>, model: &str) -> Result<Self, Error> {
        static EMPTY: LazyLock<Object> = LazyLock::new(Object::new);
        let config = config.unwrap_or(&EMPTY);
        check_known(config, &GENERATION_FIELDS, Some("generation_config"))?;
        let field = |name: &str| get(config, name);
        let count =
            |name: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u32>, Error> {
                match field(name) {
                    None => Ok(None),
                    Some(value) => match value.as_u64().filter(|n| range.contains(n)) {
                        Some(n) => Ok(Some(u32::try_from(n).unwrap_or(u32::MAX))),
                        None => Err(Error::field(
                            &format!("generation_config.{}", fields::snake(name)),
                            &format!("must be an integer in [{}, {}]", range.start(), range.end()),
                        )),
                    },
                }
            };
        let max_tokens = count("maxOutputTokens", 1..=u64::from(u32::MAX))?;
        let candidates = count("candidateCount", 1..=8)?.unwrap_or(1);
        if let Some(t) = field("temperature")
            && !t.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t))
        {
            return Err(Error::field(
                "generation_config.temperature",
                "temperature must be in the range [0.0, 2.0]",
            ));
        }
        let stop = match field("stopSequences") {
            None => Vec::new(),
            Some(Value::Array(list)) if list.len() <= 5 => {
                list.iter().filter_map(Value::as_str).collect()
            }
            Some(_) => {
                return Err(Error::field(
                    "generation_config.stop_sequences",
                    "at most 5 stop sequences are allowed",
                ));
            }
        };
        let thinking = field("thinkingConfig").and_then(Value::as_object);
        let budget = thinking
            .and_then(|t| get(t, "thinkingBudget"))
            .and_then(Value::as_i64);
        let show_thoughts = thinking
            .and_then(|t| get(t, "includeThoughts"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Self {
            max_tokens,
            stop,
            candidates,
            thinks: is_thinking_model(model) && budget != Some(0),
            show_thoughts,
            output: output(config)?,
        })
    }
}

/// Whether the model thinks before answering: Gemini 2.5 and 3 (a name containing
/// `2.5`, or starting `gemini-3`).
fn is_thinking_model(model: &str) -> bool {
    model.contains("2.5") || model.starts_with("gemini-3")
}

/// `responseMimeType`: `application/json` yields a document for `responseJsonSchema`
/// (JSON Schema) or `responseSchema` (Google's OpenAPI subset), or `{"reply": …}`
/// without a schema.
fn output(config: &Object) -> Result<Output<'_>, Error> {
    let mime = get(config, "responseMimeType").and_then(Value::as_str);
    let schema = get(config, "responseJsonSchema")
        .or_else(|| get(config, "_responseJsonSchema"))
        .or_else(|| get(config, "responseSchema"));
    match mime {
        None | Some("text/plain" | "text/x.enum") if schema.is_none() => Ok(Output::Text),
        Some("application/json") => Ok(match schema {
            Some(schema) => Output::JsonSchema(Some(schema)),
            None => Output::JsonObject,
        }),
        None | Some("text/plain") => Err(Error::field(
            "generation_config.response_mime_type",
            "response_mime_type must be application/json or text/x.enum when a response schema is set",
        )),
        Some(_) => Err(Error::field(
            "generation_config.response_mime_type",
            "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.",
        )),
    }
}

/// The call that `toolConfig.functionCallingConfig` forces: mode `ANY`, the first of
/// `allowedFunctionNames` (or of the declared functions without it).
fn forced_call(object: &Object) -> Result<Option<Output<'_>>, Error> {
    let config = get(object, "toolConfig")
        .and_then(Value::as_object)
        .and_then(|c| get(c, "functionCallingConfig"))
        .and_then(Value::as_object);
    let Some(config) = config else {
        return Ok(None);
    };
    if get(config, "mode").and_then(Value::as_str) != Some("ANY") {
        return Ok(None);
    }
    let declarations: Vec<&Object> = get(object, "tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tool| {
            tool.as_object()
                .and_then(|t| get(t, "functionDeclarations"))
        })
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    fn name_of<'a>(declaration: &&'a Object) -> Option<&'a str> {
        get(declaration, "name").and_then(Value::as_str)
    }
    let allowed = get(config, "allowedFunctionNames").and_then(Value::as_array);
    let chosen = match allowed
        .and_then(|names| names.first())
        .and_then(Value::as_str)
    {
        Some(name) => declarations.iter().find(|d| name_of(d) == Some(name)),
        None => declarations.first(),
    };
    let Some(declaration) = chosen else {
        return Err(Error::field(
            "tool_config.function_calling_config",
            "function calling mode ANY needs a declared function to call",
        ));
    };
    let parameters =
        get(declaration, "parametersJsonSchema").or_else(|| get(declaration, "parameters"));
    Ok(Some(Output::ToolCall {
        name: name_of(declaration).unwrap_or_default(),
        parameters,
    }))
}
