//! `POST /v1/messages` and `POST /v1/messages/count_tokens`, Anthropic's Messages
//! API. Deployments that speak it get the client's body with the model renamed:
//! Anthropic with the client's `anthropic-version` and `anthropic-beta` headers,
//! Bedrock's InvokeModel with the betas in the body, Claude on Vertex with them as
//! the header; their answer and events pass through ([`native`]). Every other
//! deployment gets the request as a chat request ([`to_chat`]) through the same
//! adapters as `/v1/chat/completions`, and its answer is written back as a `message`
//! ([`from_chat`]) or as Anthropic's events ([`events`]). Model ids are the
//! public ones (`anthropic/claude-sonnet-4-5`) or Anthropic's own names
//! (`claude-sonnet-4-5`, dated snapshots such as `claude-sonnet-4-5-20250929`), which
//! resolve to the same deployments ([`model_id`]).
//!
//! `count_tokens` asks a deployment that offers the endpoint (Anthropic, Bedrock's
//! CountTokens, Vertex's `count-tokens:rawPredict`); a model served by none
//! (or whose deployments all fail) is counted here with the model's tokenizer
//! ([`crate::tokens`]), and the answer says which in `x-meridian-token-count`. It is
//! never metered as usage.
//!
//! Failover, metering and the `x-meridian-*` headers are chat's ([`crate::proxy`]);
//! errors are in Anthropic's shape ([`ApiError::anthropic_response`]).

pub(crate) mod events;
pub(crate) mod from_chat;
mod native;
pub(crate) mod to_chat;

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use meridian_core::KeyEntry;
use meridian_core::config::ProviderKind;
use serde_json::json;

use crate::Gateway;
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::meter::Meter;
use crate::metrics::InFlight;
use crate::providers::{Operation, ResponseBody, vertex_claude};
use crate::proxy::{self, Failure, NativeOrChat, Payload};
use crate::request::{ClientRequest, parse_messages};
use crate::stream::StreamFormat;
use crate::targets::{ModelRoute, Target};
use crate::tokens;

/// Says who counted a `count_tokens` answer: `provider` or `local`.
pub const TOKEN_COUNT: HeaderName = HeaderName::from_static("x-meridian-token-count");

const VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const BETA: HeaderName = HeaderName::from_static("anthropic-beta");

/// The client's headers that Anthropic deployments get as they were sent.
#[derive(Debug, Default)]
pub(crate) struct ClientHeaders {
    version: Option<HeaderValue>,
    beta: Option<HeaderValue>,
}

impl ClientHeaders {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        Self {
            version: headers.get(VERSION).cloned(),
            beta: headers.get(BETA).cloned(),
        }
    }

    /// `body` with the betas of `anthropic-beta` as its `anthropic_beta` member, as
    /// Bedrock takes them; `None` without betas.
    fn betas_in(&self, body: &ClientBody) -> Option<Result<ClientBody, ApiError>> {
        let betas: Vec<&str> = self
            .beta
            .as_ref()?
            .to_str()
            .ok()?
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .collect();
        let json = serde_json::to_vec(&betas).ok()?;
        let with = body.with_changes(&[("anthropic_beta", Some(&json))]);
        Some(ClientBody::parse(Bytes::from(with)))
    }
}

/// Whether the target serves the Messages API itself: Anthropic, Anthropic's
/// models on Bedrock (InvokeModel; `anthropic.…` model ids and inference profiles)
/// and Claude on Vertex AI (`rawPredict`). Each also counts a Messages request's
/// tokens (`count_tokens`, CountTokens, `count-tokens:rawPredict`).
fn speaks_messages(target: &Target) -> bool {
    match target.deployment.provider {
        ProviderKind::Anthropic => true,
        ProviderKind::Bedrock => target.upstream_model.contains("anthropic."),
        ProviderKind::Vertex => vertex_claude::is_claude(&target.upstream_model),
        _ => false,
    }
}

/// Whether the target has Anthropic's own endpoints (`count_tokens`, and the
/// `anthropic-version` and `anthropic-beta` headers).
fn is_anthropic(target: &Target) -> bool {
    target.deployment.provider == ProviderKind::Anthropic
}

/// Whether the target takes the client's betas as the `anthropic-beta` header:
/// Anthropic, and Claude on Vertex (whose version is in the body instead).
fn takes_beta_header(target: &Target) -> bool {
    is_anthropic(target)
        || (target.deployment.provider == ProviderKind::Vertex && speaks_messages(target))
}

/// Whether the target takes the client's betas in the body (`anthropic_beta`):
/// Bedrock's InvokeModel.
fn takes_betas_in_body(target: &Target) -> bool {
    target.deployment.provider == ProviderKind::Bedrock && speaks_messages(target)
}

