//! Shaping with rustybuzz: text → runs of positioned glyphs, one face per run, with the
//! width known before anything is drawn (for right-aligned amounts and wrapping).
//!
//! Devanagari runs map every glyph to the whole run's text: with krilla's default
//! per-cluster ActualText, `pdftotext` splits conjuncts apart ("कु ल"); with the run's
//! text on each glyph, extraction reads the words back intact and the page looks the same.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use krilla::text::{GlyphId, KrillaGlyph};
use rustybuzz::{Direction, Script, ShapePlan, UnicodeBuffer};

use crate::fonts::{FONTS, FaceId};

/// One run of one face, its glyph advances normalized to 1 em.
#[derive(Debug, Clone)]
pub struct Run {
    pub face: FaceId,
    pub text: String,
    pub glyphs: Vec<KrillaGlyph>,
    /// Width at a size of 1 pt.
    pub advance: f32,
}

/// A line of text, shaped at `size`.
#[derive(Debug, Clone)]
pub struct Shaped {
    pub runs: Vec<Run>,
    pub size: f32,
}

impl Shaped {
    /// Shapes `text` at `size` pt, Han characters drawn with `cjk`'s forms.
    pub fn new(text: &str, size: f32, cjk: FaceId) -> Shaped {
        let runs = FONTS
            .itemize(text, cjk)
            .into_iter()
            .map(|(range, face)| shape_run(&text[range], face))
            .collect();
        Shaped { runs, size }
    }

    /// The width in points.
    pub fn width(&self) -> f32 {
        self.runs.iter().map(|r| r.advance).sum::<f32>() * self.size
    }
}

/// Shaping plans (the face's features compiled for a script) are costly to build and
/// the same for every run of that face and script: built once, shared.
type PlanKey = (FaceId, Script, Direction);
static PLANS: LazyLock<RwLock<HashMap<PlanKey, Arc<ShapePlan>>>> = LazyLock::new(Default::default);

fn plan(face: FaceId, buffer: &UnicodeBuffer) -> Arc<ShapePlan> {
    let key = (face, buffer.script(), buffer.direction());
    if let Some(plan) = PLANS.read().expect("plans").get(&key) {
        return plan.clone();
    }
    let plan = ShapePlan::new(&FONTS.face(face).shaper, key.2, Some(key.1), None, &[]);
    PLANS
        .write()
        .expect("plans")
        .entry(key)
        .or_insert(Arc::new(plan))
        .clone()
}

fn shape_run(text: &str, face: FaceId) -> Run {
    let loaded = FONTS.face(face);
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let output = rustybuzz::shape_with_plan(&loaded.shaper, &plan(face, &buffer), buffer);
    let infos = output.glyph_infos();
    let em = loaded.units_per_em;
    let whole_run = face == FaceId::Devanagari;
    let glyphs: Vec<KrillaGlyph> = output
        .glyph_positions()
        .iter()
        .zip(infos)
        .enumerate()
        .map(|(i, (pos, info))| {
            let start = info.cluster as usize;
            let end = infos[i..]
                .iter()
                .map(|next| next.cluster as usize)
                .find(|c| *c != start)
                .unwrap_or(text.len());
            let range = if whole_run { 0..text.len() } else { start..end };
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                pos.x_advance as f32 / em,
                pos.x_offset as f32 / em,
                pos.y_offset as f32 / em,
                pos.y_advance as f32 / em,
                range,
                None,
            )
        })
        .collect();
    Run {
        face,
        advance: glyphs.iter().map(|g| g.x_advance).sum(),
        text: text.to_string(),
        glyphs,
    }
}

/// Breaks `text` into lines no wider than `max_width` at `size`: after spaces, and
/// between CJK characters (which need no space to break). A word wider than the line
/// gets a line of its own. Each piece is measured once; each line is shaped once more.
pub fn wrap(text: &str, size: f32, max_width: f32, cjk: FaceId) -> Vec<Shaped> {
    wrap_keeping(text, size, max_width, cjk, &[])
}

