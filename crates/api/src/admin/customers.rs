//! Customers for finance (admin token): `GET/POST /admin/v1/customers`, `GET/PATCH
//! /admin/v1/customers/{id}` and `POST /admin/v1/customers/{id}/keys`. Fields are
//! checked by `meridian_billing::customers`, as `meridian customers create` checks
//! them (the messages name the body's members), and the residency against the
//! gateway's `[residency]` values.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::Utc;
use meridian_billing::customers::{self, Checks, CustomerPatch, SpendingTerms};
use meridian_billing::{Customer, Naming, NewCustomer};
use meridian_core::wire::shown_id;
use meridian_core::{BudgetPeriod, CustomerId, KeyLimits};
use meridian_keys::{KeySettings, table};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::budget::CustomerIdParam;
use crate::idempotency::begin_post;
use crate::keys::body::schema::{BudgetInput, LimitsInput, NewKeyRequest};
use crate::keys::{answer_with_secret, body};
use crate::members::Members;
use crate::page::{self, Page};
use crate::{ApiState, Problem};

/// Answers of finance's POSTs are stored under one scope: the admin token's.
pub(crate) const SCOPE: &str = "admin";

/// The customer a route's `{id}` names (a 404 for one that cannot be an id).
pub(crate) fn customer_id(
    path: Result<Path<String>, PathRejection>,
) -> Result<CustomerId, Problem> {
    // A segment that is not UTF-8 names no customer either.
    let raw = path.map(|Path(c)| c).unwrap_or_default();
    raw.parse().map_err(|_| no_customer(&raw))
}

pub(crate) fn no_customer(id: &str) -> Problem {
    Problem::not_found(format!("No customer `{}`.", shown_id(id)))
}

/// The checks of these routes; the residency and home region are checked against
/// the gateway's `[residency]` when they are set (a patch of other fields leaves a
/// customer's placement as it is).
fn checks(state: &ApiState, placement_set: bool) -> Checks<'_> {
    Checks {
        naming: Naming::Members,
        placement: placement_set.then_some(&state.placement),
    }
}

/// A customer: its profile, and its customer-wide limits and budget.
#[derive(Serialize, ToSchema)]
pub struct CustomerView {
    #[serde(flatten)]
    customer: Customer,
    limits: KeyLimits,
    budget: Option<CustomerBudget>,
}

/// A customer-wide spend budget, in the customer's currency.
#[derive(Serialize, ToSchema)]
pub struct CustomerBudget {
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "100.00")]
    amount: Decimal,
    currency: String,
    period: BudgetPeriod,
    /// The percentages at which the customer is e-mailed, once per period each.
    alerts: Vec<i32>,
}

fn view(customer: Customer, terms: Option<&SpendingTerms>) -> CustomerView {
    CustomerView {
        customer,
        limits: terms.map(|t| t.limits).unwrap_or_default(),
        budget: terms.and_then(|t| {
            t.budget.map(|b| CustomerBudget {
                amount: b.amount,
                currency: t.currency.clone(),
                period: b.period,
                alerts: t.alerts.clone(),
            })
        }),
    }
}

/// What an idempotent answer stores.
fn stored(view: &CustomerView) -> Result<Value, Problem> {
    serde_json::to_value(view).map_err(|_| Problem::internal())
}

async fn read(state: &ApiState, id: CustomerId) -> Result<CustomerView, Problem> {
    let customer = customers::get(&state.pool, id)
        .await?
        .ok_or_else(|| no_customer(&id.to_string()))?;
    let terms = customers::spending_terms_of(&state.pool, id).await?;
    Ok(view(customer, terms.as_ref()))
}

/// The filter of the customer list, in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ListParams {
    /// Only the customers of this billing entity (`US`, `EU`, …).
    entity: Option<String>,
}

