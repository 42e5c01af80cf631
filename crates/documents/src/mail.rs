//! E-mail: the localized message that carries a document's PDF, and the SMTP transport
//! (lettre over `SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or
//! `smtps://user:pass@smtp.example.com`). The body's shape is `templates/email.txt`;
//! its words come from `locales/<locale>/email.ftl`. Budget alerts go out the same way,
//! without an attachment.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use meridian_billing::budget_alerts::BudgetAlert;
use meridian_core::BudgetPeriod;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::DocumentsError;
use crate::format::Formats;
use crate::l10n::Strings;
use crate::model::{DocumentKind, InvoiceDocument};

const TEMPLATE: &str = include_str!("../../../templates/email.txt");

/// Builds the e-mail for `doc` with its PDF attached, in the customer's language.
/// `message_id` is the bare id (`…@host`), recorded by the outbox before sending.
pub fn compose(
    doc: &InvoiceDocument,
    from: Mailbox,
    pdf: Vec<u8>,
    message_id: &str,
) -> Result<Message, DocumentsError> {
    let s = Strings::for_locale(&doc.locale)?;
    let f = Formats::for_locale(&doc.locale)?;
    let entity = doc.seller.legal_name.as_str();
    let number = doc.number.as_str();
    let total = f.money(doc.totals.total.abs(), &doc.currency)?;
    let (subject, body) = match &doc.kind {
        DocumentKind::Invoice => {
            let period = s.format(
                "meta-period-range",
                &[
                    ("start", &f.date(doc.period.start)?),
                    ("end", &f.date(doc.period.end)?),
                ],
            )?;
            let due = f.date(doc.payment.due_date)?;
            (
                s.format(
                    "email-subject-invoice",
                    &[("number", number), ("entity", entity)],
                )?,
                s.format(
                    "email-body-invoice",
                    &[
                        ("number", number),
                        ("period", &period),
                        ("total", &total),
                        ("due", &due),
                    ],
                )?,
            )
        }
        DocumentKind::CreditNote { invoice_number, .. } => (
            s.format(
                "email-subject-credit-note",
                &[("number", number), ("entity", entity)],
            )?,
            s.format(
                "email-body-credit-note",
                &[
                    ("number", number),
                    ("invoice", invoice_number),
                    ("total", &total),
                ],
            )?,
        ),
    };
    let text = TEMPLATE
        .replace(
            "{greeting}",
            &s.format("email-greeting", &[("name", &doc.buyer.name)])?,
        )
        .replace("{body}", &body)
        .replace("{closing}", &s.get("email-closing")?)
        .replace("{entity}", entity)
        .replace("{footer}", &s.get("email-footer")?);
    let to: Mailbox = doc
        .buyer
        .email
        .parse()
        .map_err(|e| DocumentsError::Invalid(format!("buyer e-mail: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{message_id}>")))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(text))
                .singlepart(
                    Attachment::new(format!("{number}.pdf"))
                        .body(pdf, ContentType::parse("application/pdf").expect("valid")),
                ),
        )
        .map_err(|e| DocumentsError::Mail(e.to_string()))
}

/// Builds the e-mail of a budget alert, in the customer's language: what was spent in
/// the period and the share of the budget it is.
pub fn compose_budget_alert(
    alert: &BudgetAlert,
    from: Mailbox,
    message_id: &str,
) -> Result<Message, DocumentsError> {
    let s = Strings::for_locale(&alert.locale)?;
    let f = Formats::for_locale(&alert.locale)?;
    let minor = crate::currency::minor_units(&alert.currency)?;
    let shown = |amount: Decimal| {
        let rounded = amount.round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven);
        f.money_exact(rounded, &alert.currency)
    };
    let percent = f.percent(Decimal::from(alert.threshold) / Decimal::ONE_HUNDRED);
    let period = s.get(match alert.period.0 {
        BudgetPeriod::Day => "email-budget-period-day",
        BudgetPeriod::Month => "email-budget-period-month",
    })?;
    let body_id = if alert.threshold >= 100 {
        "email-body-budget-exhausted"
    } else {
        "email-body-budget-alert"
    };
    let subject = s.format(
        "email-subject-budget-alert",
        &[("percent", &percent), ("entity", &alert.entity_name)],
    )?;
    let body = s.format(
        body_id,
        &[
            ("period", &period),
            ("spent", &shown(alert.spent)?),
            ("percent", &percent),
            ("amount", &shown(alert.budget_amount)?),
        ],
    )?;
    let text = TEMPLATE
        .replace(
            "{greeting}",
            &s.format("email-greeting", &[("name", &alert.customer_name)])?,
        )
        .replace("{body}", &body)
        .replace("{closing}", &s.get("email-closing")?)
        .replace("{entity}", &alert.entity_name)
        .replace("{footer}", &s.get("email-footer-budget-alert")?);
    let to: Mailbox = alert
        .customer_email
        .parse()
        .map_err(|e| DocumentsError::Invalid(format!("customer e-mail: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{message_id}>")))
        .singlepart(SinglePart::plain(text))
        .map_err(|e| DocumentsError::Mail(e.to_string()))
}

/// The SMTP transport. One connection per message (no pool), so a server that went
/// away is noticed at the next send.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

/// How a send went wrong: worth retrying, or refused for good.
pub(crate) enum SendError {
    Transient(String),
    Permanent(String),
}

impl Mailer {
    /// A mailer for the URL in `SMTP_URL`.
    pub fn from_env() -> Result<Mailer, DocumentsError> {
        let url = std::env::var("SMTP_URL").map_err(|_| {
            DocumentsError::Mail("SMTP_URL is not set (e.g. smtp://127.0.0.1:2525)".into())
        })?;
        Mailer::from_url(&url)
    }

    /// A mailer for `SMTP_URL`-style URLs.
    pub fn from_url(url: &str) -> Result<Mailer, DocumentsError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| DocumentsError::Mail(format!("SMTP_URL: {e}")))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Mailer { transport })
    }

    pub(crate) async fn send(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
