//! The chat answer on the wire: `chat.completion` objects and `chat.completion.chunk`
//! events, with the usage object, in each OpenAI-format flavour.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};

use crate::capacity::Route;
use crate::reply::{Generation, random_id};
use crate::stream::sse;
use crate::tokens::Counts;

/// Which provider's variant of the OpenAI wire format to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// OpenAI itself: `refusal`, `service_tier`, the full usage details, `obfuscation`.
    OpenAi,
    /// DeepSeek: `prompt_cache_hit_tokens`/`prompt_cache_miss_tokens`, and the
    /// reasoner's `reasoning_content`.
    DeepSeek,
    /// Qwen (DashScope compatible mode): the plain fields only.
    Qwen,
    /// Azure OpenAI: OpenAI's fields without `service_tier` and `obfuscation`, plus
    /// the content filter's verdicts (`prompt_filter_results`, and
    /// `content_filter_results` on each choice), which a stream sends first in a chunk
    /// of its own with empty `choices`, `id` and `model`.
    Azure,
}

impl Flavor {
    /// The route a capacity of this flavor is keyed by.
    pub(crate) fn route(self) -> Route {
        match self {
            Flavor::OpenAi => Route::OpenAi,
            Flavor::DeepSeek => Route::DeepSeek,
            Flavor::Qwen => Route::Qwen,
            Flavor::Azure => Route::Azure,
        }
    }

    fn system_fingerprint(self) -> Option<&'static str> {
        match self {
            Flavor::OpenAi => Some("fp_0ba0d124f1"),
            Flavor::DeepSeek => Some("fp_8802369eaa_prod0623"),
            Flavor::Azure => Some("fp_ee1d74bde0"),
            Flavor::Qwen => None,
        }
    }

    fn service_tier(self) -> Option<&'static str> {
        (self == Flavor::OpenAi).then_some("default")
    }

    /// `Some(None)` puts `"refusal": null` on the message; `None` leaves it out.
    fn refusal(self) -> Option<Option<&'static str>> {
        matches!(self, Flavor::OpenAi | Flavor::Azure).then_some(None)
    }

    /// Whether the content filter's verdicts are sent.
    pub(crate) fn filters(self) -> bool {
        self == Flavor::Azure
    }

    /// Whether the reasoning text is sent (as `reasoning_content`).
    pub(crate) fn shows_reasoning(self) -> bool {
        self == Flavor::DeepSeek
    }

    /// Whether stream chunks carry random `obfuscation` padding unless the request
    /// turns it off (`stream_options.include_obfuscation: false`).
    pub(crate) fn obfuscates(self) -> bool {
        self == Flavor::OpenAi
    }

    fn usage(self, c: &Counts) -> Usage {
        let openai = matches!(self, Flavor::OpenAi | Flavor::Azure);
        let deepseek = self == Flavor::DeepSeek;
        let zero_if_openai = openai.then_some(0);
        Usage {
            prompt_tokens: c.prompt,
            completion_tokens: c.completion,
            total_tokens: c.prompt + c.completion,
            prompt_tokens_details: PromptDetails {
                cached_tokens: c.cached,
                audio_tokens: zero_if_openai,
            },
            completion_tokens_details: (openai || (deepseek && c.reasoning > 0)).then_some(
                CompletionDetails {
                    reasoning_tokens: c.reasoning,
                    audio_tokens: zero_if_openai,
                    accepted_prediction_tokens: zero_if_openai,
                    rejected_prediction_tokens: zero_if_openai,
                },
            ),
            prompt_cache_hit_tokens: deepseek.then_some(c.cached),
            prompt_cache_miss_tokens: deepseek.then_some(c.prompt - c.cached),
        }
    }
}

/// What every object of one answer shares.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) id: String,
    pub(crate) created: u64,
    pub(crate) model: String,
    pub(crate) flavor: Flavor,
    /// The id of the tool call, if the answer is one.
    call_id: String,
}

impl Head {
    pub(crate) fn new(model: &str, flavor: Flavor) -> Self {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            id: random_id("chatcmpl-", 29),
            created,
            model: model.to_owned(),
            flavor,
            call_id: random_id("call_", 24),
        }
    }
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u32,
    prompt_tokens_details: PromptDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens_details: Option<CompletionDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_hit_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_miss_tokens: Option<u32>,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_tokens: Option<u32>,
}

#[derive(Serialize)]
struct CompletionDetails {
    reasoning_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_prediction_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_prediction_tokens: Option<u32>,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'static str>,
    system_fingerprint: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_filter_results: Option<Value>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_filter_results: Option<Value>,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<[(); 0]>,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// A whole `chat.completion` object.
pub(crate) fn completion(head: &Head, generation: &Generation) -> Vec<u8> {
    let flavor = head.flavor;
    let visible = generation.visible();
    let (content, tool_calls) = match &generation.tool_call {
        None => (Some(visible), None),
        Some(name) => (
            None,
            Some([ToolCall {
                index: None,
                id: Some(&head.call_id),
                kind: Some("function"),
                function: Function {
                    name: Some(name),
                    arguments: visible,
                },
            }]),
        ),
    };
    let reasoning = generation.reasoning;
    let body = Completion {
        id: &head.id,
        object: "chat.completion",
        created: head.created,
        model: &head.model,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content,
                reasoning_content: (flavor.shows_reasoning() && !reasoning.is_empty())
                    .then_some(reasoning),
                tool_calls,
                refusal: flavor.refusal(),
                annotations: (flavor == Flavor::OpenAi).then_some([]),
            },
            logprobs: None,
            finish_reason: generation.finish.openai(),
            content_filter_results: flavor.filters().then(|| verdicts(false)),
        }],
        usage: flavor.usage(&generation.counts),
        service_tier: flavor.service_tier(),
        system_fingerprint: flavor.system_fingerprint(),
        prompt_filter_results: flavor.filters().then(prompt_filter_results),
    };
    serde_json::to_vec(&body).expect("a completion always serializes")
}

