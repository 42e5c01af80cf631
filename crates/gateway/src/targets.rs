//! Which deployments serve which public model, in the order they are tried, with the
//! list price of each (resolved once, at start-up, from the catalog).

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderValue;

use meridian_core::Secret;
use meridian_core::catalog::{ModelPrice, PriceCatalog};
use meridian_core::config::{CapacityKind, Config, Deployment};

use crate::providers::{Adapter, Operation, adapter_for};

/// A deployment ready to take traffic.
pub struct LiveDeployment {
    pub config: Deployment,
    pub adapter: &'static dyn Adapter,
    pub credential: Option<Secret>,
    /// The deployment's id and region as response header values, made once (`None`
    /// where they cannot be header values).
    pub id_header: Option<HeaderValue>,
    pub region_header: Option<HeaderValue>,
}

impl LiveDeployment {
    pub fn new(
        config: Deployment,
        adapter: &'static dyn Adapter,
        credential: Option<Secret>,
    ) -> Self {
        Self {
            id_header: HeaderValue::from_str(&config.id).ok(),
            region_header: HeaderValue::from_str(&config.region).ok(),
            config,
            adapter,
            credential,
        }
    }
}

impl std::ops::Deref for LiveDeployment {
    type Target = Deployment;
    fn deref(&self) -> &Deployment {
        &self.config
    }
}

/// One way to serve a model: a deployment, the model's name there, and its price.
pub struct Target {
    pub deployment: Arc<LiveDeployment>,
    /// The public model id (`anthropic/claude-sonnet-4-5`).
    pub model: String,
    pub upstream_model: String,
    pub price: ModelPrice,
}

/// A public model and its targets, reserved capacity first.
pub struct ModelRoute {
    pub public_id: String,
    pub targets: Vec<Arc<Target>>,
}

impl ModelRoute {
    /// The vendor part of the public id (`openai` of `openai/gpt-4o-mini`).
    pub fn owner(&self) -> &str {
        self.public_id.split('/').next().unwrap_or_default()
    }

    /// Whether `op` can be asked of the model, by the catalog's mode of it: chat is
    /// refused for an embedding model, and embeddings for a model of another mode (a
    /// model whose mode the catalog does not give is tried).
    pub fn serves(&self, op: Operation) -> bool {
        let mode = self.targets.first().and_then(|t| t.price.mode.as_deref());
        match op {
            Operation::Chat => mode != Some("embedding"),
            Operation::Embeddings => mode.is_none_or(|m| m == "embedding"),
        }
    }
}

#[derive(Default)]
pub struct ModelTable {
    routes: HashMap<String, Arc<ModelRoute>>,
    /// Bare names (`gpt-4o-mini`) that name exactly one public id.
    bare: HashMap<String, Arc<ModelRoute>>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot serve the configured deployments:\n{}", .0.join("\n"))]
pub struct TableError(pub Vec<String>);

impl ModelTable {
    /// Builds the table. Every (deployment, model) pair must have an adapter and a list
    /// price in the catalog: serving a model we cannot bill honestly is refused.
    /// `credential` finds each deployment's key (normally [`meridian_core::config::credential`], the
    /// environment).
    pub fn build(
        config: &Config,
        catalog: &PriceCatalog,
        credential: &dyn Fn(&Deployment) -> Option<Secret>,
    ) -> Result<ModelTable, TableError> {
        let mut errors = Vec::new();
        let mut routes: HashMap<String, ModelRoute> = HashMap::new();
        let mut ordered: Vec<&Deployment> = config.deployments.iter().collect();
        ordered.sort_by_key(|d| d.kind == CapacityKind::OnDemand);
        for d in ordered {
            let Some(adapter) = adapter_for(d.provider) else {
                errors.push(format!(
                    "deployment `{}`: provider {} is not supported yet",
                    d.id, d.provider
                ));
                continue;
            };
            let live = Arc::new(LiveDeployment::new(d.clone(), adapter, credential(d)));
            for model in &d.models {
                let upstream_model = d.upstream_model(model);
                let Some(price) = catalog.price_for(d.provider, &d.region, &upstream_model) else {
                    errors.push(format!(
                        "deployment `{}`: no list price for `{upstream_model}` on {} (run `meridian prices import`)",
                        d.id, d.provider
                    ));
                    continue;
                };
                routes
                    .entry(model.clone())
                    .or_insert_with(|| ModelRoute {
                        public_id: model.clone(),
                        targets: Vec::new(),
                    })
                    .targets
                    .push(Arc::new(Target {
                        deployment: live.clone(),
                        model: model.clone(),
                        upstream_model,
                        price: price.clone(),
                    }));
            }
        }
        if !errors.is_empty() {
            return Err(TableError(errors));
        }
        let routes: HashMap<String, Arc<ModelRoute>> =
            routes.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        let mut bare_count: HashMap<&str, usize> = HashMap::new();
        for id in routes.keys() {
            if let Some((_, bare)) = id.split_once('/') {
                *bare_count.entry(bare).or_default() += 1;
            }
        }
        let bare = routes
            .iter()
            .filter_map(|(id, route)| {
                let (_, name) = id.split_once('/')?;
                (bare_count[name] == 1).then(|| (name.to_string(), route.clone()))
            })
            .collect();
        Ok(ModelTable { routes, bare })
    }

    /// The route of a public id, or of a bare name that is unambiguous.
    pub fn resolve(&self, model: &str) -> Option<&Arc<ModelRoute>> {
        self.routes.get(model).or_else(|| self.bare.get(model))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<ModelRoute>> {
        self.routes.values()
    }
}
