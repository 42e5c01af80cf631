//! Customers: who is billed, by which entity, in which currency and language.

use meridian_core::CustomerId;
use serde::Serialize;
use sqlx::PgPool;

use crate::{BillingError, entities};

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
    pub residency: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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
    pub residency: Option<String>,
}

/// Checks the fields that need no database; every problem at once.
fn validate(c: &NewCustomer) -> Result<(), BillingError> {
    let mut problems = Vec::new();
    if c.name.trim().is_empty() {
        problems.push("--name must not be empty".to_string());
    }
    if !(c.currency.len() == 3 && c.currency.chars().all(|ch| ch.is_ascii_uppercase())) {
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
    let at = c.email.find('@');
    if !at.is_some_and(|i| i > 0 && i + 1 < c.email.len()) {
        problems.push(format!("--email `{}` is not an e-mail address", c.email));
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

pub async fn create(pool: &PgPool, c: &NewCustomer) -> Result<Customer, BillingError> {
    validate(c)?;
    let entity = c.entity.to_ascii_uppercase();
    if entities::get(pool, &entity).await?.is_none() {
        return Err(BillingError::UnknownEntity(c.entity.clone()));
    }
    let customer = sqlx::query_as(
        "INSERT INTO customers (id, name, entity_code, currency, locale, email, tax_id, country, state, address, residency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
    )
    .bind(CustomerId::new())
    .bind(c.name.trim())
    .bind(&entity)
    .bind(&c.currency)
    .bind(&c.locale)
    .bind(&c.email)
    .bind(&c.tax_id)
    .bind(&c.country)
    .bind(&c.state)
    .bind(&c.address)
    .bind(&c.residency)
    .fetch_one(pool)
    .await?;
    Ok(customer)
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
