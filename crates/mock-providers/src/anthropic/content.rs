//! Messages and their content blocks, checked as Anthropic checks them: block types
//! in the turns that may hold them, image sources, and the conversation's shape
//! (alternating roles from a user turn, every `tool_use` answered by a `tool_result`
//! in the next turn), worded as Anthropic words it.

use serde_json::Value;

use super::error::Error;
use crate::cache::Prefix;
use crate::conversation::{self, Flaw, Turn};
use crate::tokens;

const SYSTEM_ROLE: &str = "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.";

const MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The block types a message may hold (server tools' blocks among them).
const BLOCK_TYPES: [&str; 15] = [
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
];

/// What the rest of the request needs from the messages.
#[derive(Debug, Default)]
pub(crate) struct Conversation<'a> {
    /// The messages' shares of the prompt tokens.
    pub(crate) shares: Vec<u32>,
    /// The text of the last user message, block by block.
    pub(crate) last_user: Vec<&'a str>,
    /// The last message holding a cache breakpoint, and whether its TTL is `1h`.
    pub(crate) breakpoint: Option<(usize, bool)>,
}

pub(crate) fn read(messages: &[Value]) -> Result<Conversation<'_>, Error> {
    let turns = messages
        .iter()
        .enumerate()
        .map(|(i, message)| turn(i, message))
        .collect::<Result<Vec<_>, _>>()?;
    conversation::check(&turns).map_err(refusal)?;
    let mut conversation = Conversation::default();
    for (i, turn) in turns.into_iter().enumerate() {
        conversation
            .shares
            .push(tokens::share(turn.texts.iter().copied(), turn.others));
        if let Some(long) = turn.breakpoint {
            conversation.breakpoint = Some((i, long));
        }
        if turn.role == "user" {
            conversation.last_user = turn.texts;
        }
    }
    Ok(conversation)
}

impl Conversation<'_> {
    /// Adds the messages up to the last breakpoint to the cacheable prefix, each
    /// message's end a place an earlier prompt's breakpoint may have cached (an agent
    /// moves its breakpoint to the newest message every turn; Anthropic finds the
    /// earlier one). Where the breakpoints are is not part of the prefix.
    pub(crate) fn extend_prefix(&self, messages: &[Value], prefix: &mut Prefix) {
        if let Some((last, _)) = self.breakpoint {
            for (i, (message, share)) in
                messages.iter().zip(&self.shares).take(last + 1).enumerate()
            {
                if i > 0 {
                    prefix.checkpoint();
                }
                prefix.add(&without_cache_control(message), *share);
            }
        }
    }
}

/// `message` with its blocks' `cache_control` markers taken out.
fn without_cache_control(message: &Value) -> Value {
    let mut message = message.clone();
    if let Some(Value::Array(blocks)) = message.get_mut("content") {
        for block in blocks {
            if let Some(block) = block.as_object_mut() {
                block.remove("cache_control");
            }
        }
    }
    message
}

fn turn(i: usize, message: &Value) -> Result<Turn<'_>, Error> {
    let path = format!("messages.{i}");
    let Value::Object(message) = message else {
        return Err(Error::invalid(format!(
            "{path}: Input should be a valid dictionary"
        )));
    };
    let role = match message.get("role") {
        Some(Value::String(role)) if role == "user" || role == "assistant" => role.as_str(),
        Some(Value::String(role)) if role == "system" => return Err(Error::invalid(SYSTEM_ROLE)),
        Some(_) => {
            return Err(Error::invalid(format!(
                "{path}.role: Input should be 'user' or 'assistant'"
            )));
        }
        None => return Err(Error::invalid(format!("{path}.role: Field required"))),
    };
    let mut turn = Turn {
        role,
        ..Turn::default()
    };
    match message.get("content") {
        Some(Value::String(text)) => turn.texts.push(text),
        Some(Value::Array(blocks)) => {
            for (j, block) in blocks.iter().enumerate() {
                read_block(&format!("{path}.content.{j}"), block, &mut turn)?;
            }
        }
        Some(_) => {
            return Err(Error::invalid(format!(
                "{path}.content: Input should be a valid string or a valid list"
            )));
        }
        None => return Err(Error::invalid(format!("{path}.content: Field required"))),
    }
    Ok(turn)
}

