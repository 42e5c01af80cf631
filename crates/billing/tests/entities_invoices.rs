//! One invoice per billing entity with the legally required data present in what is
//! stored: EU Art. 226 (numbers, dates, both parties' names, addresses and VAT ids,
//! quantities and unit prices, taxable amount and VAT per rate, "Reverse charge"),
//! Japan's qualified invoice (registration number T + 13 digits, tax per rate rounded
//! once), India's Rule 46 (GSTIN, SAC, place of supply as State name and code, reverse
//! charge statement, ≤ 16-character number), Singapore's and Australia's tax invoice
//! (GST registration / ABN, GST per rate), Korea (business numbers, representative,
//! supply value and tax), FX rate with its ECB date.

mod common;

use common::*;
use meridian_billing::progress::Progress;
use meridian_billing::query::{self, InvoiceDetail};
use meridian_billing::{NewCustomer, Period, run};
use rust_decimal::Decimal;

fn with(
    mut c: NewCustomer,
    country: &str,
    tax_id: Option<&str>,
    state: Option<&str>,
) -> NewCustomer {
    c.country = Some(country.into());
    c.tax_id = tax_id.map(Into::into);
    c.state = state.map(Into::into);
    c
}

fn tax_codes(i: &InvoiceDetail) -> Vec<(String, String)> {
    i.taxes
        .iter()
        .map(|t| (t.tax_code.clone(), t.rate.normalize().to_string()))
        .collect()
}

