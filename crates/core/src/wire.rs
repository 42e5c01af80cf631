//! Small rules of HTTP shared by every route family (`/v1/*`, `/api/v1/*`,
//! `/admin/v1/*`), so that each is decided once: how a bearer credential is read,
//! which request encodings are accepted, and how a client's id is shown in a message.

/// The token of an `Authorization` header value using the `Bearer` scheme. The
/// scheme is matched case-insensitively and the token follows one or more spaces
/// (RFC 9110 §11.1, §11.4); surrounding whitespace is not part of the token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether a request body sent with this `Content-Encoding` can be read as it is:
/// only `identity` (or no coding at all); Meridian decodes no compression.
pub fn is_identity_encoding(content_encoding: &str) -> bool {
    content_encoding
        .split(',')
        .map(str::trim)
        .all(|c| c.is_empty() || c.eq_ignore_ascii_case("identity"))
}

/// Longest part of a client's id repeated in a message.
pub const SHOWN_ID_CHARS: usize = 100;

/// A client's id as messages repeat it: its first [`SHOWN_ID_CHARS`] characters
/// (`…` marks a cut), control characters escaped so that nothing invisible is echoed.
pub fn shown_id(id: &str) -> String {
    let mut shown = String::with_capacity(id.len().min(SHOWN_ID_CHARS + 3));
    for (i, c) in id.chars().enumerate() {
        if i == SHOWN_ID_CHARS {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in [
            "Bearer mk-1",
            "bearer mk-1",
            "BEARER mk-1",
            "bEaReR   mk-1 ",
            " Bearer mk-1",
        ] {
            assert_eq!(bearer_token(header), Some("mk-1"), "{header:?}");
        }
        for header in ["Basic mk-1", "Bearer", "Bearer ", "Bearermk-1", "mk-1", ""] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }

    #[test]
    fn only_identity_is_read_as_it_is() {
        for ok in ["identity", "IDENTITY", " identity ", ""] {
            assert!(is_identity_encoding(ok), "{ok:?}");
        }
        for refused in ["gzip", "br", "deflate", "zstd", "identity, gzip", "x-gzip"] {
            assert!(!is_identity_encoding(refused), "{refused:?}");
        }
    }

    #[test]
    fn shown_ids_are_cut_and_escaped() {
        assert_eq!(shown_id("INV-US-2026-000001"), "INV-US-2026-000001");
        let long = "x".repeat(5000);
        let shown = shown_id(&long);
        assert_eq!(shown.chars().count(), SHOWN_ID_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(shown_id("a\0b\n"), "a\\u{0}b\\n");
    }
}
