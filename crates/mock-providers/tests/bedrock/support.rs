use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use meridian_mock_providers::{BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY, MockServer};
use serde_json::{Value, json};

use crate::common::client;

/// A model id with a `:`, which travels as `%3A` and is signed as `%253A`.
pub const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/// Who signs a request, where and when.
#[derive(Debug, Clone, Copy)]
pub struct Signer {
    pub key: &'static str,
    pub secret: &'static str,
    pub region: &'static str,
    pub service: &'static str,
    pub time: SystemTime,
}

impl Default for Signer {
    fn default() -> Self {
        Self {
            key: BEDROCK_ACCESS_KEY_ID,
            secret: BEDROCK_SECRET_ACCESS_KEY,
            region: "us-east-1",
            service: "bedrock",
            time: SystemTime::now(),
        }
    }
}

/// The URL of `operation` on `model`, the model id percent-encoded in the path as the
/// AWS SDKs send it.
pub fn url(server: &MockServer, model: &str, operation: &str) -> String {
    format!(
        "{}/model/{}/{operation}",
        server.base_url(),
        model.replace(':', "%3A")
    )
}

/// The headers that `signer` adds to a JSON `POST` of `body` to `url`.
pub fn signature(
    server: &MockServer,
    url: &str,
    body: &[u8],
    signer: Signer,
) -> Vec<(String, String)> {
    let identity = Credentials::new(signer.key, signer.secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signer.region)
        .name(signer.service)
        .time(signer.time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let host = server.addr().to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
    ];
    let signable =
        SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// `POST /model/{model}/{operation}`, signed by `signer` (unsigned without one).
pub async fn send(
    server: &MockServer,
    model: &str,
    operation: &str,
    body: &Value,
    signer: Option<Signer>,
) -> reqwest::Response {
    let url = url(server, model, operation);
    let body = serde_json::to_vec(body).unwrap();
    let mut request = client()
        .post(&url)
        .header("content-type", "application/json");
    if let Some(signer) = signer {
        for (name, value) in signature(server, &url, &body, signer) {
            request = request.header(name, value);
        }
    }
    request.body(body).send().await.expect("the mock answers")
}

/// A signed `converse` request, answered 200, as JSON.
pub async fn converse(server: &MockServer, body: &Value) -> Value {
    let response = send(server, MODEL, "converse", body, Some(Signer::default())).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A one-message request.
pub fn ask(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}]})
}

/// Asserts AWS's error shape: the status, the exception in `x-amzn-ErrorType`, a
/// message in the body. Returns the message.
pub async fn error_of(response: reqwest::Response, status: u16, exception: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    let kind = response.headers()["x-amzn-errortype"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(kind.split(':').next(), Some(exception), "{kind}");
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let body: Value = response.json().await.expect("a JSON error body");
    body["message"].as_str().expect("a message").to_owned()
}

/// The event-stream messages of a body, each checked against its CRCs.
pub fn decode(mut body: &[u8]) -> Vec<Message> {
    let mut messages = Vec::new();
    while !body.is_empty() {
        messages.push(read_message_from(&mut body).expect("a well-formed frame"));
    }
    messages
}

/// A message's string header.
pub fn header<'a>(message: &'a Message, name: &str) -> &'a str {
    let header = message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .unwrap_or_else(|| panic!("no {name} header"));
    header
        .value()
        .as_string()
        .expect("a string header")
        .as_str()
}

/// An event's JSON payload, without its padding.
pub fn payload(message: &Message) -> Value {
    let mut payload: Value = serde_json::from_slice(message.payload()).unwrap();
    let padding = payload.as_object_mut().unwrap().remove("p");
    assert!(padding.is_some_and(|p| p.as_str().is_some_and(|p| !p.is_empty())));
    payload
}
