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
    /// Where the unfinished line at the end of `buf` starts: all before it was
    /// searched for the end of an event already.
    searched: usize,
}

impl SseDecoder {
    /// Appends `chunk` and returns every event it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            match find_event_end(&self.buf, self.searched) {
                Ok(end) => {
                    self.searched = 0;
                    let raw = self.buf.split_to(end).freeze();
                    if let Some(e) = parse_event(raw)? {
                        events.push(e);
                    }
                }
                Err(unfinished_line) => {
                    self.searched = unfinished_line;
                    break;
                }
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

/// Index just past the blank line that ends the first event (`\n\n`, `\r\n\r\n`,
/// `\r\r`), searching from `from`, the start of a line. Without one, the start of
/// the last, unfinished line.
fn find_event_end(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut line_start = from;
    while let Some(offset) = memchr::memchr2(b'\n', b'\r', &buf[line_start..]) {
        let eol_at = line_start + offset;
        let eol = match buf[eol_at] {
            b'\n' => 1,
            _ if buf.get(eol_at + 1) == Some(&b'\n') => 2,
            _ if eol_at + 1 < buf.len() => 1,
            _ => break, // a lone \r at the end may be followed by \n
        };
        if eol_at == line_start {
            return Ok(eol_at + eol);
        }
        line_start = eol_at + eol;
    }
    Err(line_start)
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

        #[test]
        fn events_are_the_same_however_the_stream_is_cut(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["data: ", "event: e", "\n", "\r", "\r\n", "{\"a\":1}", ": c", "x"]),
                0..64,
            ),
            cuts in proptest::collection::vec(0usize..256, 0..6),
        ) {
            let bytes = pieces.concat().into_bytes();
            let decode = |parts: &[&[u8]]| {
                let mut d = SseDecoder::default();
                let mut events = Vec::new();
                for part in parts {
                    events.extend(d.feed(part).unwrap());
                }
                events.into_iter().map(|e| (e.event, e.data, e.raw)).collect::<Vec<_>>()
            };
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            bounds.push(0);
            bounds.push(bytes.len());
            bounds.sort_unstable();
            let parts: Vec<&[u8]> = bounds.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
            prop_assert_eq!(decode(&[&bytes]), decode(&parts));
        }
    }
}
