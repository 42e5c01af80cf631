//! Documents over REST. Customers (their own key): `GET /api/v1/invoices`, their
//! invoices and credit notes, `GET /api/v1/invoices/{id}` (one with its lines and
//! taxes), `/pdf` and `/xml`. Finance (admin token): `GET /admin/v1/invoices/{number}/pdf`
//! and `/xml` (EN 16931, EU entity only), `GET /admin/v1/outbox?status=&entity=&period=`
//! (where each e-mail stands) and `POST /admin/v1/outbox/{number}/retry` (a failed
//! e-mail back in the queue).
//!
//! PDFs and XML are rendered on request from the issued rows, off the async threads,
//! and never stored: the same document always gives the same bytes, so their hash is
//! their `ETag`, and a request whose `If-None-Match` holds it gets 304.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use meridian_billing::query::{self, InvoiceDetail, InvoiceRow, ListFilter};
use meridian_documents::{DocumentsError, InvoiceDocument, OutboxFilter, OutboxRow, OutboxStatus};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::admin::{authorize, finance_query};
use crate::document_ref::{DocumentRef, IdParam, NumberParam, no_document};
use crate::{ApiState, Problem};

/// A file's bytes, in the OpenAPI document (their media type is the content's).
pub(crate) struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("The file's bytes."))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

/// `If-None-Match`, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct Conditional {
    /// An `ETag` this route gave: 304 when the document is still that one.
    #[param(rename = "If-None-Match")]
    if_none_match: Option<String>,
}

/// The `status` filter of the outbox, in the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct OutboxParams {
    status: Option<OutboxStatus>,
    /// The issuing entity's code (`US`, `EU`, …).
    entity: Option<String>,
    /// The billing period, a month like `2026-10`.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    period: Option<String>,
}

impl From<DocumentsError> for Problem {
    fn from(e: DocumentsError) -> Self {
        match e {
            DocumentsError::Db(e) => e.into(),
            // The reason may quote the document; only that it failed is logged.
            _ => {
                tracing::error!("an issued document could not be rendered");
                Problem::internal()
            }
        }
    }
}

/// The document of `issued`, rendered by `render` on a blocking thread.
async fn rendered<T: Send + 'static>(
    issued: &InvoiceDetail,
    render: fn(&InvoiceDocument) -> Result<T, DocumentsError>,
) -> Result<T, Problem> {
    let doc = meridian_documents::document(issued)?;
    tokio::task::spawn_blocking(move || render(&doc))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(Problem::from)
}

/// A rendered document as the answer to a request with `request` headers: 304 when
/// its `If-None-Match` names the bytes' `ETag`.
fn file(request: &HeaderMap, bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if !matches {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    response
}

async fn pdf_of(request: &HeaderMap, issued: &InvoiceDetail) -> Result<Response, Problem> {
    let pdf = rendered(issued, meridian_documents::render_pdf).await?;
    Ok(file(
        request,
        pdf,
        "application/pdf",
        format!("{}.pdf", issued.row.number),
    ))
}

/// The EN 16931 (Factur-X CII) XML of an EU entity's document; 404 for the others.
async fn xml_of(request: &HeaderMap, issued: &InvoiceDetail) -> Result<Response, Problem> {
    match rendered(issued, meridian_documents::render_xml).await? {
        Some(xml) => Ok(file(
            request,
            xml.into_bytes(),
            "application/xml",
            format!("{}.xml", issued.row.number),
        )),
        None => Err(Problem::not_found(format!(
            "{} has no EN 16931 XML: only the EU entity's invoices within the EU VAT system carry one.",
            issued.row.number
        ))),
    }
}

/// One invoice or credit note of the customer's list.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CustomerInvoice {
    id: Uuid,
    number: String,
    /// `invoice` or `credit_note`.
    kind: String,
    period: String,
    currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    total: Decimal,
    issue_date: NaiveDate,
    status: String,
    credited_invoice: Option<String>,
    /// Where its PDF is.
    pdf: String,
}

impl From<InvoiceRow> for CustomerInvoice {
    fn from(r: InvoiceRow) -> Self {
        CustomerInvoice {
            pdf: format!("/api/v1/invoices/{}/pdf", r.id),
            id: r.id,
            number: r.number,
            kind: r.kind,
            period: r.period,
            currency: r.currency,
            subtotal: r.subtotal,
            tax: r.tax,
            total: r.total,
            issue_date: r.issue_date,
            status: r.status,
            credited_invoice: r.credited_invoice,
        }
    }
}

/// The customer's documents.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CustomerInvoices {
    items: Vec<CustomerInvoice>,
}

/// `GET /api/v1/invoices`: the customer's invoices and credit notes, newest first.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices",
    responses((status = 200, body = CustomerInvoices)))]
pub async fn customer_invoices(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Problem> {
    let customer = state.customer(&headers)?;
    let filter = ListFilter {
        customer: Some(customer),
        ..ListFilter::default()
    };
    let mut rows = query::list(&state.pool, &filter).await?;
    rows.sort_by(|a, b| (b.issue_date, &b.number).cmp(&(a.issue_date, &a.number)));
    let items: Vec<CustomerInvoice> = rows.into_iter().map(Into::into).collect();
    Ok(Json(CustomerInvoices { items }))
}

/// The customer's document that `{id}` names (the id of the list or the document's
/// number). Another customer's document is answered as if it did not exist.
async fn customer_document(
    state: &ApiState,
    headers: &HeaderMap,
    id: DocumentRef,
) -> Result<InvoiceDetail, Problem> {
    let customer = state.customer(headers)?;
    let id = id.get()?;
    let issued = match id.parse::<Uuid>() {
        Ok(uuid) => query::get_by_id(&state.pool, uuid).await?,
        Err(_) => match query::get(&state.pool, &id).await {
            Ok(issued) => Some(issued),
            Err(meridian_billing::BillingError::UnknownInvoice(_)) => None,
            Err(e) => return Err(e.into()),
        },
    };
    match issued {
        Some(issued) if issued.row.customer_id == customer => Ok(issued),
        _ => Err(no_document(&id)),
    }
}

/// `GET /api/v1/invoices/{id}`: the document with its lines and taxes.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(IdParam),
    responses(
        (status = 200, body = InvoiceDetail),
        (status = 404, description = "No document with this id or number (another customer's included)."),
    ))]
