//! EN 16931 XML of EU invoices: valid against the official Factur-X EN 16931 XSD
//! (`tests/xsd`, checked with `xmllint`), and the business rules EN 16931's Schematron
//! checks that matter here, re-checked from the XML alone: the arithmetic BR-CO-10..16,
//! the VAT breakdown per category (BR-S-08, BR-AE-08..10), the mandatory fields and at
//! most two decimals on amounts.

mod support;

use std::path::Path;

use meridian_documents::*;
use roxmltree::{Document, Node};
use rust_decimal::Decimal;
use support::samples::*;
use support::{run, temp_file};

fn eu_documents() -> Vec<InvoiceDocument> {
    vec![
        eu_reverse_charge("de-DE", "Müller & Söhne GmbH"),
        eu_consumer("fr-FR", "Société Générale de Données SAS"),
        eu_credit_note("es-ES", "Compañía Ibérica de Datos S.L."),
    ]
}

#[test]
fn xml_validates_against_the_factur_x_en16931_schema() {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xsd/Factur-X_EN16931.xsd");
    for doc in eu_documents() {
        let xml = render_xml(&doc).unwrap().expect("EU documents carry XML");
        let path = temp_file("cii.xml", xml.as_bytes());
        run(
            "xmllint",
            &["--noout", "--schema", xsd.to_str().unwrap()],
            &path,
        );
        std::fs::remove_file(path).ok();
    }
}

#[test]
fn only_the_eu_entity_issues_e_invoices() {
    assert!(render_xml(&japan("ja-JP", "山田")).unwrap().is_none());
    assert!(render_xml(&uk("en-GB", "X")).unwrap().is_none());
}

fn children<'a>(node: Node<'a, 'a>, name: &str) -> Vec<Node<'a, 'a>> {
    node.descendants()
        .filter(|n| n.tag_name().name() == name)
        .collect()
}

fn text<'a>(node: Node<'a, 'a>, name: &str) -> Option<&'a str> {
    children(node, name).first().and_then(|n| n.text())
}

fn amount(node: Node<'_, '_>, name: &str) -> Decimal {
    text(node, name).map_or(Decimal::ZERO, |t| t.parse().unwrap())
}

