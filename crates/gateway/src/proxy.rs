//! The request path of `/v1/chat/completions`, `/v1/embeddings` and (through
//! [`crate::responses`] and [`crate::messages`]) `/v1/responses` and `/v1/messages`:
//! authenticate, read and check the body, resolve the model, call the deployments in
//! order until one answers, meter, answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use meridian_core::wire::{bearer_token, is_identity_encoding};
use meridian_core::{KeyEntry, KeyStatus, RequestId, TokenUsage};
use serde_json::{Map, Value};

use crate::Gateway;
use crate::body::ClientBody;
use crate::client::{ClientError, Upstream, read_body};
use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use crate::limits;
use crate::meter::Meter;
use crate::metrics::InFlight;
use crate::providers::{Operation, ResponseBody};
use crate::request::{parse_chat, parse_embedding};
use crate::routing::{self, Attempts, Controls, Customer, NoRoute, Outcome, Policy, Skipped};
use crate::stream::{ChatFormat, ProxyStream, StreamFormat};
use crate::targets::{ModelRoute, Target};
use crate::tokens;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const PROVIDER: HeaderName = HeaderName::from_static("x-meridian-provider");
pub const DEPLOYMENT: HeaderName = HeaderName::from_static("x-meridian-deployment");
pub const REGION: HeaderName = HeaderName::from_static("x-meridian-region");
pub const COST: HeaderName = HeaderName::from_static("x-meridian-cost");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Largest error body read from a provider (it is classified, never forwarded).
const UPSTREAM_ERROR_BODY_LIMIT: usize = 64 << 10;
/// Largest whole response read from a provider.
const UPSTREAM_BODY_LIMIT: usize = 64 << 20;

pub async fn chat_completions(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    handle(gw, request, Operation::Chat).await
}

pub async fn embeddings(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    handle(gw, request, Operation::Embeddings).await
}

pub async fn responses(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    handle(gw, request, Operation::Responses).await
}

pub async fn messages(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    handle(gw, request, Operation::Messages).await
}

pub async fn count_tokens(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    handle(gw, request, Operation::CountTokens).await
}

/// An error in the shape of the API the client called: Anthropic's on
/// `/v1/messages`, OpenAI's elsewhere.
fn error_response(op: Operation, error: ApiError) -> Response {
    match op {
        Operation::Messages | Operation::CountTokens => error.anthropic_response(),
        Operation::Chat | Operation::Embeddings | Operation::Responses => error.into_response(),
    }
}

async fn handle(gw: Arc<Gateway>, request: Request, op: Operation) -> Response {
    let started = Instant::now();
    let time = Utc::now();
    let request_id = RequestId::new();
    let meter_for = |key: &KeyEntry| {
        let meter = Meter::new(
            gw.sink.clone(),
            request_id,
            key.customer_id,
            key.id,
            time,
            started,
        );
        // Counting tokens is not usage: it is neither billed nor metered.
        if op == Operation::CountTokens {
            meter.unmetered()
        } else {
            meter
        }
    };
    let mut response = match authenticate(&gw, request.headers()) {
        Ok(key) => {
            let mut meter = meter_for(&key);
            serve(&gw, &key, request, op, &mut meter)
                .await
                .unwrap_or_else(|(error, target)| {
                    if error.status.is_server_error() {
                        tracing::error!(
                            request_id = %request_id,
                            deployment = %target.as_ref().map_or("-", |t| t.deployment.id.as_str()),
                            status = error.status.as_u16(),
                            class = %error.code.unwrap_or(error.kind),
                            "request failed"
                        );
                    }
                    meter.failure(error.status.as_u16());
                    let mut response = error_response(op, error);
                    if let Some(target) = target {
                        target_headers(response.headers_mut(), &target);
                    }
                    response
                })
        }
        Err((error, key)) => {
            if let Some(key) = key {
                meter_for(&key).failure(error.status.as_u16());
            }
            error_response(op, error)
        }
    };
    let mut id = uuid::Uuid::encode_buffer();
    if let Ok(v) = HeaderValue::from_str(request_id.0.hyphenated().encode_lower(&mut id)) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    // A stream is counted when it ends, with the status it ends with.
    if response.extensions().get::<StreamCounted>().is_none() {
        gw.metrics.request(op, response.status().as_u16());
    }
    response
}

