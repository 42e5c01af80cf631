//! The mock's token arithmetic: deterministic, so tests can predict every count. The
//! rules are stated in the crate documentation; this file is their only home.

use serde_json::Value;

/// Added per message (role and framing), as OpenAI's own counting does.
const PER_MESSAGE: u32 = 4;
/// Added once per prompt (the reply's priming).
const PER_PROMPT: u32 = 3;
/// What one non-text content part (an image, audio, a file) costs.
const PER_NON_TEXT_PART: u32 = 85;
/// Cached prompt tokens come in blocks of this size.
const CACHE_BLOCK: u32 = 64;

/// The token counts of one answer. `cached` is a part of `prompt`, `reasoning` a part
/// of `completion`, as in OpenAI's usage object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) prompt: u32,
    pub(crate) cached: u32,
    pub(crate) completion: u32,
    pub(crate) reasoning: u32,
}

impl Counts {
    /// What one answer spends of a deployment's capacity: prompt and completion.
    pub(crate) fn spent(&self) -> u32 {
        self.prompt.saturating_add(self.completion)
    }
}

/// Tokens in a text: its whitespace-separated words.
pub(crate) fn words(text: &str) -> u32 {
    saturate(text.split_whitespace().count())
}

/// The text parts of a message's `content`: the string itself, or the `text` of each
/// `{"type": "text"}` part of an array.
pub(crate) fn text_parts(content: &Value) -> impl Iterator<Item = &str> {
    let (whole, parts) = match content {
        Value::String(s) => (Some(s.as_str()), None),
        Value::Array(parts) => (None, Some(parts.iter().filter_map(part_text))),
        _ => (None, None),
    };
    whole.into_iter().chain(parts.into_iter().flatten())
}

fn part_text(part: &Value) -> Option<&str> {
    (part.get("type")?.as_str()? == "text")
        .then(|| part.get("text")?.as_str())
        .flatten()
}

/// One message's share of `prompt_tokens`, whatever the wire format: the words of its
/// texts, 85 per non-text part, plus 4.
pub(crate) fn share<'a>(texts: impl IntoIterator<Item = &'a str>, non_text_parts: usize) -> u32 {
    let text: u32 = texts.into_iter().map(words).sum();
    text + saturate(non_text_parts) * PER_NON_TEXT_PART + PER_MESSAGE
}

/// An OpenAI message's share of `prompt_tokens`, from its `content`.
pub(crate) fn message_tokens(content: Option<&Value>) -> u32 {
    let Some(content) = content else {
        return share([], 0);
    };
    let non_text = match content {
        Value::Array(parts) => parts.iter().filter(|p| part_text(p).is_none()).count(),
        _ => 0,
    };
    share(text_parts(content), non_text)
}

/// `prompt_tokens` from the messages' shares.
pub(crate) fn prompt_tokens(message_shares: u32) -> u32 {
    message_shares + PER_PROMPT
}

/// Cached prompt tokens: with a `prompt_cache_key`, half the prompt rounded down to a
/// multiple of 64 (so nonzero from 128 prompt tokens on); without one, none.
pub(crate) fn cached_tokens(prompt: u32, keyed: bool) -> u32 {
    if keyed {
        prompt / 2 / CACHE_BLOCK * CACHE_BLOCK
    } else {
        0
    }
}

/// The end (a byte offset) of the piece of `text` that starts at `from`: leading
/// whitespace, then one word. `None` once only whitespace is left. A piece is one
/// token, and one streamed chunk.
pub(crate) fn next_piece_end(text: &str, from: usize) -> Option<usize> {
    let rest = &text[from..];
    let start = rest.find(|c: char| !c.is_whitespace())?;
    let len = rest[start..]
        .find(char::is_whitespace)
        .unwrap_or(rest.len() - start);
    Some(from + start + len)
}

/// The pieces of `text`, one token each, that concatenate back to it (but for trailing
/// whitespace).
pub(crate) fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let end = next_piece_end(text, at)?;
        Some(&text[std::mem::replace(&mut at, end)..end])
    })
}

/// At most `limit` tokens of `text`: where they end, how many, and whether any were
/// left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budgeted {
    pub(crate) end: usize,
    pub(crate) tokens: u32,
    pub(crate) truncated: bool,
}

pub(crate) fn take(text: &str, limit: u32) -> Budgeted {
    let mut kept = Budgeted {
        end: 0,
        tokens: 0,
        truncated: false,
    };
    while let Some(end) = next_piece_end(text, kept.end) {
        if kept.tokens == limit {
            kept.truncated = true;
            break;
        }
        kept.end = end;
        kept.tokens += 1;
    }
    kept
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pieces_keep_their_leading_whitespace_and_concatenate_back() {
        let text = "You said:  hello\nworld ";
        let pieces: Vec<&str> = pieces(text).collect();
        assert_eq!(pieces, ["You", " said:", "  hello", "\nworld"]);
        assert_eq!(pieces.len(), words(text) as usize);
    }

    #[test]
    fn take_cuts_after_the_limit() {
        assert_eq!(
            take("a bb ccc", 2),
            Budgeted {
                end: 4,
                tokens: 2,
                truncated: true
            }
        );
        assert_eq!(
            take("a bb ccc", 3),
            Budgeted {
                end: 8,
                tokens: 3,
                truncated: false
            }
        );
        assert_eq!(
            take("", 0),
            Budgeted {
                end: 0,
                tokens: 0,
                truncated: false
            }
        );
    }

    #[test]
    fn message_tokens_count_words_parts_and_framing() {
        assert_eq!(message_tokens(Some(&json!("one two three"))), 7);
        let parts = json!([
            {"type": "text", "text": "look at"},
            {"type": "image_url", "image_url": {"url": "data:,"}},
        ]);
        assert_eq!(message_tokens(Some(&parts)), 2 + 85 + 4);
        assert_eq!(message_tokens(None), 4);
        assert_eq!(prompt_tokens(7), 10);
    }

    #[test]
    fn cache_needs_a_key_and_comes_in_blocks() {
        assert_eq!(cached_tokens(1000, false), 0);
        assert_eq!(cached_tokens(127, true), 0);
        assert_eq!(cached_tokens(300, true), 128);
    }
}