/// `GET /admin/v1/customers?entity=&limit=&cursor=`: customers in id order.
#[utoipa::path(get, path = "/customers", tag = "customers",
    params(ListParams, page::Params),
    responses(
        (status = 200, body = Page<CustomerView>),
        (status = 400, description = "An unknown entity, or a parameter this list does not take (the message names it)."),
    ))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<CustomerView>>, Problem> {
    let (q, filters) = page::parse_with::<CustomerId>(raw.as_deref(), &["entity"])?;
    let entity = match filters.get("entity") {
        Some(code) => Some(
            meridian_billing::entities::require(&state.pool, code)
                .await?
                .code,
        ),
        None => None,
    };
    let rows = customers::list(&state.pool, entity.as_deref(), q.cursor, q.limit + 1).await?;
    let page = Page::of(rows, q.limit, |c| c.id.to_string());
    let ids: Vec<CustomerId> = page.items.iter().map(|c| c.id).collect();
    let terms: HashMap<CustomerId, SpendingTerms> =
        customers::spending_terms_of_many(&state.pool, &ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    Ok(Json(page.map(|c| {
        let terms = terms.get(&c.id);
        view(c, terms)
    })))
}

const TEXT: &str = "a string";
const OPTIONAL: &str = "a string, or null";
const CREATE_SHAPE: &str = r#"{"name": "Acme", "entity": "EU", "currency": "EUR", "locale": "de-DE", "email": "billing@acme.example", "country": "DE"}"#;
const CREATE_TAKES: &str = "a customer takes `name`, `entity`, `currency`, `locale`, `email`, `tax_id`, `country`, `state`, `address`, `residency` and `home_region`";

fn new_customer(bytes: &[u8]) -> Result<NewCustomer, Problem> {
    let mut m = Members::body(bytes, CREATE_SHAPE)?;
    let optional =
        |m: &mut Members, name: &str| m.nullable_string(name, OPTIONAL).map(Option::flatten);
    let c = NewCustomer {
        name: m.required_string("name", TEXT)?,
        entity: m.required_string("entity", "a billing entity code like EU")?,
        currency: m.required_string("currency", "an ISO 4217 code like EUR")?,
        locale: m.required_string("locale", "a BCP 47 tag like de-DE")?,
        email: m.required_string("email", "an e-mail address")?,
        tax_id: optional(&mut m, "tax_id")?,
        country: optional(&mut m, "country")?,
        state: optional(&mut m, "state")?,
        address: optional(&mut m, "address")?,
        residency: optional(&mut m, "residency")?,
        home_region: optional(&mut m, "home_region")?,
    };
    m.finish(CREATE_TAKES)?;
    Ok(c)
}

/// `POST /admin/v1/customers`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Acme GmbH", "entity": "EU", "currency": "EUR", "locale": "de-DE",
    "email": "billing@acme.example", "country": "DE", "tax_id": "DE136695976", "residency": "eu"}))]
#[allow(dead_code)]
pub(crate) struct NewCustomerRequest {
    name: String,
    /// The billing entity: `US`, `EU`, `UK`, `JP`, `SG`, `KR`, `IN` or `AU`.
    entity: String,
    /// ISO 4217.
    currency: String,
    /// BCP 47.
    locale: String,
    email: String,
    /// Checked (format and check digits) under the customer's country's scheme.
    tax_id: Option<String>,
    /// ISO 3166-1 alpha-2.
    country: Option<String>,
    /// ISO 3166-2 (India's place of supply, e.g. `IN-KA`).
    state: Option<String>,
    /// Lines separated by `\n`.
    address: Option<String>,
    /// `any` or a `[residency]` value of the gateway's config.
    residency: Option<String>,
    /// A region the residency admits.
    home_region: Option<String>,
}

/// `PATCH /admin/v1/customers/{id}`: a JSON merge patch; null clears an optional member.
#[derive(ToSchema)]
#[schema(example = json!({"locale": "fr-FR", "residency": "eu", "limits": {"rpm": 600}}))]
#[allow(dead_code)]
pub(crate) struct CustomerPatchRequest {
    name: Option<String>,
    currency: Option<String>,
    locale: Option<String>,
    email: Option<String>,
    #[schema(nullable)]
    tax_id: Option<String>,
    #[schema(nullable)]
    country: Option<String>,
    #[schema(nullable)]
    state: Option<String>,
    #[schema(nullable)]
    address: Option<String>,
    #[schema(nullable)]
    residency: Option<String>,
    #[schema(nullable)]
    home_region: Option<String>,
    #[schema(nullable)]
    limits: Option<LimitsInput>,
    #[schema(nullable)]
    budget: Option<BudgetInput>,
}

/// `POST /admin/v1/customers` → 201 with the customer.
#[utoipa::path(post, path = "/customers", tag = "customers",
    params(crate::idempotency::Params),
    request_body = NewCustomerRequest,
    responses(
        (status = 201, body = CustomerView),
        (status = 400, description = "A member missing, unknown or invalid: every problem, each naming its member (a tax id with the reason)."),
        (status = 409, description = "The `Idempotency-Key` was used for a different request."),
    ))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let new = new_customer(&bytes)?;
    let mut work = begin_post!(&state.pool, SCOPE.into(), &headers, uri, &bytes);
    let customer = customers::create_with(work.conn(), &new, checks(&state, true)).await?;
    work.answer(StatusCode::CREATED, stored(&view(customer, None))?)
        .await
}

/// `GET /admin/v1/customers/{id}`.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers",
    params(CustomerIdParam),
    responses(
        (status = 200, body = CustomerView),
        (status = 404, description = "No customer with this id."),
    ))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<CustomerView>, Problem> {
    Ok(Json(read(&state, customer_id(path)?).await?))
}

