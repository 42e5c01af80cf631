//! The page layout of an invoice or credit note, as a display list: where each shaped
//! line of text, rule and band goes, page by page (A4, points, origin top left). Knows
//! the document's structure and each country's required words; knows nothing of PDF.
//!
//! A document is laid out in the [`LayoutVersion`] it was issued with, so that its
//! bytes never change; what a version changes is marked where it does.

use crate::DocumentsError;
use crate::fonts::FaceId;
use crate::format::Formats;
use crate::l10n::Strings;
use crate::model::{
    DocumentKind, InvoiceDocument, LayoutVersion, LineKind, TaxCategory, TaxId, TaxIdScheme,
};
use crate::text::{Shaped, wrap, wrap_keeping};

pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 42.0;
const RIGHT: f32 = PAGE_WIDTH - 42.0;
const TOP: f32 = 48.0;
const BOTTOM: f32 = PAGE_HEIGHT - 56.0;
const MID: f32 = 318.0;

const BODY: f32 = 8.5;
const SMALL: f32 = 7.5;
const LEADING: f32 = 1.45;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

const INK: Rgb = Rgb(0x1f, 0x24, 0x30);
const MUTED: Rgb = Rgb(0x6b, 0x72, 0x80);
const ACCENT: Rgb = Rgb(0x1d, 0x4e, 0xd8);
const LINE: Rgb = Rgb(0xd1, 0xd5, 0xdb);
const BAND: Rgb = Rgb(0xf3, 0xf4, 0xf6);

/// One drawing instruction.
#[derive(Debug, Clone)]
pub enum Op {
    /// A line of text with its baseline starting at (x, y).
    Text {
        x: f32,
        y: f32,
        line: Shaped,
        color: Rgb,
    },
    /// A horizontal rule.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        color: Rgb,
    },
    /// A filled rectangle.
    Band {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: Rgb,
    },
}

/// Horizontal alignment of a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A table column: left edge, width, alignment.
struct Column(f32, f32, Align);

const LINE_COLUMNS: [Column; 6] = [
    Column(LEFT, 124.0, Align::Left),
    Column(170.0, 92.0, Align::Left),
    Column(266.0, 64.0, Align::Left),
    Column(330.0, 62.0, Align::Right),
    Column(396.0, 80.0, Align::Right),
    Column(480.0, RIGHT - 480.0, Align::Right),
];

const TAX_COLUMNS: [Column; 4] = [
    Column(LEFT, 200.0, Align::Left),
    Column(250.0, 80.0, Align::Right),
    Column(334.0, 100.0, Align::Right),
    Column(438.0, RIGHT - 438.0, Align::Right),
];

/// Lays `doc` out with its strings and formats; returns the pages' display lists.
pub fn lay_out(
    doc: &InvoiceDocument,
    s: &Strings,
    f: &Formats,
) -> Result<Vec<Vec<Op>>, DocumentsError> {
    let mut page = Layout {
        doc,
        s,
        f,
        cjk: FaceId::cjk_for(&doc.locale),
        pages: vec![Vec::new()],
        y: TOP,
    };
    page.header()?;
    page.parties()?;
    page.lines()?;
    page.taxes()?;
    page.totals()?;
    page.payment_and_signatory()?;
    page.notes()?;
    page.footers()?;
    Ok(page.pages)
}

