use serde_json::{Value, json};

use crate::common::server;
use crate::support::{MODEL, messages};

#[tokio::test]
async fn a_cache_breakpoint_writes_the_prefix_once_then_reads_it() {
    let server = server().await;
    let body = |question: &str| {
        json!({
            "model": MODEL,
            "max_tokens": 100,
            "system": [
                {"type": "text", "text": "You answer questions about a long document."},
                {"type": "text", "text": "The document: one two three four five six.", "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [{"role": "user", "content": question}]
        })
    };
    // The system prompt: 7 + 8 words, plus 4.
    let prefix = 19;
    let first: Value = messages(&server, &body("what?"))
        .await
        .json()
        .await
        .unwrap();
    let usage = &first["usage"];
    assert_eq!(usage["cache_creation_input_tokens"], prefix);
    assert_eq!(usage["cache_read_input_tokens"], 0);
    assert_eq!(usage["cache_creation"]["ephemeral_5m_input_tokens"], prefix);
    // The message (1 + 4) and the prompt's 3 are not cached.
    assert_eq!(usage["input_tokens"], 8);

    let second: Value = messages(&server, &body("and why?"))
        .await
        .json()
        .await
        .unwrap();
    let usage = &second["usage"];
    assert_eq!(usage["cache_creation_input_tokens"], 0);
    assert_eq!(usage["cache_read_input_tokens"], prefix);
    assert_eq!(usage["input_tokens"], 9);
}

#[tokio::test]
async fn a_one_hour_breakpoint_on_a_message_caches_up_to_that_message() {
    let server = server().await;
    let body = json!({
        "model": MODEL,
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a b c", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "next"}
        ]
    });
    let first: Value = messages(&server, &body).await.json().await.unwrap();
    assert_eq!(first["usage"]["cache_creation_input_tokens"], 7);
    assert_eq!(
        first["usage"]["cache_creation"]["ephemeral_1h_input_tokens"],
        7
    );
    assert_eq!(
        first["usage"]["cache_creation"]["ephemeral_5m_input_tokens"],
        0
    );
    assert_eq!(first["usage"]["input_tokens"], 5 + 5 + 3);
}
