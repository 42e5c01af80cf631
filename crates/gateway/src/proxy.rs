//! The request path of `/v1/chat/completions`, `/v1/embeddings` and (through
//! [`crate::responses`]) `/v1/responses`: authenticate, read and check the body,
//! resolve the model, call the deployments in order until one answers, meter, answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use meridian_core::wire::{bearer_token, is_identity_encoding};
use meridian_core::{RequestId, TokenUsage};
use serde_json::{Map, Value};

use crate::Gateway;
use crate::auth::KeyEntry;
use crate::body::ClientBody;
use crate::client::{ClientError, Upstream, read_body};
use crate::cost_json::with_usage_cost;
use crate::error::ApiError;
use crate::health::Admit;
use crate::meter::Meter;
use crate::metrics::DeploymentCounters;
use crate::providers::{Operation, ResponseBody};
use crate::request::{parse_chat, parse_embedding};
use crate::stream::{ChatFormat, ProxyStream};
use crate::targets::{ModelRoute, Target};
use crate::tokens;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const PROVIDER: HeaderName = HeaderName::from_static("x-meridian-provider");
pub const DEPLOYMENT: HeaderName = HeaderName::from_static("x-meridian-deployment");
pub const REGION: HeaderName = HeaderName::from_static("x-meridian-region");
pub const COST: HeaderName = HeaderName::from_static("x-meridian-cost");

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

