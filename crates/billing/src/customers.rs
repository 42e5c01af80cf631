//! Customers: who is billed, by which entity, in which currency and language.

use meridian_core::{BudgetPeriod, CustomerId, KeyBudget, KeyLimits};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};

use meridian_core::config::{ANY_RESIDENCY, Placement};

use crate::entities::Entity;
use crate::money::Currency;
use crate::tax_ids::{self, EU_MEMBER_STATES, TaxIdScheme};
use crate::{BillingError, Naming, entities, india};

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

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
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

/// What a customer's fields are checked against beyond their own form: how the
/// messages name the fields, and the gateway's `[residency]` values when known.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checks<'a> {
    pub naming: Naming,
    /// `Some`: `residency` must be `any` or one of its `[residency]` keys, and
    /// `home_region` one of the regions that residency admits.
    pub placement: Option<&'a Placement>,
}

/// Checks the fields that need no database; every problem at once.
fn validate(c: &NewCustomer, checks: Checks<'_>) -> Result<(), BillingError> {
    let n = checks.naming;
    let mut problems = Vec::new();
    if c.name.trim().is_empty() {
        problems.push(format!("{} must not be empty", n.of("name")));
    }
    if Currency::parse(&c.currency).is_err() {
        problems.push(format!(
            "{} `{}` is not an ISO 4217 code like EUR",
            n.of("currency"),
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
            "{} `{}` is not a BCP 47 tag like de-DE",
            n.of("locale"),
            c.locale
        ));
    }
    if !is_email(&c.email) {
        problems.push(format!(
            "{} `{}` is not an e-mail address",
            n.of("email"),
            c.email
        ));
    }
    for (field, value) in [("residency", &c.residency), ("home_region", &c.home_region)] {
        if let Some(v) = value
            && !is_region_name(v)
        {
            problems.push(format!(
                "{} `{v}` is not a name like eu or eu-west (lower-case letters, digits and -)",
                n.of(field)
            ));
        }
    }
    if let Some(placement) = checks.placement {
        check_placement(c, placement, n, &mut problems);
    }
    if let Some(country) = &c.country
        && !(country.len() == 2 && country.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        problems.push(format!(
            "{} `{country}` is not an ISO 3166-1 code like DE",
            n.of("country")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BillingError::Invalid(problems.join("; ")))
    }
}

/// The residency must be configured (a customer with an unknown one would be served
/// nowhere), and the home region among the regions it admits.
fn check_placement(c: &NewCustomer, placement: &Placement, n: Naming, problems: &mut Vec<String>) {
    let residency = c.residency.as_deref();
    let Some(admitted) = placement.admitted(residency) else {
        let known: Vec<&str> = placement.residency.keys().map(String::as_str).collect();
        problems.push(format!(
            "{} `{}` is not configured: use `any` or a `[residency]` value of the gateway ({})",
            n.of("residency"),
            residency.unwrap_or_default(),
            if known.is_empty() {
                "none configured".to_string()
            } else {
                known.join(", ")
            }
        ));
        return;
    };
    if let Some(home) = c.home_region.as_deref()
        && !admitted.admits(home)
    {
        problems.push(format!(
            "{} `{home}` is not a region residency `{}` admits",
            n.of("home_region"),
            residency.unwrap_or(ANY_RESIDENCY)
        ));
    }
}

/// Checks what depends on the entity: the tax id under the scheme of the customer's
/// country (else the entity's), Korea's required business number, India's place of
/// supply, the EU's Member State. Returns the tax id in its compact form.
fn validate_for_entity(
    c: &NewCustomer,
    entity: &Entity,
    n: Naming,
) -> Result<Option<String>, BillingError> {
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
                problems.push(format!("{} {why}", n.of("tax_id")));
                None
            }
        },
        (Some(raw), None) => Some(raw.to_string()),
    };
    if entity.country == "KR" && c.tax_id.as_deref().is_none_or(|t| t.trim().is_empty()) {
        problems.push(format!(
            "entity KR bills businesses only: {} (the business registration number) is required",
            n.of("tax_id")
        ));
    }
    if entity.country == "IN" {
        match c.state.as_deref() {
            Some(s) if india::state_by_iso(s).is_none() => problems.push(format!(
                "{} `{s}` is not an Indian State like IN-KA",
                n.of("state")
            )),
            None if tax_id.is_none() => problems.push(format!(
                "entity IN needs {} (or a GSTIN) to decide the place of supply",
                n.of("state")
            )),
            _ => {}
        }
    }
    if eu_entity && c.country.is_none() && tax_id.is_none() {
        problems.push(format!(
            "entity EU needs {} (the customer's Member State decides the VAT rate)",
            n.of("country")
        ));
    }
    if problems.is_empty() {
        Ok(tax_id)
    } else {
        Err(BillingError::Invalid(problems.join("; ")))
    }
}

/// `c` validated, in the form it is stored: the tax id compact, the name trimmed,
/// currency and State upper-case, `\n` in the address a line break.
async fn checked(
    conn: &mut PgConnection,
    c: &NewCustomer,
    checks: Checks<'_>,
) -> Result<NewCustomer, BillingError> {
    validate(c, checks)?;
    let entity = entities::require(conn, &c.entity).await?;
    let tax_id = validate_for_entity(c, &entity, checks.naming)?;
    Ok(NewCustomer {
        name: c.name.trim().to_string(),
        entity: entity.code,
        currency: c.currency.trim().to_ascii_uppercase(),
        tax_id,
        state: c.state.as_ref().map(|s| s.trim().to_ascii_uppercase()),
        address: c.address.as_ref().map(|a| a.replace("\\n", "\n")),
        ..c.clone()
    })
}

