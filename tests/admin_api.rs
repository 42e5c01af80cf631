//! The finance and operator REST API (`/admin/v1/*`) over real HTTP against a real
//! Postgres: customers created, read and patched (a wrong tax id refused with its
//! reason, a residency change reaching routing), entities patched, an invoice run
//! started, polled to its end and resumed after a failure, FX rates and price
//! versions read, a price catalog imported.

mod common;

use std::time::{Duration, Instant};

use common::TestEnv;
use serde_json::{Value, json};

const TOKEN: &str = "finance-secret";

/// Two reserved pools of gpt-4o-mini, in us-east (the gateway's region) and eu-west.
fn regional(mock: &str) -> String {
    let pool = |id: &str, region: &str, upstream: &str| {
        format!(
            "[[deployments]]\nid = \"{id}\"\nprovider = \"openai\"\nregion = \"{region}\"\n\
             kind = \"reserved\"\nbase_url = \"http://{mock}/v1\"\n\
             models = [\"openai/gpt-4o-mini\"]\nupstream_model = \"{upstream}\"\n\n"
        )
    };
    format!(
        "[gateway]\nregion = \"us-east\"\n\n[residency]\neu = [\"eu-west\"]\nus = [\"us-east\"]\n\n{}{}",
        pool("us-east-reserved", "us-east", "gpt-4o-mini"),
        pool("eu-west-reserved", "eu-west", "gpt-4o-mini-2024-07-18"),
    )
}

async fn start() -> TestEnv {
    TestEnv::start_with_deployments(regional, |o| o.admin_token = Some(TOKEN.into())).await
}

struct Admin<'a> {
    env: &'a TestEnv,
    http: reqwest::Client,
}

impl Admin<'_> {
    fn new(env: &TestEnv) -> Admin<'_> {
        Admin {
            env,
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.bearer_auth(TOKEN).send().await.unwrap();
        let status = response.status().as_u16();
        if status >= 400 {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.env.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(self.env.url(path)).json(&body))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.patch(self.env.url(path)).json(&body))
            .await
    }
}

