//! Billing entities: one per region, each with its legal details, currency, locale,
//! time zone and invoice-number prefix. Seeded by the migrations.

use serde::Serialize;
use sqlx::PgPool;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entity {
    pub code: String,
    pub legal_name: String,
    pub address: String,
    pub country: String,
    pub tax_id: Option<String>,
    pub currency: String,
    pub default_locale: String,
    pub time_zone: String,
    pub number_prefix: String,
    pub email: String,
    pub state: Option<String>,
    pub phone: Option<String>,
    pub representative: Option<String>,
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<Entity>> {
    sqlx::query_as("SELECT * FROM billing_entities ORDER BY code")
        .fetch_all(pool)
        .await
}

pub async fn get(pool: &PgPool, code: &str) -> sqlx::Result<Option<Entity>> {
    sqlx::query_as("SELECT * FROM billing_entities WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await
}
