//! `POST /v1/messages` and `POST /v1/messages/count_tokens` with the official
//! `anthropic` Python SDK against Anthropic (the Messages API passed through to the
//! mock's `/v1/messages`): `messages.create`, `messages.stream` and a raw stream's
//! events in Anthropic's order, a tool use round trip, extended thinking,
//! `cache_control` (a cache write, then a read), Claude Code's `max_tokens: 1` probe,
//! `count_tokens` (never metered), Anthropic's model names, `anthropic-beta`
//! forwarded, errors in Anthropic's shape; then the deployment's rollups, exact to
//! the token of every kind and to the cost at its list price.

mod common;

use common::{TestEnv, sdk};
use meridian_core::TokenUsage;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::ProviderKind;
use meridian_mock_providers::Fault;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const NATIVE: &str = common::CLAUDE_ON_ANTHROPIC;
const TRANSLATED: &str = "openai/gpt-4o-mini";
/// Anthropic's model on Bedrock's InvokeModel, under a public id of its own.
const BEDROCK: &str = common::CLAUDE_ON_BEDROCK;
/// Claude on Vertex AI (`rawPredict`), under a public id of its own.
const VERTEX: &str = common::CLAUDE_ON_VERTEX;

/// What each model is asked, printed as JSON per model. Every answer's usage is
/// kept as `[input, cache read, cache write, output, x-meridian-cost, 1-hour cache
/// write]`.
const PROGRAM: &str = r#"
import json, os, anthropic
client = anthropic.Anthropic(base_url=os.environ["BASE"], api_key=os.environ["KEY"])
tools = [{"name": "get_weather", "description": "The weather in a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}]
out = {}
def refusal(call_it):
    try:
        call_it()
        return None
    except anthropic.APIStatusError as e:
        return [e.status_code, e.body]
for model in os.environ["MODELS"].split(","):
    # Anthropic itself, or Anthropic's model on Bedrock (InvokeModel); a chat provider
    # refuses thinking by name.
    anthropic_api = model != os.environ["TRANSLATED"]
    native = model == os.environ["NATIVE"]
    extra = {"thinking": {"type": "enabled", "budget_tokens": 1024}} if anthropic_api else {}
    usages = []
    def keep(usage, cost):
        by_ttl = usage.cache_creation
        usages.append([usage.input_tokens, usage.cache_read_input_tokens or 0,
                       usage.cache_creation_input_tokens or 0, usage.output_tokens, cost,
                       by_ttl.ephemeral_1h_input_tokens if by_ttl else None])
    def create(**kw):
        kw.setdefault("model", model)
        raw = client.messages.with_raw_response.create(**kw)
        m = raw.parse()
        keep(m.usage, raw.headers["x-meridian-cost"])
        return m, raw
    hello, raw = create(max_tokens=256, system=[{"type": "text", "text": "be brief"}],
                        messages=[{"role": "user", "content": "hello there gateway"}],
                        metadata={"user_id": "u-1"}, stop_sequences=["NEVER"],
                        extra_body={"temperature": 0.5})
    probe, _ = create(max_tokens=1, messages=[{"role": "user", "content": "quota"}])
    first, _ = create(max_tokens=256, tools=tools, tool_choice={"type": "any"},
                      messages=[{"role": "user", "content": "weather in Paris"}])
    call = [b for b in first.content if b.type == "tool_use"][0]
    second, _ = create(max_tokens=256, tools=tools, messages=[
        {"role": "user", "content": "weather in Paris"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"},
                                     {"type": "text", "text": "thanks a lot"}]}])
    thinking = dict(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
                    messages=[{"role": "user", "content": "think it over"}])
    if anthropic_api:
        thought, _ = create(**thinking)
        thought_out = [[b.type for b in thought.content], thought.content[0].signature]
    else:
        thought_out = refusal(lambda: client.messages.create(model=model, **thinking))
    policy = "policy " * 300
    cached = []
    for ttl in ["1h", "1h"]:
        m, _ = create(max_tokens=64,
                      system=[{"type": "text", "text": policy, "cache_control": {"type": "ephemeral", "ttl": ttl}}],
                      messages=[{"role": "user", "content": [
                          {"type": "text", "text": "summarize it", "cache_control": {"type": "ephemeral"}}]}])
        cached.append([m.usage.cache_creation_input_tokens, m.usage.cache_read_input_tokens])
    # Automatic caching (a top-level `cache_control`): written, then read.
    for _ in range(2):
        m, _ = create(max_tokens=64, cache_control={"type": "ephemeral"},
                      messages=[{"role": "user", "content": "an automatically cached " + policy}])
        cached.append([m.usage.cache_creation_input_tokens, m.usage.cache_read_input_tokens])
    # Anthropic's own names for the model, and a beta header passed on.
    snapshot = beta = None
    if native:
        snapshot, _ = create(model="claude-sonnet-4-5-20250929", max_tokens=32,
                             messages=[{"role": "user", "content": "dated name"}])
        snapshot = snapshot.content[0].text
        dotted, _ = create(model="anthropic/claude-sonnet-4.5", max_tokens=32,
                           messages=[{"role": "user", "content": "dotted name"}])
        snapshot = [snapshot, dotted.content[0].text]
    if anthropic_api:
        beta, _ = create(max_tokens=32, messages=[{"role": "user", "content": "with a beta"}],
                         extra_headers={"anthropic-beta": "context-management-2025-06-27"},
                         extra_body={"context_management": {"edits": []}})
        beta = beta.content[0].text
    with client.messages.stream(model=model, max_tokens=256,
                                messages=[{"role": "user", "content": "hello streamed gateway"}]) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    keep(final.usage, None)
    # The raw events (the SDK's iterator hides `ping`), and the usage they carry.
    kinds, datas = [], []
    with client.messages.with_streaming_response.create(
            model=model, max_tokens=2048, stream=True, **extra,
            messages=[{"role": "user", "content": "stream your thoughts"}]) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[len("event: "):])
            elif line.startswith("data: "):
                datas.append(json.loads(line[len("data: "):]))
    start_usage = [d for d in datas if d["type"] == "message_start"][0]["message"]["usage"]
    delta_usage = [d for d in datas if d["type"] == "message_delta"][0]["usage"]
    # As the SDK reads them: `message_delta`'s counts where it has them.
    final_usage = {**start_usage, **delta_usage}
    usages.append([final_usage["input_tokens"], final_usage["cache_read_input_tokens"],
                   final_usage["cache_creation_input_tokens"], final_usage["output_tokens"], None,
                   (final_usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens")])
    counted = client.messages.with_raw_response.count_tokens(
        model=model, system=[{"type": "text", "text": "be brief"}],
        messages=[{"role": "user", "content": "hello there gateway"}])
    errors = {}
    checks = [
        ("unknown_model", lambda: client.messages.create(model="claude-nonexistent-9", max_tokens=8,
                                                         messages=[{"role": "user", "content": "x"}])),
        ("no_max_tokens", lambda: client.messages.create(model=model, max_tokens=8,
                                                         messages=[{"role": "user", "content": "x"}],
                                                         extra_body={"max_tokens": None})),
        ("beta_missing", lambda: client.messages.create(model=model, max_tokens=8,
                                                        messages=[{"role": "user", "content": "x"}],
                                                        extra_body={"context_management": {"edits": []}})),
        ("bad_key", lambda: anthropic.Anthropic(base_url=os.environ["BASE"], api_key="mk-wrong", max_retries=0)
                                .messages.create(model=model, max_tokens=8, messages=[{"role": "user", "content": "x"}])),
    ]
    for name, call_it in checks:
        errors[name] = refusal(call_it)
    out[model] = {
        "hello": [b.model_dump() for b in hello.content], "hello_stop": hello.stop_reason,
        "provider": raw.headers["x-meridian-provider"],
        "probe": [probe.stop_reason, probe.usage.output_tokens],
        "call": [call.name, call.input, first.stop_reason],
        "second": second.content[0].text,
        "thought": thought_out,
        "cached": cached,
        "snapshot": snapshot, "beta": beta,
        "streamed": streamed_text, "final_stop": final.stop_reason,
        "kinds": kinds,
        "counted": [counted.parse().input_tokens, counted.headers.get("x-meridian-token-count")],
        "errors": errors, "usages": usages,
    }
print(json.dumps(out))
"#;

fn config(mock: &str) -> String {
    format!(
        r#"
[[deployments]]
id = "openai-test"
provider = "openai"
region = "us-east"
kind = "on-demand"
base_url = "http://{mock}/v1"
models = ["{TRANSLATED}"]
{}"#,
        common::claude_deployments(mock)
    )
}

/// A deployment's rollup sums: answered requests, errors, prompt, completion,
/// cached, cache write, cost.
async fn deployment_totals(
    env: &TestEnv,
    deployment: &str,
) -> (i64, i64, i64, i64, i64, i64, Decimal) {
    sqlx::query_as(
        "SELECT coalesce(sum(requests - errors),0)::bigint, coalesce(sum(errors),0)::bigint,
                coalesce(sum(prompt_tokens),0)::bigint,
                coalesce(sum(completion_tokens),0)::bigint, coalesce(sum(cached_tokens),0)::bigint,
                coalesce(sum(cache_write_tokens),0)::bigint, coalesce(sum(cost),0)
         FROM usage_rollups WHERE customer_id = $1 AND deployment = $2",
    )
    .bind(env.customer)
    .bind(deployment)
    .fetch_one(&env.pool)
    .await
    .unwrap()
}

async fn start() -> TestEnv {
    TestEnv::start_with_deployments(config, |options| {
        options.credentials = common::mock_credentials();
    })
    .await
}

#[tokio::test]
async fn the_anthropic_sdk_creates_streams_and_counts_messages_natively_and_translated() {
    let env = start().await;
    // Anthropic's SDKs take the root (`ANTHROPIC_BASE_URL`), not `/v1`.
    let (base, key) = (env.url(""), env.key.clone());
    let models = format!("{NATIVE},{TRANSLATED},{BEDROCK},{VERTEX}");
    let out = sdk::run_json(
        PROGRAM,
        &[
            ("BASE", &base),
            ("KEY", &key),
            ("MODELS", &models),
            ("NATIVE", NATIVE),
            ("TRANSLATED", TRANSLATED),
            ("BEDROCK", BEDROCK),
        ],
    )
    .await;
    let catalog: PriceCatalog = meridian::BUNDLED_PRICES.parse().unwrap();
    for (model, kind, region, upstream, deployment) in [
        (
            NATIVE,
            ProviderKind::Anthropic,
            "eu-west",
            "claude-sonnet-4-5",
            "anthropic-test",
        ),
        (
            TRANSLATED,
            ProviderKind::OpenAi,
            "us-east",
            "gpt-4o-mini",
            "openai-test",
        ),
        (
            BEDROCK,
            ProviderKind::Bedrock,
            "us-east-1",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "bedrock-test",
        ),
        (
            VERTEX,
            ProviderKind::Vertex,
            "us-east5",
            "claude-sonnet-4-5@20250929",
            "vertex-test",
        ),
    ] {
        let native = model == NATIVE;
        let anthropic_api = model != TRANSLATED;
        let r = &out[model];
        assert_eq!(
            r["hello"],
            json!([{"type": "text", "text": "You said: hello there gateway", "citations": null}]),
            "{model}: {r}"
        );
        assert_eq!(r["hello_stop"], "end_turn", "{model}");
        assert_eq!(r["provider"], kind.as_str(), "{model}");
        assert_eq!(r["probe"], json!(["max_tokens", 1]), "{model}");
        assert_eq!(r["call"][0], "get_weather", "{model}");
        assert!(r["call"][1]["city"].is_string(), "{model}: {r}");
        assert_eq!(r["call"][2], "tool_use", "{model}");
        assert_eq!(r["second"], "You said: thanks a lot", "{model}");
        assert_eq!(r["streamed"], "You said: hello streamed gateway", "{model}");
        assert_eq!(r["final_stop"], "end_turn", "{model}");
        let cached = r["cached"].as_array().unwrap();
        if anthropic_api {
            assert_eq!(r["thought"][0], json!(["thinking", "text"]), "{r}");
            assert!(r["thought"][1].as_str().is_some_and(|s| !s.is_empty()));
            assert!(cached[0][0].as_u64().unwrap() > 300, "a cache write: {r}");
            assert_eq!(cached[0][1], 0);
            assert_eq!(cached[1][0], 0, "then a read: {r}");
            assert_eq!(cached[1][1], cached[0][0]);
            assert!(
                cached[2][0].as_u64().unwrap() > 300,
                "automatic caching: {r}"
            );
            assert_eq!(cached[3][1], cached[2][0]);
        }
        if native {
            assert_eq!(
                r["snapshot"],
                json!(["You said: dated name", "You said: dotted name"])
            );
        }
        if anthropic_api {
            assert_eq!(r["beta"], "You said: with a beta", "{model}");
        }
        if !anthropic_api {
            // Extended thinking has no chat form: a 400 that names it.
            assert_eq!(r["thought"][0], 400, "{r}");
            let message = r["thought"][1]["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("`thinking` cannot be translated"),
                "{message}"
            );
            // `cache_control` is a hint a chat provider has no use for.
            assert!(cached.iter().all(|c| c == &json!([0, 0])), "{r}");
        }

        // The raw events, in Anthropic's order.
        let kinds: Vec<&str> = r["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let mut expected = vec!["message_start", "content_block_start"];
        if anthropic_api {
            let deltas = kinds
                .iter()
                .skip(2)
                .take_while(|k| **k == "content_block_delta")
                .count();
            assert!(deltas >= 2, "thinking, then its signature: {kinds:?}");
            expected.extend(std::iter::repeat_n("content_block_delta", deltas));
            expected.extend(["content_block_stop", "content_block_start"]);
        }
        expected.push("ping");
        let text_deltas = kinds.len() - expected.len() - 3;
        assert!(text_deltas >= 3, "{model}: {kinds:?}");
        expected.extend(std::iter::repeat_n("content_block_delta", text_deltas));
        expected.extend(["content_block_stop", "message_delta", "message_stop"]);
        assert_eq!(kinds, expected, "{model}");

        // count_tokens: the provider's count (Anthropic's `count_tokens`, Bedrock's
        // CountTokens), which is the prompt `hello` was billed for; counted here
        // where the provider has no such endpoint.
        if anthropic_api {
            assert_eq!(r["counted"][0], r["usages"][0][0], "{r}");
            assert_eq!(r["counted"][1], "provider");
        } else {
            assert!(r["counted"][0].as_u64().unwrap() > 0, "{r}");
            assert_eq!(r["counted"][1], "local");
        }

        // Errors in Anthropic's shape.
        let errors = &r["errors"];
        for (name, status, kind) in [
            ("unknown_model", 404, "not_found_error"),
            ("no_max_tokens", 400, "invalid_request_error"),
            ("beta_missing", 400, "invalid_request_error"),
            ("bad_key", 401, "authentication_error"),
        ] {
            assert_eq!(errors[name][0], status, "{model} {name}: {errors}");
            assert_eq!(errors[name][1]["type"], "error", "{name}: {errors}");
            assert_eq!(errors[name][1]["error"]["type"], kind, "{name}: {errors}");
        }
        let message = errors["no_max_tokens"][1]["error"]["message"]
            .as_str()
            .unwrap();
        assert_eq!(message, "`max_tokens` is required.");
        let message = errors["beta_missing"][1]["error"]["message"]
            .as_str()
            .unwrap();
        if anthropic_api {
            assert!(message.contains("refused the request (400)"), "{message}");
        } else {
            assert!(
                message.starts_with("`context_management` cannot be translated"),
                "{message}"
            );
        }

        // Every answer's usage and cost, then the deployment's rollups, exact to the
        // token of every kind (count_tokens and the refusals are not usage).
        let price = catalog.price_for(kind, region, upstream).unwrap();
        let mut total = TokenUsage {
            cached: Some(0),
            cache_write: Some(0),
            ..Default::default()
        };
        let usages = r["usages"].as_array().unwrap();
        for usage in usages {
            let n = |i: usize| usage[i].as_u64().unwrap();
            let one = TokenUsage {
                prompt: n(0) + n(1) + n(2),
                cached: Some(n(1)),
                cache_write: Some(n(2)),
                cache_write_1h: usage[5].as_u64(),
                completion: n(3),
                reasoning: None,
            };
            if let Some(cost) = usage[4].as_str() {
                assert_eq!(cost, price.cost(&one).normalize().to_string(), "{model}");
            }
            total.prompt += one.prompt;
            total.completion += one.completion;
            total.cached = Some(total.cached.unwrap() + n(1));
            total.cache_write = Some(total.cache_write.unwrap() + n(2));
            if let Some(one_hour) = one.cache_write_1h {
                total.cache_write_1h = Some(total.cache_write_1h.unwrap_or(0) + one_hour);
            }
        }
        if anthropic_api {
            assert!(total.cached.unwrap() > 300 && total.cache_write.unwrap() > 300);
        }
        let requests = usages.len() as i64;
        // The refusals that reached a deployment: Anthropic's (and Bedrock's) of a
        // beta field without its beta; the translation's of `thinking` and of that
        // beta field.
        let errors = if anthropic_api { 1 } else { 2 };
        let expected = (
            requests,
            errors,
            total.prompt as i64,
            total.completion as i64,
            total.cached.unwrap() as i64,
            total.cache_write.unwrap() as i64,
            price.cost(&total).normalize(),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut got = deployment_totals(&env, deployment).await;
        while (got.0 < requests || got.1 < errors) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            got = deployment_totals(&env, deployment).await;
        }
        got.6 = got.6.normalize();
        assert_eq!(got, expected, "{model}: rollups");
    }
}

/// What the provider's failures look like on `/v1/messages`: Anthropic's error shape
/// with the status an Anthropic client retries on, `retry-after` kept, and a stream
/// the provider breaks off ending with Anthropic's `error` event.
#[tokio::test]
async fn provider_failures_are_anthropic_errors() {
    let env = start().await;
    let client = reqwest::Client::new();
    let send = |body: Value| {
        client
            .post(env.url("/v1/messages"))
            .header("x-api-key", &env.key)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
    };
    let ask = json!({"model": NATIVE, "max_tokens": 64,
        "messages": [{"role": "user", "content": "hello there"}]});
    env.mock.inject(Fault::StreamCut { after_chunks: 4 }, 1);
    let mut streamed = ask.clone();
    streamed["stream"] = json!(true);
    let text = send(streamed).await.unwrap().text().await.unwrap();
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: error\ndata: "), "{text}");
    let data: Value = serde_json::from_str(last.split_once("data: ").unwrap().1).unwrap();
    assert_eq!(data["type"], "error");
    assert_eq!(data["error"]["type"], "api_error", "{data}");
    assert!(text.starts_with("event: message_start\n"), "{text}");

    // Last: the provider's 429 asks the gateway to let the deployment rest.
    for (fault, status, kind, retry_after) in [
        (
            Fault::Status {
                status: 529,
                retry_after_secs: None,
            },
            503,
            "overloaded_error",
            None,
        ),
        (
            Fault::Status {
                status: 500,
                retry_after_secs: None,
            },
            502,
            "api_error",
            None,
        ),
        (
            Fault::Status {
                status: 429,
                retry_after_secs: Some(7),
            },
            429,
            "rate_limit_error",
            Some("7"),
        ),
    ] {
        env.mock.inject(fault, 1);
        let r = send(ask.clone()).await.unwrap();
        assert_eq!(r.status(), status, "{kind}");
        if let Some(retry_after) = retry_after {
            assert_eq!(r.headers()["retry-after"], retry_after, "{kind}");
        }
        assert_eq!(r.headers()["x-meridian-provider"], "anthropic");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["type"], "error", "{body}");
        assert_eq!(body["error"]["type"], kind, "{body}");
    }
}

/// A model that declines (the mock's `MERIDIAN_REFUSE_ME`): Anthropic's
/// `stop_reason: "refusal"` passed through (Anthropic, Bedrock's InvokeModel), a chat
/// provider's `content_filter` shown as `refusal` on `/v1/messages`, and Anthropic's
/// refusal on `/v1/chat/completions` as OpenAI shows a filtered answer
/// (`finish_reason: "content_filter"`); the words given before the refusal reach
/// the client, whole or streamed, and are billed.
#[tokio::test]
async fn a_refusal_reaches_the_client_in_each_format() {
    let env = start().await;
    let client = reqwest::Client::new();
    let prompt = "MERIDIAN_REFUSE_ME now";
    for model in [NATIVE, TRANSLATED, BEDROCK, VERTEX] {
        for stream in [false, true] {
            let response = client
                .post(env.url("/v1/messages"))
                .header("x-api-key", &env.key)
                .header("anthropic-version", "2023-06-01")
                .json(&json!({"model": model, "max_tokens": 64, "stream": stream,
                    "messages": [{"role": "user", "content": prompt}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{model}");
            let (stop, text) = if stream {
                let body = response.text().await.unwrap();
                let events: Vec<Value> = body
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .map(|d| serde_json::from_str(d).unwrap())
                    .collect();
                let delta = events
                    .iter()
                    .find(|e| e["type"] == "message_delta")
                    .unwrap();
                let text: String = events
                    .iter()
                    .filter_map(|e| e["delta"]["text"].as_str())
                    .collect();
                (delta["delta"]["stop_reason"].clone(), text)
            } else {
                let message: Value = response.json().await.unwrap();
                let text = message["content"][0]["text"].as_str().unwrap().to_string();
                (message["stop_reason"].clone(), text)
            };
            assert_eq!(stop, "refusal", "{model} stream={stream}");
            assert_eq!(text, "You said:", "{model} stream={stream}");
        }
    }
    // Claude's refusal through the chat endpoint, whole and streamed, from Anthropic
    // and from Vertex.
    for model in [NATIVE, VERTEX] {
        let chat = |stream: bool| {
            client
                .post(env.url("/v1/chat/completions"))
                .bearer_auth(&env.key)
                .json(&json!({"model": model, "stream": stream,
                    "messages": [{"role": "user", "content": prompt}]}))
                .send()
        };
        let completion: Value = chat(false).await.unwrap().json().await.unwrap();
        let choice = &completion["choices"][0];
        assert_eq!(choice["finish_reason"], "content_filter", "{completion}");
        assert_eq!(choice["message"]["content"], "You said:", "{completion}");
        let body = chat(true).await.unwrap().text().await.unwrap();
        let finishes: Vec<Value> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str::<Value>(d).unwrap())
            .filter_map(|c| c["choices"][0]["finish_reason"].as_str().map(Value::from))
            .collect();
        assert_eq!(finishes, vec![Value::from("content_filter")], "{body}");
    }

    // Refused answers are answers: billed like any other.
    let usage =
        common::wait_for_deployment_usage(&env.pool, env.customer, "anthropic-test", 4).await;
    assert_eq!((usage.requests, usage.errors), (4, 0));
    assert!(usage.completion > 0 && usage.cost > Decimal::ZERO);
}
