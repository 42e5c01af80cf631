//! Fault injection: what can go wrong with an upstream, queued for the next model
//! requests (of any provider), programmatically or over `POST /__mock/faults`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;

use crate::openai::ApiError;

/// What the next model request meets instead of a normal answer.
///
/// Over HTTP, `POST /__mock/faults` takes the same faults as JSON with a `times` count
/// (default 1): `{"fault": "status", "status": 429, "retry_after": 2, "times": 1}`,
/// `{"fault": "timeout"}`, `{"fault": "reset"}`, `{"fault": "stream_cut", "after_chunks": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// An error status with the body each provider sends with it, in its own error
    /// shape (429 is a rate limit, 500 a server error, …), plus `retry-after` where the
    /// provider sends one.
    Status {
        status: u16,
        #[serde(default, rename = "retry_after")]
        retry_after_secs: Option<u32>,
    },
    /// The request is read and never answered; the connection stays open until the
    /// client gives up (or the server stops).
    Timeout,
    /// The TCP connection is closed without any response, with a RST (`SO_LINGER` 0).
    #[serde(rename = "reset")]
    ConnectionReset,
    /// The answer starts normally and the connection closes mid-way: a stream after
    /// `after_chunks` events (SSE events, event-stream messages, JSON array items),
    /// never reaching the part that carries the usage; a JSON body after half its
    /// bytes (its `content-length` promised all of them).
    StreamCut { after_chunks: u32 },
}

/// Faults waiting for requests, first in first out: each is met by `times` requests.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    /// Whether the queue may be non-empty: lets the common case skip the lock.
    armed: AtomicBool,
    queue: Mutex<VecDeque<(Fault, u32)>>,
}

impl FaultQueue {
    pub(crate) fn push(&self, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.push_back((fault, times));
        self.armed.store(true, Ordering::Release);
    }

    /// The fault the current request meets, if any.
    pub(crate) fn take(&self) -> Option<Fault> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (fault, left) = queue.front_mut()?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            queue.pop_front();
        }
        self.armed.store(!queue.is_empty(), Ordering::Release);
        Some(fault)
    }
}

#[derive(Deserialize)]
struct Injection {
    #[serde(flatten)]
    fault: Fault,
    #[serde(default = "once")]
    times: u32,
}

fn once() -> u32 {
    1
}

/// A `POST /__mock/faults` body: the fault and how many requests meet it.
pub(crate) fn parse_injection(body: &[u8]) -> Result<(Fault, u32), ApiError> {
    let Injection { fault, times } = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("Invalid fault injection: {e}")))?;
    if let Fault::Status { status, .. } = fault
        && !(400..=599).contains(&status)
    {
        return Err(
            ApiError::invalid("A status fault needs a status from 400 to 599.")
                .with_param("status"),
        );
    }
    Ok((fault, times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_met_in_order_and_times_count_down() {
        let queue = FaultQueue::default();
        assert_eq!(queue.take(), None);
        queue.push(Fault::Timeout, 2);
        queue.push(Fault::ConnectionReset, 1);
        queue.push(Fault::StreamCut { after_chunks: 1 }, 0);
        assert_eq!(queue.take(), Some(Fault::Timeout));
        assert_eq!(queue.take(), Some(Fault::Timeout));
        assert_eq!(queue.take(), Some(Fault::ConnectionReset));
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn injections_parse_from_the_documented_json() {
        let parse = |s: &str| parse_injection(s.as_bytes()).map_err(|e| format!("{e:?}"));
        assert_eq!(
            parse(r#"{"fault":"status","status":429,"retry_after":2,"times":3}"#),
            Ok((
                Fault::Status {
                    status: 429,
                    retry_after_secs: Some(2)
                },
                3
            ))
        );
        assert_eq!(
            parse(r#"{"fault":"timeout","times":1}"#),
            Ok((Fault::Timeout, 1))
        );
        assert_eq!(
            parse(r#"{"fault":"reset"}"#),
            Ok((Fault::ConnectionReset, 1))
        );
        assert_eq!(
            parse(r#"{"fault":"stream_cut","after_chunks":2}"#),
            Ok((Fault::StreamCut { after_chunks: 2 }, 1))
        );
        assert!(parse(r#"{"fault":"status","status":200}"#).is_err());
        assert!(parse(r#"{"fault":"meteor"}"#).is_err());
    }
}