/// What each target is sent: the client's body and headers to those that speak the
/// Messages API (Bedrock: with the betas in the body, as `anthropic_beta`).
struct Bodies<'a> {
    bodies: NativeOrChat<'a>,
    headers: &'a ClientHeaders,
    with_betas: Option<&'a ClientBody>,
}

impl Payload for Bodies<'_> {
    fn for_target(&self, target: &Target) -> Result<(Operation, &ClientBody), ApiError> {
        match self.with_betas {
            Some(body) if takes_betas_in_body(target) => Ok((self.bodies.native_op, body)),
            _ => self.bodies.for_target(target),
        }
    }

    fn forward_headers(&self, target: &Target, headers: &mut HeaderMap) {
        if !takes_beta_header(target) {
            return;
        }
        if let Some(version) = self
            .headers
            .version
            .as_ref()
            .filter(|_| is_anthropic(target))
        {
            headers.insert(VERSION, version.clone());
        }
        if let Some(beta) = &self.headers.beta {
            headers.insert(BETA, beta.clone());
        }
    }
}

/// The id a model is served under: the one asked when it is served, else the
/// public id of Anthropic's name for it (a dated snapshot or `-latest` alias of a
/// served model, with or without the `anthropic/` vendor), with its version dashed
/// (`claude-sonnet-4-5`) or dotted (OpenRouter's `claude-sonnet-4.5`) as the public
/// id has it.
fn model_id<'a>(gw: &Gateway, asked: &'a str) -> Cow<'a, str> {
    if gw.models.resolve(asked).is_some() {
        return Cow::Borrowed(asked);
    }
    let bare = asked.strip_prefix("anthropic/").unwrap_or(asked);
    let undated = match bare.rsplit_once('-') {
        Some((name, "latest")) => name,
        Some((name, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => bare,
    };
    let dashed = undated.replace('.', "-");
    let dotted = dotted_versions(undated);
    let candidates = [
        undated.to_string(),
        format!("anthropic/{undated}"),
        format!("anthropic/{dashed}"),
        format!("anthropic/{dotted}"),
    ];
    candidates
        .into_iter()
        .find(|id| gw.models.resolve(id).is_some())
        .map_or(Cow::Borrowed(asked), Cow::Owned)
}

/// `claude-sonnet-4-5` as OpenRouter writes it: `claude-sonnet-4.5`.
fn dotted_versions(name: &str) -> String {
    let bytes = name.as_bytes();
    name.char_indices()
        .map(|(i, c)| {
            let between_digits = c == '-'
                && i > 0
                && bytes[i - 1].is_ascii_digit()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                // A version part is short; a date is not.
                && bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count() < 3;
            if between_digits { '.' } else { c }
        })
        .collect()
}

pub(crate) async fn serve(
    gw: &Gateway,
    key: &KeyEntry,
    op: Operation,
    headers: ClientHeaders,
    bytes: Bytes,
    meter: &mut Meter,
    in_flight: InFlight,
) -> Result<Response, Failure> {
    let request = parse_messages(bytes, op == Operation::CountTokens).map_err(|e| (e, None))?;
    let model = model_id(gw, &request.model);
    let routes = proxy::resolve(gw, &model, &request.controls.models, op, meter)?;
    if op == Operation::CountTokens {
        return count_tokens(gw, key, &request, &headers, &routes, meter).await;
    }
    let chat = routes
        .iter()
        .flat_map(|r| &r.targets)
        .any(|t| !speaks_messages(t))
        .then(|| to_chat::translate(&request.body));
    let with_betas = with_betas(&routes, &headers, &request.body)?;
    let payload = Bodies {
        bodies: NativeOrChat {
            native_op: Operation::Messages,
            speaks_native: speaks_messages,
            native: &request.body,
            chat: chat.as_ref(),
        },
        headers: &headers,
        with_betas: with_betas.as_ref(),
    };
    let (target, upstream) = proxy::call(
        gw,
        key,
        &routes,
        &payload,
        &request.controls,
        request.stream,
        meter,
    )
    .await?;
    let native = speaks_messages(&target);
    if request.stream {
        let (body, format): (ClientBody, Box<dyn StreamFormat>) = match chat {
            Some(Ok(chat)) if !native => (
                chat,
                Box::new(events::Reencoder::new(&request.model, request.wants_usage)),
            ),
            _ => (
                request.body,
                Box::new(native::Passthrough {
                    wants_usage: request.wants_usage,
                }),
            ),
        };
        let response = proxy::stream_back(gw, upstream, &target, body, meter, in_flight, format);
        return Ok(response.await);
    }
    let bytes = proxy::read_upstream_body(gw, &target, upstream).await?;
    let op = if native {
        Operation::Messages
    } else {
        Operation::Chat
    };
    let parsed = target
        .deployment
        .adapter
        .response(op, &target, bytes)
        .map_err(|_| malformed(&target))?;
    let body = if native {
        parsed.body
    } else {
        let message = from_chat::message(parsed.body, &parsed.usage, &request.model)
            .map_err(|_| malformed(&target))?;
        ResponseBody::Translated(message)
    };
    proxy::answer_whole(gw, meter, &target, parsed.usage, body, request.wants_usage).await
}

/// The body with the client's betas in it, when a target that speaks the Messages
/// API takes them in the body (Bedrock) and the client sent some.
fn with_betas(
    routes: &[std::sync::Arc<ModelRoute>],
    headers: &ClientHeaders,
    body: &ClientBody,
) -> Result<Option<ClientBody>, Failure> {
    routes
        .iter()
        .flat_map(|r| &r.targets)
        .any(|t| takes_betas_in_body(t))
        .then(|| headers.betas_in(body))
        .flatten()
        .transpose()
        .map_err(|e| (e, None))
}

fn malformed(target: &std::sync::Arc<Target>) -> Failure {
    (
        ApiError::upstream_malformed(target.deployment.provider.as_str()),
        Some(target.clone()),
    )
}

/// `count_tokens`: from a deployment that offers it, else counted here.
async fn count_tokens(
    gw: &Gateway,
    key: &KeyEntry,
    request: &ClientRequest,
    headers: &ClientHeaders,
    routes: &[std::sync::Arc<ModelRoute>],
    meter: &mut Meter,
) -> Result<Response, Failure> {
    let offered = routes
        .iter()
        .flat_map(|r| &r.targets)
        .any(|t| speaks_messages(t));
    if offered {
        let not_offered = Err(ApiError::unsupported(
            "This deployment does not count tokens.",
        ));
        let with_betas = with_betas(routes, headers, &request.body)?;
        let payload = Bodies {
            bodies: NativeOrChat {
                native_op: Operation::CountTokens,
                speaks_native: speaks_messages,
                native: &request.body,
                chat: Some(&not_offered),
            },
            headers,
            with_betas: with_betas.as_ref(),
        };
        let called = proxy::call(gw, key, routes, &payload, &request.controls, false, meter).await;
        match called {
            Ok((target, upstream)) => {
                let bytes = proxy::read_upstream_body(gw, &target, upstream).await?;
                let parsed = target
                    .deployment
                    .adapter
                    .response(Operation::CountTokens, &target, bytes)
                    .map_err(|_| malformed(&target))?;
                let bytes = match parsed.body {
                    ResponseBody::Unchanged(bytes) => bytes,
                    ResponseBody::Translated(answer) => {
                        Bytes::from(serde_json::to_vec(&answer).map_err(|_| malformed(&target))?)
                    }
                };
                return Ok(counted(bytes, "provider", Some(&target)));
            }
            // No deployment could count: the client still gets a count, ours.
            Err((error, _)) if error.status.is_server_error() || error.status == 429 => {}
            Err(failure) => return Err(failure),
        }
    }
    let upstream_model = routes[0]
        .targets
        .first()
        .map_or(routes[0].public_id.as_str(), |t| t.upstream_model.as_str());
    let input_tokens = tokens::count_prompt(upstream_model, &request.body);
    let body = json!({ "input_tokens": input_tokens }).to_string();
    Ok(counted(Bytes::from(body), "local", None))
}

fn counted(body: Bytes, by: &'static str, target: Option<&Target>) -> Response {
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(TOKEN_COUNT, HeaderValue::from_static(by));
    if let Some(target) = target {
        proxy::target_headers(h, target);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dotted_and_dates_are_not() {
        assert_eq!(dotted_versions("claude-sonnet-4-5"), "claude-sonnet-4.5");
        assert_eq!(dotted_versions("claude-3-5-haiku"), "claude-3.5-haiku");
        assert_eq!(dotted_versions("claude-opus-4"), "claude-opus-4");
        assert_eq!(
            dotted_versions("claude-sonnet-4-20250514"),
            "claude-sonnet-4-20250514"
        );
    }

    #[test]
    fn betas_go_in_the_body_for_bedrock() {
        let mut headers = HeaderMap::new();
        headers.insert(BETA, HeaderValue::from_static("a-1, b-2"));
        let body = ClientBody::parse(Bytes::from_static(br#"{"model":"m"}"#)).unwrap();
        let with = ClientHeaders::of(&headers)
            .betas_in(&body)
            .unwrap()
            .unwrap();
        assert_eq!(with.get("anthropic_beta"), Some(r#"["a-1","b-2"]"#));
        assert!(ClientHeaders::default().betas_in(&body).is_none());
    }
}
