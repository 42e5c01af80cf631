//! A JSON body read member by member, so that every refusal names the member
//! (`limits.rpm`) and says what it takes; members left over are refused by name.

use serde_json::{Map, Value};

use crate::Problem;

/// A JSON object's members, taken one by one; what is left over is refused.
pub(crate) struct Members {
    map: Map<String, Value>,
    /// Where the object is (`""` for the body, `"limits."` inside it).
    at: &'static str,
}

impl Members {
    pub fn of(value: Value, at: &'static str, shape: &str) -> Result<Members, Problem> {
        match value {
            Value::Object(map) => Ok(Members { map, at }),
            _ => Err(Problem::bad_request(format!(
                "`{}` must be an object like {shape}.",
                at.trim_end_matches('.')
            ))),
        }
    }

    pub fn body(bytes: &[u8], shape: &str) -> Result<Members, Problem> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            Problem::bad_request(format!(
                "The body must be a JSON object like {shape} ({}).",
                e.to_string().split(" at line").next().unwrap_or_default()
            ))
        })?;
        match value {
            Value::Object(map) => Ok(Members { map, at: "" }),
            _ => Err(Problem::bad_request(format!(
                "The body must be a JSON object like {shape}."
            ))),
        }
    }

    /// The member `name`: `None` when absent, `Some(Value::Null)` when null.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    pub fn finish(self, takes: &str) -> Result<(), Problem> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(name) => Err(Problem::bad_request(format!(
                "Unknown member `{}{}`: {takes}.",
                self.at,
                meridian_core::wire::shown_id(name)
            ))),
        }
    }

    pub fn wrong(&self, name: &str, takes: &str) -> Problem {
        Problem::bad_request(format!("`{}{name}` must be {takes}.", self.at))
    }

    /// A member that may be null (`Some(None)`) or absent (`None`).
    pub fn nullable<T>(
        &mut self,
        name: &str,
        takes: &str,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<Option<Option<T>>, Problem> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => read(&v)
                .map(|t| Some(Some(t)))
                .ok_or_else(|| self.wrong(name, takes)),
        }
    }

    /// A string member that, when present, must be a string (NUL-free: Postgres text
    /// cannot hold one); `None` when absent.
    pub fn string(&mut self, name: &str, takes: &str) -> Result<Option<String>, Problem> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => plain_text(&v)
                .map(Some)
                .ok_or_else(|| self.wrong(name, takes)),
        }
    }

    /// A string member that must be present.
    pub fn required_string(&mut self, name: &str, takes: &str) -> Result<String, Problem> {
        self.string(name, takes)?.ok_or_else(|| {
            Problem::bad_request(format!("`{}{name}` is required: {takes}.", self.at))
        })
    }

    /// A string member that may be null (`Some(None)`: clear it) or absent (`None`).
    pub fn nullable_string(
        &mut self,
        name: &str,
        takes: &str,
    ) -> Result<Option<Option<String>>, Problem> {
        self.nullable(name, takes, plain_text)
    }
}

/// A JSON string without NUL characters.
fn plain_text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.contains('\0')).map(str::to_string)
}