struct Layout<'a> {
    doc: &'a InvoiceDocument,
    s: &'a Strings,
    f: &'a Formats,
    cjk: FaceId,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout<'_> {
    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    fn shaped(&self, text: &str, size: f32) -> Shaped {
        Shaped::new(text, size, self.cjk)
    }

    /// Text with its baseline at `y`, left-aligned at `x` or right-aligned to it.
    fn text_at(&mut self, x: f32, y: f32, text: &str, size: f32, color: Rgb, align: Align) {
        let line = self.shaped(text, size);
        let x = match align {
            Align::Left => x,
            Align::Right => x - line.width(),
        };
        self.push(Op::Text { x, y, line, color });
    }

    /// Wrapped text in a column from the current line down; returns its height.
    fn paragraph(&mut self, x: f32, y: f32, width: f32, text: &str, size: f32, color: Rgb) -> f32 {
        self.lines_at(x, y, wrap(text, size, width, self.cjk), size, color)
    }

    /// Shaped lines one under the other from `y` down; returns their height.
    fn lines_at(&mut self, x: f32, y: f32, lines: Vec<Shaped>, size: f32, color: Rgb) -> f32 {
        let step = size * LEADING;
        for (i, line) in lines.iter().enumerate() {
            let y = y + size + i as f32 * step;
            self.push(Op::Text {
                x,
                y,
                line: line.clone(),
                color,
            });
        }
        lines.len() as f32 * step
    }

    /// Starts a new page when `height` does not fit on this one; returns whether it did.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height <= BOTTOM {
            return false;
        }
        self.pages.push(Vec::new());
        self.y = TOP;
        true
    }

    fn msg(&self, id: &str) -> Result<String, DocumentsError> {
        self.s.get(id)
    }

    fn tax_id_line(&self, id: &TaxId) -> Result<String, DocumentsError> {
        let label = self.msg(match id.scheme {
            TaxIdScheme::Vat => "label-tax-id-vat",
            TaxIdScheme::JpRegistration => "label-tax-id-jp",
            TaxIdScheme::SgGst => "label-tax-id-sg",
            TaxIdScheme::KrBusiness => "label-tax-id-kr",
            TaxIdScheme::Gstin => "label-tax-id-gstin",
            TaxIdScheme::Abn => "label-tax-id-abn",
            TaxIdScheme::Other => "label-tax-id-other",
        })?;
        Ok(format!("{label}: {}", id.value))
    }

    fn state_line(&self, state: &crate::model::State) -> Result<String, DocumentsError> {
        let value = self.s.format(
            "label-state-value",
            &[("name", &state.name), ("code", &state.code)],
        )?;
        Ok(format!("{}: {value}", self.msg("label-state")?))
    }

    /// A column of lines from `y` down; returns the y below it.
    fn column(&mut self, x: f32, width: f32, mut y: f32, lines: &[String]) -> f32 {
        for line in lines {
            y += self.paragraph(x, y, width, line, BODY, INK);
        }
        y
    }

    /// `address` and then the country's name, which layout 2 leaves out when the
    /// address's last line already ends with it (or is its code).
    fn address_and_country(&self, address: &[String], code: &str) -> Vec<String> {
        let name = self.f.country(code);
        let mut lines = address.to_vec();
        let named = lines
            .last()
            .is_some_and(|last| ends_with_country(last, &name, code));
        if self.doc.layout < LayoutVersion::V2 || !named {
            lines.push(name);
        }
        lines
    }

    fn title(&self) -> Result<String, DocumentsError> {
        let legal = &self.doc.legal;
        self.msg(if self.doc.is_credit_note() {
            "title-credit-note"
        } else if legal.japan_qualified_invoice {
            "title-qualified-invoice"
        } else if legal.tax_invoice {
            "title-tax-invoice"
        } else {
            "title-invoice"
        })
    }

    fn header(&mut self) -> Result<(), DocumentsError> {
        let doc = self.doc;
        let seller = &doc.seller;
        self.text_at(
            LEFT,
            self.y + 13.0,
            &seller.legal_name,
            13.0,
            INK,
            Align::Left,
        );
        let mut left = self.address_and_country(&seller.address_lines, &seller.country);
        if let Some(id) = &seller.tax_id {
            left.push(self.tax_id_line(id)?);
        }
        if let Some(state) = &seller.state {
            left.push(self.state_line(state)?);
        }
        if let Some(p) = &seller.phone {
            left.push(format!("{}: {p}", self.msg("label-phone")?));
        }
        if let Some(r) = &seller.representative {
            left.push(format!("{}: {r}", self.msg("label-representative")?));
        }
        if let Some(e) = &seller.email {
            left.push(format!("{}: {e}", self.msg("label-email")?));
        }
        let left_end = self.column(LEFT, MID - LEFT - 12.0, self.y + 20.0, &left);

        let title = self.title()?;
        self.text_at(RIGHT, self.y + 18.0, &title, 18.0, ACCENT, Align::Right);
        // Every date printed in the column: layout 2 never breaks a line inside one.
        let (start, end) = (self.f.date(doc.period.start)?, self.f.date(doc.period.end)?);
        let mut dates = vec![self.f.date(doc.issue_date)?, start.clone(), end.clone()];
        let mut meta = vec![
            (self.msg("meta-number")?, doc.number.clone()),
            (self.msg("meta-issue-date")?, dates[0].clone()),
            (
                self.msg("meta-period")?,
                self.s
                    .format("meta-period-range", &[("start", &start), ("end", &end)])?,
            ),
        ];
        if let DocumentKind::CreditNote {
            invoice_number,
            invoice_date,
            reason,
        } = &doc.kind
        {
            let date = self.f.date(*invoice_date)?;
            let value = self.s.format(
                "meta-credited-invoice-value",
                &[("number", invoice_number), ("date", &date)],
            )?;
            dates.push(date);
            meta.push((self.msg("meta-credited-invoice")?, value));
            meta.push((self.msg("meta-credit-reason")?, reason.clone()));
        }
        if doc.currency != "USD" {
            let date = self.f.date(doc.fx.date)?;
            let value = self.s.format(
                "meta-exchange-rate-value",
                &[
                    ("rate", &self.f.number(doc.fx.rate)),
                    ("currency", &doc.currency),
                    ("date", &date),
                ],
            )?;
            meta.push((self.msg("meta-exchange-rate")?, value));
            dates.push(date);
        }
        let x = self.meta_values_x(meta.iter().map(|(label, _)| label.as_str()));
        let keep: Vec<&str> = match doc.layout {
            LayoutVersion::V1 => Vec::new(),
            LayoutVersion::V2 => dates.iter().map(String::as_str).collect(),
        };
        let mut y = self.y + 30.0;
        for (label, value) in &meta {
            self.text_at(MID + 12.0, y + BODY, label, BODY, MUTED, Align::Left);
            let lines = wrap_keeping(value, BODY, RIGHT - x, self.cjk, &keep);
            let h = self.lines_at(x, y, lines, BODY, INK);
            y += h.max(BODY * LEADING);
        }
        self.y = left_end.max(y) + 16.0;
        Ok(())
    }

    /// Where the header's values start: 98 pt right of their labels in layout 1; in
    /// layout 2 right after the widest label, which leaves the values the room they need.
    fn meta_values_x<'l>(&self, labels: impl Iterator<Item = &'l str>) -> f32 {
        const FIXED: f32 = MID + 110.0;
        match self.doc.layout {
            LayoutVersion::V1 => FIXED,
            LayoutVersion::V2 => {
                let widest = labels
                    .map(|l| self.shaped(l, BODY).width())
                    .fold(0.0, f32::max);
                (MID + 12.0 + widest + 10.0).min(FIXED)
            }
        }
    }

    fn parties(&mut self) -> Result<(), DocumentsError> {
        let buyer = &self.doc.buyer;
        self.text_at(
            LEFT,
            self.y + SMALL,
            &self.msg("party-buyer")?,
            SMALL,
            MUTED,
            Align::Left,
        );
        self.text_at(LEFT, self.y + 22.0, &buyer.name, 11.0, INK, Align::Left);
        let mut lines = self.address_and_country(&buyer.address_lines, &buyer.country);
        if let Some(id) = &buyer.tax_id {
            lines.push(self.tax_id_line(id)?);
        }
        if let Some(state) = &buyer.state {
            lines.push(self.state_line(state)?);
        }
        lines.push(format!("{}: {}", self.msg("label-email")?, buyer.email));
        self.y = self.column(LEFT, MID - LEFT, self.y + 27.0, &lines) + 16.0;
        Ok(())
    }

    /// A table row of wrapped cells at the current line: its ops and height.
    fn row(&self, columns: &[Column], cells: &[String], size: f32, color: Rgb) -> (Vec<Op>, f32) {
        let step = size * LEADING;
        let mut ops = Vec::new();
        let mut height: f32 = step;
        for (Column(x, width, align), cell) in columns.iter().zip(cells) {
            let lines = wrap(cell, size, *width, self.cjk);
            height = height.max(lines.len() as f32 * step);
            for (i, line) in lines.into_iter().enumerate() {
                let x = match align {
                    Align::Left => *x,
                    Align::Right => x + width - line.width(),
                };
                let y = self.y + 3.0 + size + i as f32 * step;
                ops.push(Op::Text { x, y, line, color });
            }
        }
        (ops, height + 5.0)
    }

    /// Draws a row and a rule under it.
    fn table_row(&mut self, columns: &[Column], cells: &[String]) {
        let (ops, height) = self.row(columns, cells, SMALL, INK);
        self.pages.last_mut().expect("a page").extend(ops);
        self.y += height;
        self.push(Op::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: self.y,
            color: LINE,
        });
    }

    fn table_header(&mut self, columns: &[Column], ids: &[&str]) -> Result<(), DocumentsError> {
        let labels = ids
            .iter()
            .map(|id| self.msg(id))
            .collect::<Result<Vec<_>, _>>()?;
        let (ops, height) = self.row(columns, &labels, SMALL, MUTED);
        self.push(Op::Band {
            x: LEFT,
            y: self.y,
            width: RIGHT - LEFT,
            height,
            color: BAND,
        });
        self.pages.last_mut().expect("a page").extend(ops);
        self.y += height;
        Ok(())
    }

    fn lines(&mut self) -> Result<(), DocumentsError> {
        const HEADER: [&str; 6] = [
            "col-model",
            "col-provider-region",
            "col-token-kind",
            "col-quantity",
            "col-unit-price",
            "col-amount",
        ];
        self.table_header(&LINE_COLUMNS, &HEADER)?;
        for line in &self.doc.lines {
            let cells = if line.kind == LineKind::PlatformFee {
                vec![
                    self.msg("line-platform-fee")?,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    self.f.money_exact(line.amount, "USD")?,
                ]
            } else {
                let kind = self.msg(match line.kind {
                    LineKind::Input => "token-input",
                    LineKind::CachedInput => "token-cached-input",
                    LineKind::CacheWrite => "token-cache-write",
                    LineKind::CacheWrite1h => "token-cache-write-1h",
                    LineKind::Output => "token-output",
                    LineKind::Reasoning => "token-reasoning",
                    LineKind::PlatformFee => "line-platform-fee",
                })?;
                vec![
                    line.model.clone(),
                    format!("{} / {}", line.provider, line.region),
                    kind,
                    self.f.number(line.quantity.into()),
                    self.f.money_exact(line.unit_price_per_million, "USD")?,
                    self.f.money_exact(line.amount, "USD")?,
                ]
            };
            if self.ensure(2.0 * SMALL * LEADING + 5.0) {
                self.table_header(&LINE_COLUMNS, &HEADER)?;
            }
            self.table_row(&LINE_COLUMNS, &cells);
        }
        self.ensure(BODY * LEADING + 8.0);
        let label = self.msg("lines-subtotal-usd")?;
        let value = self.f.money_exact(self.doc.totals.subtotal_usd, "USD")?;
        let label_end =
            (RIGHT - self.shaped(&value, BODY).width() - 12.0).min(RIGHT - LINE_COLUMNS[5].1);
        self.text_at(
            label_end,
            self.y + 4.0 + BODY,
            &label,
            BODY,
            MUTED,
            Align::Right,
        );
        self.text_at(RIGHT, self.y + 4.0 + BODY, &value, BODY, INK, Align::Right);
        self.y += BODY * LEADING + 18.0;
        Ok(())
    }

    fn taxes(&mut self) -> Result<(), DocumentsError> {
        let doc = self.doc;
        self.ensure((doc.taxes.len() as f32 + 3.0) * (SMALL * LEADING + 5.0));
        self.text_at(
            LEFT,
            self.y + BODY,
            &self.msg("tax-heading")?,
            BODY,
            INK,
            Align::Left,
        );
        self.y += BODY * LEADING + 4.0;
        self.table_header(
            &TAX_COLUMNS,
            &[
                "tax-col-tax",
                "tax-col-rate",
                "tax-col-net",
                "tax-col-amount",
            ],
        )?;
        for row in &doc.taxes {
            let name = self.msg(match row.category {
                TaxCategory::Vat => "tax-vat",
                TaxCategory::VatReverseCharge => "tax-vat-reverse-charge",
                TaxCategory::Gst => "tax-gst",
                TaxCategory::Igst => "tax-igst",
                TaxCategory::Cgst => "tax-cgst",
                TaxCategory::Sgst => "tax-sgst",
                TaxCategory::Jct => "tax-jct",
                TaxCategory::NotTaxed => "tax-not-taxed",
            })?;
            let cells = vec![
                name,
                self.f.percent(row.rate),
                self.f.money(row.net, &doc.currency)?,
                self.f.money(row.tax, &doc.currency)?,
            ];
            self.table_row(&TAX_COLUMNS, &cells);
        }
        self.y += 12.0;
        Ok(())
    }

    fn totals(&mut self) -> Result<(), DocumentsError> {
        let doc = self.doc;
        let korean = doc.legal.korea_terms;
        let rows = [
            (
                self.msg(if korean {
                    "total-kr-supply-value"
                } else {
                    "total-net"
                })?,
                doc.totals.subtotal,
            ),
            (
                self.msg(if korean { "total-kr-tax" } else { "total-tax" })?,
                doc.totals.tax,
            ),
        ];
        self.ensure(4.0 * BODY * LEADING + 20.0);
        for (label, amount) in rows {
            let value = self.f.money(amount, &doc.currency)?;
            self.text_at(MID + 12.0, self.y + BODY, &label, BODY, MUTED, Align::Left);
            self.text_at(RIGHT, self.y + BODY, &value, BODY, INK, Align::Right);
            self.y += BODY * LEADING + 2.0;
        }
        self.push(Op::Rule {
            x1: MID + 12.0,
            x2: RIGHT,
            y: self.y + 2.0,
            color: INK,
        });
        self.y += 6.0;
        let label = self.msg(if doc.is_credit_note() {
            "total-credited"
        } else {
            "total-due"
        })?;
        let value = self.f.money(doc.totals.total, &doc.currency)?;
        self.text_at(MID + 12.0, self.y + 12.0, &label, 11.0, ACCENT, Align::Left);
        self.text_at(RIGHT, self.y + 12.0, &value, 12.0, ACCENT, Align::Right);
        self.y += 30.0;
        Ok(())
    }

    /// Payment details on the left (invoices only), India's signatory block on the
    /// right, side by side.
    fn payment_and_signatory(&mut self) -> Result<(), DocumentsError> {
        let doc = self.doc;
        let p = &doc.payment;
        let mut rows = Vec::new();
        if !doc.is_credit_note() {
            rows.push((self.msg("payment-due-date")?, self.f.date(p.due_date)?));
            rows.push((
                self.msg("payment-account-holder")?,
                p.account_holder.clone(),
            ));
            rows.push((self.msg("payment-bank")?, p.bank.clone()));
            rows.push((self.msg("payment-account")?, p.account.clone()));
            if let Some(bic) = &p.bic {
                rows.push((self.msg("payment-bic")?, bic.clone()));
            }
            rows.push((self.msg("payment-reference")?, p.reference.clone()));
        }
        let signatory = doc.legal.india.is_some();
        let payment_height = if rows.is_empty() {
            0.0
        } else {
            (rows.len() as f32 + 1.0) * BODY * LEADING + 3.0
        };
        let height = payment_height.max(if signatory { 72.0 } else { 0.0 });
        if height == 0.0 {
            return Ok(());
        }
        self.ensure(height);
        let top = self.y;
        if !rows.is_empty() {
            self.text_at(
                LEFT,
                top + BODY,
                &self.msg("payment-heading")?,
                BODY,
                INK,
                Align::Left,
            );
            let mut y = top + BODY * LEADING + 3.0;
            for (label, value) in rows {
                self.text_at(LEFT, y + BODY, &label, BODY, MUTED, Align::Left);
                self.text_at(LEFT + 120.0, y + BODY, &value, BODY, INK, Align::Left);
                y += BODY * LEADING;
            }
        }
        if signatory {
            let entity = self
                .s
                .format("signatory-for", &[("entity", &doc.seller.legal_name)])?;
            self.text_at(RIGHT, top + BODY, &entity, BODY, INK, Align::Right);
            self.push(Op::Rule {
                x1: RIGHT - 160.0,
                x2: RIGHT,
                y: top + 52.0,
                color: INK,
            });
            self.text_at(
                RIGHT,
                top + 62.0,
                &self.msg("signatory-authorised")?,
                SMALL,
                MUTED,
                Align::Right,
            );
        }
        self.y = top + height + 12.0;
        Ok(())
    }

    fn notes(&mut self) -> Result<(), DocumentsError> {
        let legal = &self.doc.legal;
        let mut notes = Vec::new();
        if legal.reverse_charge {
            notes.push(self.msg("note-reverse-charge")?);
        }
        if legal.japan_qualified_invoice {
            notes.push(self.msg("note-jp-qualified")?);
        }
        if let Some(india) = &legal.india {
            notes.push(self.s.format("note-in-sac", &[("code", &india.sac)])?);
            let pos = &india.place_of_supply;
            notes.push(self.s.format(
                "note-in-place-of-supply",
                &[("state", &pos.name), ("code", &pos.code)],
            )?);
            let answer = self.msg(if india.reverse_charge {
                "note-yes"
            } else {
                "note-no"
            })?;
            notes.push(
                self.s
                    .format("note-in-reverse-charge", &[("answer", &answer)])?,
            );
        }
        if legal.korea_terms {
            notes.push(self.msg("note-kr-customer-copy")?);
        }
        notes.push(self.msg("note-zero-markup")?);
        self.ensure(3.0 * SMALL * LEADING);
        self.text_at(
            LEFT,
            self.y + BODY,
            &self.msg("notes-heading")?,
            BODY,
            INK,
            Align::Left,
        );
        self.y += BODY * LEADING + 3.0;
        for note in notes {
            let lines = wrap(&note, SMALL, RIGHT - LEFT, self.cjk).len();
            self.ensure(lines as f32 * SMALL * LEADING);
            self.y += self.paragraph(LEFT, self.y, RIGHT - LEFT, &note, SMALL, INK) + 3.0;
        }
        Ok(())
    }

    fn footers(&mut self) -> Result<(), DocumentsError> {
        let pages = self.pages.len();
        for page in 0..pages {
            let text = self.s.format(
                "footer-page",
                &[
                    ("page", &(page + 1).to_string()),
                    ("pages", &pages.to_string()),
                ],
            )?;
            let y = PAGE_HEIGHT - 28.0;
            let number = self.shaped(&self.doc.number, SMALL);
            let label = self.shaped(&text, SMALL);
            let x = RIGHT - label.width();
            let ops = &mut self.pages[page];
            ops.push(Op::Rule {
                x1: LEFT,
                x2: RIGHT,
                y: y - 12.0,
                color: LINE,
            });
            ops.push(Op::Text {
                x: LEFT,
                y,
                line: number,
                color: MUTED,
            });
            ops.push(Op::Text {
                x,
                y,
                line: label,
                color: MUTED,
            });
        }
        Ok(())
    }
}

/// Whether an address line ends with the country's name (`10117 Berlin, Germany`) or
/// is its code (`DE`), case aside.
fn ends_with_country(line: &str, name: &str, code: &str) -> bool {
    let line = line.trim().to_lowercase();
    if line == code.to_lowercase() {
        return true;
    }
    line.strip_suffix(&name.to_lowercase())
        .is_some_and(|before| before.chars().last().is_none_or(|c| !c.is_alphanumeric()))
}
