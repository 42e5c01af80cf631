//! Sample documents of every kind the law asks for, built the way billing builds them:
//! exact USD lines, one rounding per tax base after conversion.

use chrono::NaiveDate;
use meridian_documents::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn line(
    kind: LineKind,
    model: &str,
    provider: &str,
    region: &str,
    quantity: i64,
    per_million: &str,
) -> Line {
    let unit = d(per_million);
    Line {
        kind,
        model: model.into(),
        provider: provider.into(),
        region: region.into(),
        quantity,
        unit_price_per_million: unit,
        amount: Decimal::from(quantity) * unit / Decimal::from(1_000_000),
    }
}

fn usage_lines() -> Vec<Line> {
    vec![
        line(
            LineKind::Input,
            "openai/gpt-4o-mini",
            "openai",
            "us-east",
            1_823_456_789,
            "0.15",
        ),
        line(
            LineKind::CachedInput,
            "openai/gpt-4o-mini",
            "openai",
            "us-east",
            400_000_000,
            "0.075",
        ),
        line(
            LineKind::Output,
            "openai/gpt-4o-mini",
            "openai",
            "us-east",
            612_345_678,
            "0.6",
        ),
        line(
            LineKind::Input,
            "anthropic/claude-sonnet-4-5",
            "bedrock",
            "eu-central-1",
            954_321_000,
            "3.3",
        ),
        line(
            LineKind::CacheWrite,
            "anthropic/claude-sonnet-4-5",
            "bedrock",
            "eu-central-1",
            12_500_000,
            "4.125",
        ),
        line(
            LineKind::Output,
            "anthropic/claude-sonnet-4-5",
            "bedrock",
            "eu-central-1",
            123_456_789,
            "16.5",
        ),
        line(
            LineKind::Reasoning,
            "deepseek/deepseek-reasoner",
            "deepseek",
            "global",
            30_000_001,
            "2.19",
        ),
        line(
            LineKind::Input,
            "openai/text-embedding-3-small",
            "openai",
            "us-east",
            5_000_000_000,
            "0.02",
        ),
        Line {
            kind: LineKind::PlatformFee,
            model: String::new(),
            provider: String::new(),
            region: String::new(),
            quantity: 1,
            unit_price_per_million: Decimal::ZERO,
            amount: Decimal::ZERO,
        },
    ]
}

/// Billing's rounding: the converted net per base rounded once, tax per rate once.
fn priced(mut doc: InvoiceDocument, taxes: &[(TaxCategory, &str)]) -> InvoiceDocument {
    let usd: Decimal = doc.lines.iter().map(|l| l.amount).sum();
    let net = round(usd * doc.fx.rate, &doc.currency).unwrap();
    doc.taxes = taxes
        .iter()
        .map(|(category, rate)| TaxRow {
            category: *category,
            rate: d(rate),
            net,
            tax: round(d(rate) * net, &doc.currency).unwrap(),
        })
        .collect();
    let tax: Decimal = doc.taxes.iter().map(|t| t.tax).sum();
    doc.totals = Totals {
        subtotal_usd: usd,
        subtotal: net,
        tax,
        total: net + tax,
    };
    doc
}

struct Party<'a> {
    name: &'a str,
    address: &'a [&'a str],
    country: &'a str,
    tax_id: Option<(TaxIdScheme, &'a str)>,
    state: Option<(&'a str, &'a str)>,
}

fn seller(p: Party<'_>) -> Seller {
    Seller {
        legal_name: p.name.into(),
        address_lines: p.address.iter().map(|s| s.to_string()).collect(),
        country: p.country.into(),
        tax_id: p.tax_id.map(|(scheme, value)| TaxId {
            scheme,
            value: value.into(),
        }),
        state: p.state.map(|(name, code)| State {
            name: name.into(),
            code: code.into(),
        }),
        phone: None,
        representative: None,
        email: Some(format!(
            "billing-{}@meridian.example",
            p.country.to_lowercase()
        )),
    }
}

fn buyer(p: Party<'_>) -> Buyer {
    Buyer {
        name: p.name.into(),
        address_lines: p.address.iter().map(|s| s.to_string()).collect(),
        country: p.country.into(),
        state: p.state.map(|(name, code)| State {
            name: name.into(),
            code: code.into(),
        }),
        tax_id: p.tax_id.map(|(scheme, value)| TaxId {
            scheme,
            value: value.into(),
        }),
        email: "ap@customer.example".into(),
    }
}

