//! Every error a client can cause or meet, in OpenAI's shape, metered as an error and
//! never billed.

mod common;

use std::time::{Duration, Instant};

use common::TestEnv;
use meridian_mock_providers::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(
    env: &TestEnv,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn chat_body(model: &str) -> String {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}).to_string()
}

fn assert_openai_error(body: &Value, code: &str) {
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["type"].is_string(), "{body}");
    assert_eq!(error["code"], code, "{body}");
}

#[tokio::test]
async fn key_errors_are_401_and_revocation_takes_effect_within_a_second() {
    let env = TestEnv::start().await;
    let (status, _, body) = post(&env, None, chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 401);
    assert_openai_error(&body, "missing_api_key");
    let (status, _, body) = post(
        &env,
        Some("mk-not-a-real-key"),
        chat_body("openai/gpt-4o-mini"),
    )
    .await;
    assert_eq!(status, 401);
    assert_openai_error(&body, "invalid_api_key");

    let (status, _, _) = post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 200);
    let key_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE customer_id = $1")
        .bind(env.customer)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    let mut conn = env.pool.acquire().await.unwrap();
    let scope = meridian_keys::Scope::Customer(env.customer);
    let revoked = meridian_keys::table::revoke(&mut conn, scope, meridian_core::KeyId(key_id));
    assert!(revoked.await.unwrap().is_some());
    let revoked_at = Instant::now();
    loop {
        let (status, _, body) = post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
        if status == 401 {
            assert_openai_error(&body, "invalid_api_key");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("revoked")
            );
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < Duration::from_secs(1),
            "revocation not effective within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(revoked_at.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn bad_requests_and_upstream_failures_are_openai_errors_metered_unbilled() {
    let env = TestEnv::start().await;
    let key = Some(env.key.as_str());

    let (status, _, body) = post(&env, key, chat_body("openai/no-such-model")).await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "model_not_found");

    let (status, _, body) = post(
        &env,
        key,
        r#"{"model": "openai/gpt-4o-mini", "messages": [}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );

    let (status, _, body) = post(&env, key, r#"{"model": 5, "messages": []}"#).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "`model` must be a string.");

    let (status, _, body) = post(&env, key, json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}).to_string()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "`temperature` must be a number.");

    let huge = format!(
        r#"{{"model": "openai/gpt-4o-mini", "messages": [{{"role": "user", "content": "{}"}}]}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    let (status, _, body) = post(&env, key, huge).await;
    assert_eq!(status, 413);
    assert_openai_error(&body, "request_too_large");

    env.mock.inject(
        Fault::Status {
            status: 500,
            retry_after_secs: None,
        },
        1,
    );
    let (status, _, body) = post(&env, key, chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["type"], "upstream_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("openai")
    );

    // Last: the deployment then rests for the 7 s it was asked to.
    env.mock.inject(
        Fault::Status {
            status: 429,
            retry_after_secs: Some(7),
        },
        1,
    );
    let (status, headers, body) = post(&env, key, chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "7");
    assert_openai_error(&body, "rate_limit_exceeded");
    assert_eq!(headers["x-meridian-provider"], "openai");

    let totals = common::wait_for_requests(&env.pool, env.customer, 7).await;
    assert_eq!(
        totals,
        (7, 7, 0, 0, rust_decimal::Decimal::ZERO),
        "seven errors metered, nothing billed"
    );
}

/// The test gateway with a second, on-demand deployment of `openai/gpt-4o-mini` in
/// eu-west on a mock of its own (kept alive by the caller), after `adjust`.
async fn with_backup(
    adjust: impl FnOnce(&mut meridian::ServeOptions),
) -> (TestEnv, meridian_mock_providers::MockServer) {
    let second = meridian_mock_providers::MockServer::start(Default::default())
        .await
        .unwrap();
    let backup = format!(
        "\n[[deployments]]\nid = \"openai-eu-on-demand\"\nprovider = \"openai\"\nregion = \"eu-west\"\nkind = \"on-demand\"\nbase_url = \"http://{}/v1\"\nmodels = [\"openai/gpt-4o-mini\"]\n",
        second.addr()
    );
    let backup = meridian_core::config::Config::parse(&backup).unwrap();
    let env = TestEnv::start_with(|o| {
        adjust(o);
        o.config.deployments.extend(backup.deployments);
    })
    .await;
    (env, second)
}

#[tokio::test]
async fn a_failing_deployment_fails_over_before_the_client_sees_anything() {
    let (env, _backup) = with_backup(|_| {}).await;
    // The 429 comes last: its deployment then rests for the second it asked for.
    for fault in [
        Fault::Status {
            status: 503,
            retry_after_secs: None,
        },
        Fault::ConnectionReset,
        Fault::Status {
            status: 429,
            retry_after_secs: Some(1),
        },
    ] {
        env.mock.inject(fault, 1);
        let (status, headers, _) =
            post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-meridian-deployment"], "openai-eu-on-demand");
        assert_eq!(headers["x-meridian-region"], "eu-west");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, headers, _) = post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["x-meridian-deployment"], "openai-us-east-reserved",
        "reserved capacity first"
    );
}

#[tokio::test]
async fn a_deployment_silent_past_its_first_byte_timeout_fails_over() {
    let (env, _backup) = with_backup(|o| {
        o.config.deployments[0].first_byte_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    env.mock.inject(Fault::Timeout, 1);
    let started = std::time::Instant::now();
    let (status, headers, _) = post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-meridian-deployment"], "openai-eu-on-demand");
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(300) && took < std::time::Duration::from_secs(3),
        "the first deployment had 300 ms to answer: {took:?}"
    );
}

#[tokio::test]
async fn models_need_a_key() {
    let env = TestEnv::start().await;
    let r = reqwest::get(format!("{}/models", env.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_openai_error(&body, "missing_api_key");
}

#[tokio::test]
async fn metrics_count_requests_by_status_class() {
    let env = TestEnv::start().await;
    post(&env, Some(&env.key), chat_body("openai/gpt-4o-mini")).await;
    post(&env, Some(&env.key), chat_body("openai/unknown")).await;
    let text = env.metrics().await;
    assert!(
        text.contains("meridian_requests_total{operation=\"chat\",status=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("meridian_requests_total{operation=\"chat\",status=\"4xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("meridian_upstream_failures_total{provider=\"openai\"} 0"),
        "{text}"
    );
    assert!(text.contains("meridian_requests_in_flight 0"), "{text}");
}