/// [`wrap`], never breaking inside an occurrence of one of `keep` (a date, say): such
/// a span moves to the next line whole.
pub fn wrap_keeping(
    text: &str,
    size: f32,
    max_width: f32,
    cjk: FaceId,
    keep: &[&str],
) -> Vec<Shaped> {
    let whole = Shaped::new(text, size, cjk);
    if whole.width() <= max_width {
        return vec![whole];
    }
    let mut lines = Vec::new();
    let (mut start, mut end, mut width) = (0, 0, 0.0);
    for piece in joined_inside(text, break_pieces(text), keep) {
        let at = piece.as_ptr() as usize - text.as_ptr() as usize;
        let trimmed = Shaped::new(piece.trim_end(), size, cjk).width();
        if end > start && width + trimmed > max_width {
            lines.push(Shaped::new(text[start..end].trim(), size, cjk));
            (start, width) = (at, 0.0);
        }
        width += if piece.ends_with(' ') {
            Shaped::new(piece, size, cjk).width()
        } else {
            trimmed
        };
        end = at + piece.len();
    }
    if end > start {
        lines.push(Shaped::new(text[start..end].trim(), size, cjk));
    }
    lines
}

/// `pieces` of `text` with those that start inside an occurrence of one of `keep`
/// joined to the piece before.
fn joined_inside<'t>(text: &'t str, pieces: Vec<&'t str>, keep: &[&str]) -> Vec<&'t str> {
    let spans: Vec<(usize, usize)> = keep
        .iter()
        .filter(|k| !k.is_empty())
        .flat_map(|k| text.match_indices(k).map(|(at, k)| (at, at + k.len())))
        .collect();
    let offset = |piece: &str| piece.as_ptr() as usize - text.as_ptr() as usize;
    let mut joined: Vec<&str> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let at = offset(piece);
        let inside = spans.iter().any(|&(s, e)| s < at && at < e);
        match joined.last_mut() {
            Some(last) if inside => *last = &text[offset(last)..at + piece.len()],
            _ => joined.push(piece),
        }
    }
    joined
}

/// Pieces that may start a new line: words with their trailing space, and single CJK
/// characters (with any closing punctuation that must stay on their line).
fn break_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        let end = i + c.len_utf8();
        let breaks_after = c == ' '
            || (is_wide(c) && next.is_some_and(|n| !is_closing(n)))
            || next.is_some_and(|n| is_wide(n) && !is_closing(n) && c != ' ' && !is_opening(c));
        if breaks_after {
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

fn is_closing(c: char) -> bool {
    "、。，．：；！？）」』】〕》〉・ー）".contains(c)
}

fn is_opening(c: char) -> bool {
    "（「『【〔《〈".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_cjk() {
        let lines = wrap("one two three four five six", 10.0, 60.0, FaceId::Japanese);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.width() <= 60.0));
        let cjk = wrap(
            "本書は適格請求書です。消費税額は税率ごとに一回端数処理しています。",
            10.0,
            100.0,
            FaceId::Japanese,
        );
        assert!(cjk.len() > 2);
        let texts: Vec<String> = cjk
            .iter()
            .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert!(texts.iter().all(|t| !t.starts_with('。')), "{texts:?}");
    }

    #[test]
    fn kept_spans_are_never_broken() {
        let texts = |lines: Vec<Shaped>| -> Vec<String> {
            lines
                .iter()
                .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
                .collect()
        };
        let range = "October 1, 2026 – October 31, 2026";
        let keep = ["October 1, 2026", "October 31, 2026"];
        // Plain wrapping breaks a date at this width; kept, each date stays whole.
        let plain = texts(wrap(range, 8.5, 125.0, FaceId::Japanese));
        assert!(plain.iter().any(|l| l.ends_with("31,")), "{plain:?}");
        let kept = texts(wrap_keeping(range, 8.5, 125.0, FaceId::Japanese, &keep));
        assert_eq!(kept, ["October 1, 2026 –", "October 31, 2026"]);
        let ja = "2026年10月1日 ～ 2026年10月31日";
        let kept = texts(wrap_keeping(
            ja,
            8.5,
            70.0,
            FaceId::Japanese,
            &["2026年10月1日", "2026年10月31日"],
        ));
        assert!(
            kept.iter().any(|l| l.contains("2026年10月1日"))
                && kept.iter().any(|l| l.contains("2026年10月31日")),
            "{kept:?}"
        );
    }

    #[test]
    fn devanagari_glyphs_carry_the_whole_run() {
        let shaped = Shaped::new("कुल देय राशि", 10.0, FaceId::SimplifiedChinese);
        assert_eq!(shaped.runs.len(), 1);
        let run = &shaped.runs[0];
        assert!(
            run.glyphs
                .iter()
                .all(|g| g.text_range == (0..run.text.len()))
        );
    }
}