/// Marks a streaming response, whose body counts itself in the request metrics.
#[derive(Clone, Copy)]
struct StreamCounted;

/// Checks the key: `Authorization: Bearer`, or `x-api-key` as Anthropic's SDKs send
/// it. A revoked or expired key's owner is returned with the error so that the
/// refusal is metered against it.
pub(crate) fn authenticate(
    gw: &Gateway,
    headers: &HeaderMap,
) -> Result<KeyEntry, (ApiError, Option<Box<KeyEntry>>)> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .or_else(|| {
            let key = headers.get(X_API_KEY)?.to_str().ok()?.trim();
            (!key.is_empty()).then_some(key)
        })
        .ok_or((ApiError::missing_key(), None))?;
    let Some(entry) = gw.keys.lookup(key) else {
        return Err((ApiError::invalid_key(), None));
    };
    match entry.status(Utc::now()) {
        KeyStatus::Live => Ok(entry),
        KeyStatus::Revoked => Err((ApiError::revoked_key(), Some(Box::new(entry)))),
        KeyStatus::Expired => Err((ApiError::expired_key(), Some(Box::new(entry)))),
    }
}

/// An error for the client, with the deployment it came from (for its headers).
pub(crate) type Failure = (ApiError, Option<Arc<Target>>);

/// What [`call`] sends each target: the operation and the body its adapter builds
/// the request from. Chat and embeddings send every target the client's body
/// ([`Same`]); the Responses API sends its own body to the providers that speak it and
/// a chat translation to the others.
pub(crate) trait Payload: Sync {
    /// The operation and body for `target`, or why it cannot take this request (a
    /// client error: nothing is sent).
    fn for_target(&self, target: &Target) -> Result<(Operation, &ClientBody), ApiError>;

    /// Headers of the client's that go to `target` with the adapter's request (the
    /// Messages API's `anthropic-version` and `anthropic-beta`).
    fn forward_headers(&self, target: &Target, headers: &mut HeaderMap) {
        let _ = (target, headers);
    }
}

/// An ingress API's own body for the providers that speak it (`native_op`), and its
/// chat translation (made when the route has other targets) for the rest.
pub(crate) struct NativeOrChat<'a> {
    pub native_op: Operation,
    pub speaks_native: fn(&Target) -> bool,
    pub native: &'a ClientBody,
    pub chat: Option<&'a Result<ClientBody, ApiError>>,
}

impl Payload for NativeOrChat<'_> {
    fn for_target(&self, target: &Target) -> Result<(Operation, &ClientBody), ApiError> {
        if (self.speaks_native)(target) {
            return Ok((self.native_op, self.native));
        }
        match self.chat {
            Some(Ok(chat)) => Ok((Operation::Chat, chat)),
            Some(Err(error)) => Err(error.clone()),
            None => Err(ApiError::internal()),
        }
    }
}

/// The same operation and body for every target.
pub(crate) struct Same<'a>(pub Operation, pub &'a ClientBody);

impl Payload for Same<'_> {
    fn for_target(&self, _: &Target) -> Result<(Operation, &ClientBody), ApiError> {
        Ok((self.0, self.1))
    }
}

async fn serve(
    gw: &Gateway,
    key: &KeyEntry,
    request: Request,
    op: Operation,
    meter: &mut Meter,
) -> Result<Response, Failure> {
    let in_flight = gw.metrics.enter();
    let anthropic_headers = matches!(op, Operation::Messages | Operation::CountTokens)
        .then(|| crate::messages::ClientHeaders::of(request.headers()));
    let bytes = read_request_body(gw, request).await?;
    let parsed = match op {
        Operation::Chat => parse_chat(bytes),
        Operation::Embeddings => parse_embedding(bytes),
        Operation::Responses => {
            return crate::responses::serve(gw, key, bytes, meter, in_flight).await;
        }
        Operation::Messages | Operation::CountTokens => {
            let headers = anthropic_headers.unwrap_or_default();
            return crate::messages::serve(gw, key, op, headers, bytes, meter, in_flight).await;
        }
    }
    .map_err(|e| (e, None))?;
    let routes = resolve(gw, &parsed.model, &parsed.controls.models, op, meter)?;
    let payload = Same(op, &parsed.body);
    let (target, upstream) = call(
        gw,
        key,
        &routes,
        &payload,
        &parsed.controls,
        parsed.stream,
        meter,
    )
    .await?;
    if parsed.stream {
        let format = Box::new(ChatFormat {
            wants_usage: parsed.wants_usage,
        });
        let body = parsed.body;
        return Ok(stream_back(gw, upstream, &target, body, meter, in_flight, format).await);
    }
    let body = read_upstream_body(gw, &target, upstream).await?;
    let parsed_response = target
        .deployment
        .adapter
        .response(op, &target, body)
        .map_err(|_| malformed(&target))?;
    answer_whole(
        gw,
        meter,
        &target,
        parsed_response.usage,
        parsed_response.body,
        parsed.wants_usage,
    )
    .await
}