fn read_block<'a>(path: &str, block: &'a Value, turn: &mut Turn<'a>) -> Result<(), Error> {
    let Some(kind) = block.get("type").and_then(Value::as_str) else {
        return Err(Error::invalid(format!(
            "{path}: Unable to extract tag using discriminator 'type'"
        )));
    };
    if !BLOCK_TYPES.contains(&kind) {
        return Err(Error::invalid(format!(
            "{path}: Input tag '{kind}' found using 'type' does not match any of the expected tags: {}",
            quoted(&BLOCK_TYPES)
        )));
    }
    let by_assistant = matches!(kind, "tool_use" | "thinking" | "redacted_thinking");
    if (by_assistant && turn.role != "assistant") || (kind == "tool_result" && turn.role != "user")
    {
        return Err(Error::invalid(format!(
            "{path}.type: `{kind}` blocks are not allowed in \"{}\" messages",
            turn.role
        )));
    }
    match kind {
        "text" => turn.texts.push(string_at(block, "text", path)?),
        "image" => {
            image_source(block, path)?;
            turn.others += 1;
        }
        "tool_use" => {
            turn.tool_uses.push(string_at(block, "id", path)?);
            string_at(block, "name", path)?;
            if !block.get("input").is_some_and(Value::is_object) {
                return Err(Error::invalid(format!(
                    "{path}.input: Input should be a valid dictionary"
                )));
            }
            turn.others += 1;
        }
        "tool_result" => {
            turn.tool_results
                .push(string_at(block, "tool_use_id", path)?);
            turn.others += 1;
        }
        _ => turn.others += 1,
    }
    if let Some(control) = block.get("cache_control").filter(|c| c.is_object()) {
        turn.breakpoint = Some(control.get("ttl").and_then(Value::as_str) == Some("1h"));
    }
    Ok(())
}

/// The required string `field` of a block.
fn string_at<'a>(block: &'a Value, field: &str, path: &str) -> Result<&'a str, Error> {
    match block.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::invalid(format!(
            "{path}.{field}: Input should be a valid string"
        ))),
        None => Err(Error::invalid(format!("{path}.{field}: Field required"))),
    }
}

/// An image's `source`: base64 data of a supported media type, a URL, or a file.
fn image_source(block: &Value, path: &str) -> Result<(), Error> {
    let path = format!("{path}.source");
    let Some(source) = block.get("source") else {
        return Err(Error::invalid(format!("{path}: Field required")));
    };
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media_type = source.get("media_type").and_then(Value::as_str);
            if !media_type.is_some_and(|m| MEDIA_TYPES.contains(&m)) {
                return Err(Error::invalid(format!(
                    "{path}.base64.media_type: Input should be {}",
                    quoted(&MEDIA_TYPES).replace(", 'image/webp'", " or 'image/webp'")
                )));
            }
            string_at(source, "data", &format!("{path}.base64")).map(drop)
        }
        Some("url") => string_at(source, "url", &format!("{path}.url")).map(drop),
        Some("file") => string_at(source, "file_id", &format!("{path}.file")).map(drop),
        _ => Err(Error::invalid(format!(
            "{path}: Input tag found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"
        ))),
    }
}

/// Anthropic's words for a flaw in the conversation.
fn refusal(flaw: Flaw<'_>) -> Error {
    Error::invalid(match flaw {
        Flaw::Empty => "messages: at least one message is required".to_owned(),
        Flaw::FirstNotUser => "messages: first message must use the \"user\" role".to_owned(),
        Flaw::SameRole { role } => format!(
            "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"{role}\" roles in a row"
        ),
        Flaw::Unanswered { index, ids } => format!(
            "messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
            ids.join(", ")
        ),
        Flaw::Stray { index, id } => format!(
            "messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
        ),
    })
}

/// `'a', 'b', 'c'`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(messages: Value) -> String {
        let messages = messages.as_array().unwrap();
        format!("{:?}", read(messages).unwrap_err())
    }

    #[test]
    fn shares_breakpoints_and_the_last_user_text() {
        let messages = json!([
            {"role": "user", "content": [
                {"type": "text", "text": "one two", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
            ]},
            {"role": "assistant", "content": "three"},
            {"role": "user", "content": "four five six"}
        ]);
        let conversation = read(messages.as_array().unwrap()).unwrap();
        assert_eq!(conversation.shares, [2 + 85 + 4, 1 + 4, 3 + 4]);
        assert_eq!(conversation.breakpoint, Some((0, true)));
        assert_eq!(conversation.last_user, ["four five six"]);
    }

    #[test]
    fn tool_uses_and_results_must_pair_up() {
        let call = json!({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}});
        let answer = |id: &str| json!({"type": "tool_result", "tool_use_id": id, "content": "ok"});
        assert!(
            read(
                json!([
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": [call]},
                    {"role": "user", "content": [answer("toolu_1")]}
                ])
                .as_array()
                .unwrap()
            )
            .is_ok()
        );
        assert!(
            refused(json!([
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [call]},
                {"role": "user", "content": "no answer"}
            ]))
            .contains("`tool_use` ids were found without `tool_result` blocks")
        );
        assert!(
            refused(json!([
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [call]},
                {"role": "user", "content": [answer("toolu_1"), answer("toolu_2")]}
            ]))
            .contains("toolu_2")
        );
        assert!(refused(json!([{"role": "user", "content": [call]}])).contains("not allowed"));
    }
}
