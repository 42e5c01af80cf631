//! Wiring of the `meridian` binary: builds the gateway, the metering worker, the REST
//! API and (with `SMTP_URL`) the documents' e-mail sender from configuration and runs
//! them, the HTTP parts on one listener. Business logic lives in the crates under
//! `crates/`.

mod budget_alerts;
pub mod demo;
mod demo_models;
mod routes;
pub mod server;
mod spending;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use meridian_core::Secret;
use meridian_core::catalog::{self, PriceCatalog};
use meridian_core::config::{Config, Deployment};
use meridian_core::price_versions;
use meridian_documents::{IssuedDocuments, Mailer, Outbox, RetryPolicy};
use meridian_gateway::capacity::MemoryCapacity;
use meridian_gateway::limits::{CustomerTable, Limiter, MemoryLimiter};
use meridian_gateway::price_refresh::PriceRefresher;
use meridian_gateway::{
    Gateway, GatewayOptions, KeyStore, ModelTable, ServedModels, UpstreamClient,
};
use meridian_metering::{Journal, MeteringWorker, WorkerConfig};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The price file shipped with Meridian (LiteLLM's catalog, MIT).
pub const BUNDLED_PRICES: &str = include_str!("../data/model-prices.json");

/// Finds each deployment's credential.
pub type CredentialSource = Arc<dyn Fn(&Deployment) -> Option<Secret> + Send + Sync>;

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub config: Config,
    /// Holds the usage journal (`<data_dir>/journal`).
    pub data_dir: PathBuf,
    pub gateway: GatewayOptions,
    pub metering: WorkerConfig,
    pub key_refresh: Duration,
    /// How often each customer's limits, budget, currency and rate are read again.
    pub customer_refresh: Duration,
    /// How often spend is compared with the budgets' alert thresholds.
    pub budget_alert_check: Duration,
    /// How often the list prices in force are checked (a new version is served within
    /// one interval; one due at a set time, from that time).
    pub price_refresh: Duration,
    pub credentials: CredentialSource,
    /// Bearer token of `/admin/v1/*` (`MERIDIAN_ADMIN_TOKEN`); `None` disables them.
    pub admin_token: Option<String>,
    /// Where issued documents are e-mailed (`SMTP_URL`); `None` leaves the outbox to
    /// `meridian invoices send`.
    pub smtp_url: Option<String>,
    /// Backoff, lease and poll interval of the e-mail sender.
    pub outbox: RetryPolicy,
    /// Connection cap and client read timeouts of the listener.
    pub limits: server::Limits,
}

