//! Signature Version 4, checked as AWS checks it, written from AWS's documentation of
//! the canonical request: any region in the credential scope, the service `bedrock`,
//! the test credentials [`ACCESS_KEY`] / [`SECRET_KEY`], `X-Amz-Date` within five
//! minutes of now, and the path encoded once more than it arrived, as for every
//! service but S3 (a `:` sent as `%3A` is signed as `%253A`).

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri, header};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The only access key the mock knows.
pub const ACCESS_KEY: &str = "AKIAMERIDIANMOCKKEY1";
/// Its secret.
pub const SECRET_KEY: &str = "meridian-mock-secret";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "bedrock";
const TERMINATOR: &str = "aws4_request";
const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// How far `X-Amz-Date` may be from now.
const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Why a request's signature is refused; each is a 403 of its own exception type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization` header: `MissingAuthenticationTokenException`.
    Missing,
    /// An `Authorization` header that is not a complete SigV4 one:
    /// `IncompleteSignatureException`.
    Incomplete(String),
    /// An access key the mock does not know: `UnrecognizedClientException`.
    UnknownKey,
    /// A wrong scope, a stale date or a signature that does not match:
    /// `InvalidSignatureException`.
    Invalid(String),
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, Refusal> {
    let incomplete = |what: &str| {
        Refusal::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."
        ))
    };
    let Some(fields) = value
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return Err(incomplete("Credential"));
    };
    let field = |name: &str| {
        fields
            .split(',')
            .filter_map(|pair| pair.trim().split_once('='))
            .find_map(|(key, value)| (key == name).then_some(value))
    };
    let (Some(credential), Some(signed_headers), Some(signature)) = (
        field("Credential"),
        field("SignedHeaders"),
        field("Signature"),
    ) else {
        return Err(incomplete("Credential"));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = scope[..] else {
        return Err(Refusal::Incomplete(format!(
            "Credential should have at least 5 slash-separated parts, not {}.",
            scope.len()
        )));
    };
    Ok(Authorization {
        key,
        date,
        region,
        service,
        terminator,
        signed_headers,
        signature,
    })
}

/// Checks the request's signature against the test credentials at `now`.
pub(crate) fn verify(head: &Parts, body: &[u8], now: DateTime<Utc>) -> Result<(), Refusal> {
    let Some(value) = head.headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| Refusal::Invalid(MISMATCH.into()))?;
    let auth = parse_authorization(value)?;
    if auth.key != ACCESS_KEY {
        return Err(Refusal::UnknownKey);
    }
    if auth.service != SERVICE {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if auth.terminator != TERMINATOR {
        return Err(Refusal::Invalid(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            auth.terminator
        )));
    }
    let Some(amz_date) = head.headers.get("x-amz-date").and_then(|v| v.to_str().ok()) else {
        return Err(Refusal::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        ));
    };
    let signed_at = NaiveDateTime::parse_from_str(amz_date, DATE_FORMAT)
        .map_err(|_| Refusal::Invalid(format!("Invalid X-Amz-Date: {amz_date}")))?
        .and_utc();
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(Refusal::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    check_skew(amz_date, signed_at, now)?;
    if !auth.signed_headers.split(';').any(|name| name == "host") {
        return Err(Refusal::Invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let canonical = canonical_request(
        &head.method,
        &head.uri,
        &head.headers,
        auth.signed_headers,
        body,
    );
    let scope = format!("{}/{}/{SERVICE}/{TERMINATOR}", auth.date, auth.region);
    let expected = signature(SECRET_KEY, &scope, amz_date, &canonical);
    if expected == auth.signature {
        Ok(())
    } else {
        Err(Refusal::Invalid(MISMATCH.into()))
    }
}

fn check_skew(amz_date: &str, signed_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Refusal> {
    let stamp = |t: DateTime<Utc>| t.format(DATE_FORMAT).to_string();
    if signed_at < now - MAX_SKEW {
        return Err(Refusal::Invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 5 min.)",
            stamp(now - MAX_SKEW),
            stamp(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(Refusal::Invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            stamp(now + MAX_SKEW),
            stamp(now)
        )));
    }
    Ok(())
}

/// The canonical request: method, path, query, the signed headers, their names, and
/// the hash of the body.
fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed_headers: &str,
    body: &[u8],
) -> String {
    let mut canonical = format!(
        "{method}\n{}\n{}\n",
        encode(&normalize_path(uri.path()), false),
        canonical_query(uri.query().unwrap_or_default())
    );
    for name in signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|value| trim_all(&String::from_utf8_lossy(value.as_bytes())))
            .collect();
        let value = match (values.is_empty(), name, uri.authority()) {
            // Over HTTP/2 the host comes as `:authority`.
            (true, "host", Some(authority)) => authority.as_str().to_owned(),
            _ => values.join(","),
        };
        canonical.push_str(&format!("{name}:{value}\n"));
    }
    canonical.push_str(&format!(
        "\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(body))
    ));
    canonical
}

