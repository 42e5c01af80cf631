//! The `api_keys` table, its one owner. A key belongs to one customer; every change
//! is scoped to the customer asking (another customer's key is as if it did not
//! exist) or, for the operator's CLI, to any customer.
//!
//! Rotation replaces the secret and keeps the previous one's hash valid until a grace
//! period ends; rotating again within it ends the older secret at once (a key has at
//! most two secrets). Revocation is kept as `revoked_at`, and the row stays listed.

use chrono::{DateTime, Utc};
use meridian_core::{BudgetPeriod, CustomerId, KeyBudget, KeyId, KeyLimits, KeyRole, Secret};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::secret::{self, KeyHash, hash_key};

/// Whose keys a call may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this customer's.
    Customer(CustomerId),
    /// Any customer's (the operator's CLI).
    Operator,
}

impl Scope {
    fn customer(self) -> Option<CustomerId> {
        match self {
            Scope::Customer(c) => Some(c),
            Scope::Operator => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("key {0} is revoked and can no longer change")]
    Revoked(KeyId),
    /// Settings that cannot be stored; the message names the field as the REST API
    /// spells it.
    #[error("{0}")]
    Invalid(String),
}

/// What a key's owner may set: all but its role, which is fixed at creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySettings {
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudget>,
}

/// Longest key name, in characters.
const MAX_NAME_CHARS: usize = 200;

impl KeySettings {
    /// Refuses what cannot be stored: a name too long or with control characters, an
    /// expiry not in the future (`now`), a zero limit, a budget not above zero.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), KeyError> {
        let invalid = |m: &str| Err(KeyError::Invalid(m.to_string()));
        if let Some(name) = &self.name {
            if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return invalid("`name` must hold 1 to 200 characters.");
            }
            if name.chars().any(char::is_control) {
                return invalid("`name` must not contain control characters.");
            }
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return invalid("`expires_at` must be in the future.");
        }
        let KeyLimits {
            rpm,
            tpm,
            max_concurrency,
        } = self.limits;
        for (name, value, max) in [
            ("rpm", rpm.map(u64::from), i32::MAX as u64),
            ("tpm", tpm, i64::MAX as u64),
            (
                "max_concurrency",
                max_concurrency.map(u64::from),
                i32::MAX as u64,
            ),
        ] {
            match value {
                Some(0) => {
                    return Err(KeyError::Invalid(format!(
                        "`limits.{name}` must be at least 1 (null for no limit)."
                    )));
                }
                Some(v) if v > max => {
                    return Err(KeyError::Invalid(format!(
                        "`limits.{name}` must be at most {max}."
                    )));
                }
                _ => {}
            }
        }
        if self.budget.is_some_and(|b| b.amount <= Decimal::ZERO) {
            return invalid("`budget.amount` must be above zero.");
        }
        Ok(())
    }
}

/// A JSON merge patch of a key's settings (RFC 7396): `None` keeps a field,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPatch {
    pub name: Option<Option<String>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub rpm: Option<Option<u32>>,
    pub tpm: Option<Option<u64>>,
    pub max_concurrency: Option<Option<u32>>,
    pub budget: Option<Option<BudgetPatch>>,
}

/// The members of `budget` a patch sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetPatch {
    pub amount: Option<Decimal>,
    pub period: Option<BudgetPeriod>,
}

impl KeyPatch {
    /// `settings` with this patch applied.
    pub fn apply(&self, mut settings: KeySettings) -> Result<KeySettings, KeyError> {
        fn set<T: Clone>(field: &mut T, change: &Option<T>) {
            if let Some(value) = change {
                *field = value.clone();
            }
        }
        set(&mut settings.name, &self.name);
        set(&mut settings.expires_at, &self.expires_at);
        set(&mut settings.limits.rpm, &self.rpm);
        set(&mut settings.limits.tpm, &self.tpm);
        set(&mut settings.limits.max_concurrency, &self.max_concurrency);
        match self.budget {
            None => {}
            Some(None) => settings.budget = None,
            Some(Some(patch)) => {
                let amount = patch.amount.or(settings.budget.map(|b| b.amount));
                let period = patch.period.or(settings.budget.map(|b| b.period));
                let (Some(amount), Some(period)) = (amount, period) else {
                    return Err(KeyError::Invalid(
                        "A key without a budget needs both `budget.amount` and `budget.period`."
                            .into(),
                    ));
                };
                settings.budget = Some(KeyBudget { amount, period });
            }
        }
        Ok(settings)
    }
}

