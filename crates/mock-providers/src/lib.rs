//! Meridian's faithful fake upstreams, every provider on one listener at its native
//! paths, for the tests, the benchmark and the demo: each provider's official SDK works
//! unchanged with its base URL or endpoint pointed here.
//!
//! Written from the providers' public documentation, sharing no types with the gateway,
//! so that a misreading in an adapter fails a test instead of two pieces of code
//! agreeing on a bug.
//!
//! It owns: the native routes below, request checks as the real service makes them
//! (answered in that provider's error shape), answers with usage, streams paced token
//! by token, provisioned capacity per deployment (see below), and fault injection
//! (`POST /__mock/faults`, or [`MockServer::inject`]). `GET /__mock/stats` answers
//! `{"requests_seen": N, "streams_open": M, "throttled": T}` (streams being sent: one
//! leaves the count when its client goes away; `throttled`: requests refused above a
//! capacity); `GET /healthz` answers `ok`.
//!
//! It must never log or store request content: nothing is logged per request at all,
//! and error messages name parameters, never the prompt. It must never depend on the
//! gateway's crates.
//!
//! # Routes
//! | provider | routes | credentials | refused without them |
//! |---|---|---|---|
//! | OpenAI | `POST /v1/chat/completions`, `POST /v1/embeddings`, `POST /v1/responses`, `GET /v1/models` | `Authorization: Bearer` | 401 `invalid_api_key` |
//! | DeepSeek | `POST /chat/completions` | `Authorization: Bearer` | 401 |
//! | Qwen | `POST /compatible-mode/v1/chat/completions` | `Authorization: Bearer` | 401 |
//! | Azure OpenAI | `POST /openai/deployments/{deployment}/chat/completions?api-version=…`, `…/embeddings?api-version=…`, `POST /openai/v1/responses` (no `api-version`; the deployment is `model`) | `api-key` or `Authorization: Bearer` | 401; no `api-version`: 404 `Resource not found` |
//! | Anthropic | `POST /v1/messages`, `POST /v1/messages/count_tokens` | `x-api-key` or `Authorization: Bearer`, and `anthropic-version` | 401 `authentication_error`; no version: 400 |
//! | Gemini API | `POST /v1beta/models/{model}:generateContent`, `…:streamGenerateContent[?alt=sse]`, the same under `/v1` | `x-goog-api-key` or `?key=` | 403 `PERMISSION_DENIED` |
//! | Vertex AI | `POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent` (and `:streamGenerateContent`), the same under `/v1beta1` | `Authorization: Bearer` | 401 `UNAUTHENTICATED` |
//! | Claude on Vertex AI | `POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict` (and `:streamRawPredict`; the Messages body without `model`, with `anthropic_version: vertex-2023-10-16`, betas in `anthropic-beta`) and `…/models/count-tokens:rawPredict` (with `model`), the same under `/v1beta1` | `Authorization: Bearer` | 401 `UNAUTHENTICATED` (Google's shape); Claude's refusals in Anthropic's, `model` in a `rawPredict` body and a missing or other `anthropic_version` included |
//! | Bedrock | `POST /model/{modelId}/converse`, `POST /model/{modelId}/converse-stream`, and for Anthropic's models `POST /model/{modelId}/invoke` and `…/invoke-with-response-stream` (the Messages body with `anthropic_version: bedrock-2023-05-31`, no `model` or `stream`; the stream's Anthropic events base64 in event-stream `chunk`s), and `POST /model/{modelId}/count-tokens` (`{"input": {"invokeModel": {"body": "<base64>"}}}` or `{"input": {"converse": {"messages", "system"}}}` → `{"inputTokens"}`) | SigV4 by [`BEDROCK_ACCESS_KEY_ID`] / [`BEDROCK_SECRET_ACCESS_KEY`], any region, service `bedrock` | 403 `MissingAuthenticationTokenException`, `UnrecognizedClientException`, `InvalidSignatureException` |
//!
//! Any non-empty key is accepted. Each provider also refuses what its validator
//! refuses, in its own words: OpenAI a missing `messages` (Responses: unknown
//! parameters, `max_output_tokens` below 16, a `function_call_output` without its
//! call, reasoning options on models that do not reason, and any
//! `previous_response_id` or `item_reference`, since it stores nothing); Anthropic a missing
//! `max_tokens`, turns that do not alternate from a user turn, an unpaired
//! `tool_use`/`tool_result`, unknown fields ("Extra inputs are not permitted"; for
//! `count_tokens` also `max_tokens` and sampling fields; `context_management` and
//! `mcp_servers` without their `anthropic-beta`; a top-level `cache_control` is
//! automatic caching, a breakpoint on the last message), and a `thinking` budget
//! below 1,024 or not below `max_tokens` (with thinking on, the answer opens with a
//! signed `thinking` block);
//! Gemini and Vertex empty `contents` (400 `INVALID_ARGUMENT`), a role other than
//! `user`/`model`, undecodable `inlineData`, and unknown fields (both lowerCamel and
//! snake_case spellings are known, as Google's parser accepts); Bedrock an assistant
//! message first (400 `ValidationException`), turns that do not alternate, tool
//! blocks without a `toolConfig`, and an `outputConfig.textFormat` other than a
//! `json_schema` whose schema string holds a JSON object. Azure's content filter
//! refuses a prompt containing `MERIDIAN_FILTER_ME` (400 `content_filter`,
//! `ResponsibleAIPolicyViolation`).
//!
//! # What the mock answers
//! The reply echoes the last user message: `"You said: <its words, single-spaced>"`,
//! so a canary string can be followed through the gateway. A last user message
//! holding `MERIDIAN_REFUSE_ME` is declined after two tokens (`You said:`, no tool
//! call), as each provider ends a refused answer: Anthropic `stop_reason: "refusal"`,
//! OpenAI-format `finish_reason: "content_filter"` (Responses: `incomplete` for
//! `content_filter`), Gemini `SAFETY`, Bedrock Converse `content_filtered`. A tool choice that forces
//! a function (OpenAI `"required"` or a named function; Anthropic `any` or `tool`;
//! Gemini mode `ANY`, the first of `allowedFunctionNames`; Bedrock `any` or `tool`)
//! yields a call whose arguments fill the parameter schema's required properties
//! (finish reason `tool_calls`, `tool_use`, `STOP`, `tool_use`). A JSON schema
//! (OpenAI `response_format` `json_schema`, Anthropic `output_config.format`, Gemini
//! `responseSchema` or `responseJsonSchema`, Bedrock `outputConfig.textFormat` with
//! the schema as a string in `structure.jsonSchema.schema`) yields a document
//! satisfying the schema's required properties, unless a tool call is forced; OpenAI's `json_object` and Gemini's `application/json` without
//! a schema yield `{"reply": "You said: …"}`. JSON is written with a space after each
//! `:` and `,` so that it splits into several tokens. Stop sequences (Anthropic,
//! Gemini, Bedrock) end the text before the first one it contains. Parameters that only
//! shape sampling (`temperature`, `seed`, `n`, `logprobs`, …) are checked where the
//! provider checks them, and ignored: there is always one choice (Gemini's
//! `candidateCount` repeats its candidate). OpenAI accepts unknown parameters, except
//! the OpenRouter-style members (the `usage` switch, the `models` and `provider`
//! routing controls), which OpenAI refuses with a 400 ("Unrecognized request argument
//! supplied: usage"); the mock refuses them on every OpenAI-format route, so that the
//! gateway is caught forwarding its own switches anywhere.
//!
//! # Token counting
//! Deterministic, and the same for every provider, so tests can predict every number:
//! - a *token* is a whitespace-separated word; a streamed chunk carries one token with
//!   its leading whitespace, so the chunks concatenate to the whole text;
//! - prompt tokens = Σ over messages of (words in its text parts + 85 per non-text
//!   part + 4) + 3. A system prompt given apart (Anthropic `system`, Gemini
//!   `systemInstruction`, Bedrock `system`) counts as one message; an image, a file, a
//!   tool use or a tool result is a non-text part; a cache marker (Bedrock
//!   `cachePoint`) is no part; tool declarations count nothing;
//! - completion tokens = tokens of the reply (content, or a tool call's arguments as
//!   spaced JSON), plus the reasoning tokens;
//! - reasoning models first "think" a fixed 12-word sentence, a part of the completion
//!   tokens: OpenAI-format models with a name segment `o1`, `o3`, `o4` or a name
//!   containing `reasoner` (`reasoning_tokens` = 12; DeepSeek shows it as
//!   `reasoning_content`), and Gemini models whose name contains `2.5` or starts with
//!   `gemini-3` (`thoughtsTokenCount` = 12 per candidate, apart from
//!   `candidatesTokenCount`; `thinkingConfig.thinkingBudget: 0` turns it off,
//!   `includeThoughts: true` sends it as `thought: true` parts);
//! - the output budget (`max_completion_tokens`/`max_tokens`, Anthropic `max_tokens`,
//!   Gemini `maxOutputTokens`, Bedrock `inferenceConfig.maxTokens`) cuts the reasoning
//!   first, then the reply (`length`, `max_tokens`, `MAX_TOKENS`); a Gemini candidate
//!   cut before any output has no `parts` at all;
//! - OpenAI-style caching: with a non-empty `prompt_cache_key` (OpenAI, DeepSeek,
//!   Qwen, Azure) or `cachedContent` (Gemini), the cached tokens are half the prompt
//!   tokens rounded down to a multiple of 64 (nonzero from 128 prompt tokens on), a
//!   part of the prompt tokens (`cached_tokens`; DeepSeek's `prompt_cache_hit_tokens`
//!   and the rest as `prompt_cache_miss_tokens`; Gemini's `cachedContentTokenCount`);
//! - breakpoint caching (Anthropic `cache_control` on any block, Bedrock `cachePoint`):
//!   the prefix is everything up to and including the message (or system prompt, or
//!   tools) holding the last breakpoint, in the order tools, system, messages. The
//!   first request with a given model and prefix writes its tokens to the cache
//!   (`cache_creation_input_tokens`, in `ephemeral_1h_input_tokens` when that
//!   breakpoint's `ttl` is `1h`; Bedrock `cacheWriteInputTokens`), every later one
//!   reads them (`cache_read_input_tokens`, `cacheReadInputTokens`); entries never
//!   expire and there is no minimum length. `input_tokens` (`inputTokens`) is the
//!   prompt tokens less those written or read; Bedrock's `totalTokens` counts all;
//! - Anthropic's stream reports `output_tokens: 1` in `message_start` and the running
//!   total (with the input counts) in `message_delta`; Gemini's streamed responses
//!   carry only the prompt count (Vertex: only `trafficType`) until the last one, and
//!   zero counts are left out of `usageMetadata`, as proto3 JSON leaves them out;
//! - embeddings: `prompt_tokens` = words of each text input, or the length of each
//!   token-id list.
//!
//! # Capacity
//! A deployment can be given a [`Capacity`], as a provisioned one has: at most `rpm`
//! requests and `tpm` tokens (prompt + completion, by the arithmetic above) in any
//! sliding window of [`MockConfig::capacity_window`] (60 s by default), set by
//! [`MockServer::set_capacity`] or `POST /__mock/capacity {"provider": "openai",
//! "model": "gpt-4o-mini", "rpm": 10, "tpm": 1000}`, all cleared by
//! [`MockServer::clear_capacities`] or `DELETE /__mock/capacity`. A deployment is keyed
//! by ([`Route`], model), the model being what the gateway sends anyway: the body's
//! `model` on the OpenAI (`openai`, chat and embeddings), `deepseek`, `qwen` and
//! `anthropic` routes; the deployment path segment on `azure` (chat and embeddings);
//! the model path segment on `gemini` and `vertex`; the `modelId` path segment on
//! `bedrock`. A request is counted when it is admitted, after its checks, with its
//! prompt and its whole completion (every candidate's, for Gemini): a real service
//! counts an estimate at admission and corrects it later, the mock knows the exact
//! count at once. A request that does not fit is not counted and gets the provider's
//! 429, saying when it would fit: OpenAI `rate_limit_exceeded` (type `requests` or
//! `tokens`) with `retry-after` (seconds, rounded up) and `x-ratelimit-limit-*`,
//! `-remaining-*`, `-reset-*`; Azure `{"error": {"code": "429", …}}` with
//! `retry-after-ms`, `retry-after` and `x-ratelimit-remaining-*`; Anthropic
//! `rate_limit_error` with `retry-after`; Google `RESOURCE_EXHAUSTED` with a
//! `RetryInfo` `retryDelay`; Bedrock `ThrottlingException` with no retry header. A
//! request larger than the whole `tpm` is told to wait a whole window, and never fits.
//!
//! # Faults
//! [`Fault`]s queue up (first in, first out) and each is met by the next `times` model
//! requests of any provider, whatever they ask, after the configured latency and
//! before the credentials are checked. A status fault answers in the provider's error
//! shape: OpenAI's and Azure's `{"error": {…}}` with `retry-after`; Anthropic's
//! `rate_limit_error` (429, with `retry-after`), `overloaded_error` (529), `api_error`
//! (5xx), …; Google's `RESOURCE_EXHAUSTED` (429, with a `RetryInfo` detail),
//! `UNAVAILABLE` (503), …; Bedrock's `ThrottlingException` (429),
//! `ServiceUnavailableException` (503), … . A stream cut never reaches the part that
//! carries the usage: OpenAI's usage chunk and `[DONE]`, Anthropic's `message_delta`,
//! Gemini's last response, Bedrock's `metadata`. [`MockServer::requests_seen`] counts
//! every model request.

mod anthropic;
mod bedrock;
mod cache;
mod capacity;
mod conversation;
mod faults;
mod gate;
mod google;
mod openai;
mod reply;
mod routes;
mod schema;
mod server;
mod stream;
mod tokens;

pub use bedrock::sigv4::{
    ACCESS_KEY as BEDROCK_ACCESS_KEY_ID, SECRET_KEY as BEDROCK_SECRET_ACCESS_KEY,
};
pub use capacity::{Capacity, Pool, Route, Throttle};
pub use faults::Fault;
pub use server::{MockConfig, MockServer, run};
