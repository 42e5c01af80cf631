//! The routing policy over regional pools, end to end against the mock providers:
//! home reserved pools first, then other regions' idle reserved pools (follow the
//! sun), then on-demand; residency as a hard filter; the request's routing controls;
//! a parameter one adapter refuses served by the next deployment; the total deadline.

mod common;

use std::time::{Duration, Instant};

use common::{Answer, TestEnv};
use meridian_core::config::Config;
use meridian_mock_providers::{Capacity, Fault, Route};
use serde_json::{Value, json};

/// One `[[deployments]]` table on the mock's OpenAI routes.
fn openai(id: &str, region: &str, kind: &str, model: &str, upstream: &str, extra: &str) -> String {
    format!(
        "[[deployments]]\nid = \"{id}\"\nprovider = \"openai\"\nregion = \"{region}\"\nkind = \"{kind}\"\n\
         base_url = \"MOCK/v1\"\nmodels = [\"{model}\"]\nupstream_model = \"{upstream}\"\n{extra}\n\n"
    )
}

const PLACEMENT: &str = "[gateway]\nregion = \"us-east\"\n\n[residency]\neu = [\"eu-west\"]\nus = [\"us-east\", \"us-west\"]\nnowhere = [\"mars-north\"]\n\n";

/// Three pools of gpt-4o-mini, each under its own name at the mock (which counts
/// capacity per model name): reserved in us-east and in eu-west, on-demand in each.
fn regional_pools() -> String {
    let m = "openai/gpt-4o-mini";
    [
        PLACEMENT.to_string(),
        openai(
            "us-east-reserved",
            "us-east",
            "reserved",
            m,
            "gpt-4o-mini",
            "rpm = 2",
        ),
        openai(
            "eu-west-reserved",
            "eu-west",
            "reserved",
            m,
            "gpt-4o-mini-2024-07-18",
            "rpm = 2",
        ),
        openai("us-on-demand", "us-east", "on-demand", m, "gpt-4o", ""),
        openai(
            "eu-on-demand",
            "eu-west",
            "on-demand",
            m,
            "gpt-4o-2024-08-06",
            "rpm = 1",
        ),
    ]
    .concat()
}

async fn start(toml: String) -> TestEnv {
    TestEnv::start_with(move |options| {
        let mock = options.config.deployments[0].base_url.clone();
        let mock = mock.trim_end_matches("/v1");
        options.config = Config::parse(&toml.replace("MOCK", mock)).unwrap();
    })
    .await
}

/// A chat request capped at 50 output tokens, with `extra` merged into the body.
async fn chat(env: &TestEnv, extra: Value) -> Answer {
    let mut capped = json!({"max_completion_tokens": 50});
    capped
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    common::chat_with(env, capped).await
}

async fn served_by(env: &TestEnv, extra: Value) -> String {
    let answer = chat(env, extra).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.deployment.unwrap()
}

/// Sets the test customer's residency and home region, and waits until the gateway's
/// key table has it (a change to the customer reaches its keys' rows, which the
/// gateway polls).
async fn place_customer(env: &TestEnv, residency: Option<&str>, home_region: Option<&str>) {
    sqlx::query("UPDATE customers SET residency = $2, home_region = $3 WHERE id = $1")
        .bind(env.customer)
        .bind(residency)
        .bind(home_region)
        .execute(&env.pool)
        .await
        .unwrap();
    let secret = env.key.clone();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let entry = env.server.keys.lookup(&secret).unwrap();
        if entry.residency.as_deref() == residency && entry.home_region.as_deref() == home_region {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the key table never saw the change"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of a per-deployment counter in `/metrics`.
fn counter(metrics: &str, name: &str, deployment: &str) -> u64 {
    let prefix = format!("{name}{{deployment=\"{deployment}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_burst_is_served_by_the_home_pool_then_another_regions_pool_then_on_demand() {
    let env = start(regional_pools()).await;
    // The mock refuses above the same capacities, as provisioned services do.
    for model in ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"] {
        env.mock.set_capacity(
            Route::OpenAi,
            model,
            Capacity {
                rpm: 2,
                tpm: 1_000_000,
            },
        );
    }
    let mut served = Vec::new();
    for _ in 0..5 {
        served.push(served_by(&env, json!({})).await);
    }
    assert_eq!(
        served,
        [
            "us-east-reserved",
            "us-east-reserved",
            "eu-west-reserved",
            "eu-west-reserved",
            "us-on-demand"
        ]
    );
    assert_eq!(
        env.mock.throttled(),
        0,
        "no pool the gateway admitted into refused"
    );

    let metrics = env.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "meridian_deployment_spilled_out_total",
            "us-east-reserved"
        ),
        3
    );
    assert_eq!(
        counter(
            &metrics,
            "meridian_deployment_spilled_in_total",
            "eu-west-reserved"
        ),
        2
    );
    assert_eq!(
        counter(
            &metrics,
            "meridian_deployment_spilled_in_total",
            "us-on-demand"
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            "meridian_deployment_spilled_in_total",
            "us-east-reserved"
        ),
        0
    );
}