#[test]
fn xml_follows_en16931_business_rules() {
    for doc in eu_documents() {
        let xml = render_xml(&doc).unwrap().unwrap();
        let tree = Document::parse(&xml).unwrap();
        let root = tree.root_element();
        let errors = check(root);
        assert!(errors.is_empty(), "{}: {errors:#?}\n{xml}", doc.number);
        // The document's own totals are what the XML says (credit notes positive).
        let sign = if doc.is_credit_note() {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        assert_eq!(amount(root, "GrandTotalAmount"), doc.totals.total * sign);
        assert_eq!(
            amount(root, "TaxBasisTotalAmount"),
            doc.totals.subtotal * sign
        );
    }
}

/// The rules, checked on the XML; returns every broken one.
fn check(root: Node<'_, '_>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut rule = |ok: bool, what: &str| {
        if !ok {
            errors.push(what.to_string());
        }
    };
    let lines = children(root, "IncludedSupplyChainTradeLineItem");
    let summation = children(root, "SpecifiedTradeSettlementHeaderMonetarySummation")[0];
    let settlement = children(root, "ApplicableHeaderTradeSettlement")[0];
    let seller = children(root, "SellerTradeParty")[0];
    let buyer = children(root, "BuyerTradeParty")[0];
    let charges: Vec<Node> = settlement
        .children()
        .filter(|n| n.tag_name().name() == "SpecifiedTradeAllowanceCharge")
        .collect();
    let is_charge = |n: &Node| text(*n, "Indicator") == Some("true");

    let guideline = children(root, "GuidelineSpecifiedDocumentContextParameter");
    rule(
        guideline.first().and_then(|g| text(*g, "ID")) == Some("urn:cen.eu:en16931:2017"),
        "BR-01 specification identifier",
    );
    rule(
        text(children(root, "ExchangedDocument")[0], "ID").is_some(),
        "BR-02 invoice number",
    );
    rule(text(root, "DateTimeString").is_some(), "BR-03 issue date");
    rule(
        matches!(
            text(children(root, "ExchangedDocument")[0], "TypeCode"),
            Some("380" | "381")
        ),
        "BR-04 type code",
    );
    rule(
        text(root, "InvoiceCurrencyCode").is_some(),
        "BR-05 currency",
    );
    rule(text(seller, "Name").is_some(), "BR-06 seller name");
    rule(text(buyer, "Name").is_some(), "BR-07 buyer name");
    rule(
        text(seller, "CountryID").is_some(),
        "BR-08/09 seller address and country",
    );
    rule(
        text(buyer, "CountryID").is_some(),
        "BR-10/11 buyer address and country",
    );
    rule(!lines.is_empty(), "BR-16 at least one line");
    for line in &lines {
        rule(text(*line, "LineID").is_some(), "BR-21 line id");
        rule(
            children(*line, "BilledQuantity")
                .first()
                .is_some_and(|q| q.attribute("unitCode").is_some()),
            "BR-22/23 quantity and unit",
        );
        rule(
            text(*line, "LineTotalAmount").is_some(),
            "BR-24 line net amount",
        );
        rule(text(*line, "Name").is_some(), "BR-25 item name");
        rule(
            amount(*line, "ChargeAmount") >= Decimal::ZERO,
            "BR-26/27 net price, not negative",
        );
        rule(
            text(*line, "CategoryCode").is_some(),
            "BR-CO-4 line VAT category",
        );
    }
    let line_sum: Decimal = lines.iter().map(|l| amount(*l, "LineTotalAmount")).sum();
    let charge_sum: Decimal = charges
        .iter()
        .filter(|n| is_charge(n))
        .map(|n| amount(*n, "ActualAmount"))
        .sum();
    let allowance_sum: Decimal = charges
        .iter()
        .filter(|n| !is_charge(n))
        .map(|n| amount(*n, "ActualAmount"))
        .sum();
    let line_total = amount(summation, "LineTotalAmount");
    let basis = amount(summation, "TaxBasisTotalAmount");
    let tax_total = amount(summation, "TaxTotalAmount");
    let grand = amount(summation, "GrandTotalAmount");
    rule(
        line_total == line_sum,
        "BR-CO-10 line total = Σ line net amounts",
    );
    rule(
        amount(summation, "AllowanceTotalAmount") == allowance_sum,
        "BR-CO-11 allowances",
    );
    rule(
        amount(summation, "ChargeTotalAmount") == charge_sum,
        "BR-CO-12 charges",
    );
    rule(
        basis == line_total - allowance_sum + charge_sum,
        "BR-CO-13 tax basis = lines − allowances + charges",
    );
    let breakdown: Vec<Node> = settlement
        .children()
        .filter(|n| n.tag_name().name() == "ApplicableTradeTax")
        .collect();
    let breakdown_tax: Decimal = breakdown
        .iter()
        .map(|n| amount(*n, "CalculatedAmount"))
        .sum();
    rule(
        tax_total == breakdown_tax,
        "BR-CO-14 tax total = Σ breakdown",
    );
    rule(
        grand == basis + tax_total,
        "BR-CO-15 grand total = basis + tax",
    );
    rule(
        amount(summation, "DuePayableAmount")
            == grand - amount(summation, "TotalPrepaidAmount")
                + amount(summation, "RoundingAmount"),
        "BR-CO-16 amount due",
    );
    rule(
        children(root, "TaxTotalAmount")
            .iter()
            .all(|n| n.attribute("currencyID").is_some()),
        "BR-CO tax total currency",
    );
    for tax in &breakdown {
        let category = text(*tax, "CategoryCode").unwrap_or_default();
        let rate = text(*tax, "RateApplicablePercent").unwrap_or_default();
        let in_category = |n: &Node| {
            text(*n, "CategoryCode") == Some(category)
                && text(*n, "RateApplicablePercent") == Some(rate)
        };
        let lines_here: Decimal = lines
            .iter()
            .filter(|l| in_category(l))
            .map(|l| amount(*l, "LineTotalAmount"))
            .sum();
        let ch: Decimal = charges
            .iter()
            .filter(|n| in_category(n) && is_charge(n))
            .map(|n| amount(*n, "ActualAmount"))
            .sum();
        let al: Decimal = charges
            .iter()
            .filter(|n| in_category(n) && !is_charge(n))
            .map(|n| amount(*n, "ActualAmount"))
            .sum();
        rule(
            amount(*tax, "BasisAmount") == lines_here + ch - al,
            "BR-S-08/BR-AE-08 basis per category",
        );
        if category == "AE" {
            rule(
                amount(*tax, "CalculatedAmount").is_zero() && rate == "0",
                "BR-AE-05/09 zero tax",
            );
            rule(
                text(*tax, "ExemptionReason").is_some()
                    || text(*tax, "ExemptionReasonCode").is_some(),
                "BR-AE-10 exemption reason",
            );
            rule(
                children(seller, "SpecifiedTaxRegistration").len() == 1
                    && children(buyer, "SpecifiedTaxRegistration").len() == 1,
                "BR-AE-02 both VAT ids",
            );
        }
        if category == "S" {
            let expected = (amount(*tax, "BasisAmount") * rate.parse::<Decimal>().unwrap()
                / Decimal::ONE_HUNDRED)
                .round_dp(2);
            rule(
                amount(*tax, "CalculatedAmount") == expected,
                "BR-S-09 tax = basis × rate",
            );
        }
    }
    for node in root.descendants().filter(|n| {
        n.tag_name().name().ends_with("Amount") && n.tag_name().name() != "ChargeAmount"
    }) {
        if let Some(t) = node.text() {
            rule(
                t.split('.').nth(1).is_none_or(|d| d.len() <= 2),
                "BR-DEC at most two decimals on amounts",
            );
        }
    }
    errors
}
