//! Paths no route takes and methods a route does not take, answered in their family's
//! error shape; `GET /v1/models/{id}` through the OpenAI SDK; the CORS policy.

mod common;

use common::TestEnv;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ADMIN_TOKEN: &str = "admin-token-for-tests";

async fn start() -> TestEnv {
    TestEnv::start_with(|o| o.admin_token = Some(ADMIN_TOKEN.into())).await
}

struct Answer {
    status: StatusCode,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

async fn ask(env: &TestEnv, method: Method, path: &str, token: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new().request(method, env.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    Answer {
        status: response.status(),
        content_type: header("content-type").unwrap_or_default(),
        allow: header("allow"),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

fn assert_openai(answer: &Answer, status: u16, code: &str) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(answer.content_type.starts_with("application/json"));
    let error = &answer.body["error"];
    assert_eq!(error["code"], code, "{}", answer.body);
    assert_eq!(error["type"], "invalid_request_error");
    error["message"].as_str().unwrap().to_string()
}

fn assert_problem(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(answer.body["status"], status);
    answer.body["detail"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_under_v1_are_openai_errors() {
    let env = start().await;
    let key = Some(env.key.as_str());

    let message = assert_openai(
        &ask(&env, Method::POST, "/v1/completions", key).await,
        404,
        "unknown_url",
    );
    assert!(
        message.contains("use POST /v1/chat/completions"),
        "{message}"
    );
    let long = format!("/v1/{}", "x".repeat(5_000));
    let message = assert_openai(
        &ask(&env, Method::GET, &long, key).await,
        404,
        "unknown_url",
    );
    assert!(message.contains("GET /v1/models"), "{message}");
    assert!(message.len() < 400, "{message}");

    let answer = ask(&env, Method::GET, "/v1/chat/completions", key).await;
    assert_openai(&answer, 405, "method_not_allowed");
    assert_eq!(answer.allow.as_deref(), Some("POST"));
    let answer = ask(&env, Method::DELETE, "/v1/models", key).await;
    assert_openai(&answer, 405, "method_not_allowed");
    assert_eq!(answer.allow.as_deref(), Some("GET,HEAD"));
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_elsewhere_are_problems() {
    let env = start().await;
    let key = Some(env.key.as_str());

    let detail = assert_problem(&ask(&env, Method::GET, "/api/v1/nothing", key).await, 404);
    assert!(detail.contains("GET /api/v1/nothing"), "{detail}");
    assert_problem(&ask(&env, Method::GET, "/", None).await, 404);

    let answer = ask(&env, Method::POST, "/api/v1/usage", key).await;
    assert_problem(&answer, 405);
    assert_eq!(answer.allow.as_deref(), Some("GET,HEAD"));
    let answer = ask(&env, Method::POST, "/healthz", None).await;
    assert_problem(&answer, 405);
    assert_eq!(answer.allow.as_deref(), Some("GET,HEAD"));
}

#[tokio::test]
async fn admin_paths_say_nothing_without_the_admin_token() {
    let env = start().await;
    let admin = Some(ADMIN_TOKEN);

    for (method, path) in [
        (Method::GET, "/admin/v1/nothing"),
        (Method::GET, "/admin/v1"),
        (Method::DELETE, "/admin/v1/outbox"),
        (Method::GET, "/admin/v1/outbox"),
    ] {
        for token in [None, Some("wrong-token"), Some(env.key.as_str())] {
            let answer = ask(&env, method.clone(), path, token).await;
            assert_problem(&answer, 401);
            assert_eq!(answer.allow, None, "{method} {path}");
        }
    }

    let detail = assert_problem(
        &ask(&env, Method::GET, "/admin/v1/nothing", admin).await,
        404,
    );
    assert!(detail.contains("/admin/v1/nothing"), "{detail}");
    let answer = ask(&env, Method::DELETE, "/admin/v1/outbox", admin).await;
    assert_problem(&answer, 405);
    assert_eq!(answer.allow.as_deref(), Some("GET,HEAD"));
    assert_eq!(
        ask(&env, Method::GET, "/admin/v1/outbox", admin)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn models_retrieve_takes_public_ids_and_bare_names() {
    let env = start().await;
    let models = env.openai();
    let model = models
        .models()
        .retrieve("openai/gpt-4o-mini")
        .await
        .unwrap();
    assert_eq!(model.id, "openai/gpt-4o-mini");
    assert_eq!(model.owned_by, "openai");
    let model = models.models().retrieve("deepseek-chat").await.unwrap();
    assert_eq!(model.id, "deepseek/deepseek-chat");

    let listed = ask(&env, Method::GET, "/v1/models", Some(&env.key))
        .await
        .body;
    let one = ask(
        &env,
        Method::GET,
        "/v1/models/qwen/qwen-max",
        Some(&env.key),
    )
    .await
    .body;
    let same = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "qwen/qwen-max")
        .unwrap();
    assert_eq!(&one, same);

    let unknown = format!("/v1/models/openai/{}", "y".repeat(5_000));
    let message = assert_openai(
        &ask(&env, Method::GET, &unknown, Some(&env.key)).await,
        404,
        "model_not_found",
    );
    assert!(message.len() < 400, "{message}");
    match models.models().retrieve("openai/no-such-model").await {
        Err(async_openai::error::OpenAIError::ApiError(e)) => {
            assert_eq!(e.status_code, 404);
            assert_eq!(e.api_error.code.as_deref(), Some("model_not_found"))
        }
        other => panic!("{other:?}"),
    }
    let answer = ask(&env, Method::GET, "/v1/models/openai/gpt-4o-mini", None).await;
    assert_openai(&answer, 401, "missing_api_key");
}

#[tokio::test]
async fn browsers_of_any_origin_may_call_v1_without_credentials_but_not_admin() {
    let env = start().await;
    let client = reqwest::Client::new();
    let preflight = |path: &str| {
        client
            .request(Method::OPTIONS, env.url(path))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, x-stainless-os",
            )
            .send()
    };
    let response = preflight("/v1/chat/completions").await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "GET,POST");
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type, x-stainless-os"
    );
    assert!(h.get("access-control-allow-credentials").is_none());

    let response = client
        .post(format!("{}/chat/completions", env.base_url()))
        .header("origin", "https://app.example")
        .bearer_auth(&env.key)
        .json(&serde_json::json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let exposed = h["access-control-expose-headers"].to_str().unwrap();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("x-meridian-cost"),
        "{exposed}"
    );

    let response = preflight("/admin/v1/outbox").await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
