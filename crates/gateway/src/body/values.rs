//! What `serde_json` refuses when it reads values, checked over the text of a body
//! whose syntax it has accepted. Checking syntax skips values without reading them,
//! so nesting past `serde_json`'s recursion limit, an escaped UTF-16 surrogate
//! without its pair (`"\ud800"`) and a number beyond `f64` (`1e309`) pass it, and
//! then fail where an adapter reads the body as a map. One pass finds them first, so
//! that the client is told which member is at fault.

use meridian_core::wire::shown_id;

use crate::error::ApiError;

/// How deep a request's JSON may nest, the body's own object being level 1.
/// `serde_json` reads 128 levels; adapters wrap the client's values (a tool's
/// `parameters`, a `json_schema`, tool-call arguments) in a few levels of their own,
/// and providers have limits of their own.
pub const MAX_DEPTH: usize = 64;

/// Why a value would not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    TooDeep,
    LoneSurrogate,
    NumberOutOfRange,
}

impl ValueProblem {
    /// The client's error, naming `field` (never the value).
    pub fn error(self, field: &str) -> ApiError {
        let field = shown_id(field);
        ApiError::invalid_request(match self {
            ValueProblem::TooDeep => format!(
                "`{field}` is nested too deeply: JSON in a request may nest at most {MAX_DEPTH} levels."
            ),
            ValueProblem::LoneSurrogate => format!(
                "`{field}` holds a string with an unpaired UTF-16 surrogate escape (`\\ud800` to `\\udfff`); strings must be valid Unicode."
            ),
            ValueProblem::NumberOutOfRange => format!(
                "`{field}` holds a number out of range: numbers must be finite 64-bit floating point values."
            ),
        })
    }
}

/// Checks `json`, syntactically valid JSON text, found `outer` levels deep.
pub fn check(json: &str, outer: usize) -> Result<(), ValueProblem> {
    let b = json.as_bytes();
    let mut depth = outer;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ValueProblem::TooDeep);
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' => i = string_end(b, i + 1)?,
            b'-' | b'0'..=b'9' => {
                let len = b[i..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(b.len() - i);
                if !finite(&json[i..i + len]) {
                    return Err(ValueProblem::NumberOutOfRange);
                }
                i += len;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Whether `serde_json` reads the number. Without an exponent, fewer than 300
/// digits are below `f64::MAX` (1.8e308); other numbers are read as it reads them.
fn finite(number: &str) -> bool {
    if number.len() < 300 && !number.contains(['e', 'E']) {
        return true;
    }
    serde_json::from_str::<serde_json::Number>(number).is_ok()
}

/// The index after the string whose text starts at `i` (after its opening quote).
fn string_end(b: &[u8], mut i: usize) -> Result<usize, ValueProblem> {
    loop {
        let Some(skip) = quote_or_backslash(&b[i..]) else {
            return Ok(b.len());
        };
        i += skip;
        if b[i] == b'"' {
            return Ok(i + 1);
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        match hex4(b, i + 2) {
            0xD800..=0xDBFF
                if b.get(i + 6..i + 8) == Some(b"\\u")
                    && matches!(hex4(b, i + 8), 0xDC00..=0xDFFF) =>
            {
                i += 12
            }
            0xD800..=0xDFFF => return Err(ValueProblem::LoneSurrogate),
            _ => i += 6,
        }
    }
}

/// The index of the first `"` or `\\` in `b`, read eight bytes at a time: strings
/// are the bulk of a body, and this is three times faster than byte by byte. In each
/// word, the lowest byte flagged by the zero-byte test is exact (only bytes above
/// a match can be flagged falsely), so the first match is the lowest flag of either.
fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let flags = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut words = b.chunks_exact(8);
    for (n, chunk) in words.by_ref().enumerate() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let found = flags(word, b'"') | flags(word, b'\\');
        if found != 0 {
            return Some(n * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let rest = words.remainder();
    let at = b.len() - rest.len();
    rest.iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| at + p)
}

/// The UTF-16 unit of the four hex digits at `i` (0 where there are none).
fn hex4(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn nesting_is_counted_from_the_outer_level() {
        assert_eq!(check(&nested(MAX_DEPTH - 1), 1), Ok(()));
        assert_eq!(check(&nested(MAX_DEPTH), 1), Err(ValueProblem::TooDeep));
        assert_eq!(check(&nested(MAX_DEPTH), 0), Ok(()));
        // Brackets inside strings do not count.
        assert_eq!(check(&format!("\"{}\"", "[".repeat(500)), 1), Ok(()));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
        assert_eq!(check(&objects, 1), Err(ValueProblem::TooDeep));
    }

    #[test]
    fn unpaired_surrogates_are_found_and_pairs_pass() {
        for ok in [
            r#""\ud83d\ude00""#,
            r#""\u00e9\\ud800""#,
            r#""a\"\ud800\udc00b""#,
            r#"["\uD800\uDFFF"]"#,
        ] {
            assert_eq!(check(ok, 1), Ok(()), "{ok}");
        }
        for lone in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""x\ud800y""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#"{"k\udfff":1}"#,
        ] {
            assert_eq!(check(lone, 1), Err(ValueProblem::LoneSurrogate), "{lone}");
        }
    }

    #[test]
    fn numbers_beyond_f64_are_found() {
        for ok in [
            "1e308",
            "-1.7e308",
            "1e-400",
            "123456789012345678901234567890",
            "0",
        ] {
            assert_eq!(check(ok, 1), Ok(()), "{ok}");
        }
        let long = format!("[{}]", "9".repeat(400));
        for out in ["1e309", "-1E400", "[0.5,1e99999]", &long] {
            assert_eq!(check(out, 1), Err(ValueProblem::NumberOutOfRange), "{out}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_word_scan_finds_the_first_quote_or_backslash(
            b in proptest::collection::vec(proptest::sample::select(&b"ab\"\\\x80\xff\x00\x22\x5c"[..]), 0..40)
        ) {
            let expected = b.iter().position(|&c| c == b'"' || c == b'\\');
            proptest::prop_assert_eq!(quote_or_backslash(&b), expected);
        }
    }

    #[test]
    fn what_is_found_is_what_serde_json_refuses() {
        for text in [
            &nested(200)[..],
            r#"{"a":"\udc00"}"#,
            r#"[1e309]"#,
            r#"["\ud800\ud800"]"#,
            r#"["\ud800\u0041"]"#,
            r#"{"a":[1,"\ud83d\ude00",2.5e10,{"b":null}]}"#,
        ] {
            let ours = check(text, 0).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
