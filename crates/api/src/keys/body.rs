//! The JSON bodies of the key and budget routes, read member by member so that every
//! refusal names the member (`limits.rpm`) and says what it takes.

use chrono::{DateTime, TimeDelta, Utc};
use meridian_core::{BudgetPeriod, KeyBudget, KeyLimits, KeyRole};
use meridian_keys::{BudgetPatch, KeyPatch, KeySettings};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::Problem;
use crate::members::Members;

/// The grace of a rotated key's previous secret when the request names none.
pub(crate) const DEFAULT_GRACE_SECONDS: i64 = 3600;
/// The longest grace a rotation may give (7 days).
pub(crate) const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

/// `POST /api/v1/keys`.
#[derive(Debug)]
pub(crate) struct NewKey {
    pub role: KeyRole,
    pub settings: KeySettings,
}

const NAME: &str = "a string of 1 to 200 characters";
const TIME: &str = "an RFC 3339 time like \"2027-01-31T00:00:00Z\", or null";
const COUNT: &str = "a whole number of at least 1, or null for no limit";
const AMOUNT: &str = "a decimal string like \"100.00\" (in the customer's currency)";
const PERIOD: &str = "\"day\" or \"month\"";
const LIMITS_SHAPE: &str = r#"{"rpm": 60, "tpm": 100000, "max_concurrency": 4}"#;
const BUDGET_SHAPE: &str = r#"{"amount": "100.00", "period": "month"}"#;

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn count<T: TryFrom<u64>>(v: &Value) -> Option<T> {
    T::try_from(v.as_u64()?).ok()
}

fn amount(v: &Value) -> Option<Decimal> {
    Decimal::from_str_exact(v.as_str()?).ok()
}

fn period(v: &Value) -> Option<BudgetPeriod> {
    v.as_str()?.parse().ok()
}

/// The members of `limits`, each absent, null or set.
struct LimitsPatch {
    rpm: Option<Option<u32>>,
    tpm: Option<Option<u64>>,
    max_concurrency: Option<Option<u32>>,
}

fn limits(value: Value) -> Result<LimitsPatch, Problem> {
    let mut m = Members::of(value, "limits.", LIMITS_SHAPE)?;
    let patch = LimitsPatch {
        rpm: m.nullable("rpm", COUNT, count)?,
        tpm: m.nullable("tpm", COUNT, count)?,
        max_concurrency: m.nullable("max_concurrency", COUNT, count)?,
    };
    m.finish("`limits` takes `rpm`, `tpm` and `max_concurrency`")?;
    Ok(patch)
}

fn budget(value: Value) -> Result<BudgetPatch, Problem> {
    let mut m = Members::of(value, "budget.", BUDGET_SHAPE)?;
    let (amount, period) = (
        m.nullable("amount", AMOUNT, amount)?,
        m.nullable("period", PERIOD, period)?,
    );
    if amount == Some(None) || period == Some(None) {
        return Err(Problem::bad_request(
            "`budget.amount` and `budget.period` cannot be null: set `budget` to null to remove the budget.",
        ));
    }
    m.finish("`budget` takes `amount` and `period`")?;
    Ok(BudgetPatch {
        amount: amount.flatten(),
        period: period.flatten(),
    })
}

const CREATE_SHAPE: &str = r#"{"name": "ci", "role": "inference"}"#;
const CREATE_TAKES: &str = "a key takes `name`, `role`, `expires_at`, `limits` and `budget`";

