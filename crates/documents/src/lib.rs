//! Documents: turns an issued invoice or credit note, as billing snapshotted it, into
//! what people and machines read — a localized PDF (Fluent strings, CLDR formatting,
//! shaped text in embedded Noto fonts), EN 16931 XML for the EU entity, and an e-mail
//! sent from a transactional outbox.
//!
//! It owns presentation only. It reads billing's issued documents ([`issued`]; billing
//! never depends on this crate), never computes a price, a tax or a rounding of
//! billing's (the one rounding here is the e-invoice's per-line conversion, see
//! [`xml`]), and never stores a rendered file: an issued document re-renders to the
//! same bytes.

mod currency;
mod error;
mod fonts;
mod format;
mod issued;
mod l10n;
mod layout;
mod mail;
mod model;
mod outbox;
mod pdf;
mod text;
mod xml;

pub use currency::round;
pub use error::DocumentsError;
pub use fonts::{FONTS, FaceId};
pub use format::Formats;
pub use issued::{IssuedDocuments, document};
pub use l10n::{SOURCES as LOCALE_SOURCES, Strings, negotiate};
pub use mail::{Mailer, compose};
pub use model::*;
pub use outbox::{
    DocumentSource, Drained, Outbox, OutboxFilter, OutboxRow, OutboxStatus, RetryPolicy,
    list as outbox_list, retry_failed, status as outbox_status,
};

/// Renders `doc` as a PDF: deterministic bytes, fonts embedded and subsetted, text
/// extractable; EU invoices carry their Factur-X XML.
pub fn render_pdf(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentsError> {
    doc.validate()?;
    let strings = Strings::for_locale(&doc.locale)?;
    let formats = Formats::for_locale(&doc.locale)?;
    let pages = layout::lay_out(doc, &strings, &formats)?;
    let title_id = if doc.is_credit_note() {
        "title-credit-note"
    } else {
        "title-invoice"
    };
    let info = pdf::PdfInfo {
        title: format!("{} {}", strings.get(title_id)?, doc.number),
        language: &doc.locale,
        date: doc.issue_date,
        factur_x: render_xml(doc)?,
    };
    pdf::paint(&pages, info)
}

/// The EN 16931 (Factur-X) XML of `doc` when its seller is the EU entity (and the
/// supply is within the EU VAT system).
pub fn render_xml(doc: &InvoiceDocument) -> Result<Option<String>, DocumentsError> {
    if xml::wants_einvoice(doc) {
        doc.validate()?;
        xml::factur_x(doc).map(Some)
    } else {
        Ok(None)
    }
}
