//! Reading a request the way Google's JSON parser does: every field under its
//! lowerCamel name or its snake_case twin, and an unknown field refused.

use serde_json::{Map, Value};

use super::error::Error;

pub(crate) type Object = Map<String, Value>;

/// The field `camel` (or its snake_case twin); `null` is absent.
pub(crate) fn get<'a>(object: &'a Object, camel: &str) -> Option<&'a Value> {
    object
        .get(camel)
        .or_else(|| object.get(&snake(camel)))
        .filter(|value| !value.is_null())
}

/// Refuses a field that is none of `known` (named in lowerCamel) in either spelling;
/// `at` is where the object sits (`generation_config`), for the message.
pub(crate) fn check_known(object: &Object, known: &[&str], at: Option<&str>) -> Result<(), Error> {
    let Some(unknown) = object
        .keys()
        .find(|key| !known.contains(&camel(key).as_str()))
    else {
        return Ok(());
    };
    let place = at.map(|at| format!(" at '{at}'")).unwrap_or_default();
    Err(Error::invalid(format!(
        "Invalid JSON payload received. Unknown name \"{unknown}\"{place}: Cannot find field."
    )))
}

/// `generationConfig` → `generation_config`.
pub(crate) fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `generation_config` → `generationConfig` (a lowerCamel name is left alone).
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' if !out.is_empty() => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_spellings_are_one_field() {
        assert_eq!(snake("maxOutputTokens"), "max_output_tokens");
        assert_eq!(camel("max_output_tokens"), "maxOutputTokens");
        assert_eq!(camel("maxOutputTokens"), "maxOutputTokens");
        assert_eq!(camel("_responseJsonSchema"), "_responseJsonSchema");
        let object = json!({"max_output_tokens": 5, "topK": 3});
        let object = object.as_object().unwrap();
        assert_eq!(get(object, "maxOutputTokens"), Some(&json!(5)));
        assert!(check_known(object, &["maxOutputTokens", "topK"], None).is_ok());
        let refused = check_known(object, &["topK"], Some("generation_config")).unwrap_err();
        assert!(
            format!("{refused:?}")
                .contains(r#"Unknown name \"max_output_tokens\" at 'generation_config'"#)
        );
    }
}
