//! What the translating adapters (Anthropic, Gemini, Bedrock) share besides the
//! request reading of [`super::chat`]: native request helpers, the OpenAI-shaped
//! completion, chunk and usage objects they answer with, and the classes of provider
//! errors. Messages name fields and providers, never values.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use meridian_core::TokenUsage;
use serde_json::{Map, Value, json};

use super::{Block, StreamOut, StreamState};
use crate::error::ApiError;

/// Appends `items` to the last message when it has the same role (providers that
/// want alternating roles get consecutive tool results or user parts as one turn),
/// else starts a new message `{"role": role, field: items}`.
pub fn push_merged(messages: &mut Vec<Value>, role: &str, field: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut()
        && last["role"] == role
        && let Some(list) = last[field].as_array_mut()
    {
        list.extend(items);
        return;
    }
    messages.push(json!({"role": role, field: items}));
}

/// JSON text of a tool call's arguments, as OpenAI sends them.
pub fn arguments_text(args: &Value) -> String {
    match args {
        Value::Null => "{}".to_string(),
        v => v.to_string(),
    }
}

/// The body of a native request.
/// Refuses embeddings for a provider that only has a chat API.
pub fn chat_only(op: super::Operation, provider: &str) -> Result<(), ApiError> {
    match op {
        super::Operation::Chat => Ok(()),
        super::Operation::Embeddings => Err(ApiError::unsupported(format!(
            "Embeddings are not supported by {provider}."
        ))),
        // `crate::responses` and `crate::messages` send these providers a chat
        // request instead.
        super::Operation::Responses
        | super::Operation::Messages
        | super::Operation::CountTokens => Err(ApiError::internal()),
    }
}

pub fn json_body(native: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(native)
        .map(Bytes::from)
        .map_err(|_| ApiError::internal())
}

/// Headers of a JSON request, with the credential header (marked sensitive: never
/// printed).
pub fn json_headers(credential: Option<(&'static str, String)>) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some((name, value)) = credential {
        let mut value = HeaderValue::try_from(value).map_err(|_| ApiError::internal())?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

/// A fresh OpenAI-style completion id, for providers that send none.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::now_v7().simple())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// OpenAI's `usage` object. Kinds the provider did not report are left out.
pub fn usage_json(u: &TokenUsage) -> Value {
    let mut prompt = Map::new();
    if let Some(cached) = u.cached {
        prompt.insert("cached_tokens".into(), cached.into());
    }
    if let Some(written) = u.cache_write {
        prompt.insert("cache_write_tokens".into(), written.into());
    }
    if let Some(written) = u.cache_write_1h {
        prompt.insert("cache_write_1h_tokens".into(), written.into());
    }
    let mut completion = Map::new();
    if let Some(reasoning) = u.reasoning {
        completion.insert("reasoning_tokens".into(), reasoning.into());
    }
    json!({
        "prompt_tokens": u.prompt,
        "completion_tokens": u.completion,
        "total_tokens": u.prompt + u.completion,
        "prompt_tokens_details": prompt,
        "completion_tokens_details": completion,
    })
}

/// One choice of a whole completion.
pub fn choice(index: u32, text: String, tool_calls: Vec<Value>, finish: &str) -> Value {
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert(
        "content".into(),
        if text.is_empty() && !tool_calls.is_empty() {
            Value::Null
        } else {
            text.into()
        },
    );
    if !tool_calls.is_empty() {
        message.insert("tool_calls".into(), tool_calls.into());
    }
    message.insert("refusal".into(), Value::Null);
    json!({"index": index, "message": message, "finish_reason": finish, "logprobs": null})
}

/// A tool call of a whole completion.
pub fn tool_call(id: &str, name: &str, arguments: String) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// A whole `chat.completion`.
pub fn completion(
    id: String,
    model: &str,
    choices: Vec<Value>,
    usage: &TokenUsage,
) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), id.into());
    object.insert("object".into(), "chat.completion".into());
    object.insert("created".into(), unix_now().into());
    object.insert("model".into(), model.into());
    object.insert("choices".into(), choices.into());
    object.insert("usage".into(), usage_json(usage));
    object
}

/// Records the stream's id and model on its first event.
pub fn start(state: &mut StreamState, id: Option<&str>, model: Option<&str>) {
    if state.id.is_none() {
        state.id = Some(id.map_or_else(completion_id, str::to_string));
        state.created = Some(unix_now());
    }
    if state.model.is_none() {
        state.model = model.map(str::to_string);
    }
}

fn chunk_object(state: &StreamState, choices: Value) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), state.id.clone().unwrap_or_default().into());
    object.insert("object".into(), "chat.completion.chunk".into());
    object.insert("created".into(), state.created.unwrap_or_default().into());
    object.insert(
        "model".into(),
        state.model.clone().unwrap_or_default().into(),
    );
    object.insert("choices".into(), choices);
    object
}