#[tokio::test]
async fn a_customers_home_region_is_served_first() {
    let env = start(regional_pools()).await;
    place_customer(&env, None, Some("eu-west")).await;
    let served = [
        served_by(&env, json!({})).await,
        served_by(&env, json!({})).await,
    ];
    assert_eq!(served, ["eu-west-reserved", "eu-west-reserved"]);
    // Then the other region's reserved pool, before on-demand in the home region.
    assert_eq!(served_by(&env, json!({})).await, "us-east-reserved");
}

#[tokio::test]
async fn residency_eu_is_never_served_outside_the_eu_even_when_its_pools_are_full() {
    let env = start(regional_pools()).await;
    place_customer(&env, Some("eu"), None).await;
    let mut regions = Vec::new();
    for _ in 0..3 {
        let answer = chat(&env, json!({})).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        regions.push(answer.region.unwrap());
    }
    assert_eq!(regions, ["eu-west", "eu-west", "eu-west"]);

    // Every EU pool is full; the US pools have room, and are not used.
    let seen = env.mock.requests_seen();
    let answer = chat(&env, json!({})).await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "rate_limit_exceeded");
    assert!(answer.retry_after.is_some());
    assert_eq!(env.mock.requests_seen(), seen, "no provider was called");

    // The routing controls cannot widen it either.
    let answer = chat(&env, json!({"provider": {"only": ["us-east-reserved"]}})).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("routing controls")
    );
}

#[tokio::test]
async fn a_residency_with_no_deployment_or_not_configured_is_a_503_that_names_only_the_customers_own_values()
 {
    let env = start(regional_pools()).await;
    place_customer(&env, Some("nowhere"), None).await;
    let answer = chat(&env, json!({})).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "residency_unavailable");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`nowhere`"), "{message}");
    assert!(
        !message.contains("eu-west") && !message.contains("us-east"),
        "{message}"
    );

    place_customer(&env, Some("atlantis"), None).await;
    let answer = chat(&env, json!({})).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "residency_unavailable");
}

#[tokio::test]
async fn within_a_tier_the_pool_with_the_most_headroom_serves() {
    let m = "openai/gpt-4o-mini";
    let env = start(
        [
            PLACEMENT.to_string(),
            openai("big", "us-east", "reserved", m, "gpt-4o-mini", "rpm = 4"),
            openai(
                "small",
                "us-east",
                "reserved",
                m,
                "gpt-4o-mini-2024-07-18",
                "rpm = 2",
            ),
        ]
        .concat(),
    )
    .await;
    let mut served = Vec::new();
    for _ in 0..6 {
        served.push(served_by(&env, json!({})).await);
    }
    // Unused shares before each: (1, 1) (.75, 1) (.75, .5) (.5, .5) (.25, .5) (.25, 0).
    assert_eq!(served, ["big", "small", "big", "big", "small", "big"]);
    assert_eq!(chat(&env, json!({})).await.status, 429);
}

/// Two on-demand deployments of one model at different list prices (the dearer one
/// first in the config), a DeepSeek model, and o3-mini on a one-request pool.
fn priced_pools() -> String {
    let m = "openai/gpt-4o-mini";
    [
        PLACEMENT.to_string(),
        openai("dear", "us-east", "on-demand", m, "ft:gpt-4o-mini-2024-07-18", "collects_data = true"),
        openai("cheap", "us-east", "on-demand", m, "gpt-4o-mini", ""),
        openai("o3-pool", "us-east", "reserved", "openai/o3-mini", "o3-mini", "rpm = 1"),
        "[[deployments]]\nid = \"deepseek\"\nprovider = \"deepseek\"\nregion = \"global\"\nkind = \"on-demand\"\n\
         base_url = \"MOCK\"\nmodels = [\"deepseek/deepseek-chat\"]\n\n"
            .to_string(),
    ]
    .concat()
}

