//! Key management over real HTTP and the CLI against a real Postgres: create, list,
//! read, change, rotate and revoke keys of the caller's customer; a key created,
//! rotated, revoked or expired takes effect on `/v1/*` within the refresh interval;
//! an `inference` key is refused (403), another customer's key is a 404, POSTs are
//! idempotent, and pagination walks every key once.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::TestEnv;
use common::cli::{error_line, ok_json};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "finance-secret";

async fn chat_status(env: &TestEnv, key: &str) -> StatusCode {
    Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(key)
        .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits (up to 1 s) until `key` gets `want` on `/v1/chat/completions`.
async fn chat_becomes(env: &TestEnv, key: &str, want: StatusCode) {
    let started = Instant::now();
    loop {
        let status = chat_status(env, key).await;
        if status == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the key got {status}, not {want}, 1 s after the change"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `method path` with `key` and an optional JSON body: status, headers, body.
async fn call(
    env: &TestEnv,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    common::rest(method, &env.url(path), key, body).await
}

fn assert_problem(headers: &reqwest::header::HeaderMap, body: &Value, naming: &str) {
    assert_eq!(headers["content-type"], "application/problem+json");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains(naming), "{detail:?} should name {naming}");
}

#[tokio::test]
async fn an_admin_key_creates_changes_rotates_and_revokes_keys() {
    let env = TestEnv::start().await;
    let (status, headers, created) = call(
        &env,
        Method::POST,
        "/api/v1/keys",
        &env.key,
        Some(json!({"name": "ci", "role": "inference",
                    "limits": {"rpm": 600, "max_concurrency": 4},
                    "budget": {"amount": "25.00", "period": "day"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(headers.contains_key("x-request-id"));
    let secret = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["prefix"], secret[..8]);
    assert_eq!(created["role"], "inference");
    assert_eq!(
        created["limits"],
        json!({"rpm": 600, "tpm": null, "max_concurrency": 4})
    );
    assert_eq!(
        created["budget"],
        json!({"amount": "25.00", "currency": "USD", "period": "day", "spent": "0"})
    );
    assert_eq!(created["revoked_at"], Value::Null);
    chat_becomes(&env, &secret, StatusCode::OK).await;

    // An inference key serves /v1 and reads /api/v1, but manages no keys.
    let (status, headers, body) = call(&env, Method::GET, "/api/v1/keys", &secret, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_problem(&headers, &body, "`inference`");
    let (status, _, _) = call(&env, Method::GET, "/api/v1/usage", &secret, None).await;
    assert_eq!(status, StatusCode::OK);

    let path = format!("/api/v1/keys/{id}");
    let (status, _, read) = call(&env, Method::GET, &path, &env.key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        read.get("key").is_none(),
        "the secret is shown once: {read}"
    );
    assert_eq!(read["name"], "ci");

    let (status, _, changed) = call(
        &env,
        Method::PATCH,
        &path,
        &env.key,
        Some(json!({"name": "ci-2", "limits": {"rpm": null, "tpm": 5000}, "budget": {"amount": "40"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "ci-2");
    assert_eq!(
        changed["limits"],
        json!({"rpm": null, "tpm": 5000, "max_concurrency": 4})
    );
    assert_eq!(
        (&changed["budget"]["amount"], &changed["budget"]["period"]),
        (&json!("40"), &json!("day"))
    );
    let (status, headers, body) = call(
        &env,
        Method::PATCH,
        &path,
        &env.key,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_problem(&headers, &body, "`role`");

    // Rotation: the old secret works through its grace and is refused after it.
    let (status, _, rotated) = call(
        &env,
        Method::POST,
        &format!("{path}/rotate"),
        &env.key,
        Some(json!({"grace_seconds": 2})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_secret = rotated["key"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["id"], json!(id));
    assert_eq!(rotated["prefix"], new_secret[..8]);
    let grace_end: chrono::DateTime<chrono::Utc> = rotated["previous_key_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    chat_becomes(&env, &new_secret, StatusCode::OK).await;
    assert_eq!(chat_status(&env, &secret).await, StatusCode::OK);
    let wait = (grace_end - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(100)).await;
    assert_eq!(chat_status(&env, &secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(chat_status(&env, &new_secret).await, StatusCode::OK);

    let (status, _, body) = call(&env, Method::DELETE, &path, &env.key, None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    chat_becomes(&env, &new_secret, StatusCode::UNAUTHORIZED).await;
    let (status, _, _) = call(&env, Method::GET, "/api/v1/usage", &new_secret, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, _, list) = call(&env, Method::GET, "/api/v1/keys", &env.key, None).await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == json!(id))
        .unwrap();
    assert!(listed["revoked_at"].is_string(), "{listed}");
    let (status, _, _) = call(
        &env,
        Method::PATCH,
        &path,
        &env.key,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_expired_key_is_refused_like_a_revoked_one() {
    let env = TestEnv::start().await;
    let expires = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1500);
    let (status, _, created) = call(
        &env,
        Method::POST,
        "/api/v1/keys",
        &env.key,
        Some(json!({"name": "short", "role": "admin", "expires_at": expires.to_rfc3339()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["key"].as_str().unwrap();
    chat_becomes(&env, secret, StatusCode::OK).await;
    let (status, _, _) = call(&env, Method::GET, "/api/v1/keys", secret, None).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep((expires - chrono::Utc::now()).to_std().unwrap_or_default()).await;
    let response = Client::new()
        .post(format!("{}/chat/completions", env.base_url()))
        .bearer_auth(secret)
        .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["message"], "This API key has expired.");
    let (status, headers, body) = call(&env, Method::GET, "/api/v1/keys", secret, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_problem(&headers, &body, "expired");

    let past = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let (status, headers, body) = call(
        &env,
        Method::POST,
        "/api/v1/keys",
        &env.key,
        Some(json!({"name": "late", "role": "admin", "expires_at": past})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_problem(&headers, &body, "`expires_at`");
}

#[tokio::test]
async fn another_customers_key_is_as_if_it_did_not_exist() {
    let env = TestEnv::start_with(|o| o.admin_token = Some(TOKEN.into())).await;
    let other = sqlx::query_scalar::<_, uuid::Uuid>(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email)
         VALUES (gen_random_uuid(), 'Other', 'EU', 'EUR', 'de-DE', 'o@example.com') RETURNING id",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let other_key = meridian::demo::demo_key(&env.pool, meridian_core::CustomerId(other))
        .await
        .unwrap();
    chat_becomes(&env, other_key.expose(), StatusCode::OK).await;
    let (_, _, theirs) = call(&env, Method::GET, "/api/v1/keys", other_key.expose(), None).await;
    let their_id = theirs["items"][0]["id"].as_str().unwrap().to_string();

    let guessed = uuid::Uuid::now_v7().to_string();
    for id in [their_id.as_str(), guessed.as_str(), "not-an-id"] {
        let path = format!("/api/v1/keys/{id}");
        for (method, path, body) in [
            (Method::GET, path.clone(), None),
            (Method::PATCH, path.clone(), Some(json!({"name": "mine"}))),
            (Method::DELETE, path.clone(), None),
            (Method::POST, format!("{path}/rotate"), Some(json!({}))),
        ] {
            let (status, headers, body) = call(&env, method.clone(), &path, &env.key, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
            assert_problem(&headers, &body, "No key");
        }
    }
    // Their key still works: nothing was changed.
    assert_eq!(chat_status(&env, other_key.expose()).await, StatusCode::OK);

    // Finance sees any customer's keys, without secrets.
    let finance = Client::new()
        .get(env.url(&format!("/admin/v1/customers/{other}/keys")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(finance.status(), StatusCode::OK);
    let listed: Value = finance.json().await.unwrap();
    assert_eq!(listed["items"][0]["id"], json!(their_id));
    assert!(listed["items"][0].get("key").is_none());
    let unknown = Client::new()
        .get(env.url(&format!("/admin/v1/customers/{guessed}/keys")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_idempotent_create_replays_without_the_secret_and_refuses_another_body() {
    let env = TestEnv::start().await;
    let post = |idempotency: &'static str, body: Value| {
        Client::new()
            .post(env.url("/api/v1/keys"))
            .bearer_auth(&env.key)
            .header("Idempotency-Key", idempotency)
            .json(&body)
            .send()
    };
    let body = json!({"name": "deploy", "role": "inference"});
    let first = post("create-deploy-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert!(first["key"].is_string());
    let again = post("create-deploy-1", body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert!(
        again.get("key").is_none(),
        "a replay never shows the secret"
    );
    let other = post(
        "create-deploy-1",
        json!({"name": "other", "role": "inference"}),
    )
    .await
    .unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(other.headers()["content-type"], "application/problem+json");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE customer_id = $1")
        .bind(env.customer)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(count, 2, "the test's key and one created key");

    // Racing alike requests make one key.
    let racing = futures::future::join_all(
        (0..8).map(|_| post("create-race", json!({"name": "race", "role": "inference"}))),
    )
    .await;
    let mut ids = HashSet::new();
    for r in racing {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.insert(r.json::<Value>().await.unwrap()["id"].to_string());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[tokio::test]
async fn pages_walk_every_key_exactly_once() {
    let env = TestEnv::start().await;
    for i in 0..6 {
        let (status, _, _) = call(
            &env,
            Method::POST,
            "/api/v1/keys",
            &env.key,
            Some(json!({"name": format!("k{i}"), "role": "inference"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/api/v1/keys?limit=3".to_string();
    loop {
        let (status, _, page) = call(&env, Method::GET, &path, &env.key, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/keys?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 7));
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
    for (query, naming) in [
        ("limit=0", "`limit`"),
        ("limit=201", "`limit`"),
        ("cursor=forged", "`cursor`"),
    ] {
        let (status, headers, body) = call(
            &env,
            Method::GET,
            &format!("/api/v1/keys?{query}"),
            &env.key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_problem(&headers, &body, naming);
    }
}

#[tokio::test]
async fn the_cli_creates_lists_rotates_and_revokes_keys() {
    let env = TestEnv::start().await;
    let url = &env.database_url;
    let customer = env.customer.to_string();
    let created = ok_json(
        url,
        &[
            "keys",
            "create",
            "--customer",
            &customer,
            "--name",
            "batch",
            "--role",
            "inference",
            "--rpm",
            "60",
            "--tpm",
            "1000",
            "--max-concurrency",
            "2",
            "--budget",
            "9.50",
            "--budget-period",
            "day",
            "--json",
        ],
    );
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["key"].as_str().unwrap().to_string();
    assert_eq!(created["role"], "inference");
    assert_eq!(
        created["limits"],
        json!({"rpm": 60, "tpm": 1000, "max_concurrency": 2})
    );
    assert_eq!(
        created["budget"],
        json!({"amount": "9.50", "period": "day"})
    );
    chat_becomes(&env, &secret, StatusCode::OK).await;

    let plain = ok_json(url, &["keys", "create", "--customer", &customer, "--json"]);
    assert_eq!(plain["role"], "admin", "a key made without --role is admin");

    let listed = ok_json(url, &["keys", "list", "--customer", &customer, "--json"]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()) && ids.len() == 3, "{ids:?}");
    assert!(listed.to_string().find(&secret).is_none());

    let rotated = ok_json(
        url,
        &["keys", "rotate", &id, "--grace-seconds", "0", "--json"],
    );
    let new_secret = rotated["key"].as_str().unwrap().to_string();
    chat_becomes(&env, &new_secret, StatusCode::OK).await;
    chat_becomes(&env, &secret, StatusCode::UNAUTHORIZED).await;

    ok_json(url, &["keys", "revoke", &id, "--json"]);
    chat_becomes(&env, &new_secret, StatusCode::UNAUTHORIZED).await;

    let err = error_line(
        url,
        &["keys", "create", "--customer", &customer, "--role", "root"],
    );
    assert!(err.contains("--role"), "{err}");
    let err = error_line(url, &["keys", "rotate", &id]);
    assert!(err.contains("revoked"), "{err}");
}
