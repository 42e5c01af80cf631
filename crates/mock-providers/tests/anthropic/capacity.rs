use meridian_mock_providers::{Capacity, Route};

use crate::common::server;
use crate::support::{MODEL, ask, error_of, messages};

#[tokio::test]
async fn above_its_rpm_a_model_gets_anthropics_rate_limit_error_with_retry_after() {
    let server = server().await;
    server.set_capacity(Route::Anthropic, MODEL, Capacity { rpm: 1, tpm: 1000 });
    assert_eq!(messages(&server, &ask("hi")).await.status(), 200);
    let refused = messages(&server, &ask("hi")).await;
    assert_eq!(refused.headers()["retry-after"], "60");
    error_of(refused, 429, "rate_limit_error").await;

    let mut other = ask("hi");
    other["model"] = "claude-haiku-4-5".into();
    assert_eq!(messages(&server, &other).await.status(), 200);
    assert_eq!(server.throttled(), 1);
}

#[tokio::test]
async fn anthropic_tokens_above_tpm_are_refused() {
    let server = server().await;
    // ask("hi") spends 8 prompt and 3 completion tokens.
    server.set_capacity(Route::Anthropic, MODEL, Capacity { rpm: 10, tpm: 21 });
    assert_eq!(messages(&server, &ask("hi")).await.status(), 200);
    let refused = messages(&server, &ask("hi")).await;
    error_of(refused, 429, "rate_limit_error").await;
}
