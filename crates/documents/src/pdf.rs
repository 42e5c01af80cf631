//! Paints the layout's display list with krilla. Fonts are embedded and subsetted by
//! krilla; the output is deterministic (no clock, no random ids: the creation date is
//! the issue date and `/ID` is a hash of the content). Invoices that carry an EN 16931
//! e-invoice are written as PDF/A-3b with the CII XML attached as `factur-x.xml`
//! (associated file, relationship `Alternative`), as Factur-X / ZUGFeRD do.

use chrono::{Datelike, NaiveDate};
use krilla::Document;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;

use crate::DocumentsError;
use crate::fonts::FONTS;
use crate::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Rgb};

/// What the PDF says about itself.
pub struct PdfInfo<'a> {
    pub title: String,
    pub language: &'a str,
    pub date: NaiveDate,
    /// CII XML to attach as `factur-x.xml`.
    pub factur_x: Option<String>,
}

/// Writes the pages to PDF bytes.
pub fn paint(pages: &[Vec<Op>], info: PdfInfo<'_>) -> Result<Vec<u8>, DocumentsError> {
    let date = DateTime::new(info.date.year() as u16)
        .month(info.date.month() as u8)
        .day(info.date.day() as u8);
    let mut settings = krilla::SerializeSettings::default();
    if info.factur_x.is_some() {
        settings.configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A3_B)
            .finish()
            .map_err(|e| DocumentsError::Pdf(format!("{e:?}")))?;
    }
    let mut document = Document::new_with(settings);
    document.set_metadata(
        Metadata::new()
            .title(info.title)
            .language(info.language.to_string())
            .creator("Meridian".to_string())
            .producer("Meridian (krilla)".to_string())
            .creation_date(date),
    );
    if let Some(xml) = info.factur_x {
        document.embed_file(EmbeddedFile {
            path: "factur-x.xml".to_string(),
            mime_type: MimeType::new("text/xml"),
            description: Some("Factur-X / ZUGFeRD invoice data (EN 16931)".to_string()),
            association_kind: AssociationKind::Alternative,
            data: xml.into_bytes().into(),
            modification_date: Some(date),
            compress: Some(true),
            location: None,
        });
    }
    let size = Size::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4");
    for ops in pages {
        let mut page = document.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentsError::Pdf(format!("{e:?}")))
}

fn fill(color: Rgb) -> Option<Fill> {
    Some(Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    })
}

fn rect(surface: &mut Surface<'_>, x: f32, y: f32, width: f32, height: f32, color: Rgb) {
    let mut path = PathBuilder::new();
    path.push_rect(Rect::from_xywh(x, y, width, height).expect("positive size"));
    surface.set_fill(fill(color));
    surface.draw_path(&path.finish().expect("a rectangle"));
}

fn draw(surface: &mut Surface<'_>, op: &Op) {
    match op {
        Op::Text { x, y, line, color } => {
            surface.set_fill(fill(*color));
            let mut x = *x;
            for run in &line.runs {
                let font = FONTS.face(run.face).pdf.clone();
                surface.draw_glyphs(
                    Point::from_xy(x, *y),
                    &run.glyphs,
                    font,
                    &run.text,
                    line.size,
                    false,
                );
                x += run.advance * line.size;
            }
        }
        Op::Rule { x1, x2, y, color } => rect(surface, *x1, *y, x2 - x1, 0.6, *color),
        Op::Band {
            x,
            y,
            width,
            height,
            color,
        } => rect(surface, *x, *y, *width, *height, *color),
    }
}
