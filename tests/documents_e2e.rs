//! Billing → documents → customer and finance, through the `meridian` binary against a
//! real Postgres and a real SMTP server started by the test:
//! - a month of usage for customers of several entities, `meridian invoices run`, and
//!   `meridian serve` with `SMTP_URL`: every invoice's PDF, from the CLI and from the
//!   customer and finance REST routes, is the same bytes and shows the customer's name
//!   and the total formatted for the customer's locale; one e-mail per invoice, in its
//!   language, with that PDF attached; credit notes too;
//! - the run killed (SIGKILL) at random points and restarted while the sender runs:
//!   every invoice is rendered and mailed exactly once;
//! - the sender itself killed at random points: nothing is lost, and a message is
//!   repeated only in the documented window (after the SMTP server accepted it, before
//!   the row was marked sent), with the same Message-ID.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::cli::{RandomDelays, command, error_line, meridian, ok_json, run_or_kill};
use mail_parser::{MessageParser, MimeHeaders};
use meridian_documents::{Formats, Strings};
use meridian_test_support::pdf::{pdf_text, squash};
use meridian_test_support::smtp::SmtpServer;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;

const ECB_CSV: &str = "Date, USD, JPY, GBP, SGD, KRW, INR, AUD, \n\
30 October 2026, 1.1600, 175.20, 0.8720, 1.5010, 1650.40, 101.800, 1.7700, \n";
const ADMIN_TOKEN: &str = "finance-secret";

fn import_fx(url: &str) {
    let file = common::temp_dir("fx").join("eurofxref.csv");
    std::fs::write(&file, ECB_CSV).unwrap();
    ok_json(url, &["fx", "import", file.to_str().unwrap(), "--json"]);
}

/// `meridian serve` with the e-mail sender on, and the finance API.
async fn serve_with_smtp(url: &str, smtp: &SmtpServer) -> common::ChildServer {
    let dir = common::temp_dir("serve");
    let config = common::write_config(&dir, common::free_addr());
    let smtp_url = format!("smtp://{}", smtp.addr);
    common::ChildServer::start_with_env(
        url,
        &config,
        &dir,
        common::free_addr(),
        "warn",
        &[
            ("SMTP_URL", smtp_url.as_str()),
            ("MERIDIAN_ADMIN_TOKEN", ADMIN_TOKEN),
        ],
    )
    .await
}

