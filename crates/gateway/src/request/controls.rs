//! The routing members of a request body (OpenRouter's `models` and `provider`):
//! read into [`Controls`] and taken out of the body, so that no provider ever sees
//! them. A member Meridian does not implement is refused by name rather than
//! ignored: every one of them narrows the routing, and ignoring it would route
//! wider than the caller asked.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use crate::body::{ClientBody, Members};
use crate::error::ApiError;
use crate::routing::{Controls, MaxPrice, Sort};

/// The members consumed by the gateway.
const ROUTING_MEMBERS: [&str; 2] = ["models", "provider"];

/// Reads the routing controls and, when the body has any, rebuilds it without them.
pub fn take(body: &mut ClientBody) -> Result<Controls, ApiError> {
    let mut controls = Controls::none();
    let present = ROUTING_MEMBERS
        .iter()
        .any(|m| body.get(m).is_some_and(|v| v != "null"));
    if !present {
        return Ok(controls);
    }
    if let Some(models) = body.get("models").filter(|v| *v != "null") {
        controls.models = strings(models, "models")?;
    }
    if let Some(provider) = body.get("provider").filter(|v| *v != "null") {
        read_provider(provider, &mut controls)?;
    }
    let changes: Vec<(&str, Option<&[u8]>)> = ROUTING_MEMBERS.iter().map(|m| (*m, None)).collect();
    *body = ClientBody::parse(body.with_changes(&changes).into())?;
    Ok(controls)
}

fn invalid(path: &str, what: &str) -> ApiError {
    ApiError::invalid_request(format!("`{path}` must be {what}."))
}

fn strings(json: &str, path: &str) -> Result<Vec<String>, ApiError> {
    serde_json::from_str::<Vec<String>>(json).map_err(|_| invalid(path, "an array of strings"))
}

fn object<'a>(json: &'a str, path: &str) -> Result<Members<'a>, ApiError> {
    if !json.starts_with('{') {
        return Err(invalid(path, "an object"));
    }
    Members::parse(json).map_err(|_| invalid(path, "an object"))
}

fn read_provider(json: &str, controls: &mut Controls) -> Result<(), ApiError> {
    let members = object(json, "provider")?;
    for (key, value) in members.iter() {
        let path = format!("provider.{key}");
        let value = value.get();
        if value == "null" {
            continue;
        }
        match key {
            "order" => controls.order = strings(value, &path)?,
            "only" => controls.only = strings(value, &path)?,
            "ignore" => controls.ignore = strings(value, &path)?,
            "allow_fallbacks" => {
                controls.allow_fallbacks =
                    serde_json::from_str(value).map_err(|_| invalid(&path, "a boolean"))?
            }
            "sort" => {
                controls.sort = Some(match serde_json::from_str::<String>(value).as_deref() {
                    Ok("price") => Sort::Price,
                    Ok("latency") => Sort::Latency,
                    Ok("throughput") => Sort::Throughput,
                    _ => return Err(invalid(&path, "\"price\", \"latency\" or \"throughput\"")),
                })
            }
            "max_price" => controls.max_price = max_price(value)?,
            "data_collection" => {
                controls.deny_data_collection =
                    match serde_json::from_str::<String>(value).as_deref() {
                        Ok("deny") => true,
                        Ok("allow") => false,
                        _ => return Err(invalid(&path, "\"deny\" or \"allow\"")),
                    }
            }
            other => {
                return Err(ApiError::invalid_request(format!(
                    "`provider.{}` is not supported by Meridian; the routing controls it supports are order, only, ignore, allow_fallbacks, sort, max_price and data_collection.",
                    meridian_core::wire::shown_id(other)
                )));
            }
        }
    }
    Ok(())
}

/// `max_price`: USD per 1M tokens, as decimal strings (numbers are read from their
/// text, never through a float).
fn max_price(json: &str) -> Result<MaxPrice, ApiError> {
    let members = object(json, "provider.max_price")?;
    let mut max = MaxPrice::default();
    for (key, value) in members.iter() {
        let path = format!("provider.max_price.{key}");
        let slot = match key {
            "prompt" => &mut max.prompt,
            "completion" => &mut max.completion,
            other => {
                return Err(ApiError::invalid_request(format!(
                    "`provider.max_price.{}` is not supported; give `prompt` and `completion` in USD per 1M tokens.",
                    meridian_core::wire::shown_id(other)
                )));
            }
        };
        *slot = Some(price(value, &path)?);
    }
    Ok(max)
}

fn price(value: &RawValue, path: &str) -> Result<Decimal, ApiError> {
    let text = value.get();
    let digits = match serde_json::from_str::<String>(text) {
        Ok(s) => s,
        Err(_) => text.to_string(),
    };
    Decimal::from_str(&digits)
        .or_else(|_| Decimal::from_scientific(&digits))
        .ok()
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| invalid(path, "a non-negative decimal string (USD per 1M tokens)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<(Controls, ClientBody), ApiError> {
        let mut body = ClientBody::parse(json.as_bytes().to_vec().into()).unwrap();
        take(&mut body).map(|c| (c, body))
    }

    #[test]
    fn routing_members_are_read_and_taken_out_of_the_body() {
        let (c, body) = read(
            r#"{"model":"m","models":["a/b","c/d"],"provider":{"order":["openai"],"only":["x"],
            "ignore":["y"],"allow_fallbacks":false,"sort":"price",
            "max_price":{"prompt":"0.5","completion":2},"data_collection":"deny"},"n":1}"#,
        )
        .unwrap();
        assert_eq!(c.models, ["a/b", "c/d"]);
        assert_eq!(c.order, ["openai"]);
        assert_eq!(
            (c.only.as_slice(), c.ignore.as_slice()),
            (&["x".to_string()][..], &["y".to_string()][..])
        );
        assert!(!c.allow_fallbacks && c.deny_data_collection);
        assert_eq!(c.sort, Some(Sort::Price));
        assert_eq!(c.max_price.prompt, Some(Decimal::new(5, 1)));
        assert_eq!(c.max_price.completion, Some(Decimal::from(2)));
        assert!(body.get("models").is_none() && body.get("provider").is_none());
        assert_eq!(body.get("n"), Some("1"));
    }

    #[test]
    fn a_body_without_controls_is_left_alone() {
        let (c, body) = read(r#"{"model":"m","provider":null}"#).unwrap();
        assert_eq!(c, Controls::none());
        assert_eq!(body.get("provider"), Some("null"));
    }

    #[test]
    fn wrong_or_unknown_members_are_named() {
        for (json, named) in [
            (r#"{"models":"a"}"#, "`models`"),
            (r#"{"provider":[]}"#, "`provider`"),
            (r#"{"provider":{"sort":"cheap"}}"#, "`provider.sort`"),
            (r#"{"provider":{"zdr":true}}"#, "`provider.zdr`"),
            (
                r#"{"provider":{"max_price":{"prompt":"-1"}}}"#,
                "`provider.max_price.prompt`",
            ),
            (
                r#"{"provider":{"allow_fallbacks":"no"}}"#,
                "`provider.allow_fallbacks`",
            ),
        ] {
            let e = read(json).unwrap_err();
            assert_eq!(e.status, 400, "{json}");
            assert!(e.message.contains(named), "{json}: {}", e.message);
        }
    }
}
