//! The locale files: every locale has exactly the messages the code uses, with the
//! same placeholders, and every message the code asks for exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use meridian_documents::LOCALE_SOURCES;

/// Message id → its placeables (`$name`), per file.
fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (id, value) = l
                .split_once(" = ")
                .unwrap_or_else(|| panic!("not a one-line message: {l}"));
            let vars = value
                .split("{ $")
                .skip(1)
                .map(|rest| rest.split(' ').next().unwrap().to_string())
                .collect();
            (id.to_string(), vars)
        })
        .collect()
}

/// Every `"message-id"` literal in the crate's sources.
fn used_ids(known: &BTreeSet<String>) -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut used = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let code = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in code.split('"').skip(1).step_by(2) {
            if known.contains(piece) || piece.starts_with("email-") || piece.starts_with("title-") {
                used.insert(piece.to_string());
            }
        }
    }
    used
}

#[test]
fn every_locale_has_the_same_messages_and_placeholders() {
    let (reference_tag, reference_invoice, reference_email) = LOCALE_SOURCES[0];
    for (file, pick) in [("invoice.ftl", 1), ("email.ftl", 2)] {
        let reference = messages(if pick == 1 {
            reference_invoice
        } else {
            reference_email
        });
        for source in LOCALE_SOURCES {
            let (tag, text) = (source.0, if pick == 1 { source.1 } else { source.2 });
            let these = messages(text);
            let missing: Vec<_> = reference
                .keys()
                .filter(|k| !these.contains_key(*k))
                .collect();
            let extra: Vec<_> = these
                .keys()
                .filter(|k| !reference.contains_key(*k))
                .collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{tag}/{file}: missing {missing:?}, not in {reference_tag}: {extra:?}"
            );
            for (id, vars) in &reference {
                assert_eq!(
                    &these[id], vars,
                    "{tag}/{file}: placeholders of `{id}` differ from {reference_tag}"
                );
            }
        }
    }
}

#[test]
fn the_code_uses_every_message_and_no_other() {
    let (_, invoice, email) = LOCALE_SOURCES[0];
    let known: BTreeSet<String> = messages(invoice)
        .into_keys()
        .chain(messages(email).into_keys())
        .collect();
    let used = used_ids(&known);
    let unused: Vec<_> = known.difference(&used).collect();
    let undefined: Vec<_> = used.difference(&known).collect();
    assert!(unused.is_empty(), "messages no code uses: {unused:?}");
    assert!(
        undefined.is_empty(),
        "messages the code uses that no locale defines: {undefined:?}"
    );
}

#[test]
fn shipped_files_are_the_ones_on_disk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../locales");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let shipped: BTreeSet<String> = LOCALE_SOURCES
        .iter()
        .map(|(t, _, _)| t.to_string())
        .collect();
    assert_eq!(
        on_disk, shipped,
        "every directory of locales/ is compiled in"
    );
    for (tag, invoice, email) in LOCALE_SOURCES {
        assert_eq!(
            std::fs::read_to_string(root.join(tag).join("invoice.ftl")).unwrap(),
            invoice
        );
        assert_eq!(
            std::fs::read_to_string(root.join(tag).join("email.ftl")).unwrap(),
            email
        );
        assert!(!invoice.contains('\u{2068}') && !email.contains('\u{2068}'));
    }
}
