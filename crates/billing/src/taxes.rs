//! Taxes: which tax applies to an invoice (decided here, from the entity and the
//! customer) at which rate (data: the `tax_rates` table, with effective dates).
//!
//! US: none. EU (entity in Ireland): VAT of the customer's Member State; reverse
//! charge for a business with a VAT number of another Member State; outside the
//! scope of EU VAT for customers outside the EU. UK VAT, Japan's consumption tax,
//! Singapore GST, Korea VAT, Australia GST at their standard rate. India: IGST between
//! States, CGST + SGST within one.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use crate::customers::Customer;
use crate::entities::Entity;
use crate::tax_ids::{self, EU_MEMBER_STATES, TaxIdScheme};
use crate::{BillingError, india};

/// India's Services Accounting Code for the supply (online information and database
/// access or retrieval services).
pub const INDIA_SAC: &str = "998315";

/// How the supply is taxed, as EN 16931's VAT category codes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxTreatment {
    /// Taxed at the standard rate (`S`).
    Standard,
    /// The customer accounts for the VAT (`AE`).
    ReverseCharge,
    /// Not subject to tax here (`O`): US sales, EU sales to customers outside the EU.
    OutsideScope,
}

impl TaxTreatment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::ReverseCharge => "reverse_charge",
            Self::OutsideScope => "outside_scope",
        }
    }

    pub fn parse(s: &str) -> Option<TaxTreatment> {
        [Self::Standard, Self::ReverseCharge, Self::OutsideScope]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// The EN 16931 / UNCL 5305 category code.
    pub fn category(self) -> &'static str {
        match self {
            Self::Standard => "S",
            Self::ReverseCharge => "AE",
            Self::OutsideScope => "O",
        }
    }
}

/// One tax levied on a taxable base (India's CGST and SGST are two on one base).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxComponent {
    pub code: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// The taxes of one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxRegime {
    pub treatment: TaxTreatment,
    pub components: Vec<TaxComponent>,
    /// Words the invoice must carry (`Reverse charge`).
    pub note: Option<String>,
    /// India: the place of supply as `Name (code)`; EU: the customer's Member State.
    pub place_of_supply: Option<String>,
}

impl TaxRegime {
    fn untaxed(treatment: TaxTreatment, code: &str, note: Option<&str>) -> TaxRegime {
        TaxRegime {
            treatment,
            components: vec![TaxComponent {
                code: code.into(),
                rate: Decimal::ZERO,
            }],
            note: note.map(Into::into),
            place_of_supply: None,
        }
    }
}

/// The `tax_rates` table in memory.
#[derive(Debug, Clone, Default)]
pub struct TaxTable {
    /// (country, code, valid_from, rate), sorted by valid_from.
    rows: Vec<(String, String, NaiveDate, Decimal)>,
}

impl TaxTable {
    pub async fn load(pool: &PgPool) -> Result<TaxTable, BillingError> {
        let rows = sqlx::query_as(
            "SELECT country, tax_code, valid_from, rate FROM tax_rates ORDER BY valid_from",
        )
        .fetch_all(pool)
        .await?;
        Ok(TaxTable { rows })
    }

    /// The rate of `code` in `country` in force on `on`.
    pub fn rate(&self, country: &str, code: &str, on: NaiveDate) -> Result<Decimal, BillingError> {
        self.rows
            .iter()
            .rev()
            .find(|(c, k, from, _)| c == country && k == code && *from <= on)
            .map(|r| r.3)
            .ok_or_else(|| {
                BillingError::Invalid(format!(
                    "no {code} rate for {country} in force on {on} in tax_rates"
                ))
            })
    }

    fn component(
        &self,
        country: &str,
        code: &str,
        on: NaiveDate,
    ) -> Result<TaxComponent, BillingError> {
        Ok(TaxComponent {
            code: code.into(),
            rate: self.rate(country, code, on)?,
        })
    }

