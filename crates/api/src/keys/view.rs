//! A key as the REST API shows it: its record, when it was last used, and its budget
//! with what it has spent in the current period, in the customer's currency.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use meridian_billing::{Currency, fx};
use meridian_core::{BudgetPeriod, CustomerId, KeyId, KeyLimits, KeyRole};
use meridian_keys::KeyRecord;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::Problem;
use crate::usage::{self, KeyUsage};

/// A key as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Key)]
pub struct KeyView {
    pub id: KeyId,
    pub name: Option<String>,
    pub role: KeyRole,
    /// The secret's first 8 characters.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The start of the latest hour with usage.
    pub last_used_at: Option<DateTime<Utc>>,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudgetView>,
    /// Until when the secret replaced by the last rotation is still accepted.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
}

/// A key's spend budget and what it has spent in the current period.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KeyBudget)]
pub struct KeyBudgetView {
    /// As set: NUMERIC keeps the scale it was given ("100.00").
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: &'static str,
    pub period: BudgetPeriod,
    /// Spent in the current period, in `currency` (null when no ECB rate is stored).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub spent: Option<Decimal>,
}

/// What the views of one customer's keys need beyond the records.
pub(crate) struct Context {
    currency: Currency,
    /// The customer's currency per USD at the latest stored ECB rate (`None` when
    /// none is stored: `spent` is then null).
    usd_rate: Option<Decimal>,
    usage: HashMap<KeyId, KeyUsage>,
}

impl Context {
    pub async fn load(
        pool: &PgPool,
        customer: CustomerId,
        keys: &[KeyRecord],
        now: DateTime<Utc>,
    ) -> Result<Context, Problem> {
        let record = meridian_billing::customers::get(pool, customer)
            .await?
            .ok_or_else(|| Problem::not_found("No such customer."))?;
        let currency = Currency::parse(&record.currency)?;
        let usd_rate = if keys.iter().any(|k| k.budget.is_some()) {
            fx::usd_rate(pool, currency, now.date_naive())
                .await
                .ok()
                .map(|r| r.rate)
        } else {
            None
        };
        let ids: Vec<KeyId> = keys.iter().map(|k| k.id).collect();
        let usage = usage::by_key(pool, customer, &ids, now).await?;
        Ok(Context {
            currency,
            usd_rate,
            usage,
        })
    }

    /// The key object of `key`, alone.
    pub async fn one(
        pool: &PgPool,
        customer: CustomerId,
        key: &KeyRecord,
    ) -> Result<KeyView, Problem> {
        let context = Context::load(pool, customer, std::slice::from_ref(key), Utc::now()).await?;
        Ok(context.view(key))
    }

    /// The key object of `key`.
    pub fn view(&self, key: &KeyRecord) -> KeyView {
        let usage = self.usage.get(&key.id).copied().unwrap_or_default();
        let budget = key.budget.map(|b| {
            let spent_usd = match b.period {
                BudgetPeriod::Day => usage.today,
                BudgetPeriod::Month => usage.this_month,
            };
            KeyBudgetView {
                amount: b.amount,
                currency: self.currency.code(),
                period: b.period,
                spent: self.usd_rate.map(|rate| (spent_usd * rate).normalize()),
            }
        });
        KeyView {
            id: key.id,
            name: key.name.clone(),
            role: key.role,
            prefix: key.prefix.clone(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: usage.last_hour,
            limits: key.limits,
            budget,
            previous_key_expires_at: key.previous_key_expires_at,
        }
    }
}
