//! async-openai's Azure configuration talks to the mock unchanged.

use async_openai::Client;
use async_openai::config::AzureConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

use crate::common::server;
use crate::support::{API_VERSION, DEPLOYMENT, KEY};

#[tokio::test]
async fn a_chat_and_a_stream_parse_with_the_sdk() {
    let server = server().await;
    let config = AzureConfig::new()
        .with_api_base(server.base_url())
        .with_deployment_id(DEPLOYMENT)
        .with_api_version(API_VERSION)
        .with_api_key(KEY);
    let client = Client::with_config(config);
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o")
        .messages([ChatCompletionRequestUserMessage::from("hello azure").into()])
        .build()
        .unwrap();
    let answer = client.chat().create(request.clone()).await.unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("You said: hello azure")
    );
    assert_eq!(answer.usage.unwrap().completion_tokens, 4);

    let mut streamed = request;
    streamed.stream = Some(true);
    streamed.stream_options = Some(ChatCompletionStreamOptions {
        include_usage: Some(true),
        ..ChatCompletionStreamOptions::default()
    });
    let mut stream = client.chat().create_stream(streamed).await.unwrap();
    let mut content = String::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in &chunk.choices {
            content.push_str(choice.delta.content.as_deref().unwrap_or(""));
        }
        usage = usage.or(chunk.usage);
    }
    assert_eq!(content, "You said: hello azure");
    assert_eq!(usage.unwrap().completion_tokens, 4);
}
