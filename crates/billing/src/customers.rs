//! Customers: who is billed, by which entity, in which currency and language.

use meridian_core::{BudgetPeriod, CustomerId, KeyBudget, KeyLimits};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::entities::Entity;
use crate::money::Currency;
use crate::tax_ids::{self, EU_MEMBER_STATES, TaxIdScheme};
use crate::{BillingError, entities, india};

#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub name: String,
    pub entity: String,
    pub currency: String,
    pub locale: String,
    pub email: String,
    pub tax_id: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub address: Option<String>,
    /// A `[residency]` value of the gateway's config, or `any` (`None`: any region).
    pub residency: Option<String>,
    /// The region whose reserved pools serve the customer first (`None`: the
    /// gateway's region when the residency admits it, else the residency's first).
    pub home_region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    #[sqlx(rename = "entity_code")]
    #[serde(rename = "entity")]
    pub entity: String,
    pub currency: String,
    pub locale: String,
    pub email: String,
    pub tax_id: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub address: Option<String>,
    /// A `[residency]` value of the gateway's config, or `any` (`None`: any region).
    pub residency: Option<String>,
    /// The region whose reserved pools serve the customer first (`None`: the
    /// gateway's region when the residency admits it, else the residency's first).
    pub home_region: Option<String>,
}

/// Whether `s` can be a residency value or a region name as the config spells them
/// (`eu`, `eu-west`, `ap-northeast-1`).
fn is_region_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
}

/// Whether `s` looks like an e-mail address (something@something).
pub(crate) fn is_email(s: &str) -> bool {
    s.find('@').is_some_and(|i| i > 0 && i + 1 < s.len())
}

/// Checks the fields that need no database; every problem at once.
fn validate(c: &NewCustomer) -> Result<(), BillingError> {
    let mut problems = Vec::new();
    if c.name.trim().is_empty() {
        problems.push("--name must not be empty".to_string());
    }
    if Currency::parse(&c.currency).is_err() {
        problems.push(format!(
            "--currency `{}` is not an ISO 4217 code like EUR",
            c.currency
        ));
    }
    if c.locale.trim().is_empty()
        || !c
            .locale
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    {
        problems.push(format!(
            "--locale `{}` is not a BCP 47 tag like de-DE",
            c.locale
        ));
    }
    if !is_email(&c.email) {
        problems.push(format!("--email `{}` is not an e-mail address", c.email));
    }
    for (flag, value) in [
        ("--residency", &c.residency),
        ("--home-region", &c.home_region),
    ] {
        if let Some(v) = value
            && !is_region_name(v)
        {
            problems.push(format!(
                "{flag} `{v}` is not a name like eu or eu-west (lower-case letters, digits and -)"
            ));
        }
    }
    if let Some(country) = &c.country
        && !(country.len() == 2 && country.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        problems.push(format!(
            "--country `{country}` is not an ISO 3166-1 code like DE"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BillingError::Invalid(problems.join("; ")))
    }
}

/// Checks what depends on the entity: the tax id under the scheme of the customer's
/// country (else the entity's), Korea's required business number, India's place of
/// supply, the EU's Member State. Returns the tax id in its compact form.
fn validate_for_entity(c: &NewCustomer, entity: &Entity) -> Result<Option<String>, BillingError> {
    let mut problems = Vec::new();
    let country = c.country.as_deref().unwrap_or(&entity.country);
    let eu_entity = EU_MEMBER_STATES.contains(&entity.country.as_str());
    let scheme = match TaxIdScheme::for_country(country) {
        Some(s) => Some(s),
        None if eu_entity => None,
        None => TaxIdScheme::for_country(&entity.country).filter(|_| c.country.is_none()),
    };
    let tax_id = match (c.tax_id.as_deref().map(str::trim), scheme) {
        (None | Some(""), _) => None,
        (Some(raw), Some(scheme)) => match tax_ids::validate(scheme, raw) {
            Ok(id) => Some(id.value),
            Err(why) => {
                problems.push(format!("--tax-id {why}"));
                None
            }
        },
        (Some(raw), None) => Some(raw.to_string()),
    };
    if entity.country == "KR" && c.tax_id.as_deref().is_none_or(|t| t.trim().is_empty()) {
        problems.push("entity KR bills businesses only: --tax-id (the business registration number) is required".into());
    }
    if entity.country == "IN" {
        match c.state.as_deref() {
            Some(s) if india::state_by_iso(s).is_none() => {
                problems.push(format!("--state `{s}` is not an Indian State like IN-KA"))
            }
            None if tax_id.is_none() => problems
                .push("entity IN needs --state (or a GSTIN) to decide the place of supply".into()),
            _ => {}
        }
    }
    if eu_entity && c.country.is_none() && tax_id.is_none() {
        problems.push(
            "entity EU needs --country (the customer's Member State decides the VAT rate)".into(),
        );
    }
    if problems.is_empty() {
        Ok(tax_id)
    } else {
        Err(BillingError::Invalid(problems.join("; ")))
    }
}

pub async fn create(pool: &PgPool, c: &NewCustomer) -> Result<Customer, BillingError> {
    validate(c)?;
    let entity = entities::require(pool, &c.entity).await?;
    let tax_id = validate_for_entity(c, &entity)?;
    let customer = sqlx::query_as(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, tax_id, country, state, address, residency, home_region)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
    )
    .bind(CustomerId::new())
    .bind(c.name.trim())
    .bind(&entity.code)
    .bind(c.currency.trim().to_ascii_uppercase())
    .bind(&c.locale)
    .bind(&c.email)
    .bind(&tax_id)
    .bind(&c.country)
    .bind(c.state.as_ref().map(|s| s.trim().to_ascii_uppercase()))
    .bind(c.address.as_ref().map(|a| a.replace("\\n", "\n")))
    .bind(&c.residency)
    .bind(&c.home_region)
    .fetch_one(pool)
    .await?;
    Ok(customer)
}

