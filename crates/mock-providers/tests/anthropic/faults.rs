use meridian_mock_providers::Fault;
use serde_json::{Value, json};

use crate::common::{read_until_broken, server, sse_events};
use crate::support::{ask, error_of, messages};

fn status(status: u16, retry_after_secs: Option<u32>) -> Fault {
    Fault::Status {
        status,
        retry_after_secs,
    }
}

#[tokio::test]
async fn status_faults_come_in_anthropic_error_shapes() {
    let server = server().await;
    server.inject(status(429, Some(3)), 1);
    server.inject(status(529, None), 1);
    server.inject(status(500, None), 1);

    let limited = messages(&server, &ask("hi")).await;
    assert_eq!(limited.headers()["retry-after"], "3");
    error_of(limited, 429, "rate_limit_error").await;
    let overloaded = error_of(messages(&server, &ask("hi")).await, 529, "overloaded_error").await;
    assert_eq!(overloaded, "Overloaded");
    error_of(messages(&server, &ask("hi")).await, 500, "api_error").await;
    assert_eq!(messages(&server, &ask("hi")).await.status(), 200);
}

#[tokio::test]
async fn a_stream_cut_never_reaches_the_message_delta() {
    let server = server().await;
    let mut body = ask("one two three");
    body["stream"] = json!(true);
    server.inject(Fault::StreamCut { after_chunks: 1000 }, 1);
    let (received, broke) = read_until_broken(messages(&server, &body).await).await;
    assert!(broke);
    let events = sse_events(std::str::from_utf8(&received).unwrap(), "\n");
    let last: &Value = &events.last().unwrap().1;
    assert_eq!(last["type"], "content_block_stop");

    server.inject(Fault::StreamCut { after_chunks: 2 }, 1);
    let (received, broke) = read_until_broken(messages(&server, &body).await).await;
    assert!(broke);
    assert_eq!(
        sse_events(std::str::from_utf8(&received).unwrap(), "\n").len(),
        2
    );
}