/// The hex signature of the canonical request, with the key derived from `secret`
/// for the scope `date/region/service/aws4_request`.
fn signature(secret: &str, scope: &str, amz_date: &str, canonical_request: &str) -> String {
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes());
    }
    hex::encode(hmac(&key, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Removes `.` and `..` segments and empty ones (RFC 3986 § 5.2.4), keeping a
/// trailing slash.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut normalized = format!("/{}", segments.join("/"));
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if trailing && !normalized.ends_with('/') {
        normalized.push('/');
    }
    normalized
}

/// The query's parameters decoded, encoded again, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(name), true), encode(&decode(value), true))
        })
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    pairs.join("&")
}

/// Percent-encodes every byte but the unreserved ones (and `/`, unless `slash`).
fn encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) || (byte == b'/' && !slash) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decodes (a malformed escape stays as it is).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Trims the value and folds runs of spaces into one.
fn trim_all(value: &str) -> String {
    value
        .split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published SigV4 test suite: its example credentials and time.
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_SCOPE: &str = "20150830/us-east-1/service/aws4_request";

    fn suite_signature(
        method: &str,
        target: &str,
        extra_headers: &[(&'static str, &str)],
    ) -> String {
        let uri: Uri = format!("http://example.amazonaws.com{target}")
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", SUITE_DATE.parse().unwrap());
        for (name, value) in extra_headers {
            headers.insert(*name, value.parse().unwrap());
        }
        let mut names: Vec<&str> = headers.keys().map(|name| name.as_str()).collect();
        names.sort();
        let canonical = canonical_request(
            &method.parse().unwrap(),
            &uri,
            &headers,
            &names.join(";"),
            b"",
        );
        signature(SUITE_SECRET, SUITE_SCOPE, SUITE_DATE, &canonical)
    }

    #[test]
    fn the_aws_test_suite_signs_alike() {
        // get-vanilla, get-slash-dot-slash-normalized, post-vanilla-query,
        // get-vanilla-query-order-encoded, get-header-value-trim.
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assert_eq!(suite_signature("GET", "/", &[]), vanilla);
        assert_eq!(suite_signature("GET", "/./", &[]), vanilla);
        assert_eq!(
            suite_signature("POST", "/?Param1=value1", &[]),
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        );
        assert_eq!(
            suite_signature("GET", "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1", &[]),
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"
        );
        assert_eq!(
            suite_signature(
                "GET",
                "/",
                &[("my-header1", " value1"), ("my-header2", "\"a   b   c\"")]
            ),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
    }

    #[test]
    fn a_percent_encoded_path_is_encoded_again() {
        let path = normalize_path("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
        assert_eq!(
            encode(&path, false),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"
        );
        assert_eq!(
            encode(&normalize_path("/test/@connections/x"), false),
            "/test/%40connections/x"
        );
        assert_eq!(normalize_path("//a/./b/../c/"), "/a/c/");
    }
}
