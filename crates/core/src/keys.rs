//! The seam between what holds the API keys (the key store, in memory) and what
//! authenticates with them (the gateway and the dashboard API): a lookup by the bearer
//! secret, and what a key is, as typed values: its role, expiry, limits and budget.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CustomerId, KeyId};

/// What a key may do. `admin` manages the customer's keys and budgets; `inference`
/// calls `/v1/*` and reads `/api/v1/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Admin,
    Inference,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Inference => "inference",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyRole {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(KeyRole::Admin),
            "inference" => Ok(KeyRole::Inference),
            _ => Err(UnknownValue),
        }
    }
}

/// A text that is none of an enum's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownValue;

/// A key's own limits on `/v1/*` (`None`: no limit of that kind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyLimits {
    /// Requests in any sliding 60-second window.
    pub rpm: Option<u32>,
    /// Tokens (prompt + completion) in any sliding 60-second window.
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    pub max_concurrency: Option<u32>,
}

/// The span a spend budget covers, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    Day,
    Month,
}

impl BudgetPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "day",
            BudgetPeriod::Month => "month",
        }
    }

    /// When the period holding `now` began (UTC midnight, or the 1st of the month).
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        use chrono::Datelike;
        let day = now.date_naive();
        let first = match self {
            BudgetPeriod::Day => day,
            BudgetPeriod::Month => day.with_day(1).unwrap_or(day),
        };
        first.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// When the period after the one holding `now` begins.
    pub fn next_start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let start = self.start(now);
        let next = match self {
            BudgetPeriod::Day => start.checked_add_days(chrono::Days::new(1)),
            BudgetPeriod::Month => start.checked_add_months(chrono::Months::new(1)),
        };
        next.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The period's adjective, for messages (`daily`, `monthly`).
    pub fn adjective(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "daily",
            BudgetPeriod::Month => "monthly",
        }
    }
}

impl FromStr for BudgetPeriod {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(BudgetPeriod::Day),
            "month" => Ok(BudgetPeriod::Month),
            _ => Err(UnknownValue),
        }
    }
}

/// A spend budget in the customer's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBudget {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub period: BudgetPeriod,
}

/// What a key is, as a request needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub id: KeyId,
    pub customer_id: CustomerId,
    pub role: KeyRole,
    pub revoked: bool,
    /// The customer's residency value (`None`: any region) and home region (`None`:
    /// the default the config gives), for routing.
    pub residency: Option<Arc<str>>,
    pub home_region: Option<Arc<str>>,
    /// After this instant the secret is refused; for a rotated key's previous secret,
    /// the end of its grace period (or the key's own expiry, if sooner).
    pub expires_at: Option<DateTime<Utc>>,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudget>,
}

/// Whether a key may be used now, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Live,
    Revoked,
    Expired,
}

impl KeyEntry {
    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        if self.revoked {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Live
        }
    }
}

pub trait KeyLookup: Send + Sync + 'static {
    /// The key whose secret is `secret`, revoked and expired ones included (the caller
    /// says why it refuses).
    fn lookup(&self, secret: &str) -> Option<KeyEntry>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(revoked: bool, expires_at: Option<&str>) -> KeyEntry {
        KeyEntry {
            id: KeyId::new(),
            customer_id: CustomerId::new(),
            role: KeyRole::Inference,
            revoked,
            expires_at: expires_at.map(|t| t.parse().unwrap()),
            limits: KeyLimits::default(),
            budget: None,
            residency: None,
            home_region: None,
        }
    }

    #[test]
    fn a_key_is_refused_from_its_expiry_on() {
        let now: DateTime<Utc> = "2026-12-07T12:00:00Z".parse().unwrap();
        assert_eq!(entry(false, None).status(now), KeyStatus::Live);
        assert_eq!(
            entry(false, Some("2026-12-07T12:00:01Z")).status(now),
            KeyStatus::Live
        );
        assert_eq!(
            entry(false, Some("2026-12-07T12:00:00Z")).status(now),
            KeyStatus::Expired
        );
        assert_eq!(
            entry(true, Some("2026-12-07T11:00:00Z")).status(now),
            KeyStatus::Revoked
        );
    }

    #[test]
    fn budget_periods_start_at_utc_midnight_and_the_first_of_the_month() {
        let now: DateTime<Utc> = "2026-12-07T12:34:56Z".parse().unwrap();
        assert_eq!(
            BudgetPeriod::Day.start(now).to_rfc3339(),
            "2026-12-07T00:00:00+00:00"
        );
        assert_eq!(
            BudgetPeriod::Month.start(now).to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            BudgetPeriod::Day.next_start(now).to_rfc3339(),
            "2026-12-08T00:00:00+00:00"
        );
        assert_eq!(
            BudgetPeriod::Month.next_start(now).to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
    }
}
