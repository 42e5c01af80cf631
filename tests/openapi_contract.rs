//! The contract: schemathesis (from PyPI, `scripts/schemathesis`) fuzzes every
//! operation of the served `/openapi.json` of a live Meridian with real data (two
//! customers with usage, issued invoices and a credit note, keys), once with customer
//! A's `admin` key over `/api/v1/*` and once with the admin token over `/admin/v1/*`,
//! and must find no 5xx, no response outside the schema, and no undocumented status.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::world::{ADMIN_TOKEN, World};

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance,negative_data_rejection,\
    missing_required_header,unsupported_method,ignored_auth";

/// A schemathesis config that fixes the path ids of the routes that read one object
/// to real ones, so that fuzzing reaches past the lookup: A's documents and customer,
/// A's `inference` key (not the key fuzzed with), B's invoice for finance (it has a
/// credit note), the US entity and October's invoice run.
async fn config(world: &World) -> PathBuf {
    let (_, _, list) = common::rest(
        reqwest::Method::GET,
        &world.env.url("/api/v1/invoices"),
        &world.env.key,
        None,
    )
    .await;
    let a_invoice = list["items"][0]["id"].as_str().unwrap().to_string();
    let b_invoice = meridian_billing::query::list(
        &world.env.pool,
        &meridian_billing::query::ListFilter {
            customer: Some(world.b),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .into_iter()
    .find(|i| i.kind == "invoice")
    .unwrap()
    .number;
    let key = common::world::key_id(world, &world.a_inference).await;
    let run = meridian_billing::query::runs(&world.env.pool, None, None)
        .await
        .unwrap()
        .remove(0)
        .id
        .to_string();
    let fixed = [
        (r"^/api/v1/invoices/\\{id\\}", "path.id", a_invoice),
        (r"^/api/v1/keys/\\{id\\}", "path.id", key),
        (
            r"^/admin/v1/customers/\\{id\\}",
            "path.id",
            world.env.customer.to_string(),
        ),
        (r"\\{number\\}", "path.number", b_invoice),
        (r"^/admin/v1/entities/\\{code\\}", "path.code", "US".into()),
        (r"^/admin/v1/invoice-runs/\\{id\\}", "path.id", run),
    ];
    let toml: String = fixed
        .iter()
        .map(|(path, name, value)| {
            format!("[[operations]]\ninclude-path-regex = \"{path}\"\nparameters = {{ \"{name}\" = \"{value}\" }}\n\n")
        })
        .collect();
    let path = common::temp_dir("schemathesis").join("schemathesis.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Runs schemathesis on the operations that `filters` select, with `token` as the bearer.
async fn fuzz(world: &World, config: &std::path::Path, filters: &[&str], token: &str) {
    let args: Vec<String> = [
        "--config-file",
        config.to_str().unwrap(),
        "run",
        &world.env.url("/openapi.json"),
        "--url",
        &world.env.url(""),
        "--header",
        &format!("Authorization: Bearer {token}"),
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        "20261208",
        // One worker: hypothesis's lambda-source cache is not safe across schemathesis's
        // worker threads (a "recursion depth mismatch" runtime error, now and then).
        "--workers",
        "1",
        "--no-color",
    ]
    .into_iter()
    .chain(filters.iter().copied())
    .map(String::from)
    .collect();
    let program = common::sdk::installed("schemathesis");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(program)
            .args(&args)
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(
        out.status.success(),
        "schemathesis found defects in {filters:?}:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_defect_in_the_served_document() {
    let world = World::start().await;
    let doc = world.openapi().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert!(
        schemes["customer_key"]["scheme"] == "bearer"
            && schemes["admin_token"]["scheme"] == "bearer"
    );
    let docs = reqwest::get(world.env.url("/docs")).await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(
        docs.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        docs.text()
            .await
            .unwrap()
            .contains("Meridian API reference")
    );
    let config = config(&world).await;
    // Schemathesis reuses ids from answers: the routes that revoke or rotate a key
    // come last, as they may end the very key it is fuzzing with.
    let ending = ["--include-path-regex", r"^/api/v1/keys/\{id\}"];
    let rest = [
        "--include-path-regex",
        "^/api/v1/",
        "--exclude-method",
        "DELETE",
        "--exclude-path-regex",
        "/rotate$",
    ];
    fuzz(&world, &config, &rest, &world.env.key).await;
    let (status, _, body) = common::rest(
        reqwest::Method::GET,
        &world.env.url("/api/v1/keys"),
        &world.env.key,
        None,
    )
    .await;
    assert_eq!(status, 200, "the fuzzed key no longer works: {body}");
    fuzz(
        &world,
        &config,
        &["--include-path-regex", "^/admin/v1/"],
        ADMIN_TOKEN,
    )
    .await;
    fuzz(&world, &config, &ending, &world.env.key).await;
}

/// The conventions every operation follows, read from the document: a POST takes
/// `Idempotency-Key`; a list answers a page and takes `limit` and `cursor` (no route
/// answers a bare array); a PDF or XML route answers 304 to `If-None-Match`.
#[test]
fn the_document_states_the_conventions_of_every_operation() {
    let doc = serde_json::to_value(meridian_api::openapi_document()).unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
            let at = format!("{method} {path}");
            if method == "post" {
                assert!(
                    params.contains(&"Idempotency-Key"),
                    "{at}: no Idempotency-Key"
                );
            }
            assert_ne!(ok["type"], "array", "{at}: a list that is not paginated");
            if ok["$ref"].as_str().is_some_and(|r| r.contains("/Page_")) {
                assert!(
                    params.contains(&"limit") && params.contains(&"cursor"),
                    "{at}: a page without `limit` and `cursor`"
                );
            }
            if path.ends_with("/pdf") || path.ends_with("/xml") {
                assert!(params.contains(&"If-None-Match"), "{at}: no If-None-Match");
                assert!(op["responses"]["304"].is_object(), "{at}: no 304");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["headers"]["x-request-id"].is_object(),
                    "{at} {status}: no x-request-id"
                );
                if status.starts_with('4') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{at} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 20, "{operations} operations");
}
