//! ISO 4217 minor units: the arithmetic side of money. Rounding to the minor unit is
//! done with this table (half-even); ICU4X is used only to display amounts, because
//! CLDR's display digits differ from ISO 4217 for some currencies (HUF, IDR …).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::DocumentsError;

/// ISO 4217 alphabetic code → minor units, for the currencies Meridian can invoice in
/// and their neighbours. Codes not listed are refused rather than guessed.
const MINOR_UNITS: &[(&str, u32)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("TWD", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// The currency's ISO 4217 minor units (2 for EUR, 0 for JPY and KRW, 3 for KWD).
pub fn minor_units(code: &str) -> Result<u32, DocumentsError> {
    MINOR_UNITS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, units)| *units)
        .ok_or_else(|| DocumentsError::Invalid(format!("unknown ISO 4217 currency `{code}`")))
}

/// `amount` rounded half-even to the currency's minor unit, with exactly that scale.
pub fn round(amount: Decimal, code: &str) -> Result<Decimal, DocumentsError> {
    let units = minor_units(code)?;
    let mut rounded = amount.round_dp_with_strategy(units, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(units);
    Ok(rounded)
}

/// Whether `amount` is already a whole number of minor units.
pub fn is_rounded(amount: Decimal, code: &str) -> Result<bool, DocumentsError> {
    Ok(round(amount, code)? == amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_even_to_minor_units() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(round(d("1234.565"), "EUR").unwrap().to_string(), "1234.56");
        assert_eq!(round(d("1234.575"), "EUR").unwrap().to_string(), "1234.58");
        assert_eq!(round(d("1234.5"), "JPY").unwrap().to_string(), "1234");
        assert_eq!(round(d("1235.5"), "KRW").unwrap().to_string(), "1236");
        assert_eq!(round(d("1.0005"), "KWD").unwrap().to_string(), "1.000");
        assert_eq!(round(d("7"), "USD").unwrap().to_string(), "7.00");
        assert!(minor_units("XXX").is_err());
    }
}
