//! The provider conformance suite: one table of providers, the same cases for each,
//! through `meridian serve` with the async-openai client against the mock providers
//! over real HTTP. Cases: a chat, a stream with and without usage, a tool-call round
//! trip, an image, a JSON-schema answer, each class of error, a stream the client
//! abandons and one the provider breaks off; then the metering rollups per deployment
//! after the mixed traffic.
//!
//! Token counts follow the mocks' documented arithmetic, the same in every wire format
//! (a word is a token; a message costs its words, 85 per image and 4; a prompt 3 more;
//! the reply echoes the last user message as "You said: …"), so usage is asserted
//! exactly, and the cost exactly against the shipped catalog's list price of the
//! provider and region that served.
//!
//! A row states what its provider reports, how its model thinks, and how it refuses.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_openai::types::chat::{
    CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason,
};
use common::TestEnv;
use futures::StreamExt;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::{Config, Deployment, ProviderKind};
use meridian_core::{Secret, TokenUsage};
use meridian_mock_providers::{
    BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY, Fault, MockConfig,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// One provider of the table.
struct Provider {
    kind: ProviderKind,
    /// The public model id routed to this provider alone, and the provider's name for it.
    model: &'static str,
    upstream: &'static str,
    region: &'static str,
    /// Provider-specific `[[deployments]]` lines; `{mock}` is the mock's address.
    config: &'static str,
    /// Which detail kinds the provider reports as zero when there are none: cached,
    /// cache writes, reasoning.
    reports: (bool, bool, bool),
    /// Reasoning tokens the model spends before each answer (Gemini 2.5 thinks).
    thinking: u64,
    /// A request the gateway or the provider refuses with 400, and the error code.
    refused: (fn() -> Value, &'static str),
    /// The status an overloaded provider answers, and what the client then sees.
    overloaded: (u16, u16),
    /// Whether the provider sends `retry-after` with a 429 (Bedrock does not: the
    /// client then gets Meridian's default of 1 second).
    retry_after: bool,
    /// The `model` of an answer: the provider's name for it, or the public id where
    /// the provider names none (Bedrock).
    answer_model: &'static str,
}

const PROVIDERS: &[Provider] = &[
    Provider {
        kind: ProviderKind::Azure,
        model: "azure-openai/gpt-4o-mini",
        upstream: "gpt-4o-mini",
        region: "eu",
        config: r#"base_url = "http://{mock}"
azure_deployment = "gpt-4o-mini-prod"
api_version = "2024-10-21""#,
        reports: (true, false, true),
        thinking: 0,
        refused: (
            || json!({"messages": [{"role": "user", "content": "please MERIDIAN_FILTER_ME"}]}),
            "content_filter",
        ),
        overloaded: (500, 502),
        retry_after: true,
        answer_model: "gpt-4o-mini",
    },
    Provider {
        kind: ProviderKind::Anthropic,
        model: "anthropic/claude-sonnet-4-5",
        upstream: "claude-sonnet-4-5",
        region: "eu-west",
        config: r#"base_url = "http://{mock}""#,
        reports: (true, true, false),
        thinking: 0,
        refused: (|| json!({"seed": 7}), "unsupported_parameter"),
        overloaded: (529, 503),
        retry_after: true,
        answer_model: "claude-sonnet-4-5",
    },
    Provider {
        kind: ProviderKind::Gemini,
        model: "google/gemini-2.5-flash",
        upstream: "gemini-2.5-flash",
        region: "global",
        config: r#"base_url = "http://{mock}""#,
        reports: (false, false, false),
        thinking: 12,
        refused: (
            || json!({"parallel_tool_calls": false}),
            "unsupported_parameter",
        ),
        overloaded: (503, 503),
        retry_after: true,
        answer_model: "gemini-2.5-flash",
    },
    Provider {
        kind: ProviderKind::Vertex,
        model: "vertex-google/gemini-2.5-flash",
        upstream: "gemini-2.5-flash",
        region: "us-central1",
        config: r#"base_url = "http://{mock}"
project = "meridian-test""#,
        reports: (false, false, false),
        thinking: 12,
        refused: (
            || {
                json!({"messages": [{"role": "user", "content": [{"type": "image_url",
                    "image_url": {"url": "https://example.com/cat.png"}}]}]})
            },
            "unsupported_parameter",
        ),
        overloaded: (503, 503),
        retry_after: true,
        answer_model: "gemini-2.5-flash",
    },
    Provider {
        kind: ProviderKind::Bedrock,
        model: "bedrock-anthropic/claude-sonnet-4-5",
        upstream: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        region: "us-east-1",
        config: r#"base_url = "http://{mock}""#,
        reports: (true, true, false),
        thinking: 0,
        refused: (|| json!({"n": 2}), "unsupported_parameter"),
        overloaded: (503, 503),
        retry_after: false,
        answer_model: "bedrock-anthropic/claude-sonnet-4-5",
    },
];

impl Provider {
    fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    fn deployment_id(&self) -> String {
        format!("{}-test", self.name())
    }

    fn toml(&self, mock: &str) -> String {
        format!(
            "[[deployments]]\nid = \"{}\"\nprovider = \"{}\"\nregion = \"{}\"\nkind = \"on-demand\"\nmodels = [\"{}\"]\nupstream_model = \"{}\"\n{}\n",
            self.deployment_id(),
            self.name(),
            self.region,
            self.model,
            self.upstream,
            self.config.replace("{mock}", mock)
        )
    }

    /// The usage the provider reports for `prompt` tokens and an answer of `answer`
    /// tokens (after the model's thinking), nothing cached.
    fn usage(&self, prompt: u64, answer: u64) -> TokenUsage {
        let (cached, writes, reasoning) = self.reports;
        TokenUsage {
            prompt,
            completion: answer + self.thinking,
            cached: cached.then_some(0),
            cache_write: writes.then_some(0),
            cache_write_1h: None,
            reasoning: if self.thinking > 0 {
                Some(self.thinking)
            } else {
                reasoning.then_some(0)
            },
        }
    }

    /// The exact list-price cost of `usage` on this deployment.
    fn cost(&self, usage: &TokenUsage) -> Decimal {
        let catalog: PriceCatalog = meridian::BUNDLED_PRICES.parse().unwrap();
        catalog
            .price_for(self.kind, self.region, self.upstream)
            .unwrap_or_else(|| panic!("{}: no list price", self.name()))
            .cost(usage)
            .normalize()
    }

    /// Asserts an OpenAI `usage` object (with `cost`) against `expected`.
    fn check_usage(&self, usage: &Value, raw: &str, expected: &TokenUsage) {
        let name = self.name();
        let details = (
            usage["prompt_tokens"].as_u64(),
            usage["completion_tokens"].as_u64(),
            usage["total_tokens"].as_u64(),
            usage["prompt_tokens_details"]["cached_tokens"].as_u64(),
            usage["prompt_tokens_details"]["cache_write_tokens"].as_u64(),
            usage["completion_tokens_details"]["reasoning_tokens"].as_u64(),
        );
        assert_eq!(
            details,
            (
                Some(expected.prompt),
                Some(expected.completion),
                Some(expected.prompt + expected.completion),
                expected.cached,
                expected.cache_write,
                expected.reasoning
            ),
            "{name}: {usage}"
        );
        let cost = self.cost(expected);
        assert!(
            raw.contains(&format!("\"cost\":{cost}}}")),
            "{name}: usage.cost is {cost} exactly: {raw}"
        );
    }
}

/// Meridian serving one deployment per provider of the table, on the mock.
async fn start() -> TestEnv {
    start_paced(Duration::ZERO).await
}

/// The same, with the mock waiting `token_delay` before each streamed token.
async fn start_paced(token_delay: Duration) -> TestEnv {
    let mock = MockConfig {
        token_delay,
        ..Default::default()
    };
    TestEnv::start_with_mock(mock, |options| {
        let openai = &options.config.deployments[0].base_url;
        let mock = openai
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .to_string();
        let toml: String = PROVIDERS.iter().map(|p| p.toml(&mock)).collect();
        options.config = Config::parse(&toml).unwrap();
        options.credentials = Arc::new(|d: &Deployment| {
            Some(Secret::new(match d.provider {
                ProviderKind::Bedrock => {
                    format!("{BEDROCK_ACCESS_KEY_ID}:{BEDROCK_SECRET_ACCESS_KEY}")
                }
                _ => "test-upstream-key".into(),
            }))
        });
    })
    .await
}

async fn post(env: &TestEnv, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The `data:` payloads of a streamed answer.
async fn stream_events(env: &TestEnv, body: Value) -> Vec<String> {
    let response = post(env, body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

fn ask(p: &Provider, text: &str) -> Value {
    json!({"model": p.model, "messages": [{"role": "user", "content": text}]})
}

fn merge(mut body: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    body
}

/// The weather tool every tool case offers.
fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"]}}}])
}

/// A 1×1 PNG.
const PIXEL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test]
async fn chat_answers_in_openais_shape_at_the_list_price_of_the_provider() {
    let env = start().await;
    for p in PROVIDERS {
        let name = p.name();
        let response: CreateChatCompletionResponse = env
            .openai()
            .chat()
            .create_byot(ask(p, "hello there gateway"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(response.model, p.answer_model, "{name}");
        let choice = &response.choices[0];
        assert_eq!(
            choice.message.content.as_deref(),
            Some("You said: hello there gateway"),
            "{name}"
        );
        assert_eq!(choice.finish_reason, Some(FinishReason::Stop), "{name}");
        let usage = response.usage.unwrap();
        let expected = p.usage(10, 5);
        assert_eq!(
            (
                u64::from(usage.prompt_tokens),
                u64::from(usage.completion_tokens)
            ),
            (expected.prompt, expected.completion),
            "{name}"
        );

        let raw = post(
            &env,
            merge(
                ask(p, "hello there gateway"),
                json!({"usage": {"include": true}}),
            ),
        )
        .await;
        assert_eq!(raw.status(), 200, "{name}");
        let h = raw.headers().clone();
        assert_eq!(h["x-meridian-provider"], name);
        assert_eq!(h["x-meridian-deployment"], p.deployment_id().as_str());
        assert_eq!(h["x-meridian-region"], p.region);
        assert_eq!(
            h["x-meridian-cost"],
            p.cost(&expected).to_string().as_str(),
            "{name}"
        );
        let text = raw.text().await.unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        p.check_usage(&json["usage"], &text, &expected);
    }
}

#[tokio::test]
async fn streams_end_with_usage_only_when_asked() {
    let env = start().await;
    for p in PROVIDERS {
        let name = p.name();
        // The SDK's view: the words arrive in order and the usage comes last.
        let mut stream = env
            .openai()
            .chat()
            .create_stream_byot::<_, CreateChatCompletionStreamResponse>(merge(
                ask(p, "stream these words"),
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            ))
            .await
            .unwrap();
        let (mut text, mut usage, mut finish) = (String::new(), None, None);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(chunk.model, p.answer_model, "{name}");
            if let Some(choice) = chunk.choices.first() {
                text.push_str(choice.delta.content.as_deref().unwrap_or_default());
                finish = choice.finish_reason.or(finish);
            }
            if let Some(u) = chunk.usage {
                assert!(
                    chunk.choices.is_empty(),
                    "{name}: usage comes in its own chunk"
                );
                usage = Some(u);
            }
        }
        assert_eq!(text, "You said: stream these words", "{name}");
        assert_eq!(finish, Some(FinishReason::Stop), "{name}");
        let usage = usage.unwrap_or_else(|| panic!("{name}: no usage chunk"));
        let expected = p.usage(10, 5);
        assert_eq!(
            (
                u64::from(usage.prompt_tokens),
                u64::from(usage.completion_tokens)
            ),
            (expected.prompt, expected.completion),
            "{name}"
        );

        // The raw stream: the usage chunk carries the exact cost; without the switch
        // no chunk has empty `choices`.
        let body = merge(ask(p, "stream these words"), json!({"stream": true}));
        let events = stream_events(
            &env,
            merge(
                body.clone(),
                json!({"stream_options": {"include_usage": true}}),
            ),
        )
        .await;
        assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{name}");
        let usage_text = &events[events.len() - 2];
        let chunk: Value = serde_json::from_str(usage_text).unwrap();
        p.check_usage(&chunk["usage"], usage_text, &p.usage(10, 5));
        let events = stream_events(&env, body).await;
        assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{name}");
        for e in &events[..events.len() - 1] {
            let chunk: Value = serde_json::from_str(e).unwrap();
            assert!(
                !chunk["choices"].as_array().unwrap().is_empty(),
                "{name}: usage-only chunk leaked: {e}"
            );
        }
    }
}

#[tokio::test]
async fn a_tool_call_round_trip() {
    let env = start().await;
    for p in PROVIDERS {
        let name = p.name();
        let question = ask(p, "what is the weather in Paris");
        let forced = merge(
            question.clone(),
            json!({"tools": weather_tool(), "tool_choice": "required"}),
        );
        let response: CreateChatCompletionResponse = env
            .openai()
            .chat()
            .create_byot(forced.clone())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let choice = &response.choices[0];
        assert_eq!(
            choice.finish_reason,
            Some(FinishReason::ToolCalls),
            "{name}"
        );
        let call = &serde_json::to_value(&choice.message.tool_calls).unwrap()[0];
        assert_eq!(call["function"]["name"], "get_weather", "{name}");
        let args: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        assert!(
            args["city"].is_string(),
            "{name}: required argument: {args}"
        );

        // Streamed, the same call arrives in pieces that join into the arguments.
        let events = stream_events(&env, merge(forced, json!({"stream": true}))).await;
        let mut streamed = String::new();
        for e in &events[..events.len() - 1] {
            let chunk: Value = serde_json::from_str(e).unwrap();
            if let Some(piece) =
                chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str()
            {
                streamed.push_str(piece);
            }
        }
        let streamed: Value = serde_json::from_str(&streamed).unwrap();
        assert!(streamed["city"].is_string(), "{name}: {streamed}");

        // The result goes back; the model answers in words.
        let mut messages = question["messages"].as_array().unwrap().clone();
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
        messages.push(
            json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 degrees"}),
        );
        let raw = post(
            &env,
            json!({"model": p.model, "messages": messages, "tools": weather_tool(),
                   "usage": {"include": true}}),
        )
        .await;
        assert_eq!(raw.status(), 200, "{name}");
        let text = raw.text().await.unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["choices"][0]["finish_reason"], "stop", "{name}");
        let answer = json["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(answer.starts_with("You said:"), "{name}: {answer}");
        // Where the tool result is a turn of its own, what the mock echoes differs by
        // wire format: the cost is checked against what was reported.
        let u = &json["usage"];
        let reported = p.usage(
            u["prompt_tokens"].as_u64().unwrap(),
            u["completion_tokens"].as_u64().unwrap() - p.thinking,
        );
        p.check_usage(u, &text, &reported);
    }
}

#[tokio::test]
async fn an_image_costs_85_tokens() {
    let env = start().await;
    for p in PROVIDERS {
        let body = json!({"model": p.model, "usage": {"include": true}, "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is in this image"},
            {"type": "image_url", "image_url": {"url": PIXEL}}]}]});
        let raw = post(&env, body).await;
        assert_eq!(raw.status(), 200, "{}", p.name());
        let text = raw.text().await.unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json["choices"][0]["message"]["content"],
            "You said: what is in this image"
        );
        // 5 words + 85 for the image + 4, and 3 for the prompt.
        p.check_usage(&json["usage"], &text, &p.usage(97, 7));
    }
}

