//! EU VAT numbers: the Member State prefix (`EL` for Greece), each state's format, and
//! its check digits where the algorithm is public (AT, BE, DE, DK, EE, EL, FI, FR, HR,
//! HU, IE, IT, LU, MT, NL, PL, PT, RO, SE, SI, SK); the other states are checked for
//! format only.

use super::{bad_check, digits, iso7064_mod_11_10_ok, luhn_ok, weighted};

/// The 27 Member States (ISO 3166-1 alpha-2).
pub const EU_MEMBER_STATES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The ISO country of a compact VAT number's prefix.
pub(super) fn country_of(vat: &str) -> &str {
    match &vat[..2] {
        "EL" => "GR",
        other => other,
    }
}

pub(super) fn validate(compact: &str) -> Result<String, String> {
    if compact.len() < 4 || !compact.is_char_boundary(2) {
        return Err("it must start with a Member State prefix such as DE or IE".into());
    }
    let (prefix, number) = compact.split_at(2);
    if prefix == "GR" || !EU_MEMBER_STATES.contains(&country_of(compact)) {
        return Err(format!(
            "`{prefix}` is not a Member State prefix (Greece is EL)"
        ));
    }
    check(prefix, number)?;
    Ok(compact.to_string())
}

fn format_error(shape: &str) -> String {
    format!("the number must be {shape}")
}

fn all_digits(number: &str, lens: &[usize]) -> Result<Vec<u32>, String> {
    match digits(number) {
        Some(d) if lens.contains(&d.len()) => Ok(d),
        _ => Err(format_error(&format!(
            "{} digits",
            lens.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        ))),
    }
}

fn ensure(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err(bad_check()) }
}

fn check(prefix: &str, number: &str) -> Result<(), String> {
    match prefix {
        "AT" => {
            let rest = number
                .strip_prefix('U')
                .ok_or_else(|| format_error("U followed by 8 digits"))?;
            let d = all_digits(rest, &[8])?;
            let s: u32 = d[..7]
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    if i % 2 == 1 {
                        let y = 2 * x;
                        y / 10 + y % 10
                    } else {
                        x
                    }
                })
                .sum();
            ensure((10 - (s + 4) % 10) % 10 == d[7])
        }
        "BE" => {
            let d = all_digits(number, &[10])?;
            let head: u64 = number[..8].parse().unwrap_or(0);
            let tail: u64 = number[8..].parse().unwrap_or(0);
            ensure(d[0] <= 1 && 97 - head % 97 == tail)
        }
        "DE" => {
            let d = all_digits(number, &[9])?;
            ensure(d[0] != 0 && iso7064_mod_11_10_ok(&d))
        }
        "HR" => ensure(iso7064_mod_11_10_ok(&all_digits(number, &[11])?)),
        "DK" => ensure(
            weighted(&all_digits(number, &[8])?, &[2, 7, 6, 5, 4, 3, 2, 1]).is_multiple_of(11),
        ),
        "EE" => ensure(
            weighted(&all_digits(number, &[9])?, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10),
        ),
        "EL" => {
            let d = all_digits(number, &[9])?;
            let s = weighted(&d[..8], &[256, 128, 64, 32, 16, 8, 4, 2]);
            ensure(s % 11 % 10 == d[8])
        }
        "FI" => ensure(
            weighted(&all_digits(number, &[8])?, &[7, 9, 10, 5, 8, 4, 2, 1]).is_multiple_of(11),
        ),
        "FR" => {
            if number.len() != 11 || digits(&number[2..]).is_none() {
                return Err(format_error(
                    "2 key characters followed by the 9-digit SIREN",
                ));
            }
            let siren: u64 = number[2..].parse().unwrap_or(0);
            match number[..2].parse::<u64>() {
                Ok(key) => ensure(key == (12 + 3 * (siren % 97)) % 97),
                Err(_) => Ok(()), // the newer alphanumeric keys have no public check
            }
        }
        "HU" => ensure(
            weighted(&all_digits(number, &[8])?, &[9, 7, 3, 1, 9, 7, 3, 1]).is_multiple_of(10),
        ),
        "IE" => ireland(number),
        "IT" => ensure(luhn_ok(&all_digits(number, &[11])?)),
        "LU" => {
            all_digits(number, &[8])?;
            let head: u64 = number[..6].parse().unwrap_or(0);
            let tail: u64 = number[6..].parse().unwrap_or(0);
            ensure(head % 89 == tail)
        }
        "MT" => ensure(
            weighted(&all_digits(number, &[8])?, &[3, 4, 6, 7, 8, 9, 10, 1]).is_multiple_of(37),
        ),
        "NL" => netherlands(number),
        "PL" => {
            let d = all_digits(number, &[10])?;
            ensure(weighted(&d, &[6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 == d[9])
        }
        "PT" => {
            let d = all_digits(number, &[9])?;
            let c = 11 - weighted(&d, &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
            ensure((if c >= 10 { 0 } else { c }) == d[8])
        }
        "RO" => {
            let d = all_digits(number, &[2, 3, 4, 5, 6, 7, 8, 9, 10])?;
            let weights = &[7, 5, 3, 2, 1, 7, 5, 3, 2][10 - d.len()..];
            ensure(weighted(&d, weights) * 10 % 11 % 10 == d[d.len() - 1])
        }
        "SE" => {
            let d = all_digits(number, &[12])?;
            ensure(number.ends_with("01") && luhn_ok(&d[..10]))
        }
        "SI" => {
            let d = all_digits(number, &[8])?;
            let c = 11 - weighted(&d, &[8, 7, 6, 5, 4, 3, 2]) % 11;
            ensure(d[0] != 0 && c != 11 && (if c == 10 { 0 } else { c }) == d[7])
        }
        "SK" => {
            all_digits(number, &[10])?;
            ensure(number.parse::<u64>().unwrap_or(1) % 11 == 0)
        }
        "BG" => all_digits(number, &[9, 10]).map(drop),
        "CZ" => all_digits(number, &[8, 9, 10]).map(drop),
        "LT" => all_digits(number, &[9, 12]).map(drop),
        "LV" => all_digits(number, &[11]).map(drop),
        "CY" => {
            let ok = number.len() == 9
                && digits(&number[..8]).is_some()
                && number.as_bytes()[8].is_ascii_uppercase();
            ensure_format(ok, "8 digits followed by a letter")
        }
        "ES" => {
            let b = number.as_bytes();
            let ok = number.len() == 9
                && b[0].is_ascii_alphanumeric()
                && b[8].is_ascii_alphanumeric()
                && digits(&number[1..8]).is_some()
                && !(b[0].is_ascii_digit() && b[8].is_ascii_digit());
            ensure_format(ok, "a letter or digit, 7 digits and a letter or digit")
        }
        _ => Err(format!("`{prefix}` is not a Member State prefix")),
    }
}

fn ensure_format(ok: bool, shape: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(format_error(shape)) }
}

