//! `POST /v1/embeddings`: deterministic unit vectors seeded by each input, as floats
//! or as base64 of little-endian `f32`s, shortened by `dimensions`.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::request::{self, Object, positive_at, str_at};
use crate::capacity::Route;
use crate::gate::{self, Admitted, Provider};
use crate::tokens;

const INVALID_INPUT: &str = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

/// The answer to an embeddings request; `deployment` names the model where the path
/// does (Azure), making `model` optional in the body.
pub(crate) fn respond<P: Provider>(request: &Admitted<P>, deployment: Option<&str>) -> Response {
    answer(request, deployment).unwrap_or_else(IntoResponse::into_response)
}

fn answer<P: Provider>(
    request: &Admitted<P>,
    deployment: Option<&str>,
) -> Result<Response, ApiError> {
    let object = request::parse_object(&request.body)?;
    let model = request::model_or(&object, deployment)?;
    let inputs = inputs(&object)?;
    let base64 = base64_requested(&object)?;
    let dimensions = dimensions(&object, model)?;
    let prompt_tokens = inputs.iter().map(Input::tokens).sum();
    let route = if deployment.is_some() {
        Route::Azure
    } else {
        Route::OpenAi
    };
    if let Some(throttled) =
        request.over_capacity(route, deployment.unwrap_or(model), prompt_tokens)
    {
        return Ok(throttled);
    }
    let data = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = unit_vector(input.seed(), dimensions);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                Embedding::Base64(STANDARD.encode(bytes))
            } else {
                Embedding::Float(vector)
            };
            Item {
                object: "embedding",
                index,
                embedding,
            }
        })
        .collect();
    let body = List {
        object: "list",
        data,
        model,
        usage: Usage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    let body = serde_json::to_vec(&body).expect("an embedding list always serializes");
    Ok(gate::json_response(body, request.cut_after))
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Item>,
    model: &'a str,
    usage: Usage,
}

#[derive(Serialize)]
struct Item {
    object: &'static str,
    index: usize,
    embedding: Embedding,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Embedding {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u32,
    total_tokens: u32,
}

/// One input: a text, or a list of token ids.
enum Input<'a> {
    Text(&'a str),
    Tokens(&'a [Value]),
}

impl Input<'_> {
    /// Its tokens: the words of a text, the length of a token list.
    fn tokens(&self) -> u32 {
        match self {
            Input::Text(text) => tokens::words(text),
            Input::Tokens(ids) => u32::try_from(ids.len()).unwrap_or(u32::MAX),
        }
    }

    /// FNV-1a over the text's bytes or the ids' little-endian bytes.
    fn seed(&self) -> u64 {
        let fnv = |hash: u64, byte: u8| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        let start = 0xcbf2_9ce4_8422_2325;
        match self {
            Input::Text(text) => text.bytes().fold(start, fnv),
            Input::Tokens(ids) => ids
                .iter()
                .filter_map(Value::as_u64)
                .flat_map(u64::to_le_bytes)
                .fold(start, fnv),
        }
    }
}

/// A string, an array of strings, an array of token ids, or an array of arrays of
/// token ids; nothing empty.
fn inputs(object: &Object) -> Result<Vec<Input<'_>>, ApiError> {
    let invalid = || ApiError::invalid(INVALID_INPUT).with_param("input");
    let is_token_list = |v: &Value| matches!(v, Value::Array(ids) if !ids.is_empty() && ids.iter().all(Value::is_u64));
    match object.get("input") {
        None | Some(Value::Null) => Err(ApiError::missing("input")),
        Some(Value::String(text)) if !text.is_empty() => Ok(vec![Input::Text(text)]),
        Some(Value::Array(items)) if items.is_empty() => Err(invalid()),
        Some(list @ Value::Array(items)) if is_token_list(list) => Ok(vec![Input::Tokens(items)]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) if !text.is_empty() => Ok(Input::Text(text)),
                Value::Array(ids) if is_token_list(item) => Ok(Input::Tokens(ids)),
                _ => Err(invalid()),
            })
            .collect(),
        Some(_) => Err(invalid()),
    }
}

fn base64_requested(object: &Object) -> Result<bool, ApiError> {
    match str_at(object.get("encoding_format"), "encoding_format")? {
        None | Some("float") => Ok(false),
        Some("base64") => Ok(true),
        Some(other) => Err(ApiError::unsupported_value(
            "encoding_format",
            other,
            &["float", "base64"],
        )),
    }
}

/// The vector length: the model's own, or `dimensions` where the model allows it.
fn dimensions(object: &Object, model: &str) -> Result<usize, ApiError> {
    let native: u32 = if model.contains("3-large") {
        3072
    } else {
        1536
    };
    let Some(asked) = positive_at(object.get("dimensions"), "dimensions")? else {
        return Ok(native as usize);
    };
    if !model.contains("embedding-3") {
        return Err(
            ApiError::invalid("This model does not support specifying dimensions.")
                .with_param("dimensions"),
        );
    }
    if asked > native {
        return Err(ApiError::invalid(format!(
            "Invalid value for 'dimensions' = {asked}. Must be less than or equal to {native}."
        ))
        .with_param("dimensions"));
    }
    Ok(asked as usize)
}

/// `len` pseudo-random components (splitmix64 from `seed`), scaled to length 1.
fn unit_vector(seed: u64, len: usize) -> Vec<f32> {
    let mut state = seed;
    let mut vector: Vec<f32> = (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // The top 24 bits as a float in [-1, 1).
            (z >> 40) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect();
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}
