//! Provisioned capacity per deployment: at most `rpm` requests and `tpm` tokens in any
//! sliding window (60 s unless [`MockConfig::capacity_window`] says otherwise), keyed by
//! the route a request came in on and the model it names. A request above it is
//! refused with the provider's 429 and is not counted.
//!
//! [`MockConfig::capacity_window`]: crate::MockConfig::capacity_window

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::openai::ApiError;

/// The route a request came in on: with the model it names, the key of a capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `/v1/chat/completions`, `/v1/embeddings`: the body's `model`.
    #[serde(rename = "openai")]
    OpenAi,
    /// `/chat/completions`: the body's `model`.
    #[serde(rename = "deepseek")]
    DeepSeek,
    /// `/compatible-mode/v1/chat/completions`: the body's `model`.
    Qwen,
    /// `/openai/deployments/{deployment}/…`: the deployment path segment;
    /// `/openai/v1/responses`: the body's `model` (the deployment's name).
    Azure,
    /// `/v1/messages`: the body's `model`.
    Anthropic,
    /// `/v1beta/models/{model}:…`: the model path segment.
    Gemini,
    /// `…/publishers/google/models/{model}:…`: the model path segment.
    Vertex,
    /// `/model/{modelId}/…`: the model id path segment.
    Bedrock,
}

/// A deployment's capacity over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Requests per window.
    pub rpm: u32,
    /// Tokens (prompt + completion) per window.
    pub tpm: u64,
}

/// Why a request was refused: what the provider's 429 says.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub(crate) capacity: Capacity,
    /// Which limit refused it: the requests (else the tokens).
    pub(crate) on_requests: bool,
    pub(crate) requests_left: u32,
    pub(crate) tokens_left: u64,
    /// The tokens the refused request asked for.
    pub(crate) requested: u64,
    /// When one more request would fit the request limit.
    pub(crate) requests_reset: Duration,
    /// When the refused request's tokens would fit the token limit (the window, if
    /// they never can).
    pub(crate) tokens_reset: Duration,
    /// When a request like it would next be admitted: the later of the two.
    pub(crate) retry_after: Duration,
}

impl Throttle {
    /// When a request like the refused one would next be admitted.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// `retry_after` in whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u32 {
        let secs = self.retry_after.as_millis().div_ceil(1000).max(1);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }

    /// `retry_after` in milliseconds, rounded up, at least 1.
    pub(crate) fn retry_after_ms(&self) -> u64 {
        let ms = self.retry_after.as_micros().div_ceil(1000).max(1);
        u64::try_from(ms).unwrap_or(u64::MAX)
    }
}

/// One deployment: its capacity and the requests admitted in the window. Public for
/// `meridian simulate`, whose simulated upstreams refuse exactly as these mocks do.
#[derive(Debug)]
pub struct Pool {
    capacity: Capacity,
    /// (when admitted, its tokens), oldest first.
    admitted: VecDeque<(Instant, u64)>,
    tokens: u64,
}

impl Pool {
    pub fn new(capacity: Capacity) -> Pool {
        Pool {
            capacity,
            admitted: VecDeque::new(),
            tokens: 0,
        }
    }

    /// Admits a request of `tokens` (its prompt and completion) at `now`, in
    /// admission order, or says why not.
    pub fn admit(&mut self, tokens: u64, now: Instant, window: Duration) -> Result<(), Throttle> {
        while let Some(&(at, spent)) = self.admitted.front() {
            if now.duration_since(at) < window {
                break;
            }
            self.admitted.pop_front();
            self.tokens -= spent;
        }
        let Capacity { rpm, tpm } = self.capacity;
        let requests = u32::try_from(self.admitted.len()).unwrap_or(u32::MAX);
        let on_requests = requests >= rpm;
        if !on_requests && self.tokens + tokens <= tpm {
            self.admitted.push_back((now, tokens));
            self.tokens += tokens;
            return Ok(());
        }
        let requests_only = Capacity { rpm, tpm: u64::MAX };
        let tokens_only = Capacity { rpm: u32::MAX, tpm };
        Err(Throttle {
            capacity: self.capacity,
            on_requests,
            requests_left: rpm.saturating_sub(requests),
            tokens_left: tpm.saturating_sub(self.tokens),
            requested: tokens,
            requests_reset: self.room_in(requests_only, tokens, now, window),
            tokens_reset: self.room_in(tokens_only, tokens, now, window),
            retry_after: self.room_in(self.capacity, tokens, now, window),
        })
    }

    /// How long until the oldest admissions leave the window and make room, under
    /// `capacity`, for one more request of `tokens`; the whole window when no room
    /// can ever be.
    fn room_in(&self, capacity: Capacity, tokens: u64, now: Instant, window: Duration) -> Duration {
        let Capacity { rpm, tpm } = capacity;
        if rpm == 0 || tokens > tpm {
            return window;
        }
        let (mut requests, mut spent) = (self.admitted.len(), self.tokens);
        if requests < rpm as usize && spent + tokens <= tpm {
            return Duration::ZERO;
        }
        for &(at, used) in &self.admitted {
            requests -= 1;
            spent -= used;
            if requests < rpm as usize && spent + tokens <= tpm {
                return (at + window).saturating_duration_since(now);
            }
        }
        Duration::ZERO
    }
}

