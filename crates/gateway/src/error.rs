//! Errors a client of `/v1/*` can see, in OpenAI's shape (Anthropic's on
//! `/v1/messages`, [`ApiError::anthropic_response`]). Every message is built here from
//! fixed text, field paths and numbers: never from request or response content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meridian_core::wire::shown_id;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// OpenAI's `error.type`.
    pub kind: &'static str,
    /// OpenAI's `error.code`.
    pub code: Option<&'static str>,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("missing_api_key"),
            "No API key provided: send it as `Authorization: Bearer mk-...` (or `x-api-key: mk-...`).",
        )
    }

    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        )
    }

    pub fn revoked_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "This API key has been revoked.",
        )
    }

    pub fn expired_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "This API key has expired.",
        )
    }

    pub fn unknown_model(model: &str) -> Self {
        let shown = shown_id(model);
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!(
                "The model `{shown}` does not exist or is not served by this gateway; GET /v1/models lists the models."
            ),
        )
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("unsupported_parameter"),
            message,
        )
    }

    /// The model is served, but not by this endpoint (the catalog's mode of the
    /// model says which it is).
    pub fn wrong_endpoint(model: &str, embedding_model: bool) -> Self {
        let shown = shown_id(model);
        let message = if embedding_model {
            format!("The model `{shown}` is an embedding model: send it to POST /v1/embeddings.")
        } else {
            format!(
                "The model `{shown}` is not an embedding model: POST /v1/embeddings takes embedding models only."
            )
        };
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("model_not_supported"),
            message,
        )
    }

    pub fn unsupported_encoding() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            Some("unsupported_content_encoding"),
            "The request body is read as sent: `Content-Encoding` must be `identity` or absent.",
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            format!("Request body is larger than the limit of {limit} bytes."),
        )
    }

    /// The request body did not arrive whole within the server's body-read timeout.
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            Some("request_timeout"),
            "The request body did not arrive in time; the connection is closed.",
        )
    }

    /// No endpoint at this path; endpoints of OpenAI's API that Meridian does not
    /// serve name the one to use instead.
    pub fn unknown_endpoint(method: &str, path: &str) -> Self {
        let endpoint = path.trim_end_matches('/');
        let hint = match endpoint {
            "/v1/completions" => {
                "this gateway does not serve it yet: use POST /v1/chat/completions"
            }
            _ => {
                "this gateway serves POST /v1/chat/completions, POST /v1/responses, POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/embeddings, GET /v1/models and GET /v1/models/{model}"
            }
        };
        let method: String = method.chars().take(20).collect();
        let shown: String = path.chars().take(100).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("unknown_url"),
            format!("Unknown endpoint {method} {shown}: {hint}."),
        )
    }

    /// A known endpoint asked with a method it does not take (the response's `Allow`
    /// header lists those it does).
    pub fn method_not_allowed(method: &str) -> Self {
        let method: String = method.chars().take(20).collect();
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            Some("method_not_allowed"),
            format!(
                "This endpoint does not take {method}; the Allow header lists the methods it takes."
            ),
        )
    }

    pub fn rate_limited(provider: &str, retry_after_secs: Option<u64>) -> Self {
        Self::too_many(
            retry_after_secs.unwrap_or(1),
            format!(
                "Every deployment of this model is at its rate limit (last tried: {provider}); retry later."
            ),
        )
    }

    /// Every deployment of the model is at its capacity (the gateway's own count, or
    /// the provider's last 429): nothing was sent; `room_in` is when the earliest may
    /// have room.
    pub fn no_capacity(room_in: std::time::Duration) -> Self {
        let secs = whole_secs(room_in);
        Self::too_many(
            secs,
            format!(
                "Every deployment of this model is at its capacity for now; retry in {secs} s."
            ),
        )
    }

    /// A 429 `rate_limit_exceeded` with `retry-after: secs`.
    fn too_many(secs: u64, message: String) -> Self {
        Self {
            retry_after_secs: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                Some("rate_limit_exceeded"),
                message,
            )
        }
    }

    /// A key's or its customer's `rpm`, `tpm` or `max_concurrency` is reached.
    pub fn over_limit(
        scope: crate::limits::Scope,
        limit: crate::limits::Limit,
        retry_after: std::time::Duration,
    ) -> Self {
        use crate::limits::Limit;
        let secs = whole_secs(retry_after);
        let whose = scope_name(scope);
        let message = match limit {
            Limit::Rpm(n) => {
                format!("{whose} limit of {n} requests per minute is reached; retry in {secs} s.")
            }
            Limit::Tpm(n) => {
                format!("{whose} limit of {n} tokens per minute is reached; retry in {secs} s.")
            }
            Limit::Concurrency(n) => format!(
                "{whose} limit of {n} concurrent requests is reached; retry when one of them ends."
            ),
        };
        Self::too_many(secs, message)
    }

    /// A key's or its customer's spend budget is spent, or would be by this request
    /// at the most it can cost (`max_cost`, USD).
    pub fn budget_exceeded(
        scope: crate::limits::Scope,
        budget: &crate::limits::Budget,
        currency: &str,
        max_cost: rust_decimal::Decimal,
        resets_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let whose = scope_name(scope);
        let period = budget.period.adjective();
        let amount = budget.amount.normalize();
        let most = (max_cost * budget.per_usd).round_dp(6).normalize();
        let resets = resets_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_quota",
            Some("budget_exceeded"),
            format!(
                "{whose} {period} spend budget of {amount} {currency} is spent, or would be by this request (it may cost up to {most} {currency}; a lower `max_tokens` reserves less); it resets at {resets}."
            ),
        )
    }

    /// A budget cannot be checked: its currency (`None`: the customer's, not loaded
    /// yet) has no stored exchange rate.
    pub fn budget_unchecked(currency: Option<&str>) -> Self {
        let (message, retry) = match currency {
            Some(currency) => (
                format!(
                    "The spend budget is in {currency}, and no USD/{currency} exchange rate is stored yet; the operator imports one with `meridian fx import FILE`."
                ),
                None,
            ),
            None => (
                "The spend budget cannot be checked until this new customer is loaded; retry in 1 s.".to_string(),
                Some(1),
            ),
        };
        Self {
            retry_after_secs: retry,
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("budget_unavailable"),
                message,
            )
        }
    }

    /// The customer's data residency leaves no deployment to serve the model: never
    /// widened to find one.
    pub fn residency_unavailable(message: String) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_error",
            Some("residency_unavailable"),
            message,
        )
    }

    /// The request's total deadline passed before any deployment answered.
    pub fn deadline_exceeded(deadline: std::time::Duration) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_error",
            Some("deadline_exceeded"),
            format!(
                "No deployment answered within the request's deadline of {} ms.",
                deadline.as_millis()
            ),
        )
    }

    /// Every deployment of the model failed recently (their breakers are open):
    /// nothing was sent; `wait` is when the first will be tried again.
    pub fn no_healthy_deployment(wait: std::time::Duration) -> Self {
        let secs = whole_secs(wait);
        Self {
            retry_after_secs: Some(secs),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_error",
                Some("no_healthy_deployment"),
                format!(
                    "Every deployment of this model is failing; the first is tried again in {secs} s."
                ),
            )
        }
    }

    pub fn upstream_status(provider: &str, status: StatusCode) -> Self {
        // The provider refusing Meridian's own credential is not the client's fault.
        let ours_to_fix = status.is_server_error()
            || status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN;
        let (ours, kind) = if ours_to_fix {
            (StatusCode::BAD_GATEWAY, "upstream_error")
        } else {
            (status, "invalid_request_error")
        };
        Self::new(
            ours,
            kind,
            Some("upstream_error"),
            format!("The provider {provider} answered {}.", status.as_u16()),
        )
    }

    /// A provider's refusal of the request (4xx other than 429). `param` and `code`
    /// are the provider's identifiers, shown only when they look like identifiers;
    /// its `message` only when it is one of the [`FIXED_REASONS`] (never other free
    /// text, which could quote the prompt).
    pub fn upstream_refused(
        provider: &str,
        status: StatusCode,
        param: Option<&str>,
        code: Option<&str>,
        message: Option<&str>,
    ) -> Self {
        let reason = message.filter(|m| FIXED_REASONS.contains(m));
        let mut message = format!(
            "The provider {provider} refused the request ({})",
            status.as_u16()
        );
        if let Some(code) = code.filter(|c| is_identifier(c)) {
            message.push_str(&format!(", code `{code}`"));
        }
        if let Some(param) = param.filter(|p| is_identifier(p)) {
            message.push_str(&format!(", parameter `{param}`"));
        }
        match reason {
            Some(reason) => message.push_str(&format!(": {reason}")),
            None => message.push('.'),
        }
        Self::new(
            status,
            "invalid_request_error",
            Some("upstream_refused"),
            message,
        )
    }

    pub fn upstream_unreachable(provider: &str) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            Some("upstream_unreachable"),
            format!("The provider {provider} could not be reached."),
        )
    }

    pub fn upstream_timeout(provider: &str) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_error",
            Some("upstream_timeout"),
            format!("The provider {provider} did not answer in time."),
        )
    }

    pub fn upstream_malformed(provider: &str) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            Some("upstream_malformed"),
            format!("The provider {provider} sent a response that could not be read."),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            "Internal error; the request was not billed.",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": null, "code": self.code}})
    }

    /// Anthropic's `error.type` for this error's status, as its API documents them.
    pub fn anthropic_kind(&self) -> &'static str {
        match self.status.as_u16() {
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            504 => "timeout_error",
            500.. => "api_error",
            _ => "invalid_request_error",
        }
    }

    /// The error in Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`.
    pub fn anthropic_body(&self) -> serde_json::Value {
        json!({"type": "error", "error": {"type": self.anthropic_kind(), "message": self.message}})
    }

    /// The response of `/v1/messages` for this error: Anthropic's shape, the same
    /// status and `retry-after`.
    pub fn anthropic_response(self) -> Response {
        let body = axum::Json(self.anthropic_body());
        self.with_retry_after((self.status, body).into_response())
    }

    fn with_retry_after(&self, mut response: Response) -> Response {
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Provider refusals whose whole text is fixed and quotes nothing of the request,
/// kept because the client cannot mend the request without them.
const FIXED_REASONS: &[&str] = &[
    // OpenAI, `response_format: {"type": "json_object"}` without the word in the prompt.
    "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
];

/// The subject of a limit's message.
fn scope_name(scope: crate::limits::Scope) -> &'static str {
    match scope {
        crate::limits::Scope::Key => "This API key's",
        crate::limits::Scope::Customer => "Your organization's",
    }
}

/// `d` in whole seconds, rounded up, at least 1 (a `retry-after` value).
fn whole_secs(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// A short token of letters, digits and `_ . - [ ]`: a field path or an error code.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-[]".contains(c))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let response = (self.status, axum::Json(self.body())).into_response();
        self.with_retry_after(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_only_a_fixed_reason_never_free_text() {
        let json = FIXED_REASONS[0];
        let e = ApiError::upstream_refused(
            "openai",
            StatusCode::BAD_REQUEST,
            Some("messages"),
            None,
            Some(json),
        );
        assert_eq!(
            e.message,
            format!("The provider openai refused the request (400), parameter `messages`: {json}")
        );
        let e = ApiError::upstream_refused(
            "openai",
            StatusCode::BAD_REQUEST,
            Some("messages"),
            None,
            Some("Your prompt 'CANARY' was flagged."),
        );
        assert_eq!(
            e.message,
            "The provider openai refused the request (400), parameter `messages`."
        );
    }
}