/// A key as its owner sees it (never its secret or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub id: KeyId,
    pub customer_id: CustomerId,
    pub name: Option<String>,
    pub role: KeyRole,
    /// The secret's first 8 characters.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub limits: KeyLimits,
    pub budget: Option<KeyBudget>,
    /// Until when the secret replaced by the last rotation is still accepted.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    pub fn settings(&self) -> KeySettings {
        KeySettings {
            name: self.name.clone(),
            expires_at: self.expires_at,
            limits: self.limits,
            budget: self.budget,
        }
    }
}

/// A freshly created key. `secret` is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub record: KeyRecord,
    pub secret: Secret,
}

/// A key with a new secret; the previous one is accepted until
/// `record.previous_key_expires_at`.
pub type RotatedKey = CreatedKey;

/// The columns of [`Row`], in one place for every query.
macro_rules! columns {
    () => {
        "id, customer_id, name, role, key_prefix, created_at, expires_at, revoked_at, rpm, tpm,
         max_concurrency, budget_amount, budget_period, previous_key_expires_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: KeyId,
    customer_id: CustomerId,
    name: Option<String>,
    role: String,
    key_prefix: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    rpm: Option<i32>,
    tpm: Option<i64>,
    max_concurrency: Option<i32>,
    budget_amount: Option<Decimal>,
    budget_period: Option<String>,
    previous_key_expires_at: Option<DateTime<Utc>>,
}

fn decode_error(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("api_keys.{column} holds `{value}`").into())
}

impl TryFrom<Row> for KeyRecord {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> sqlx::Result<KeyRecord> {
        let role = r.role.parse().map_err(|_| decode_error("role", &r.role))?;
        let budget = match (r.budget_amount, r.budget_period) {
            (Some(amount), Some(period)) => Some(KeyBudget {
                amount,
                period: period
                    .parse()
                    .map_err(|_| decode_error("budget_period", &period))?,
            }),
            _ => None,
        };
        Ok(KeyRecord {
            id: r.id,
            customer_id: r.customer_id,
            name: r.name,
            role,
            prefix: r.key_prefix,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            limits: KeyLimits {
                rpm: r.rpm.and_then(|v| u32::try_from(v).ok()),
                tpm: r.tpm.and_then(|v| u64::try_from(v).ok()),
                max_concurrency: r.max_concurrency.and_then(|v| u32::try_from(v).ok()),
            },
            budget,
            previous_key_expires_at: r.previous_key_expires_at,
        })
    }
}

fn records(rows: Vec<Row>) -> sqlx::Result<Vec<KeyRecord>> {
    rows.into_iter().map(KeyRecord::try_from).collect()
}

/// The settings as bind parameters: rpm, tpm, max_concurrency, budget amount and period.
type SettingColumns = (
    Option<i32>,
    Option<i64>,
    Option<i32>,
    Option<Decimal>,
    Option<&'static str>,
);

fn setting_columns(s: &KeySettings) -> SettingColumns {
    (
        s.limits.rpm.and_then(|v| i32::try_from(v).ok()),
        s.limits.tpm.and_then(|v| i64::try_from(v).ok()),
        s.limits.max_concurrency.and_then(|v| i32::try_from(v).ok()),
        s.budget.map(|b| b.amount),
        s.budget.map(|b| b.period.as_str()),
    )
}

/// Creates a key for `customer_id`; the secret is returned once. The settings are
/// expected validated ([`KeySettings::validate`]).
pub async fn create(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    role: KeyRole,
    settings: &KeySettings,
) -> sqlx::Result<CreatedKey> {
    let secret = secret::generate();
    let (rpm, tpm, max_concurrency, amount, period) = setting_columns(settings);
    let row: Row = sqlx::query_as(concat!(
        "INSERT INTO api_keys (id, customer_id, name, role, key_hash, key_prefix, expires_at,
             rpm, tpm, max_concurrency, budget_amount, budget_period)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING ",
        columns!()
    ))
    .bind(KeyId::new())
    .bind(customer_id)
    .bind(settings.name.as_deref())
    .bind(role.as_str())
    .bind(hash_key(secret.expose()).as_slice())
    .bind(secret::shown_prefix(&secret))
    .bind(settings.expires_at)
    .bind(rpm)
    .bind(tpm)
    .bind(max_concurrency)
    .bind(amount)
    .bind(period)
    .fetch_one(conn)
    .await?;
    Ok(CreatedKey {
        record: row.try_into()?,
        secret,
    })
}