/// `{"name", "role", "expires_at"?, "limits"?, "budget"?}`.
pub(crate) fn new_key(bytes: &[u8]) -> Result<NewKey, Problem> {
    let mut m = Members::body(bytes, CREATE_SHAPE)?;
    let name = match m.take("name") {
        Some(v) => text(&v).ok_or_else(|| m.wrong("name", NAME))?,
        None => return Err(Problem::bad_request(format!("`name` is required: {NAME}."))),
    };
    let role = match m.take("role") {
        Some(v) => v
            .as_str()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| m.wrong("role", "\"admin\" or \"inference\""))?,
        None => {
            return Err(Problem::bad_request(
                "`role` is required: \"admin\" or \"inference\".",
            ));
        }
    };
    let expires_at = m.nullable("expires_at", TIME, time)?.flatten();
    let limits = match m.take("limits") {
        None | Some(Value::Null) => KeyLimits::default(),
        Some(v) => {
            let l = limits(v)?;
            KeyLimits {
                rpm: l.rpm.flatten(),
                tpm: l.tpm.flatten(),
                max_concurrency: l.max_concurrency.flatten(),
            }
        }
    };
    let budget = match m.take("budget") {
        None | Some(Value::Null) => None,
        Some(v) => match budget(v)? {
            BudgetPatch {
                amount: Some(amount),
                period: Some(period),
            } => Some(KeyBudget { amount, period }),
            _ => {
                return Err(Problem::bad_request(
                    "A budget needs both `budget.amount` and `budget.period`.",
                ));
            }
        },
    };
    m.finish(CREATE_TAKES)?;
    Ok(NewKey {
        role,
        settings: KeySettings {
            name: Some(name),
            expires_at,
            limits,
            budget,
        },
    })
}

/// A JSON merge patch (RFC 7396) of `name`, `expires_at`, `limits` and `budget`.
pub(crate) fn patch(bytes: &[u8]) -> Result<KeyPatch, Problem> {
    let mut m = Members::body(bytes, r#"{"limits": {"rpm": 120}}"#)?;
    if m.take("role").is_some() {
        return Err(Problem::bad_request(
            "`role` cannot change: create a new key with the other role.",
        ));
    }
    let name = match m.take("name") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(text(&v).ok_or_else(|| m.wrong("name", NAME))?)),
    };
    let expires_at = m.nullable("expires_at", TIME, time)?;
    let (rpm, tpm, max_concurrency) = match m.take("limits") {
        None => (None, None, None),
        // Null clears every limit, as merging null into the object would.
        Some(Value::Null) => (Some(None), Some(None), Some(None)),
        Some(v) => {
            let l = limits(v)?;
            (l.rpm, l.tpm, l.max_concurrency)
        }
    };
    let budget = match m.take("budget") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(budget(v)?)),
    };
    m.finish("a key's `name`, `expires_at`, `limits` and `budget` can change")?;
    Ok(KeyPatch {
        name,
        expires_at,
        rpm,
        tpm,
        max_concurrency,
        budget,
    })
}

/// The members `limits` and `budget` of a customer's merge patch (`PATCH
/// /admin/v1/customers/{id}`), as a key patch that leaves name and expiry alone; the
/// other members are the caller's to take.
pub(crate) fn spending(m: &mut Members) -> Result<KeyPatch, Problem> {
    let mut patch = KeyPatch::default();
    match m.take("limits") {
        None => {}
        Some(Value::Null) => {
            (patch.rpm, patch.tpm, patch.max_concurrency) = (Some(None), Some(None), Some(None))
        }
        Some(v) => {
            let l = limits(v)?;
            (patch.rpm, patch.tpm, patch.max_concurrency) = (l.rpm, l.tpm, l.max_concurrency);
        }
    }
    patch.budget = match m.take("budget") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(budget(v)?)),
    };
    Ok(patch)
}

/// The percentages of a budget at which its customer is alerted, by default.
pub(crate) const DEFAULT_ALERTS: [i32; 3] = [50, 80, 100];
const ALERTS: &str = "a list of whole percentages from 1 to 100, like [50, 80, 100]";
const BUDGET_PUT_SHAPE: &str =
    r#"{"amount": "100.00", "period": "month", "alerts": [50, 80, 100]}"#;

/// `PUT /api/v1/budget` `{"amount", "period", "alerts"?}`: the budget and its alert
/// thresholds (sorted, each once; by default 50, 80 and 100 %).
pub(crate) fn budget_put(bytes: &[u8]) -> Result<(KeyBudget, Vec<i32>), Problem> {
    let mut m = Members::body(bytes, BUDGET_PUT_SHAPE)?;
    let amount = m.nullable("amount", AMOUNT, amount)?.flatten();
    let period = m.nullable("period", PERIOD, period)?.flatten();
    let alerts = m
        .nullable("alerts", ALERTS, |v| {
            let mut alerts: Vec<i32> = v
                .as_array()?
                .iter()
                .map(|p| count::<i32>(p).filter(|p| (1..=100).contains(p)))
                .collect::<Option<_>>()?;
            alerts.sort_unstable();
            alerts.dedup();
            Some(alerts)
        })?
        .flatten()
        .unwrap_or_else(|| DEFAULT_ALERTS.to_vec());
    m.finish("a budget takes `amount`, `period` and `alerts`")?;
    let (Some(amount), Some(period)) = (amount, period) else {
        return Err(Problem::bad_request(format!(
            "A budget needs `amount` ({AMOUNT}) and `period` ({PERIOD})."
        )));
    };
    Ok((KeyBudget { amount, period }, alerts))
}

