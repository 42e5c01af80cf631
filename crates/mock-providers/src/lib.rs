//! Meridian's faithful fake upstreams in the OpenAI wire format: OpenAI itself and the
//! OpenAI-compatible DeepSeek and Qwen, for the tests, the benchmark and the demo.
//!
//! Written from the providers' public documentation, sharing no types with the gateway,
//! so that a misreading in an adapter fails a test instead of two pieces of code
//! agreeing on a bug.
//!
//! It owns: the native routes (OpenAI `POST /v1/chat/completions`,
//! `POST /v1/embeddings`, `GET /v1/models`; DeepSeek `POST /chat/completions`; Qwen
//! `POST /compatible-mode/v1/chat/completions`; `GET /healthz`), request checks as the
//! real service makes them (answered in OpenAI's error shape), answers with usage,
//! streams paced token by token, and fault injection (`POST /__mock/faults`, or
//! [`MockServer::inject`]). `GET /__mock/stats` answers `{"requests_seen": N}`.
//!
//! It must never log or store request content: nothing is logged per request at all,
//! and error messages name parameters, never the prompt. It must never depend on the
//! gateway's crates.
//!
//! # What the mock answers
//! The reply echoes the last user message: `"You said: <its words, single-spaced>"`,
//! so a canary string can be followed through the gateway. A `tool_choice` that forces
//! a function (`"required"`: the first one) yields a tool call whose arguments fill the
//! parameter schema's required properties, with `finish_reason: "tool_calls"`;
//! `response_format` `json_schema` yields a document satisfying the schema's required
//! properties, `json_object` yields `{"reply": "You said: …"}`. JSON is written with a
//! space after each `:` and `,` so that it splits into several tokens. Parameters that
//! only shape sampling (`temperature`, `seed`, `n`, `logprobs`, …) are accepted and
//! ignored: there is always one choice. Unknown parameters are accepted too, except
//! the OpenRouter-style `usage` switch, which OpenAI refuses with a 400 ("Unrecognized
//! request argument supplied: usage"); the mock refuses it on every route, so that
//! the gateway is caught forwarding its own switch anywhere.
//!
//! # Token counting
//! Deterministic, so tests can predict every number:
//! - a *token* is a whitespace-separated word; a streamed chunk carries one token with
//!   its leading whitespace, so the chunks concatenate to the whole text;
//! - `prompt_tokens` = Σ over messages of (words in its text content + 85 per non-text
//!   content part + 4) + 3;
//! - `completion_tokens` = tokens of the reply (content, or a tool call's arguments),
//!   plus the reasoning tokens;
//! - reasoning models (a name segment `o1`, `o3`, `o4`, or a name containing
//!   `reasoner`) first "think" a fixed 12-word sentence: `reasoning_tokens` = 12, a
//!   part of `completion_tokens`; DeepSeek shows it as `reasoning_content`;
//! - `max_completion_tokens` (or `max_tokens`) cuts the reasoning first, then the reply,
//!   with `finish_reason: "length"`;
//! - `cached_tokens`: with a non-empty `prompt_cache_key`, half of `prompt_tokens`
//!   rounded down to a multiple of 64 (nonzero from 128 prompt tokens on), else 0.
//!   DeepSeek reports it also as `prompt_cache_hit_tokens`, the rest as
//!   `prompt_cache_miss_tokens`;
//! - embeddings: `prompt_tokens` = words of each text input, or the length of each
//!   token-id list.
//!
//! # Faults
//! [`Fault`]s queue up (first in, first out) and each is met by the next `times` model
//! requests (chat or embeddings), whatever they ask, after the configured latency and
//! before the key is checked. [`MockServer::requests_seen`] counts every model request.

mod chat;
mod embeddings;
mod error;
mod faults;
mod reply;
mod request;
mod routes;
mod schema;
mod server;
mod stream;
mod tokens;
mod wire;

pub use faults::Fault;
pub use server::{MockConfig, MockServer, run};
