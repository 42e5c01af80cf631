//! RFC 9457 problem details, the error shape of every route outside `/v1/*`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

impl Problem {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Bad request",
            detail: detail.into(),
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            title: "Unauthorized",
            detail: detail.into(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            title: "Forbidden",
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            detail: detail.into(),
        }
    }

    /// No route at this path (the path cut to a readable length).
    pub fn no_route(method: &str, path: &str) -> Self {
        let method: String = method.chars().take(20).collect();
        let path: String = path.chars().take(100).collect();
        Self::not_found(format!("There is no route {method} {path}."))
    }

    /// A route asked with a method it does not take (the `Allow` header lists those it
    /// does).
    pub fn method_not_allowed(method: &str) -> Self {
        let method: String = method.chars().take(20).collect();
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            title: "Method not allowed",
            detail: format!(
                "This route does not take {method}; the Allow header lists the methods it takes."
            ),
        }
    }

    /// The request body did not arrive whole within the server's body-read timeout.
    pub fn body_timeout() -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            title: "Request timeout",
            detail: "The request body did not arrive in time; the connection is closed.".into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            title: "Conflict",
            detail: detail.into(),
        }
    }

    /// A body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            title: "Payload too large",
            detail: format!("The body is over {} MB.", limit / (1024 * 1024)),
        }
    }

    pub fn unsupported_encoding() -> Self {
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            title: "Unsupported media type",
            detail:
                "The request body is read as sent: `Content-Encoding` must be `identity` or absent."
                    .into(),
        }
    }

    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal error",
            detail: "The request failed; nothing was changed.".into(),
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error on a REST route");
        Problem::internal()
    }
}

/// The body of every error (`application/problem+json`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody<'a> {
    /// Always `about:blank`: the status and title say what went wrong.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    #[schema(example = "Bad request")]
    pub title: &'static str,
    #[schema(example = 400)]
    pub status: u16,
    /// What to change, naming the member or parameter at fault.
    #[schema(example = "`limit` must be a whole number from 1 to 200.")]
    pub detail: &'a str,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}