#[tokio::test]
async fn routing_controls_change_which_deployment_serves_and_never_reach_the_provider() {
    // The mock refuses `provider` and `models` as OpenAI does: a 200 below proves the
    // gateway took them out of the body.
    let env = start(priced_pools()).await;
    assert_eq!(
        served_by(&env, json!({})).await,
        "dear",
        "configuration order"
    );
    for (controls, expected) in [
        (json!({"provider": {"sort": "price"}}), "cheap"),
        (json!({"provider": {"only": ["cheap"]}}), "cheap"),
        (json!({"provider": {"ignore": ["dear"]}}), "cheap"),
        (json!({"provider": {"order": ["cheap", "dear"]}}), "cheap"),
        (
            json!({"provider": {"max_price": {"prompt": "0.2", "completion": "1"}}}),
            "cheap",
        ),
        (json!({"provider": {"data_collection": "deny"}}), "cheap"),
        // A provider name matches all of its deployments.
        (
            json!({"provider": {"ignore": ["openai"]}, "models": ["deepseek/deepseek-chat"]}),
            "deepseek",
        ),
    ] {
        assert_eq!(
            served_by(&env, controls.clone()).await,
            expected,
            "{controls}"
        );
    }

    // `allow_fallbacks: false` keeps to what `order` lists: with the o3 pool full, no
    // fallback model is tried.
    assert_eq!(
        served_by(&env, json!({"model": "openai/o3-mini"})).await,
        "o3-pool"
    );
    let answer = chat(
        &env,
        json!({"model": "openai/o3-mini", "models": ["openai/gpt-4o-mini"],
        "provider": {"order": ["o3-pool"], "allow_fallbacks": false}}),
    )
    .await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    // With fallbacks, the next model serves, and is the one metered.
    let answer = chat(
        &env,
        json!({"model": "openai/o3-mini", "models": ["openai/gpt-4o-mini"],
        "provider": {"sort": "price"}}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.deployment.as_deref(), Some("cheap"));
    common::wait_for_deployment_usage(&env.pool, env.customer, "cheap", 7).await;
    let models: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT model FROM usage_rollups WHERE deployment = 'cheap'")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(
        models,
        ["openai/gpt-4o-mini"],
        "the model that served is metered"
    );
}

#[tokio::test]
async fn routing_controls_that_are_malformed_or_unsupported_are_named_in_a_400() {
    let env = start(priced_pools()).await;
    for (controls, named) in [
        (json!({"provider": {"sort": "fastest"}}), "`provider.sort`"),
        (
            json!({"provider": {"require_parameters": true}}),
            "`provider.require_parameters`",
        ),
        (
            json!({"models": ["openai/gpt-5-ultra"]}),
            "openai/gpt-5-ultra",
        ),
        (
            json!({"provider": {"only": ["nobody"]}}),
            "routing controls",
        ),
    ] {
        let answer = chat(&env, controls.clone()).await;
        assert!(
            answer.status == 400 || answer.status == 404,
            "{controls}: {}",
            answer.status
        );
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{controls}: {message}");
    }
}

#[tokio::test]
async fn a_parameter_one_adapter_refuses_is_served_by_the_next_deployment() {
    let env = TestEnv::start_with(|options| {
        let mock = options.config.deployments[0].base_url.clone();
        let mock = mock.trim_end_matches("/v1").to_string();
        let toml = format!(
            "[[deployments]]\nid = \"anthropic\"\nprovider = \"anthropic\"\nregion = \"us-east\"\nkind = \"reserved\"\n\
             base_url = \"{mock}\"\nmodels = [\"anthropic/claude-sonnet-4-5\"]\n\n{}",
            openai("openai", "us-east", "on-demand", "openai/gpt-4o-mini", "gpt-4o-mini", "")
                .replace("MOCK", &mock)
        );
        options.config = Config::parse(&toml).unwrap();
    })
    .await;
    let ask = |extra: Value| {
        let mut body = json!({"model": "anthropic/claude-sonnet-4-5", "max_completion_tokens": 50,
            "messages": [{"role": "user", "content": "hello there"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        chat(&env, body)
    };
    // Anthropic cannot give two choices; without a fallback that is the client's 400.
    let answer = ask(json!({"n": 2})).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = ask(json!({"n": 2, "models": ["openai/gpt-4o-mini"]})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.deployment.as_deref(), Some("openai"));
    // The refusal was no failure of the deployment: it still serves what it can.
    assert_eq!(
        ask(json!({})).await.deployment.as_deref(),
        Some("anthropic")
    );
}

#[tokio::test]
async fn attempts_stop_at_the_requests_deadline() {
    let m = "openai/gpt-4o-mini";
    let env = start(
        [
            "[gateway]\ndeadline_ms = 400\n\n".to_string(),
            openai(
                "silent",
                "us-east",
                "reserved",
                m,
                "gpt-4o-mini",
                "first_byte_timeout_ms = 5000",
            ),
            openai("spare", "us-east", "on-demand", m, "gpt-4o-mini", ""),
        ]
        .concat(),
    )
    .await;
    env.mock.inject(Fault::Timeout, 1);
    let started = Instant::now();
    let answer = chat(&env, json!({})).await;
    let took = started.elapsed();
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "deadline_exceeded");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The deadline is the request's, not the deployment's: the next request is served.
    assert_eq!(served_by(&env, json!({})).await, "silent");
}