/// The region that served one chat request of `key`.
async fn served_region(env: &TestEnv, key: &str) -> String {
    let response = reqwest::Client::new()
        .post(env.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(
            &json!({"model": "openai/gpt-4o-mini", "max_completion_tokens": 5,
            "messages": [{"role": "user", "content": "hello"}]}),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let region = response.headers().get("x-meridian-region").cloned();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
    region.unwrap().to_str().unwrap().to_string()
}

#[tokio::test]
async fn customers_are_created_read_patched_and_their_residency_reaches_routing() {
    let env = start().await;
    let admin = Admin::new(&env);
    // The budget set below is in EUR: the gateway converts at the latest ECB rate.
    import_ecb(&env).await;
    let acme = json!({"name": "Acme GmbH", "entity": "EU", "currency": "EUR",
        "locale": "de-DE", "email": "billing@acme.example", "country": "DE"});

    let mut bad = acme.clone();
    bad["tax_id"] = json!("DE12345");
    let (status, problem) = admin.post("/admin/v1/customers", bad).await;
    assert_eq!(status, 400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.starts_with("`tax_id` "), "{detail}");
    let mut bad = acme.clone();
    bad["residency"] = json!("mars");
    let (status, problem) = admin.post("/admin/v1/customers", bad).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("`residency` `mars` is not configured"),
        "{problem}"
    );
    let (status, problem) = admin
        .post("/admin/v1/customers", json!({"name": "x", "colour": "red"}))
        .await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("`entity`"));

    // Created once under an Idempotency-Key, replayed after.
    let create = || {
        admin
            .http
            .post(env.url("/admin/v1/customers"))
            .header("idempotency-key", "acme-1")
            .json(&acme)
    };
    let (status, created) = admin.send(create()).await;
    assert_eq!(status, 201);
    let (status, replayed) = admin.send(create()).await;
    assert_eq!((status, &replayed["id"]), (201, &created["id"]));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        (created["entity"].as_str(), created["residency"].as_str()),
        (Some("EU"), None)
    );

    let (status, read) = admin.get(&format!("/admin/v1/customers/{id}")).await;
    assert_eq!((status, &read["name"]), (200, &json!("Acme GmbH")));
    let (_, eu) = admin.get("/admin/v1/customers?entity=EU").await;
    assert_eq!(eu["items"].as_array().unwrap().len(), 1);
    let (_, first) = admin.get("/admin/v1/customers?limit=1").await;
    assert!(first["next_cursor"].is_string(), "{first}");
    for (path, expected) in [
        ("/admin/v1/customers?limit=0", 400),
        ("/admin/v1/customers?entity=XX", 400),
        ("/admin/v1/customers?sort=name", 400),
        ("/admin/v1/customers/not-an-id", 404),
        (
            "/admin/v1/customers/0193a6a0-0000-7000-8000-000000000000",
            404,
        ),
    ] {
        assert_eq!(admin.get(path).await.0, expected, "{path}");
    }

    // A wrong tax id is refused with its reason and changes nothing.
    let path = format!("/admin/v1/customers/{id}");
    let (status, problem) = admin
        .patch(&path, json!({"tax_id": "DE12345", "locale": "fr-FR"}))
        .await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().starts_with("`tax_id` "));
    for refused in [
        json!({"entity": "US"}),
        json!({"email": null}),
        json!({"x": 1}),
    ] {
        assert_eq!(admin.patch(&path, refused).await.0, 400);
    }
    let (status, patched) = admin
        .patch(
            &path,
            json!({"locale": "fr-FR", "address": "1 Rue de la Paix\\nParis",
                   "limits": {"rpm": 600}, "budget": {"amount": "100.00", "period": "month"}}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["locale"], "fr-FR");
    assert_eq!(patched["address"], "1 Rue de la Paix\nParis");
    assert_eq!(patched["limits"]["rpm"], 600);
    assert_eq!(
        patched["budget"],
        json!({"amount": "100.00", "currency": "EUR", "period": "month", "alerts": [50, 80, 100]})
    );
    let (_, read) = admin.get(&path).await;
    assert_eq!(read, patched);

    // A key for the customer, then its residency moves its traffic to eu-west.
    let (status, key) = admin
        .post(
            &format!("{path}/keys"),
            json!({"name": "ci", "role": "inference"}),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["key"].as_str().unwrap().to_string();
    let (_, keys) = admin.get(&format!("{path}/keys")).await;
    assert_eq!(keys["items"][0]["name"], "ci");
    let until = Instant::now() + Duration::from_secs(5);
    while env.server.keys.lookup(&secret).is_none() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(served_region(&env, &secret).await, "us-east");
    let (status, moved) = admin.patch(&path, json!({"residency": "eu"})).await;
    assert_eq!((status, moved["residency"].as_str()), (200, Some("eu")));
    let mut region = String::new();
    while Instant::now() < until + Duration::from_secs(5) {
        region = served_region(&env, &secret).await;
        if region == "eu-west" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(region, "eu-west");
    let (status, problem) = admin.patch(&path, json!({"home_region": "us-east"})).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("`home_region`")
    );
}

#[tokio::test]
async fn entities_are_listed_read_and_patched() {
    let env = start().await;
    let admin = Admin::new(&env);
    let (status, page) = admin.get("/admin/v1/entities?limit=3").await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["AU", "EU", "IN"]);
    let (_, next) = admin
        .get(&format!(
            "/admin/v1/entities?limit=200&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next["items"].as_array().unwrap().len(), 5);
    assert_eq!(admin.get("/admin/v1/entities/XX").await.0, 404);

    let (status, problem) = admin
        .patch(
            "/admin/v1/entities/eu",
            json!({"tax_id": "IE1234", "payment_terms_days": 400}),
        )
        .await;
    assert_eq!(status, 400);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("`tax_id` ") && detail.contains("`payment_terms_days` 400"),
        "{detail}"
    );
    let (status, eu) = admin
        .patch(
            "/admin/v1/entities/EU",
            json!({"legal_name": "Meridian Europe B.V.", "payment_terms_days": 14}),
        )
        .await;
    assert_eq!(status, 200, "{eu}");
    let (_, read) = admin.get("/admin/v1/entities/EU").await;
    assert_eq!(
        (
            read["legal_name"].as_str(),
            read["payment_terms_days"].as_i64()
        ),
        (Some("Meridian Europe B.V."), Some(14))
    );
    assert_eq!(
        admin
            .patch("/admin/v1/entities/EU", json!({"currency": "USD"}))
            .await
            .0,
        400
    );
}

/// One rollup of `customer` on 10 October 2026 at the shipped gpt-4o-mini price.
async fn october_usage(env: &TestEnv, customer: &str) {
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         VALUES ($1::uuid, NULL, 'openai/gpt-4o-mini', 'openai', 'us-east-reserved', 'us-east', 'gpt-4o-mini',
                 '2026-10-10 10:00Z', 3, 0, 3000, 1500, 0, 0, 0, 0, 0, 0, 0, '{}')",
    )
    .bind(customer)
    .execute(&env.pool)
    .await
    .unwrap();
}

