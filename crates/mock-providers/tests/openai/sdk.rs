//! The mock's answers parse with a third-party SDK's own types (async-openai).

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestUserMessage, ChatCompletionStreamOptions,
    ChatCompletionTool, ChatCompletionToolChoiceOption, ChatCompletionTools,
    CreateChatCompletionRequestArgs, FinishReason, FunctionObjectArgs,
};
use async_openai::types::embeddings::{CreateEmbeddingRequestArgs, EncodingFormat};
use futures::StreamExt;
use meridian_mock_providers::MockServer;
use serde_json::{Value, json};

use crate::support::server;

fn sdk(server: &MockServer) -> Client<OpenAIConfig> {
    let config = OpenAIConfig::new()
        .with_api_base(server.openai_base_url())
        .with_api_key("sk-sdk");
    Client::with_config(config)
}

#[tokio::test]
async fn whole_answers_and_streams_parse_with_the_sdk() {
    let server = server().await;
    let client = sdk(&server);
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessage::from("hello sdk").into()])
        .build()
        .unwrap();
    let answer = client.chat().create(request.clone()).await.unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("You said: hello sdk")
    );
    let usage = answer.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (9, 4, 13)
    );

    let mut streamed = request;
    // Set by hand: with the workspace's `byot` feature, `create_stream` leaves it alone.
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
    assert_eq!(content, "You said: hello sdk");
    assert_eq!(usage.unwrap().completion_tokens, 4);
}

#[tokio::test]
async fn a_forced_tool_call_parses_with_the_sdk() {
    let server = server().await;
    let function = FunctionObjectArgs::default()
        .name("get_weather")
        .parameters(json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}))
        .build()
        .unwrap();
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o")
        .messages([ChatCompletionRequestUserMessage::from("weather?").into()])
        .tools(vec![ChatCompletionTools::Function(ChatCompletionTool {
            function,
        })])
        .tool_choice(ChatCompletionToolChoiceOption::Function(
            "get_weather".into(),
        ))
        .build()
        .unwrap();
    let answer = sdk(&server).chat().create(request).await.unwrap();
    let choice = &answer.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    let Some(ChatCompletionMessageToolCalls::Function(call)) =
        choice.message.tool_calls.as_ref().and_then(|c| c.first())
    else {
        panic!("a function call: {choice:?}");
    };
    assert_eq!(call.function.name, "get_weather");
    let arguments: Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(arguments, json!({"city": "example"}));
}

#[tokio::test]
async fn embeddings_and_models_parse_with_the_sdk() {
    let server = server().await;
    let client = sdk(&server);
    let mut request = CreateEmbeddingRequestArgs::default()
        .model("text-embedding-3-small")
        .input(["alpha beta", "gamma"])
        .dimensions(64u32)
        .build()
        .unwrap();
    let floats = client.embeddings().create(request.clone()).await.unwrap();
    assert_eq!(floats.data.len(), 2);
    assert_eq!(floats.usage.prompt_tokens, 3);

    request.encoding_format = Some(EncodingFormat::Base64);
    let encoded = client.embeddings().create_base64(request).await.unwrap();
    for (float, base64) in floats.data.iter().zip(encoded.data) {
        assert_eq!(float.embedding, Vec::<f32>::from(base64.embedding));
    }

    let models = client.models().list().await.unwrap();
    assert!(models.data.iter().any(|m| m.id == "gpt-4o-mini"));
}