#[tokio::test]
async fn a_json_schema_answer_fills_the_schema() {
    let env = start().await;
    let schema = json!({"type": "object", "additionalProperties": false,
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"]});
    for p in PROVIDERS {
        let name = p.name();
        let body = merge(
            ask(p, "describe Paris"),
            json!({"response_format": {"type": "json_schema",
                "json_schema": {"name": "city", "strict": true, "schema": schema}}}),
        );
        let response: CreateChatCompletionResponse = env
            .openai()
            .chat()
            .create_byot(body)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let content = response.choices[0].message.content.clone().unwrap();
        let document: Value = serde_json::from_str(&content)
            .unwrap_or_else(|_| panic!("{name}: not JSON: {content}"));
        assert!(document["city"].is_string(), "{name}: {document}");
        assert!(document["population"].is_i64(), "{name}: {document}");
    }
}

#[tokio::test]
async fn each_class_of_error_in_openais_shape_naming_the_provider() {
    let env = start().await;
    for p in PROVIDERS {
        let name = p.name();
        // A request the provider cannot serve as asked.
        let (extra, code) = p.refused;
        let raw = post(&env, merge(ask(p, "CANARY words"), extra())).await;
        assert_eq!(raw.status(), 400, "{name}");
        let error: Value = raw.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{name}: {error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(name), "{name}: {message}");
        assert!(!message.contains("CANARY") && !message.contains("MERIDIAN_FILTER_ME"));

        // An overloaded or failing provider.
        let (upstream, seen) = p.overloaded;
        env.mock.inject(
            Fault::Status {
                status: upstream,
                retry_after_secs: None,
            },
            1,
        );
        let raw = post(&env, ask(p, "CANARY words")).await;
        assert_eq!(raw.status(), seen, "{name}");
        let error: Value = raw.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(name) && !message.contains("CANARY"),
            "{message}"
        );

        // A rate limit, with the provider's retry-after: last, as the deployment then
        // rests for as long as it asked.
        env.mock.inject(
            Fault::Status {
                status: 429,
                retry_after_secs: Some(2),
            },
            1,
        );
        let raw = post(&env, ask(p, "CANARY words")).await;
        assert_eq!(raw.status(), 429, "{name}");
        let hint = if p.retry_after { "2" } else { "1" };
        assert_eq!(raw.headers()["retry-after"], hint, "{name}");
        let error: Value = raw.json().await.unwrap();
        assert_eq!(error["error"]["type"], "rate_limit_error");
        assert!(error["error"]["message"].as_str().unwrap().contains(name));
    }
}

/// JSON a translating adapter could not read back (nesting past serde_json's limit,
/// an unpaired surrogate escape, a number beyond f64) once gave a 500.
#[tokio::test]
async fn unreadable_json_values_are_400s_naming_the_member_for_every_provider() {
    let env = start().await;
    let nested = |levels: usize| format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels));
    for p in PROVIDERS {
        let name = p.name();
        let m = format!(
            r#""model":"{}","messages":[{{"role":"user","content":"CANARY"}}]"#,
            p.model
        );
        let tool = format!(
            r#"[{{"type":"function","function":{{"name":"f","parameters":{}}}}}]"#,
            nested(130)
        );
        let schema = format!(
            r#"{{"type":"json_schema","json_schema":{{"name":"s","schema":{}}}}}"#,
            nested(130)
        );
        for (body, field) in [
            (format!(r#"{{{m},"metadata":{}}}"#, nested(130)), "metadata"),
            (format!(r#"{{{m},"tools":{tool}}}"#), "tools"),
            (
                format!(r#"{{{m},"response_format":{schema}}}"#),
                "response_format",
            ),
            (
                format!(
                    r#"{{"model":"{}","messages":[{{"role":"user","content":"CANARY \ud800"}}]}}"#,
                    p.model
                ),
                "messages",
            ),
            (format!(r#"{{{m},"temperature":1e309}}"#), "temperature"),
        ] {
            let raw = reqwest::Client::new()
                .post(format!("{}/chat/completions", env.base_url()))
                .bearer_auth(&env.key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(raw.status(), 400, "{name} {field}");
            let error: Value = raw.json().await.unwrap();
            let message = error["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("`{field}`")),
                "{name}: {message}"
            );
            assert!(!message.contains("CANARY"));
        }
    }
}

/// LangChain's `with_structured_output(method="function_calling")` forces one function
/// and sends `parallel_tool_calls: false`, which Gemini and Bedrock cannot express:
/// with one forced call it means nothing, so it is served.
#[tokio::test]
async fn one_call_at_a_time_with_a_forced_function_is_served_everywhere() {
    let env = start().await;
    for p in PROVIDERS {
        let name = p.name();
        let structured = merge(
            ask(p, "what is the weather in Paris"),
            json!({"tools": weather_tool(), "parallel_tool_calls": false,
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
        );
        let raw = post(&env, structured).await;
        assert_eq!(raw.status(), 200, "{name}");
        let answer: Value = raw.json().await.unwrap();
        let calls = answer["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap();
        assert_eq!(calls.len(), 1, "{name}: {answer}");
        assert_eq!(calls[0]["function"]["name"], "get_weather", "{name}");
    }
}

/// A deployment's rollups summed: deployment, provider, region, requests, errors,
/// prompt and completion tokens, cost.
type RollupSums = (String, String, String, i64, i64, i64, i64, Decimal);

#[tokio::test]
async fn rollups_per_deployment_are_exact_after_mixed_traffic() {
    let env = start().await;
    for p in PROVIDERS {
        post(&env, ask(p, "one two three")).await;
        stream_events(&env, merge(ask(p, "four five"), json!({"stream": true}))).await;
        env.mock.inject(
            Fault::Status {
                status: 429,
                retry_after_secs: None,
            },
            1,
        );
        post(&env, ask(p, "refused")).await;
    }
    let requests = 3 * PROVIDERS.len() as i64;
    common::wait_for_requests(&env.pool, env.customer, requests).await;
    let rows: Vec<RollupSums> = sqlx::query_as(
        "SELECT deployment, provider, region, sum(requests)::bigint, sum(errors)::bigint,
                sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint, sum(cost)
         FROM usage_rollups WHERE customer_id = $1 GROUP BY 1, 2, 3 ORDER BY 1",
    )
    .bind(env.customer)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    for p in PROVIDERS {
        let row = rows
            .iter()
            .find(|r| r.0 == p.deployment_id())
            .unwrap_or_else(|| panic!("{}: no rollup in {rows:?}", p.name()));
        // 3 + 4 + 3 and 2 + 4 + 3 prompt tokens; "You said: …" of 3 and 2 words.
        let (chat, stream) = (p.usage(10, 5), p.usage(9, 4));
        let cost = p.cost(&chat) + p.cost(&stream);
        let completion = (chat.completion + stream.completion) as i64;
        assert_eq!(
            (row.1.as_str(), row.2.as_str(), row.3, row.4, row.5, row.6),
            (p.name(), p.region, 3, 1, 19, completion),
            "{}",
            p.name()
        );
        assert_eq!(row.7.normalize(), cost.normalize(), "{}", p.name());
    }
}

/// Words in the prompt of the cut-short cases: the answer echoes them, one token each,
/// paced, so that a stream lasts seconds and can be left half-way.
const LONG_ANSWER_WORDS: usize = 300;

/// What the rollups of a stream cut short must hold: one estimated request, an error
/// (the stream did not end well), the prompt (reported, or counted by Meridian within
/// reason of the mock's arithmetic: a word a token, 4 a message, 3 a prompt), at
/// least what the client was delivered and less than the whole answer, billed at the
/// list price.
fn assert_billed_as_cut_short(p: &Provider, usage: &common::DeploymentUsage, delivered: &str) {
    let name = p.name();
    assert_eq!(
        (usage.requests, usage.errors, usage.estimated),
        (1, 1, 1),
        "{name}: {usage:?}"
    );
    let prompt = (LONG_ANSWER_WORDS + 7) as i64;
    assert!(
        (prompt * 9 / 10..=prompt * 11 / 10).contains(&usage.prompt),
        "{name}: prompt {} tokens, the provider's count is {prompt}",
        usage.prompt
    );
    let delivered = delivered.split_whitespace().count() as i64;
    assert!(
        usage.completion >= delivered && usage.completion < (LONG_ANSWER_WORDS + 2) as i64,
        "{name}: completion {} tokens, {delivered} words were delivered",
        usage.completion
    );
    let tokens = TokenUsage {
        prompt: usage.prompt as u64,
        completion: usage.completion as u64,
        ..Default::default()
    };
    assert!(usage.cost > Decimal::ZERO, "{name}");
    assert_eq!(usage.cost.normalize(), p.cost(&tokens), "{name}");
}

fn long_stream(p: &Provider) -> Value {
    merge(
        ask(p, &common::words(LONG_ANSWER_WORDS)),
        json!({"stream": true}),
    )
}

#[tokio::test]
async fn a_stream_the_client_abandons_is_billed_for_the_prompt_and_what_was_generated() {
    let env = start_paced(Duration::from_millis(10)).await;
    for p in PROVIDERS {
        let response = post(&env, long_stream(p)).await;
        assert_eq!(response.status(), 200, "{}", p.name());
        let read = common::read_stream(response, Some(40)).await;
        assert!(!read.done, "{}", p.name());
        // The upstream request is cancelled at once, not left to generate the rest
        // (about 2.6 s more of paced tokens).
        common::wait_until_upstream_streams_close(&env.mock, Duration::from_millis(1500)).await;
        let usage =
            common::wait_for_deployment_usage(&env.pool, env.customer, &p.deployment_id(), 1).await;
        assert_billed_as_cut_short(p, &usage, &read.content);
    }
    let metrics = env.metrics().await;
    assert!(
        metrics.contains(&format!(
            "meridian_requests_total{{operation=\"chat\",status=\"499\"}} {}",
            PROVIDERS.len()
        )),
        "{metrics}"
    );
    assert!(metrics.contains("meridian_requests_total{operation=\"chat\",status=\"2xx\"} 0"));
}

#[tokio::test]
async fn a_stream_the_provider_breaks_off_ends_with_an_error_and_bills_what_was_delivered() {
    let env = start().await;
    for p in PROVIDERS {
        env.mock.inject(Fault::StreamCut { after_chunks: 30 }, 1);
        let response = post(&env, long_stream(p)).await;
        assert_eq!(response.status(), 200, "{}", p.name());
        let read = common::read_stream(response, None).await;
        assert!(!read.done, "{}: no [DONE] after a cut", p.name());
        let error = read
            .error
            .unwrap_or_else(|| panic!("{}: no error event", p.name()));
        assert_eq!(
            error["error"]["code"],
            "upstream_unreachable",
            "{}",
            p.name()
        );
        assert!(!read.content.is_empty(), "{}", p.name());
        let usage =
            common::wait_for_deployment_usage(&env.pool, env.customer, &p.deployment_id(), 1).await;
        assert_billed_as_cut_short(p, &usage, &read.content);
        let metrics = env.metrics().await;
        assert!(
            metrics.contains(&format!(
                "meridian_stream_failures_total{{provider=\"{}\"}} 1",
                p.name()
            )),
            "{}: {metrics}",
            p.name()
        );
    }
}
