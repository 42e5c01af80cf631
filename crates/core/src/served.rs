//! The models a gateway serves as the dashboard lists them: each model with every
//! deployment that serves it and the list price billed there. The gateway implements
//! [`ModelListing`] from its live model table; the REST API only reads it.

use crate::catalog::ModelPrice;
use crate::config::{CapacityKind, ProviderKind};

/// One public model and the deployments serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedModel {
    /// The public id (`openai/gpt-4o-mini`).
    pub id: String,
    /// Its vendor (`openai`).
    pub owned_by: String,
    pub offers: Vec<ModelOffer>,
}

/// One deployment serving a model, with the list prices it is billed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOffer {
    pub deployment: String,
    pub provider: ProviderKind,
    pub region: String,
    pub kind: CapacityKind,
    pub price: ModelPrice,
}

pub trait ModelListing: Send + Sync + 'static {
    /// The models served to a customer of `residency` (`None`: any region), each with
    /// the deployments it may be served from; models it may not be served at all are
    /// left out.
    fn served(&self, residency: Option<&str>) -> Vec<ServedModel>;
}
