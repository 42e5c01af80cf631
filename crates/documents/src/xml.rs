//! EN 16931 e-invoices as Factur-X / ZUGFeRD CII XML (profile EN 16931), for invoices of
//! the EU entity. The XML is attached to the PDF by [`crate::pdf`].
//!
//! EN 16931 wants every amount in the invoice currency with its minor unit, and line
//! net amounts that add up to the taxable amount. Meridian's lines are exact USD and
//! billing rounds once per tax rate after conversion, so here each line is converted
//! and rounded (half-even) on its own, and any difference between their sum and the
//! taxable amount billed becomes an explicit document-level charge or allowance named
//! "Rounding difference" — never a silent cent. This is the only rounding in the crate.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::model::{DocumentKind, InvoiceDocument, TaxCategory, TaxIdScheme};
use crate::{DocumentsError, currency};

/// Member States of the EU (ISO 3166-1 alpha-2; Greece as `GR`).
const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Whether the document carries EN 16931 XML: issued by an entity in the EU for a
/// supply within the EU VAT system. A supply outside its scope (a customer outside the
/// EU) is invoiced by the PDF alone.
pub fn wants_einvoice(doc: &InvoiceDocument) -> bool {
    EU.contains(&doc.seller.country.as_str())
        && doc
            .taxes
            .iter()
            .all(|t| t.category != TaxCategory::NotTaxed)
}