async fn handle(gw: Arc<Gateway>, request: Request, op: Operation) -> Response {
    let started = Instant::now();
    let time = Utc::now();
    let request_id = RequestId::new();
    let meter_for = |key: &KeyEntry| {
        Meter::new(
            gw.sink.clone(),
            request_id,
            key.customer_id,
            key.id,
            time,
            started,
        )
    };
    let mut response = match authenticate(&gw, request.headers()) {
        Ok(key) => {
            let mut meter = meter_for(&key);
            serve(&gw, request, op, &mut meter)
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
                    let mut response = error.into_response();
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
            error.into_response()
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

/// Checks the bearer key. A revoked key's owner is returned with the error so that
/// the refusal is metered against it.
pub(crate) fn authenticate(
    gw: &Gateway,
    headers: &HeaderMap,
) -> Result<KeyEntry, (ApiError, Option<KeyEntry>)> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .ok_or((ApiError::missing_key(), None))?;
    match gw.keys.lookup(key) {
        Some(entry) if entry.revoked => Err((ApiError::revoked_key(), Some(entry))),
        Some(entry) => Ok(entry),
        None => Err((ApiError::invalid_key(), None)),
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
    request: Request,
    op: Operation,
    meter: &mut Meter,
) -> Result<Response, Failure> {
    let in_flight = gw.metrics.enter();
    let bytes = read_request_body(gw, request).await?;
    let parsed = match op {
        Operation::Chat => parse_chat(bytes),
        Operation::Embeddings => parse_embedding(bytes),
        Operation::Responses => {
            return crate::responses::serve(gw, bytes, meter, in_flight).await;
        }
    }
    .map_err(|e| (e, None))?;
    let route = resolve(gw, &parsed.model, op, meter)?;
    let payload = Same(op, &parsed.body);
    let (target, upstream) = call(gw, &route, &payload, parsed.stream, meter).await?;
    if parsed.stream {
        let stream = ProxyStream::new(
            gw,
            upstream.into_body(),
            target.clone(),
            parsed.body,
            meter.hand_over(),
            in_flight,
            Box::new(ChatFormat {
                wants_usage: parsed.wants_usage,
            }),
        );
        return Ok(stream_response(gw, stream, &target).await);
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

/// The model's route, named on the meter; a model of the wrong kind for `op` is
/// refused.
pub(crate) fn resolve(
    gw: &Gateway,
    model: &str,
    op: Operation,
    meter: &mut Meter,
) -> Result<Arc<ModelRoute>, Failure> {
    let route = gw
        .models
        .resolve(model)
        .ok_or_else(|| (ApiError::unknown_model(model), None))?;
    meter.set_model(&route.public_id);
    if !route.serves(op) {
        let embedding_model = op != Operation::Embeddings;
        return Err((
            ApiError::wrong_endpoint(&route.public_id, embedding_model),
            None,
        ));
    }
    Ok(route)
}

/// The response to a streamed request: its head and the stream as its body.
pub(crate) async fn stream_response(
    gw: &Gateway,
    stream: ProxyStream,
    target: &Target,
) -> Response {
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

/// Tries the route's targets in order. A connection failure, a timeout, a 429 or a
/// 5xx moves on to the next target (nothing has reached the client yet); any other
/// refusal is the client's to see.
pub(crate) async fn call(
    gw: &Gateway,
    route: &ModelRoute,
    payload: &dyn Payload,
    stream: bool,
    meter: &mut Meter,
) -> Result<(Arc<Target>, Upstream), Failure> {
    let mut last: Option<Failure> = None;
    // When the earliest of the deployments skipped may take the request: those without
    // room (or resting after a 429), and those whose breaker is open.
    let (mut room_in, mut healthy_in): (Option<Duration>, Option<Duration>) = (None, None);
    let earliest = |slot: &mut Option<Duration>, wait: Duration| {
        *slot = Some(slot.map_or(wait, |w| w.min(wait)));
    };
    for target in &route.targets {
        let target = target.clone();
        let (op, body) = payload
            .for_target(&target)
            .map_err(|e| (e, Some(target.clone())))?;
        let health = &target.deployment.health;
        let now = Instant::now();
        let probe = match health.admit(now) {
            Admit::Yes => false,
            Admit::Probe => true,
            Admit::No { until, resting } => {
                DeploymentCounters::count(&target.deployment.counters.health_skips);
                let wait = until.saturating_duration_since(now);
                earliest(
                    if resting {
                        &mut room_in
                    } else {
                        &mut healthy_in
                    },
                    wait,
                );
                continue;
            }
        };
        let demand = tokens::admission_estimate(
            body,
            op == Operation::Embeddings,
            target.price.max_input_tokens,
            target.price.max_output_tokens,
        );
        match gw.capacity.reserve(target.deployment.pool, demand, now) {
            Ok(reservation) => meter.set_reservation(gw.capacity.clone(), reservation),
            Err(full) => {
                DeploymentCounters::count(&target.deployment.counters.capacity_skips);
                if probe {
                    health.release_probe();
                }
                earliest(&mut room_in, full.retry_after);
                continue;
            }
        }
        meter.set_target(&target);
        let provider = target.deployment.provider.as_str();
        // A probe that is not sent leaves the breaker as it found it.
        let unsent = |error: ApiError| {
            if probe {
                health.release_probe();
            }
            (error, Some(target.clone()))
        };
        let upstream_request = target
            .deployment
            .adapter
            .request(op, &target, body, stream)
            .map_err(unsent)?;
        let outcome = tokio::time::timeout(
            target.deployment.first_byte_timeout,
            gw.client.send(upstream_request, target.deployment.http2),
        )
        .await;
        let failure = match outcome {
            Err(_) => ApiError::upstream_timeout(provider),
            Ok(Err(ClientError::Build)) => {
                tracing::error!(request_id = %meter.request_id(), deployment = %target.deployment.id, "upstream request could not be built");
                return Err(unsent(ApiError::internal()));
            }
            Ok(Err(ClientError::Connect(_))) => ApiError::upstream_unreachable(provider),
            Ok(Ok(upstream)) if upstream.status().is_success() => {
                health.succeeded();
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
                    DeploymentCounters::count(&target.deployment.counters.upstream_429);
                    let wait = Duration::from_secs(error.retry_after_secs.unwrap_or(1));
                    health.rest(Instant::now(), wait);
                } else if !status.is_server_error() {
                    // The deployment works; the request is what it refused.
                    health.succeeded();
                    return Err((error, Some(target)));
                }
                error
            }
        };
        if failure.status != StatusCode::TOO_MANY_REQUESTS && health.failed(Instant::now()) {
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
    Err(match (last, room_in) {
        (Some(failure), _) => failure,
        (None, Some(room_in)) => (ApiError::no_capacity(room_in), None),
        (None, None) => match healthy_in {
            Some(wait) => (ApiError::no_healthy_deployment(wait), None),
            None => (ApiError::internal(), None),
        },
    })
}

fn target_headers(h: &mut HeaderMap, target: &Target) {
    let d = &target.deployment;
    h.insert(PROVIDER, HeaderValue::from_static(d.provider.as_str()));
    if let Some(v) = &d.id_header {
        h.insert(DEPLOYMENT, v.clone());
    }
    if let Some(v) = &d.region_header {
        h.insert(REGION, v.clone());
    }
}
