//! Which deployments serve which public model, in the order they are tried, with the
//! list price of each: resolved from the catalog at start-up, and again whenever the
//! prices in force change (`price_refresh`), by swapping in a new immutable snapshot.
//! A request prices with the snapshot it resolved its model in.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use http::HeaderValue;

use meridian_core::Secret;
use meridian_core::catalog::{ModelPrice, PriceCatalog};
use meridian_core::config::{CapacityKind, Config, Deployment};

use crate::health::Health;
use crate::metrics::DeploymentCounters;
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
    /// The deployment's pool in the capacity store: its index in the configuration.
    pub pool: usize,
    pub health: Health,
    pub counters: DeploymentCounters,
}

impl LiveDeployment {
    pub fn new(
        config: Deployment,
        adapter: &'static dyn Adapter,
        credential: Option<Secret>,
        pool: usize,
    ) -> Self {
        Self {
            pool,
            health: Health::new(config.breaker),
            counters: DeploymentCounters::default(),
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
            Operation::Chat
            | Operation::Responses
            | Operation::Messages
            | Operation::CountTokens => mode != Some("embedding"),
            Operation::Embeddings => mode.is_none_or(|m| m == "embedding"),
        }
    }
}

/// The routes, shared by every clone (the price refresher holds one).
#[derive(Default, Clone)]
pub struct ModelTable {
    routes: Arc<ArcSwap<Routes>>,
}

/// One immutable snapshot of the routes and their prices.
#[derive(Default)]
struct Routes {
    by_id: HashMap<String, Arc<ModelRoute>>,
    /// Bare names (`gpt-4o-mini`) that name exactly one public id.
    bare: HashMap<String, Arc<ModelRoute>>,
}

impl Routes {
    fn new(routes: HashMap<String, ModelRoute>) -> Routes {
        let by_id: HashMap<String, Arc<ModelRoute>> =
            routes.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        let mut bare_count: HashMap<&str, usize> = HashMap::new();
        for id in by_id.keys() {
            if let Some((_, bare)) = id.split_once('/') {
                *bare_count.entry(bare).or_default() += 1;
            }
        }
        let bare = by_id
            .iter()
            .filter_map(|(id, route)| {
                let (_, name) = id.split_once('/')?;
                (bare_count[name] == 1).then(|| (name.to_string(), route.clone()))
            })
            .collect();
        Routes { by_id, bare }
    }
}

/// The list price of `upstream_model` on `d`, or why there is none.
fn price_of(
    catalog: &PriceCatalog,
    d: &Deployment,
    upstream_model: &str,
) -> Result<ModelPrice, String> {
    catalog
        .price_for(d.provider, &d.region, upstream_model)
        .cloned()
        .ok_or_else(|| {
            format!(
                "deployment `{}`: no list price for `{upstream_model}` on {} (run `meridian prices import`)",
                d.id, d.provider
            )
        })
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
        let mut ordered: Vec<(usize, &Deployment)> =
            config.deployments.iter().enumerate().collect();
        ordered.sort_by_key(|(_, d)| d.kind == CapacityKind::OnDemand);
        for (pool, d) in ordered {
            let adapter = match adapter_for(d) {
                Ok(adapter) => adapter,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let live = Arc::new(LiveDeployment::new(d.clone(), adapter, credential(d), pool));
            for model in &d.models {
                let upstream_model = d.upstream_model(model);
                let price = match price_of(catalog, d, &upstream_model) {
                    Ok(price) => price,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
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
                        price,
                    }));
            }
        }
        if !errors.is_empty() {
            return Err(TableError(errors));
        }
        Ok(ModelTable {
            routes: Arc::new(ArcSwap::from_pointee(Routes::new(routes))),
        })
    }

    /// Prices every target from `catalog` and swaps the new snapshot in when a price
    /// changed; returns how many targets' prices did. A target the catalog has no
    /// price for keeps the table as it is (an error; entries are never deleted).
    pub fn reprice(&self, catalog: &PriceCatalog) -> Result<usize, TableError> {
        let current = self.routes.load();
        let mut changed = 0;
        let mut errors = Vec::new();
        let mut routes = HashMap::with_capacity(current.by_id.len());
        for (id, route) in &current.by_id {
            let mut targets = Vec::with_capacity(route.targets.len());
            for t in &route.targets {
                match price_of(catalog, &t.deployment, &t.upstream_model) {
                    Ok(price) if price == t.price => targets.push(t.clone()),
                    Ok(price) => {
                        changed += 1;
                        targets.push(Arc::new(Target {
                            deployment: t.deployment.clone(),
                            model: t.model.clone(),
                            upstream_model: t.upstream_model.clone(),
                            price,
                        }));
                    }
                    Err(e) => errors.push(e),
                }
            }
            let public_id = route.public_id.clone();
            routes.insert(id.clone(), ModelRoute { public_id, targets });
        }
        if !errors.is_empty() {
            return Err(TableError(errors));
        }
        if changed > 0 {
            self.routes.store(Arc::new(Routes::new(routes)));
        }
        Ok(changed)
    }

    /// The route of a public id, or of a bare name that is unambiguous, in the
    /// snapshot in force.
    pub fn resolve(&self, model: &str) -> Option<Arc<ModelRoute>> {
        let routes = self.routes.load();
        routes
            .by_id
            .get(model)
            .or_else(|| routes.bare.get(model))
            .cloned()
    }

    /// Every deployment serving a model, once, in configuration order.
    pub fn deployments(&self) -> Vec<Arc<LiveDeployment>> {
        let mut all: Vec<Arc<LiveDeployment>> = self
            .iter()
            .flat_map(|route| {
                route
                    .targets
                    .iter()
                    .map(|t| t.deployment.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by_key(|d| d.pool);
        all.dedup_by_key(|d| d.pool);
        all
    }

    /// The routes of the snapshot in force.
    pub fn iter(&self) -> impl Iterator<Item = Arc<ModelRoute>> + use<> {
        let routes: Vec<Arc<ModelRoute>> = self.routes.load().by_id.values().cloned().collect();
        routes.into_iter()
    }
}
