//! Billing's issued invoices as documents, on a real Postgres: a month of usage for
//! customers of every entity goes through billing's run, and each issued invoice maps
//! to a document that validates, renders and carries its country's words, its
//! customer's name and its total formatted for its locale. The document comes from the
//! snapshot: changing the entity after issue changes nothing, byte for byte. Partial
//! credit notes (no platform fee line) and EU supplies outside the scope of EU VAT
//! render too.

mod support;

use chrono::{DateTime, Utc};
use meridian_billing::customers::{self, NewCustomer};
use meridian_billing::entities::{self, EntityUpdate};
use meridian_billing::progress::Progress;
use meridian_billing::query::{self, ListFilter};
use meridian_billing::{Period, credit, fx, run};
use meridian_core::CustomerId;
use meridian_documents::*;
use meridian_test_support::pdf::{pdf_text, squash};
use sqlx::PgPool;
use support::database;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const ECB_CSV: &str = "Date, USD, JPY, GBP, SGD, KRW, INR, AUD, \n\
30 October 2026, 1.1600, 175.20, 0.8720, 1.5010, 1650.40, 101.800, 1.7700, \n";

struct Buyer {
    name: &'static str,
    entity: &'static str,
    currency: &'static str,
    locale: &'static str,
    country: &'static str,
    tax_id: Option<&'static str>,
    state: Option<&'static str>,
}

const BUYERS: [Buyer; 10] = [
    Buyer {
        name: "Acme Analytics Inc.",
        entity: "US",
        currency: "USD",
        locale: "en-US",
        country: "US",
        tax_id: None,
        state: None,
    },
    Buyer {
        name: "Müller & Söhne GmbH",
        entity: "EU",
        currency: "EUR",
        locale: "de-DE",
        country: "DE",
        tax_id: Some("DE136695976"),
        state: None,
    },
    Buyer {
        name: "Marie Dupont",
        entity: "EU",
        currency: "EUR",
        locale: "fr-FR",
        country: "FR",
        tax_id: None,
        state: None,
    },
    Buyer {
        name: "Zürich Daten AG",
        entity: "EU",
        currency: "EUR",
        locale: "de-DE",
        country: "CH",
        tax_id: None,
        state: None,
    },
    Buyer {
        name: "Widgets Ltd",
        entity: "UK",
        currency: "GBP",
        locale: "en-GB",
        country: "GB",
        tax_id: Some("GB980780684"),
        state: None,
    },
    Buyer {
        name: "株式会社山田製作所",
        entity: "JP",
        currency: "JPY",
        locale: "ja-JP",
        country: "JP",
        tax_id: Some("T7000012050002"),
        state: None,
    },
    Buyer {
        name: "Lion Data Pte. Ltd.",
        entity: "SG",
        currency: "SGD",
        locale: "en-SG",
        country: "SG",
        tax_id: Some("197401143C"),
        state: None,
    },
    Buyer {
        name: "한강데이터 주식회사",
        entity: "KR",
        currency: "KRW",
        locale: "ko-KR",
        country: "KR",
        tax_id: Some("120-81-47521"),
        state: None,
    },
    Buyer {
        name: "रिलायंस डेटा सर्विसेज़",
        entity: "IN",
        currency: "INR",
        locale: "hi-IN",
        country: "IN",
        tax_id: Some("27AAPFU0939F1ZV"),
        state: Some("IN-MH"),
    },
    Buyer {
        name: "Harbour Data Pty Ltd",
        entity: "AU",
        currency: "AUD",
        locale: "en-AU",
        country: "AU",
        tax_id: Some("51824753556"),
        state: None,
    },
];

/// Usage of October 2026 for every customer, the catalog, the ECB rates, then the run.
async fn issue_october(pool: &PgPool) -> Vec<CustomerId> {
    let catalog = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/model-prices.json"
    ))
    .unwrap();
    let prices = meridian_core::catalog::parse_price_file(&catalog).unwrap();
    meridian_core::price_versions::import(pool, &prices, utc("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    fx::import(pool, &fx::parse(ECB_CSV).unwrap())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for b in &BUYERS {
        let c = customers::create(
            pool,
            &NewCustomer {
                name: b.name.into(),
                entity: b.entity.into(),
                currency: b.currency.into(),
                locale: b.locale.into(),
                email: format!("ap{}@customer.example", ids.len()),
                tax_id: b.tax_id.map(Into::into),
                country: Some(b.country.into()),
                state: b.state.map(Into::into),
                address: Some("1 Example Street\nExample City".into()),
                residency: None,
                home_region: None,
            },
        )
        .await
        .unwrap();
        ids.push(c.id);
    }
    sqlx::query(
        "INSERT INTO usage_rollups (customer_id, key_id, model, provider, deployment, region, catalog_key,
             hour, requests, errors, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
             reasoning_tokens, cost, latency_us_sum, ttft_us_sum, ttft_count, latency_hist)
         SELECT c, NULL, 'openai/gpt-4o-mini', 'openai', 'openai-us', 'us-east', 'gpt-4o-mini',
                timestamptz '2026-10-05 10:00Z' + d * interval '1 day', 10, 0, 1234567 * (d + 1),
                345678, 100000, 0, 0, 0, 0, 0, 0, '{}'
         FROM UNNEST($1::uuid[]) AS c, generate_series(0, 19) AS d",
    )
    .bind(&ids)
    .execute(pool)
    .await
    .unwrap();
    let period = Period::parse("2026-10").unwrap();
    let report = run::run(
        pool,
        period,
        None,
        utc("2026-11-02T12:00:00Z"),
        &Progress::for_stderr(),
    )
    .await
    .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    ids
}