/// Polls the run `id` until it is no longer running.
async fn finished(admin: &Admin<'_>, id: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, job) = admin.get(&format!("/admin/v1/invoice-runs/{id}")).await;
        assert_eq!(status, 200);
        if job["status"] != "running" || Instant::now() > until {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_run(admin: &Admin<'_>, body: Value) -> String {
    let (status, started) = admin.post("/admin/v1/invoice-runs", body).await;
    assert_eq!(status, 202, "{started}");
    started["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_invoice_run_is_started_polled_to_its_end_and_resumed_after_a_failure() {
    let env = start().await;
    let admin = Admin::new(&env);
    october_usage(&env, &env.customer.to_string()).await;

    let (status, problem) = admin
        .post("/admin/v1/invoice-runs", json!({"period": "2099-01"}))
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("period 2099-01 has not ended")
    );
    for bad in [
        json!({"period": "October"}),
        json!({"period": "2026-10", "entity": "XX"}),
        json!({}),
    ] {
        assert_eq!(admin.post("/admin/v1/invoice-runs", bad).await.0, 400);
    }
    assert_eq!(admin.get("/admin/v1/invoice-runs/nope").await.0, 404);

    let id = start_run(&admin, json!({"period": "2026-10", "entity": "US"})).await;
    let job = finished(&admin, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["progress"], json!({"done": 1, "total": 1}));
    assert_eq!(
        (job["period"].as_str(), job["entity"].as_str()),
        (Some("2026-10"), Some("US"))
    );
    let (_, invoices) = admin
        .get("/admin/v1/invoices?entity=US&period=2026-10")
        .await;
    assert_eq!(invoices[0]["number"], "MUS-2026-000001");

    // An EUR customer cannot be invoiced without an ECB rate: the run fails with the
    // reason, and once the rate is imported a second run issues what is left.
    let (_, eu) = admin
        .post(
            "/admin/v1/customers",
            json!({"name": "Acme GmbH", "entity": "EU", "currency": "EUR", "locale": "de-DE",
                   "email": "billing@acme.example", "country": "DE"}),
        )
        .await;
    october_usage(&env, eu["id"].as_str().unwrap()).await;
    let failed_id = start_run(&admin, json!({"period": "2026-10"})).await;
    let failed = finished(&admin, &failed_id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.starts_with("EU: no ECB rate for USD/EUR"), "{error}");
    // Had its process died mid-run, the job's heartbeat would have stopped.
    sqlx::query(
        "UPDATE invoice_run_jobs SET status = 'running', finished_at = NULL,
             heartbeat_at = now() - interval '1 minute' WHERE id = $1::uuid",
    )
    .bind(&failed_id)
    .execute(&env.pool)
    .await
    .unwrap();
    let (_, died) = admin
        .get(&format!("/admin/v1/invoice-runs/{failed_id}"))
        .await;
    assert_eq!(died["status"], "interrupted");
    import_ecb(&env).await;
    let resumed = finished(
        &admin,
        &start_run(&admin, json!({"period": "2026-10"})).await,
    )
    .await;
    assert_eq!(resumed["status"], "completed", "{resumed}");
    assert_eq!(resumed["progress"], json!({"done": 1, "total": 1}));
    let (_, all) = admin.get("/admin/v1/invoices?period=2026-10").await;
    let mut numbers: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["MEU-2026-000001", "MUS-2026-000001"]);
}

const ECB_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-10-30">
      <Cube currency="USD" rate="1.1600"/>
      <Cube currency="JPY" rate="175.20"/>
    </Cube>
    <Cube time="2026-10-29">
      <Cube currency="USD" rate="1.1500"/>
    </Cube>
  </Cube>
</gesmes:Envelope>"#;

async fn import_ecb(env: &TestEnv) {
    use meridian_billing::fx;
    fx::import(&env.pool, &fx::parse(ECB_XML).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn fx_rates_and_price_versions_are_read_and_a_catalog_is_imported() {
    let env = start().await;
    let admin = Admin::new(&env);
    import_ecb(&env).await;

    // Sunday 1 November: the rates of Friday 30 October.
    let (status, rates) = admin.get("/admin/v1/fx-rates?date=2026-11-01").await;
    assert_eq!(status, 200);
    assert_eq!(
        rates["items"],
        json!([{"currency": "JPY", "date": "2026-10-30", "per_eur": "175.2"},
               {"currency": "USD", "date": "2026-10-30", "per_eur": "1.16"}])
    );
    let (_, page) = admin
        .get("/admin/v1/fx-rates?date=2026-10-29&limit=1")
        .await;
    assert_eq!(page["items"][0]["per_eur"], "1.15");
    assert_eq!(page["next_cursor"], Value::Null);
    let (_, none) = admin.get("/admin/v1/fx-rates?date=2020-01-01").await;
    assert_eq!(none["items"], json!([]));
    let (status, problem) = admin.get("/admin/v1/fx-rates?date=yesterday").await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("`date`"));

    let admin = &admin;
    let versions = |model: &str| {
        let path = format!("/admin/v1/prices?model={model}&limit=200");
        async move { admin.get(&path).await }
    };
    let (status, shipped) = versions("openai/gpt-4o-mini").await;
    assert_eq!(status, 200);
    let of_key = |page: &Value, key: &str| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["catalog_key"] == key)
            .cloned()
            .collect()
    };
    let plain = of_key(&shipped, "gpt-4o-mini");
    assert_eq!(plain.len(), 1);
    assert_eq!(plain[0]["provider"], "openai");
    assert_eq!(plain[0]["currency"], "USD");
    assert_eq!(plain[0]["per_token"]["input"], "0.00000015");
    assert_eq!(plain[0]["per_token"]["output"], "0.0000006");
    assert!(
        !of_key(&shipped, "azure/gpt-4o-mini").is_empty(),
        "{shipped}"
    );
    assert_eq!(admin.get("/admin/v1/prices").await.0, 400);
    assert_eq!(
        admin
            .get("/admin/v1/prices?model=gpt-4o-mini&cursor=forged")
            .await
            .0,
        400
    );

    // A new price for one entry: one new version, in force from now.
    let (status, imported) = admin
        .post(
            "/admin/v1/prices/import",
            json!({"gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 2e-07, "output_cost_per_token": 8e-07}}),
        )
        .await;
    assert_eq!(status, 200, "{imported}");
    assert_eq!(
        (
            imported["entries"].as_u64(),
            imported["new_versions"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let (_, after) = versions("gpt-4o-mini").await;
    let plain = of_key(&after, "gpt-4o-mini");
    assert_eq!(plain.len(), 2);
    assert_eq!(plain[1]["per_token"]["input"], "0.0000002");
    assert_eq!(plain[1]["effective_from"], imported["effective_from"]);

    // The shipped file (3 MB) puts the old price back: one more version.
    let shipped_file = std::fs::read("data/model-prices.json").unwrap();
    let (status, whole) = admin
        .send(
            admin
                .http
                .post(env.url("/admin/v1/prices/import"))
                .header("content-type", "application/json")
                .body(shipped_file),
        )
        .await;
    assert_eq!(status, 200, "{whole}");
    assert!(whole["entries"].as_u64().unwrap() > 4000);
    assert_eq!(whole["new_versions"], 1);
    let (status, problem) =
        admin
            .send(admin.http.post(env.url("/admin/v1/prices/import")).body(
                "{\"m\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": \"x\"}}",
            ))
            .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("input_cost_per_token")
    );
}

#[tokio::test]
async fn every_finance_route_is_in_the_openapi_document() {
    let env = start().await;
    let doc: Value = reqwest::get(env.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, methods) in [
        ("/admin/v1/customers", &["get", "post"][..]),
        ("/admin/v1/customers/{id}", &["get", "patch"]),
        ("/admin/v1/customers/{id}/keys", &["get", "post"]),
        ("/admin/v1/entities", &["get"]),
        ("/admin/v1/entities/{code}", &["get", "patch"]),
        ("/admin/v1/invoice-runs", &["get", "post"]),
        ("/admin/v1/invoice-runs/{id}", &["get"]),
        ("/admin/v1/fx-rates", &["get"]),
        ("/admin/v1/prices", &["get"]),
        ("/admin/v1/prices/import", &["post"]),
    ] {
        for method in methods {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path}: no 401"
            );
        }
    }
}
