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
use serde::Serialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
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

/// `POST /admin/v1/invoice-runs`.
#[derive(ToSchema)]
#[schema(example = json!({"period": "2026-10", "entity": "US"}))]
#[allow(dead_code)]
pub(crate) struct RunRequest {
    /// The month, `YYYY-MM`.
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$")]
    period: String,
    /// One entity's code; absent or null: every entity.
    #[schema(nullable)]
    entity: Option<String>,
}

/// The 202 of `POST /admin/v1/invoice-runs`: the run's id, to poll.
#[derive(Serialize, ToSchema)]
pub struct RunStarted {
    id: Uuid,
}

/// The `{id}` of a run, in the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct RunIdParam {
    /// The id `POST /admin/v1/invoice-runs` answered.
    id: Uuid,
}

/// `POST /admin/v1/invoice-runs` → 202 `{"id"}`.
#[utoipa::path(post, path = "/invoice-runs", tag = "finance",
    params(crate::idempotency::Params),
    request_body = RunRequest,
    responses(
        (status = 202, body = RunStarted, description = "The run started in the background."),
        (status = 400, description = "A body this route does not take, a malformed period or an unknown entity (the message names it)."),
        (status = 409, description = "The period has not ended for an entity (the message says when it closes), or the `Idempotency-Key` was used for a different request."),
    ))]
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
    let answer = json!(RunStarted { id });
    if let Some(replay) = work.commit(StatusCode::ACCEPTED, &answer).await? {
        return Ok(replay);
    }
    // The job is committed: it runs on after this answer, its progress on its row.
    tokio::spawn(run_jobs::execute(state.pool.clone(), id, Utc::now()));
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// `GET /admin/v1/invoice-runs/{id}`: the job's status and progress.
#[utoipa::path(get, path = "/invoice-runs/{id}", tag = "finance",
    params(RunIdParam),
    responses(
        (status = 200, body = Job),
        (status = 404, description = "No run with this id."),
    ))]
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
