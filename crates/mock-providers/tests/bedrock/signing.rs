use std::time::{Duration, SystemTime};

use crate::common::{client, server};
use meridian_mock_providers::BEDROCK_ACCESS_KEY_ID;

use crate::support::{MODEL, Signer, ask, error_of, send, signature, url};

#[tokio::test]
async fn a_good_signature_passes_in_any_region() {
    let server = server().await;
    for region in ["us-east-1", "eu-west-3", "ap-northeast-1"] {
        let signer = Signer {
            region,
            ..Signer::default()
        };
        let response = send(&server, MODEL, "converse", &ask("hi"), Some(signer)).await;
        assert_eq!(response.status(), 200, "{region}");
    }
    // A model id without a `:`, and an inference profile id.
    for model in [
        "amazon.nova-lite-v1:0",
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "cohere.command-r-v1",
    ] {
        let response = send(
            &server,
            model,
            "converse",
            &ask("hi"),
            Some(Signer::default()),
        )
        .await;
        assert_eq!(response.status(), 200, "{model}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_signature() {
    let server = server().await;
    let signer = Signer {
        secret: "not-the-secret",
        ..Signer::default()
    };
    let response = send(&server, MODEL, "converse", &ask("hi"), Some(signer)).await;
    let message = error_of(response, 403, "InvalidSignatureException").await;
    assert!(message.starts_with("The request signature we calculated does not match"));
}

#[tokio::test]
async fn a_body_changed_after_signing_is_an_invalid_signature() {
    let server = server().await;
    let url = url(&server, MODEL, "converse");
    let signed = serde_json::to_vec(&ask("hi")).unwrap();
    let headers = signature(&server, &url, &signed, Signer::default());
    let mut request = client()
        .post(url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let tampered = serde_json::to_vec(&ask("hi there")).unwrap();
    let response = request.body(tampered).send().await.unwrap();
    let message = error_of(response, 403, "InvalidSignatureException").await;
    assert!(message.starts_with("The request signature we calculated does not match"));
}

#[tokio::test]
async fn a_scope_date_other_than_x_amz_date_is_refused() {
    let server = server().await;
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={BEDROCK_ACCESS_KEY_ID}/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    );
    let response = client()
        .post(url(&server, MODEL, "converse"))
        .header("authorization", authorization)
        .header(
            "x-amz-date",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
        )
        .json(&ask("hi"))
        .send()
        .await
        .unwrap();
    let message = error_of(response, 403, "InvalidSignatureException").await;
    assert!(
        message.starts_with("Date in Credential scope does not match"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unknown_key_is_an_unrecognized_client() {
    let server = server().await;
    let signer = Signer {
        key: "AKIAOTHERKEY00000000",
        ..Signer::default()
    };
    let response = send(&server, MODEL, "converse", &ask("hi"), Some(signer)).await;
    let message = error_of(response, 403, "UnrecognizedClientException").await;
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn no_signature_is_a_missing_token() {
    let server = server().await;
    let response = send(&server, MODEL, "converse", &ask("hi"), None).await;
    assert_eq!(
        error_of(response, 403, "MissingAuthenticationTokenException").await,
        "Missing Authentication Token"
    );
}

#[tokio::test]
async fn the_wrong_service_or_a_stale_date_is_refused() {
    let server = server().await;
    let signer = Signer {
        service: "s3",
        ..Signer::default()
    };
    let response = send(&server, MODEL, "converse", &ask("hi"), Some(signer)).await;
    let message = error_of(response, 403, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Credential should be scoped to correct service: 'bedrock'."
    );

    let signer = Signer {
        time: SystemTime::now() - Duration::from_secs(20 * 60),
        ..Signer::default()
    };
    let response = send(&server, MODEL, "converse", &ask("hi"), Some(signer)).await;
    let message = error_of(response, 403, "InvalidSignatureException").await;
    assert!(message.starts_with("Signature expired"), "{message}");
}
