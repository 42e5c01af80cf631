//! The document a route's path names (`{number}`, `{id}`). Only text Postgres can
//! hold is looked up: a segment that is not UTF-8, or that holds a NUL (`%00`),
//! names no document. The check waits until the handler has authorized the caller,
//! so that a refused caller learns nothing about paths.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use meridian_core::wire::shown_id;

use crate::Problem;

/// The `{id}` of a customer's document route, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct IdParam {
    /// The document's `id` (from the list) or its number (`MUS-2026-000001`).
    id: String,
}

/// The `{number}` of a finance document route, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct NumberParam {
    /// The invoice's or credit note's number (`MUS-2026-000001`).
    number: String,
}

/// The path's document reference, or why it names no document.
pub struct DocumentRef(Result<String, Problem>);

impl DocumentRef {
    /// The reference, or the 404 of a document that does not exist.
    pub fn get(self) -> Result<String, Problem> {
        self.0
    }
}

/// The 404 of document `reference`, which messages repeat cut and escaped.
pub fn no_document(reference: &str) -> Problem {
    Problem::not_found(format!(
        "No invoice or credit note `{}`.",
        shown_id(reference)
    ))
}

impl<S: Send + Sync> FromRequestParts<S> for DocumentRef {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(DocumentRef(
            match Path::<String>::from_request_parts(parts, state).await {
                Ok(Path(reference)) if !reference.contains('\0') => Ok(reference),
                Ok(Path(reference)) => Err(no_document(&reference)),
                Err(_) => Err(Problem::not_found(
                    "No invoice or credit note has this number: the path is not valid UTF-8.",
                )),
            },
        ))
    }
}
