//! Writing `usage.cost` into OpenAI-shaped JSON as an exact decimal number
//! (`0.00045`, never through a float and never in exponent form).

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Serializes `object` with `usage.cost = cost` added (creating `usage` if needed).
pub fn with_usage_cost(mut object: Map<String, Value>, cost: Decimal) -> Vec<u8> {
    let usage = match object.remove("usage") {
        Some(Value::Object(u)) => u,
        _ => Map::new(),
    };
    let usage = append_raw_field(
        serde_json::to_string(&usage).unwrap_or_default(),
        "cost",
        &cost.normalize().to_string(),
    );
    append_raw_field(
        serde_json::to_string(&object).unwrap_or_default(),
        "usage",
        &usage,
    )
    .into_bytes()
}

/// Appends `"key": raw` to the serialized JSON object `json`.
pub fn append_raw_field(mut json: String, key: &str, raw: &str) -> String {
    json.pop(); // the closing brace
    if json.len() > 1 {
        json.push(',');
    }
    json.push('"');
    json.push_str(key);
    json.push_str("\":");
    json.push_str(raw);
    json.push('}');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn cost_is_an_exact_number() {
        let obj: Map<String, Value> =
            serde_json::from_str(r#"{"id":"x","usage":{"prompt_tokens":1}}"#).unwrap();
        let out = String::from_utf8(with_usage_cost(obj, Decimal::from_str("0.000450").unwrap()))
            .unwrap();
        assert_eq!(
            out,
            r#"{"id":"x","usage":{"prompt_tokens":1,"cost":0.00045}}"#
        );
        let back: Value = serde_json::from_str(&out).unwrap();
        assert!(back["usage"]["cost"].is_number());
    }

    #[test]
    fn usage_is_created_when_missing() {
        let out = with_usage_cost(Map::new(), Decimal::from_str("0.00000015").unwrap());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"usage":{"cost":0.00000015}}"#
        );
    }
}
