//! The prompt cache of Anthropic and Bedrock: a prompt prefix marked as cacheable
//! (Anthropic's `cache_control`, Bedrock's `cachePoint`) is written to the cache the
//! first time this server sees it, and read from it every later time. A prompt with
//! several breakpoints reads the longest of its prefixes that is cached and writes
//! the rest, as Anthropic does when an agent moves its last breakpoint forward every
//! turn. Entries never expire and there is no minimum length, so that tests can
//! predict every count.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use serde_json::Value;

/// The prefixes seen so far, by hash.
#[derive(Debug, Default)]
pub(crate) struct PromptCache {
    seen: Mutex<HashSet<u64>>,
}

/// How one prompt used the cache: tokens written to it and read from it (both parts of
/// the prompt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUse {
    pub(crate) write: u32,
    pub(crate) read: u32,
}

/// A prompt's cacheable prefix: what identifies it, and its tokens.
#[derive(Debug, Default)]
pub(crate) struct Prefix {
    hasher: DefaultHasher,
    pub(crate) tokens: u32,
    /// The earlier breakpoints: each one's prefix (hash, tokens).
    checkpoints: Vec<(u64, u32)>,
}

impl Prefix {
    /// A prefix of `model`'s prompts, empty so far.
    pub(crate) fn new(model: &str) -> Self {
        let mut prefix = Self::default();
        model.hash(&mut prefix.hasher);
        prefix
    }

    /// Adds a part of the prompt (a message, the system prompt, the tools) and its tokens.
    pub(crate) fn add(&mut self, part: &Value, tokens: u32) {
        part.to_string().hash(&mut self.hasher);
        self.tokens += tokens;
    }

    /// Marks a breakpoint before the last: the prefix so far is cached too.
    pub(crate) fn checkpoint(&mut self) {
        self.checkpoints
            .push((self.hasher.clone().finish(), self.tokens));
    }
}

impl PromptCache {
    /// Looks the prefix up (the longest of its breakpoints' prefixes that is cached is
    /// read, the rest written), and keeps them all for the next prompts.
    pub(crate) fn lookup(&self, prefix: Prefix) -> CacheUse {
        if prefix.tokens == 0 {
            return CacheUse::default();
        }
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let whole = (prefix.hasher.finish(), prefix.tokens);
        let read = prefix
            .checkpoints
            .iter()
            .chain(std::iter::once(&whole))
            .filter(|(hash, _)| seen.contains(hash))
            .map(|&(_, tokens)| tokens)
            .max()
            .unwrap_or(0);
        for (hash, _) in prefix.checkpoints.iter().chain(std::iter::once(&whole)) {
            seen.insert(*hash);
        }
        CacheUse {
            write: prefix.tokens - read,
            read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prefix(model: &str, text: &str) -> Prefix {
        let mut prefix = Prefix::new(model);
        prefix.add(&json!(text), 10);
        prefix
    }

    #[test]
    fn a_prefix_is_written_once_then_read() {
        let cache = PromptCache::default();
        assert_eq!(
            cache.lookup(prefix("m", "a")),
            CacheUse { write: 10, read: 0 }
        );
        assert_eq!(
            cache.lookup(prefix("m", "a")),
            CacheUse { write: 0, read: 10 }
        );
        assert_eq!(cache.lookup(prefix("m", "b")).write, 10);
        assert_eq!(cache.lookup(prefix("other", "a")).write, 10);
        assert_eq!(cache.lookup(Prefix::new("m")), CacheUse::default());
    }

    #[test]
    fn a_moved_breakpoint_reads_the_earlier_one_and_writes_the_rest() {
        let cache = PromptCache::default();
        // System, then messages, each message's end a checkpoint (as Anthropic's
        // request builds it).
        let turn = |messages: &[&str]| {
            let mut p = Prefix::new("m");
            p.add(&json!("system"), 100);
            for m in messages {
                p.checkpoint();
                p.add(&json!(m), 10);
            }
            p
        };
        let used = |write, read| CacheUse { write, read };
        assert_eq!(cache.lookup(turn(&["a"])), used(110, 0));
        assert_eq!(cache.lookup(turn(&["a", "b"])), used(10, 110));
        assert_eq!(cache.lookup(turn(&["a", "b"])), used(0, 120));
        assert_eq!(cache.lookup(turn(&["c"])), used(10, 100));
    }
}
