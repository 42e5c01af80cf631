//! Foreign exchange: ECB euro reference rates imported from the ECB's XML
//! (`eurofxref*.xml`) or CSV (`eurofxref*.csv`) files, stored with their date, and the
//! USD → invoice-currency rate of a period: the rates of the last business day on or
//! before the period's last day, crossed through EUR.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use sqlx::PgPool;

use crate::BillingError;
use crate::money::Currency;

/// Decimal places kept of a crossed rate; the stored rate is the one applied.
const CROSS_RATE_DP: u32 = 10;
/// How far before the period's end a published rate may be (weekends and holidays).
const MAX_RATE_AGE_DAYS: i64 = 10;

/// One ECB reference rate: units of `currency` per 1 EUR on `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcbRate {
    pub date: NaiveDate,
    pub currency: Currency,
    pub per_eur: Decimal,
}

/// The rate an invoice converts USD amounts at, and the ECB date it comes from
/// (`None` for USD invoices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FxRate {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub date: Option<NaiveDate>,
}

impl FxRate {
    pub const IDENTITY: FxRate = FxRate {
        rate: Decimal::ONE,
        date: None,
    };
}

fn malformed(why: impl std::fmt::Display) -> BillingError {
    BillingError::Invalid(format!("malformed ECB rates file: {why}"))
}

fn parse_rate(text: &str, at: &str) -> Result<Decimal, BillingError> {
    match Decimal::from_str_exact(text.trim()) {
        Ok(r) if r > Decimal::ZERO => Ok(r.normalize()),
        _ => Err(malformed(format!(
            "{at}: rate `{}` is not a positive decimal",
            text.trim()
        ))),
    }
}

fn parse_currency(text: &str, at: &str) -> Result<Currency, BillingError> {
    Currency::parse(text)
        .map_err(|_| malformed(format!("{at}: `{}` is not a currency code", text.trim())))
}

fn parse_date(text: &str, at: &str) -> Result<NaiveDate, BillingError> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d %B %Y"))
        .map_err(|_| malformed(format!("{at}: `{t}` is not a date")))
}

/// Parses an ECB file, XML or CSV (told apart by its first character).
pub fn parse(text: &str) -> Result<Vec<EcbRate>, BillingError> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let rates = if text.starts_with('<') {
        parse_xml(text)?
    } else {
        parse_csv(text)?
    };
    if rates.is_empty() {
        return Err(malformed("it holds no rates"));
    }
    Ok(rates)
}

fn parse_xml(text: &str) -> Result<Vec<EcbRate>, BillingError> {
    let doc = roxmltree::Document::parse(text).map_err(malformed)?;
    let mut rates = Vec::new();
    for day in doc
        .descendants()
        .filter(|n| n.has_tag_name("Cube") && n.has_attribute("time"))
    {
        let at = format!("line {}", doc.text_pos_at(day.range().start).row);
        let date = parse_date(day.attribute("time").unwrap_or_default(), &at)?;
        for c in day.children().filter(|n| n.has_tag_name("Cube")) {
            let at = format!("line {}", doc.text_pos_at(c.range().start).row);
            let (Some(currency), Some(rate)) = (c.attribute("currency"), c.attribute("rate"))
            else {
                return Err(malformed(format!(
                    "{at}: a rate needs `currency` and `rate`"
                )));
            };
            rates.push(EcbRate {
                date,
                currency: parse_currency(currency, &at)?,
                per_eur: parse_rate(rate, &at)?,
            });
        }
    }
    Ok(rates)
}

fn parse_csv(text: &str) -> Result<Vec<EcbRate>, BillingError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(malformed)?.clone();
    if header.get(0) != Some("Date") {
        return Err(malformed("line 1: the first column must be `Date`"));
    }
    // Columns of withdrawn currencies (CYP, SIT, …) in the historical file are skipped.
    let currencies: Vec<Option<Currency>> = header
        .iter()
        .skip(1)
        .map(|h| match Currency::parse(h) {
            Ok(c) => Ok(Some(c)),
            Err(_)
                if h.is_empty() || (h.len() == 3 && h.bytes().all(|b| b.is_ascii_uppercase())) =>
            {
                Ok(None)
            }
            Err(_) => Err(malformed(format!("line 1: `{h}` is not a currency code"))),
        })
        .collect::<Result<_, _>>()?;
    let mut rates = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let at = format!("line {}", i + 2);
        let record = record.map_err(malformed)?;
        let date = parse_date(record.get(0).unwrap_or_default(), &at)?;
        for (value, currency) in record.iter().skip(1).zip(&currencies) {
            if let Some(currency) = currency
                && !value.is_empty()
                && value != "N/A"
            {
                rates.push(EcbRate {
                    date,
                    currency: *currency,
                    per_eur: parse_rate(value, &at)?,
                });
            }
        }
    }
    Ok(rates)
}

/// Stores rates in one transaction; a (currency, date) already stored is kept.
/// Returns how many were new.
pub async fn import(pool: &PgPool, rates: &[EcbRate]) -> Result<u64, BillingError> {
    let mut tx = pool.begin().await?;
    let mut new = 0;
    for chunk in rates.chunks(5_000) {
        new += sqlx::query(
            "INSERT INTO fx_rates (currency, rate_date, per_eur)
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::numeric[])
             ON CONFLICT (currency, rate_date) DO NOTHING",
        )
        .bind(chunk.iter().map(|r| r.currency.code()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.date).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.per_eur).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(new)
}

/// One stored ECB reference rate: units of `currency` per 1 EUR on `date`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoredRate {
    pub currency: String,
    pub date: NaiveDate,
    /// A decimal string (`"1.16"`).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "1.16")]
    pub per_eur: Decimal,
}