#[tokio::test]
async fn every_entity_s_issued_invoice_renders_with_its_country_s_words() {
    let pool = database().await;
    let customers = issue_october(&pool).await;
    let source = IssuedDocuments::new(pool.clone());
    for (b, id) in BUYERS.iter().zip(customers) {
        let filter = ListFilter {
            customer: Some(id),
            ..ListFilter::default()
        };
        let [row] = query::list(&pool, &filter)
            .await
            .unwrap()
            .try_into()
            .unwrap();
        let issued = query::get(&pool, &row.number).await.unwrap();
        let doc = document(&issued).unwrap();
        assert_eq!(
            doc.layout,
            LayoutVersion::CURRENT,
            "new documents get the current layout"
        );
        assert_eq!(
            source.load(row.id).await.unwrap(),
            doc,
            "the outbox reads the same"
        );
        assert_eq!(
            (doc.buyer.name.as_str(), doc.locale.as_str()),
            (b.name, b.locale)
        );
        assert_eq!(
            doc.seller
                .email
                .as_deref()
                .map(|e| e.starts_with("billing-")),
            Some(true)
        );
        let legal = &doc.legal;
        assert_eq!(legal.japan_qualified_invoice, b.entity == "JP");
        assert_eq!(legal.korea_terms, b.entity == "KR");
        assert_eq!(legal.tax_invoice, ["SG", "AU", "IN"].contains(&b.entity));
        assert_eq!(legal.reverse_charge, b.tax_id == Some("DE136695976"));

        let pdf = render_pdf(&doc).unwrap();
        assert_eq!(pdf, render_pdf(&doc).unwrap(), "{}: same bytes", row.number);
        let text = squash(&pdf_text(&pdf));
        let total = Formats::for_locale(b.locale)
            .unwrap()
            .money(row.total, b.currency)
            .unwrap();
        assert!(text.contains(&squash(b.name)), "{}: {text}", b.name);
        assert!(
            text.contains(&squash(&total)),
            "{}: {total} in {text}",
            b.name
        );
        let strings = Strings::for_locale(b.locale).unwrap();
        let words: &[&str] = match b.entity {
            "JP" => &["title-qualified-invoice", "label-tax-id-jp"],
            "KR" => &["total-kr-supply-value", "total-kr-tax"],
            "SG" | "AU" => &["title-tax-invoice"],
            "IN" => &["title-tax-invoice", "label-tax-id-gstin"],
            _ if legal.reverse_charge => &["note-reverse-charge"],
            _ => &["title-invoice"],
        };
        for id in words {
            let word = squash(&strings.get(id).unwrap());
            assert!(text.contains(&word), "{}: `{word}` in {text}", b.name);
        }
        if let Some(india) = &legal.india {
            assert_eq!(
                (india.sac.as_str(), india.place_of_supply.name.as_str()),
                ("998315", "Maharashtra")
            );
            assert!(text.contains("998315") && text.contains("Maharashtra"));
        }
        let xml = render_xml(&doc).unwrap();
        let in_eu_vat = b.entity == "EU" && b.country != "CH";
        assert_eq!(xml.is_some(), in_eu_vat, "{}: EN 16931 XML", b.name);
        if b.entity == "EU" {
            assert!(doc.payment.account.starts_with("IE"), "the IBAN is printed");
        }
    }
}

#[tokio::test]
async fn a_document_comes_from_its_snapshot_not_from_today_s_entity() {
    let pool = database().await;
    issue_october(&pool).await;
    let number = "MEU-2026-000001";
    let before = render_pdf(&document(&query::get(&pool, number).await.unwrap()).unwrap()).unwrap();
    entities::update(
        &pool,
        "EU",
        EntityUpdate {
            legal_name: Some("Renamed Europe Ltd".into()),
            bank_account: Some("IE64IRCE92050112345678".into()),
            payment_terms_days: Some(14),
            ..EntityUpdate::default()
        },
        meridian_billing::Naming::Flags,
    )
    .await
    .unwrap();
    let after = render_pdf(&document(&query::get(&pool, number).await.unwrap()).unwrap()).unwrap();
    assert!(
        before == after,
        "re-rendered after the entity changed: other bytes"
    );
}

#[tokio::test]
async fn partial_credit_notes_render_with_a_reference_to_their_invoice() {
    let pool = database().await;
    issue_october(&pool).await;
    let note = credit::credit(
        &pool,
        "MUK-2026-000001",
        "Duplicate usage import",
        Some(&[1]),
        utc("2026-11-20T12:00:00Z"),
    )
    .await
    .unwrap();
    let issued = query::get(&pool, &note.number).await.unwrap();
    let doc = document(&issued).unwrap();
    assert!(
        doc.lines.iter().all(|l| l.kind != LineKind::PlatformFee),
        "line 1 only"
    );
    let DocumentKind::CreditNote { invoice_number, .. } = &doc.kind else {
        panic!("a credit note");
    };
    assert_eq!(invoice_number, "MUK-2026-000001");
    assert!(doc.totals.total.is_sign_negative());
    let text = squash(&pdf_text(&render_pdf(&doc).unwrap()));
    assert!(
        text.contains("MUK-2026-000001") && text.contains(&note.number),
        "{text}"
    );
}