impl ServeOptions {
    pub fn new(listen: SocketAddr, config: Config, data_dir: PathBuf) -> Self {
        Self {
            limits: server::Limits::configured(&config.server),
            listen,
            config,
            data_dir,
            gateway: GatewayOptions::default(),
            metering: WorkerConfig::default(),
            key_refresh: Duration::from_millis(250),
            customer_refresh: Duration::from_millis(500),
            budget_alert_check: Duration::from_secs(2),
            price_refresh: Duration::from_millis(250),
            credentials: Arc::new(meridian_core::config::credential),
            admin_token: std::env::var("MERIDIAN_ADMIN_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            smtp_url: std::env::var("SMTP_URL").ok().filter(|u| !u.is_empty()),
            outbox: RetryPolicy::default(),
        }
    }
}

/// A running Meridian: the listener, the key and price refreshers, the metering worker
/// and the e-mail sender.
pub struct Server {
    pub addr: SocketAddr,
    /// The key table the gateway authenticates from (kept fresh by the refresher).
    pub keys: Arc<KeyStore>,
    stop_http: watch::Sender<bool>,
    stop_worker: watch::Sender<bool>,
    http: JoinHandle<()>,
    worker: JoinHandle<()>,
    refresher: JoinHandle<()>,
    customers: JoinHandle<()>,
    budget_alerts: JoinHandle<()>,
    prices: JoinHandle<()>,
    sender: Option<JoinHandle<()>>,
}

/// Imports the bundled catalog when the database has none.
pub async fn ensure_prices(pool: &PgPool) -> anyhow::Result<()> {
    if price_versions::is_empty(pool).await? {
        let prices = catalog::parse_price_file(BUNDLED_PRICES)?;
        price_versions::import(pool, &prices, chrono::Utc::now()).await?;
    }
    Ok(())
}

impl Server {
    pub async fn start(pool: PgPool, options: ServeOptions) -> anyhow::Result<Server> {
        ensure_prices(&pool).await?;
        let catalog: PriceCatalog = price_versions::load_at(&pool, chrono::Utc::now()).await?;
        let models = ModelTable::build(&options.config, &catalog, options.credentials.as_ref())?;
        let prices = PriceRefresher::new(models.clone(), pool.clone()).spawn(options.price_refresh);

        let keys = Arc::new(KeyStore::default());
        keys.refresh(&pool).await.context("loading API keys")?;
        let refresher = keys.spawn_refresher(pool.clone(), options.key_refresh);

        let journal_dir = options.data_dir.join("journal");
        let journal =
            Arc::new(Journal::open(&journal_dir).with_context(|| {
                format!("opening the usage journal in {}", journal_dir.display())
            })?);
        let limiter = MemoryLimiter::new(std::time::Instant::now());
        spending::seed(&limiter, &pool, &journal)
            .await
            .context("reading this period's spend")?;
        let customers = Arc::new(CustomerTable::default());
        spending::refresh(&customers, &pool)
            .await
            .context("loading customer limits")?;
        let customer_refresher =
            spending::spawn_refresher(customers.clone(), pool.clone(), options.customer_refresh);
        let limiter: Arc<dyn Limiter> = Arc::new(limiter);
        let budget_alerts =
            budget_alerts::BudgetWatch::new(limiter.clone(), customers.clone(), pool.clone())
                .spawn(options.budget_alert_check);
        let (stop_worker, worker_rx) = watch::channel(false);
        let worker = tokio::spawn(
            MeteringWorker::new(journal.clone(), pool.clone(), options.metering).run(worker_rx),
        );
        let sender = match &options.smtp_url {
            Some(url) => {
                let outbox = Outbox::new(
                    pool.clone(),
                    IssuedDocuments::new(pool.clone()),
                    Mailer::from_url(url)?,
                    options.outbox,
                );
                let mut stop = stop_worker.subscribe();
                Some(tokio::spawn(async move {
                    outbox
                        .run(async move {
                            let _ = stop.wait_for(|s| *s).await;
                        })
                        .await
                }))
            }
            None => None,
        };

        let gateway_keys = keys.clone();
        let gateway = Arc::new(Gateway {
            models,
            keys: keys.clone(),
            sink: journal,
            client: UpstreamClient::with_connect_timeouts(
                options.config.deployments.iter().map(|d| d.connect_timeout),
            ),
            options: options.gateway,
            metrics: Default::default(),
            capacity: Arc::new(MemoryCapacity::for_config(
                &options.config,
                std::time::Instant::now(),
            )),
            placement: options.config.placement.clone(),
            limiter,
            customers,
        });
        let api = Arc::new(meridian_api::ApiState {
            pool,
            keys,
            models: Arc::new(ServedModels::new(
                gateway.models.clone(),
                gateway.placement.clone(),
            )),
            admin_token: options.admin_token,
            placement: options.config.placement.clone(),
        });
        // Routes are bound to their state once here, and each connection clones the
        // bound router (a reference count): axum::serve given a bare Router would
        // rebuild its route table for every connection (about 10 KB each, held as
        // long as the connection: a third of the memory of an open stream).
        let app = routes::app(gateway, api);

        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("listening on {}", options.listen))?;
        let addr = listener.local_addr()?;
        let (stop_http, stop) = watch::channel(false);
        let http = tokio::spawn(server::serve(listener, app, options.limits, stop));
        Ok(Server {
            addr,
            keys: gateway_keys,
            stop_http,
            stop_worker,
            http,
            worker,
            refresher,
            customers: customer_refresher,
            budget_alerts,
            prices,
            sender,
        })
    }

    /// Stops taking requests, lets those in flight finish, commits pending usage, lets
    /// the e-mail being sent finish.
    pub async fn shutdown(self) {
        let _ = self.stop_http.send(true);
        let _ = self.http.await;
        let _ = self.stop_worker.send(true);
        let _ = self.worker.await;
        if let Some(sender) = self.sender {
            let _ = sender.await;
        }
        self.refresher.abort();
        self.customers.abort();
        self.budget_alerts.abort();
        self.prices.abort();
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}
