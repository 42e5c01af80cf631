//! The national identifiers outside the EU: UK VAT (mod 97 and mod 9755), Japan's
//! registration number (T + corporate number with its check digit), Singapore's UEN
//! (ROB, ROC and other entities) and GST numbers, Korea's business registration
//! number, India's GSTIN, Australia's ABN (mod 89) and the US EIN (format only).

use super::{bad_check, digits, weighted};

/// `GB` + 9 digits (or 12 with a branch), or a government department `GBGD`/`GBHA` + 3.
pub(super) fn gb_vat(compact: &str) -> Result<String, String> {
    let number = compact.strip_prefix("GB").unwrap_or(compact);
    if let Some(rest) = number
        .strip_prefix("GD")
        .or_else(|| number.strip_prefix("HA"))
    {
        return match digits(rest) {
            Some(d) if d.len() == 3 => Ok(format!("GB{number}")),
            _ => Err("a government department number is GD or HA followed by 3 digits".into()),
        };
    }
    let d = match digits(number) {
        Some(d) if d.len() == 9 || d.len() == 12 => d,
        _ => return Err("it must be GB followed by 9 digits".into()),
    };
    let sum = weighted(&d[..7], &[8, 7, 6, 5, 4, 3, 2]);
    let check = d[7] * 10 + d[8];
    if (sum + check).is_multiple_of(97) || (sum + 55 + check).is_multiple_of(97) {
        Ok(format!("GB{number}"))
    } else {
        Err(bad_check())
    }
}

/// `T` + 13 digits whose first digit checks the other twelve.
pub(super) fn jp_registration(compact: &str) -> Result<String, String> {
    let d = match compact.strip_prefix('T').and_then(digits) {
        Some(d) if d.len() == 13 => d,
        _ => return Err("it must be T followed by 13 digits".into()),
    };
    let sum: u32 = d[1..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { x } else { 2 * x })
        .sum();
    if 9 - sum % 9 == d[0] {
        Ok(compact.to_string())
    } else {
        Err(bad_check())
    }
}

/// A UEN (business: 8 digits + letter; local company: 9 digits + letter; other
/// entities: T/S/R, 2 digits, entity type, 4 digits, check) or a GST registration
/// number (`M` + 8 digits + check character, format only).
pub(super) fn sg_uen(compact: &str) -> Result<String, String> {
    let b = compact.as_bytes();
    if !compact.is_ascii() || !(9..=10).contains(&b.len()) {
        return Err("it must be 9 or 10 characters".into());
    }
    let (body, check) = compact.split_at(b.len() - 1);
    let check = check.as_bytes()[0];
    let expected = if let Some(d) = digits(body) {
        if d.len() == 8 {
            b"XMKECAWLJDB"[(weighted(&d, &[10, 4, 9, 3, 8, 2, 7, 1]) % 11) as usize]
        } else {
            b"ZKCMDNERGWH"[(weighted(&d, &[10, 8, 6, 4, 9, 7, 5, 3, 1]) % 11) as usize]
        }
    } else if b[0] == b'M' && b.len() == 10 && digits(&body[1..]).is_some() {
        return Ok(compact.to_string());
    } else if matches!(b[0], b'T' | b'S' | b'R')
        && digits(&body[1..3]).is_some()
        && body.as_bytes()[3..5].iter().all(u8::is_ascii_uppercase)
        && digits(&body[5..]).is_some()
        && b.len() == 10
    {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWX0123456789";
        let sum: i64 = body
            .bytes()
            .zip([4, 3, 5, 3, 10, 2, 2, 5, 7])
            .map(|(c, w)| ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as i64 * w)
            .sum();
        ALPHABET[(sum - 5).rem_euclid(11) as usize]
    } else {
        return Err("it is not a UEN (8 or 9 digits and a letter, or T/S/R + year + type + 4 digits + letter) nor a GST number (M + 8 digits + letter)".into());
    };
    if check == expected {
        Ok(compact.to_string())
    } else {
        Err(bad_check())
    }
}

/// 10 digits (`123-45-67890`) with the NTS check digit.
pub(super) fn kr_business_number(compact: &str) -> Result<String, String> {
    let d = match digits(compact) {
        Some(d) if d.len() == 10 => d,
        _ => return Err("it must be 10 digits (123-45-67890)".into()),
    };
    let sum = weighted(&d[..9], &[1, 3, 7, 1, 3, 7, 1, 3, 5]) + d[8] * 5 / 10;
    if (10 - sum % 10) % 10 == d[9] {
        Ok(compact.to_string())
    } else {
        Err(bad_check())
    }
}

/// 15 characters: State code, PAN, entity number, `Z`, base-36 check character.
pub(super) fn in_gstin(compact: &str) -> Result<String, String> {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let b = compact.as_bytes();
    let pan_ok = b.len() == 15
        && b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase();
    if !pan_ok || digits(&compact[..2]).is_none() || !b[12].is_ascii_alphanumeric() {
        return Err(
            "it must be 15 characters: State code, PAN, entity number, Z, check character".into(),
        );
    }
    if crate::india::state_by_gst_code(&compact[..2]).is_none() {
        return Err(format!("`{}` is not an Indian State code", &compact[..2]));
    }
    let sum: u32 = compact[..14]
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let p = ALPHABET.find(c).unwrap_or(0) as u32 * if i % 2 == 0 { 1 } else { 2 };
            p / 36 + p % 36
        })
        .sum();
    let expected = ALPHABET.as_bytes()[((36 - sum % 36) % 36) as usize];
    if b[14] == expected {
        Ok(compact.to_string())
    } else {
        Err(bad_check())
    }
}

/// 11 digits; (first digit − 1) and the rest, weighted, divisible by 89.
pub(super) fn au_abn(compact: &str) -> Result<String, String> {
    let mut d = match digits(compact) {
        Some(d) if d.len() == 11 && d[0] > 0 => d,
        _ => return Err("it must be 11 digits".into()),
    };
    d[0] -= 1;
    if weighted(&d, &[10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]).is_multiple_of(89) {
        Ok(compact.to_string())
    } else {
        Err(bad_check())
    }
}

/// 9 digits (`12-3456789`); the EIN has no check digit.
pub(super) fn us_ein(compact: &str) -> Result<String, String> {
    match digits(compact) {
        Some(d) if d.len() == 9 => Ok(format!("{}-{}", &compact[..2], &compact[2..])),
        _ => Err("it must be 9 digits (12-3456789)".into()),
    }
}
