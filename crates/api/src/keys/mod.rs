//! Key management over REST, for a customer's `admin` key (an `inference` key gets
//! 403): `GET/POST /api/v1/keys`, `GET/PATCH/DELETE /api/v1/keys/{id}` (DELETE
//! revokes), `POST /api/v1/keys/{id}/rotate`; and for finance (admin token) `GET
//! /admin/v1/customers/{id}/keys`. Another customer's key is a 404, as if it did not
//! exist. The secret is in the 201 of create and rotate only; the key store of every
//! running gateway picks changes up within its refresh interval.

pub(crate) mod body;
mod view;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use meridian_core::{CustomerId, KeyId};
use meridian_keys::{CreatedKey, KeyError, Scope, table};
use serde_json::Value;
use sqlx::PgPool;

use crate::admin::customers::{customer_id, no_customer};
use crate::idempotency::{Idempotent, begin_post};
use crate::page::{self, Page, PageQuery};
use crate::{ApiState, Caller, Problem, admin};
use view::Context;

impl From<KeyError> for Problem {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Db(e) => e.into(),
            KeyError::Revoked(_) => {
                Problem::conflict("This key is revoked: it can no longer change or rotate.")
            }
            KeyError::Invalid(message) => Problem::bad_request(message),
        }
    }
}

/// The key a route's `{id}` names; one that cannot be an id names no key.
pub struct KeyPath(Option<KeyId>);

impl KeyPath {
    fn get(self) -> Result<KeyId, Problem> {
        self.0.ok_or_else(no_key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for KeyPath {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(id)| id.parse().ok());
        Ok(KeyPath(id))
    }
}

fn no_key() -> Problem {
    Problem::not_found("No key with this id.")
}

/// Answers of POSTs are stored per customer.
fn idempotency_scope(caller: &Caller) -> String {
    format!("customer:{}", caller.customer)
}

async fn page_of_keys(
    pool: &PgPool,
    customer: CustomerId,
    q: PageQuery<KeyId>,
) -> Result<Json<Page<Value>>, Problem> {
    let records = table::list(pool, customer, q.cursor, q.limit + 1).await?;
    let page = Page::of(records, q.limit, |k| k.id.to_string());
    let context = Context::load(pool, customer, &page.items, Utc::now()).await?;
    Ok(Json(page.map(|k| context.view(&k))))
}

/// `GET /api/v1/keys?limit=&cursor=`: the customer's keys, revoked ones included, in
/// creation order.
pub async fn list(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<Value>>, Problem> {
    let caller = state.key_admin(&headers)?;
    page_of_keys(&state.pool, caller.customer, page::parse(raw.as_deref())?).await
}

/// The 201 of a new secret: the key object with `key`, and what a replay answers (the
/// same without `key`).
pub(crate) async fn answer_with_secret(
    state: &ApiState,
    customer: CustomerId,
    work: Idempotent,
    created: CreatedKey,
) -> Result<Response, Problem> {
    let kept = Context::one(&state.pool, customer, &created.record).await?;
    if let Some(replay) = work.commit(StatusCode::CREATED, &kept).await? {
        return Ok(replay);
    }
    let mut shown = kept;
    shown["key"] = Value::String(created.secret.expose().to_string());
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

/// `POST /api/v1/keys` `{"name", "role", "expires_at"?, "limits"?, "budget"?}` → 201.
pub async fn create(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let caller = state.key_admin(&headers)?;
    let new = body::new_key(&bytes)?;
    let scope = idempotency_scope(&caller);
    let mut work = begin_post!(&state.pool, scope, &headers, uri, &bytes);
    new.settings.validate(Utc::now())?;
    let created = table::create(work.conn(), caller.customer, new.role, &new.settings).await?;
    answer_with_secret(&state, caller.customer, work, created).await
}

/// `GET /api/v1/keys/{id}`.
pub async fn get(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: KeyPath,
) -> Result<Json<Value>, Problem> {
    let caller = state.key_admin(&headers)?;
    let key = table::get(&state.pool, Scope::Customer(caller.customer), id.get()?)
        .await?
        .ok_or_else(no_key)?;
    Ok(Json(
        Context::one(&state.pool, caller.customer, &key).await?,
    ))
}

/// `PATCH /api/v1/keys/{id}`: a JSON merge patch of `name`, `expires_at`, `limits`
/// and `budget` (`role` cannot change).
pub async fn update(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: KeyPath,
    bytes: Bytes,
) -> Result<Json<Value>, Problem> {
    let caller = state.key_admin(&headers)?;
    let id = id.get()?;
    let patch = body::patch(&bytes)?;
    let key = table::update(
        &state.pool,
        Scope::Customer(caller.customer),
        id,
        &patch,
        Utc::now(),
    )
    .await?
    .ok_or_else(no_key)?;
    Ok(Json(
        Context::one(&state.pool, caller.customer, &key).await?,
    ))
}

/// `DELETE /api/v1/keys/{id}`: revokes the key (and a rotated key's previous secret)
/// → 204; the key stays listed with `revoked_at`.
pub async fn revoke(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: KeyPath,
) -> Result<StatusCode, Problem> {
    let caller = state.key_admin(&headers)?;
    let id = id.get()?;
    let mut conn = state.pool.acquire().await?;
    table::revoke(&mut conn, Scope::Customer(caller.customer), id)
        .await?
        .ok_or_else(no_key)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/keys/{id}/rotate` `{"grace_seconds"?}` → 201 with the new secret;
/// the previous one is accepted until `previous_key_expires_at`.
pub async fn rotate(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    id: KeyPath,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let caller = state.key_admin(&headers)?;
    let id = id.get()?;
    let grace = body::grace(&bytes)?;
    let scope = idempotency_scope(&caller);
    let mut work = begin_post!(&state.pool, scope, &headers, uri, &bytes);
    let rotated = table::rotate(work.conn(), Scope::Customer(caller.customer), id, grace)
        .await?
        .ok_or_else(no_key)?;
    answer_with_secret(&state, caller.customer, work, rotated).await
}

/// `GET /admin/v1/customers/{id}/keys?limit=&cursor=`: a customer's keys, for finance
/// (no secrets).
pub async fn customer_keys(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    customer: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<Value>>, Problem> {
    admin::authorize(&state, &headers)?;
    let id = customer_id(customer)?;
    if meridian_billing::customers::get(&state.pool, id)
        .await?
        .is_none()
    {
        return Err(no_customer(&id.to_string()));
    }
    page_of_keys(&state.pool, id, page::parse(raw.as_deref())?).await
}
