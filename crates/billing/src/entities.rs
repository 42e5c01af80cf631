//! Billing entities: one per region, each with its legal details, currency, locale,
//! time zone, invoice-number prefix and payment details. Seeded by the migrations;
//! operators set the legal and payment details with `meridian entities update`.

use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};

use crate::tax_ids::{self, TaxIdScheme};
use crate::{BillingError, Naming, india};

/// An entity as stored, and as snapshotted onto the invoices it issues (so the fields
/// added later default when an older snapshot is read).
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
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
    /// The bank paid into, the account (an IBAN where there is one) and its BIC.
    pub bank_name: Option<String>,
    pub bank_account: Option<String>,
    pub bank_bic: Option<String>,
    /// Days from the issue date to the due date.
    #[serde(default = "default_payment_terms")]
    pub payment_terms_days: i32,
}

fn default_payment_terms() -> i32 {
    30
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<Entity>> {
    sqlx::query_as("SELECT * FROM billing_entities ORDER BY code")
        .fetch_all(pool)
        .await
}

pub async fn get<'c>(db: impl PgExecutor<'c>, code: &str) -> sqlx::Result<Option<Entity>> {
    sqlx::query_as("SELECT * FROM billing_entities WHERE code = $1")
        .bind(code)
        .fetch_optional(db)
        .await
}

/// The entity `code` (any case), or `BillingError::UnknownEntity`.
pub async fn require<'c>(db: impl PgExecutor<'c>, code: &str) -> Result<Entity, BillingError> {
    get(db, &code.trim().to_ascii_uppercase())
        .await?
        .ok_or_else(|| BillingError::UnknownEntity(code.to_string()))
}

/// New legal details; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct EntityUpdate {
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub state: Option<String>,
    pub phone: Option<String>,
    pub representative: Option<String>,
    pub bank_name: Option<String>,
    pub bank_account: Option<String>,
    pub bank_bic: Option<String>,
    pub payment_terms_days: Option<i32>,
}

/// Validates and stores `update`; every problem is reported at once and nothing is
/// written unless all is well. Issued invoices keep the details they were issued with.
pub async fn update(
    pool: &PgPool,
    code: &str,
    update: EntityUpdate,
    naming: Naming,
) -> Result<Entity, BillingError> {
    let mut e = require(pool, code).await?;
    let mut problems = Vec::new();
    let n = |member: &str| naming.of(member);
    let text = |member: &str, v: Option<String>, problems: &mut Vec<String>| {
        v.map(|v| v.trim().to_string()).filter(|v| {
            let ok = !v.is_empty();
            if !ok {
                problems.push(format!("{} must not be empty", n(member)));
            }
            ok
        })
    };
    if let Some(v) = text("legal_name", update.legal_name, &mut problems) {
        e.legal_name = v;
    }
    if let Some(v) = text("address", update.address, &mut problems) {
        e.address = v.replace("\\n", "\n");
    }
    if let Some(v) = text("email", update.email, &mut problems) {
        if crate::customers::is_email(&v) {
            e.email = v;
        } else {
            problems.push(format!("{} `{v}` is not an e-mail address", n("email")));
        }
    }
    if let Some(v) = text("phone", update.phone, &mut problems) {
        e.phone = Some(v);
    }
    if let Some(v) = text("representative", update.representative, &mut problems) {
        e.representative = Some(v);
    }
    if let Some(v) = text("bank_name", update.bank_name, &mut problems) {
        e.bank_name = Some(v);
    }
    if let Some(v) = text("bank_account", update.bank_account, &mut problems) {
        e.bank_account = Some(v);
    }
    if let Some(v) = text("bank_bic", update.bank_bic, &mut problems) {
        e.bank_bic = Some(v.to_ascii_uppercase());
    }
    match update.payment_terms_days {
        Some(days) if !(0..=365).contains(&days) => problems.push(format!(
            "{} {days} must be 0 to 365 days",
            n("payment_terms_days")
        )),
        Some(days) => e.payment_terms_days = days,
        None => {}
    }
    if let Some(v) = text("state", update.state, &mut problems) {
        e.state = Some(v.to_ascii_uppercase());
    }
    if let Some(v) = text("tax_id", update.tax_id, &mut problems) {
        match TaxIdScheme::for_country(&e.country).map(|s| tax_ids::validate(s, &v)) {
            Some(Ok(id)) => e.tax_id = Some(id.value),
            Some(Err(why)) => problems.push(format!("{} {why}", n("tax_id"))),
            None => e.tax_id = Some(v),
        }
    }
    if e.country == "IN" {
        match e.state.as_deref().map(|s| (s, india::state_by_iso(s))) {
            Some((_, Some(state))) => {
                if e.tax_id
                    .as_deref()
                    .and_then(|t| t.get(..2))
                    .is_some_and(|c| c != state.gst_code)
                {
                    problems.push(format!(
                        "{} {} ({}, code {}) does not match the GSTIN's State code {}",
                        n("state"),
                        e.state.as_deref().unwrap_or_default(),
                        state.name,
                        state.gst_code,
                        e.tax_id
                            .as_deref()
                            .and_then(|t| t.get(..2))
                            .unwrap_or_default()
                    ));
                }
            }
            Some((s, None)) => problems.push(format!(
                "{} `{s}` is not an Indian State like IN-KA",
                n("state")
            )),
            None => problems.push(format!("an Indian entity needs {}", n("state"))),
        }
    }
    if !problems.is_empty() {
        return Err(BillingError::Invalid(problems.join("; ")));
    }
    Ok(sqlx::query_as(
        "UPDATE billing_entities SET legal_name = $2, address = $3, tax_id = $4, email = $5, state = $6,
             phone = $7, representative = $8, bank_name = $9, bank_account = $10, bank_bic = $11,
             payment_terms_days = $12
         WHERE code = $1 RETURNING *",
    )
    .bind(&e.code)
    .bind(&e.legal_name)
    .bind(&e.address)
    .bind(&e.tax_id)
    .bind(&e.email)
    .bind(&e.state)
    .bind(&e.phone)
    .bind(&e.representative)
    .bind(&e.bank_name)
    .bind(&e.bank_account)
    .bind(&e.bank_bic)
    .bind(e.payment_terms_days)
    .fetch_one(pool)
    .await?)
}
