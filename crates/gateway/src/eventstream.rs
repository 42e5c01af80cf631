//! AWS event-stream framing (`application/vnd.amazon.eventstream`, Bedrock's
//! ConverseStream): bytes in, complete messages out. Each binary frame is checked
//! (lengths, prelude and message CRC32s) and its headers read by `aws-smithy-eventstream`;
//! this file only cuts the byte stream into frames and names each message after its
//! type header. Payloads are handed on, never logged.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use bytes::{Buf, BytesMut};

/// Longest frame accepted (AWS caps messages at 16 MiB); a longer announced length is
/// refused at once rather than buffered.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// The prelude (total length, headers length, prelude CRC) and the message CRC.
const MIN_MESSAGE_BYTES: usize = 16;

/// One message: its type, and its payload as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// `:event-type` of an event, `:exception-type` of an exception, `:error-code`
    /// of an error.
    pub name: String,
    pub payload: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventStreamError {
    #[error("event-stream frame announces {0} bytes, outside 16..={MAX_MESSAGE_BYTES}")]
    BadLength(usize),
    #[error("event-stream frame is corrupt (length or checksum mismatch)")]
    Corrupt,
    #[error("event-stream message has no type header")]
    Untyped,
    #[error("event-stream payload is not UTF-8")]
    NotUtf8,
}

#[derive(Default)]
pub struct EventStreamDecoder {
    buf: BytesMut,
}

impl EventStreamDecoder {
    /// Appends `chunk` and returns every message it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<EventMessage>, EventStreamError> {
        self.buf.extend_from_slice(chunk);
        let mut messages = Vec::new();
        while self.buf.len() >= 4 {
            let total = (&self.buf[..4]).get_u32() as usize;
            if !(MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&total) {
                return Err(EventStreamError::BadLength(total));
            }
            if self.buf.len() < total {
                break;
            }
            let frame = self.buf.split_to(total).freeze();
            let message = read_message_from(frame).map_err(|_| EventStreamError::Corrupt)?;
            messages.push(name_message(&message)?);
        }
        Ok(messages)
    }
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

fn name_message(message: &Message) -> Result<EventMessage, EventStreamError> {
    let type_header = match header(message, ":message-type") {
        Some("exception") => ":exception-type",
        Some("error") => ":error-code",
        _ => ":event-type",
    };
    let name = header(message, type_header).ok_or(EventStreamError::Untyped)?;
    let payload = std::str::from_utf8(message.payload()).map_err(|_| EventStreamError::NotUtf8)?;
    Ok(EventMessage {
        name: name.to_string(),
        payload: payload.to_string(),
    })
}

/// Frames messages the way AWS sends them (tests of this file and of the streaming path).
#[cfg(test)]
pub(crate) fn frame(kind: &str, name: &str, payload: &str) -> Vec<u8> {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::{Header, HeaderValue};
    let type_header = match kind {
        "exception" => ":exception-type",
        "error" => ":error-code",
        _ => ":event-type",
    };
    let message = Message::new(payload.as_bytes().to_vec())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(kind.to_string().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(name.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stream() -> Vec<u8> {
        [
            frame("event", "messageStart", r#"{"role":"assistant"}"#),
            frame(
                "event",
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
            ),
            frame(
                "exception",
                "throttlingException",
                r#"{"message":"slow down"}"#,
            ),
        ]
        .concat()
    }

    #[test]
    fn decodes_messages_split_anywhere() {
        let bytes = stream();
        for cut in 0..bytes.len() {
            let mut d = EventStreamDecoder::default();
            let mut got = d.feed(&bytes[..cut]).unwrap();
            got.extend(d.feed(&bytes[cut..]).unwrap());
            let names: Vec<&str> = got.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(
                names,
                ["messageStart", "contentBlockDelta", "throttlingException"]
            );
            assert_eq!(
                got[1].payload,
                r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#
            );
            assert!(d.buf.is_empty());
        }
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let mut d = EventStreamDecoder::default();
        assert_eq!(
            d.feed(b"data: {\"not\": \"aws\"}\n\n").unwrap_err(),
            EventStreamError::BadLength(0x6461_7461)
        );
        let mut bytes = frame("event", "metadata", "{}");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        assert_eq!(
            EventStreamDecoder::default().feed(&bytes).unwrap_err(),
            EventStreamError::Corrupt
        );
        let mut tiny = vec![0, 0, 0, 8];
        tiny.extend([0; 8]);
        assert_eq!(
            EventStreamDecoder::default().feed(&tiny).unwrap_err(),
            EventStreamError::BadLength(8)
        );
    }

    #[test]
    fn an_absurd_length_is_refused_before_buffering() {
        let mut d = EventStreamDecoder::default();
        assert_eq!(
            d.feed(&[0x7f, 0xff, 0xff, 0xff]).unwrap_err(),
            EventStreamError::BadLength(0x7fff_ffff)
        );
    }

    proptest! {
        #[test]
        fn never_panics_never_hangs(bytes in proptest::collection::vec(any::<u8>(), 0..1024), cut in 0usize..1024) {
            let mut d = EventStreamDecoder::default();
            let cut = cut.min(bytes.len());
            let _ = d.feed(&bytes[..cut]).and_then(|_| d.feed(&bytes[cut..]));
        }

        #[test]
        fn corrupting_any_byte_never_yields_a_wrong_message(at in 0usize..4096, flip in 1u8..=255) {
            let good = stream();
            let mut bytes = good.clone();
            let at = at % bytes.len();
            bytes[at] ^= flip;
            let mut d = EventStreamDecoder::default();
            if let Ok(messages) = d.feed(&bytes) {
                // The checksums stop the corrupt frame: what decodes is a true prefix.
                let real = EventStreamDecoder::default().feed(&good).unwrap();
                prop_assert!(messages.len() < real.len());
                for (m, r) in messages.iter().zip(&real) {
                    prop_assert_eq!(m, r);
                }
            }
        }

        #[test]
        fn chunking_does_not_matter(cuts in proptest::collection::vec(0usize..400, 0..8)) {
            let bytes = stream();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % bytes.len()).collect();
            cuts.sort_unstable();
            let mut d = EventStreamDecoder::default();
            let mut got = Vec::new();
            let mut from = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                got.extend(d.feed(&bytes[from..c]).unwrap());
                from = c;
            }
            prop_assert_eq!(got.len(), 3);
        }
    }
}