const PATCH_TAKES: &str = "a customer's `name`, `currency`, `locale`, `email`, `tax_id`, `country`, `state`, `address`, `residency`, `home_region`, `limits` and `budget` can change";

fn profile_patch(m: &mut Members) -> Result<CustomerPatch, Problem> {
    if m.take("entity").is_some() {
        return Err(Problem::bad_request(
            "`entity` cannot change: the entity numbers and taxes the customer's invoices; create a new customer under the other entity.",
        ));
    }
    let required =
        |m: &mut Members, name: &str, takes: &str| match m.nullable_string(name, takes)? {
            Some(None) => Err(Problem::bad_request(format!(
                "`{name}` cannot be null: it is required."
            ))),
            other => Ok(other.flatten()),
        };
    Ok(CustomerPatch {
        name: required(m, "name", TEXT)?,
        currency: required(m, "currency", "an ISO 4217 code like EUR")?,
        locale: required(m, "locale", "a BCP 47 tag like de-DE")?,
        email: required(m, "email", "an e-mail address")?,
        tax_id: m.nullable_string("tax_id", OPTIONAL)?,
        country: m.nullable_string("country", OPTIONAL)?,
        state: m.nullable_string("state", OPTIONAL)?,
        address: m.nullable_string("address", OPTIONAL)?,
        residency: m.nullable_string("residency", OPTIONAL)?,
        home_region: m.nullable_string("home_region", OPTIONAL)?,
    })
}

/// `PATCH /admin/v1/customers/{id}`: a JSON merge patch of the profile (checked as
/// a new customer is) and of `limits` and `budget`, applied together or not at all.
/// Issued invoices keep the currency, locale, tax id and address they were issued
/// with; the next run bills in the new ones. A budget's amount is read in the
/// customer's currency, so a currency change restates it in the same patch.
#[utoipa::path(patch, path = "/customers/{id}", tag = "customers",
    params(CustomerIdParam),
    request_body(content = CustomerPatchRequest, description = "A JSON merge patch (RFC 7396): an absent member stays, null clears it."),
    responses(
        (status = 200, body = CustomerView),
        (status = 400, description = "A member unknown, invalid or not changeable (`entity`): every problem, each naming its member."),
        (status = 404, description = "No customer with this id."),
    ))]
pub async fn patch(
    State(state): State<Arc<ApiState>>,
    path: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Result<Json<CustomerView>, Problem> {
    let id = customer_id(path)?;
    let mut m = Members::body(&bytes, r#"{"residency": "eu", "limits": {"rpm": 600}}"#)?;
    let spending = body::spending(&mut m)?;
    let profile = profile_patch(&mut m)?;
    m.finish(PATCH_TAKES)?;
    let missing = || no_customer(&id.to_string());
    let mut tx = state.pool.begin().await?;
    let placement_set = profile.residency.is_some() || profile.home_region.is_some();
    let customer = customers::update(&mut tx, id, profile, checks(&state, placement_set))
        .await?
        .ok_or_else(missing)?;
    let current = customers::spending_terms_of(&mut *tx, id)
        .await?
        .ok_or_else(missing)?;
    let settings = spending.apply(KeySettings {
        limits: current.limits,
        budget: current.budget,
        ..KeySettings::default()
    })?;
    settings.validate(Utc::now())?;
    let terms = customers::set_spending(&mut *tx, id, settings.limits, settings.budget, None)
        .await?
        .ok_or_else(missing)?;
    tx.commit().await?;
    Ok(Json(view(customer, Some(&terms))))
}

/// `POST /admin/v1/customers/{id}/keys`: a key for the customer, with the body of
/// `POST /api/v1/keys` → 201 with the secret (shown once).
#[utoipa::path(post, path = "/customers/{id}/keys", tag = "customers",
    params(CustomerIdParam, crate::idempotency::Params),
    request_body = NewKeyRequest,
    responses(
        (status = 201, body = crate::keys::CreatedKeyView, description = "The key with its secret, shown once."),
        (status = 400, description = "A member missing, unknown or out of range (the message names it)."),
        (status = 404, description = "No customer with this id."),
        (status = 409, description = "The `Idempotency-Key` was used for a different request."),
    ))]
pub async fn create_key(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let id = customer_id(path)?;
    let new = body::new_key(&bytes)?;
    if customers::get(&state.pool, id).await?.is_none() {
        return Err(no_customer(&id.to_string()));
    }
    let mut work = begin_post!(&state.pool, SCOPE.into(), &headers, uri, &bytes);
    new.settings.validate(Utc::now())?;
    let created = table::create(work.conn(), id, new.role, &new.settings).await?;
    answer_with_secret(&state, id, work, created).await
}
