//! The body of a POST, PUT or PATCH, read whole. A body past axum's default limit
//! (2 MiB) is a 413 problem, not axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use crate::Problem;

/// The request's body.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(Problem::from)
    }
}