/// The request body, read whole within the body limit, as sent (no content coding).
async fn read_request_body(gw: &Gateway, request: Request) -> Result<bytes::Bytes, Failure> {
    if let Some(coding) = request.headers().get(header::CONTENT_ENCODING)
        && !coding.to_str().is_ok_and(is_identity_encoding)
    {
        return Err((ApiError::unsupported_encoding(), None));
    }
    let limit = gw.options.body_limit;
    if let Some(len) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > limit
    {
        return Err((ApiError::body_too_large(limit), None));
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            let error = if crate::deadline::is_body_timeout(&e) {
                ApiError::body_timeout()
            } else {
                ApiError::body_too_large(limit)
            };
            (error, None)
        })
}

/// The routes of the request's model and of its fallback `models`, in order; the
/// first is named on the meter. A model of the wrong kind for `op` is refused.
pub(crate) fn resolve(
    gw: &Gateway,
    model: &str,
    fallbacks: &[String],
    op: Operation,
    meter: &mut Meter,
) -> Result<Vec<Arc<ModelRoute>>, Failure> {
    let mut routes = Vec::with_capacity(1 + fallbacks.len());
    for model in std::iter::once(model).chain(fallbacks.iter().map(String::as_str)) {
        let route = gw
            .models
            .resolve(model)
            .ok_or_else(|| (ApiError::unknown_model(model), None))?;
        if routes.is_empty() {
            meter.set_model(&route.public_id);
        }
        if !route.serves(op) {
            let embedding_model = op != Operation::Embeddings;
            return Err((
                ApiError::wrong_endpoint(&route.public_id, embedding_model),
                None,
            ));
        }
        routes.push(route);
    }
    Ok(routes)
}

/// The response to a streamed request: its head, and `upstream` re-emitted in
/// `format` as its body, metered with `meter`'s event (`body` is the request sent,
/// to count its prompt if the provider never reports it).
pub(crate) async fn stream_back(
    gw: &Gateway,
    upstream: Upstream,
    target: &Arc<Target>,
    body: ClientBody,
    meter: &mut Meter,
    in_flight: InFlight,
    format: Box<dyn StreamFormat>,
) -> Response {
    let stream = ProxyStream::new(
        gw,
        upstream.into_body(),
        target.clone(),
        body,
        meter.hand_over(),
        in_flight,
        format,
    );
    let mut response = Response::new(stream.into_body(gw.options.stream_head_wait).await);
    response.extensions_mut().insert(StreamCounted);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    target_headers(h, target);
    response
}

fn malformed(target: &Arc<Target>) -> Failure {
    (
        ApiError::upstream_malformed(target.deployment.provider.as_str()),
        Some(target.clone()),
    )
}

/// A whole upstream answer, read within the upstream timeout.
pub(crate) async fn read_upstream_body(
    gw: &Gateway,
    target: &Arc<Target>,
    upstream: Upstream,
) -> Result<bytes::Bytes, Failure> {
    tokio::time::timeout(
        gw.options.upstream_timeout,
        read_body(upstream.into_body(), UPSTREAM_BODY_LIMIT),
    )
    .await
    .map_err(|_| {
        (
            ApiError::upstream_timeout(target.deployment.provider.as_str()),
            Some(target.clone()),
        )
    })?
    .map_err(|_| {
        (
            ApiError::upstream_unreachable(target.deployment.provider.as_str()),
            Some(target.clone()),
        )
    })
}

