//! The ingress APIs' translations as pure functions, for the translate bench
//! (`benches/translate.rs`): Anthropic's Messages and OpenAI's Responses to a chat
//! request, and a chat provider's answer or stream back into each: the functions
//! [`crate::messages`] and [`crate::responses`] serve with, outside the request path.

use bytes::Bytes;
use meridian_core::TokenUsage;
use rust_decimal::Decimal;

use crate::body::ClientBody;
use crate::error::ApiError;
use crate::providers::{Malformed, ResponseBody, StreamOut, StreamState, UpstreamEvent};
use crate::stream::StreamFormat;
use crate::targets::Target;
use crate::{messages, responses};

/// An ingress API that chat providers serve translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/responses`.
    Responses,
}

/// The client's request as a chat request.
pub fn to_chat(ingress: Ingress, body: &ClientBody) -> Result<ClientBody, ApiError> {
    match ingress {
        Ingress::Messages => messages::to_chat::translate(body),
        Ingress::Responses => responses::to_chat::translate(body),
    }
}

/// A chat provider's whole answer (as its adapter read it) as the client's bytes;
/// `request` is the client's body.
pub fn answer(
    ingress: Ingress,
    chat: ResponseBody,
    usage: &TokenUsage,
    request: &ClientBody,
) -> Result<Bytes, Malformed> {
    let object = match ingress {
        Ingress::Messages => {
            let model = request.get("model").unwrap_or_default().trim_matches('"');
            messages::from_chat::message(chat, usage, model)?
        }
        Ingress::Responses => {
            let echo = responses::object::Echo::of(&request.to_map().map_err(|_| Malformed)?);
            responses::from_chat::response(chat, usage, &echo)?
        }
    };
    serde_json::to_vec(&object)
        .map(Bytes::from)
        .map_err(|_| Malformed)
}

/// A chat provider's stream written as the client's events.
pub struct Reencoding(Box<dyn StreamFormat>);

impl Reencoding {
    pub fn new(ingress: Ingress, request: &ClientBody) -> Result<Reencoding, Malformed> {
        let model = request.get("model").unwrap_or_default().trim_matches('"');
        Ok(Reencoding(match ingress {
            Ingress::Messages => Box::new(messages::events::Reencoder::new(model, false)),
            Ingress::Responses => {
                let echo = responses::object::Echo::of(&request.to_map().map_err(|_| Malformed)?);
                Box::new(responses::events::Reencoder::new(echo, false))
            }
        }))
    }

    /// Reads one upstream event and appends what the client gets for it to `out`.
    pub fn feed(
        &mut self,
        target: &Target,
        state: &mut StreamState,
        event: UpstreamEvent<'_>,
        out: &mut Vec<Bytes>,
    ) -> Result<(), Malformed> {
        let read = self.0.read(target, state, event)?;
        self.write(read, out);
        Ok(())
    }

    fn write(&mut self, read: StreamOut, out: &mut Vec<Bytes>) {
        match read {
            StreamOut::Chunk(chunk) => out.push(self.0.chunk(chunk)),
            StreamOut::Usage { usage, chunk } => {
                out.push(self.0.usage(chunk, &usage, Decimal::ZERO));
            }
            StreamOut::Done => out.push(self.0.done()),
            StreamOut::Error(error) => out.push(self.0.error(&error)),
            StreamOut::Many(reads) => reads.into_iter().for_each(|r| self.write(r, out)),
            // A re-encoded stream reads every event as a chunk.
            StreamOut::Forward | StreamOut::Skip => {}
        }
    }
}
