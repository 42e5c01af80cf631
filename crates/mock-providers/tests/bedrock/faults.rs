use meridian_mock_providers::Fault;

use crate::common::{read_until_broken, server};
use crate::support::{MODEL, Signer, ask, decode, error_of, header, send};

#[tokio::test]
async fn status_faults_come_as_aws_exceptions() {
    let server = server().await;
    for status in [429, 503, 500] {
        server.inject(
            Fault::Status {
                status,
                retry_after_secs: Some(1),
            },
            1,
        );
    }
    let body = ask("hi");
    let signed = || send(&server, MODEL, "converse", &body, Some(Signer::default()));
    let throttled = signed().await;
    assert!(throttled.headers().get("retry-after").is_none());
    error_of(throttled, 429, "ThrottlingException").await;
    error_of(signed().await, 503, "ServiceUnavailableException").await;
    error_of(signed().await, 500, "InternalServerException").await;
    assert_eq!(signed().await.status(), 200);
}

#[tokio::test]
async fn a_stream_cut_never_reaches_the_metadata() {
    let server = server().await;
    server.inject(Fault::StreamCut { after_chunks: 1000 }, 1);
    let response = send(
        &server,
        MODEL,
        "converse-stream",
        &ask("one two"),
        Some(Signer::default()),
    )
    .await;
    let (received, broke) = read_until_broken(response).await;
    assert!(broke);
    let messages = decode(&received);
    let last = messages.last().unwrap();
    assert_eq!(header(last, ":event-type"), "messageStop");
}
