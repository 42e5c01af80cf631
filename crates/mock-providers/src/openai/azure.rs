//! Azure OpenAI around the OpenAI bodies: the deployment in the path, `api-version`
//! required in the query, the key in `api-key` (or `Authorization: Bearer`), Azure's
//! own bodies for those refusals, and its content filter, which refuses a prompt
//! containing the word `MERIDIAN_FILTER_ME`.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::error;
use super::request::Object;
use crate::capacity::Throttle;
use crate::gate::{self, Provider};
use crate::tokens;

/// The word that trips the mock's content filter.
const FILTERED_WORD: &str = "MERIDIAN_FILTER_ME";

const ACCESS_DENIED: &str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";

const FILTERED: &str = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

/// Azure OpenAI: a status fault is answered as OpenAI answers it.
pub(crate) struct Azure;

impl Provider for Azure {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        error::status_error(status, retry_after_secs).into_response()
    }

    /// Azure's 429 of a provisioned deployment: its gateway's body, `retry-after-ms`
    /// and `retry-after`, and what is left of each limit.
    fn throttled(throttle: &Throttle) -> Response {
        let limit = if throttle.on_requests {
            "call"
        } else {
            "token"
        };
        let secs = throttle.retry_after_secs();
        let message = format!(
            "Requests to this deployment have exceeded {limit} rate limit of your current ProvisionedManaged pricing tier. Please retry after {secs} seconds."
        );
        let mut response = gateway_error(StatusCode::TOO_MANY_REQUESTS, &message);
        let headers = response.headers_mut();
        headers.insert(
            "retry-after-ms",
            HeaderValue::from(throttle.retry_after_ms()),
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(throttle.requests_left),
        );
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from(throttle.tokens_left),
        );
        response
    }

    fn refusal(head: &Parts, _: &Bytes) -> Option<Response> {
        let keyed =
            gate::has_value(&head.headers, "api-key") || gate::bearer(&head.headers).is_some();
        if gate::query_param(&head.uri, "api-version").is_none() {
            Some(gateway_error(StatusCode::NOT_FOUND, "Resource not found"))
        } else if !keyed {
            Some(gateway_error(StatusCode::UNAUTHORIZED, ACCESS_DENIED))
        } else {
            None
        }
    }
}

/// Azure OpenAI's v1 API (`/openai/v1/…`): no `api-version`, the same keys and errors.
pub(crate) struct AzureV1;

impl Provider for AzureV1 {
    fn fault(status: StatusCode, retry_after_secs: Option<u32>) -> Response {
        Azure::fault(status, retry_after_secs)
    }

    fn throttled(throttle: &Throttle) -> Response {
        Azure::throttled(throttle)
    }

    fn refusal(head: &Parts, _: &Bytes) -> Option<Response> {
        let keyed =
            gate::has_value(&head.headers, "api-key") || gate::bearer(&head.headers).is_some();
        (!keyed).then(|| gateway_error(StatusCode::UNAUTHORIZED, ACCESS_DENIED))
    }
}

/// Azure's gateway errors: `{"error": {"code": "<status>", "message"}}`.
fn gateway_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_str(), "message": message}});
    (
        status,
        gate::json_response(body.to_string().into_bytes(), None),
    )
        .into_response()
}

/// Whether any message's text contains the filtered word.
pub(crate) fn filtered(object: &Object) -> bool {
    object
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|message| message.get("content"))
        .flat_map(tokens::text_parts)
        .any(|text| text.contains(FILTERED_WORD))
}

/// The content filter's 400: the prompt's violence filter tripped.
pub(crate) fn content_filter_error() -> Response {
    let safe = json!({"filtered": false, "severity": "safe"});
    let body = json!({"error": {
        "message": FILTERED,
        "type": null,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": safe,
                "jailbreak": {"filtered": false, "detected": false},
                "self_harm": safe,
                "sexual": safe,
                "violence": {"filtered": true, "severity": "medium"},
            },
        },
    }});
    let body = body.to_string().into_bytes();
    (StatusCode::BAD_REQUEST, gate::json_response(body, None)).into_response()
}
