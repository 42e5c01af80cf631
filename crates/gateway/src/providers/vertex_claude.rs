//! Anthropic's Claude on Vertex AI: `POST {base}/v1/projects/{project}/locations/
//! {region}/publishers/anthropic/models/{model}:rawPredict` (`:streamRawPredict` for a
//! stream) with a bearer access token, and `…/models/count-tokens:rawPredict` for
//! `count_tokens`. The body is Anthropic's Messages body as [`super::anthropic`]
//! builds it (the client's, passed through, or translated from a chat request) with
//! the model in the path instead (`count_tokens` keeps it in the body) and
//! `anthropic_version: vertex-2023-10-16`; betas go as the `anthropic-beta` header
//! ([`crate::messages`]). Answers and stream events are Anthropic's, read by the
//! Anthropic adapter; errors are Anthropic's shape from Claude, Google's from Vertex
//! itself (credentials, quota), each read as its author writes it.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use super::anthropic::{self, Anthropic};
use super::gemini::Gemini;
use super::{
    Adapter, Malformed, Operation, ParsedResponse, StreamOut, StreamState, UpstreamEvent,
    UpstreamRequest, common,
};
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::targets::Target;

pub struct VertexClaude;

const PROVIDER: &str = "vertex";
/// The `anthropic_version` Vertex requires in the body.
const VERSION: &[u8] = br#""vertex-2023-10-16""#;

/// Whether a Vertex model is Anthropic's (published under `publishers/anthropic`):
/// Claude's ids (`claude-sonnet-4-5@20250929`).
pub fn is_claude(upstream_model: &str) -> bool {
    upstream_model.starts_with("claude")
}

impl Adapter for VertexClaude {
    fn request(
        &self,
        op: Operation,
        target: &Target,
        body: &ClientBody,
        stream: bool,
    ) -> Result<UpstreamRequest, ApiError> {
        let messages = Anthropic.request(op, target, body, stream)?.body;
        let messages = ClientBody::parse(messages).map_err(|_| ApiError::internal())?;
        let version = ("anthropic_version", Some(VERSION));
        let (specifier, body) = match op {
            Operation::CountTokens => (
                "count-tokens:rawPredict".to_string(),
                messages.with_changes(&[version]),
            ),
            _ => {
                let method = if stream {
                    "streamRawPredict"
                } else {
                    "rawPredict"
                };
                (
                    format!("{}:{method}", target.upstream_model),
                    messages.with_changes(&[("model", None), version]),
                )
            }
        };
        let d = &target.deployment;
        let project = d.project.as_deref().ok_or_else(ApiError::internal)?;
        let url = format!(
            "{}/v1/projects/{project}/locations/{}/publishers/anthropic/models/{specifier}",
            d.base_url, d.region
        );
        let token = d.credential.as_ref().map(|k| k.expose());
        let headers =
            common::json_headers(token.map(|t| ("authorization", format!("Bearer {t}"))))?;
        Ok(UpstreamRequest {
            method: Method::POST,
            url,
            headers,
            body: Bytes::from(body),
        })
    }

    fn response(
        &self,
        op: Operation,
        target: &Target,
        body: Bytes,
    ) -> Result<ParsedResponse, Malformed> {
        Anthropic.response(op, target, body)
    }

    fn stream_event(
        &self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
    ) -> Result<StreamOut, Malformed> {
        Anthropic.stream_event(target, state, event)
    }

    fn error(
        &self,
        target: &Target,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        anthropic::error_in_shape(PROVIDER, status, headers, body)
            .unwrap_or_else(|| Gemini::VERTEX.error(target, status, headers, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::common::testing::{body, target};
    use meridian_core::config::ProviderKind;
    use serde_json::{Value, json};

    fn request(op: Operation, client: Value, stream: bool) -> (String, HeaderMap, Value) {
        let t = target(ProviderKind::Vertex, "claude-sonnet-4-5@20250929", None);
        let r = VertexClaude.request(op, &t, &body(client), stream).unwrap();
        (r.url, r.headers, serde_json::from_slice(&r.body).unwrap())
    }

    #[test]
    fn messages_pass_with_the_model_in_the_path_and_vertex_s_version() {
        let client = json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 64, "stream": true,
            "system": [{"type": "text", "text": "terse", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "messages": [{"role": "user", "content": "hi"}], "usage": {"include": true}});
        let (url, headers, sent) = request(Operation::Messages, client, true);
        assert_eq!(
            url,
            "http://upstream.test/v1/projects/my-project/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
        );
        assert_eq!(headers["authorization"], "Bearer upstream-key");
        assert_eq!(
            sent,
            json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64, "stream": true,
                "system": [{"type": "text", "text": "terse", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
                "messages": [{"role": "user", "content": "hi"}]})
        );
    }

    #[test]
    fn a_chat_request_is_anthropic_s_translation_and_count_tokens_keeps_the_model() {
        let (url, _, sent) = request(
            Operation::Chat,
            json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}),
            false,
        );
        assert!(
            url.ends_with("/claude-sonnet-4-5@20250929:rawPredict"),
            "{url}"
        );
        assert_eq!(sent["anthropic_version"], "vertex-2023-10-16");
        assert_eq!(
            sent["messages"],
            json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
        );
        assert!(sent.get("model").is_none());
        let (url, _, sent) = request(
            Operation::CountTokens,
            json!({"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}),
            false,
        );
        assert!(
            url.ends_with("/publishers/anthropic/models/count-tokens:rawPredict"),
            "{url}"
        );
        assert_eq!(sent["model"], "claude-sonnet-4-5@20250929");
        assert_eq!(sent["anthropic_version"], "vertex-2023-10-16");
    }

    #[test]
    fn errors_are_read_in_claude_s_shape_or_google_s() {
        let t = target(ProviderKind::Vertex, "claude-sonnet-4-5@20250929", None);
        let overloaded =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"CANARY"}}"#;
        let e = VertexClaude.error(
            &t,
            StatusCode::from_u16(529).unwrap(),
            &HeaderMap::new(),
            overloaded,
        );
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        let quota = br#"{"error":{"code":429,"message":"CANARY","status":"RESOURCE_EXHAUSTED"}}"#;
        let e = VertexClaude.error(&t, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), quota);
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(!format!("{e:?}").contains("CANARY"));
    }
}
