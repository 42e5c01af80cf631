//! `GET /api/v1/usage?from=&to=&group_by=day|model|key|provider|region`: the
//! customer's usage from the hourly rollups, as JSON or, for `Accept: text/csv`, CSV.
//! `from` is inclusive, `to` exclusive, both ISO dates in UTC.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiState, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
enum GroupBy {
    Day,
    Model,
    Key,
    Provider,
    Region,
}

impl GroupBy {
    /// The rollup column grouped by, and the name of its field in the answer.
    fn column(self) -> (&'static str, &'static str) {
        match self {
            GroupBy::Day => ("to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "day"),
            GroupBy::Model => ("model", "model"),
            GroupBy::Key => ("key_id::text", "key"),
            GroupBy::Provider => ("provider", "provider"),
            GroupBy::Region => ("region", "region"),
        }
    }
}

/// Counts and cost of a group, or of all of them.
#[derive(Debug, Default, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = UsageCounters)]
struct Counters {
    requests: i64,
    errors: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    #[serde(with = "rust_decimal::serde::str")]
    cost: Decimal,
}

#[derive(sqlx::FromRow)]
struct Row {
    group_value: Option<String>,
    #[sqlx(flatten)]
    counters: Counters,
}

/// The usage of a range, grouped (amounts in USD).
#[derive(Serialize, ToSchema)]
struct UsageReport {
    from: NaiveDate,
    /// Exclusive.
    to: NaiveDate,
    #[schema(example = "USD")]
    currency: &'static str,
    group_by: GroupBy,
    items: Vec<UsageItem>,
    total: Counters,
}

/// One group: its value under the name of `group_by` (`"day": "2026-11-01"`), and
/// its counters.
#[derive(Serialize, ToSchema)]
struct UsageItem {
    #[serde(flatten)]
    group: Group,
    #[serde(flatten)]
    counters: Counters,
}

/// The value of a group, named for what is grouped by (null: not recorded).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Group {
    Day(String),
    Model(Option<String>),
    Key(Option<String>),
    Provider(Option<String>),
    Region(Option<String>),
}

impl GroupBy {
    fn group(self, value: Option<String>) -> Group {
        match self {
            GroupBy::Day => Group::Day(value.unwrap_or_default()),
            GroupBy::Model => Group::Model(value),
            GroupBy::Key => Group::Key(value),
            GroupBy::Provider => Group::Provider(value),
            GroupBy::Region => Group::Region(value),
        }
    }
}

impl Serialize for GroupBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.column().1)
    }
}

/// The query of `GET /api/v1/usage`, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct UsageParams {
    /// First day, inclusive (default: 30 days before `to`).
    from: Option<NaiveDate>,
    /// Last day, exclusive (default: tomorrow, UTC).
    to: Option<NaiveDate>,
    /// What each item is (default `day`).
    group_by: Option<GroupBy>,
}

struct UsageQuery {
    from: NaiveDate,
    to: NaiveDate,
    group_by: GroupBy,
}

fn parse_query(raw: Option<&str>) -> Result<UsageQuery, Problem> {
    let pairs: Vec<(String, String)> = Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{}", raw.unwrap_or_default())
            .parse()
            .map_err(|_| Problem::bad_request("The query string is malformed."))?,
    )
    .map_err(|_| Problem::bad_request("The query string is malformed."))?
    .0;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let date = |name: &str, default: NaiveDate| -> Result<NaiveDate, Problem> {
        match get(name) {
            None | Some("") => Ok(default),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                Problem::bad_request(format!("`{name}` must be an ISO date like 2026-11-01."))
            }),
        }
    };
    let today = Utc::now().date_naive();
    let to = date("to", today + TimeDelta::days(1))?;
    let from = date("from", to - TimeDelta::days(30))?;
    if from >= to {
        return Err(Problem::bad_request(
            "`from` must be before `to` (`to` is exclusive).",
        ));
    }
    let group_by = match get("group_by").unwrap_or("day") {
        "day" => GroupBy::Day,
        "model" => GroupBy::Model,
        "key" => GroupBy::Key,
        "provider" => GroupBy::Provider,
        "region" => GroupBy::Region,
        _ => {
            return Err(Problem::bad_request(
                "`group_by` must be one of day, model, key, provider, region.",
            ));
        }
    };
    Ok(UsageQuery { from, to, group_by })
}

/// `GET /api/v1/usage`: JSON, or CSV for `Accept: text/csv`.
#[utoipa::path(get, path = "/api/v1/usage", tag = "usage",
    params(UsageParams),
    responses(
        (status = 200, content(
            (UsageReport = "application/json"),
            (String = "text/csv", example = "day,requests,errors,prompt_tokens,completion_tokens,cost,currency\n2026-11-01,3,0,30,60,0.0012,USD\n"),
        )),
        (status = 400, description = "A date, range or `group_by` this route does not take (the message names it)."),
    ))]