/// What the gateway checks a customer's requests against: the currency its budgets
/// are in, its customer-wide limits and spend budget, and the percentages of the
/// budget at which the customer is alerted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendingTerms {
    pub id: CustomerId,
    pub currency: String,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudget>,
    pub alerts: Vec<i32>,
}

type SpendingRow = (
    CustomerId,
    String,
    Option<i32>,
    Option<i64>,
    Option<i32>,
    Option<Decimal>,
    Option<String>,
    Vec<i32>,
);

/// The columns of [`SpendingRow`], in one place for every query.
macro_rules! spending_columns {
    () => {
        "id, currency, rpm, tpm, max_concurrency, budget_amount, budget_period, budget_alerts"
    };
}

impl From<SpendingRow> for SpendingTerms {
    fn from(row: SpendingRow) -> Self {
        let (id, currency, rpm, tpm, max_concurrency, amount, period, alerts) = row;
        let positive = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
        let period = period.and_then(|p| p.parse::<BudgetPeriod>().ok());
        SpendingTerms {
            id,
            currency,
            limits: KeyLimits {
                rpm: positive(rpm),
                tpm: tpm.and_then(|n| u64::try_from(n).ok()),
                max_concurrency: positive(max_concurrency),
            },
            budget: amount
                .zip(period)
                .map(|(amount, period)| KeyBudget { amount, period }),
            alerts,
        }
    }
}

/// Every customer's [`SpendingTerms`].
pub async fn spending_terms(pool: &PgPool) -> sqlx::Result<Vec<SpendingTerms>> {
    let rows: Vec<SpendingRow> =
        sqlx::query_as(concat!("SELECT ", spending_columns!(), " FROM customers"))
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(SpendingTerms::from).collect())
}

/// One customer's [`SpendingTerms`] (`None`: no such customer).
pub async fn spending_terms_of(
    pool: &PgPool,
    id: CustomerId,
) -> sqlx::Result<Option<SpendingTerms>> {
    let row: Option<SpendingRow> = sqlx::query_as(concat!(
        "SELECT ",
        spending_columns!(),
        " FROM customers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(SpendingTerms::from))
}

/// Sets a customer's limits and budget (and its alert thresholds, when given), as
/// validated by the caller; `None` when there is no such customer.
pub async fn set_spending(
    pool: &PgPool,
    id: CustomerId,
    limits: KeyLimits,
    budget: Option<KeyBudget>,
    alerts: Option<&[i32]>,
) -> sqlx::Result<Option<SpendingTerms>> {
    let row: Option<SpendingRow> = sqlx::query_as(concat!(
        "UPDATE customers SET rpm = $2, tpm = $3, max_concurrency = $4, budget_amount = $5,
             budget_period = $6, budget_alerts = coalesce($7, budget_alerts)
         WHERE id = $1 RETURNING ",
        spending_columns!()
    ))
    .bind(id)
    .bind(limits.rpm.and_then(|n| i32::try_from(n).ok()))
    .bind(limits.tpm.and_then(|n| i64::try_from(n).ok()))
    .bind(limits.max_concurrency.and_then(|n| i32::try_from(n).ok()))
    .bind(budget.map(|b| b.amount))
    .bind(budget.map(|b| b.period.as_str()))
    .bind(alerts)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(SpendingTerms::from))
}

pub async fn get(pool: &PgPool, id: CustomerId) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as("SELECT * FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_name(pool: &PgPool, name: &str) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as("SELECT * FROM customers WHERE name = $1 ORDER BY created_at LIMIT 1")
        .bind(name)
        .fetch_optional(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported() {
        let err = validate(&NewCustomer {
            name: " ".into(),
            currency: "euro".into(),
            locale: "de DE".into(),
            email: "x".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        for part in [
            "--name",
            "--currency `euro`",
            "--locale `de DE`",
            "--email `x`",
        ] {
            assert!(err.contains(part), "{err}");
        }
    }
}
