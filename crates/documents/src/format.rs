//! CLDR formatting through ICU4X, per the customer's exact locale (`en-IN` groups
//! `₹1,23,456.00` although its strings come from `en-GB`). Formatters are slow to build
//! and fast to use, so each locale's set is built once and cached for the process.
//!
//! Amounts are handed to ICU4X as decimal strings from `rust_decimal`, never through a
//! float. Totals are already rounded to ISO 4217 minor units by billing; the currency
//! formatter only displays them. Exact amounts (unit prices per 1M tokens, line amounts
//! in USD) keep every digit: they go through the decimal formatter and get the currency
//! symbol placed where the locale's currency pattern puts it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use chrono::{Datelike, NaiveDate};
use icu::calendar::Gregorian;
use icu::datetime::FixedCalendarDateTimeFormatter;
use icu::datetime::fieldsets::YMD;
use icu::datetime::input::Date;
use icu::decimal::DecimalFormatter;
use icu::decimal::input::Decimal as IcuDecimal;
use icu::locale::Locale;
use icu::locale::subtags::Region;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::percent::formatter::PercentFormatter;
use icu_experimental::displaynames::multi::RegionDisplayNames;
use rust_decimal::Decimal;

use crate::{DocumentsError, currency};

/// The formatters of one locale.
pub struct Formats {
    tag: String,
    locale: Locale,
    decimal: DecimalFormatter,
    percent: PercentFormatter<DecimalFormatter>,
    date: FixedCalendarDateTimeFormatter<Gregorian, YMD>,
    regions: RegionDisplayNames,
    currencies: RwLock<HashMap<String, Arc<CurrencyFormats>>>,
}

/// One currency in one locale: the CLDR formatter, and the pattern's text before and
/// after the number (`$` and ``, or `` and ` €`) for exact amounts.
struct CurrencyFormats {
    formatter: CurrencyFormatter<DecimalFormatter>,
    positive: (String, String),
    negative: (String, String),
}

static CACHE: LazyLock<RwLock<HashMap<String, Arc<Formats>>>> = LazyLock::new(Default::default);

impl Formats {
    /// The cached formatters of `tag` (any BCP 47 tag), built on first use.
    pub fn for_locale(tag: &str) -> Result<Arc<Formats>, DocumentsError> {
        if let Some(f) = CACHE.read().expect("formats cache").get(tag) {
            return Ok(f.clone());
        }
        let built = Arc::new(Formats::build(tag)?);
        Ok(CACHE
            .write()
            .expect("formats cache")
            .entry(tag.to_string())
            .or_insert(built)
            .clone())
    }

    fn build(tag: &str) -> Result<Formats, DocumentsError> {
        let err = |e: &dyn std::fmt::Display| DocumentsError::locale(tag, e);
        let locale: Locale = tag.parse().map_err(|e| err(&e))?;
        Ok(Formats {
            tag: tag.to_string(),
            decimal: DecimalFormatter::try_new((&locale).into(), Default::default())
                .map_err(|e| err(&e))?,
            percent: PercentFormatter::try_new((&locale).into(), Default::default())
                .map_err(|e| err(&e))?,
            date: FixedCalendarDateTimeFormatter::try_new((&locale).into(), YMD::long())
                .map_err(|e| err(&e))?,
            regions: RegionDisplayNames::try_new((&locale).into(), Default::default())
                .map_err(|e| err(&e))?,
            currencies: RwLock::default(),
            locale,
        })
    }

    /// An amount already rounded to the currency's minor unit: `1.234,56 €` (de-DE),
    /// `￥1,235` (ja-JP), `₹1,23,456.00` (en-IN).
    pub fn money(&self, amount: Decimal, code: &str) -> Result<String, DocumentsError> {
        if !currency::is_rounded(amount, code)? {
            return Err(DocumentsError::Invalid(format!(
                "{amount} {code} is not rounded to the minor unit"
            )));
        }
        let c = self.currency(code)?;
        Ok(c.formatter
            .format_fixed_decimal(&icu_decimal(amount))
            .to_string())
    }

    /// An exact amount with every digit kept and at least the currency's minor unit
    /// (`$0.15`, `$2.50`, `$0.18518505`), the symbol placed as the currency pattern does.
    pub fn money_exact(&self, amount: Decimal, code: &str) -> Result<String, DocumentsError> {
        let c = self.currency(code)?;
        let mut number = icu_decimal(amount.abs());
        number.pad_end(-(currency::minor_units(code)? as i16));
        let (before, after) = if amount.is_sign_negative() && !amount.is_zero() {
            &c.negative
        } else {
            &c.positive
        };
        Ok(format!("{before}{}{after}", self.decimal.format(&number)))
    }

    /// A plain number with the locale's grouping (token quantities, FX rates).
    pub fn number(&self, value: Decimal) -> String {
        self.decimal.format(&icu_decimal(value)).to_string()
    }

    /// A rate given as a fraction (0.19) as a percentage (`19 %` in de-DE).
    pub fn percent(&self, rate: Decimal) -> String {
        let hundred = (rate * Decimal::ONE_HUNDRED).normalize();
        self.percent.format(&icu_decimal(hundred)).to_string()
    }