pub async fn get_usage(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let customer = state.customer(&headers)?;
    let q = parse_query(raw.as_deref())?;
    let (column, name) = q.group_by.column();
    let sql = format!(
        "SELECT {column} AS group_value, sum(requests)::bigint AS requests, sum(errors)::bigint AS errors,
                sum(prompt_tokens)::bigint AS prompt_tokens, sum(completion_tokens)::bigint AS completion_tokens,
                sum(cost) AS cost
         FROM usage_rollups
         WHERE customer_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY 1 ORDER BY 1"
    );
    let start = q.from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = q.to.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(customer)
        .bind(start)
        .bind(end)
        .fetch_all(&state.pool)
        .await?;
    let mut total = Counters::default();
    for r in &mut rows {
        total.requests += r.counters.requests;
        total.errors += r.counters.errors;
        total.prompt_tokens += r.counters.prompt_tokens;
        total.completion_tokens += r.counters.completion_tokens;
        total.cost += r.counters.cost;
        r.counters.cost = r.counters.cost.normalize();
    }
    total.cost = total.cost.normalize();
    if wants_csv(&headers) {
        return csv(&q, name, &rows);
    }
    let items = rows
        .into_iter()
        .map(|r| UsageItem {
            group: q.group_by.group(r.group_value),
            counters: r.counters,
        })
        .collect();
    Ok(Json(UsageReport {
        from: q.from,
        to: q.to,
        currency: "USD",
        group_by: q.group_by,
        items,
        total,
    })
    .into_response())
}

/// Whether the caller asked for CSV (`Accept: text/csv`, before any JSON).
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or_default().trim())
        .find(|t| *t == "text/csv" || *t == "application/json")
        == Some("text/csv")
}

/// The usage as CSV: a header row, then one row per group, amounts in USD as decimals.
fn csv(q: &UsageQuery, name: &str, rows: &[Row]) -> Result<Response, Problem> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = out
        .write_record([
            name,
            "requests",
            "errors",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "currency",
        ])
        .and_then(|()| {
            rows.iter().try_for_each(|r| {
                let c = &r.counters;
                out.write_record([
                    r.group_value.as_deref().unwrap_or_default(),
                    &c.requests.to_string(),
                    &c.errors.to_string(),
                    &c.prompt_tokens.to_string(),
                    &c.completion_tokens.to_string(),
                    &c.cost.to_string(),
                    "USD",
                ])
            })
        });
    let bytes = written
        .ok()
        .and_then(|()| out.into_inner().ok())
        .ok_or_else(Problem::internal)?;
    let disposition = format!(
        "attachment; filename=\"usage-{}-{}-by-{name}.csv\"",
        q.from, q.to
    );
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// What a key has spent and when it was last used, from the hourly rollups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KeyUsage {
    /// Cost in USD since the start of the UTC day.
    pub today: Decimal,
    /// Cost in USD since the start of the UTC month.
    pub this_month: Decimal,
    /// The start of the latest hour with usage.
    pub last_hour: Option<chrono::DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct KeyUsageRow {
    key_id: uuid::Uuid,
    today: Decimal,
    this_month: Decimal,
    last_hour: Option<chrono::DateTime<Utc>>,
}

/// [`KeyUsage`] of each of `keys` of `customer` that has any, as of `now`.
pub(crate) async fn by_key(
    pool: &sqlx::PgPool,
    customer: meridian_core::CustomerId,
    keys: &[meridian_core::KeyId],
    now: chrono::DateTime<Utc>,
) -> sqlx::Result<std::collections::HashMap<meridian_core::KeyId, KeyUsage>> {
    use meridian_core::BudgetPeriod;
    let ids: Vec<uuid::Uuid> = keys.iter().map(|k| k.0).collect();
    let rows: Vec<KeyUsageRow> = sqlx::query_as(
        "SELECT key_id, coalesce(sum(cost) FILTER (WHERE hour >= $3), 0) AS today,
                coalesce(sum(cost) FILTER (WHERE hour >= $4), 0) AS this_month,
                max(hour) AS last_hour
         FROM usage_rollups WHERE customer_id = $1 AND key_id = ANY($2)
         GROUP BY key_id",
    )
    .bind(customer)
    .bind(ids)
    .bind(BudgetPeriod::Day.start(now))
    .bind(BudgetPeriod::Month.start(now))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let usage = KeyUsage {
                today: r.today,
                this_month: r.this_month,
                last_hour: r.last_hour,
            };
            (meridian_core::KeyId(r.key_id), usage)
        })
        .collect())
}

/// What a customer has spent in a budget period, and over the days before `now` that
/// its forecast extrapolates from, from the hourly rollups (USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct PeriodSpend {
    /// Since the period began.
    pub spent: Decimal,
    /// Since the trailing window began.
    pub trailing: Decimal,
    /// The first hour with usage in the trailing window.
    pub first_hour: Option<chrono::DateTime<Utc>>,
}

/// [`PeriodSpend`] of `customer` since `period_start`, with the trailing window
/// starting at `trailing_from`.
pub(crate) async fn period_spend(
    pool: &sqlx::PgPool,
    customer: meridian_core::CustomerId,
    period_start: chrono::DateTime<Utc>,
    trailing_from: chrono::DateTime<Utc>,
) -> sqlx::Result<PeriodSpend> {
    sqlx::query_as(
        "SELECT coalesce(sum(cost) FILTER (WHERE hour >= $2), 0) AS spent,
                coalesce(sum(cost) FILTER (WHERE hour >= $3), 0) AS trailing,
                min(hour) FILTER (WHERE hour >= $3) AS first_hour
         FROM usage_rollups WHERE customer_id = $1 AND hour >= least($2, $3)",
    )
    .bind(customer)
    .bind(period_start)
    .bind(trailing_from)
    .fetch_one(pool)
    .await
}
