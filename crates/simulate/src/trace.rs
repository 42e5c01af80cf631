//! The trace a simulation replays (SPEC, "Simulation trace"): JSON lines, one request
//! a line, and fault lines that take a deployment or a whole provider down for a while.
//! Lines are in time order.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

/// One request of the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// When it arrives, in ms from the start of the trace.
    pub t_ms: u64,
    pub customer: String,
    /// The customer's own home region (`None`: the gateway's rule picks one).
    pub home_region: Option<String>,
    /// The customer's residency (`None` or `any`: every region).
    pub residency: Option<String>,
    pub model: String,
    pub prompt_tokens: u64,
    /// The output cap the request set (`None`: the model's).
    pub max_tokens: Option<u64>,
    /// What the model will generate (at most `max_tokens`).
    pub completion_tokens: u64,
    pub stream: bool,
}

/// Deployments out of service from `t_ms` for `duration_ms`: every attempt on them
/// fails after the deployment's connect timeout, as an unreachable region does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub t_ms: u64,
    pub outage: Outage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    #[serde(flatten)]
    pub of: OutageOf,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageOf {
    /// A deployment id of the configuration.
    Deployment(String),
    /// A provider name (`azure`): all of its deployments.
    Provider(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Request(Request),
    Fault(Fault),
}

impl Line {
    pub fn t_ms(&self) -> u64 {
        match self {
            Line::Request(r) => r.t_ms,
            Line::Fault(f) => f.t_ms,
        }
    }

    fn parse(text: &str) -> Result<Line, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("outage").is_some() {
            serde_json::from_value(value).map(Line::Fault)
        } else {
            serde_json::from_value(value).map(Line::Request)
        }
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Line::Request(r) => serde_json::to_writer(&mut *out, r)?,
            Line::Fault(f) => serde_json::to_writer(&mut *out, f)?,
        }
        out.write_all(b"\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read the trace: {0}")]
    Io(#[from] std::io::Error),
    #[error("trace line {line}: {error}")]
    Line {
        line: usize,
        error: serde_json::Error,
    },
    #[error(
        "trace line {line}: t_ms {t_ms} is before the line above it ({previous}); lines must be in time order"
    )]
    OutOfOrder {
        line: usize,
        t_ms: u64,
        previous: u64,
    },
}

/// Reads a whole trace (blank lines are skipped).
pub fn read(input: impl BufRead) -> Result<Vec<Line>, TraceError> {
    let mut lines = Vec::new();
    let mut previous = 0;
    for (i, text) in input.lines().enumerate() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let line = Line::parse(&text).map_err(|error| TraceError::Line { line: i + 1, error })?;
        if line.t_ms() < previous {
            return Err(TraceError::OutOfOrder {
                line: i + 1,
                t_ms: line.t_ms(),
                previous,
            });
        }
        previous = line.t_ms();
        lines.push(line);
    }
    Ok(lines)
}

pub fn write(lines: &[Line], out: &mut impl Write) -> std::io::Result<()> {
    for line in lines {
        line.write(out)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_of_line_read_back_as_written() {
        let lines = vec![
            Line::Request(Request {
                t_ms: 5,
                customer: "c1".into(),
                home_region: Some("eu-west".into()),
                residency: Some("eu".into()),
                model: "openai/gpt-4o-mini".into(),
                prompt_tokens: 1200,
                max_tokens: Some(512),
                completion_tokens: 300,
                stream: true,
            }),
            Line::Fault(Fault {
                t_ms: 9,
                outage: Outage {
                    of: OutageOf::Provider("azure".into()),
                    duration_ms: 60_000,
                },
            }),
        ];
        let mut text = Vec::new();
        write(&lines, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(r#""outage":{"provider":"azure","duration_ms":60000}"#));
        assert_eq!(read(text.as_bytes()).unwrap(), lines);
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let text =
            "{\"t_ms\":1,\"outage\":{\"deployment\":\"d\",\"duration_ms\":1}}\n{\"t_ms\":2}\n";
        let err = read(text.as_bytes()).unwrap_err().to_string();
        assert!(err.starts_with("trace line 2: missing field"), "{err}");
        let text = "{\"t_ms\":9,\"outage\":{\"deployment\":\"d\",\"duration_ms\":1}}\n{\"t_ms\":2,\"outage\":{\"provider\":\"p\",\"duration_ms\":1}}\n";
        let err = read(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 2: t_ms 2 is before"), "{err}");
    }
}
