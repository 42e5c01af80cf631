//! Billing periods: calendar months that open and close at midnight in the billing
//! entity's time zone, and the fiscal years invoice numbers restart in.

use std::fmt;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::BillingError;

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    first_day: NaiveDate,
}

impl Period {
    pub fn parse(text: &str) -> Result<Period, BillingError> {
        let bad =
            || BillingError::Invalid(format!("--period `{text}` is not a month like 2026-10"));
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let (y, m) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        NaiveDate::from_ymd_opt(y, m, 1)
            .map(|first_day| Period { first_day })
            .ok_or_else(bad)
    }

    pub fn from_first_day(first_day: NaiveDate) -> Period {
        Period {
            first_day: first_day.with_day(1).unwrap_or(first_day),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    fn next_first_day(self) -> NaiveDate {
        self.first_day
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next_first_day().pred_opt().unwrap_or(self.first_day)
    }

    /// `[start, end)` in UTC: midnight of the first day to midnight of the next
    /// month's first day, in `tz`.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            midnight(self.first_day, tz),
            midnight(self.next_first_day(), tz),
        )
    }

    /// Whether the month is over in `tz` at `now`.
    pub fn has_ended(self, tz: Tz, now: DateTime<Utc>) -> bool {
        now >= self.bounds(tz).1
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first_day.format("%Y-%m"))
    }
}

/// The first instant of `day` in `tz` (the later one when midnight is skipped).
fn midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            let later = naive + chrono::TimeDelta::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map_or_else(|| later.and_utc(), |t| t.with_timezone(&Utc))
        }
    }
}

/// The entity's time zone (an IANA name such as `Asia/Kolkata`).
pub fn time_zone(name: &str) -> Result<Tz, BillingError> {
    name.parse()
        .map_err(|_| BillingError::Invalid(format!("`{name}` is not an IANA time zone")))
}

/// The fiscal year a date belongs to, named by the year it starts in: April–March
/// in India, the calendar year elsewhere.
pub fn fiscal_year(country: &str, date: NaiveDate) -> i32 {
    if country == "IN" && date.month() < 4 {
        date.year() - 1
    } else {
        date.year()
    }
}

/// Today's date in `tz`.
pub fn local_date(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn periods_close_at_local_midnight() {
        let p = Period::parse("2026-10").unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            p.bounds(tokyo),
            (utc("2026-09-30T15:00:00Z"), utc("2026-10-31T15:00:00Z"))
        );
        assert!(p.has_ended(tokyo, utc("2026-10-31T15:00:00Z")));
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert!(!p.has_ended(la, utc("2026-10-31T15:00:00Z")));
        assert!(p.has_ended(la, utc("2026-11-01T07:00:00Z")));
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(p.bounds(kolkata).1, utc("2026-10-31T18:30:00Z"));
        assert_eq!(p.last_day(), NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
    }

    #[test]
    fn bad_periods_are_named() {
        for bad in ["2026-13", "2026-1", "26-10", "october", "2026-00"] {
            let e = Period::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn india_counts_years_from_april() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(fiscal_year("IN", d("2027-03-31")), 2026);
        assert_eq!(fiscal_year("IN", d("2027-04-01")), 2027);
        assert_eq!(fiscal_year("JP", d("2027-03-31")), 2027);
    }
}
