//! Invoice PDFs per second, fonts loaded once, and the process's peak memory.
//!
//!     cargo bench -p meridian-documents --bench render
//!
//! Renders a mix of the sample invoices (Latin, CJK, Devanagari, EU with Factur-X XML)
//! on one thread and on every core, after one warm-up pass that loads the fonts and
//! builds each locale's formatters.
#[path = "../tests/support/samples.rs"]
#[allow(dead_code)]
mod samples;

use std::time::Instant;

use meridian_documents::{InvoiceDocument, render_pdf};
use samples::*;

fn mix() -> Vec<InvoiceDocument> {
    vec![
        us("en-US", "Acme Robotics, Inc.", "USD", "1"),
        uk("en-GB", "Brightwater Analytics Ltd"),
        eu_reverse_charge("de-DE", "Müller & Söhne GmbH"),
        eu_consumer("fr-FR", "Société Générale de Données SAS"),
        eu_credit_note("es-ES", "Compañía Ibérica de Datos S.L."),
        japan("ja-JP", "株式会社山田製作所"),
        korea("ko-KR", "주식회사 한빛데이터"),
        india("hi-IN", "रिलायंस डेटा सर्विसेज़ प्राइवेट लिमिटेड", true),
        singapore("zh-CN", "北京数据科技有限公司"),
        australia("zh-TW", "臺灣資料科技股份有限公司"),
    ]
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn run(docs: &[InvoiceDocument], rounds: usize) -> usize {
    let mut bytes = 0;
    for _ in 0..rounds {
        for doc in docs {
            bytes += render_pdf(doc).expect("render").len();
        }
    }
    bytes
}

fn main() {
    let docs = mix();
    let warm = Instant::now();
    let bytes = run(&docs, 1);
    println!(
        "warm-up (fonts, formatters): {:.0} ms, {} PDFs, {} KiB",
        warm.elapsed().as_secs_f64() * 1e3,
        docs.len(),
        bytes / 1024
    );

    let rounds = 50;
    let start = Instant::now();
    run(&docs, rounds);
    let secs = start.elapsed().as_secs_f64();
    let n = rounds * docs.len();
    println!(
        "1 thread: {n} PDFs in {secs:.2} s = {:.0} PDFs/s",
        n as f64 / secs
    );

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| run(&docs, rounds));
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let n = threads * rounds * docs.len();
    println!(
        "{threads} threads: {n} PDFs in {secs:.2} s = {:.0} PDFs/s",
        n as f64 / secs
    );
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
