//! A client's JSON object as it was sent, with where each top-level member's value
//! lies in it. Checking a body needs only a few members, and a provider that speaks
//! OpenAI's format takes the body as it is with a member or two changed: those copy
//! the rest as bytes. Parsing every body into a `serde_json::Value` tree and writing it
//! out again cost ~18% of the gateway's instructions per request (callgrind). Adapters
//! that translate the body into another format read it as a map ([`ClientBody::to_map`]).
//! What would keep that map from being read is refused when the body is parsed
//! ([`values`]).

pub mod values;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A JSON object's members in order: each key (unescaped) and its value's JSON text.
/// A key may repeat; as with `serde_json`'s own maps, the last one counts.
#[derive(Debug, Default)]
pub struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Members<'a> {
    /// The members of `json`, which must be one object. Values are checked for
    /// syntax, not parsed.
    pub fn parse(json: &'a str) -> serde_json::Result<Members<'a>> {
        serde_json::from_str(json)
    }

    /// Each member, in order (a repeated key as often as it was sent).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), *v))
    }

    /// The JSON text of member `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.get())
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Key(key)) = map.next_key()? {
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A member name, borrowed from the body unless it holds escapes.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The request body: the client's text and its top-level members.
#[derive(Debug, Clone)]
pub struct ClientBody {
    text: String,
    /// Each member's key and the byte range of its value in `text`.
    members: Vec<(String, Range<usize>)>,
}

impl ClientBody {
    /// Checks that `raw` is one JSON object whose values can all be read. Errors give a
    /// position or a member's name, never content.
    pub fn parse(raw: Bytes) -> Result<ClientBody, ApiError> {
        let text = String::from_utf8(Vec::from(raw)).map_err(|e| {
            ApiError::invalid_request(format!(
                "The request body is not valid UTF-8 (byte {}).",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let members = match Members::parse(&text) {
            Ok(members) => members,
            Err(e) if e.is_data() => {
                return Err(ApiError::invalid_request(
                    "The request body must be a JSON object.",
                ));
            }
            Err(e) => {
                return Err(ApiError::invalid_request(format!(
                    "The request body is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                )));
            }
        };
        let base = text.as_ptr() as usize;
        let members = members
            .0
            .into_iter()
            .map(|(key, value)| {
                let start = value.get().as_ptr() as usize - base;
                (key.into_owned(), start..start + value.get().len())
            })
            .collect::<Vec<_>>();
        for (key, range) in &members {
            values::check(&text[range.clone()], 1).map_err(|p| p.error(key))?;
        }
        Ok(ClientBody { text, members })
    }

    /// The JSON text of member `key` (the last, if it repeats).
    pub fn get(&self, key: &str) -> Option<&str> {
        let (_, range) = self.members.iter().rev().find(|(k, _)| k == key)?;
        self.text.get(range.clone())
    }

    /// The body as a map, for adapters that translate it. [`ClientBody::parse`] has
    /// checked that it reads; were anything missed, it is still the client's body
    /// that could not be read.
    pub fn to_map(&self) -> Result<Map<String, Value>, ApiError> {
        serde_json::from_str(&self.text)
            .map_err(|_| ApiError::invalid_request("The request body could not be read."))
    }

    /// The body with the members named in `changes` replaced by the given JSON text,
    /// or removed where it is `None`; all other members as sent, in their order.
    pub fn with_changes(&self, changes: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 64);
        out.push(b'{');
        let member = |out: &mut Vec<u8>, key: &str, value: &[u8]| {
            if out.len() > 1 {
                out.push(b',');
            }
            // A key always serializes (it is a string).
            let _ = serde_json::to_writer(&mut *out, key);
            out.push(b':');
            out.extend_from_slice(value);
        };
        for (key, range) in &self.members {
            if !changes.iter().any(|(k, _)| k == key) {
                member(&mut out, key, self.text[range.clone()].as_bytes());
            }
        }
        for (key, value) in changes {
            if let Some(value) = value {
                member(&mut out, key, value);
            }
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn body(text: &str) -> ClientBody {
        ClientBody::parse(Bytes::from(text.to_string())).unwrap()
    }

    #[test]
    fn members_are_found_with_escaped_keys_and_repeats() {
        let b = body(r#"{"mo\u0064el":"a","n":1,"n":2, "x" : {"y":[1,2]} }"#);
        assert_eq!(b.get("model"), Some(r#""a""#));
        assert_eq!(b.get("n"), Some("2"));
        assert_eq!(b.get("x"), Some(r#"{"y":[1,2]}"#));
        assert_eq!(b.get("absent"), None);
    }

    #[test]
    fn changes_replace_remove_and_add_members() {
        let b = body(r#"{"model":"public","usage":{"include":true},"keep":[1,{"a":"\u00e9"}]}"#);
        let out = b.with_changes(&[
            ("model", Some(br#""upstream""#)),
            ("usage", None),
            ("stream_options", Some(br#"{"include_usage":true}"#)),
        ]);
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out,
            json!({"model": "upstream", "keep": [1, {"a": "é"}],
                "stream_options": {"include_usage": true}})
        );
    }

    #[test]
    fn not_an_object_and_bad_syntax_are_told_apart() {
        for text in ["[1]", "\"s\"", "3"] {
            let err = ClientBody::parse(Bytes::from(text)).unwrap_err();
            assert_eq!(err.message, "The request body must be a JSON object.");
        }
        let err = ClientBody::parse(Bytes::from("{\"a\":1}x")).unwrap_err();
        assert!(
            err.message
                .starts_with("The request body is not valid JSON")
        );
        let err = ClientBody::parse(Bytes::from(vec![b'{', 0xff, b'}'])).unwrap_err();
        assert!(
            err.message
                .starts_with("The request body is not valid UTF-8")
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the object, its members read back as `serde_json` reads them, and
        /// the body written with no changes is the same object.
        #[test]
        fn members_agree_with_serde_json(
            object in prop::collection::btree_map("\\PC{0,6}", json_value(), 0..6),
            pretty in any::<bool>(),
        ) {
            let object: Map<String, Value> = object.into_iter().collect();
            let text = if pretty {
                serde_json::to_string_pretty(&object).unwrap()
            } else {
                serde_json::to_string(&object).unwrap()
            };
            // What serde_json itself reads back (floats need not round-trip exactly).
            let object: Map<String, Value> = serde_json::from_str(&text).unwrap();
            let b = body(&text);
            for (key, value) in &object {
                let got: Value = serde_json::from_str(b.get(key).unwrap()).unwrap();
                prop_assert_eq!(&got, value);
            }
            let written: Map<String, Value> = serde_json::from_slice(&b.with_changes(&[])).unwrap();
            prop_assert_eq!(&written, &object);
            prop_assert_eq!(b.to_map().unwrap(), object);
        }

        /// Any bytes: parsing never panics, and accepts exactly what `serde_json`
        /// accepts as an object.
        #[test]
        fn arbitrary_bytes_parse_as_serde_json_does(raw in prop::collection::vec(any::<u8>(), 0..64)) {
            let ours = ClientBody::parse(Bytes::from(raw.clone())).is_ok();
            let theirs = matches!(serde_json::from_slice::<Value>(&raw), Ok(Value::Object(_)));
            prop_assert_eq!(ours, theirs);
        }
    }
}
