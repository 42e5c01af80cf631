//! OpenAI's error body, `{"error": {"message", "type", "param", "code"}}`, with the
//! messages OpenAI's request validator uses. Messages name parameters, never content.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::capacity::Throttle;

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

/// OpenAI's 429 above a deployment's capacity, in its words, with `retry-after` and
/// its `x-ratelimit-*` headers.
pub(crate) fn throttled(t: &Throttle) -> Response {
    let (kind, unit, limit, left) = if t.on_requests {
        (
            "requests",
            "requests per min (RPM)",
            u64::from(t.capacity.rpm),
            u64::from(t.requests_left),
        )
    } else {
        (
            "tokens",
            "tokens per min (TPM)",
            t.capacity.tpm,
            t.tokens_left,
        )
    };
    let requested = if t.on_requests { 1 } else { t.requested };
    let message = format!(
        "Rate limit reached on {unit}: Limit {limit}, Used {}, Requested {requested}. Please try again in {}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        limit - left,
        go_duration(t.retry_after),
    );
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, kind, message)
        .with_code("rate_limit_exceeded")
        .with_retry_after(Some(t.retry_after_secs()))
        .into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ratelimit-limit-requests", t.capacity.rpm.to_string());
    set("x-ratelimit-limit-tokens", t.capacity.tpm.to_string());
    set(
        "x-ratelimit-remaining-requests",
        t.requests_left.to_string(),
    );
    set("x-ratelimit-remaining-tokens", t.tokens_left.to_string());
    set("x-ratelimit-reset-requests", go_duration(t.requests_reset));
    set("x-ratelimit-reset-tokens", go_duration(t.tokens_reset));
    response
}

/// A duration as OpenAI writes it in `x-ratelimit-reset-*` (Go's notation): `20ms`,
/// `1.5s`, `6m0s`.
fn go_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..60_000 => {
            let secs = format!("{}.{:03}", ms / 1000, ms % 1000);
            format!("{}s", secs.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => format!("{}m{}s", ms / 60_000, ms % 60_000 / 1000),
    }
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