pub async fn customer_invoice(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: DocumentRef,
) -> Result<impl IntoResponse, Problem> {
    Ok(Json(customer_document(&state, &headers, id).await?))
}

/// `GET /api/v1/invoices/{id}/pdf`
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", tag = "invoices",
    params(IdParam, Conditional),
    responses(
        (status = 200, content((FileBytes = "application/pdf")), headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "`If-None-Match` names this PDF's `ETag`.", headers(("ETag" = String))),
        (status = 404, description = "No document with this id or number (another customer's included)."),
    ))]
pub async fn customer_pdf(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: DocumentRef,
) -> Result<Response, Problem> {
    let issued = customer_document(&state, &headers, id).await?;
    pdf_of(&headers, &issued).await
}

/// `GET /api/v1/invoices/{id}/xml`
#[utoipa::path(get, path = "/api/v1/invoices/{id}/xml", tag = "invoices",
    params(IdParam, Conditional),
    responses(
        (status = 200, description = "EN 16931 (Factur-X CII) XML.", content((FileBytes = "application/xml")), headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "`If-None-Match` names this XML's `ETag`.", headers(("ETag" = String))),
        (status = 404, description = "No document with this id or number (another customer's included), or one without XML (not the EU entity's)."),
    ))]
pub async fn customer_xml(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    id: DocumentRef,
) -> Result<Response, Problem> {
    let issued = customer_document(&state, &headers, id).await?;
    xml_of(&headers, &issued).await
}

/// `GET /admin/v1/invoices/{number}/pdf`
#[utoipa::path(get, path = "/invoices/{number}/pdf", tag = "finance",
    params(NumberParam, Conditional),
    responses(
        (status = 200, content((FileBytes = "application/pdf")), headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "`If-None-Match` names this PDF's `ETag`.", headers(("ETag" = String))),
        (status = 404, description = "No document with this number."),
    ))]
pub async fn finance_pdf(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    number: DocumentRef,
) -> Result<Response, Problem> {
    authorize(&state, &headers)?;
    pdf_of(&headers, &query::get(&state.pool, &number.get()?).await?).await
}

/// `GET /admin/v1/invoices/{number}/xml`: the EN 16931 (Factur-X CII) XML of an EU
/// entity's document; 404 for the others.
#[utoipa::path(get, path = "/invoices/{number}/xml", tag = "finance",
    params(NumberParam, Conditional),
    responses(
        (status = 200, description = "EN 16931 (Factur-X CII) XML.", content((FileBytes = "application/xml")), headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "`If-None-Match` names this XML's `ETag`.", headers(("ETag" = String))),
        (status = 404, description = "No document with this number, or one without XML (not the EU entity's)."),
    ))]
pub async fn finance_xml(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    number: DocumentRef,
) -> Result<Response, Problem> {
    authorize(&state, &headers)?;
    xml_of(&headers, &query::get(&state.pool, &number.get()?).await?).await
}

/// `GET /admin/v1/outbox?status=&entity=&period=`: the e-mail of every issued document,
/// oldest first, with its status, attempts, last error and Message-ID.
#[utoipa::path(get, path = "/outbox", tag = "finance",
    params(OutboxParams),
    responses(
        (status = 200, body = Vec<OutboxRow>),
        (status = 400, description = "A filter this list does not take (the message names it)."),
    ))]
pub async fn outbox(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    let q = finance_query(raw.as_deref(), &["status", "entity", "period"])?;
    let status = q
        .status
        .map(|s| {
            OutboxStatus::parse(&s).ok_or_else(|| {
                Problem::bad_request("`status` must be one of pending, sending, sent, failed.")
            })
        })
        .transpose()?;
    let filter = OutboxFilter {
        status,
        entity: q.filter.entity,
        period: q.filter.period,
    };
    Ok(Json(
        meridian_documents::outbox_list(&state.pool, &filter).await?,
    ))
}

/// `POST /admin/v1/outbox/{number}/retry`: puts a failed e-mail back in the queue
/// (after the customer's address was fixed, say); 409 unless it had failed.
#[utoipa::path(post, path = "/outbox/{number}/retry", tag = "finance",
    params(NumberParam),
    responses(
        (status = 200, body = OutboxRow, description = "The e-mail, back in the queue."),
        (status = 404, description = "No document with this number, or no e-mail of it."),
        (status = 409, description = "The e-mail has not failed."),
    ))]
pub async fn retry(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    number: DocumentRef,
) -> Result<impl IntoResponse, Problem> {
    authorize(&state, &headers)?;
    let number = number.get()?;
    let issued = query::get(&state.pool, &number).await?;
    if !meridian_documents::retry_failed(&state.pool, issued.row.id).await? {
        return Err(Problem::conflict(format!(
            "The e-mail of {number} has not failed; only failed e-mails are retried."
        )));
    }
    let row = meridian_documents::outbox_status(&state.pool, issued.row.id)
        .await?
        .ok_or_else(|| no_document(&number))?;
    Ok(Json(row))
}
