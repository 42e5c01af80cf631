//! `Idempotency-Key` on POSTs, and the `idempotency_keys` table, its one owner.
//!
//! A POST with the header runs in a transaction that also stores its answer under
//! (caller, key), with a fingerprint of the method, path and body. The same key and
//! request again get the stored answer (and `idempotent-replayed: true`); the same key
//! with another request gets 409. Two alike requests racing: the second one's insert
//! waits for the first one's transaction, finds its answer, undoes its own work and
//! replays the first. Only 2xx answers are stored (an error rolls everything back);
//! answers are kept 24 hours. What is stored must not hold a secret: a replayed key
//! creation or rotation answers without the key.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::Problem;

const HEADER: &str = "idempotency-key";
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const MAX_KEY_CHARS: usize = 255;

/// The `Idempotency-Key` header, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct Params {
    /// 1 to 255 visible ASCII characters. The same key with the same request within
    /// 24 hours gets the first answer again (with `idempotent-replayed: true`); with
    /// another request, 409.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    idempotency_key: Option<String>,
}

/// A POST being served, in its own transaction.
pub(crate) struct Idempotent {
    pool: PgPool,
    tx: Transaction<'static, Postgres>,
    claim: Option<Claim>,
}

struct Claim {
    scope: String,
    key: String,
    fingerprint: [u8; 32],
}

/// What a POST does next: its work, or answering what was stored.
pub(crate) enum Begun {
    Fresh(Idempotent),
    Replay(Response),
}

/// The `Idempotency-Key` of the request, if it sent one.
fn header_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_CHARS && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(|k| Some(k.to_string()))
        .ok_or_else(|| {
            Problem::bad_request(format!(
                "`Idempotency-Key` must be 1 to {MAX_KEY_CHARS} visible ASCII characters."
            ))
        })
}

fn fingerprint(method: &str, path: &str, body: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// The answer stored for (scope, key), or the 409 of a key used for another request.
async fn stored(conn: &mut PgConnection, claim: &Claim) -> Result<Option<Response>, Problem> {
    let row: Option<(Vec<u8>, i16, Value)> = sqlx::query_as(
        "SELECT fingerprint, status, body FROM idempotency_keys
         WHERE scope = $1 AND key = $2 AND created_at > now() - interval '24 hours'",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .fetch_optional(conn)
    .await?;
    let Some((fingerprint, status, body)) = row else {
        return Ok(None);
    };
    if fingerprint != claim.fingerprint {
        return Err(Problem::conflict(
            "This `Idempotency-Key` was used for a different request: send a new key for a new request.",
        ));
    }
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(Some(response))
}

/// Begins the idempotent POST of `$uri` with body `$body` in a handler: the work to
/// do, or (returned from the handler) the answer stored for its `Idempotency-Key`.
macro_rules! begin_post {
    ($pool:expr, $scope:expr, $headers:expr, $uri:expr, $body:expr) => {
        match $crate::idempotency::Idempotent::begin(
            $pool,
            $scope,
            $headers,
            "POST",
            $uri.path(),
            $body,
        )
        .await?
        {
            $crate::idempotency::Begun::Replay(answer) => return Ok(answer),
            $crate::idempotency::Begun::Fresh(work) => work,
        }
    };
}
pub(crate) use begin_post;

impl Idempotent {
    /// Starts the POST `method path` with `body` of the caller `scope`: a replay when
    /// its `Idempotency-Key` was seen with the same request.
    pub async fn begin(
        pool: &PgPool,
        scope: String,
        headers: &HeaderMap,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Begun, Problem> {
        let claim = header_key(headers)?.map(|key| Claim {
            scope,
            key,
            fingerprint: fingerprint(method, path, body),
        });
        if let Some(claim) = &claim {
            let mut conn = pool.acquire().await?;
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE scope = $1 AND created_at <= now() - interval '24 hours'",
            )
            .bind(&claim.scope)
            .execute(&mut *conn)
            .await?;
            if let Some(replay) = stored(&mut conn, claim).await? {
                return Ok(Begun::Replay(replay));
            }
        }
        Ok(Begun::Fresh(Idempotent {
            pool: pool.clone(),
            tx: pool.begin().await?,
            claim,
        }))
    }

    /// Where the POST does its work.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Commits the work with `answer` as what to replay, and answers it (or the
    /// answer an alike request stored first).
    pub async fn answer(self, status: StatusCode, answer: Value) -> Result<Response, Problem> {
        Ok(match self.commit(status, &answer).await? {
            Some(replay) => replay,
            None => (status, Json(answer)).into_response(),
        })
    }

    /// Stores `kept` as the answer to replay (with `status`) and commits the work; or,
    /// when an alike request stored its answer first, undoes the work and answers
    /// that. `None`: the work stands, answer as it is.
    pub async fn commit(
        mut self,
        status: StatusCode,
        kept: &Value,
    ) -> Result<Option<Response>, Problem> {
        let Some(claim) = self.claim.take() else {
            self.tx.commit().await?;
            return Ok(None);
        };
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(&claim.scope)
        .bind(&claim.key)
        .bind(claim.fingerprint.as_slice())
        .bind(status.as_u16() as i16)
        .bind(kept)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            self.tx.commit().await?;
            return Ok(None);
        }
        self.tx.rollback().await?;
        let mut conn = self.pool.acquire().await?;
        Ok(Some(
            stored(&mut conn, &claim)
                .await?
                .ok_or_else(Problem::internal)?,
        ))
    }
}