/// Creates a customer as `meridian customers create` does (messages name its flags).
pub async fn create(pool: &PgPool, c: &NewCustomer) -> Result<Customer, BillingError> {
    create_with(&mut *pool.acquire().await?, c, Checks::default()).await
}

/// Creates a customer, every field checked (every problem reported at once).
pub async fn create_with(
    conn: &mut PgConnection,
    c: &NewCustomer,
    checks: Checks<'_>,
) -> Result<Customer, BillingError> {
    let c = checked(conn, c, checks).await?;
    Ok(store(conn, CustomerId::new(), &c).await?)
}

/// Writes the checked profile `c` of customer `id`: a new row, or the existing one's
/// profile (its entity and limits stay as they are).
async fn store(conn: &mut PgConnection, id: CustomerId, c: &NewCustomer) -> sqlx::Result<Customer> {
    sqlx::query_as(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, tax_id, country, state, address, residency, home_region)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET name = $2, currency = $4, locale = $5, email = $6,
             tax_id = $7, country = $8, state = $9, address = $10, residency = $11, home_region = $12
         RETURNING *",
    )
    .bind(id)
    .bind(&c.name)
    .bind(&c.entity)
    .bind(&c.currency)
    .bind(&c.locale)
    .bind(&c.email)
    .bind(&c.tax_id)
    .bind(&c.country)
    .bind(&c.state)
    .bind(&c.address)
    .bind(&c.residency)
    .bind(&c.home_region)
    .fetch_one(conn)
    .await
}

/// A change to a customer's profile: `None` keeps a field, `Some(None)` clears an
/// optional one. The entity cannot change (its numbering and taxes are the
/// customer's invoices' own); issued invoices keep what they were issued with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub email: Option<String>,
    pub tax_id: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub state: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub residency: Option<Option<String>>,
    pub home_region: Option<Option<String>>,
}

impl CustomerPatch {
    fn apply(self, c: Customer) -> NewCustomer {
        fn set<T>(slot: Option<T>, current: T) -> T {
            slot.unwrap_or(current)
        }
        NewCustomer {
            name: set(self.name, c.name),
            entity: c.entity,
            currency: set(self.currency, c.currency),
            locale: set(self.locale, c.locale),
            email: set(self.email, c.email),
            tax_id: set(self.tax_id, c.tax_id),
            country: set(self.country, c.country),
            state: set(self.state, c.state),
            address: set(self.address, c.address),
            residency: set(self.residency, c.residency),
            home_region: set(self.home_region, c.home_region),
        }
    }
}

/// Applies `patch` to customer `id` in `conn`'s transaction, the result checked as a
/// new customer would be; `None` when there is no such customer. A residency or home
/// region change reaches every running gateway with the customer's keys (the
/// database copies it onto them, and their refresh sees it).
pub async fn update(
    conn: &mut PgConnection,
    id: CustomerId,
    patch: CustomerPatch,
    checks: Checks<'_>,
) -> Result<Option<Customer>, BillingError> {
    let Some(current) =
        sqlx::query_as::<_, Customer>("SELECT * FROM customers WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    if patch == CustomerPatch::default() {
        return Ok(Some(current));
    }
    let c = checked(conn, &patch.apply(current), checks).await?;
    Ok(Some(store(conn, id, &c).await?))
}

/// Customers in id order after `after`, of `entity` when given, at most `limit`.
pub async fn list(
    pool: &PgPool,
    entity: Option<&str>,
    after: Option<CustomerId>,
    limit: u32,
) -> sqlx::Result<Vec<Customer>> {
    sqlx::query_as(
        "SELECT * FROM customers
         WHERE ($1::text IS NULL OR entity_code = $1) AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3",
    )
    .bind(entity)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
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
pub async fn spending_terms_of<'c>(
    db: impl PgExecutor<'c>,
    id: CustomerId,
) -> sqlx::Result<Option<SpendingTerms>> {
    let row: Option<SpendingRow> = sqlx::query_as(concat!(
        "SELECT ",
        spending_columns!(),
        " FROM customers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(SpendingTerms::from))
}

/// The [`SpendingTerms`] of the customers `ids` (those that exist).
pub async fn spending_terms_of_many(
    pool: &PgPool,
    ids: &[CustomerId],
) -> sqlx::Result<Vec<SpendingTerms>> {
    let rows: Vec<SpendingRow> = sqlx::query_as(concat!(
        "SELECT ",
        spending_columns!(),
        " FROM customers WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(SpendingTerms::from).collect())
}

/// Sets a customer's limits and budget (and its alert thresholds, when given), as
/// validated by the caller; `None` when there is no such customer.
pub async fn set_spending<'c>(
    db: impl PgExecutor<'c>,
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
    .fetch_optional(db)
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
        let err = validate(
            &NewCustomer {
                name: " ".into(),
                currency: "euro".into(),
                locale: "de DE".into(),
                email: "x".into(),
                ..Default::default()
            },
            Checks::default(),
        )
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
