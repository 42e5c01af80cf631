//! Key secrets: `mk-` plus 40 random base-62 characters (~238 bits), stored only as a
//! SHA-256 hash (a fast hash is enough for secrets this long: there is nothing to
//! guess), with the first 8 characters kept to tell keys apart in lists.

use meridian_core::Secret;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "mk-";
const KEY_RANDOM_CHARS: usize = 40;
/// How much of a secret lists show (`prefix`).
const SHOWN_CHARS: usize = 8;

pub type KeyHash = [u8; 32];

pub fn hash_key(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// A new random secret.
pub(crate) fn generate() -> Secret {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_RANDOM_CHARS)
        .map(char::from)
        .collect();
    Secret::new(format!("{KEY_PREFIX}{random}"))
}

/// The part of `secret` that may be shown again.
pub(crate) fn shown_prefix(secret: &Secret) -> &str {
    &secret.expose()[..SHOWN_CHARS]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_shown_by_their_first_eight_characters() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), KEY_PREFIX.len() + KEY_RANDOM_CHARS);
        assert!(a.expose().starts_with(KEY_PREFIX));
        assert_eq!(shown_prefix(&a), &a.expose()[..8]);
    }
}
