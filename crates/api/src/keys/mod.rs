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
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::admin::customers::{customer_id, no_customer};
use crate::idempotency::{Idempotent, begin_post};
use crate::page::{self, Page, PageQuery};
use crate::{ApiState, Caller, Problem, admin};
use body::schema::{KeyPatchRequest, NewKeyRequest, RotateRequest};
use view::{Context, KeyView};

/// The 201 of create and rotate: the key, and its secret (shown this once; a replay
/// of the same `Idempotency-Key` answers without it).
#[derive(Serialize, ToSchema)]
#[schema(as = CreatedKey)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    key: KeyView,
    /// The secret, `mk-…`.
    #[serde(rename = "key", skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

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

/// The `{id}` of a key route, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct KeyIdParam {
    /// The key's id.
    id: KeyId,
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
) -> Result<Json<Page<KeyView>>, Problem> {
    let records = table::list(pool, customer, q.cursor, q.limit + 1).await?;
    let page = Page::of(records, q.limit, |k| k.id.to_string());
    let context = Context::load(pool, customer, &page.items, Utc::now()).await?;
    Ok(Json(page.map(|k| context.view(&k))))
}

/// `GET /api/v1/keys?limit=&cursor=`: the customer's keys, revoked ones included, in
/// creation order.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    params(page::Params),
    responses(
        (status = 200, body = Page<KeyView>),
        (status = 400, description = "A `limit` or `cursor` this list does not take."),
        (status = 403, description = "An `inference` key cannot manage keys."),
    ))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<KeyView>>, Problem> {
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
    let key = Context::one(&state.pool, customer, &created.record).await?;
    let kept = serde_json::to_value(&key).map_err(|_| Problem::internal())?;
    if let Some(replay) = work.commit(StatusCode::CREATED, &kept).await? {
        return Ok(replay);
    }
    let shown = CreatedKeyView {
        key,
        secret: Some(created.secret.expose().to_string()),
    };
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

/// `POST /api/v1/keys` `{"name", "role", "expires_at"?, "limits"?, "budget"?}` → 201.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys",
    params(crate::idempotency::Params),
    request_body = NewKeyRequest,
    responses(
        (status = 201, body = CreatedKeyView, description = "The key with its secret, shown once."),
        (status = 400, description = "A member missing, unknown or out of range (the message names it)."),
        (status = 403, description = "An `inference` key cannot manage keys."),
        (status = 409, description = "The `Idempotency-Key` was used for a different request."),
    ))]
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
#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "keys",
    params(KeyIdParam),
    responses(
        (status = 200, body = KeyView),
        (status = 403, description = "An `inference` key cannot manage keys."),
        (status = 404, description = "No key with this id (another customer's included)."),
    ))]
pub async fn get(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: KeyPath,
) -> Result<Json<KeyView>, Problem> {
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
#[utoipa::path(patch, path = "/api/v1/keys/{id}", tag = "keys",
    params(KeyIdParam),
    request_body(content = KeyPatchRequest, description = "A JSON merge patch (RFC 7396): an absent member stays, null clears it."),
    responses(
        (status = 200, body = KeyView),
        (status = 400, description = "A member unknown or out of range (the message names it)."),
        (status = 403, description = "An `inference` key cannot manage keys."),
        (status = 404, description = "No key with this id (another customer's included)."),
        (status = 409, description = "The key is revoked."),
    ))]
pub async fn update(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: KeyPath,
    bytes: Bytes,
) -> Result<Json<KeyView>, Problem> {
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
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys",
    params(KeyIdParam),
    responses(
        (status = 204, description = "Revoked (revoking a revoked key again too)."),
        (status = 403, description = "An `inference` key cannot manage keys."),
        (status = 404, description = "No key with this id (another customer's included)."),
    ))]
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
#[utoipa::path(post, path = "/api/v1/keys/{id}/rotate", tag = "keys",
    params(KeyIdParam, crate::idempotency::Params),
    request_body(content = Option<RotateRequest>, description = "May be empty."),
    responses(
        (status = 201, body = CreatedKeyView, description = "The key with its new secret, shown once."),
        (status = 400, description = "`grace_seconds` out of range, or an unknown member."),
        (status = 403, description = "An `inference` key cannot manage keys."),
        (status = 404, description = "No key with this id (another customer's included)."),
        (status = 409, description = "The key is revoked, or the `Idempotency-Key` was used for a different request."),
    ))]
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
#[utoipa::path(get, path = "/customers/{id}/keys", tag = "customers",
    params(crate::budget::CustomerIdParam, page::Params),
    responses(
        (status = 200, body = Page<KeyView>),
        (status = 400, description = "A `limit` or `cursor` this list does not take."),
        (status = 404, description = "No customer with this id."),
    ))]
pub async fn customer_keys(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    customer: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<KeyView>>, Problem> {
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
