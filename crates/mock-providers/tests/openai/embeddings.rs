use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use meridian_mock_providers::MockServer;
use serde_json::{Value, json};

use crate::support::{client, error_of, post, server};

async fn embed(server: &MockServer, body: Value) -> reqwest::Response {
    post(format!("{}/embeddings", server.openai_base_url()), &body).await
}

fn floats(item: &Value) -> Vec<f32> {
    item["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[tokio::test]
async fn float_embeddings_are_deterministic_unit_vectors() {
    let server = server().await;
    let body = json!({"model": "text-embedding-3-small", "input": ["the cat sat", "a dog", "the cat sat"]});
    let response = embed(&server, body).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["object"], "list");
    assert_eq!(list["model"], "text-embedding-3-small");
    assert_eq!(
        list["usage"],
        json!({"prompt_tokens": 8, "total_tokens": 8})
    );
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, item) in data.iter().enumerate() {
        assert_eq!(item["object"], "embedding");
        assert_eq!(item["index"], i);
        let vector = floats(item);
        assert_eq!(vector.len(), 1536);
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{norm}");
    }
    assert_eq!(floats(&data[0]), floats(&data[2]));
    assert_ne!(floats(&data[0]), floats(&data[1]));
    assert_eq!(server.requests_seen(), 1);
}

#[tokio::test]
async fn base64_embeddings_are_the_same_floats_little_endian() {
    let server = server().await;
    let float: Value = embed(
        &server,
        json!({"model": "text-embedding-3-large", "input": "hello", "dimensions": 256}),
    )
    .await
    .json()
    .await
    .unwrap();
    let encoded: Value = embed(
        &server,
        json!({"model": "text-embedding-3-large", "input": "hello", "dimensions": 256, "encoding_format": "base64"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let bytes = STANDARD
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(decoded.len(), 256);
    assert_eq!(decoded, floats(&float["data"][0]));
}

#[tokio::test]
async fn token_id_inputs_count_their_length() {
    let server = server().await;
    let list: Value = embed(
        &server,
        json!({"model": "text-embedding-3-small", "input": [[1, 2, 3], [4, 5]]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(list["usage"]["prompt_tokens"], 5);
}

#[tokio::test]
async fn bad_embedding_requests_are_400() {
    let server = server().await;
    let cases = [
        (json!({"model": "text-embedding-3-small"}), "input"),
        (
            json!({"model": "text-embedding-3-small", "input": ""}),
            "input",
        ),
        (
            json!({"model": "text-embedding-3-small", "input": []}),
            "input",
        ),
        (
            json!({"model": "text-embedding-3-small", "input": [1, "a"]}),
            "input",
        ),
        (
            json!({"model": "text-embedding-3-small", "input": "a", "encoding_format": "hex"}),
            "encoding_format",
        ),
        (
            json!({"model": "text-embedding-ada-002", "input": "a", "dimensions": 8}),
            "dimensions",
        ),
        (
            json!({"model": "text-embedding-3-small", "input": "a", "dimensions": 4096}),
            "dimensions",
        ),
        (
            json!({"model": "text-embedding-3-small", "input": "a", "usage": {"include": true}}),
            "",
        ),
    ];
    for (body, param) in cases {
        let error = error_of(embed(&server, body.clone()).await, 400).await;
        if !param.is_empty() {
            assert_eq!(error["param"], param, "{body}");
        }
    }
}

#[tokio::test]
async fn the_models_list_names_a_handful_of_models() {
    let server = server().await;
    let list: Value = client()
        .get(format!("{}/models", server.openai_base_url()))
        .bearer_auth("sk-x")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    let models = list["data"].as_array().unwrap();
    assert!(models.len() >= 5);
    for model in models {
        assert_eq!(model["object"], "model");
        assert!(
            model["id"].is_string() && model["owned_by"].is_string() && model["created"].is_u64()
        );
    }
    assert!(models.iter().any(|m| m["id"] == "gpt-4o-mini"));
    assert!(models.iter().any(|m| m["id"] == "text-embedding-3-small"));
}