/// The rates of the latest ECB date on or before `date` (the rates in force that
/// day), in currency order after `after`, at most `limit`.
pub async fn rates_on(
    pool: &PgPool,
    date: NaiveDate,
    after: Option<&str>,
    limit: u32,
) -> sqlx::Result<Vec<StoredRate>> {
    sqlx::query_as(
        "SELECT currency, rate_date AS date, per_eur FROM fx_rates
         WHERE rate_date = (SELECT max(rate_date) FROM fx_rates WHERE rate_date <= $1)
           AND ($2::text IS NULL OR currency > $2)
         ORDER BY currency LIMIT $3",
    )
    .bind(date)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
}

/// The USD → `currency` rate for a period ending on `last_day`: the ECB rates of the
/// latest date on or before it that has both USD and `currency`.
pub async fn usd_rate(
    pool: &PgPool,
    currency: Currency,
    last_day: NaiveDate,
) -> Result<FxRate, BillingError> {
    if currency == Currency::USD {
        return Ok(FxRate::IDENTITY);
    }
    let row: Option<(NaiveDate, Decimal, Option<Decimal>)> = sqlx::query_as(
        "SELECT u.rate_date, u.per_eur, c.per_eur
         FROM fx_rates u LEFT JOIN fx_rates c ON c.rate_date = u.rate_date AND c.currency = $2
         WHERE u.currency = 'USD' AND u.rate_date <= $1 AND u.rate_date > $1 - $3::int
           AND ($2 = 'EUR' OR c.per_eur IS NOT NULL)
         ORDER BY u.rate_date DESC LIMIT 1",
    )
    .bind(last_day)
    .bind(currency.code())
    .bind(MAX_RATE_AGE_DAYS as i32)
    .fetch_optional(pool)
    .await?;
    let Some((date, usd_per_eur, ccy_per_eur)) = row else {
        return Err(BillingError::Invalid(format!(
            "no ECB rate for USD/{currency} on or in the {MAX_RATE_AGE_DAYS} days before {last_day}; import one with `meridian fx import FILE`"
        )));
    };
    let per_eur = ccy_per_eur.unwrap_or(Decimal::ONE);
    Ok(FxRate {
        rate: cross(per_eur, usd_per_eur),
        date: Some(date),
    })
}

/// Units of each stored currency per USD at the latest ECB date that has both it and
/// USD (USD itself at 1): what spend budgets convert at.
pub async fn latest_usd_rates(pool: &PgPool) -> sqlx::Result<HashMap<String, Decimal>> {
    let rows: Vec<(String, Decimal, Decimal)> = sqlx::query_as(
        "SELECT DISTINCT ON (c.currency) c.currency, c.per_eur, u.per_eur
         FROM fx_rates c JOIN fx_rates u ON u.rate_date = c.rate_date AND u.currency = 'USD'
         ORDER BY c.currency, c.rate_date DESC",
    )
    .fetch_all(pool)
    .await?;
    let mut rates: HashMap<String, Decimal> = HashMap::with_capacity(rows.len() + 2);
    if let Some(usd_per_eur) = rows.iter().find(|r| r.0 == "USD").map(|r| r.2) {
        rates.insert("EUR".into(), cross(Decimal::ONE, usd_per_eur));
    }
    for (currency, per_eur, usd_per_eur) in rows {
        rates.insert(currency, cross(per_eur, usd_per_eur));
    }
    rates.insert("USD".into(), Decimal::ONE);
    Ok(rates)
}

/// `currency` per USD from both rates per EUR.
fn cross(ccy_per_eur: Decimal, usd_per_eur: Decimal) -> Decimal {
    (ccy_per_eur / usd_per_eur)
        .round_dp_with_strategy(CROSS_RATE_DP, RoundingStrategy::MidpointNearestEven)
        .normalize()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-10-30">
      <Cube currency="USD" rate="1.1600"/>
      <Cube currency="JPY" rate="175.20"/>
    </Cube>
  </Cube>
</gesmes:Envelope>"#;

    #[test]
    fn reads_the_ecb_xml() {
        let rates = parse(XML).unwrap();
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[1].currency.code(), "JPY");
        assert_eq!(rates[1].per_eur, Decimal::from_str("175.2").unwrap());
        assert_eq!(
            rates[0].date,
            NaiveDate::from_ymd_opt(2026, 10, 30).unwrap()
        );
    }

    #[test]
    fn reads_both_ecb_csv_shapes() {
        let daily = "Date, USD, JPY, \n30 October 2026, 1.1600, 175.20, \n";
        let hist = "Date,USD,JPY,CYP,\n2026-10-30,1.16,175.2,N/A,\n2026-10-29,1.15,174,N/A,\n";
        assert_eq!(parse(daily).unwrap().len(), 2);
        assert_eq!(parse(hist).unwrap().len(), 4);
    }

    #[test]
    fn malformed_files_say_where() {
        for (text, part) in [
            ("Date,USD\n2026-10-30,abc\n", "line 2: rate `abc`"),
            (
                "Date,USD\nyesterday,1.1\n",
                "line 2: `yesterday` is not a date",
            ),
            ("Day,USD\n", "first column"),
            ("Date,US-D\n2026-10-30,1\n", "`US-D` is not a currency code"),
            (
                "<Cube><Cube time=\"2026-10-30\"><Cube currency=\"USD\"/></Cube></Cube>",
                "line 1",
            ),
            ("<Cube", "malformed ECB rates file"),
            ("Date,USD\n", "no rates"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(part), "{e}");
        }
    }

    #[test]
    fn crosses_through_the_euro() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(cross(d("175.20"), d("1.1600")), d("151.0344827586"));
        assert_eq!(cross(Decimal::ONE, d("1.16")), d("0.8620689655"));
    }
}
