//! Anthropic's error body, `{"type": "error", "error": {"type", "message"},
//! "request_id"}`, with a `request-id` header (and `retry-after` on a rate limit).
//! Messages name fields, never content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request_id;
use crate::gate;

/// One refusal, in Anthropic's shape.
#[derive(Debug)]
pub(crate) struct Error {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after_secs: Option<u32>,
}

impl Error {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// What Anthropic answers with `status`, as an injected fault.
    pub(crate) fn for_status(status: StatusCode, retry_after_secs: Option<u32>) -> Self {
        let (kind, message) = match status.as_u16() {
            400 => (
                "invalid_request_error",
                "There was an issue with the format or content of your request.",
            ),
            401 => ("authentication_error", "invalid x-api-key"),
            402 => (
                "billing_error",
                "Your credit balance is too low to access the Anthropic API.",
            ),
            403 => (
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
            ),
            404 => (
                "not_found_error",
                "The requested resource could not be found.",
            ),
            413 => (
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes.",
            ),
            429 => (
                "rate_limit_error",
                "This request would exceed the rate limit for your organization. Please try again later.",
            ),
            504 => (
                "timeout_error",
                "Request timed out before a response could be generated.",
            ),
            529 => ("overloaded_error", "Overloaded"),
            500.. => ("api_error", "Internal server error"),
            _ => (
                "invalid_request_error",
                "There was an issue with the format or content of your request.",
            ),
        };
        Self {
            retry_after_secs,
            ..Self::new(status, kind, message)
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let id = request_id();
        let body = json!({
            "type": "error",
            "error": {"type": self.kind, "message": self.message},
            "request_id": id,
        });
        let mut response = gate::json_response(body.to_string().into_bytes(), None);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            "request-id",
            HeaderValue::from_str(&id).expect("ids are ASCII"),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