/// The capacities set, and the requests they admitted.
#[derive(Debug, Default)]
pub(crate) struct Capacities {
    /// Whether any capacity is set: lets the common case skip the lock.
    armed: AtomicBool,
    pools: Mutex<HashMap<(Route, String), Pool>>,
    /// Requests refused for want of capacity.
    pub(crate) throttled: AtomicU64,
}

impl Capacities {
    /// Sets (or changes) a deployment's capacity; what it admitted stays counted.
    pub(crate) fn set(&self, route: Route, model: &str, capacity: Capacity) {
        let mut pools = self.lock();
        pools
            .entry((route, model.to_owned()))
            .and_modify(|pool| pool.capacity = capacity)
            .or_insert(Pool::new(capacity));
        self.armed.store(true, Ordering::Release);
    }

    /// Removes every capacity: every deployment is unlimited again.
    pub(crate) fn clear(&self) {
        let mut pools = self.lock();
        pools.clear();
        self.armed.store(false, Ordering::Release);
    }

    /// Counts a request of `tokens` against its deployment's capacity, if it has one.
    pub(crate) fn admit(
        &self,
        route: Route,
        model: &str,
        tokens: u64,
        window: Duration,
    ) -> Result<(), Throttle> {
        if !self.armed.load(Ordering::Acquire) {
            return Ok(());
        }
        let now = Instant::now();
        let mut pools = self.lock();
        let Some(pool) = pools.get_mut(&(route, model.to_owned())) else {
            return Ok(());
        };
        pool.admit(tokens, now, window).inspect_err(|_| {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Route, String), Pool>> {
        self.pools
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A `POST /__mock/capacity` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Setting {
    provider: Route,
    model: String,
    rpm: u32,
    tpm: u64,
}

/// A `POST /__mock/capacity` body: whose capacity, and what it is.
pub(crate) fn parse_setting(body: &[u8]) -> Result<(Route, String, Capacity), ApiError> {
    let Setting {
        provider,
        model,
        rpm,
        tpm,
    } = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("Invalid capacity: {e}")))?;
    if model.is_empty() {
        return Err(ApiError::invalid("A capacity needs a model.").with_param("model"));
    }
    Ok((provider, model, Capacity { rpm, tpm }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    fn pool(rpm: u32, tpm: u64) -> Pool {
        Pool::new(Capacity { rpm, tpm })
    }

    #[test]
    fn requests_above_rpm_wait_for_the_oldest_to_leave_the_window() {
        let mut pool = pool(2, 1000);
        let start = Instant::now();
        pool.admit(10, start, WINDOW).unwrap();
        pool.admit(10, start + Duration::from_secs(20), WINDOW)
            .unwrap();
        let refused = pool
            .admit(10, start + Duration::from_secs(30), WINDOW)
            .unwrap_err();
        assert!(refused.on_requests);
        assert_eq!(refused.retry_after, Duration::from_secs(30));
        assert_eq!(refused.requests_reset, Duration::from_secs(30));
        assert_eq!(refused.tokens_reset, Duration::ZERO);
        assert_eq!(refused.requests_left, 0);
        pool.admit(10, start + WINDOW, WINDOW).unwrap();
    }

    #[test]
    fn tokens_above_tpm_wait_until_enough_have_left() {
        let mut pool = pool(100, 100);
        let start = Instant::now();
        pool.admit(40, start, WINDOW).unwrap();
        pool.admit(40, start + Duration::from_secs(10), WINDOW)
            .unwrap();
        // 30 more fit only once the first 40 have left.
        let refused = pool
            .admit(30, start + Duration::from_secs(15), WINDOW)
            .unwrap_err();
        assert!(!refused.on_requests);
        assert_eq!(refused.tokens_left, 20);
        assert_eq!(refused.retry_after, Duration::from_secs(45));
        assert_eq!(refused.tokens_reset, Duration::from_secs(45));
        assert_eq!(refused.requests_reset, Duration::ZERO);
        // 20 still fit.
        pool.admit(20, start + Duration::from_secs(15), WINDOW)
            .unwrap();
    }

    #[test]
    fn a_request_larger_than_tpm_is_never_admitted() {
        let mut pool = pool(10, 100);
        let refused = pool.admit(101, Instant::now(), WINDOW).unwrap_err();
        assert_eq!(refused.retry_after, WINDOW);
        assert_eq!(pool.tokens, 0);
    }

    #[test]
    fn settings_parse_from_the_documented_json() {
        let parse = |s: &str| parse_setting(s.as_bytes()).map_err(|e| format!("{e:?}"));
        assert_eq!(
            parse(r#"{"provider":"openai","model":"gpt-4o-mini","rpm":10,"tpm":1000}"#),
            Ok((
                Route::OpenAi,
                "gpt-4o-mini".to_owned(),
                Capacity { rpm: 10, tpm: 1000 }
            ))
        );
        assert!(parse(r#"{"provider":"azure","model":"x","rpm":1,"tpm":1}"#).is_ok());
        assert!(parse(r#"{"provider":"openrouter","model":"x","rpm":1,"tpm":1}"#).is_err());
        assert!(parse(r#"{"provider":"openai","model":"","rpm":1,"tpm":1}"#).is_err());
        assert!(parse(r#"{"provider":"openai","model":"x","rpm":1}"#).is_err());
    }
}
