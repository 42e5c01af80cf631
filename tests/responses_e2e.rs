//! `POST /v1/responses` with the official `openai` Python SDK against OpenAI (the
//! Responses API passed through to the mock's `/v1/responses`), Anthropic and Gemini
//! (the same requests translated through the chat path): `responses.create`, `responses.stream`,
//! a function tool round trip, a `json_schema` answer, the documented 400 for
//! `previous_response_id`; then the rollups of each deployment, exact to the token and
//! to the cost at its list price.

mod common;

use common::{TestEnv, sdk};
use meridian_core::TokenUsage;
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::ProviderKind;
use rust_decimal::Decimal;

const NATIVE: &str = "openai/gpt-4o-mini";
const TRANSLATED: &str = "anthropic/claude-sonnet-4-5";
const TRANSLATED_GEMINI: &str = "google/gemini-2.5-flash";

/// What each model is asked, printed as JSON per model.
const PROGRAM: &str = r#"
import json, os, openai
client = openai.OpenAI(base_url=os.environ["BASE"], api_key=os.environ["KEY"])
tools = [{"type": "function", "name": "get_weather", "description": "The weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"], "additionalProperties": False}, "strict": True}]
schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
          "additionalProperties": False}
out = {}
for model in os.environ["MODELS"].split(","):
    usages = []
    def create(**kw):
        raw = client.responses.with_raw_response.create(model=model, **kw)
        r = raw.parse()
        usages.append([r.usage.input_tokens, r.usage.output_tokens, raw.headers["x-meridian-cost"]])
        return r
    hello = create(input="hello there gateway", instructions="be brief")
    first = create(input=[{"role": "user", "content": "weather in Paris"}], tools=tools,
                   tool_choice="required")
    call = [i for i in first.output if i.type == "function_call"][0]
    second = create(input=[{"role": "user", "content": "weather in Paris"},
                           {"type": "function_call", "call_id": call.call_id, "name": call.name,
                            "arguments": call.arguments},
                           {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
                           {"role": "user", "content": [{"type": "input_text", "text": "thanks a lot"}]}],
                    tools=tools)
    structured = create(input="answer in json", text={"format": {"type": "json_schema",
                        "name": "Answer", "schema": schema, "strict": True}})
    with client.responses.stream(model=model, input="hello streamed gateway", tools=tools) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    usages.append([final.usage.input_tokens, final.usage.output_tokens, None])
    try:
        client.responses.create(model=model, input="x", previous_response_id="resp_123")
        refused = None
    except openai.BadRequestError as e:
        refused = [e.status_code, e.body]
    out[model] = {
        "hello": hello.output_text, "hello_store": hello.store,
        "call": [call.name, json.loads(call.arguments), first.output[-1].status],
        "second": second.output_text,
        "structured": json.loads(structured.output_text),
        "kinds": kinds, "streamed": final.output_text, "final_status": final.status,
        "refused": refused, "usages": usages,
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
models = ["{NATIVE}"]

[[deployments]]
id = "anthropic-test"
provider = "anthropic"
region = "eu-west"
kind = "on-demand"
base_url = "http://{mock}"
models = ["{TRANSLATED}"]
upstream_model = "claude-sonnet-4-5"

[[deployments]]
id = "gemini-test"
provider = "gemini"
region = "global"
kind = "on-demand"
base_url = "http://{mock}"
models = ["{TRANSLATED_GEMINI}"]
"#
    )
}

/// A deployment's rollup sums: requests, prompt, completion, cost.
async fn deployment_totals(env: &TestEnv, deployment: &str) -> (i64, i64, i64, Decimal) {
    sqlx::query_as(
        "SELECT coalesce(sum(requests),0)::bigint, coalesce(sum(prompt_tokens),0)::bigint,
                coalesce(sum(completion_tokens),0)::bigint, coalesce(sum(cost),0)
         FROM usage_rollups WHERE customer_id = $1 AND deployment = $2",
    )
    .bind(env.customer)
    .bind(deployment)
    .fetch_one(&env.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_openai_sdk_creates_and_streams_responses_natively_and_translated() {
    let env = TestEnv::start_with_deployments(config, |_| {}).await;
    let (base, key) = (env.base_url(), env.key.clone());
    let out = sdk::run_json(
        PROGRAM,
        &[
            ("BASE", &base),
            ("KEY", &key),
            ("MODELS", &[NATIVE, TRANSLATED, TRANSLATED_GEMINI].join(",")),
        ],
    )
    .await;
    let catalog: PriceCatalog = meridian::BUNDLED_PRICES.parse().unwrap();
    for (model, kind, region, upstream, deployment) in [
        (
            NATIVE,
            ProviderKind::OpenAi,
            "us-east",
            "gpt-4o-mini",
            "openai-test",
        ),
        (
            TRANSLATED,
            ProviderKind::Anthropic,
            "eu-west",
            "claude-sonnet-4-5",
            "anthropic-test",
        ),
        (
            TRANSLATED_GEMINI,
            ProviderKind::Gemini,
            "global",
            "gemini-2.5-flash",
            "gemini-test",
        ),
    ] {
        let r = &out[model];
        assert_eq!(r["hello"], "You said: hello there gateway", "{model}: {r}");
        assert_eq!(r["hello_store"], false, "{model}: never stored");
        assert_eq!(r["call"][0], "get_weather", "{model}");
        assert!(r["call"][1]["city"].is_string(), "{model}: {r}");
        assert_eq!(r["call"][2], "completed", "{model}");
        assert_eq!(r["second"], "You said: thanks a lot", "{model}");
        assert!(r["structured"]["answer"].is_string(), "{model}: {r}");
        assert_eq!(r["streamed"], "You said: hello streamed gateway", "{model}");
        assert_eq!(r["final_status"], "completed", "{model}");
        let kinds: Vec<&str> = r["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(
            kinds[..4],
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added"
            ],
            "{model}"
        );
        assert!(kinds.contains(&"response.output_text.delta"), "{model}");
        assert_eq!(
            kinds[kinds.len() - 4..],
            [
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed"
            ],
            "{model}"
        );
        assert_eq!(r["refused"][0], 400, "{model}");
        let message = r["refused"][1]["message"].as_str().unwrap();
        assert!(
            message.starts_with("`previous_response_id` cannot be used")
                && message.contains("send the whole conversation in `input`"),
            "{model}: {message}"
        );

        // Every answer's usage and cost, then the deployment's rollups, exact.
        let price = catalog.price_for(kind, region, upstream).unwrap();
        let mut total = TokenUsage::default();
        for usage in r["usages"].as_array().unwrap() {
            let one = TokenUsage {
                prompt: usage[0].as_u64().unwrap(),
                completion: usage[1].as_u64().unwrap(),
                ..Default::default()
            };
            if let Some(cost) = usage[2].as_str() {
                assert_eq!(cost, price.cost(&one).normalize().to_string(), "{model}");
            }
            total.prompt += one.prompt;
            total.completion += one.completion;
        }
        assert!(total.prompt > 0 && total.completion > 0);
        let expected = (
            5,
            total.prompt as i64,
            total.completion as i64,
            price.cost(&total).normalize(),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut got = deployment_totals(&env, deployment).await;
        while got.0 < 5 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            got = deployment_totals(&env, deployment).await;
        }
        got.3 = got.3.normalize();
        assert_eq!(got, expected, "{model}: rollups");
    }
}
