//! Localized strings with Fluent. Every user-visible word of invoices, credit notes and
//! e-mails lives in `locales/<locale>/{invoice,email}.ftl`, compiled into the binary.
//! Any BCP 47 tag is accepted: it is negotiated to the nearest shipped locale, with a
//! fallback chain ending in `en-US` (`en-IN`, `en-SG`, `en-AU` → `en-GB`; `fr-CA` →
//! `fr-FR`; `zh-HK`, `zh-Hant` → `zh-TW`). Numbers and dates are not formatted here:
//! Fluent's `NUMBER()` is not locale-aware, so callers pass strings from [`crate::format`].

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use unic_langid::LanguageIdentifier;

use crate::DocumentsError;

/// The shipped locales, each with its invoice and e-mail messages.
pub const SOURCES: [(&str, &str, &str); 12] = [
    (
        "en-US",
        include_str!("../../../locales/en-US/invoice.ftl"),
        include_str!("../../../locales/en-US/email.ftl"),
    ),
    (
        "en-GB",
        include_str!("../../../locales/en-GB/invoice.ftl"),
        include_str!("../../../locales/en-GB/email.ftl"),
    ),
    (
        "de-DE",
        include_str!("../../../locales/de-DE/invoice.ftl"),
        include_str!("../../../locales/de-DE/email.ftl"),
    ),
    (
        "fr-FR",
        include_str!("../../../locales/fr-FR/invoice.ftl"),
        include_str!("../../../locales/fr-FR/email.ftl"),
    ),
    (
        "es-ES",
        include_str!("../../../locales/es-ES/invoice.ftl"),
        include_str!("../../../locales/es-ES/email.ftl"),
    ),
    (
        "it-IT",
        include_str!("../../../locales/it-IT/invoice.ftl"),
        include_str!("../../../locales/it-IT/email.ftl"),
    ),
    (
        "pt-BR",
        include_str!("../../../locales/pt-BR/invoice.ftl"),
        include_str!("../../../locales/pt-BR/email.ftl"),
    ),
    (
        "ja-JP",
        include_str!("../../../locales/ja-JP/invoice.ftl"),
        include_str!("../../../locales/ja-JP/email.ftl"),
    ),
    (
        "zh-CN",
        include_str!("../../../locales/zh-CN/invoice.ftl"),
        include_str!("../../../locales/zh-CN/email.ftl"),
    ),
    (
        "zh-TW",
        include_str!("../../../locales/zh-TW/invoice.ftl"),
        include_str!("../../../locales/zh-TW/email.ftl"),
    ),
    (
        "ko-KR",
        include_str!("../../../locales/ko-KR/invoice.ftl"),
        include_str!("../../../locales/ko-KR/email.ftl"),
    ),
    (
        "hi-IN",
        include_str!("../../../locales/hi-IN/invoice.ftl"),
        include_str!("../../../locales/hi-IN/email.ftl"),
    ),
];

const LAST_RESORT: &str = "en-US";

/// English-speaking regions whose English follows the United States; every other
/// region's English (`en-IN`, `en-SG`, `en-AU`, `en-IE` …) follows British usage, as
/// CLDR's `en-001` parent does.
const US_ENGLISH_REGIONS: [&str; 8] = ["US", "AS", "GU", "MH", "MP", "PR", "UM", "VI"];

struct Catalog {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
    available: Vec<LanguageIdentifier>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let mut bundles = HashMap::new();
    let mut available = Vec::new();
    for (tag, invoice, email) in SOURCES {
        let id: LanguageIdentifier = tag.parse().expect("shipped locale tags are valid");
        let mut bundle = FluentBundle::new_concurrent(vec![id.clone()]);
        bundle.set_use_isolating(false);
        for source in [invoice, email] {
            let resource = FluentResource::try_new(source.to_string())
                .unwrap_or_else(|(_, e)| panic!("locales/{tag}: {e:?}"));
            bundle
                .add_resource(resource)
                .unwrap_or_else(|e| panic!("locales/{tag}: {e:?}"));
        }
        bundles.insert(tag, bundle);
        available.push(id);
    }
    Catalog { bundles, available }
});

