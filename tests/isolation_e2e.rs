//! Isolation, generated from the served `/openapi.json`, so a route added later is
//! covered without touching this file: every `/api/v1/*` operation refuses a revoked
//! and an expired key (401) and an `inference` key exactly where it documents 403;
//! on every path with an id, customer A's key gets 404 for customer B's objects (ids
//! and numbers taken from B's own lists) and for guessed ones, and B's objects are
//! unchanged afterwards; every `/admin/v1/*` operation (and a path that does not exist)
//! answers 401 without the admin token, with a wrong one and with a customer key.

mod common;

use common::rest;
use common::world::{ADMIN_TOKEN, World};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One operation of the document.
struct Operation {
    method: Method,
    path: String,
    /// The body to send: the request body's example, `{}` when it has none.
    body: Option<Value>,
    statuses: Vec<String>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let body = op.get("requestBody").map(|b| example(doc, b));
            let statuses = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            out.push(Operation {
                method,
                path: path.clone(),
                body,
                statuses,
            });
        }
    }
    assert!(
        out.len() >= 20,
        "the document lists {} operations",
        out.len()
    );
    out
}

/// The example of a request body's JSON schema (following one `$ref`), else `{}`.
fn example(doc: &Value, body: &Value) -> Value {
    let schema = &body["content"]["application/json"]["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    schema.get("example").cloned().unwrap_or_else(|| json!({}))
}

/// `path` with every `{param}` replaced by `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out + rest
}

async fn call(world: &World, op: &Operation, path: &str, key: &str) -> (StatusCode, Value) {
    let (status, headers, body) = rest(
        op.method.clone(),
        &world.env.url(path),
        key,
        op.body.clone(),
    )
    .await;
    assert!(
        headers.contains_key("x-request-id"),
        "{} {path}: no x-request-id",
        op.method
    );
    if status.is_client_error() {
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{} {path}: {status} {body}",
            op.method
        );
    }
    (status, body)
}

/// The ids and numbers of the objects that B's key lists at `collection`.
async fn ids_of_b(world: &World, collection: &str) -> Vec<String> {
    let (status, _, list) = rest(Method::GET, &world.env.url(collection), &world.b_key, None).await;
    if status != StatusCode::OK {
        return Vec::new();
    }
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|item| [&item["id"], &item["number"]])
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// What B's key sees of B's keys and documents.
async fn b_state(world: &World) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/api/v1/keys?limit=200",
        "/api/v1/invoices?limit=200",
        "/api/v1/budget",
    ] {
        let (_, _, body) = rest(Method::GET, &world.env.url(path), &world.b_key, None).await;
        seen.push(body);
    }
    seen
}

#[tokio::test]
async fn every_operation_of_the_document_keeps_customers_and_credentials_apart() {
    let world = World::start().await;
    let doc = world.openapi().await;
    let ops = operations(&doc);
    let before = b_state(&world).await;
    for op in &ops {
        let manages = op.path.starts_with("/api/v1/keys")
            || (op.path == "/api/v1/budget" && op.method == Method::PUT);
        assert!(
            !manages || op.statuses.iter().any(|s| s == "403"),
            "{} {} manages keys or budgets but documents no 403",
            op.method,
            op.path
        );
    }

    for op in ops.iter().filter(|op| op.path.starts_with("/api/v1/")) {
        let path = fill(&op.path, &uuid::Uuid::now_v7().to_string());
        for (key, kind) in [(&world.a_revoked, "revoked"), (&world.a_expired, "expired")] {
            let (status, body) = call(&world, op, &path, key).await;
            assert_eq!(
                status, 401,
                "{} {path} with a {kind} key: {body}",
                op.method
            );
            assert!(body["detail"].as_str().unwrap().contains(kind), "{body}");
        }
        let (status, body) = call(&world, op, &path, ADMIN_TOKEN).await;
        assert_eq!(
            status, 401,
            "{} {path} with the admin token: {body}",
            op.method
        );

        let documents_403 = op.statuses.iter().any(|s| s == "403");
        let (status, body) = call(&world, op, &path, &world.a_inference).await;
        if documents_403 {
            assert_eq!(
                status, 403,
                "{} {path} with an inference key: {body}",
                op.method
            );
        } else {
            assert!(
                status != 403 && status != 401,
                "{} {path} with an inference key: {status} {body}",
                op.method
            );
        }

        if !op.path.contains('{') {
            continue;
        }
        let collection = &op.path[..op.path.find("/{").unwrap()];
        let mut ids = ids_of_b(&world, collection).await;
        assert!(
            !ids.is_empty() || !collection.starts_with("/api/v1/"),
            "B has nothing at {collection}"
        );
        ids.extend([
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::nil().to_string(),
            "MUS-2026-000099".into(),
            "not-an-id".into(),
        ]);
        for id in &ids {
            let path = fill(&op.path, id);
            let (status, body) = call(&world, op, &path, &world.env.key).await;
            assert_eq!(
                status, 404,
                "{} {path} with A's key on B's or no object: {body}",
                op.method
            );
        }
    }
    assert_eq!(
        b_state(&world).await,
        before,
        "A's calls changed B's objects"
    );

    let mut admin: Vec<(Method, String, Option<Value>)> = ops
        .iter()
        .filter(|op| op.path.starts_with("/admin/v1/"))
        .map(|op| (op.method.clone(), op.path.clone(), op.body.clone()))
        .collect();
    assert!(!admin.is_empty());
    admin.push((Method::DELETE, "/admin/v1/no-such-route".into(), None));
    for (method, template, body) in admin {
        let op = Operation {
            method,
            path: template.clone(),
            body,
            statuses: Vec::new(),
        };
        // A real id of B: a route refused without the token would have found it.
        let path = fill(&template, &world.b.to_string());
        for key in ["", "wrong", &ADMIN_TOKEN[1..], world.env.key.as_str()] {
            let (status, body) = call(&world, &op, &path, key).await;
            assert_eq!(status, 401, "{} {path} with {key:?}: {body}", op.method);
        }
        let (status, _) = call(&world, &op, &path, ADMIN_TOKEN).await;
        assert_ne!(status, 401, "{} {path} refuses the admin token", op.method);
    }
}