#[tokio::test]
async fn one_invoice_per_entity_carries_what_the_law_asks() {
    let pool = fresh_database().await;
    price_version(
        &pool,
        "gpt-4o-mini",
        "openai",
        "2026-01-01T00:00:00Z",
        "0.00000015",
        "0.0000006",
        None,
    )
    .await;
    import_ecb(&pool).await;
    let customers = [
        (
            "US",
            with(customer("Acme", "US", "USD", "en-US"), "US", None, None),
        ),
        (
            "EU",
            with(
                customer("Muster GmbH", "EU", "EUR", "de-DE"),
                "DE",
                Some("DE136695976"),
                None,
            ),
        ),
        (
            "EU",
            with(
                customer("Marie Dupont", "EU", "EUR", "fr-FR"),
                "FR",
                None,
                None,
            ),
        ),
        (
            "UK",
            with(
                customer("Widgets Ltd", "UK", "GBP", "en-GB"),
                "GB",
                Some("GB980780684"),
                None,
            ),
        ),
        (
            "JP",
            with(
                customer("Kabushiki", "JP", "JPY", "ja-JP"),
                "JP",
                Some("T7000012050002"),
                None,
            ),
        ),
        (
            "SG",
            with(
                customer("Lion Pte", "SG", "SGD", "en-SG"),
                "SG",
                Some("197401143C"),
                None,
            ),
        ),
        (
            "KR",
            with(
                customer("Hangang", "KR", "KRW", "ko-KR"),
                "KR",
                Some("120-81-47521"),
                None,
            ),
        ),
        (
            "IN",
            with(
                customer("Mumbai Pvt", "IN", "INR", "en-IN"),
                "IN",
                Some("27AAPFU0939F1ZV"),
                Some("IN-MH"),
            ),
        ),
        (
            "IN",
            with(
                customer("Bengaluru Pvt", "IN", "INR", "en-IN"),
                "IN",
                None,
                Some("IN-KA"),
            ),
        ),
        (
            "AU",
            with(
                customer("Harbour Pty", "AU", "AUD", "en-AU"),
                "AU",
                Some("51824753556"),
                None,
            ),
        ),
    ];
    let mut ids = Vec::new();
    for (_, c) in customers {
        let id = create(&pool, c).await;
        insert_rollups(
            &pool,
            &[Rollup {
                customer: id,
                model: "openai/gpt-4o-mini",
                provider: "openai",
                region: "us-east",
                catalog_key: "gpt-4o-mini",
                hour: "2026-10-15T12:00:00Z",
                prompt: 12_345_678,
                completion: 2_345_678,
                cached: 0,
            }],
        )
        .await;
        ids.push(id);
    }
    // Usage: 12,345,678 × 0.15/M + 2,345,678 × 0.6/M = 1.8518517 + 1.4074068 = 3.2592585 USD.
    let net_usd = d("3.2592585");
    let report = run::run(
        &pool,
        Period::parse("2026-10").unwrap(),
        None,
        utc("2026-11-02T00:00:00Z"),
        &Progress::Log,
    )
    .await
    .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.outcomes.len(), 8);
    let all = query::list(&pool, &Default::default()).await.unwrap();
    assert_eq!(all.len(), 10);
    let mut invoices = Vec::new();
    for id in &ids {
        let row = all.iter().find(|r| r.customer_id == *id).unwrap();
        let inv = query::get(&pool, &row.number).await.unwrap();
        // Common to every jurisdiction.
        assert_eq!(inv.subtotal_usd, net_usd, "{}", inv.row.number);
        assert!(
            inv.seller["legal_name"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(
            inv.seller["address"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert!(inv.buyer["name"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(inv.buyer["address"].as_str().is_some_and(|s| !s.is_empty()));
        let hours = (inv.period_end - inv.period_start).num_hours(); // the time of supply
        assert!((743..=745).contains(&hours), "{hours}");
        assert_eq!(inv.row.period, "2026-10");
        assert!(
            inv.lines
                .iter()
                .all(|l| l.amount_usd == Decimal::from(l.quantity) * l.unit_price)
        );
        let fee = inv.lines.last().unwrap();
        assert_eq!(
            (fee.kind.as_str(), fee.amount_usd),
            ("platform_fee", Decimal::ZERO)
        );
        assert!(!inv.taxes.is_empty());
        assert_eq!(inv.row.total, inv.row.subtotal + inv.row.tax);
        assert_eq!(inv.row.subtotal, inv.taxes[0].taxable);
        if inv.row.currency != "USD" {
            assert_eq!(
                inv.row.fx_date.map(|d| d.to_string()),
                Some("2026-10-30".into())
            );
        }
        invoices.push(inv);
    }
    let [us, eu_b2b, eu_b2c, uk, jp, sg, kr, in_inter, in_intra, au] = invoices.try_into().unwrap();

    assert_eq!(us.row.number, "MUS-2026-000001");
    assert_eq!(
        (us.tax_treatment.as_str(), us.row.tax, us.row.fx_rate),
        ("outside_scope", d("0"), d("1"))
    );
    assert_eq!(us.row.issue_date.to_string(), "2026-11-01"); // still 1 November in Los Angeles

    // EU: reverse charge for a German business, French VAT for a French consumer.
    assert_eq!(eu_b2b.tax_treatment, "reverse_charge");
    assert_eq!(eu_b2b.tax_note.as_deref(), Some("Reverse charge"));
    assert_eq!(
        (eu_b2b.taxes[0].category.as_str(), eu_b2b.row.tax),
        ("AE", d("0"))
    );
    assert_eq!(eu_b2b.buyer["tax_id"], "DE136695976");
    assert_eq!(eu_b2b.seller["tax_id"], "IE6388047V");
    assert_eq!(eu_b2b.row.fx_rate, d("0.8620689655")); // 1 / 1.16
    assert_eq!(eu_b2b.row.subtotal, d("2.81")); // 3.2592585 × 0.862… = 2.8097…
    assert_eq!(tax_codes(&eu_b2c), vec![("VAT".into(), "0.2".into())]);
    assert_eq!(eu_b2c.row.tax, d("0.56")); // 20 % of 2.81 = 0.562
    assert_eq!(eu_b2c.place_of_supply.as_deref(), Some("FR"));
    assert_eq!(
        (eu_b2b.row.number.as_str(), eu_b2c.row.number.as_str()),
        ("MEU-2026-000001", "MEU-2026-000002")
    );

    assert_eq!(tax_codes(&uk), vec![("VAT".into(), "0.2".into())]);
    assert_eq!(uk.seller["tax_id"], "GB980780684");

    // Japan: registration number, ¥ without minor unit, tax once per rate.
    assert!(jp.seller["tax_id"].as_str().unwrap().starts_with('T'));
    assert_eq!(jp.row.fx_rate, d("151.0344827586"));
    assert_eq!(jp.row.subtotal, d("492")); // 492.25…
    assert_eq!(
        (tax_codes(&jp), jp.row.tax),
        (vec![("JCT".into(), "0.1".into())], d("49"))
    );
    assert_eq!(jp.row.issue_date.to_string(), "2026-11-02");

    assert_eq!(tax_codes(&sg), vec![("GST".into(), "0.09".into())]);
    assert_eq!(sg.seller["tax_id"], "201912345R");

    // Korea: business numbers of both parties, representative, won without minor unit.
    assert_eq!(kr.buyer["tax_id"], "1208147521");
    assert_eq!(kr.seller["representative"], "김민준");
    assert_eq!(kr.row.subtotal.scale(), 0);
    assert_eq!(kr.row.tax, (kr.row.subtotal * d("0.1")).round());

    // India: IGST to Maharashtra, CGST + SGST within Karnataka; SAC, place of supply.
    assert_eq!(tax_codes(&in_inter), vec![("IGST".into(), "0.18".into())]);
    assert_eq!(
        in_inter.place_of_supply.as_deref(),
        Some("Maharashtra (27)")
    );
    assert_eq!(
        tax_codes(&in_intra),
        vec![
            ("CGST".into(), "0.09".into()),
            ("SGST".into(), "0.09".into())
        ]
    );
    assert_eq!(in_intra.place_of_supply.as_deref(), Some("Karnataka (29)"));
    assert_eq!(in_intra.seller["sac"], "998315");
    assert_eq!(in_intra.seller["state_name"], "Karnataka");
    assert_eq!(in_intra.seller["tax_id"], "29AAGCM1234P1Z3");
    assert_eq!(
        in_intra.tax_note.as_deref(),
        Some("Tax payable on reverse charge: No")
    );
    assert!(in_intra.row.number.len() <= 16, "{}", in_intra.row.number);
    assert_eq!(
        in_intra.row.tax,
        in_intra.taxes.iter().map(|t| t.tax).sum::<Decimal>()
    );

    assert_eq!(tax_codes(&au), vec![("GST".into(), "0.1".into())]);
    assert_eq!(au.seller["tax_id"], "51824753556");
}