    /// A long date in the Gregorian calendar (`31. Oktober 2026`, `2026年10月31日`).
    pub fn date(&self, date: NaiveDate) -> Result<String, DocumentsError> {
        let d = Date::try_new_gregorian(date.year(), date.month() as u8, date.day() as u8)
            .map_err(|e| DocumentsError::locale(&self.tag, e))?;
        Ok(self.date.format(&d).to_string())
    }

    /// The country's name in this locale (`Deutschland` for `DE` in de-DE); the code
    /// itself when CLDR has no name for it.
    pub fn country(&self, code: &str) -> String {
        Region::try_from_str(code)
            .ok()
            .and_then(|r| self.regions.of(r))
            .map_or_else(|| code.to_string(), str::to_string)
    }

    fn currency(&self, code: &str) -> Result<Arc<CurrencyFormats>, DocumentsError> {
        if let Some(c) = self.currencies.read().expect("currency cache").get(code) {
            return Ok(c.clone());
        }
        let err =
            |e: &dyn std::fmt::Display| DocumentsError::locale(&self.tag, format!("{code}: {e}"));
        let kind = CurrencyType::try_from_str(&code.to_ascii_lowercase()).map_err(|e| err(&e))?;
        let formatter =
            CurrencyFormatter::try_new_symbol((&self.locale).into(), kind, Default::default())
                .map_err(|e| err(&e))?;
        let affixes = |sample: &str| {
            let text = formatter
                .format_fixed_decimal(&icu_decimal(sample.parse().expect("sample")))
                .to_string();
            split_affixes(&text)
        };
        let built = Arc::new(CurrencyFormats {
            positive: affixes("1"),
            negative: affixes("-1"),
            formatter,
        });
        Ok(self
            .currencies
            .write()
            .expect("currency cache")
            .entry(code.to_string())
            .or_insert(built)
            .clone())
    }
}

/// The text around the number of a formatted sample (`-$1.00` → (`-$`, ``)).
fn split_affixes(text: &str) -> (String, String) {
    let first = text.find(|c: char| c.is_numeric()).unwrap_or(0);
    let last = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_numeric())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(text.len());
    (text[..first].to_string(), text[last..].to_string())
}

/// An ICU4X decimal from the exact decimal text, never from a float.
fn icu_decimal(value: Decimal) -> IcuDecimal {
    IcuDecimal::try_from_str(&value.to_string()).expect("rust_decimal prints plain decimals")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_follows_cldr_per_exact_locale() {
        let cases = [
            ("de-DE", "1234.56", "EUR", "1.234,56\u{a0}€"),
            ("fr-FR", "1234.56", "EUR", "1\u{202f}234,56\u{a0}€"),
            ("ja-JP", "1235", "JPY", "￥1,235"),
            ("hi-IN", "123456.00", "INR", "₹1,23,456.00"),
            ("en-IN", "123456.00", "INR", "₹1,23,456.00"),
            ("pt-BR", "1234.56", "BRL", "R$\u{a0}1.234,56"),
            ("ko-KR", "1235", "KRW", "₩1,235"),
            ("en-US", "-12.50", "USD", "-$12.50"),
        ];
        for (tag, amount, code, expected) in cases {
            let f = Formats::for_locale(tag).unwrap();
            assert_eq!(f.money(d(amount), code).unwrap(), expected, "{tag}");
        }
    }

    #[test]
    fn exact_amounts_keep_every_digit() {
        let en = Formats::for_locale("en-US").unwrap();
        assert_eq!(
            en.money_exact(d("0.00000015"), "USD").unwrap(),
            "$0.00000015"
        );
        assert_eq!(en.money_exact(d("2.5"), "USD").unwrap(), "$2.50");
        assert_eq!(
            en.money_exact(d("-1234.18518505"), "USD").unwrap(),
            "-$1,234.18518505"
        );
        let de = Formats::for_locale("de-DE").unwrap();
        assert_eq!(de.money_exact(d("0.075"), "USD").unwrap(), "0,075\u{a0}$");
        assert!(en.money(d("0.005"), "USD").is_err());
    }

    #[test]
    fn numbers_percentages_dates_countries() {
        let de = Formats::for_locale("de-DE").unwrap();
        assert_eq!(de.number(d("1234567")), "1.234.567");
        assert_eq!(de.percent(d("0.19")), "19\u{a0}%");
        assert_eq!(
            de.date(NaiveDate::from_ymd_opt(2026, 10, 31).unwrap())
                .unwrap(),
            "31. Oktober 2026"
        );
        assert_eq!(de.country("DE"), "Deutschland");
        let ja = Formats::for_locale("ja-JP").unwrap();
        assert_eq!(
            ja.date(NaiveDate::from_ymd_opt(2026, 10, 31).unwrap())
                .unwrap(),
            "2026年10月31日"
        );
        assert_eq!(
            Formats::for_locale("en-US").unwrap().percent(d("0.255")),
            "25.5%"
        );
        assert!(Formats::for_locale("not a tag").is_err());
    }
}