/// Meters a whole answer and answers the client: the body (with `usage.cost` when it
/// asked for usage), the exact cost in its header. The usage event is durable before
/// the answer leaves.
pub(crate) async fn answer_whole(
    gw: &Gateway,
    meter: &mut Meter,
    target: &Arc<Target>,
    usage: TokenUsage,
    body: ResponseBody,
    wants_usage: bool,
) -> Result<Response, Failure> {
    let cost = target.price.cost(&usage);
    let Some(staged) = meter.stage_success(usage, cost) else {
        return Err((ApiError::internal(), Some(target.clone())));
    };
    let body = match (body, wants_usage) {
        (ResponseBody::Unchanged(bytes), false) => bytes,
        (ResponseBody::Translated(object), false) => {
            serde_json::to_vec(&object).unwrap_or_default().into()
        }
        (ResponseBody::Unchanged(bytes), true) => {
            match serde_json::from_slice::<Map<String, Value>>(&bytes) {
                Ok(object) => with_usage_cost(object, cost).into(),
                Err(_) => bytes,
            }
        }
        (ResponseBody::Translated(object), true) => with_usage_cost(object, cost).into(),
    };
    // Requests finishing in this turn of the scheduler stage their events too; the
    // first of them back writes all of them to the journal with one `write`. A
    // request served alone has no one to wait for.
    if gw.metrics.in_flight() > 1 {
        tokio::task::yield_now().await;
    }
    if let Err(e) = gw.sink.make_durable(staged) {
        tracing::error!(error = %e, "usage event could not be recorded");
        return Err((ApiError::internal(), Some(target.clone())));
    }
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    target_headers(h, target);
    if let Ok(v) = HeaderValue::from_str(&cost.normalize().to_string()) {
        h.insert(COST, v);
    }
    Ok(response)
}