/// A `chat.completion.chunk` with one choice's `delta` and, at the end, its finish reason.
pub fn chunk(state: &StreamState, index: u32, delta: Value, finish: Option<&str>) -> StreamOut {
    StreamOut::Chunk(chunk_object(
        state,
        json!([{"index": index, "delta": delta, "finish_reason": finish, "logprobs": null}]),
    ))
}

/// The chunk announcing a tool call (its OpenAI index is assigned here).
pub fn tool_call_start(
    state: &mut StreamState,
    choice: u32,
    id: &str,
    name: &str,
    arguments: String,
) -> (u32, StreamOut) {
    let slot = choice as usize;
    if state.tool_calls.len() <= slot {
        state.tool_calls.resize(slot + 1, 0);
    }
    let index = state.tool_calls[slot];
    state.tool_calls[slot] += 1;
    let delta = json!({"tool_calls": [{"index": index, "id": id, "type": "function",
        "function": {"name": name, "arguments": arguments}}]});
    (index, chunk(state, choice, delta, None))
}

/// A piece of a tool call's arguments (single-choice streams).
pub fn tool_call_delta(state: &StreamState, index: u32, partial: &str) -> StreamOut {
    chunk(
        state,
        0,
        json!({"tool_calls": [{"index": index, "function": {"arguments": partial}}]}),
        None,
    )
}

/// The final usage, with the usage-only chunk that carries it.
pub fn usage_out(state: &StreamState) -> StreamOut {
    let mut chunk = chunk_object(state, json!([]));
    chunk.insert("usage".into(), usage_json(&state.usage));
    StreamOut::Usage {
        usage: state.usage,
        chunk,
    }
}

/// What content block `index` of the streamed message is (text unless announced).
pub fn block(state: &StreamState, index: u64) -> Block {
    state
        .blocks
        .iter()
        .find(|(i, _)| *i == index)
        .map_or(Block::Text, |(_, b)| *b)
}

/// Classifies a provider's refusal. `code` is the provider's error type, shown only
/// when it is an identifier; `retry_after` is the provider's hint in seconds.
pub fn refusal(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    code: Option<&str>,
    retry_after: Option<u64>,
) -> ApiError {
    match status.as_u16() {
        429 => match retry_after {
            Some(secs) => ApiError::rate_limited(provider, Some(secs)),
            None => super::default_error(provider, status, headers),
        },
        503 | 529 => overloaded(provider),
        401 | 403 | 500..=599 => ApiError::upstream_status(provider, status),
        _ => ApiError::upstream_refused(provider, status, None, code, None),
    }
}

