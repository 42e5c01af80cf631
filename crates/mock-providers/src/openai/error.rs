//! OpenAI's error body, `{"error": {"message", "type", "param", "code"}}`, with the
//! messages OpenAI's request validator uses. Messages name parameters, never content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// One refusal, in OpenAI's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<String>,
    code: Option<&'static str>,
    retry_after_secs: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after_secs: None,
        }
    }

    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub(crate) fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub(crate) fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub(crate) fn with_retry_after(mut self, secs: Option<u32>) -> Self {
        self.retry_after_secs = secs;
        self
    }

    pub(crate) fn missing(param: &str) -> Self {
        Self::invalid(format!("Missing required parameter: '{param}'."))
            .with_param(param)
            .with_code("missing_required_parameter")
    }

    pub(crate) fn wrong_type(param: &str, expected: &str, got: &Value) -> Self {
        let got = match got {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(n) if n.is_f64() => "a decimal",
            Value::Number(_) => "an integer",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        Self::invalid(format!(
            "Invalid type for '{param}': expected {expected}, but got {got} instead."
        ))
        .with_param(param)
        .with_code("invalid_type")
    }

    pub(crate) fn unsupported_value(param: &str, value: &str, supported: &[&str]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| format!("'{s}'")).collect();
        let list = match quoted.split_last() {
            Some((last, rest)) if rest.len() > 1 => format!("{}, and {last}", rest.join(", ")),
            Some((last, [only])) => format!("{only} and {last}"),
            _ => quoted.concat(),
        };
        Self::invalid(format!(
            "Invalid value: '{value}'. Supported values are: {list}."
        ))
        .with_param(param)
        .with_code("invalid_value")
    }

    pub(crate) fn below_minimum(param: &str, minimum: u64, got: &Value) -> Self {
        Self::invalid(format!(
            "Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, but got {got} instead."
        ))
        .with_param(param)
        .with_code("integer_below_min_value")
    }
}

/// OpenAI's error for a status fault.
pub(crate) fn status_error(status: StatusCode, retry_after_secs: Option<u32>) -> ApiError {
    let error = match status.as_u16() {
        400 => ApiError::invalid("Bad request."),
        401 => ApiError::new(
            status,
            "invalid_request_error",
            "Incorrect API key provided.",
        )
        .with_code("invalid_api_key"),
        403 => ApiError::new(
            status,
            "request_forbidden",
            "Country, region, or territory not supported.",
        )
        .with_code("unsupported_country_region_territory"),
        404 => ApiError::new(
            status,
            "invalid_request_error",
            "The model does not exist or you do not have access to it.",
        )
        .with_code("model_not_found"),
        429 => ApiError::new(
            status,
            "requests",
            "Rate limit reached for requests. Please try again later.",
        )
        .with_code("rate_limit_exceeded"),
        500 => ApiError::new(
            status,
            "server_error",
            "The server had an error while processing your request. Sorry about that!",
        ),
        503 => ApiError::new(
            status,
            "server_error",
            "The server is overloaded or not ready yet.",
        ),
        code @ 500.. => ApiError::new(
            status,
            "server_error",
            format!("The server returned status {code}."),
        ),
        code => ApiError::new(
            status,
            "invalid_request_error",
            format!("The request failed with status {code}."),
        ),
    };
    error.with_retry_after(retry_after_secs)
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Envelope {
            error: Body {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
            },
        })
        .expect("an error body always serializes");
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
