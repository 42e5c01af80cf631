//! `GET /api/v1/spend`: what the customer has spent in the current budget period (the
//! budget's, else the UTC month) and a forecast of the whole period, in the customer's
//! currency at the latest stored ECB rate and in USD, with the customer-wide budget.
//! Any live key of the customer may read it.
//!
//! The forecast extrapolates the hourly average of the trailing 7 days (or of the
//! hours since the customer's first usage in them, when that is later) over the hours
//! left in the period; it is shown rounded to the currency's minor unit, while `spent`
//! is exact.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use meridian_billing::{Currency, customers, fx};
use meridian_core::{BudgetPeriod, KeyBudget};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::usage::{PeriodSpend, period_spend};
use crate::{ApiState, Problem};

/// How far back the forecast's hourly average looks.
const TRAILING: TimeDelta = TimeDelta::days(7);

#[derive(Debug, Serialize)]
pub struct Spend {
    pub period: BudgetPeriod,
    /// When the period began and when it ends (exclusive), UTC.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: &'static str,
    /// In `currency`; `null` when no ECB rate of it is stored.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub spent: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub forecast: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub spent_usd: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub forecast_usd: Decimal,
    /// Units of `currency` per USD, and the ECB date it is of.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub fx_rate: Option<Decimal>,
    pub fx_date: Option<NaiveDate>,
    pub budget: Option<SpendBudget>,
}

#[derive(Debug, Serialize)]
pub struct SpendBudget {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub period: BudgetPeriod,
    pub alerts: Vec<i32>,
    /// What is left of it (never below 0); `null` without a rate.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub remaining: Option<Decimal>,
}

pub async fn get(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Json<Spend>, Problem> {
    let customer = state.customer(&headers)?;
    let terms = customers::spending_terms_of(&state.pool, customer)
        .await?
        .ok_or_else(|| Problem::not_found("The customer of this key no longer exists."))?;
    let currency = Currency::parse(&terms.currency)?;
    let now = Utc::now();
    let period = terms.budget.map_or(BudgetPeriod::Month, |b| b.period);
    let (from, to) = (period.start(now), period.next_start(now));
    let usage = period_spend(&state.pool, customer, from, now - TRAILING).await?;
    let forecast_usd = forecast(&usage, now, to);
    let rate = fx::usd_rate(&state.pool, currency, now.date_naive())
        .await
        .ok();
    let in_currency = |usd: Decimal| rate.map(|r| (usd * r.rate).normalize());
    let spent = in_currency(usage.spent);
    Ok(Json(Spend {
        period,
        from,
        to,
        currency: currency.code(),
        spent,
        forecast: in_currency(forecast_usd).map(|f| {
            let mut rounded = currency.round(f);
            rounded.rescale(currency.minor_units());
            rounded
        }),
        spent_usd: usage.spent.normalize(),
        forecast_usd: forecast_usd.round_dp(6).normalize(),
        fx_rate: rate.map(|r| r.rate),
        fx_date: rate.and_then(|r| r.date),
        budget: terms
            .budget
            .map(|KeyBudget { amount, period }| SpendBudget {
                amount,
                period,
                alerts: terms.alerts,
                remaining: spent.map(|s| (amount - s).max(Decimal::ZERO).normalize()),
            }),
    }))
}

/// The period's spend at its end if the trailing hourly average holds, USD.
fn forecast(usage: &PeriodSpend, now: DateTime<Utc>, end: DateTime<Utc>) -> Decimal {
    let Some(first) = usage.first_hour else {
        return usage.spent;
    };
    // At least an hour observed, so that a first request is not extrapolated alone.
    let observed = (now - first.max(now - TRAILING)).num_seconds().max(3600);
    let left = (end - now).num_seconds().max(0);
    usage.spent + usage.trailing * Decimal::from(left) / Decimal::from(observed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_forecast_extends_the_trailing_hourly_average_over_the_hours_left() {
        let now = at("2026-12-10T00:00:00Z");
        let end = at("2027-01-01T00:00:00Z");
        // 7 days of usage, 168 USD: 1 USD an hour, 528 hours left.
        let week = PeriodSpend {
            spent: Decimal::from(200),
            trailing: Decimal::from(168),
            first_hour: Some(at("2026-11-01T00:00:00Z")),
        };
        assert_eq!(forecast(&week, now, end), Decimal::from(728));
        // A customer since yesterday: the average of its 24 hours.
        let new = PeriodSpend {
            spent: Decimal::from(48),
            trailing: Decimal::from(48),
            first_hour: Some(at("2026-12-09T00:00:00Z")),
        };
        assert_eq!(forecast(&new, now, end), Decimal::from(48 + 2 * 528));
        let none = PeriodSpend {
            spent: Decimal::ZERO,
            trailing: Decimal::ZERO,
            first_hour: None,
        };
        assert_eq!(forecast(&none, now, end), Decimal::ZERO);
    }
}