/// The Factur-X (EN 16931 profile) CII XML of `doc`.
pub fn factur_x(doc: &InvoiceDocument) -> Result<String, DocumentsError> {
    let [tax] = doc.taxes.as_slice() else {
        return Err(DocumentsError::Invalid(
            "an EN 16931 invoice needs exactly one tax rate".to_string(),
        ));
    };
    let code = doc.currency.as_str();
    // EN 16931 credit notes carry positive amounts; ours are negative.
    let sign = if doc.is_credit_note() {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    };
    let amount = |v: Decimal| currency::round(v * sign, code).map(|v| v.to_string());
    let (category, exemption) = match tax.category {
        TaxCategory::VatReverseCharge => ("AE", Some(("Reverse charge", "VATEX-EU-AE"))),
        TaxCategory::Vat if tax.rate.is_zero() => ("Z", None),
        TaxCategory::Vat => ("S", None),
        other => {
            return Err(DocumentsError::Invalid(format!(
                "{other:?} is not an EU VAT category"
            )));
        }
    };
    let percent = (tax.rate * Decimal::ONE_HUNDRED).normalize().to_string();
    let tax_leaf = |x: &mut Xml, with_reason: bool| {
        x.leaf("ram:TypeCode", "VAT");
        if let (true, Some((reason, _))) = (with_reason, exemption) {
            x.leaf("ram:ExemptionReason", reason);
        }
    };

    let mut x = Xml::default();
    x.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.open_with(
        "rsm:CrossIndustryInvoice",
        &[
            ("xmlns:rsm", "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"),
            ("xmlns:ram", "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"),
            ("xmlns:qdt", "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"),
            ("xmlns:udt", "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"),
        ],
    );
    x.open("rsm:ExchangedDocumentContext");
    x.open("ram:GuidelineSpecifiedDocumentContextParameter");
    x.leaf("ram:ID", "urn:cen.eu:en16931:2017");
    x.close();
    x.close();

    x.open("rsm:ExchangedDocument");
    x.leaf("ram:ID", &doc.number);
    x.leaf(
        "ram:TypeCode",
        if doc.is_credit_note() { "381" } else { "380" },
    );
    x.date("ram:IssueDateTime", "udt:DateTimeString", doc.issue_date);
    if let Some((reason, _)) = exemption {
        x.open("ram:IncludedNote");
        x.leaf("ram:Content", reason);
        x.close();
    }
    x.close();

    x.open("rsm:SupplyChainTradeTransaction");
    let mut lines_total = Decimal::ZERO;
    for (i, line) in doc.lines.iter().enumerate() {
        let net = currency::round(line.amount * doc.fx.rate * sign, code)?;
        lines_total += net;
        x.open("ram:IncludedSupplyChainTradeLineItem");
        x.open("ram:AssociatedDocumentLineDocument");
        x.leaf("ram:LineID", &(i + 1).to_string());
        x.close();
        x.open("ram:SpecifiedTradeProduct");
        let name = if line.model.is_empty() {
            "Platform fee".to_string()
        } else {
            format!(
                "{} {:?} tokens ({} / {})",
                line.model, line.kind, line.provider, line.region
            )
        };
        x.leaf("ram:Name", &name);
        x.close();
        x.open("ram:SpecifiedLineTradeAgreement");
        x.open("ram:NetPriceProductTradePrice");
        x.leaf(
            "ram:ChargeAmount",
            &(line.unit_price_per_million * doc.fx.rate)
                .normalize()
                .to_string(),
        );
        x.leaf_with("ram:BasisQuantity", &[("unitCode", "C62")], "1000000");
        x.close();
        x.close();
        x.open("ram:SpecifiedLineTradeDelivery");
        x.leaf_with(
            "ram:BilledQuantity",
            &[("unitCode", "C62")],
            &(Decimal::from(line.quantity) * sign).to_string(),
        );
        x.close();
        x.open("ram:SpecifiedLineTradeSettlement");
        x.open("ram:ApplicableTradeTax");
        tax_leaf(&mut x, false);
        x.leaf("ram:CategoryCode", category);
        x.leaf("ram:RateApplicablePercent", &percent);
        x.close();
        x.open("ram:SpecifiedTradeSettlementLineMonetarySummation");
        x.leaf("ram:LineTotalAmount", &net.to_string());
        x.close();
        x.close();
        x.close();
    }

    x.open("ram:ApplicableHeaderTradeAgreement");
    x.open("ram:SellerTradeParty");
    x.leaf("ram:Name", &doc.seller.legal_name);
    x.party_address(&doc.seller.address_lines, &doc.seller.country);
    if let Some(email) = &doc.seller.email {
        x.open("ram:URIUniversalCommunication");
        x.leaf_with("ram:URIID", &[("schemeID", "EM")], email);
        x.close();
    }
    x.vat_id(
        doc.seller
            .tax_id
            .as_ref()
            .filter(|t| t.scheme == TaxIdScheme::Vat)
            .map(|t| t.value.as_str()),
    );
    x.close();
    x.open("ram:BuyerTradeParty");
    x.leaf("ram:Name", &doc.buyer.name);
    x.party_address(&doc.buyer.address_lines, &doc.buyer.country);
    x.open("ram:URIUniversalCommunication");
    x.leaf_with("ram:URIID", &[("schemeID", "EM")], &doc.buyer.email);
    x.close();
    x.vat_id(
        doc.buyer
            .tax_id
            .as_ref()
            .filter(|t| t.scheme == TaxIdScheme::Vat)
            .map(|t| t.value.as_str()),
    );
    x.close();
    x.close();

    x.open("ram:ApplicableHeaderTradeDelivery");
    x.close();

    x.open("ram:ApplicableHeaderTradeSettlement");
    x.leaf("ram:PaymentReference", &doc.payment.reference);
    x.leaf("ram:InvoiceCurrencyCode", code);
    if !doc.is_credit_note() {
        x.open("ram:SpecifiedTradeSettlementPaymentMeans");
        x.leaf("ram:TypeCode", "58");
        x.open("ram:PayeePartyCreditorFinancialAccount");
        x.leaf("ram:IBANID", &doc.payment.account.replace(' ', ""));
        x.leaf("ram:AccountName", &doc.payment.account_holder);
        x.close();
        if let Some(bic) = &doc.payment.bic {
            x.open("ram:PayeeSpecifiedCreditorFinancialInstitution");
            x.leaf("ram:BICID", bic);
            x.close();
        }
        x.close();
    }
    let basis = amount(tax.net)?;
    x.open("ram:ApplicableTradeTax");
    x.leaf("ram:CalculatedAmount", &amount(tax.tax)?);
    tax_leaf(&mut x, true);
    x.leaf("ram:BasisAmount", &basis);
    x.leaf("ram:CategoryCode", category);
    if let Some((_, code)) = exemption {
        x.leaf("ram:ExemptionReasonCode", code);
    }
    x.leaf("ram:RateApplicablePercent", &percent);
    x.close();
    x.open("ram:BillingSpecifiedPeriod");
    x.date("ram:StartDateTime", "udt:DateTimeString", doc.period.start);
    x.date("ram:EndDateTime", "udt:DateTimeString", doc.period.end);
    x.close();
    let difference = basis.parse::<Decimal>().expect("decimal") - lines_total;
    if !difference.is_zero() {
        x.open("ram:SpecifiedTradeAllowanceCharge");
        x.open("ram:ChargeIndicator");
        x.leaf(
            "udt:Indicator",
            if difference > Decimal::ZERO {
                "true"
            } else {
                "false"
            },
        );
        x.close();
        x.leaf("ram:ActualAmount", &difference.abs().to_string());
        x.leaf(
            "ram:Reason",
            "Rounding difference (USD to invoice currency conversion)",
        );
        x.open("ram:CategoryTradeTax");
        tax_leaf(&mut x, false);
        x.leaf("ram:CategoryCode", category);
        x.leaf("ram:RateApplicablePercent", &percent);
        x.close();
        x.close();
    }
    x.open("ram:SpecifiedTradePaymentTerms");
    match &doc.kind {
        DocumentKind::Invoice => x.date(
            "ram:DueDateDateTime",
            "udt:DateTimeString",
            doc.payment.due_date,
        ),
        DocumentKind::CreditNote { invoice_number, .. } => {
            x.leaf(
                "ram:Description",
                &format!("Credited against invoice {invoice_number}; no payment due."),
            );
        }
    }
    x.close();
    x.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
    x.leaf("ram:LineTotalAmount", &lines_total.to_string());
    if difference > Decimal::ZERO {
        x.leaf("ram:ChargeTotalAmount", &difference.to_string());
    }
    if difference < Decimal::ZERO {
        x.leaf("ram:AllowanceTotalAmount", &difference.abs().to_string());
    }
    x.leaf("ram:TaxBasisTotalAmount", &amount(doc.totals.subtotal)?);
    x.leaf_with(
        "ram:TaxTotalAmount",
        &[("currencyID", code)],
        &amount(doc.totals.tax)?,
    );
    x.leaf("ram:GrandTotalAmount", &amount(doc.totals.total)?);
    x.leaf("ram:DuePayableAmount", &amount(doc.totals.total)?);
    x.close();
    if let DocumentKind::CreditNote {
        invoice_number,
        invoice_date,
        ..
    } = &doc.kind
    {
        x.open("ram:InvoiceReferencedDocument");
        x.leaf("ram:IssuerAssignedID", invoice_number);
        x.date(
            "ram:FormattedIssueDateTime",
            "qdt:DateTimeString",
            *invoice_date,
        );
        x.close();
    }
    x.close();
    x.close();
    x.close();
    Ok(x.out)
}