/// Tries the deployments of the routing plan in order. A connection failure, a
/// timeout, a 429, a 5xx or a refusal of the request for one provider (its adapter's,
/// or the payload's) moves on to the next deployment (nothing has reached the client
/// yet); any other refusal is the client's to see. Every attempt fits in the
/// request's deadline.
pub(crate) async fn call(
    gw: &Gateway,
    key: &KeyEntry,
    routes: &[Arc<ModelRoute>],
    payload: &dyn Payload,
    controls: &Controls,
    stream: bool,
    meter: &mut Meter,
) -> Result<(Arc<Target>, Upstream), Failure> {
    let placement = &gw.placement;
    let residency = key.residency.as_deref();
    let admitted = placement.admitted(residency).ok_or_else(|| {
        let error = NoRoute::ResidencyNotConfigured.error(&routes[0].public_id, residency);
        (error, None)
    })?;
    let customer = Customer {
        home_region: placement.home_region(key.home_region.as_deref(), &admitted),
        admitted,
    };
    let plan = routing::plan(
        routes,
        &customer,
        controls,
        Policy::default(),
        &*gw.capacity,
        Instant::now(),
    )
    .map_err(|no_route| (no_route.error(&routes[0].public_id, residency), None))?;
    let admission =
        limits::admit(gw, key, routes, payload, meter.time()).map_err(|error| (error, None))?;
    meter.set_admission(gw.limiter.clone(), admission);
    let mut attempts = Attempts::new(plan);
    let deadline = meter.started() + placement.deadline;
    let demand = |t: &Target| {
        let Ok((op, body)) = payload.for_target(t) else {
            return 0;
        };
        tokens::admission_estimate(
            body,
            op == Operation::Embeddings,
            t.price.max_input_tokens,
            t.price.max_output_tokens,
        )
    };
    let mut last: Option<Failure> = None;
    let mut refused: Option<Failure> = None;
    while let Some(attempt) = attempts.next(&*gw.capacity, demand, Instant::now()) {
        let target = attempt.target.clone();
        meter.set_reservation(gw.capacity.clone(), attempt.reservation.clone());
        meter.set_target(&target);
        let provider = target.deployment.provider.as_str();
        let (op, body) = match payload.for_target(&target) {
            Ok(payload) => payload,
            Err(refusal) => {
                attempt.finish(Outcome::NotSent, Instant::now());
                refused.get_or_insert((refusal, Some(target)));
                continue;
            }
        };
        let upstream_request = match target.deployment.adapter.request(op, &target, body, stream) {
            Ok(mut r) => {
                payload.forward_headers(&target, &mut r.headers);
                r
            }
            Err(refusal) => {
                attempt.finish(Outcome::NotSent, Instant::now());
                refused.get_or_insert((refusal, Some(target)));
                continue;
            }
        };
        let sent = Instant::now();
        let Some(left) = deadline
            .checked_duration_since(sent)
            .filter(|d| !d.is_zero())
        else {
            attempt.finish(Outcome::NotSent, sent);
            last = Some((
                ApiError::deadline_exceeded(placement.deadline),
                Some(target),
            ));
            break;
        };
        let first_byte = target.deployment.first_byte_timeout.min(left);
        let outcome = tokio::time::timeout(
            first_byte,
            gw.client.send(
                upstream_request,
                target.deployment.http2,
                target.deployment.connect_timeout,
            ),
        )
        .await;
        let failure = match outcome {
            Err(_) if first_byte == left => ApiError::deadline_exceeded(placement.deadline),
            Err(_) => ApiError::upstream_timeout(provider),
            Ok(Err(ClientError::Build)) => {
                tracing::error!(request_id = %meter.request_id(), deployment = %target.deployment.id, "upstream request could not be built");
                attempt.finish(Outcome::NotSent, Instant::now());
                return Err((ApiError::internal(), Some(target)));
            }
            Ok(Err(ClientError::Connect(_))) => ApiError::upstream_unreachable(provider),
            Ok(Ok(upstream)) if upstream.status().is_success() => {
                target.deployment.health.observe_latency(sent.elapsed());
                attempt.finish(Outcome::Answered, Instant::now());
                attempts.served(&attempt);
                return Ok((target, upstream));
            }
            Ok(Ok(upstream)) => {
                let status = upstream.status();
                let headers = upstream.headers().clone();
                let body = tokio::time::timeout(
                    gw.options.upstream_timeout,
                    read_body(upstream.into_body(), UPSTREAM_ERROR_BODY_LIMIT),
                )
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
                let error = target
                    .deployment
                    .adapter
                    .error(&target, status, &headers, &body);
                if status == StatusCode::TOO_MANY_REQUESTS {
                    let wait = Duration::from_secs(error.retry_after_secs.unwrap_or(1));
                    attempt.finish(Outcome::Throttled(wait), Instant::now());
                } else if !status.is_server_error() {
                    // The deployment works; the request is what it refused.
                    attempt.finish(Outcome::Answered, Instant::now());
                    return Err((error, Some(target)));
                }
                error
            }
        };
        if failure.status != StatusCode::TOO_MANY_REQUESTS
            && attempt.finish(Outcome::Failed, Instant::now())
        {
            tracing::warn!(deployment = %target.deployment.id, "circuit breaker opened");
        }
        tracing::warn!(
            request_id = %meter.request_id(),
            deployment = %target.deployment.id,
            status = failure.status.as_u16(),
            class = %failure.code.unwrap_or(failure.kind),
            "upstream attempt failed"
        );
        gw.metrics.upstream_failure(target.deployment.provider);
        last = Some((failure, Some(target)));
    }
    let Skipped {
        room_in,
        healthy_in,
    } = attempts.skipped;
    Err(match (last, room_in, refused, healthy_in) {
        (Some(failure), ..) => failure,
        (None, Some(room_in), ..) => (ApiError::no_capacity(room_in), None),
        (None, None, Some(refusal), _) => refusal,
        (None, None, None, Some(wait)) => (ApiError::no_healthy_deployment(wait), None),
        (None, None, None, None) => (ApiError::internal(), None),
    })
}

pub(crate) fn target_headers(h: &mut HeaderMap, target: &Target) {
    let d = &target.deployment;
    h.insert(PROVIDER, HeaderValue::from_static(d.provider.as_str()));
    if let Some(v) = &d.id_header {
        h.insert(DEPLOYMENT, v.clone());
    }
    if let Some(v) = &d.region_header {
        h.insert(REGION, v.clone());
    }
}
