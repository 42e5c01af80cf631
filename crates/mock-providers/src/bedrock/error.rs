//! AWS's error response for Bedrock's REST-JSON protocol: the exception's name in the
//! `x-amzn-ErrorType` header (with its namespace after a `:`, as AWS sends it), the
//! message in the body, `{"message": …}`. Messages name fields, never content.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request_id;
use crate::gate;

/// Where AWS's front door puts authentication failures, and Bedrock the rest.
const CORAL: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";
const BEDROCK: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";

/// One refusal, in AWS's shape.
#[derive(Debug)]
pub(crate) struct Error {
    status: StatusCode,
    exception: &'static str,
    message: String,
}

impl Error {
    pub(crate) fn new(
        status: StatusCode,
        exception: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            exception,
            message: message.into(),
        }
    }

    /// A 400 `ValidationException`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// What Bedrock answers with `status`, as an injected fault.
    pub(crate) fn for_status(status: StatusCode) -> Self {
        let (exception, message) = match status.as_u16() {
            400 => ("ValidationException", "The request is invalid."),
            403 => (
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            ),
            404 => (
                "ResourceNotFoundException",
                "The specified resource could not be found.",
            ),
            408 => (
                "ModelTimeoutException",
                "The model timed out while processing the request.",
            ),
            424 => (
                "ModelErrorException",
                "The model returned an error while processing the request.",
            ),
            429 => (
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
            ),
            503 => (
                "ServiceUnavailableException",
                "Bedrock is unable to process your request.",
            ),
            500.. => (
                "InternalServerException",
                "The server encountered an internal error.",
            ),
            _ => ("ValidationException", "The request is invalid."),
        };
        Self::new(status, exception, message)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let namespace = match self.exception {
            "MissingAuthenticationTokenException"
            | "IncompleteSignatureException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException" => CORAL,
            _ => BEDROCK,
        };
        let body = json!({"message": self.message}).to_string().into_bytes();
        let mut response = gate::json_response(body, None);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        let kind = format!("{}:{namespace}", self.exception);
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_str(&kind).expect("ASCII"),
        );
        headers.insert(
            "x-amzn-requestid",
            HeaderValue::from_str(&request_id()).expect("ASCII"),
        );
        response
    }
}
