//! Renders the sample invoices to `docs/samples/` as PDF and as PNG (with `pdftoppm`
//! from poppler-utils), for people to look at:
//!
//!     cargo run -p meridian-documents --example samples
#[path = "../tests/support/samples.rs"]
#[allow(dead_code)] // a selection of the samples is shown
mod samples;

use std::path::Path;
use std::process::Command;

use samples::*;

fn main() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples");
    std::fs::create_dir_all(&out).expect("docs/samples");
    let docs = [
        (
            "de-DE-reverse-charge",
            eu_reverse_charge("de-DE", "Müller & Söhne GmbH"),
        ),
        (
            "es-ES-credit-note",
            eu_credit_note("es-ES", "Compañía Ibérica de Datos S.L."),
        ),
        (
            "ja-JP-qualified-invoice",
            japan("ja-JP", "株式会社山田製作所"),
        ),
        ("ko-KR-invoice", korea("ko-KR", "주식회사 한빛데이터")),
        (
            "hi-IN-intra-state",
            india("hi-IN", "रिलायंस डेटा सर्विसेज़ प्राइवेट लिमिटेड", true),
        ),
        (
            "en-IN-inter-state",
            india("en-IN", "Tata Data Services Pvt Ltd", false),
        ),
        (
            "zh-TW-tax-invoice",
            australia("zh-TW", "臺灣資料科技股份有限公司"),
        ),
        (
            "en-SG-tax-invoice",
            singapore("en-SG", "Lion City Data Pte. Ltd."),
        ),
    ];
    for (name, doc) in docs {
        let pdf = meridian_documents::render_pdf(&doc).expect("render");
        let path = out.join(format!("{name}.pdf"));
        std::fs::write(&path, &pdf).expect("write");
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-singlefile"])
            .arg(&path)
            .arg(out.join(name))
            .status()
            .expect("pdftoppm (apt-get install poppler-utils)");
        assert!(status.success());
        println!("{name}: {} bytes", pdf.len());
    }
}
