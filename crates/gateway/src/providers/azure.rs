//! Azure OpenAI: OpenAI's wire format at
//! `{resource}/openai/deployments/{azure_deployment}/{chat/completions|embeddings}?api-version=…`
//! (Responses: the v1 API's `{resource}/openai/v1/responses`, the deployment as `model`)
//! with the key in `api-key`. Bodies, responses and streams are OpenAI's and are read
//! by [`super::openai`]; this file changes the address and the key header, drops
//! Azure's prompt-filter chunk (empty `choices`, no usage: an OpenAI client does not
//! expect it), and maps Azure's content-filter refusal to a 400 with code
//! `content_filter` that names the filtered categories, never the text.

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::openai::{OpenAiCompatible, native_body};
use super::{
    Adapter, Malformed, Operation, ParsedResponse, StreamOut, StreamState, UpstreamEvent,
    UpstreamRequest,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub struct Azure;

const PROVIDER: &str = "azure";

#[derive(Deserialize)]
struct ChunkHead {
    #[serde(default)]
    choices: Vec<IgnoredAny>,
    usage: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    innererror: Option<InnerError>,
}

#[derive(Deserialize)]
struct InnerError {
    code: Option<String>,
    #[serde(default)]
    content_filter_result: Map<String, Value>,
}

/// Azure's refusal of a prompt its content filter flagged.
fn content_filtered(categories: Vec<&str>) -> ApiError {
    let mut message = format!(
        "The provider {PROVIDER} refused the request: its content filter flagged the prompt"
    );
    if !categories.is_empty() {
        message.push_str(&format!(" ({})", categories.join(", ")));
    }
    message.push('.');
    ApiError {
        status: StatusCode::BAD_REQUEST,
        kind: "invalid_request_error",
        code: Some("content_filter"),
        message,
        retry_after_secs: None,
    }
}

impl Adapter for Azure {
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        let mut request = OpenAiCompatible.request(op, target, body, stream)?;
        let d = &target.deployment;
        let (Some(deployment), Some(version)) = (&d.azure_deployment, &d.api_version) else {
            // The configuration is validated at start-up; this cannot be reached.
            return Err(ApiError::internal());
        };
        request.url = match op {
            Operation::Chat | Operation::Embeddings => {
                let path = if op == Operation::Chat {
                    "chat/completions"
                } else {
                    "embeddings"
                };
                format!(
                    "{}/openai/deployments/{deployment}/{path}?api-version={version}",
                    d.base_url
                )
            }
            // The v1 API: no version, and the deployment is the body's `model`.
            Operation::Responses => {
                request.body = native_body(op, deployment, body, stream)?.into();
                format!("{}/openai/v1/responses", d.base_url)
            }
            Operation::Messages | Operation::CountTokens => return Err(ApiError::internal()),
        };
        request.headers.remove(AUTHORIZATION);
        if let Some(key) = &d.credential {
            let mut value =
                HeaderValue::try_from(key.expose()).map_err(|_| ApiError::internal())?;
            value.set_sensitive(true);
            request.headers.insert("api-key", value);
        }
        Ok(request)
    }

    fn response(
        &self,
        op: Operation,
        target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        OpenAiCompatible.response(op, target, body)
    }

    fn stream_event(
        &self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        if event.data != "[DONE]" {
            let head: ChunkHead = serde_json::from_str(event.data).map_err(|_| Malformed)?;
            if head.choices.is_empty() && head.usage.is_none() {
                return Ok(StreamOut::Skip);
            }
        }
        OpenAiCompatible.stream_event(target, state, event)
    }

    fn error(
        &self,
        target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        if status == StatusCode::BAD_REQUEST
            && let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body)
        {
            let inner = error.innererror;
            let flagged = error.code.as_deref() == Some("content_filter")
                || inner.as_ref().and_then(|i| i.code.as_deref())
                    == Some("ResponsibleAIPolicyViolation");
            if flagged {
                let categories = inner
                    .as_ref()
                    .map(|i| {
                        i.content_filter_result
                            .iter()
                            .filter(|(name, result)| {
                                result["filtered"] == true
                                    && name.len() <= 40
                                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            })
                            .map(|(name, _)| name.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                return content_filtered(categories);
            }
        }
        OpenAiCompatible.error(target, status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ResponseBody;
    use crate::providers::common::testing::{body, drive, target};
    use meridian_core::config::ProviderKind;
    use serde_json::json;

    #[test]
    fn golden_request_address_and_key() {
        let t = target(ProviderKind::Azure, "gpt-4o", None);
        let client = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}], "usage": {"include": true}});
        let req = Azure
            .request(Operation::Chat, &t, &body(client), true)
            .unwrap();
        assert_eq!(
            req.url,
            "http://upstream.test/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(req.headers["api-key"], "upstream-key");
        assert!(req.headers["api-key"].is_sensitive());
        assert!(!req.headers.contains_key(AUTHORIZATION));
        let native: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            native,
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                   "stream_options": {"include_usage": true}})
        );
        let req = Azure
            .request(
                Operation::Embeddings,
                &t,
                &body(json!({"model": "m", "input": "x"})),
                false,
            )
            .unwrap();
        assert_eq!(
            req.url,
            "http://upstream.test/openai/deployments/gpt-4o-prod/embeddings?api-version=2024-10-21"
        );
    }

    /// Azure's documented response, with its filter annotations passed through.
    #[test]
    fn response_is_openais() {
        let raw = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",
            "prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],
            "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"},
                "content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],
            "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,
                "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#;
        let t = target(ProviderKind::Azure, "gpt-4o", None);
        let parsed = Azure
            .response(Operation::Chat, &t, Bytes::from_static(raw))
            .unwrap();
        assert_eq!((parsed.usage.prompt, parsed.usage.cached), (9, Some(0)));
        assert!(matches!(parsed.body, ResponseBody::Unchanged(_)));
    }

    #[test]
    fn the_prompt_filter_chunk_is_dropped() {
        let (chunks, usage, done) = drive(
            &target(ProviderKind::Azure, "gpt-4o", None),
            &[
                r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"id":"c1","object":"chat.completion.chunk","model":"gpt-4o"}"#,
                r#"{"choices":[],"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#,
                "[DONE]",
            ],
        );
        assert!(done);
        assert_eq!(chunks.len(), 1, "only the content chunk reaches the client");
        assert_eq!(chunks[0]["id"], "c1");
        assert_eq!(usage.unwrap().0.completion, 1);
    }

    #[test]
    fn content_filter_names_categories_never_text() {
        let t = target(ProviderKind::Azure, "gpt-4o", None);
        let body = br#"{"error":{"message":"CANARY","type":null,"param":"prompt","code":"content_filter","status":400,
            "innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{
                "hate":{"filtered":true,"severity":"high"},"jailbreak":{"filtered":false,"detected":false},
                "violence":{"filtered":true,"severity":"medium"}}}}}"#;
        let err = Azure.error(&t, StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.code, Some("content_filter"));
        assert_eq!(
            err.message,
            "The provider azure refused the request: its content filter flagged the prompt (hate, violence)."
        );
        let err = Azure.error(&t, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), b"{}");
        assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(err.message.contains(PROVIDER));
    }
}
