//! The crate's one error type.

/// Everything that can go wrong while localizing, rendering or sending a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    /// The document breaks one of its own invariants (totals that do not add up, an
    /// amount not rounded to the currency's minor unit, an unknown currency …).
    #[error("invalid document: {0}")]
    Invalid(String),
    /// A locale tag that is not BCP 47, or locale data ICU4X cannot load.
    #[error("locale `{tag}`: {reason}")]
    Locale { tag: String, reason: String },
    /// A message missing from every locale of the fallback chain, or failing to format.
    #[error("localized message `{0}` is missing or broken")]
    Message(String),
    /// krilla refused to write the PDF.
    #[error("PDF: {0}")]
    Pdf(String),
    /// Building or sending an e-mail failed. Holds the SMTP reply or transport error,
    /// never message content.
    #[error("e-mail: {0}")]
    Mail(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl DocumentsError {
    pub(crate) fn locale(tag: &str, reason: impl std::fmt::Display) -> Self {
        Self::Locale {
            tag: tag.to_string(),
            reason: reason.to_string(),
        }
    }
}
