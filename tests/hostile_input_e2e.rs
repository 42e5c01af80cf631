//! Input from a hostile-input probe and a newcomer's run, over real HTTP against the
//! mock providers: each once gave a 500 or an unhelpful answer, and now gets a 4xx in
//! the route family's shape that names what is wrong (never the value sent).

mod common;

use common::TestEnv;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "finance-secret";

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, String, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

async fn chat(env: &TestEnv, body: String) -> (StatusCode, String, Value) {
    send(
        reqwest::Client::new()
            .post(format!("{}/chat/completions", env.base_url()))
            .bearer_auth(&env.key)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

fn nested(levels: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels))
}

#[tokio::test]
async fn unreadable_json_values_are_400s_naming_the_member_on_openai_too() {
    let env = TestEnv::start().await;
    let m = r#""model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"CANARY"}]"#;
    for (body, field) in [
        (format!(r#"{{{m},"metadata":{}}}"#, nested(130)), "metadata"),
        (format!(r#"{{{m},"stream_options":{}}}"#, nested(70)), "stream_options"),
        (
            r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"CANARY\ud800"}]}"#
                .to_string(),
            "messages",
        ),
        (format!(r#"{{{m},"temperature":1e309}}"#), "temperature"),
    ] {
        let (status, _, error) = chat(&env, body).await;
        assert_eq!(status, 400, "{field}: {error}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("`{field}`")), "{message}");
        assert!(!message.contains("CANARY"));
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_on_every_route() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    let http = reqwest::Client::new();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let key = format!("{scheme} {}", env.key);
        let (status, _, body) = send(
            http.post(format!("{}/chat/completions", env.base_url()))
                .header("authorization", &key)
                .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})),
        )
        .await;
        assert_eq!(status, 200, "{scheme}: {body}");
        let (status, _, _) = send(
            http.get(format!("{}/models", env.base_url()))
                .header("authorization", &key),
        )
        .await;
        assert_eq!(status, 200, "{scheme} /v1/models");
        let (status, _, _) = send(
            http.get(env.url("/api/v1/invoices"))
                .header("authorization", &key),
        )
        .await;
        assert_eq!(status, 200, "{scheme} /api/v1/invoices");
        let (status, _, _) = send(
            http.get(env.url("/admin/v1/invoices"))
                .header("authorization", format!("{scheme} {TOKEN}")),
        )
        .await;
        assert_eq!(status, 200, "{scheme} /admin/v1/invoices");
    }
    let (status, _, _) = send(
        http.get(env.url("/admin/v1/invoices"))
            .header("authorization", format!("Basic {TOKEN}")),
    )
    .await;
    assert_eq!(status, 401, "another scheme is no bearer token");
}

#[tokio::test]
async fn invoice_ids_postgres_cannot_hold_are_404_problems_not_500s() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    let http = reqwest::Client::new();
    let long = "X".repeat(3000);
    for id in ["%00", "INV%00-1", "%FF", "%C3%28", long.as_str()] {
        for (method, path, token) in [
            (
                "GET",
                format!("/api/v1/invoices/{id}/pdf"),
                env.key.as_str(),
            ),
            ("GET", format!("/admin/v1/invoices/{id}"), TOKEN),
            ("GET", format!("/admin/v1/invoices/{id}/pdf"), TOKEN),
            ("GET", format!("/admin/v1/invoices/{id}/xml"), TOKEN),
            (
                "POST",
                format!("/admin/v1/invoices/{id}/credit-notes"),
                TOKEN,
            ),
            ("POST", format!("/admin/v1/outbox/{id}/retry"), TOKEN),
        ] {
            let request = http
                .request(method.parse().unwrap(), env.url(&path))
                .bearer_auth(token)
                .body(r#"{"reason": "test"}"#);
            let (status, content_type, body) = send(request).await;
            let shown = &path[..path.len().min(60)];
            assert_eq!(status, 404, "{method} {shown}: {body}");
            assert_eq!(content_type, "application/problem+json", "{shown}");
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.len() < 200, "{shown}: the id is cut: {detail}");
            assert!(!detail.contains('\0'));
        }
        // The token is checked before the path is judged.
        let (status, _, _) = send(http.get(env.url(&format!("/admin/v1/invoices/{id}")))).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn a_credit_note_reason_with_a_nul_is_a_400() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    let (status, content_type, body) = send(
        reqwest::Client::new()
            .post(env.url("/admin/v1/invoices/MUS-2026-000001/credit-notes"))
            .bearer_auth(TOKEN)
            .body(r#"{"reason": "wrong\u0000rate"}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["detail"], "`reason` must not contain NUL characters.");
}

#[tokio::test]
async fn a_content_encoding_that_is_not_decoded_is_415_in_each_familys_shape() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    let http = reqwest::Client::new();
    let (status, _, body) = send(
        http.post(format!("{}/chat/completions", env.base_url()))
            .bearer_auth(&env.key)
            .header("content-encoding", "gzip")
            .body(vec![0x1f, 0x8b, 8, 0]),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["error"]["code"], "unsupported_content_encoding");
    let (status, _, body) = send(
        http.post(format!("{}/embeddings", env.base_url()))
            .bearer_auth(&env.key)
            .header("content-encoding", "br")
            .body("x"),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    let (status, content_type, _) = send(
        http.post(env.url("/admin/v1/invoices/MUS-2026-000001/credit-notes"))
            .bearer_auth(TOKEN)
            .header("content-encoding", "gzip")
            .body(vec![0x1f, 0x8b, 8, 0]),
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(content_type, "application/problem+json");
    // `identity` is the body as it is.
    let (status, _, body) = send(
        http.post(format!("{}/chat/completions", env.base_url()))
            .bearer_auth(&env.key)
            .header("content-encoding", "identity")
            .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn embeddings_take_at_most_2048_inputs_and_models_serve_their_own_endpoint() {
    let env = TestEnv::start().await;
    let http = reqwest::Client::new();
    let embed = |body: Value| {
        send(
            http.post(format!("{}/embeddings", env.base_url()))
                .bearer_auth(&env.key)
                .json(&body),
        )
    };
    let inputs = |n: usize| vec!["CANARY"; n];
    let (status, _, body) =
        embed(json!({"model": "openai/text-embedding-3-small", "input": inputs(2048)})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2048);
    let (status, _, body) =
        embed(json!({"model": "openai/text-embedding-3-small", "input": inputs(2049)})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("`input` holds 2049 inputs"),
        "{body}"
    );

    let (status, _, body) = embed(json!({"model": "openai/gpt-4o-mini", "input": "CANARY"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "model_not_supported");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("openai/gpt-4o-mini")
    );

    let (status, _, body) = chat(
        &env,
        json!({"model": "openai/text-embedding-3-small", "messages": [{"role": "user", "content": "CANARY"}]})
            .to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "model_not_supported");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/embeddings")
    );
}

#[tokio::test]
async fn openais_json_object_refusal_keeps_its_reason() {
    let env = TestEnv::start().await;
    let (status, _, body) = chat(
        &env,
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "CANARY"}],
            "response_format": {"type": "json_object"}})
        .to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "upstream_refused");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("'messages' must contain the word 'json' in some form"),
        "{message}"
    );
    assert!(!message.contains("CANARY"));
}
