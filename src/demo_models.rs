//! The newest models of the catalog's Claude, GPT and Gemini families, which
//! `meridian demo` serves beside its fixed set: a coding agent pointed at the demo
//! sends its own default model id (Claude Code `claude-opus-4-8`, say, or Codex a
//! `gpt-5.x`), and it should find it.

use meridian_core::catalog::PriceCatalog;
use meridian_core::config::ProviderKind;

/// How many versions of each family, newest first.
const PER_FAMILY: usize = 4;

/// A family: the provider serving it, its catalog provider and key prefix, the prefix
/// of its model names, and the suffixes (after the version) that name its members.
struct Family {
    provider: ProviderKind,
    catalog_provider: &'static str,
    key_prefix: &'static str,
    name_prefix: &'static str,
    public_prefix: &'static str,
    suffixes: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        provider: ProviderKind::Anthropic,
        catalog_provider: "anthropic",
        key_prefix: "",
        name_prefix: "claude-",
        public_prefix: "anthropic/",
        suffixes: &[],
    },
    Family {
        provider: ProviderKind::OpenAi,
        catalog_provider: "openai",
        key_prefix: "",
        name_prefix: "gpt-",
        public_prefix: "openai/",
        suffixes: &["", "-mini", "-nano", "-codex"],
    },
    Family {
        provider: ProviderKind::Gemini,
        catalog_provider: "gemini",
        key_prefix: "gemini/",
        name_prefix: "gemini-",
        public_prefix: "google/",
        suffixes: &[
            "-pro",
            "-flash",
            "-flash-lite",
            "-pro-preview",
            "-flash-preview",
        ],
    },
];

/// Claude's tiers come before the version (`claude-opus-4-8`).
const CLAUDE_TIERS: &[&str] = &["opus-", "sonnet-", "haiku-"];

/// A version as numbers (`4-8` and `4.8` are [4, 8]); `None` for anything else,
/// a dated snapshot (`-20250929`) included.
fn version(text: &str) -> Option<Vec<u32>> {
    text.split(['-', '.'])
        .map(|part| {
            (!part.is_empty() && part.len() <= 2)
                .then(|| part.parse::<u32>().ok())
                .flatten()
        })
        .collect()
}

/// The newest chat models of each family in `catalog`, as (provider, public id).
pub fn newest(catalog: &PriceCatalog) -> Vec<(ProviderKind, String)> {
    let mut picked = Vec::new();
    for family in FAMILIES {
        // (member, version, name)
        let mut found: Vec<(String, Vec<u32>, String)> = Vec::new();
        for price in catalog.entries() {
            if price.provider != family.catalog_provider
                || !matches!(price.mode.as_deref(), Some("chat" | "responses"))
            {
                continue;
            }
            let Some(name) = price.catalog_key.strip_prefix(family.key_prefix) else {
                continue;
            };
            let Some(rest) = name.strip_prefix(family.name_prefix) else {
                continue;
            };
            let member = if family.provider == ProviderKind::Anthropic {
                CLAUDE_TIERS.iter().find_map(|tier| {
                    let v = version(rest.strip_prefix(tier)?)?;
                    Some((tier.to_string(), v))
                })
            } else {
                family.suffixes.iter().find_map(|suffix| {
                    let v = version(rest.strip_suffix(suffix)?)?;
                    Some((suffix.to_string(), v))
                })
            };
            if let Some((member, v)) = member {
                found.push((member, v, name.to_string()));
            }
        }
        found.sort_by(|a, b| (&a.0, &b.1).cmp(&(&b.0, &a.1)));
        let mut taken: Vec<(String, usize)> = Vec::new();
        for (member, _, name) in found {
            let count = match taken.iter_mut().find(|(m, _)| *m == member) {
                Some((_, n)) => n,
                None => {
                    taken.push((member, 0));
                    &mut taken.last_mut().expect("just pushed").1
                }
            };
            if *count < PER_FAMILY {
                *count += 1;
                picked.push((family.provider, format!("{}{name}", family.public_prefix)));
            }
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbers_and_snapshots_are_not_versions() {
        assert_eq!(version("4-8"), Some(vec![4, 8]));
        assert_eq!(version("5.1"), Some(vec![5, 1]));
        assert_eq!(version("4-5-20250929"), None);
        assert_eq!(version("5-chat-latest"), None);
    }

    #[test]
    fn the_bundled_catalog_gives_the_newest_of_each_family() {
        let catalog: PriceCatalog = crate::BUNDLED_PRICES.parse().unwrap();
        let models = newest(&catalog);
        let ids: Vec<&str> = models.iter().map(|(_, id)| id.as_str()).collect();
        for id in [
            "anthropic/claude-opus-4-8",
            "anthropic/claude-sonnet-4-6",
            "openai/gpt-5.5",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        assert!(
            !ids.iter().any(|id| id.contains("2025")),
            "no dated snapshots: {ids:?}"
        );
        let opus = ids
            .iter()
            .filter(|id| id.starts_with("anthropic/claude-opus-"))
            .count();
        assert_eq!(opus, PER_FAMILY);
        assert!(
            ids.iter().any(|id| id.starts_with("google/gemini-")),
            "{ids:?}"
        );
        for (provider, id) in &models {
            let upstream = id.split_once('/').unwrap().1;
            assert!(
                catalog.price_for(*provider, "global", upstream).is_some(),
                "{id} is priced for {provider}"
            );
        }
    }
}