/// The key `id`, if `scope` may see it.
pub async fn get(pool: &PgPool, scope: Scope, id: KeyId) -> sqlx::Result<Option<KeyRecord>> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM api_keys WHERE id = $1 AND ($2::uuid IS NULL OR customer_id = $2)"
    ))
    .bind(id)
    .bind(scope.customer())
    .fetch_optional(pool)
    .await?;
    row.map(KeyRecord::try_from).transpose()
}

/// Up to `limit` of the customer's keys (revoked ones included) in creation order,
/// from the one after `after`.
pub async fn list(
    pool: &PgPool,
    customer_id: CustomerId,
    after: Option<KeyId>,
    limit: u32,
) -> sqlx::Result<Vec<KeyRecord>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM api_keys WHERE customer_id = $1 AND ($2::uuid IS NULL OR id > $2)
          ORDER BY id LIMIT $3"
    ))
    .bind(customer_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    records(rows)
}

/// Applies `patch` to key `id` (`None` if `scope` has no such key); refuses a revoked
/// key and settings [`KeySettings::validate`] refuses.
pub async fn update(
    pool: &PgPool,
    scope: Scope,
    id: KeyId,
    patch: &KeyPatch,
    now: DateTime<Utc>,
) -> Result<Option<KeyRecord>, KeyError> {
    let mut tx = pool.begin().await?;
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM api_keys WHERE id = $1 AND ($2::uuid IS NULL OR customer_id = $2) FOR UPDATE"
    ))
    .bind(id)
    .bind(scope.customer())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = row.map(KeyRecord::try_from).transpose()? else {
        return Ok(None);
    };
    if current.revoked_at.is_some() {
        return Err(KeyError::Revoked(id));
    }
    let next = patch.apply(current.settings())?;
    // An expiry left as it was may have passed meanwhile; only a new one must be ahead.
    let unchanged_expiry = next.expires_at == current.expires_at;
    KeySettings {
        expires_at: if unchanged_expiry {
            None
        } else {
            next.expires_at
        },
        ..next.clone()
    }
    .validate(now)?;
    let (rpm, tpm, max_concurrency, amount, period) = setting_columns(&next);
    let row: Row = sqlx::query_as(concat!(
        "UPDATE api_keys SET name = $2, expires_at = $3, rpm = $4, tpm = $5, max_concurrency = $6,
             budget_amount = $7, budget_period = $8
         WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(next.name.as_deref())
    .bind(next.expires_at)
    .bind(rpm)
    .bind(tpm)
    .bind(max_concurrency)
    .bind(amount)
    .bind(period)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(row.try_into()?))
}

/// Revokes key `id` (its previous secret too); revoking a revoked key changes nothing.
/// `None` if `scope` has no such key.
pub async fn revoke(
    conn: &mut PgConnection,
    scope: Scope,
    id: KeyId,
) -> sqlx::Result<Option<KeyRecord>> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
         WHERE id = $1 AND ($2::uuid IS NULL OR customer_id = $2) RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(scope.customer())
    .fetch_optional(conn)
    .await?;
    row.map(KeyRecord::try_from).transpose()
}

/// Gives key `id` a new secret; the current one stays valid for `grace` (an older
/// previous secret ends at once). `None` if `scope` has no such key.
pub async fn rotate(
    conn: &mut PgConnection,
    scope: Scope,
    id: KeyId,
    grace: chrono::TimeDelta,
) -> Result<Option<RotatedKey>, KeyError> {
    let secret = secret::generate();
    let row: Option<Row> = sqlx::query_as(concat!(
        "UPDATE api_keys SET previous_key_hash = key_hash,
             previous_key_expires_at = now() + $3 * interval '1 millisecond',
             key_hash = $4, key_prefix = $5
         WHERE id = $1 AND ($2::uuid IS NULL OR customer_id = $2) AND revoked_at IS NULL
         RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(scope.customer())
    .bind(grace.num_milliseconds())
    .bind(hash_key(secret.expose()).as_slice())
    .bind(secret::shown_prefix(&secret))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(CreatedKey {
            record: row.try_into()?,
            secret,
        })),
        None => {
            let exists: Option<bool> = sqlx::query_scalar(
                "SELECT true FROM api_keys WHERE id = $1 AND ($2::uuid IS NULL OR customer_id = $2)",
            )
            .bind(id)
            .bind(scope.customer())
            .fetch_optional(&mut *conn)
            .await?;
            match exists {
                Some(_) => Err(KeyError::Revoked(id)),
                None => Ok(None),
            }
        }
    }
}

