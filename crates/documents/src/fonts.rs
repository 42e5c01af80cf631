//! The fonts, compiled into the binary from `fonts/` (SIL OFL) so that a PDF comes out
//! byte-identical on every machine, and loaded once per process. No library falls back
//! between fonts on its own: [`FontSet::itemize`] picks a face for every run of text by
//! script (Noto Sans for Latin and €, ₹, ₩; Noto Sans Devanagari; the Noto Sans CJK face
//! of the document's language first, then the other CJK faces).

use std::ops::Range;
use std::sync::LazyLock;

use icu::properties::CodePointMapData;
use icu::properties::props::Script;

/// One face of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaceId {
    Latin,
    Devanagari,
    Japanese,
    Korean,
    SimplifiedChinese,
    TraditionalChinese,
}

const CJK: [FaceId; 4] = [
    FaceId::Japanese,
    FaceId::Korean,
    FaceId::SimplifiedChinese,
    FaceId::TraditionalChinese,
];

const ALL: [FaceId; 6] = [
    FaceId::Latin,
    FaceId::Devanagari,
    FaceId::Japanese,
    FaceId::Korean,
    FaceId::SimplifiedChinese,
    FaceId::TraditionalChinese,
];

impl FaceId {
    fn data(self) -> &'static [u8] {
        match self {
            Self::Latin => include_bytes!("../../../fonts/NotoSans-Regular.ttf"),
            Self::Devanagari => include_bytes!("../../../fonts/NotoSansDevanagari-Regular.ttf"),
            Self::Japanese => include_bytes!("../../../fonts/NotoSansCJKjp-Regular.subset.otf"),
            Self::Korean => include_bytes!("../../../fonts/NotoSansCJKkr-Regular.subset.otf"),
            Self::SimplifiedChinese => {
                include_bytes!("../../../fonts/NotoSansCJKsc-Regular.subset.otf")
            }
            Self::TraditionalChinese => {
                include_bytes!("../../../fonts/NotoSansCJKtc-Regular.subset.otf")
            }
        }
    }

    /// The CJK face that draws Han characters as readers of `locale`'s language expect
    /// (Japanese 請, Korean, Simplified or Traditional Chinese forms); Simplified
    /// Chinese for documents in other languages.
    pub fn cjk_for(locale: &str) -> FaceId {
        let lower = locale.to_ascii_lowercase();
        match lower.split(['-', '_']).next() {
            Some("ja") => Self::Japanese,
            Some("ko") => Self::Korean,
            Some("zh")
                if ["-tw", "-hk", "-mo", "-hant"]
                    .iter()
                    .any(|s| lower.contains(s)) =>
            {
                Self::TraditionalChinese
            }
            _ => Self::SimplifiedChinese,
        }
    }
}

/// One loaded face: what krilla embeds, and what rustybuzz shapes with.
pub struct LoadedFace {
    pub pdf: krilla::text::Font,
    pub shaper: rustybuzz::Face<'static>,
    pub units_per_em: f32,
}

/// Every face, parsed once.
pub struct FontSet {
    faces: Vec<LoadedFace>,
}

/// The process-wide font set.
pub static FONTS: LazyLock<FontSet> = LazyLock::new(|| FontSet {
    faces: ALL
        .iter()
        .map(|id| {
            let data = id.data();
            let shaper = rustybuzz::Face::from_slice(data, 0).expect("shipped fonts parse");
            LoadedFace {
                pdf: krilla::text::Font::new(data.into(), 0).expect("shipped fonts load"),
                units_per_em: f32::from(shaper.units_per_em() as u16),
                shaper,
            }
        })
        .collect(),
});

impl FontSet {
    pub fn face(&self, id: FaceId) -> &LoadedFace {
        &self.faces[ALL
            .iter()
            .position(|f| *f == id)
            .expect("every face is loaded")]
    }

    /// Whether `id` has a glyph for `c`.
    pub fn covers(&self, id: FaceId, c: char) -> bool {
        self.face(id).shaper.glyph_index(c).is_some()
    }

    /// The first face of the set that covers `c`, trying the script's own faces first.
    pub fn face_for(&self, c: char, cjk: FaceId, current: Option<FaceId>) -> Option<FaceId> {
        let script = CodePointMapData::<Script>::new().get(c);
        let neutral = script == Script::Common || script == Script::Inherited;
        let mut order: Vec<FaceId> = Vec::with_capacity(8);
        if neutral {
            order.extend(current);
        }
        match script {
            Script::Devanagari => order.push(FaceId::Devanagari),
            Script::Hangul => order.push(FaceId::Korean),
            Script::Hiragana | Script::Katakana => order.push(FaceId::Japanese),
            Script::Han | Script::Bopomofo => {}
            _ => order.push(FaceId::Latin),
        }
        order.push(cjk);
        order.extend(CJK);
        order.extend(ALL);
        order.into_iter().find(|f| self.covers(*f, c))
    }

    /// Splits `text` into runs of one face each. Neutral characters (spaces, digits,
    /// punctuation) stay in the run they are in when its face covers them, so shaping
    /// sees whole words. Characters no face covers go to Noto Sans (and show as tofu;
    /// the glyph-coverage test keeps the shipped strings clear of that).
    pub fn itemize(&self, text: &str, cjk: FaceId) -> Vec<(Range<usize>, FaceId)> {
        let mut runs: Vec<(Range<usize>, FaceId)> = Vec::new();
        for (i, c) in text.char_indices() {
            let current = runs.last().map(|(_, f)| *f);
            let face = self.face_for(c, cjk, current).unwrap_or(FaceId::Latin);
            match runs.last_mut() {
                Some((range, f)) if *f == face => range.end = i + c.len_utf8(),
                _ => runs.push((i..i + c.len_utf8(), face)),
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_scripts() {
        let runs = FONTS.itemize(
            "Total ₹1,23,456.00 कुल देय राशि 請求書 세액",
            FaceId::Japanese,
        );
        let faces: Vec<FaceId> = runs.iter().map(|(_, f)| *f).collect();
        assert_eq!(
            faces,
            [
                FaceId::Latin,
                FaceId::Devanagari,
                FaceId::Japanese,
                FaceId::Korean
            ]
        );
        assert_eq!(FaceId::cjk_for("zh-Hant-HK"), FaceId::TraditionalChinese);
        assert_eq!(FaceId::cjk_for("ko-KR"), FaceId::Korean);
        assert_eq!(FaceId::cjk_for("de-DE"), FaceId::SimplifiedChinese);
    }
}