/// 7 digits, a check letter, and an optional second letter (A–I, or W).
fn ireland(number: &str) -> Result<(), String> {
    let shape = "7 digits followed by one or two letters";
    if !(8..=9).contains(&number.len()) || !number.is_ascii() {
        return Err(format_error(shape));
    }
    let d = digits(&number[..7]).ok_or_else(|| format_error(shape))?;
    let letters = &number.as_bytes()[7..];
    let mut sum = weighted(&d, &[8, 7, 6, 5, 4, 3, 2]);
    if let Some(&second) = letters.get(1) {
        sum += match second {
            b'A'..=b'I' => u32::from(second - b'A' + 1) * 9,
            b'W' => 0,
            _ => return Err(format_error(shape)),
        };
    }
    let check = match sum % 23 {
        0 => b'W',
        r => b'A' + (r as u8) - 1,
    };
    ensure(letters[0] == check)
}

/// 9 digits, `B`, 2 digits; the 11-test of the old numbers or the mod-97 test of
/// the numbers issued since 2020.
fn netherlands(number: &str) -> Result<(), String> {
    let b = number.as_bytes();
    if number.len() != 12
        || b[9] != b'B'
        || digits(&number[..9]).is_none()
        || digits(&number[10..]).is_none()
    {
        return Err(format_error("9 digits, B and 2 digits"));
    }
    let d = digits(&number[..9]).unwrap_or_default();
    let eleven = weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) % 11 == d[8];
    let mod97 = format!("2321{}11{}", &number[..9], &number[10..])
        .bytes()
        .fold(0u64, |acc, c| (acc * 10 + u64::from(c - b'0')) % 97)
        == 1;
    ensure(eleven || mod97)
}