    /// The taxes of a supply by `entity` to `customer`, at the rates in force on `on`
    /// (the last day of the period, the time of supply).
    pub fn regime(
        &self,
        entity: &Entity,
        customer: &Customer,
        on: NaiveDate,
    ) -> Result<TaxRegime, BillingError> {
        let standard = |country: &str, code: &str| -> Result<TaxRegime, BillingError> {
            Ok(TaxRegime {
                treatment: TaxTreatment::Standard,
                components: vec![self.component(country, code, on)?],
                note: None,
                place_of_supply: None,
            })
        };
        match entity.country.as_str() {
            "US" => Ok(TaxRegime::untaxed(TaxTreatment::OutsideScope, "NONE", None)),
            "GB" => standard("GB", "VAT"),
            "JP" => standard("JP", "JCT"),
            "SG" => standard("SG", "GST"),
            "KR" => standard("KR", "VAT"),
            "AU" => standard("AU", "GST"),
            "IN" => self.india(entity, customer, on),
            c if EU_MEMBER_STATES.contains(&c) => self.european_union(entity, customer, on),
            other => Err(BillingError::Invalid(format!(
                "entity {} is in {other}, where Meridian knows no taxes",
                entity.code
            ))),
        }
    }

    fn european_union(
        &self,
        entity: &Entity,
        customer: &Customer,
        on: NaiveDate,
    ) -> Result<TaxRegime, BillingError> {
        let vat_country = customer
            .tax_id
            .as_deref()
            .and_then(|t| tax_ids::validate(TaxIdScheme::EuVat, t).ok())
            .and_then(|id| id.eu_country().map(str::to_string));
        let country = customer
            .country
            .clone()
            .or_else(|| vat_country.clone())
            .ok_or_else(|| {
                BillingError::Invalid(format!(
                    "customer {} has no --country, which EU VAT needs",
                    customer.id
                ))
            })?;
        if let Some(vat_country) = vat_country
            && vat_country != entity.country
        {
            let mut regime =
                TaxRegime::untaxed(TaxTreatment::ReverseCharge, "VAT", Some("Reverse charge"));
            regime.place_of_supply = Some(vat_country);
            return Ok(regime);
        }
        if !EU_MEMBER_STATES.contains(&country.as_str()) {
            return Ok(TaxRegime::untaxed(
                TaxTreatment::OutsideScope,
                "VAT",
                Some("Not subject to EU VAT: place of supply outside the EU"),
            ));
        }
        Ok(TaxRegime {
            treatment: TaxTreatment::Standard,
            components: vec![self.component(&country, "VAT", on)?],
            note: None,
            place_of_supply: Some(country),
        })
    }

    fn india(
        &self,
        entity: &Entity,
        customer: &Customer,
        on: NaiveDate,
    ) -> Result<TaxRegime, BillingError> {
        let seller = entity
            .state
            .as_deref()
            .and_then(india::state_by_iso)
            .ok_or_else(|| {
                BillingError::Invalid(format!("entity {} has no Indian --state", entity.code))
            })?;
        let buyer = customer_state(customer).ok_or_else(|| {
            BillingError::Invalid(format!(
                "customer {} has neither an Indian --state nor a GSTIN, which decide the place of supply",
                customer.id
            ))
        })?;
        let components = if buyer == seller {
            vec![
                self.component("IN", "CGST", on)?,
                self.component("IN", "SGST", on)?,
            ]
        } else {
            vec![self.component("IN", "IGST", on)?]
        };
        Ok(TaxRegime {
            treatment: TaxTreatment::Standard,
            components,
            note: Some("Tax payable on reverse charge: No".into()),
            place_of_supply: Some(format!("{} ({})", buyer.name, buyer.gst_code)),
        })
    }
}

/// An Indian customer's State: `--state`, else the GSTIN's first two digits.
pub fn customer_state(customer: &Customer) -> Option<india::IndianState> {
    customer
        .state
        .as_deref()
        .and_then(india::state_by_iso)
        .or_else(|| {
            customer
                .tax_id
                .as_deref()
                .and_then(|t| t.get(..2))
                .and_then(india::state_by_gst_code)
        })
}