/// Waits until every outbox row is sent; returns how many there are.
async fn all_sent(pool: &PgPool, timeout: Duration) -> i64 {
    let deadline = Instant::now() + timeout;
    loop {
        let (sent, all): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM document_outbox",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if sent == all {
            return all;
        }
        assert!(Instant::now() < deadline, "{sent} of {all} e-mails sent");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A received message: Message-ID, subject, attachment name and bytes.
struct Received {
    message_id: String,
    subject: String,
    attachment: (String, Vec<u8>),
}

fn received(smtp: &SmtpServer) -> Vec<Received> {
    smtp.messages()
        .iter()
        .map(|raw| {
            let mail = MessageParser::default().parse(raw).expect("a message");
            assert_eq!(mail.attachment_count(), 1);
            let pdf = mail.attachment(0).unwrap();
            Received {
                message_id: mail.message_id().unwrap().to_string(),
                subject: mail.subject().unwrap().to_string(),
                attachment: (
                    pdf.attachment_name().unwrap().to_string(),
                    pdf.contents().to_vec(),
                ),
            }
        })
        .collect()
}

/// Messages per document number (from the attachment's name).
fn per_number(messages: &[Received]) -> HashMap<String, Vec<&Received>> {
    let mut out: HashMap<String, Vec<&Received>> = HashMap::new();
    for m in messages {
        let number = m.attachment.0.trim_end_matches(".pdf").to_string();
        out.entry(number).or_default().push(m);
    }
    out
}

/// The PDF of `number` as `meridian invoices pdf` writes it.
fn cli_pdf(url: &str, number: &str) -> Vec<u8> {
    let file = common::temp_dir("pdf").join(format!("{number}.pdf"));
    let out = ok_json(
        url,
        &[
            "invoices",
            "pdf",
            number,
            "-o",
            file.to_str().unwrap(),
            "--json",
        ],
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(out["bytes"].as_u64(), Some(bytes.len() as u64));
    bytes
}

struct Customer {
    name: &'static str,
    entity: &'static str,
    currency: &'static str,
    locale: &'static str,
    extra: &'static [&'static str],
}

const CUSTOMERS: [Customer; 6] = [
    Customer {
        name: "Acme Analytics Inc.",
        entity: "US",
        currency: "USD",
        locale: "en-US",
        extra: &["--country", "US"],
    },
    Customer {
        name: "Müller & Söhne GmbH",
        entity: "EU",
        currency: "EUR",
        locale: "de-DE",
        extra: &["--country", "DE", "--tax-id", "DE136695976"],
    },
    Customer {
        name: "Marie Dupont",
        entity: "EU",
        currency: "EUR",
        locale: "fr-FR",
        extra: &["--country", "FR"],
    },
    Customer {
        name: "株式会社山田製作所",
        entity: "JP",
        currency: "JPY",
        locale: "ja-JP",
        extra: &["--country", "JP", "--tax-id", "T7000012050002"],
    },
    Customer {
        name: "한강데이터 주식회사",
        entity: "KR",
        currency: "KRW",
        locale: "ko-KR",
        extra: &["--country", "KR", "--tax-id", "120-81-47521"],
    },
    Customer {
        name: "रिलायंस डेटा सर्विसेज़",
        entity: "IN",
        currency: "INR",
        locale: "hi-IN",
        extra: &["--country", "IN", "--state", "IN-KA"],
    },
];

/// Creates the customers and a month of their usage through the CLI; returns their ids.
fn customers_with_october_usage(url: &str) -> Vec<String> {
    let dir = common::temp_dir("usage");
    let mut ids = Vec::new();
    let mut lines = Vec::new();
    for (i, c) in CUSTOMERS.iter().enumerate() {
        let email = format!("ap{i}@customer.example");
        let mut args = vec![
            "customers",
            "create",
            "--name",
            c.name,
            "--entity",
            c.entity,
            "--currency",
            c.currency,
            "--locale",
            c.locale,
            "--email",
            &email,
            "--address",
            "1 Example Street\\nExample City",
            "--json",
        ];
        args.extend_from_slice(c.extra);
        let id = ok_json(url, &args)["id"].as_str().unwrap().to_string();
        for day in 1..=28 {
            lines.push(format!(
                r#"{{"request_id": "{id}-{day}", "customer_id": "{id}", "model": "openai/gpt-4o-mini", "deployment": "old-gateway", "time": "2026-10-{day:02}T10:00:00Z", "prompt_tokens": {}, "completion_tokens": {}, "cached_tokens": 1000, "status": 200}}"#,
                1_234_567 * (i + 1) + day * 1000,
                345_678 + day
            ));
        }
        ids.push(id);
    }
    let file = dir.join("usage.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    ok_json(url, &["usage", "import", file.to_str().unwrap(), "--json"]);
    ids
}

#[tokio::test]
async fn a_month_of_usage_becomes_pdfs_and_e_mails_in_each_customer_s_language() {
    let (pool, url) = common::fresh_database().await;
    let smtp = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    import_fx(&url);
    let customer_ids = customers_with_october_usage(&url);
    let issued = ok_json(&url, &["invoices", "run", "--period", "2026-10", "--json"]);
    assert_eq!(issued.as_array().unwrap().len(), CUSTOMERS.len());
    let server = serve_with_smtp(&url, &smtp).await;
    assert_eq!(all_sent(&pool, Duration::from_secs(120)).await, 6);

    let entities: HashMap<String, String> = ok_json(&url, &["entities", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["legal_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let messages = received(&smtp);
    let by_number = per_number(&messages);
    assert_eq!(messages.len(), 6, "one message per invoice");
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    for (c, id) in CUSTOMERS.iter().zip(&customer_ids) {
        let list = ok_json(&url, &["invoices", "list", "--customer", id, "--json"]);
        let invoice = &list[0];
        let number = invoice["number"].as_str().unwrap();

        // The CLI: same bytes every time; the customer's name and localized total.
        let pdf = cli_pdf(&url, number);
        assert!(
            pdf == cli_pdf(&url, number),
            "{number}: re-rendered bytes differ"
        );
        let text = squash(&pdf_text(&pdf));
        let total: Decimal = invoice["total"].as_str().unwrap().parse().unwrap();
        let localized = Formats::for_locale(c.locale)
            .unwrap()
            .money(total, c.currency)
            .unwrap();
        assert!(text.contains(&squash(c.name)), "{number}: {text}");
        assert!(
            text.contains(&squash(&localized)),
            "{number}: {localized} in {text}"
        );

        // The e-mail: one, in the customer's language, with that PDF.
        let [mail] = by_number[number].as_slice() else {
            panic!("{number}: {} messages", by_number[number].len());
        };
        let subject = Strings::for_locale(c.locale)
            .unwrap()
            .format(
                "email-subject-invoice",
                &[("number", number), ("entity", &entities[c.entity])],
            )
            .unwrap();
        assert_eq!(mail.subject, subject);
        assert!(
            mail.attachment.1 == pdf,
            "{number}: the attachment is its PDF"
        );

        // Finance: the same PDF; XML for the EU entity only.
        let finance = |path: String| {
            http.get(format!("{base}{path}"))
                .bearer_auth(ADMIN_TOKEN)
                .send()
        };
        let r = finance(format!("/admin/v1/invoices/{number}/pdf"))
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap() == pdf);
        let r = finance(format!("/admin/v1/invoices/{number}/xml"))
            .await
            .unwrap();
        if c.entity == "EU" {
            assert_eq!(r.headers()["content-type"], "application/xml");
            assert!(r.text().await.unwrap().contains(number));
        } else {
            assert_eq!(r.status(), 404, "{number}");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        }
    }

    // The customer's own list and PDF with their key; another customer's is not found.
    let key = ok_json(
        &url,
        &["keys", "create", "--customer", &customer_ids[1], "--json"],
    );
    let key = key["key"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let list: Value = loop {
        let r = http
            .get(format!("{base}/api/v1/invoices"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break r.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "the new key is never accepted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let [item] = list["items"].as_array().unwrap().as_slice() else {
        panic!("{list}");
    };
    let number = item["number"].as_str().unwrap();
    assert_eq!(
        (item["kind"].as_str(), item["period"].as_str()),
        (Some("invoice"), Some("2026-10"))
    );
    for field in ["subtotal", "tax", "total"] {
        assert!(
            item[field].as_str().unwrap().parse::<Decimal>().is_ok(),
            "{field} is a decimal string: {item}"
        );
    }
    let own = http
        .get(format!("{base}{}", item["pdf"].as_str().unwrap()))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(own.headers()["content-type"], "application/pdf");
    assert!(own.bytes().await.unwrap() == cli_pdf(&url, number));
    let other = ok_json(
        &url,
        &["invoices", "list", "--customer", &customer_ids[0], "--json"],
    );
    for path in [
        format!(
            "/api/v1/invoices/{}/pdf",
            other[0]["number"].as_str().unwrap()
        ),
        format!("/api/v1/invoices/{}/pdf", uuid::Uuid::now_v7()),
    ] {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }

    // A credit note: its own PDF, its own e-mail.
    let invoice = ok_json(
        &url,
        &["invoices", "list", "--customer", &customer_ids[3], "--json"],
    );
    let credited = invoice[0]["number"].as_str().unwrap();
    let note = ok_json(
        &url,
        &[
            "invoices",
            "credit",
            credited,
            "--reason",
            "Duplicate import",
            "--json",
        ],
    );
    let note = note["number"].as_str().unwrap();
    let text = pdf_text(&cli_pdf(&url, note));
    assert!(text.contains(credited) && text.contains(note), "{text}");
    assert_eq!(all_sent(&pool, Duration::from_secs(60)).await, 7);
    let messages = received(&smtp);
    let subject = Strings::for_locale("ja-JP")
        .unwrap()
        .format(
            "email-subject-credit-note",
            &[("number", note), ("entity", &entities["JP"])],
        )
        .unwrap();
    assert_eq!(messages.iter().filter(|m| m.subject == subject).count(), 1);

    // Finance sees where every e-mail stands.
    let outbox: Value = http
        .get(format!("{base}/admin/v1/outbox?status=sent"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = &outbox["items"];
    assert_eq!(sent.as_array().unwrap().len(), 7);
    assert!(sent[0]["message_id"].as_str().is_some() && sent[0]["recipient"].is_string());

    // An unknown number is one line, and no file.
    let file = common::temp_dir("pdf").join("none.pdf");
    let err = error_line(
        &url,
        &[
            "invoices",
            "pdf",
            "MUS-2026-999999",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        err,
        "error: no invoice or credit note numbered `MUS-2026-999999`"
    );
    assert!(!file.exists());
    server.stop();
    smtp.stop();
}

/// Customers of the US, EU and JP entities, in turn.
const MIX: [(&str, &str, &str, &str); 3] = [
    ("US", "USD", "en-US", "US"),
    ("EU", "EUR", "de-DE", "DE"),
    ("JP", "JPY", "ja-JP", "JP"),
];

/// Each issued document's Message-ID as the outbox recorded it.
async fn recorded_message_ids(pool: &PgPool) -> HashMap<String, (String, i32)> {
    let rows: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT i.number, o.message_id, o.attempts FROM document_outbox o JOIN invoices i ON i.id = o.invoice_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(n, m, a)| (n, (m, a))).collect()
}

#[tokio::test]
async fn a_run_killed_at_random_points_mails_each_invoice_exactly_once() {
    let (pool, url) = common::fresh_database().await;
    common::seed_customers(&pool, 300, &MIX).await;
    import_fx(&url);
    let smtp = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let server = serve_with_smtp(&url, &smtp).await;

    // Killed at random points eight times, then left to finish.
    let mut kills = Vec::new();
    for delay in RandomDelays::new(20, 500)
        .take(8)
        .chain([Duration::from_secs(600)])
    {
        let mut run = command(&url);
        run.args(["invoices", "run", "--period", "2026-10", "--json"]);
        let started = Instant::now();
        if run_or_kill(run, delay).is_some() {
            eprintln!("the last run took {:?}", started.elapsed());
            break;
        }
        kills.push(delay.as_millis());
    }
    eprintln!("run killed after (ms): {kills:?}");
    assert_eq!(all_sent(&pool, Duration::from_secs(300)).await, 300);

    let recorded = recorded_message_ids(&pool).await;
    let messages = received(&smtp);
    let by_number = per_number(&messages);
    assert_eq!(messages.len(), 300, "one message per invoice");
    assert_eq!(by_number.len(), 300);
    for (number, (message_id, _)) in &recorded {
        let [mail] = by_number.get(number).map_or(&[][..], Vec::as_slice) else {
            panic!("{number}: not exactly one message");
        };
        assert_eq!(&mail.message_id, message_id);
        assert!(mail.attachment.1.starts_with(b"%PDF-"));
    }
    let some = recorded.keys().next().unwrap();
    assert!(by_number[some][0].attachment.1 == cli_pdf(&url, some));
    server.stop();
    smtp.stop();
}

// Two threads: the test's SMTP server answers while the test waits for a child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_at_random_points_loses_nothing_and_repeats_only_in_its_window() {
    let (pool, url) = common::fresh_database().await;
    common::seed_customers(&pool, 60, &MIX).await;
    import_fx(&url);
    ok_json(&url, &["invoices", "run", "--period", "2026-10", "--json"]);
    let smtp = SmtpServer::start("127.0.0.1:0".parse().unwrap(), false).await;
    let smtp_url = format!("smtp://{}", smtp.addr);

    // Killed at random points eight times, then left to finish.
    let mut kills = 0;
    for delay in RandomDelays::new(50, 700)
        .take(8)
        .chain([Duration::from_secs(600)])
    {
        let mut send = command(&url);
        send.args(["invoices", "send", "--once"])
            .env("SMTP_URL", &smtp_url);
        if run_or_kill(send, delay).is_some() {
            break;
        }
        kills += 1;
        // What the lease does after five minutes: rows left `sending` are free again.
        sqlx::query("UPDATE document_outbox SET locked_until = now() WHERE status = 'sending'")
            .execute(&pool)
            .await
            .unwrap();
    }
    assert_eq!(all_sent(&pool, Duration::from_secs(1)).await, 60);

    let recorded = recorded_message_ids(&pool).await;
    let messages = received(&smtp);
    let by_number = per_number(&messages);
    let mut repeated = 0;
    for (number, (message_id, attempts)) in &recorded {
        let mails = by_number.get(number).map_or(&[][..], Vec::as_slice);
        assert!(!mails.is_empty(), "{number}: never mailed");
        assert!(
            mails.iter().all(|m| &m.message_id == message_id),
            "{number}: a repeat carries the same Message-ID"
        );
        if mails.len() > 1 {
            assert!(*attempts > 1, "{number}: repeated without being taken over");
            repeated += mails.len() - 1;
        }
    }
    eprintln!("sender killed {kills} times; {repeated} messages repeated");
    assert!(repeated <= kills, "at most one repeat per crash");
    assert_eq!(
        meridian(&url, &["invoices", "outbox", "--status", "pending"]).stdout,
        b"",
        "nothing left"
    );
    smtp.stop();
}
