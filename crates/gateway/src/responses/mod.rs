//! `POST /v1/responses`, OpenAI's Responses API. Deployments whose provider speaks it
//! (OpenAI, Azure) get the client's body with the model renamed and `store` forced to
//! false, and their answer and events pass through ([`native`]); every other
//! deployment gets the request as a chat request ([`to_chat`]) through the same
//! adapters as `/v1/chat/completions`, and its answer is written back as a `response`
//! ([`from_chat`]) or as Responses events ([`events`]). The objects Meridian writes are
//! in [`object`].
//!
//! Meridian stores no content, so the API is stateless here: `store` is treated as
//! false, and a `previous_response_id`, a `conversation` or an `item_reference` is
//! refused ([`crate::request::parse_responses`]). Failover, metering and the
//! `x-meridian-*` headers are chat's ([`crate::proxy`]).

pub(crate) mod events;
pub(crate) mod from_chat;
mod native;
pub(crate) mod object;
pub(crate) mod to_chat;

use axum::response::Response;
use bytes::Bytes;
use meridian_core::config::ProviderKind;

use crate::Gateway;
use crate::body::ClientBody;
use crate::error::ApiError;
use crate::meter::Meter;
use crate::metrics::InFlight;
use crate::providers::{Operation, ResponseBody};
use crate::proxy::{self, Failure, NativeOrChat};
use crate::request::parse_responses;
use crate::stream::StreamFormat;
use crate::targets::Target;
use meridian_core::KeyEntry;

/// Whether the target's provider serves the Responses API itself.
fn speaks_responses(target: &Target) -> bool {
    matches!(
        target.deployment.provider,
        ProviderKind::OpenAi | ProviderKind::Azure
    )
}

pub(crate) async fn serve(
    gw: &Gateway,
    key: &KeyEntry,
    bytes: Bytes,
    meter: &mut Meter,
    in_flight: InFlight,
) -> Result<Response, Failure> {
    let request = parse_responses(bytes).map_err(|e| (e, None))?;
    let routes = proxy::resolve(
        gw,
        &request.model,
        &request.controls.models,
        Operation::Responses,
        meter,
    )?;
    let chat = routes
        .iter()
        .flat_map(|r| &r.targets)
        .any(|t| !speaks_responses(t))
        .then(|| to_chat::translate(&request.body));
    let payload = NativeOrChat {
        native_op: Operation::Responses,
        speaks_native: speaks_responses,
        native: &request.body,
        chat: chat.as_ref(),
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
    let native = speaks_responses(&target);
    let echo = || {
        request
            .body
            .to_map()
            .map(|m| object::Echo::of(&m))
            .map_err(|e| (e, None))
    };
    if request.stream {
        let (body, format): (ClientBody, Box<dyn StreamFormat>) = match chat {
            Some(Ok(chat)) if !native => (
                chat,
                Box::new(events::Reencoder::new(echo()?, request.wants_usage)),
            ),
            _ => (
                request.body,
                Box::new(native::Passthrough::new(request.wants_usage)),
            ),
        };
        let response = proxy::stream_back(gw, upstream, &target, body, meter, in_flight, format);
        return Ok(response.await);
    }
    let bytes = proxy::read_upstream_body(gw, &target, upstream).await?;
    let malformed = || {
        (
            ApiError::upstream_malformed(target.deployment.provider.as_str()),
            Some(target.clone()),
        )
    };
    let (usage, body) = if native {
        let usage = native::usage(&bytes).map_err(|_| malformed())?;
        (usage, ResponseBody::Unchanged(bytes))
    } else {
        let parsed = target
            .deployment
            .adapter
            .response(Operation::Chat, &target, bytes)
            .map_err(|_| malformed())?;
        let object =
            from_chat::response(parsed.body, &parsed.usage, &echo()?).map_err(|_| malformed())?;
        (parsed.usage, ResponseBody::Translated(object))
    };
    proxy::answer_whole(gw, meter, &target, usage, body, request.wants_usage).await
}