/// The provider is overloaded (Anthropic's 529, a 503): retryable, with a hint.
pub fn overloaded(provider: &str) -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        kind: "upstream_error",
        code: Some("upstream_overloaded"),
        message: format!("The provider {provider} is overloaded; retry later."),
        retry_after_secs: Some(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_leaves_out_what_was_not_reported() {
        let u = TokenUsage {
            prompt: 10,
            completion: 5,
            cached: Some(0),
            ..Default::default()
        };
        assert_eq!(
            usage_json(&u),
            json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                   "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {}})
        );
    }

    /// The cost uses the list price of the provider and region that served: regional
    /// Bedrock and Azure entries win over global ones.
    #[test]
    fn the_shipped_catalog_prices_each_provider_and_region() {
        use meridian_core::catalog::PriceCatalog;
        use meridian_core::config::ProviderKind::{self, *};
        let catalog: PriceCatalog = include_str!("../../../../data/model-prices.json")
            .parse()
            .unwrap();
        let cases: [(ProviderKind, &str, &str, &str); 9] = [
            (
                Anthropic,
                "eu-west",
                "claude-sonnet-4-5",
                "claude-sonnet-4-5",
            ),
            (
                Bedrock,
                "us-east-1",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            (
                Bedrock,
                "us-gov-west-1",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            (
                Bedrock,
                "us-east-1",
                "meta.llama3-70b-instruct-v1:0",
                "bedrock/us-east-1/meta.llama3-70b-instruct-v1:0",
            ),
            (
                Bedrock,
                "eu-west-1",
                "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            (Azure, "eu", "gpt-4o-mini", "azure/eu/gpt-4o-mini"),
            (Azure, "swedencentral", "gpt-4o-mini", "azure/gpt-4o-mini"),
            (
                Gemini,
                "global",
                "gemini-2.5-flash",
                "gemini/gemini-2.5-flash",
            ),
            (
                Vertex,
                "us-central1",
                "gemini-2.5-flash",
                "gemini-2.5-flash",
            ),
        ];
        for (provider, region, model, key) in cases {
            let price = catalog.price_for(provider, region, model);
            assert_eq!(
                price.map(|p| p.catalog_key.as_str()),
                Some(key),
                "{provider} {region} {model}"
            );
        }
    }

    #[test]
    fn consecutive_roles_merge() {
        let mut m = Vec::new();
        push_merged(&mut m, "user", "content", vec![json!(1)]);
        push_merged(&mut m, "user", "content", vec![json!(2)]);
        push_merged(&mut m, "assistant", "content", vec![]);
        push_merged(&mut m, "assistant", "content", vec![json!(3)]);
        assert_eq!(
            Value::Array(m),
            json!([{"role": "user", "content": [1, 2]}, {"role": "assistant", "content": [3]}])
        );
    }
}

/// Builders for the adapters' golden tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use meridian_core::Secret;
    use meridian_core::catalog::ModelPrice;
    use meridian_core::config::{Config, ProviderKind};

    use super::*;
    use crate::body::ClientBody;
    use crate::providers::{UpstreamEvent, adapter_for};
    use crate::targets::{LiveDeployment, Target};

    pub fn body(v: Value) -> ClientBody {
        assert!(v.is_object(), "not an object");
        ClientBody::parse(Bytes::from(v.to_string())).unwrap()
    }

    /// The object `base` with the members of the object `extra` added, as a body.
    pub fn merged(mut base: Value, extra: Value) -> ClientBody {
        if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        body(base)
    }

    /// A deployment of `provider` at `http://upstream.test` serving `vendor/{model}`
    /// as `model`, with the test values of every provider-specific field, and
    /// `credential` (default `upstream-key`).
    pub fn target(provider: ProviderKind, model: &str, credential: Option<&str>) -> Target {
        let region = match provider {
            ProviderKind::Bedrock => "us-east-1",
            ProviderKind::Vertex => "us-central1",
            _ => "eu",
        };
        let config = Config::parse(&format!(
            r#"[[deployments]]
            id = "{provider}-test"
            provider = "{provider}"
            region = "{region}"
            kind = "on-demand"
            base_url = "http://upstream.test"
            models = ["vendor/{model}"]
            azure_deployment = "gpt-4o-prod"
            api_version = "2024-10-21"
            project = "my-project"
            "#
        ))
        .unwrap();
        let deployment = config.deployments.into_iter().next().unwrap();
        let adapter = adapter_for(&deployment).unwrap();
        Target {
            deployment: Arc::new(LiveDeployment::new(
                deployment,
                adapter,
                Some(Secret::new(credential.unwrap_or("upstream-key"))),
                0,
            )),
            model: format!("vendor/{model}"),
            upstream_model: model.into(),
            price: ModelPrice {
                catalog_key: model.into(),
                provider: provider.catalog_prefix().into(),
                mode: Some("chat".into()),
                input: None,
                output: None,
                cache_read: None,
                cache_write: None,
                cache_write_1h: None,
                reasoning: None,
                max_input_tokens: None,
                max_output_tokens: Some(64000),
            },
        }
    }

    /// A stream's translation: its chunks, its usage (with the usage-only chunk),
    /// and whether it ended properly.
    pub type Driven = (
        Vec<Map<String, Value>>,
        Option<(TokenUsage, Map<String, Value>)>,
        bool,
    );

    /// Feeds `events` (event name, data) to the adapter of `target`, then ends the
    /// upstream body. A forwarded event counts as the chunk its data is.
    pub fn drive_named(target: &Target, events: &[(&str, &str)]) -> Driven {
        fn take(out: StreamOut, data: &str, driven: &mut Driven) {
            match out {
                StreamOut::Chunk(c) => driven.0.push(c),
                StreamOut::Forward => driven.0.push(serde_json::from_str(data).unwrap()),
                StreamOut::Usage { usage, chunk } => driven.1 = Some((usage, chunk)),
                StreamOut::Done => driven.2 = true,
                StreamOut::Skip => {}
                StreamOut::Many(outs) => outs.into_iter().for_each(|o| take(o, data, driven)),
                StreamOut::Error(e) => panic!("unexpected stream error {e:?}"),
            }
        }
        let adapter = target.deployment.adapter;
        let mut state = StreamState::default();
        let mut driven = (Vec::new(), None, false);
        for (name, data) in events {
            let event = UpstreamEvent {
                event: Some(name),
                data,
            };
            take(
                adapter.stream_event(target, &mut state, event).unwrap(),
                data,
                &mut driven,
            );
        }
        if !driven.2
            && let Some(out) = adapter.stream_end(&mut state)
        {
            take(out, "", &mut driven);
        }
        driven
    }

    /// [`drive_named`] for SSE streams whose events carry no name.
    pub fn drive(target: &Target, events: &[&str]) -> Driven {
        let named: Vec<(&str, &str)> = events.iter().map(|d| ("", *d)).collect();
        drive_named(target, &named)
    }
}
