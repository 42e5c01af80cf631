//! Deployment health: a deployment that keeps failing is skipped by its circuit
//! breaker until a probe succeeds, and one that answered 429 is skipped for as long as
//! its `retry-after` asked, so that neither is sent traffic it will refuse.

mod common;

use std::time::Duration;

use common::TestEnv;
use meridian_mock_providers::{Fault, MockServer};
use serde_json::json;

/// gpt-4o-mini on a reserved deployment on the test's mock (breaker: 2 failures, 500
/// ms) and an on-demand one on a second mock.
async fn primary_and_backup() -> (TestEnv, MockServer) {
    let backup = MockServer::start(Default::default()).await.unwrap();
    let backup_url = format!("http://{}/v1", backup.addr());
    let env = TestEnv::start_with(move |options| {
        let primary = options.config.deployments[0].base_url.clone();
        let toml = format!(
            "[[deployments]]\nid = \"primary\"\nprovider = \"openai\"\nregion = \"us-east\"\nkind = \"reserved\"\nbase_url = \"{primary}\"\nmodels = [\"openai/gpt-4o-mini\"]\nbreaker_failures = 2\nbreaker_cooldown_ms = 500\n\n\
             [[deployments]]\nid = \"backup\"\nprovider = \"openai\"\nregion = \"us-west\"\nkind = \"on-demand\"\nbase_url = \"{backup_url}\"\nmodels = [\"openai/gpt-4o-mini\"]\n"
        );
        options.config = meridian_core::config::Config::parse(&toml).unwrap();
    })
    .await;
    (env, backup)
}

/// The deployment that served one chat request (it must succeed).
async fn served_by(env: &TestEnv) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(&env.key)
        .json(&json!({"model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-meridian-deployment"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_failing_deployment_is_skipped_until_a_probe_succeeds() {
    let (env, _backup) = primary_and_backup().await;
    assert_eq!(served_by(&env).await, "primary");
    let server_error = Fault::Status {
        status: 500,
        retry_after_secs: None,
    };
    env.mock.inject(server_error, 2);
    // Two failures fail over to the backup and open the primary's breaker ...
    assert_eq!(served_by(&env).await, "backup");
    assert_eq!(served_by(&env).await, "backup");
    // ... which is then not called at all.
    let seen = env.mock.requests_seen();
    assert_eq!(served_by(&env).await, "backup");
    assert_eq!(
        env.mock.requests_seen(),
        seen,
        "an open breaker sends nothing"
    );
    let metrics = env.metrics().await;
    assert!(metrics.contains("meridian_deployment_breaker_open{deployment=\"primary\"} 1"));
    assert!(metrics.contains("meridian_deployment_breaker_skips_total{deployment=\"primary\"} 1"));
    // After the cooldown one probe goes to the primary; it succeeds and closes it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(served_by(&env).await, "primary");
    assert_eq!(served_by(&env).await, "primary");
}

#[tokio::test]
async fn a_failed_probe_keeps_the_breaker_open() {
    let (env, _backup) = primary_and_backup().await;
    env.mock.inject(
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        3,
    );
    assert_eq!(served_by(&env).await, "backup");
    assert_eq!(served_by(&env).await, "backup");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The probe meets the third 503: open again, for another cooldown.
    assert_eq!(served_by(&env).await, "backup");
    let seen = env.mock.requests_seen();
    assert_eq!(served_by(&env).await, "backup");
    assert_eq!(env.mock.requests_seen(), seen);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(served_by(&env).await, "primary");
}

#[tokio::test]
async fn a_deployment_that_answered_429_rests_for_its_retry_after() {
    let (env, _backup) = primary_and_backup().await;
    env.mock.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: Some(1),
        },
        1,
    );
    assert_eq!(served_by(&env).await, "backup");
    let seen = env.mock.requests_seen();
    assert_eq!(served_by(&env).await, "backup");
    assert_eq!(env.mock.requests_seen(), seen, "resting: not called");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(served_by(&env).await, "primary");
}