/// `{"grace_seconds"?}` (an empty body too): how long the replaced secret stays valid.
pub(crate) fn grace(bytes: &[u8]) -> Result<TimeDelta, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(TimeDelta::seconds(DEFAULT_GRACE_SECONDS));
    }
    let mut m = Members::body(bytes, r#"{"grace_seconds": 3600}"#)?;
    let takes = format!("a whole number of seconds from 0 to {MAX_GRACE_SECONDS}");
    let seconds = m
        .nullable("grace_seconds", &takes, |v| {
            v.as_i64().filter(|s| (0..=MAX_GRACE_SECONDS).contains(s))
        })?
        .flatten()
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    m.finish("a rotation takes `grace_seconds`")?;
    Ok(TimeDelta::seconds(seconds))
}

/// The bodies' schemas in the OpenAPI document. The functions above read the same
/// members one by one (for refusals that name the member), so these types only describe.
pub(crate) mod schema {
    use chrono::{DateTime, Utc};
    use meridian_core::{BudgetPeriod, KeyRole};
    use utoipa::ToSchema;

    /// A key's limits: each a whole number of at least 1, or null for no limit.
    #[derive(ToSchema)]
    #[allow(dead_code)]
    pub struct LimitsInput {
        #[schema(minimum = 1, maximum = 4294967295_u64)]
        rpm: Option<u32>,
        #[schema(minimum = 1)]
        tpm: Option<u64>,
        #[schema(minimum = 1, maximum = 4294967295_u64)]
        max_concurrency: Option<u32>,
    }

    /// A spend budget in the customer's currency.
    #[derive(ToSchema)]
    #[allow(dead_code)]
    pub struct BudgetInput {
        #[schema(example = "100.00", pattern = r"^-?[0-9]+(\.[0-9]+)?$")]
        amount: String,
        period: BudgetPeriod,
    }

    /// `POST /api/v1/keys`.
    #[derive(ToSchema)]
    #[schema(example = json!({"name": "ci", "role": "inference"}))]
    #[allow(dead_code)]
    pub struct NewKeyRequest {
        #[schema(min_length = 1, max_length = 200)]
        name: String,
        role: KeyRole,
        expires_at: Option<DateTime<Utc>>,
        #[schema(nullable)]
        limits: Option<LimitsInput>,
        #[schema(nullable)]
        budget: Option<BudgetInput>,
    }

    /// `PATCH /api/v1/keys/{id}`: a JSON merge patch; null clears a member.
    #[derive(ToSchema)]
    #[schema(example = json!({"limits": {"rpm": 120}}))]
    #[allow(dead_code)]
    pub struct KeyPatchRequest {
        #[schema(min_length = 1, max_length = 200)]
        name: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        #[schema(nullable)]
        limits: Option<LimitsInput>,
        #[schema(nullable)]
        budget: Option<BudgetInput>,
    }

    /// `PATCH /admin/v1/customers/{id}`: a JSON merge patch; null clears a member.
    #[derive(ToSchema)]
    #[schema(example = json!({"limits": {"rpm": 600}}))]
    #[allow(dead_code)]
    pub struct SpendingPatchRequest {
        #[schema(nullable)]
        limits: Option<LimitsInput>,
        #[schema(nullable)]
        budget: Option<BudgetInput>,
    }

    /// `PUT /api/v1/budget`.
    #[derive(ToSchema)]
    #[allow(dead_code)]
    pub struct BudgetPutRequest {
        #[schema(example = "100.00", pattern = r"^-?[0-9]+(\.[0-9]+)?$")]
        amount: String,
        period: BudgetPeriod,
        /// Whole percentages from 1 to 100 (default 50, 80, 100).
        #[schema(nullable, example = json!([50, 80, 100]))]
        alerts: Option<Vec<u8>>,
    }

