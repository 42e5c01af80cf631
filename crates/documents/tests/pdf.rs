//! Rendered PDFs, read back as a person's tools read them: `pdftotext` finds the
//! localized labels, the CLDR-formatted totals and the customer's name in every
//! language; the same document gives the same bytes (a document of layout 1 the bytes
//! it was issued with); fonts are embedded subsets that cover every character of every
//! locale file; header dates never break across lines.

mod support;

use meridian_documents::*;
use meridian_test_support::pdf::{pdf_text, squash};
use support::samples::*;
use support::{run, temp_file};

struct Case {
    locale: &'static str,
    customer: &'static str,
    doc: InvoiceDocument,
    /// Message ids whose text must appear.
    labels: &'static [&'static str],
    /// Literal legal words and amounts that must appear, whatever the locale files say.
    literals: &'static [&'static str],
}

const COMMON: [&str; 4] = ["meta-number", "meta-issue-date", "tax-heading", "col-model"];

fn cases() -> Vec<Case> {
    let case = |locale,
                customer,
                make: fn(&'static str, &'static str) -> InvoiceDocument,
                labels,
                literals| Case {
        locale,
        customer,
        doc: make(locale, customer),
        labels,
        literals,
    };
    vec![
        case(
            "en-US",
            "Acme Robotics, Inc.",
            |l, c| us(l, c, "USD", "1"),
            &["title-invoice", "total-due", "payment-heading"],
            &["Platform fee"],
        ),
        case(
            "en-GB",
            "Brightwater Analytics Ltd",
            uk,
            &["title-invoice", "total-due"],
            &["VAT number", "20%"],
        ),
        case(
            "de-DE",
            "Müller & Söhne GmbH",
            eu_reverse_charge,
            &["title-invoice", "total-due", "note-reverse-charge"],
            &[
                "Steuerschuldnerschaft des Leistungsempfängers",
                "USt-IdNr.: DE811907980",
                "Wechselkurs",
            ],
        ),
        case(
            "fr-FR",
            "Société Générale de Données SAS",
            eu_consumer,
            &["title-invoice", "total-due"],
            &["TVA", "20 %"],
        ),
        case(
            "es-ES",
            "Compañía Ibérica de Datos S.L.",
            eu_credit_note,
            &[
                "title-credit-note",
                "total-credited",
                "meta-credited-invoice",
            ],
            &["EU-2026-000042", "inversión del sujeto pasivo"],
        ),
        case(
            "it-IT",
            "Rossi & Figli S.p.A.",
            eu_reverse_charge,
            &["title-invoice", "total-due", "note-reverse-charge"],
            &["Inversione contabile"],
        ),
        case(
            "pt-BR",
            "Indústria Ação Ltda.",
            |l, c| us(l, c, "BRL", "5.3421"),
            &["title-invoice", "total-due"],
            &["R$"],
        ),
        case(
            "ja-JP",
            "株式会社山田製作所",
            japan,
            &["title-qualified-invoice", "total-due", "note-jp-qualified"],
            &["適格請求書", "登録番号: T1234567890123", "消費税", "￥"],
        ),
        case(
            "zh-CN",
            "北京数据科技有限公司",
            singapore,
            &["title-tax-invoice", "total-due"],
            &["税务发票", "GST"],
        ),
        case(
            "zh-TW",
            "臺灣資料科技股份有限公司",
            australia,
            &["title-tax-invoice", "total-due"],
            &["稅務發票", "ABN"],
        ),
        case(
            "ko-KR",
            "주식회사 한빛데이터",
            korea,
            &[
                "title-invoice",
                "total-kr-supply-value",
                "total-kr-tax",
                "note-kr-customer-copy",
            ],
            &["공급가액", "세액", "대표자: 김민준", "사업자등록번호", "₩"],
        ),
        case(
            "hi-IN",
            "रिलायंस डेटा सर्विसेज़ प्राइवेट लिमिटेड",
            |l, c| india(l, c, true),
            &["title-tax-invoice", "total-due", "signatory-authorised"],
            &["GSTIN: 29AAGCM1234P1Z3", "SAC: 998315", "CGST", "SGST", "₹"],
        ),
        // Any BCP 47 tag: strings from the nearest locale, numbers from the exact one.
        case(
            "en-IN",
            "Tata Data Services Pvt Ltd",
            |l, c| india(l, c, false),
            &["title-tax-invoice", "total-due"],
            &[
                "Tax Invoice",
                "IGST",
                "Place of supply: Maharashtra (27)",
                "Tax payable on reverse charge: No",
                "Authorised signatory",
                "GSTIN",
                "SAC: 998315",
            ],
        ),
        case(
            "en-SG",
            "Lion City Data Pte. Ltd.",
            singapore,
            &["title-tax-invoice", "total-due"],
            &["Tax Invoice", "GST Reg. No.: 201912345R"],
        ),
        case(
            "en-AU",
            "Kangaroo Compute Pty Ltd",
            australia,
            &["title-tax-invoice", "total-due"],
            &["Tax Invoice", "ABN: 51 824 753 556"],
        ),
        case(
            "fr-CA",
            "Données Québec inc.",
            eu_reverse_charge,
            &["title-invoice", "total-due", "note-reverse-charge"],
            &["Autoliquidation"],
        ),
    ]
}