/// The strings of one document: a chain of bundles, nearest first.
pub struct Strings {
    chain: Vec<&'static FluentBundle<FluentResource>>,
}

impl Strings {
    /// The strings for any BCP 47 tag.
    pub fn for_locale(tag: &str) -> Result<Strings, DocumentsError> {
        let chain = negotiate(tag)?;
        Ok(Strings {
            chain: chain.iter().map(|t| &CATALOG.bundles[t]).collect(),
        })
    }

    /// A message without arguments.
    pub fn get(&self, id: &str) -> Result<String, DocumentsError> {
        self.format(id, &[])
    }

    /// A message with preformatted string arguments.
    pub fn format(&self, id: &str, args: &[(&str, &str)]) -> Result<String, DocumentsError> {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        for bundle in &self.chain {
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            if !errors.is_empty() {
                return Err(DocumentsError::Message(id.to_string()));
            }
            return Ok(text.into_owned());
        }
        Err(DocumentsError::Message(id.to_string()))
    }
}

/// The fallback chain of shipped locales for `tag`, nearest first, ending in `en-US`.
pub fn negotiate(tag: &str) -> Result<Vec<&'static str>, DocumentsError> {
    let requested: LanguageIdentifier = tag.parse().map_err(|e| DocumentsError::locale(tag, e))?;
    let mut wanted = vec![requested.clone()];
    let region = requested.region.as_ref().map(|r| r.as_str().to_string());
    let script = requested.script.as_ref().map(|s| s.as_str().to_string());
    let preferred = match (
        requested.language.as_str(),
        region.as_deref(),
        script.as_deref(),
    ) {
        ("en", Some(r), _) if !US_ENGLISH_REGIONS.contains(&r) => Some("en-GB"),
        ("zh", _, Some("Hant")) | ("zh", Some("TW" | "HK" | "MO"), None) => Some("zh-TW"),
        ("zh", _, _) => Some("zh-CN"),
        _ => None,
    };
    if let Some(p) = preferred {
        wanted.insert(0, p.parse().expect("valid"));
    }
    let default: LanguageIdentifier = LAST_RESORT.parse().expect("valid");
    let negotiated = negotiate_languages(
        &wanted,
        &CATALOG.available,
        Some(&default),
        NegotiationStrategy::Filtering,
    );
    let mut chain: Vec<&'static str> = Vec::new();
    for id in negotiated {
        let tag = id.to_string();
        let shipped = SOURCES
            .iter()
            .map(|(t, _, _)| *t)
            .find(|t| *t == tag)
            .expect("negotiated from the shipped list");
        if !chain.contains(&shipped) {
            chain.push(shipped);
        }
    }
    if !chain.contains(&LAST_RESORT) {
        chain.push(LAST_RESORT);
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_tag_finds_the_nearest_locale() {
        let first = |tag: &str| negotiate(tag).unwrap()[0];
        assert_eq!(first("en-IN"), "en-GB");
        assert_eq!(first("en-SG"), "en-GB");
        assert_eq!(first("en-AU"), "en-GB");
        assert_eq!(first("en-US"), "en-US");
        assert_eq!(first("en"), "en-US");
        assert_eq!(first("fr-CA"), "fr-FR");
        assert_eq!(first("de-AT"), "de-DE");
        assert_eq!(first("pt-PT"), "pt-BR");
        assert_eq!(first("es-MX"), "es-ES");
        assert_eq!(first("zh-HK"), "zh-TW");
        assert_eq!(first("zh-Hant"), "zh-TW");
        assert_eq!(first("zh-SG"), "zh-CN");
        assert_eq!(first("ja"), "ja-JP");
        assert_eq!(first("sv-SE"), "en-US");
        assert_eq!(*negotiate("fr-CA").unwrap().last().unwrap(), "en-US");
        assert!(negotiate("!!").is_err());
    }

    #[test]
    fn placeables_are_not_isolated() {
        let s = Strings::for_locale("de-DE").unwrap();
        let text = s
            .format("footer-page", &[("page", "1"), ("pages", "2")])
            .unwrap();
        assert_eq!(text, "Seite 1 von 2");
        assert!(matches!(
            s.get("no-such-message"),
            Err(DocumentsError::Message(_))
        ));
    }
}
