//! Invoice runs for finance (admin token): `POST /admin/v1/invoice-runs` `{"period",
//! "entity"?}` starts the monthly batch in the background (`meridian_billing::run_jobs`:
//! the run of `meridian invoices run`) → 202 `{"id"}`; `GET
//! /admin/v1/invoice-runs/{id}` is its status and progress; `GET
//! /admin/v1/invoice-runs` lists the entities' runs. A period that has not ended is
//! refused before anything starts (409); a run interrupted by the process's end is
//! resumed by posting it again.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use meridian_billing::run_jobs::{self, Job};
use meridian_billing::{Period, run};
use meridian_core::wire::shown_id;
use serde_json::json;
use uuid::Uuid;

use super::customers::SCOPE;
use crate::idempotency::begin_post;
use crate::members::Members;
use crate::{ApiState, Problem};

const SHAPE: &str = r#"{"period": "2026-10", "entity": "US"}"#;

fn start_body(bytes: &[u8]) -> Result<(Period, Option<String>), Problem> {
    let mut m = Members::body(bytes, SHAPE)?;
    let period = m.required_string("period", "a month like \"2026-10\"")?;
    let period = Period::parse(&period)
        .map_err(|_| Problem::bad_request("`period` must be a month like \"2026-10\"."))?;
    let entity = m
        .nullable_string(
            "entity",
            "a billing entity code like \"US\", or null for all",
        )?
        .flatten();
    m.finish("a run takes `period` and `entity`")?;
    Ok((period, entity))
}

/// `POST /admin/v1/invoice-runs` → 202 `{"id"}`.
pub async fn start(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    uri: Uri,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let (period, entity) = start_body(&bytes)?;
    let mut work = begin_post!(&state.pool, SCOPE.into(), &headers, uri, &bytes);
    run::check(&state.pool, period, entity.as_deref(), Utc::now()).await?;
    let id = run_jobs::create(work.conn(), period, entity.as_deref()).await?;
    let answer = json!({ "id": id });
    if let Some(replay) = work.commit(StatusCode::ACCEPTED, &answer).await? {
        return Ok(replay);
    }
    // The job is committed: it runs on after this answer, its progress on its row.
    tokio::spawn(run_jobs::execute(state.pool.clone(), id, Utc::now()));
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// `GET /admin/v1/invoice-runs/{id}`: the job's status and progress.
pub async fn get(
    State(state): State<Arc<ApiState>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Job>, Problem> {
    let raw = path.map(|Path(id)| id).unwrap_or_default();
    let missing = || Problem::not_found(format!("No invoice run `{}`.", shown_id(&raw)));
    let id: Uuid = raw.parse().map_err(|_| missing())?;
    Ok(Json(
        run_jobs::get(&state.pool, id).await?.ok_or_else(missing)?,
    ))
}
