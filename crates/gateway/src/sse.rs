//! Server-sent events framing (the WHATWG event-stream format): bytes in, complete
//! events out. Used for every provider that streams over SSE.

use bytes::{Bytes, BytesMut};

/// One event: its `event:` name and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
    /// The event's bytes as received, for forwarding unchanged.
    pub raw: Bytes,
}

/// Longest event accepted; past it the stream is refused rather than buffered forever.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SseError {
    #[error("stream event larger than {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    #[error("stream event is not UTF-8")]
    NotUtf8,
}

#[derive(Default)]
pub struct SseDecoder {
    buf: BytesMut,
}

impl SseDecoder {
    /// Appends `chunk` and returns every event it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = find_event_end(&self.buf) {
            let raw = self.buf.split_to(end).freeze();
            if let Some(e) = parse_event(raw)? {
                events.push(e);
            }
        }
        if self.buf.len() > MAX_EVENT_BYTES {
            return Err(SseError::TooLarge);
        }
        Ok(events)
    }

    /// Whether bytes of an unfinished event are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buf.iter().all(|b| b.is_ascii_whitespace())
    }
}

/// Index just past the blank line that ends the first event (`\n\n`, `\r\n\r\n`, `\r\r`).
fn find_event_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut line_start = 0;
    while i < buf.len() {
        let eol = match buf[i] {
            b'\n' => 1,
            b'\r' if buf.get(i + 1) == Some(&b'\n') => 2,
            b'\r' if i + 1 < buf.len() => 1,
            b'\r' => return None, // a lone \r at the end may be followed by \n
            _ => {
                i += 1;
                continue;
            }
        };
        if i == line_start {
            return Some(i + eol);
        }
        i += eol;
        line_start = i;
    }
    None
}

fn parse_event(raw: Bytes) -> Result<Option<SseEvent>, SseError> {
    let text = std::str::from_utf8(&raw).map_err(|_| SseError::NotUtf8)?;
    let mut event = None;
    let mut data: Option<String> = None;
    for line in text.split(['\n', '\r']).filter(|l| !l.is_empty()) {
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = Some(value.to_string()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {} // comments (":"), id, retry
        }
    }
    Ok(data.map(|data| SseEvent { event, data, raw }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_events_across_chunks() {
        let mut d = SseDecoder::default();
        assert!(d.feed(b"data: {\"a\"").unwrap().is_empty());
        let events = d
            .feed(b":1}\n\nevent: ping\ndata: x\ndata: y\n\n: comment\n\ndata: [DONE]\n\n")
            .unwrap();
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, vec!["{\"a\":1}", "x\ny", "[DONE]"]);
        assert_eq!(events[1].event.as_deref(), Some("ping"));
        assert_eq!(&events[0].raw[..], b"data: {\"a\":1}\n\n");
        assert!(!d.has_partial());
    }

    #[test]
    fn crlf_line_endings() {
        let mut d = SseDecoder::default();
        let events = d.feed(b"data: a\r\n\r\ndata: b\r\r").unwrap();
        assert_eq!(
            events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        let events = d.feed(b"\n").unwrap();
        assert_eq!(
            events.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            vec!["b"]
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let mut d = SseDecoder::default();
        assert_eq!(
            d.feed(b"data: \xff\xfe\n\n").unwrap_err(),
            SseError::NotUtf8
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_chunking_does_not_matter(bytes in proptest::collection::vec(any::<u8>(), 0..512), cut in 0usize..512) {
            let mut whole = SseDecoder::default();
            let a = whole.feed(&bytes);
            let mut parts = SseDecoder::default();
            let cut = cut.min(bytes.len());
            let b = parts.feed(&bytes[..cut]).and_then(|mut first| {
                first.extend(parts.feed(&bytes[cut..])?);
                Ok(first)
            });
            if let (Ok(a), Ok(b)) = (a, b) {
                let a: Vec<_> = a.into_iter().map(|e| (e.event, e.data)).collect();
                let b: Vec<_> = b.into_iter().map(|e| (e.event, e.data)).collect();
                prop_assert_eq!(a, b);
            }
        }
    }
}