/// One key as the in-memory store needs it.
pub(crate) struct StoredKey {
    pub record: KeyRecord,
    pub key_hash: KeyHash,
    pub previous_key_hash: Option<KeyHash>,
    pub updated_at: DateTime<Utc>,
    /// The customer's residency and home region, which the database copies onto
    /// each of its keys' rows (migration `customer_placement`).
    pub residency: Option<String>,
    pub home_region: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    #[sqlx(flatten)]
    row: Row,
    key_hash: Vec<u8>,
    previous_key_hash: Option<Vec<u8>>,
    updated_at: DateTime<Utc>,
    residency: Option<String>,
    home_region: Option<String>,
}

/// The keys changed after `since` (all of them when `None`).
pub(crate) async fn changed_since(
    pool: &PgPool,
    since: Option<DateTime<Utc>>,
) -> sqlx::Result<Vec<StoredKey>> {
    let rows: Vec<StoredRow> = sqlx::query_as(concat!(
        "SELECT key_hash, previous_key_hash, updated_at, residency, home_region, ",
        columns!(),
        " FROM api_keys WHERE $1::timestamptz IS NULL OR updated_at > $1"
    ))
    .bind(since)
    .fetch_all(pool)
    .await?;
    let hash = |bytes: &[u8]| {
        KeyHash::try_from(bytes).map_err(|_| decode_error("key_hash", "a hash of another length"))
    };
    rows.into_iter()
        .map(|r| {
            Ok(StoredKey {
                key_hash: hash(&r.key_hash)?,
                previous_key_hash: r.previous_key_hash.as_deref().map(hash).transpose()?,
                updated_at: r.updated_at,
                residency: r.residency,
                home_region: r.home_region,
                record: r.row.try_into()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(amount: &str, period: BudgetPeriod) -> Option<KeyBudget> {
        Some(KeyBudget {
            amount: amount.parse().unwrap(),
            period,
        })
    }

    #[test]
    fn a_merge_patch_keeps_what_it_omits_and_clears_what_it_nulls() {
        let current = KeySettings {
            name: Some("ci".into()),
            expires_at: None,
            limits: KeyLimits {
                rpm: Some(60),
                tpm: Some(1000),
                max_concurrency: None,
            },
            budget: budget("10", BudgetPeriod::Month),
        };
        let patch = KeyPatch {
            rpm: Some(None),
            max_concurrency: Some(Some(4)),
            budget: Some(Some(BudgetPatch {
                amount: Some("25.50".parse().unwrap()),
                period: None,
            })),
            ..KeyPatch::default()
        };
        let next = patch.apply(current.clone()).unwrap();
        assert_eq!(next.name.as_deref(), Some("ci"));
        assert_eq!(
            next.limits,
            KeyLimits {
                rpm: None,
                tpm: Some(1000),
                max_concurrency: Some(4)
            }
        );
        assert_eq!(next.budget, budget("25.50", BudgetPeriod::Month));
        let cleared = KeyPatch {
            budget: Some(None),
            ..KeyPatch::default()
        }
        .apply(current)
        .unwrap();
        assert_eq!(cleared.budget, None);
    }

    #[test]
    fn a_new_budget_needs_amount_and_period() {
        let patch = KeyPatch {
            budget: Some(Some(BudgetPatch {
                amount: Some(Decimal::TEN),
                period: None,
            })),
            ..KeyPatch::default()
        };
        let err = patch.apply(KeySettings::default()).unwrap_err();
        assert!(err.to_string().contains("budget.period"), "{err}");
    }

    #[test]
    fn settings_that_cannot_be_stored_are_refused_naming_the_field() {
        let now: DateTime<Utc> = "2026-12-07T12:00:00Z".parse().unwrap();
        let refused = |s: KeySettings| s.validate(now).unwrap_err().to_string();
        assert!(
            refused(KeySettings {
                expires_at: Some(now),
                ..Default::default()
            })
            .contains("`expires_at`")
        );
        assert!(
            refused(KeySettings {
                limits: KeyLimits {
                    rpm: Some(0),
                    ..Default::default()
                },
                ..Default::default()
            })
            .contains("`limits.rpm`")
        );
        assert!(
            refused(KeySettings {
                budget: budget("0", BudgetPeriod::Day),
                ..Default::default()
            })
            .contains("`budget.amount`")
        );
        assert!(
            refused(KeySettings {
                name: Some("a\nb".into()),
                ..Default::default()
            })
            .contains("`name`")
        );
        assert!(
            KeySettings {
                expires_at: Some(now + chrono::TimeDelta::seconds(1)),
                ..Default::default()
            }
            .validate(now)
            .is_ok()
        );
    }
}
