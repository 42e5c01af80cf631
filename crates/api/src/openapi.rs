//! The OpenAPI 3.1 document of `/api/v1/*` and `/admin/v1/*`, served at
//! `/openapi.json` and rendered at `/docs`. It is built from the handlers the router
//! registers (utoipa-axum's `routes!` registers a handler and its `#[utoipa::path]`
//! together), so a route cannot exist without its entry, nor an entry without its route.
//!
//! What every operation shares is added here, once, by [`conventions`]: its security
//! scheme (by path prefix), the 401 of a missing or wrong credential, the
//! `application/problem+json` body of every 4xx, and the `x-request-id` header of every
//! answer. A handler declares only its own statuses:
//!
//! ```ignore
//! /// `GET /api/v1/things/{id}`.
//! #[utoipa::path(get, path = "/api/v1/things/{id}", tag = "things",
//!     params(("id" = String, Path, description = "The thing's id.")),
//!     responses(
//!         (status = 200, body = Thing),
//!         (status = 404, description = "No thing with this id (another customer's too)."),
//!     ))]
//! pub async fn get_thing(/* ... */) -> Result<Json<Thing>, Problem> { /* ... */ }
//! ```
//!
//! and is registered with `.routes(routes!(things::get_thing))` in [`crate::router`]
//! (finance handlers in `finance_routes`, with paths relative to `/admin/v1`).

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, path::Operation};
use utoipa::openapi::{ObjectBuilder, Type};

use crate::problem::ProblemBody;

/// The document's frame: what the handlers' entries are merged into.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Meridian dashboard and finance API",
        description = "The customer's dashboard (`/api/v1/*`, the customer's API key) and the \
            finance and operator API (`/admin/v1/*`, the admin token). Errors are RFC 9457 \
            problem+json; lists are cursor-paginated (`limit`, `cursor` → `next_cursor`); \
            POSTs take an `Idempotency-Key`; PDFs and XML carry an `ETag`.",
        license(name = "Proprietary")
    ),
    components(schemas(ProblemBody))
)]
pub(crate) struct Frame;

/// Security scheme of `/api/v1/*`: a customer's API key.
pub const CUSTOMER_KEY: &str = "customer_key";
/// Security scheme of `/admin/v1/*`: `MERIDIAN_ADMIN_TOKEN`.
pub const ADMIN_TOKEN: &str = "admin_token";

/// The content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Adds what every operation shares (see the module doc) and the security schemes.
pub(crate) fn conventions(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        CUSTOMER_KEY,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("mk-…")
                .description(Some(
                    "A customer's API key (`Authorization: Bearer mk-…`). Key management and \
                     budget writes need a key with the `admin` role.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        ADMIN_TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The operator's `MERIDIAN_ADMIN_TOKEN`."))
                .build(),
        ),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let (scheme, refused) = if path.starts_with(crate::FINANCE) {
            (
                ADMIN_TOKEN,
                "No admin token, a wrong one, or the finance API is disabled.",
            )
        } else {
            (
                CUSTOMER_KEY,
                "No API key, an unknown, a revoked or an expired one.",
            )
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            shared(operation, scheme, refused);
        }
    }
}

fn shared(operation: &mut Operation, scheme: &str, refused: &str) {
    operation.security = Some(vec![SecurityRequirement::new::<_, _, &str>(scheme, [])]);
    let responses = &mut operation.responses.responses;
    responses
        .entry("401".into())
        .or_insert_with(|| ResponseBuilder::new().description(refused).build().into());
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if status.starts_with('4') && response.content.is_empty() {
            response.content.insert(
                PROBLEM_JSON.into(),
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build()
                    .into(),
            );
        }
        response.headers.insert(
            "x-request-id".into(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("The request's id, new for each request."))
                .build()
                .into(),
        );
    }
}