/// One event of a streamed answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    /// Azure's chunk before the first: the prompt filter's verdicts, with empty
    /// `choices`, `id`, `model` and `object`.
    PromptFilter,
    /// The first chunk: the role (and a tool call's id and name).
    Start,
    /// One token of shown reasoning.
    Reasoning(&'a str),
    /// One token of content, or of a tool call's arguments.
    Token(&'a str),
    /// The empty delta with the finish reason.
    Finish,
    /// `choices: []` with the usage (only with `include_usage`).
    Usage,
}

/// How the stream was asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
    pub(crate) obfuscate: bool,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'static str>,
    system_fingerprint: Option<&'static str>,
    choices: &'a [ChunkChoice<'a>],
    /// Absent without `include_usage`; `null` on every chunk but the last with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<Usage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    obfuscation: Option<String>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_filter_results: Option<Value>,
}

/// Azure's first chunk.
#[derive(Serialize)]
struct PromptFilterChunk {
    choices: [(); 0],
    created: u64,
    id: &'static str,
    model: &'static str,
    object: &'static str,
    prompt_filter_results: Value,
}

/// Every field is left out when `None`; `Some(None)` is an explicit `null`.
#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<&'static str>>,
}

/// One `data: {chat.completion.chunk}\n\n` SSE event.
pub(crate) fn chunk(
    head: &Head,
    generation: &Generation,
    options: StreamOptions,
    event: Event<'_>,
) -> Bytes {
    let flavor = head.flavor;
    if let Event::PromptFilter = event {
        let chunk = PromptFilterChunk {
            choices: [],
            created: 0,
            id: "",
            model: "",
            object: "",
            prompt_filter_results: prompt_filter_results(),
        };
        return sse(None, &chunk, "\n");
    }
    let tool_call = generation.tool_call.as_ref();
    // DeepSeek's reasoner marks, on every delta, which of the two texts it is not.
    let reasoning_stream = flavor.shows_reasoning() && !generation.reasoning.is_empty();
    let mut finish_reason = None;
    let delta = match event {
        Event::Start => Delta {
            role: Some("assistant"),
            content: Some((tool_call.is_none() && !reasoning_stream).then_some("")),
            reasoning_content: reasoning_stream.then_some(Some("")),
            tool_calls: tool_call.map(|name| {
                [ToolCall {
                    index: Some(0),
                    id: Some(&head.call_id),
                    kind: Some("function"),
                    function: Function {
                        name: Some(name),
                        arguments: "",
                    },
                }]
            }),
            refusal: flavor.refusal(),
        },
        Event::Reasoning(piece) => Delta {
            content: Some(None),
            reasoning_content: Some(Some(piece)),
            ..Delta::default()
        },
        Event::Token(piece) if tool_call.is_some() => Delta {
            tool_calls: Some([ToolCall {
                index: Some(0),
                id: None,
                kind: None,
                function: Function {
                    name: None,
                    arguments: piece,
                },
            }]),
            ..Delta::default()
        },
        Event::Token(piece) => Delta {
            content: Some(Some(piece)),
            reasoning_content: reasoning_stream.then_some(None),
            ..Delta::default()
        },
        Event::Finish => {
            finish_reason = Some(generation.finish.openai());
            Delta::default()
        }
        Event::Usage | Event::PromptFilter => Delta::default(),
    };
    let is_usage = matches!(event, Event::Usage);
    let choice = [ChunkChoice {
        index: 0,
        delta,
        logprobs: None,
        finish_reason,
        content_filter_results: flavor.filters().then(|| verdicts(false)),
    }];
    let body = Chunk {
        id: &head.id,
        object: "chat.completion.chunk",
        created: head.created,
        model: &head.model,
        service_tier: flavor.service_tier(),
        system_fingerprint: flavor.system_fingerprint(),
        choices: if is_usage { &[] } else { &choice },
        usage: options
            .include_usage
            .then(|| is_usage.then(|| flavor.usage(&generation.counts))),
        obfuscation: options.obfuscate.then(obfuscation),
    };
    sse(None, &body, "\n")
}

/// Azure's `prompt_filter_results`: the one prompt passed every filter.
fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": verdicts(true)}])
}

/// Azure's content filter verdicts, all "safe"; a prompt is also checked for jailbreaks.
fn verdicts(prompt: bool) -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    let mut verdicts = json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe});
    if prompt {
        verdicts["jailbreak"] = json!({"filtered": false, "detected": false});
    }
    verdicts
}

/// Random padding of random length, as OpenAI adds against length side channels.
fn obfuscation() -> String {
    let len = rand::random_range(1..=16);
    random_id("", len)
}
