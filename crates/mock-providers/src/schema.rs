//! Plausible JSON for a JSON Schema: what the mock "generates" for a forced tool call's
//! arguments and for `response_format: json_schema`. Every required property gets a
//! value of the right type (optional ones are left out); `$ref`, `enum`, `const`,
//! `anyOf`/`oneOf`/`allOf`, `minimum`/`maximum`, `minItems`, `minLength` and common
//! string formats are honoured. Types may be written in capitals, as Google's
//! OpenAPI-style schemas write them (`"OBJECT"`, `"STRING"`).

use std::io;

use serde::Serialize;
use serde_json::{Map, Value, ser::Formatter};

/// Deeper than this (a recursive `$ref`), a value is `null`.
const MAX_DEPTH: u8 = 8;
/// Arrays get `minItems` items, at least one and at most this many.
const MAX_ITEMS: u64 = 4;

/// A value satisfying `schema`.
pub(crate) fn sample(schema: &Value) -> Value {
    sample_at(schema, schema, 0)
}

fn sample_at(schema: &Value, root: &Value, depth: u8) -> Value {
    let Some(s) = schema.as_object() else {
        // `true` or `{}`-like: anything goes.
        return Value::from("example");
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
        return reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
            .map_or(Value::Null, |target| sample_at(target, root, depth + 1));
    }
    if let Some(constant) = s.get("const") {
        return constant.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(variants) = s.get(combinator).and_then(Value::as_array) {
            let not_null = variants
                .iter()
                .find(|v| !type_of(v).is_some_and(|t| t.eq_ignore_ascii_case("null")));
            if let Some(variant) = not_null.or(variants.first()) {
                return sample_at(variant, root, depth + 1);
            }
        }
    }
    // Google's OpenAPI-style schemas write their types in capitals (`"OBJECT"`).
    match type_of(schema).map(str::to_ascii_lowercase).as_deref() {
        Some("object") => object(s, root, depth),
        Some("array") => array(s, root, depth),
        Some("string") => string(s),
        Some("integer") => Value::from(clamp(s, 1.0) as i64),
        Some("number") => Value::from(clamp(s, 1.5)),
        Some("boolean") => Value::Bool(true),
        Some("null") => Value::Null,
        _ if s.contains_key("properties") => object(s, root, depth),
        _ => Value::from("example"),
    }
}

/// The schema's `type`; of a list of types, the first that is not `"null"`.
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => {
            let mut names = types.iter().filter_map(Value::as_str);
            let first = names.clone().next();
            names.find(|t| !t.eq_ignore_ascii_case("null")).or(first)
        }
        _ => None,
    }
}

fn object(s: &Map<String, Value>, root: &Value, depth: u8) -> Value {
    let properties = s.get("properties");
    let required = s.get("required").and_then(Value::as_array);
    let filled = required
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            let value = properties
                .and_then(|p| p.get(name))
                .map_or_else(|| Value::from("example"), |p| sample_at(p, root, depth + 1));
            (name.to_owned(), value)
        });
    Value::Object(filled.collect())
}

fn array(s: &Map<String, Value>, root: &Value, depth: u8) -> Value {
    let count = s
        .get("minItems")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, MAX_ITEMS);
    let item = s
        .get("items")
        .map_or_else(|| Value::from("example"), |i| sample_at(i, root, depth + 1));
    Value::Array((0..count).map(|_| item.clone()).collect())
}

fn string(s: &Map<String, Value>) -> Value {
    let text = match s.get("format").and_then(Value::as_str) {
        Some("date-time") => "2025-01-01T00:00:00Z",
        Some("date") => "2025-01-01",
        Some("time") => "12:00:00",
        Some("email") => "user@example.com",
        Some("uri" | "url") => "https://example.com",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        _ => "example",
    };
    let min_len = s.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let mut text = text.to_owned();
    while (text.len() as u64) < min_len {
        text.push('x');
    }
    Value::String(text)
}

/// `preferred`, moved into `[minimum, maximum]` when the schema gives them.
fn clamp(s: &Map<String, Value>, preferred: f64) -> f64 {
    let minimum = s.get("minimum").and_then(Value::as_f64);
    let maximum = s.get("maximum").and_then(Value::as_f64);
    let raised = minimum.map_or(preferred, |lo| preferred.max(lo));
    maximum.map_or(raised, |hi| raised.min(hi))
}

/// JSON with a space after each `:` and `,` (as Python's `json.dumps` writes it), so
/// that a document splits into several whitespace-separated tokens.
pub(crate) fn to_spaced_json(value: &Value) -> String {
    let mut out = Vec::new();
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, Spaced,
        ))
        .expect("a JSON value always serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_required_properties_with_values_of_their_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 3},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "when": {"$ref": "#/$defs/when"},
                "note": {"type": ["null", "string"]},
                "optional": {"type": "boolean"}
            },
            "required": ["city", "days", "unit", "tags", "when", "note"],
            "$defs": {"when": {"type": "object", "properties": {"at": {"type": "string", "format": "date"}}, "required": ["at"]}}
        });
        assert_eq!(
            sample(&schema),
            json!({
                "city": "example", "days": 3, "unit": "celsius",
                "tags": ["example", "example"], "when": {"at": "2025-01-01"}, "note": "example"
            })
        );
    }

    #[test]
    fn google_capital_types_are_understood() {
        let schema = json!({"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}, "s": {"type": "STRING", "nullable": true}}, "required": ["n", "s"]});
        assert_eq!(sample(&schema), json!({"n": 1, "s": "example"}));
    }

    #[test]
    fn recursive_refs_end_in_null() {
        let schema =
            json!({"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]});
        let mut value = &sample(&schema);
        let mut depth = 0;
        while let Some(next) = value.get("next") {
            value = next;
            depth += 1;
        }
        assert!(value.is_null());
        assert!(depth > 3);
    }

    #[test]
    fn spaced_json_round_trips() {
        let value = json!({"a": [1, 2], "b": {"c": "d e"}});
        let text = to_spaced_json(&value);
        assert_eq!(text, r#"{"a": [1, 2], "b": {"c": "d e"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }
}
