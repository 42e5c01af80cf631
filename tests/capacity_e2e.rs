//! Live capacity: each deployment's `rpm`/`tpm` is spent by the gateway itself, so a
//! pool is never sent more than it takes. A request goes to the first deployment of
//! its model with room; when none has any, the client gets 429 with `retry-after`
//! and no provider is called.

mod common;

use common::{TestEnv, chat_with as chat};
use meridian_core::config::Config;
use meridian_mock_providers::{Capacity, Route};
use serde_json::json;

const RESERVED_MODEL: &str = "gpt-4o-mini";
const ON_DEMAND_MODEL: &str = "gpt-4o-mini-2024-07-18";

/// gpt-4o-mini on a reserved pool of `reserved` and an on-demand pool of `on_demand`
/// (TOML capacity lines), both on the mock, under two names there (the mock counts
/// capacity per model name): `gpt-4o-mini` and its dated snapshot.
async fn two_pools(reserved: &str, on_demand: &str) -> TestEnv {
    let (reserved, on_demand) = (
        format!("upstream_model = \"{RESERVED_MODEL}\"\n{reserved}"),
        format!("upstream_model = \"{ON_DEMAND_MODEL}\"\n{on_demand}"),
    );
    TestEnv::start_with(move |options| {
        let mock = options.config.deployments[0].base_url.clone();
        let toml = format!(
            "[[deployments]]\nid = \"reserved-us\"\nprovider = \"openai\"\nregion = \"us-east\"\nkind = \"reserved\"\nbase_url = \"{mock}\"\nmodels = [\"openai/gpt-4o-mini\"]\n{reserved}\n\n\
             [[deployments]]\nid = \"on-demand-us\"\nprovider = \"openai\"\nregion = \"us-east\"\nkind = \"on-demand\"\nbase_url = \"{mock}\"\nmodels = [\"openai/gpt-4o-mini\"]\n{on_demand}\n"
        );
        options.config = Config::parse(&toml).unwrap();
    })
    .await
}

#[tokio::test]
async fn requests_over_a_pools_rpm_go_to_the_next_pool_then_get_429() {
    let env = two_pools("rpm = 2", "rpm = 1").await;
    let mut served = Vec::new();
    for _ in 0..3 {
        let answer = chat(&env, json!({})).await;
        assert_eq!(answer.status, 200);
        served.push(answer.deployment.unwrap());
    }
    assert_eq!(served, ["reserved-us", "reserved-us", "on-demand-us"]);

    let seen = env.mock.requests_seen();
    let answer = chat(&env, json!({})).await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "rate_limit_exceeded");
    let retry: u64 = answer.retry_after.expect("retry-after").parse().unwrap();
    assert!((1..=61).contains(&retry), "retry-after {retry}");
    assert_eq!(env.mock.requests_seen(), seen, "no provider was called");
}

#[tokio::test]
async fn a_request_whose_tokens_do_not_fit_goes_where_they_do_and_usage_corrects_the_estimate() {
    let env = two_pools("tpm = 1000", "").await;
    // Reserved: ~12 tokens of messages and 900 of output cap; the answer uses ~15.
    let deployment = chat(&env, json!({"max_tokens": 900})).await.deployment;
    assert_eq!(deployment.as_deref(), Some("reserved-us"));
    // The estimate was corrected to the usage, so 900 fit again ...
    let deployment = chat(&env, json!({"max_tokens": 900})).await.deployment;
    assert_eq!(deployment.as_deref(), Some("reserved-us"));
    // ... but not 990 more on top of what was used, nor a request without a cap (the
    // model's own output cap is reserved).
    let deployment = chat(&env, json!({"max_tokens": 990})).await.deployment;
    assert_eq!(deployment.as_deref(), Some("on-demand-us"));
    let deployment = chat(&env, json!({})).await.deployment;
    assert_eq!(deployment.as_deref(), Some("on-demand-us"));
}

/// The provisioned-service view: the mock refuses above the same capacities the
/// gateway is configured with. A burst twice the reserved pool's size is served by the
/// reserved pool up to its capacity and then by the on-demand one, and the provider
/// never has to refuse a request the gateway admitted.
#[tokio::test]
async fn a_burst_spills_to_the_next_pool_and_no_admitted_request_meets_a_429() {
    let env = two_pools("rpm = 5\ntpm = 200000", "rpm = 5\ntpm = 200000").await;
    for model in [RESERVED_MODEL, ON_DEMAND_MODEL] {
        env.mock.set_capacity(
            Route::OpenAi,
            model,
            Capacity {
                rpm: 5,
                tpm: 200_000,
            },
        );
    }
    let burst = (0..10).map(|_| chat(&env, json!({"max_tokens": 100})));
    let answers = futures::future::join_all(burst).await;
    let mut served: Vec<String> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.deployment.clone().unwrap()
        })
        .collect();
    served.sort();
    assert_eq!(served.iter().filter(|d| *d == "reserved-us").count(), 5);
    assert_eq!(served.iter().filter(|d| *d == "on-demand-us").count(), 5);
    assert_eq!(
        env.mock.throttled(),
        0,
        "the gateway never overbooked a pool"
    );

    let seen = env.mock.requests_seen();
    let answer = chat(&env, json!({"max_tokens": 100})).await;
    assert_eq!(answer.status, 429);
    assert!(answer.retry_after.is_some());
    assert_eq!(env.mock.requests_seen(), seen);
    assert_eq!(env.mock.throttled(), 0);

    let metrics = env.metrics().await;
    for line in [
        "meridian_deployment_utilization{deployment=\"reserved-us\",limit=\"requests\"} 1",
        "meridian_deployment_utilization{deployment=\"on-demand-us\",limit=\"requests\"} 1",
        "meridian_deployment_upstream_429_total{deployment=\"reserved-us\"} 0",
        "meridian_deployment_breaker_open{deployment=\"reserved-us\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    // Each request after the fifth skipped the reserved pool; the last one both.
    let skips = |deployment: &str| -> u64 {
        let name =
            format!("meridian_deployment_capacity_skips_total{{deployment=\"{deployment}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&name)?.parse().ok())
            .unwrap()
    };
    assert_eq!((skips("reserved-us"), skips("on-demand-us")), (6, 1));
}
