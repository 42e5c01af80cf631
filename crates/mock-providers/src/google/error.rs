//! Google's error body, `{"error": {"code", "message", "status"}}`, with a
//! `google.rpc.RetryInfo` detail on a rate limit that says when to retry. Messages
//! name fields, never content.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::gate;

/// One refusal, in Google's shape.
#[derive(Debug)]
pub(crate) struct Error {
    status: StatusCode,
    message: String,
    retry_after_secs: Option<u32>,
}

impl Error {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// A 400 `INVALID_ARGUMENT`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 400 naming a field of the request, as Google's validator words it:
    /// `* GenerateContentRequest.<field>: <problem>`.
    pub(crate) fn field(field: &str, problem: &str) -> Self {
        Self::invalid(format!("* GenerateContentRequest.{field}: {problem}\n"))
    }

    /// What Google answers with `status`, as an injected fault.
    pub(crate) fn for_status(status: StatusCode, retry_after_secs: Option<u32>) -> Self {
        let message = match status.as_u16() {
            400 => "Request contains an invalid argument.",
            401 => "Request had invalid authentication credentials.",
            403 => "The caller does not have permission",
            404 => "Requested entity was not found.",
            429 => "Resource has been exhausted (e.g. check quota).",
            503 => "The model is overloaded. Please try again later.",
            504 => "Deadline expired before operation could complete.",
            500.. => {
                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
            }
            _ => "The request failed.",
        };
        Self {
            retry_after_secs,
            ..Self::new(status, message)
        }
    }

    /// The canonical code of the status.
    fn code(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ABORTED",
            429 => "RESOURCE_EXHAUSTED",
            499 => "CANCELLED",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            500.. => "INTERNAL",
            _ => "FAILED_PRECONDITION",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut error = json!({
            "code": self.status.as_u16(),
            "message": self.message,
            "status": self.code(),
        });
        if let Some(secs) = self.retry_after_secs {
            error["details"] = json!([{
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{secs}s"),
            }]);
        }
        let body = json!({ "error": error }).to_string().into_bytes();
        (self.status, gate::json_response(body, None)).into_response()
    }
}