#[test]
fn every_locale_renders_its_labels_totals_and_customer() {
    let mut failures = Vec::new();
    for case in cases() {
        let pdf = render_pdf(&case.doc).unwrap_or_else(|e| panic!("{}: {e}", case.locale));
        let text = squash(&pdf_text(&pdf));
        let strings = Strings::for_locale(case.locale).unwrap();
        let formats = Formats::for_locale(case.locale).unwrap();
        let total = formats
            .money(case.doc.totals.total, &case.doc.currency)
            .unwrap();
        let mut expected: Vec<String> = COMMON
            .iter()
            .chain(case.labels)
            .map(|id| {
                strings
                    .get(id)
                    .unwrap_or_else(|e| panic!("{}: {e}", case.locale))
            })
            .collect();
        expected.extend(case.literals.iter().map(|s| s.to_string()));
        expected.extend([case.customer.to_string(), total, case.doc.number.clone()]);
        for want in expected {
            if !text.contains(&squash(&want)) {
                failures.push(format!(
                    "{}: `{want}` not in the extracted text",
                    case.locale
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn totals_are_formatted_per_exact_locale() {
    let total = |doc: &InvoiceDocument| {
        let f = Formats::for_locale(&doc.locale).unwrap();
        f.money(doc.totals.total, &doc.currency).unwrap()
    };
    let de = eu_consumer("de-DE", "X");
    let text = total(&de);
    assert!(
        text.ends_with("\u{a0}€") && text.contains('.') && text.contains(','),
        "{text}"
    );
    let ja = total(&japan("ja-JP", "X"));
    assert!(ja.starts_with('￥') && !ja.contains('.'), "{ja}");
    // en-IN takes its strings from en-GB but groups in lakhs and crores.
    let en_in = total(&india("en-IN", "X", false));
    assert!(en_in.starts_with('₹'), "{en_in}");
    let digits: String = en_in
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ',')
        .collect();
    assert!(
        digits.matches(',').count() >= 2 && digits.split(',').nth(1).unwrap().len() == 2,
        "{en_in}"
    );
}

#[test]
fn same_document_same_bytes() {
    let doc = japan("ja-JP", "株式会社山田製作所");
    let first = render_pdf(&doc).unwrap();
    // Rendering others in between must not change anything (caches, font ids, /ID).
    for case in cases().iter().take(4) {
        render_pdf(&case.doc).unwrap();
    }
    assert_eq!(first, render_pdf(&doc).unwrap());
    let eu = eu_reverse_charge("de-DE", "Müller & Söhne GmbH");
    assert_eq!(render_pdf(&eu).unwrap(), render_pdf(&eu).unwrap());
}

#[test]
fn cjk_invoice_is_small_and_fonts_are_embedded_subsets() {
    for doc in [
        japan("ja-JP", "株式会社山田製作所"),
        korea("ko-KR", "주식회사 한빛데이터"),
        india("hi-IN", "रिलायंस डेटा", true),
    ] {
        let pdf = render_pdf(&doc).unwrap();
        assert!(
            pdf.len() < 200 * 1024,
            "{}: {} bytes",
            doc.locale,
            pdf.len()
        );
        let path = temp_file("fonts.pdf", &pdf);
        let fonts = run("pdffonts", &[], &path);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(rows.len() >= 2, "{fonts}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(
                &cols[n - 5..n - 3],
                ["yes", "yes"],
                "not an embedded subset: {row}"
            );
        }
        std::fs::remove_file(path).ok();
    }
}

#[test]
fn eu_invoices_carry_factur_x_and_others_do_not() {
    let eu = render_pdf(&eu_reverse_charge("de-DE", "Müller & Söhne GmbH")).unwrap();
    let path = temp_file("eu.pdf", &eu);
    assert!(run("pdfdetach", &["-list"], &path).contains("factur-x.xml"));
    std::fs::remove_file(path).ok();
    let jp = render_pdf(&japan("ja-JP", "山田")).unwrap();
    let path = temp_file("jp.pdf", &jp);
    assert!(run("pdfdetach", &["-list"], &path).contains("0 embedded files"));
    std::fs::remove_file(path).ok();
}

#[test]
fn glyph_coverage_of_every_locale_file_and_sample_names() {
    let names = [
        "株式会社山田製作所",
        "髙橋 﨑",
        "北京数据科技有限公司",
        "臺灣資料科技股份有限公司",
        "香港數據有限公司",
        "주식회사 한빛데이터",
        "김민준",
        "रिलायंस डेटा सर्विसेज़ प्राइवेट लिमिटेड",
        "श्री क्षत्रिय त्रिपाठी",
        "Müller & Söhne",
        "Łódź Żółć",
        "Ærøskøbing",
        "São Paulo",
        "Ελληνικά",
        "Москва",
        "₩ ₹ € £ ¥ ￥ $",
    ];
    let mut missing = Vec::new();
    for (locale, invoice, email) in LOCALE_SOURCES {
        let cjk = FaceId::cjk_for(locale);
        let values = [invoice, email]
            .into_iter()
            .flat_map(str::lines)
            .filter(|l| !l.starts_with('#'));
        for c in values
            .flat_map(str::chars)
            .chain(names.iter().flat_map(|n| n.chars()))
        {
            if !c.is_whitespace() && FONTS.face_for(c, cjk, None).is_none() {
                missing.push(format!("{locale}: U+{:04X} {c}", c as u32));
            }
        }
    }
    missing.dedup();
    assert!(missing.is_empty(), "no font covers: {missing:?}");
}

#[test]
fn invalid_documents_are_refused() {
    let mut doc = uk("en-GB", "X");
    doc.totals.total += rust_decimal::Decimal::ONE;
    assert!(matches!(render_pdf(&doc), Err(DocumentsError::Invalid(_))));
    let mut doc = uk("en-GB", "X");
    doc.lines.retain(|l| l.kind != LineKind::PlatformFee);
    assert!(matches!(render_pdf(&doc), Err(DocumentsError::Invalid(_))));
}

#[test]
fn devanagari_words_extract_whole() {
    // krilla's per-cluster ActualText made pdftotext split words ("कु ल"); each
    // Devanagari run now carries its whole text.
    let pdf = render_pdf(&india("hi-IN", "रिलायंस डेटा सर्विसेज़", true)).unwrap();
    let text = pdf_text(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for words in [
        "कुल देय राशि",
        "रिवर्स चार्ज पर देय कर: नहीं",
        "अधिकृत हस्ताक्षरकर्ता",
        "रिलायंस डेटा सर्विसेज़",
    ] {
        assert!(text.contains(words), "`{words}` not extracted whole");
    }
}

#[test]
fn long_invoices_continue_on_more_pages() {
    let doc = long_invoice("en-GB", "Brightwater Analytics Ltd", 12);
    let pdf = render_pdf(&doc).unwrap();
    let text = pdf_text(&pdf);
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 3, "{pages} pages");
    let strings = Strings::for_locale("en-GB").unwrap();
    for page in 1..=pages {
        let footer = strings
            .format(
                "footer-page",
                &[("page", &page.to_string()), ("pages", &pages.to_string())],
            )
            .unwrap();
        assert!(text.contains(&footer), "`{footer}` missing");
    }
    // The table header is repeated on every page the lines run onto.
    assert!(text.matches(&strings.get("col-model").unwrap()).count() >= 2);
    let total = Formats::for_locale("en-GB")
        .unwrap()
        .money(doc.totals.total, "GBP")
        .unwrap();
    assert!(squash(&text).contains(&squash(&total)));
}

/// The lines of the page's text as `pdftotext` reads them, without spaces.
fn text_lines(pdf: &[u8]) -> Vec<String> {
    pdf_text(pdf).lines().map(squash).collect()
}

#[test]
fn header_dates_are_never_broken_across_lines() {
    for doc in [
        us("en-US", "Acme Robotics, Inc.", "EUR", "0.8620689655"),
        japan("ja-JP", "株式会社山田製作所"),
        eu_credit_note("es-ES", "Compañía Ibérica de Datos S.L."),
    ] {
        let f = Formats::for_locale(&doc.locale).unwrap();
        let lines = text_lines(&render_pdf(&doc).unwrap());
        let mut dates = vec![
            doc.issue_date,
            doc.period.start,
            doc.period.end,
            doc.fx.date,
        ];
        if let DocumentKind::CreditNote { invoice_date, .. } = &doc.kind {
            dates.push(*invoice_date);
        }
        for date in dates {
            let date = squash(&f.date(date).unwrap());
            assert!(
                lines.iter().any(|l| l.contains(&date)),
                "{}: `{date}` is not on one line: {lines:#?}",
                doc.locale
            );
        }
    }
}

#[test]
fn an_address_ending_with_its_country_names_it_once() {
    let mut doc = us("en-US", "Acme Robotics, Inc.", "USD", "1");
    doc.buyer.address_lines.push("Brazil".into());
    doc.seller.address_lines.push("US".into());
    let text = pdf_text(&render_pdf(&doc).unwrap());
    assert_eq!(text.matches("Brazil").count(), 1, "{text}");
    assert_eq!(text.matches("United States").count(), 0, "{text}");
    // Without it in the address, the country line is printed.
    let plain = pdf_text(&render_pdf(&us("en-US", "X", "USD", "1")).unwrap());
    assert_eq!(plain.matches("Brazil").count(), 1, "{plain}");
    assert_eq!(plain.matches("United States").count(), 1, "{plain}");
}

#[test]
fn a_layout_1_document_renders_the_bytes_it_was_issued_with() {
    // Rendered by Meridian before layout 2; an issued document keeps its layout.
    for (file, mut doc) in [
        (
            "layout-1-ja-JP-qualified-invoice.pdf",
            japan("ja-JP", "株式会社山田製作所"),
        ),
        (
            "layout-1-es-ES-credit-note.pdf",
            eu_credit_note("es-ES", "Compañía Ibérica de Datos S.L."),
        ),
    ] {
        let golden = std::fs::read(format!(
            "{}/tests/golden/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        doc.layout = LayoutVersion::V1;
        assert!(render_pdf(&doc).unwrap() == golden, "{file}: other bytes");
        doc.layout = LayoutVersion::CURRENT;
        assert!(
            render_pdf(&doc).unwrap() != golden,
            "{file}: layout 2 is the same"
        );
    }
}