    /// `POST /api/v1/keys/{id}/rotate` (an empty body too).
    #[derive(ToSchema)]
    #[allow(dead_code)]
    pub struct RotateRequest {
        /// How long the replaced secret stays valid (default 3600, at most 7 days).
        #[schema(minimum = 0, maximum = 604800)]
        grace_seconds: Option<i64>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<impl std::fmt::Debug, Problem>) -> String {
        result.unwrap_err().detail
    }

    #[test]
    fn a_new_key_is_read_whole() {
        let key = new_key(
            br#"{"name": "ci", "role": "inference", "expires_at": "2030-01-01T00:00:00+01:00",
                 "limits": {"rpm": 60, "tpm": null}, "budget": {"amount": "12.50", "period": "day"}}"#,
        )
        .unwrap();
        assert_eq!(key.role, KeyRole::Inference);
        assert_eq!(
            key.settings.expires_at.unwrap().to_rfc3339(),
            "2029-12-31T23:00:00+00:00"
        );
        assert_eq!(key.settings.limits.rpm, Some(60));
        assert_eq!(key.settings.limits.tpm, None);
        assert_eq!(key.settings.budget.unwrap().amount, Decimal::new(1250, 2));
    }

    #[test]
    fn refusals_name_the_member() {
        assert!(refused(new_key(br#"{"name": "ci"}"#)).contains("`role`"));
        assert!(refused(new_key(br#"{"role": "admin"}"#)).contains("`name`"));
        assert!(refused(new_key(br#"{"name": "ci", "role": "root"}"#)).contains("`role`"));
        assert!(
            refused(new_key(
                br#"{"name": "ci", "role": "admin", "limits": {"rpm": -1}}"#
            ))
            .contains("`limits.rpm`")
        );
        assert!(
            refused(new_key(
                br#"{"name": "ci", "role": "admin", "limits": {"rps": 1}}"#
            ))
            .contains("`limits.rps`")
        );
        assert!(
            refused(new_key(
                br#"{"name": "ci", "role": "admin", "budget": {"amount": 10, "period": "day"}}"#
            ))
            .contains("`budget.amount`")
        );
        assert!(
            refused(new_key(
                br#"{"name": "ci", "role": "admin", "expires_at": "tomorrow"}"#
            ))
            .contains("`expires_at`")
        );
        assert!(refused(new_key(b"{not json")).starts_with("The body must be"));
        assert!(refused(patch(br#"{"role": "admin"}"#)).contains("`role` cannot change"));
        assert!(refused(grace(br#"{"grace_seconds": -1}"#)).contains("`grace_seconds`"));
        assert!(refused(budget_put(br#"{"amount": "5"}"#)).contains("`period`"));
        assert!(
            refused(budget_put(
                br#"{"amount": "5", "period": "day", "alerts": [0]}"#
            ))
            .contains("`alerts`")
        );
    }

    #[test]
    fn a_budget_put_sorts_its_alerts_and_defaults_them() {
        let (budget, alerts) =
            budget_put(br#"{"amount": "5", "period": "day", "alerts": [100, 50, 50]}"#).unwrap();
        assert_eq!(budget.period, BudgetPeriod::Day);
        assert_eq!(alerts, [50, 100]);
        let (_, alerts) = budget_put(br#"{"amount": "5", "period": "day"}"#).unwrap();
        assert_eq!(alerts, DEFAULT_ALERTS);
        let mut m = Members::body(br#"{"limits": null, "budget": {"amount": "9"}}"#, "").unwrap();
        let p = spending(&mut m).unwrap();
        assert_eq!((p.rpm, p.name), (Some(None), None));
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        let p = patch(br#"{"limits": {"rpm": null, "tpm": 5}, "budget": null}"#).unwrap();
        assert_eq!(
            (p.rpm, p.tpm, p.max_concurrency),
            (Some(None), Some(Some(5)), None)
        );
        assert_eq!(p.budget, Some(None));
        assert_eq!(p.name, None);
        assert_eq!(grace(b"").unwrap(), TimeDelta::seconds(3600));
        assert_eq!(
            grace(br#"{"grace_seconds": 1}"#).unwrap(),
            TimeDelta::seconds(1)
        );
    }
}