/// A small indenting XML writer; text and attributes are escaped.
#[derive(Default)]
struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    fn indent(&mut self) {
        self.out.push_str(&"  ".repeat(self.open.len()));
    }

    fn start(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        self.out.push('>');
    }

    fn open_with(&mut self, tag: &'static str, attrs: &[(&str, &str)]) {
        self.start(tag, attrs);
        self.out.push('\n');
        self.open.push(tag);
    }

    fn open(&mut self, tag: &'static str) {
        self.open_with(tag, &[]);
    }

    fn close(&mut self) {
        let tag = self.open.pop().expect("an open element");
        self.indent();
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf_with(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.start(tag, attrs);
        self.out.push_str(&escape(text));
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.leaf_with(tag, &[], text);
    }

    /// A date in format 102 (`YYYYMMDD`).
    fn date(&mut self, tag: &'static str, inner: &str, date: NaiveDate) {
        self.open(tag);
        self.leaf_with(
            inner,
            &[("format", "102")],
            &date.format("%Y%m%d").to_string(),
        );
        self.close();
    }

    fn party_address(&mut self, lines: &[String], country: &str) {
        self.open("ram:PostalTradeAddress");
        let (first, rest) = lines.split_at(lines.len().min(2));
        for (tag, line) in ["ram:LineOne", "ram:LineTwo"].iter().zip(first) {
            self.leaf(tag, line);
        }
        if !rest.is_empty() {
            self.leaf("ram:LineThree", &rest.join(", "));
        }
        self.leaf("ram:CountryID", country);
        self.close();
    }

    fn vat_id(&mut self, id: Option<&str>) {
        if let Some(id) = id {
            self.open("ram:SpecifiedTaxRegistration");
            self.leaf_with("ram:ID", &[("schemeID", "VA")], id);
            self.close();
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
