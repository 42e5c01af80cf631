//! Billing entities for operators (admin token): `GET /admin/v1/entities`, `GET/PATCH
//! /admin/v1/entities/{code}`. A patch sets the legal and payment details that
//! `meridian entities update` sets, checked by `meridian_billing::entities` (tax id
//! format and check digits, India's State against the GSTIN); issued invoices keep
//! the details they were issued with.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use meridian_billing::entities::{self, Entity, EntityUpdate};
use meridian_billing::{BillingError, Naming};
use meridian_core::wire::shown_id;
use utoipa::{IntoParams, ToSchema};

use crate::members::Members;
use crate::page::{self, Page};
use crate::{ApiState, Problem};

/// The entity a route's `{code}` names, as stored (upper case).
async fn entity(
    state: &ApiState,
    path: Result<Path<String>, PathRejection>,
) -> Result<Entity, Problem> {
    let code = path.map(|Path(c)| c).unwrap_or_default();
    let missing = || Problem::not_found(format!("No billing entity `{}`.", shown_id(&code)));
    match entities::require(&state.pool, &code).await {
        Ok(e) => Ok(e),
        Err(BillingError::UnknownEntity(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// The `{code}` of an entity route, in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct CodeParam {
    /// `US`, `EU`, `UK`, `JP`, `SG`, `KR`, `IN` or `AU` (any case).
    code: String,
}

/// `GET /admin/v1/entities?limit=&cursor=`: the entities in code order.
#[utoipa::path(get, path = "/entities", tag = "entities",
    params(page::Params),
    responses(
        (status = 200, body = Page<Entity>),
        (status = 400, description = "A `limit` or `cursor` this list does not take."),
    ))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<Entity>>, Problem> {
    let q = page::parse::<String>(raw.as_deref())?;
    // Eight rows: the page is cut from all of them.
    let rows: Vec<Entity> = entities::list(&state.pool)
        .await?
        .into_iter()
        .filter(|e| q.cursor.as_ref().is_none_or(|c| e.code > *c))
        .take(q.limit as usize + 1)
        .collect();
    Ok(Json(Page::of(rows, q.limit, |e| e.code.clone())))
}

/// `GET /admin/v1/entities/{code}`.
#[utoipa::path(get, path = "/entities/{code}", tag = "entities",
    params(CodeParam),
    responses(
        (status = 200, body = Entity),
        (status = 404, description = "No entity with this code."),
    ))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Entity>, Problem> {
    Ok(Json(entity(&state, path).await?))
}

const TEXT: &str = "a non-empty string";
const PATCH_TAKES: &str = "an entity's `legal_name`, `address`, `tax_id`, `email`, `state`, `phone`, `representative`, `bank_name`, `bank_account`, `bank_bic` and `payment_terms_days` can change";

fn update(bytes: &[u8]) -> Result<EntityUpdate, Problem> {
    let mut m = Members::body(bytes, r#"{"tax_id": "DE136695976"}"#)?;
    let text = |m: &mut Members, name: &str| m.string(name, TEXT);
    let update = EntityUpdate {
        legal_name: text(&mut m, "legal_name")?,
        address: text(&mut m, "address")?,
        tax_id: text(&mut m, "tax_id")?,
        email: text(&mut m, "email")?,
        state: text(&mut m, "state")?,
        phone: text(&mut m, "phone")?,
        representative: text(&mut m, "representative")?,
        bank_name: text(&mut m, "bank_name")?,
        bank_account: text(&mut m, "bank_account")?,
        bank_bic: text(&mut m, "bank_bic")?,
        payment_terms_days: m
            .nullable(
                "payment_terms_days",
                "a whole number of days from 0 to 365",
                |v| v.as_i64().and_then(|d| i32::try_from(d).ok()),
            )?
            .flatten(),
    };
    m.finish(PATCH_TAKES)?;
    Ok(update)
}

/// `PATCH /admin/v1/entities/{code}`: each member a value to set.
#[derive(ToSchema)]
#[schema(example = json!({"legal_name": "Meridian Europe B.V.", "payment_terms_days": 14}))]
#[allow(dead_code)]
pub(crate) struct EntityPatchRequest {
    legal_name: Option<String>,
    /// Lines separated by `\n`.
    address: Option<String>,
    /// Checked (format and check digits) under the entity's country's scheme.
    tax_id: Option<String>,
    email: Option<String>,
    /// ISO 3166-2 (India: the State of registration, matching the GSTIN).
    state: Option<String>,
    phone: Option<String>,
    /// The representative's name (Korea's 대표자).
    representative: Option<String>,
    bank_name: Option<String>,
    /// An IBAN where there is one.
    bank_account: Option<String>,
    bank_bic: Option<String>,
    #[schema(minimum = 0, maximum = 365)]
    payment_terms_days: Option<i32>,
}

/// `PATCH /admin/v1/entities/{code}`: a merge patch of the legal and payment details
/// (each a value to set; they cannot be cleared), every problem reported at once.
#[utoipa::path(patch, path = "/entities/{code}", tag = "entities",
    params(CodeParam),
    request_body = EntityPatchRequest,
    responses(
        (status = 200, body = Entity),
        (status = 400, description = "A member unknown or invalid: every problem, each naming its member (a tax id with the reason)."),
        (status = 404, description = "No entity with this code."),
    ))]
pub async fn patch(
    State(state): State<Arc<ApiState>>,
    path: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Result<Json<Entity>, Problem> {
    let changes = update(&bytes)?;
    let e = entity(&state, path).await?;
    Ok(Json(
        entities::update(&state.pool, &e.code, changes, Naming::Members).await?,
    ))
}