fn base(
    number: &str,
    locale: &str,
    currency: &str,
    rate: &str,
    seller: Seller,
    buyer: Buyer,
) -> InvoiceDocument {
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: number.into(),
        issue_date: date(2026, 11, 2),
        period: BillingPeriod {
            start: date(2026, 10, 1),
            end: date(2026, 10, 31),
        },
        locale: locale.into(),
        currency: currency.into(),
        fx: FxRate {
            rate: d(rate),
            date: date(2026, 10, 30),
        },
        seller,
        buyer,
        lines: usage_lines(),
        taxes: Vec::new(),
        totals: Totals {
            subtotal_usd: Decimal::ZERO,
            subtotal: Decimal::ZERO,
            tax: Decimal::ZERO,
            total: Decimal::ZERO,
        },
        payment: PaymentDetails {
            due_date: date(2026, 12, 2),
            account_holder: "Meridian".into(),
            bank: "Example Bank".into(),
            account: "DE89 3704 0044 0532 0130 00".into(),
            bic: Some("COBADEFFXXX".into()),
            reference: number.into(),
        },
        legal: LegalNotes::default(),
        layout: LayoutVersion::CURRENT,
    }
}

fn eu_seller() -> Seller {
    seller(Party {
        name: "Meridian Europe B.V.",
        address: &["Herengracht 500", "1017 CB Amsterdam"],
        country: "NL",
        tax_id: Some((TaxIdScheme::Vat, "NL123456789B01")),
        state: None,
    })
}

/// EU entity → German business with a VAT number: reverse charge.
pub fn eu_reverse_charge(locale: &str, customer: &str) -> InvoiceDocument {
    let b = buyer(Party {
        name: customer,
        address: &["Friedrichstraße 123", "10117 Berlin"],
        country: "DE",
        tax_id: Some((TaxIdScheme::Vat, "DE811907980")),
        state: None,
    });
    let mut doc = base("EU-2026-000042", locale, "EUR", "0.8628", eu_seller(), b);
    doc.legal.reverse_charge = true;
    priced(doc, &[(TaxCategory::VatReverseCharge, "0")])
}

/// EU entity → French consumer: French VAT.
pub fn eu_consumer(locale: &str, customer: &str) -> InvoiceDocument {
    let b = buyer(Party {
        name: customer,
        address: &["12 rue de Rivoli", "75004 Paris"],
        country: "FR",
        tax_id: None,
        state: None,
    });
    let doc = base("EU-2026-000043", locale, "EUR", "0.8628", eu_seller(), b);
    priced(doc, &[(TaxCategory::Vat, "0.20")])
}

/// A customer with `models` models of usage: an invoice of several pages.
pub fn long_invoice(locale: &str, customer: &str, models: usize) -> InvoiceDocument {
    let mut doc = uk(locale, customer);
    let fee = doc.lines.pop().expect("the platform fee comes last");
    let template = doc.lines.clone();
    doc.lines = (0..models)
        .flat_map(|i| {
            template.iter().map(move |l| Line {
                model: format!("{}-v{i}", l.model),
                ..l.clone()
            })
        })
        .collect();
    doc.lines.push(fee);
    priced(doc, &[(TaxCategory::Vat, "0.20")])
}

/// A credit note for the reverse-charge invoice: negative amounts.
pub fn eu_credit_note(locale: &str, customer: &str) -> InvoiceDocument {
    let mut doc = eu_reverse_charge(locale, customer);
    doc.kind = DocumentKind::CreditNote {
        invoice_number: "EU-2026-000042".into(),
        invoice_date: date(2026, 11, 2),
        reason: "Duplicate usage import".into(),
    };
    doc.number = "EUC-2026-000007".into();
    doc.issue_date = date(2026, 11, 20);
    for l in &mut doc.lines {
        l.quantity = -l.quantity;
        l.amount = -l.amount;
    }
    priced(doc, &[(TaxCategory::VatReverseCharge, "0")])
}

pub fn us(locale: &str, customer: &str, currency: &str, rate: &str) -> InvoiceDocument {
    let s = seller(Party {
        name: "Meridian AI, Inc.",
        address: &["548 Market St", "San Francisco, CA 94104"],
        country: "US",
        tax_id: Some((TaxIdScheme::Other, "EIN 12-3456789")),
        state: None,
    });
    let b = buyer(Party {
        name: customer,
        address: &["Av. Paulista, 1000", "São Paulo - SP"],
        country: "BR",
        tax_id: None,
        state: None,
    });
    priced(
        base("US-2026-000311", locale, currency, rate, s, b),
        &[(TaxCategory::NotTaxed, "0")],
    )
}

pub fn uk(locale: &str, customer: &str) -> InvoiceDocument {
    let s = seller(Party {
        name: "Meridian UK Ltd",
        address: &["1 Finsbury Avenue", "London EC2M 2PF"],
        country: "GB",
        tax_id: Some((TaxIdScheme::Vat, "GB123456782")),
        state: None,
    });
    let b = buyer(Party {
        name: customer,
        address: &["2 Deansgate", "Manchester M3 1AZ"],
        country: "GB",
        tax_id: Some((TaxIdScheme::Vat, "GB980780684")),
        state: None,
    });
    priced(
        base("UK-2026-000077", locale, "GBP", "0.7431", s, b),
        &[(TaxCategory::Vat, "0.20")],
    )
}

