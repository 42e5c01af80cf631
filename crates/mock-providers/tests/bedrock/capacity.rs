use meridian_mock_providers::{Capacity, Route};

use crate::common::server;
use crate::support::{MODEL, Signer, ask, error_of, send};

#[tokio::test]
async fn above_its_rpm_a_model_gets_a_throttling_exception_without_retry_after() {
    let server = server().await;
    server.set_capacity(Route::Bedrock, MODEL, Capacity { rpm: 1, tpm: 1000 });
    let body = ask("hi");
    let signed = |model| send(&server, model, "converse", &body, Some(Signer::default()));
    assert_eq!(signed(MODEL).await.status(), 200);
    let refused = signed(MODEL).await;
    assert!(refused.headers().get("retry-after").is_none());
    let message = error_of(refused, 429, "ThrottlingException").await;
    assert_eq!(
        message,
        "Too many requests, please wait before trying again."
    );
    let other = "amazon.nova-lite-v1:0";
    assert_eq!(signed(other).await.status(), 200);
    assert_eq!(server.throttled(), 1);
}