pub fn japan(locale: &str, customer: &str) -> InvoiceDocument {
    let s = seller(Party {
        name: "メリディアン株式会社",
        address: &["東京都千代田区丸の内1-1-1"],
        country: "JP",
        tax_id: Some((TaxIdScheme::JpRegistration, "T1234567890123")),
        state: None,
    });
    let b = buyer(Party {
        name: customer,
        address: &["大阪府大阪市北区梅田3-1-1"],
        country: "JP",
        tax_id: None,
        state: None,
    });
    let mut doc = base("JP-2026-000015", locale, "JPY", "152.37", s, b);
    doc.legal.japan_qualified_invoice = true;
    priced(doc, &[(TaxCategory::Jct, "0.10")])
}

pub fn korea(locale: &str, customer: &str) -> InvoiceDocument {
    let mut s = seller(Party {
        name: "메리디언 코리아 주식회사",
        address: &["서울특별시 강남구 테헤란로 152"],
        country: "KR",
        tax_id: Some((TaxIdScheme::KrBusiness, "220-81-62517")),
        state: None,
    });
    s.phone = Some("+82 2 1234 5678".into());
    s.representative = Some("김민준".into());
    let b = buyer(Party {
        name: customer,
        address: &["부산광역시 해운대구 센텀중앙로 97"],
        country: "KR",
        tax_id: Some((TaxIdScheme::KrBusiness, "101-86-00214")),
        state: None,
    });
    let mut doc = base("KR-2026-000021", locale, "KRW", "1431.5", s, b);
    doc.legal.korea_terms = true;
    priced(doc, &[(TaxCategory::Vat, "0.10")])
}

pub fn singapore(locale: &str, customer: &str) -> InvoiceDocument {
    let s = seller(Party {
        name: "Meridian Asia Pte. Ltd.",
        address: &["1 Raffles Place, #20-01", "Singapore 048616"],
        country: "SG",
        tax_id: Some((TaxIdScheme::SgGst, "201912345R")),
        state: None,
    });
    let b = buyer(Party {
        name: customer,
        address: &["10 Anson Road", "Singapore 079903"],
        country: "SG",
        tax_id: None,
        state: None,
    });
    let mut doc = base("SG-2026-000088", locale, "SGD", "1.2987", s, b);
    doc.legal.tax_invoice = true;
    priced(doc, &[(TaxCategory::Gst, "0.09")])
}

pub fn australia(locale: &str, customer: &str) -> InvoiceDocument {
    let s = seller(Party {
        name: "Meridian Australia Pty Ltd",
        address: &["1 Martin Place", "Sydney NSW 2000"],
        country: "AU",
        tax_id: Some((TaxIdScheme::Abn, "51 824 753 556")),
        state: None,
    });
    let b = buyer(Party {
        name: customer,
        address: &["101 Collins Street", "Melbourne VIC 3000"],
        country: "AU",
        tax_id: Some((TaxIdScheme::Abn, "53 004 085 616")),
        state: None,
    });
    let mut doc = base("AU-2026-000009", locale, "AUD", "1.5312", s, b);
    doc.legal.tax_invoice = true;
    priced(doc, &[(TaxCategory::Gst, "0.10")])
}

/// India: a customer in Karnataka (intra-state: CGST + SGST) or elsewhere (IGST).
pub fn india(locale: &str, customer: &str, intra_state: bool) -> InvoiceDocument {
    let s = seller(Party {
        name: "Meridian India Private Limited",
        address: &["Prestige Tech Park, Marathahalli", "Bengaluru 560103"],
        country: "IN",
        tax_id: Some((TaxIdScheme::Gstin, "29AAGCM1234P1Z3")),
        state: Some(("Karnataka", "29")),
    });
    let (state, code, gstin) = if intra_state {
        ("Karnataka", "29", "29AABCT1332L1ZU")
    } else {
        ("Maharashtra", "27", "27AAACR5055K1Z7")
    };
    let b = buyer(Party {
        name: customer,
        address: &["Bandra Kurla Complex", "Mumbai 400051"],
        country: "IN",
        tax_id: Some((TaxIdScheme::Gstin, gstin)),
        state: Some((state, code)),
    });
    let number = if intra_state {
        "IN/2026/000123"
    } else {
        "IN/2026/000124"
    };
    let mut doc = base(number, locale, "INR", "88.4512", s, b);
    doc.legal.tax_invoice = true;
    doc.legal.india = Some(IndiaNotes {
        sac: "998315".into(),
        place_of_supply: State {
            name: state.into(),
            code: code.into(),
        },
        reverse_charge: false,
    });
    doc.payment.account = "50200012345678".into();
    doc.payment.bic = Some("HDFC0000001".into());
    if intra_state {
        priced(
            doc,
            &[(TaxCategory::Cgst, "0.09"), (TaxCategory::Sgst, "0.09")],
        )
    } else {
        priced(doc, &[(TaxCategory::Igst, "0.18")])
    }
}
