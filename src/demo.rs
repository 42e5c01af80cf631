//! `meridian demo`: the newcomer's one command. Provisions Postgres, migrates, seeds a
//! demo customer and key, starts the mock providers for every provider without
//! credentials, and serves.
//!
//! The demo serves one model per provider, with failover between providers of the
//! same model: `openai/gpt-4o` from OpenAI, then Azure OpenAI (EU data zone);
//! `anthropic/claude-sonnet-4-5` from Anthropic, then Bedrock on demand;
//! `google/gemini-2.5-flash` from the Gemini API, then Vertex AI on demand; and
//! `openai/gpt-4o-mini`, DeepSeek and Qwen. A deployment goes to its real provider
//! when that provider's credential is set (Azure also needs `AZURE_OPENAI_ENDPOINT`
//! and a deployment named `gpt-4o`; Vertex uses `GOOGLE_CLOUD_PROJECT` when set),
//! and to the mock providers otherwise.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use meridian_billing::customers::{self, NewCustomer};
use meridian_core::catalog::PriceCatalog;
use meridian_core::config::{Config, Deployment, ProviderKind, credential_from};
use meridian_core::{CustomerId, KeyRole, Secret};
use meridian_keys::KeySettings;
use meridian_mock_providers::{
    BEDROCK_ACCESS_KEY_ID, BEDROCK_SECRET_ACCESS_KEY, MockConfig, MockServer,
};
use sqlx::PgPool;

/// Port the demo's mock providers prefer (any free port when taken).
const MOCK_PORT: u16 = 9100;
const DEMO_CUSTOMER: &str = "Demo Customer";
/// The variable naming Azure's resource endpoint, as the Azure OpenAI SDKs read it.
const AZURE_ENDPOINT_ENV: &str = "AZURE_OPENAI_ENDPOINT";
/// The variable naming the Google Cloud project, as Google's SDKs read it.
const GOOGLE_PROJECT_ENV: &str = "GOOGLE_CLOUD_PROJECT";

/// The demo's pools. Base URLs are the providers' own (Azure's is set from
/// [`AZURE_ENDPOINT_ENV`]), replaced by the mocks' where no credential is set.
const DEPLOYMENTS: &str = r#"
[[deployments]]
id = "openai-us-east-reserved"
provider = "openai"
region = "us-east"
kind = "reserved"
models = ["openai/gpt-4o-mini", "openai/gpt-4o", "openai/text-embedding-3-small"]

[[deployments]]
id = "azure-eu-reserved"
provider = "azure"
region = "eu"
kind = "reserved"
base_url = "https://your-resource.openai.azure.com"
models = ["openai/gpt-4o"]
azure_deployment = "gpt-4o"
api_version = "2024-10-21"

[[deployments]]
id = "anthropic-us-east-reserved"
provider = "anthropic"
region = "us-east"
kind = "reserved"
models = ["anthropic/claude-sonnet-4-5"]

[[deployments]]
id = "bedrock-us-east-1-on-demand"
provider = "bedrock"
region = "us-east-1"
kind = "on-demand"
models = ["anthropic/claude-sonnet-4-5"]
upstream_model = "anthropic.claude-sonnet-4-5-20250929-v1:0"

[[deployments]]
id = "gemini-global-reserved"
provider = "gemini"
region = "global"
kind = "reserved"
models = ["google/gemini-2.5-flash"]

[[deployments]]
id = "vertex-us-central1-on-demand"
provider = "vertex"
region = "us-central1"
kind = "on-demand"
project = "meridian-demo"
models = ["google/gemini-2.5-flash"]

[[deployments]]
id = "deepseek-on-demand"
provider = "deepseek"
region = "global"
kind = "on-demand"
models = ["deepseek/deepseek-chat"]

[[deployments]]
id = "qwen-on-demand"
provider = "qwen"
region = "ap-southeast-1"
kind = "on-demand"
models = ["qwen/qwen-max"]
"#;

/// Reads a variable (the process environment, or a test's table).
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A new `admin` key of the demo customer (its secret, shown once).
pub async fn demo_key(pool: &PgPool, customer: CustomerId) -> anyhow::Result<Secret> {
    let settings = KeySettings {
        name: Some("demo".into()),
        ..KeySettings::default()
    };
    let mut conn = pool.acquire().await?;
    let key = meridian_keys::table::create(&mut conn, customer, KeyRole::Admin, &settings).await?;
    Ok(key.secret)
}

/// The demo's customer, created on first use.
pub async fn demo_customer(pool: &PgPool) -> anyhow::Result<customers::Customer> {
    if let Some(c) = customers::find_by_name(pool, DEMO_CUSTOMER).await? {
        return Ok(c);
    }
    Ok(customers::create(
        pool,
        &NewCustomer {
            name: DEMO_CUSTOMER.into(),
            entity: "US".into(),
            currency: "USD".into(),
            locale: "en-US".into(),
            email: "demo@example.com".into(),
            country: Some("US".into()),
            ..Default::default()
        },
    )
    .await?)
}

/// Adds the newest Claude, GPT and Gemini models of `catalog` to the first deployment
/// of their provider, so that a coding agent's default model is served.
fn serve_newest(config: &mut Config, catalog: &PriceCatalog) {
    for (provider, model) in crate::demo_models::newest(catalog) {
        if let Some(d) = config
            .deployments
            .iter_mut()
            .find(|d| d.provider == provider)
            && !d.models.contains(&model)
        {
            d.models.push(model);
        }
    }
}

/// The demo's deployments as they would reach the real providers.
fn planned(lookup: Lookup<'_>) -> Config {
    let mut config = Config::parse(DEPLOYMENTS).expect("the demo's deployments are valid");
    for d in &mut config.deployments {
        match d.provider {
            ProviderKind::Azure => {
                if let Some(endpoint) = lookup(AZURE_ENDPOINT_ENV) {
                    d.base_url = endpoint.trim_end_matches('/').to_string();
                }
            }
            ProviderKind::Vertex => {
                if let Some(project) = lookup(GOOGLE_PROJECT_ENV) {
                    d.project = Some(project);
                }
            }
            _ => {}
        }
    }
    config
}

/// The credential of a deployment that goes to its real provider: Azure also needs
/// its resource endpoint.
fn real_credential(d: &Deployment, lookup: Lookup<'_>) -> Option<Secret> {
    if d.provider == ProviderKind::Azure && lookup(AZURE_ENDPOINT_ENV).is_none() {
        return None;
    }
    credential_from(d, lookup)
}

/// What the mock providers accept: any key, and Bedrock's test key pair.
fn mock_credential(provider: ProviderKind) -> Secret {
    Secret::new(match provider {
        ProviderKind::Bedrock => format!("{BEDROCK_ACCESS_KEY_ID}:{BEDROCK_SECRET_ACCESS_KEY}"),
        _ => "mock-key".into(),
    })
}

/// What a deployment's SDK calls its base URL, on the mock providers.
fn mock_base_url(mock: &MockServer, provider: ProviderKind) -> String {
    match provider {
        ProviderKind::OpenAi => mock.openai_base_url(),
        ProviderKind::Qwen => mock.qwen_base_url(),
        _ => mock.base_url(),
    }
}

/// Points every deployment without a real credential at `mock`.
fn use_mocks(config: &mut Config, mock: &MockServer, lookup: Lookup<'_>) {
    for d in &mut config.deployments {
        if real_credential(d, lookup).is_none() {
            d.base_url = mock_base_url(mock, d.provider);
        }
    }
}

/// The demo's deployments, with the newest models of `catalog`: real providers where
/// their credential is set, the mock providers for the rest. Returns the mock server
/// when one was started.
pub async fn demo_config(catalog: &PriceCatalog) -> anyhow::Result<(Config, Option<MockServer>)> {
    let mut config = planned(&env);
    serve_newest(&mut config, catalog);
    let needs_mock = config
        .deployments
        .iter()
        .any(|d| real_credential(d, &env).is_none());
    if !needs_mock {
        return Ok((config, None));
    }
    let preferred = SocketAddr::from(([127, 0, 0, 1], MOCK_PORT));
    let mock = match MockServer::start_on(preferred, MockConfig::default()).await {
        Ok(m) => m,
        Err(_) => MockServer::start(MockConfig::default()).await?,
    };
    use_mocks(&mut config, &mock, &env);
    Ok((config, Some(mock)))
}

/// A deployment's credential: the real one, or the mocks' where it is not set.
fn demo_credential(d: &Deployment, lookup: Lookup<'_>) -> Option<Secret> {
    real_credential(d, lookup).or_else(|| Some(mock_credential(d.provider)))
}

/// Credentials for the demo: the environment, or the mocks' credentials.
pub fn demo_credentials(d: &Deployment) -> Option<Secret> {
    demo_credential(d, &env)
}

/// A `curl` line asking `model` for a greeting, with the cost in `usage`.
fn curl_line(base_url: &str, key: &str, model: &str, flags: &str) -> String {
    format!(
        "  curl {flags}{base_url}/chat/completions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n    -d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello!\"}}], \"usage\": {{\"include\": true}}}}'"
    )
}

/// The model of the fault-injection example: one with a second deployment, on the
/// mocks too, so that the injected failure is seen to fail over.
const FAILOVER_MODEL: &str = "openai/gpt-4o";

/// `url` with its password (if any) masked: the welcome is printed to a terminal.
fn shown_database_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:****@{host}")
        }
        _ => url.to_string(),
    }
}

/// Where the demo runs, as [`welcome`] tells it.
pub struct Welcome<'a> {
    pub base_url: &'a str,
    pub key: &'a str,
    pub database_url: &'a str,
    pub data_dir: &'a Path,
    pub mock: Option<&'a MockServer>,
}

/// What `meridian demo` prints once it serves.
fn welcome(w: &Welcome<'_>) -> String {
    let (base_url, key) = (w.base_url, w.key);
    let mut out = String::from("Meridian is running.\n\n");
    out += &format!("  base URL   {base_url}\n  API key    {key}\n");
    if let Some(m) = w.mock {
        out += &format!(
            "  providers  mock providers at {} for every provider without credentials (set OPENAI_API_KEY, ANTHROPIC_API_KEY, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY etc. to use real ones)\n",
            m.base_url()
        );
    }
    out += &format!(
        "  database   DATABASE_URL={} (the other commands, e.g. `meridian invoices list`, use it when set)\n",
        shown_database_url(w.database_url)
    );
    out += &format!("  data       {}\n\nTry it:\n\n", w.data_dir.display());
    out += &format!("{}\n\n", curl_line(base_url, key, "openai/gpt-4o-mini", ""));
    out += &format!(
        "{}\n\n",
        curl_line(base_url, key, "anthropic/claude-sonnet-4-5", "")
    );
    out += &format!(
        "  usage so far: curl '{}/api/v1/usage?group_by=model' -H 'Authorization: Bearer {key}'\n\n",
        base_url.trim_end_matches("/v1")
    );
    if let Some(m) = w.mock {
        out += &format!(
            "Failover: make the mocks' next answer a 503, then ask {FAILOVER_MODEL}; Azure serves it (see x-meridian-deployment):\n\n  curl -X POST {}/__mock/faults -d '{{\"fault\": \"status\", \"status\": 503}}'\n{}\n\n",
            m.base_url(),
            curl_line(base_url, key, FAILOVER_MODEL, "-i ")
        );
    }
    out += &format!(
        "With the OpenAI SDK: OpenAI(base_url=\"{base_url}\", api_key=\"{key}\"). Ctrl-C stops."
    );
    out
}

pub fn print_welcome(w: &Welcome<'_>) {
    println!("{}", welcome(w));
}

/// The demo's credential source, for [`crate::ServeOptions`].
pub fn credential_source() -> crate::CredentialSource {
    Arc::new(demo_credentials)
}

#[cfg(test)]
mod tests {
    use meridian_gateway::ModelTable;

    use super::*;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    /// The demo without credentials: the mocks, the deployments on them, their table.
    async fn on_mocks() -> (MockServer, Config, ModelTable) {
        let none = lookup(&[]);
        let mock = MockServer::start(MockConfig::default()).await.unwrap();
        let mut config = planned(&none);
        let catalog: PriceCatalog = crate::BUNDLED_PRICES.parse().unwrap();
        serve_newest(&mut config, &catalog);
        use_mocks(&mut config, &mock, &none);
        let table = ModelTable::build(&config, &catalog, &|d| demo_credential(d, &none))
            .unwrap_or_else(|e| panic!("{e}"));
        (mock, config, table)
    }

    /// Every demo model has a list price on every provider that serves it (serve
    /// refuses otherwise), each deployment has a credential, and each model fails
    /// over to its other provider.
    #[tokio::test]
    async fn every_deployment_is_priced_and_fails_over_to_the_other_provider() {
        let none = lookup(&[]);
        let (mock, config, table) = on_mocks().await;
        assert!(
            config
                .deployments
                .iter()
                .all(|d| d.base_url.starts_with(&mock.base_url())),
            "no credentials: every deployment on the mocks"
        );
        for (model, order) in [
            (
                "openai/gpt-4o",
                ["openai-us-east-reserved", "azure-eu-reserved"],
            ),
            (
                "anthropic/claude-sonnet-4-5",
                ["anthropic-us-east-reserved", "bedrock-us-east-1-on-demand"],
            ),
            (
                "google/gemini-2.5-flash",
                ["gemini-global-reserved", "vertex-us-central1-on-demand"],
            ),
        ] {
            let route = table.resolve(model).unwrap();
            let ids: Vec<&str> = route
                .targets
                .iter()
                .map(|t| t.deployment.id.as_str())
                .collect();
            assert_eq!(ids, order, "{model}");
            assert!(
                route
                    .targets
                    .iter()
                    .all(|t| t.deployment.credential.is_some())
            );
        }
        // Coding agents send their own default model ids, by bare name.
        for agent_default in ["claude-opus-4-8", "claude-sonnet-4-6", "gpt-5.5"] {
            let route = table.resolve(agent_default);
            assert!(route.is_some(), "{agent_default} is served");
        }
        let bedrock = config
            .deployments
            .iter()
            .find(|d| d.provider == ProviderKind::Bedrock)
            .unwrap();
        assert_eq!(
            demo_credential(bedrock, &none).unwrap().expose(),
            format!("{BEDROCK_ACCESS_KEY_ID}:{BEDROCK_SECRET_ACCESS_KEY}")
        );
    }

    /// The welcome names the database, and its fault example a model that fails over
    /// (a model served once would answer the injected 503 with a 502).
    #[tokio::test]
    async fn the_welcome_names_the_database_and_a_fault_example_that_fails_over() {
        let (mock, _, table) = on_mocks().await;
        let dir = std::path::PathBuf::from("/tmp/demo");
        let text = welcome(&Welcome {
            base_url: "http://127.0.0.1:8080/v1",
            key: "mk-demo",
            database_url: "postgres://postgres:hunter2@127.0.0.1:5432/meridian",
            data_dir: &dir,
            mock: Some(&mock),
        });
        assert!(
            text.contains("DATABASE_URL=postgres://postgres:****@127.0.0.1:5432/meridian"),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
        let faults = text.find("/__mock/faults").expect("a fault example");
        let example = &text[faults..];
        assert!(
            example.contains(&format!("\"model\": \"{FAILOVER_MODEL}\"")),
            "{text}"
        );
        assert!(table.resolve(FAILOVER_MODEL).unwrap().targets.len() >= 2);
        assert_eq!(
            shown_database_url("postgres://postgres@127.0.0.1:5433/meridian"),
            "postgres://postgres@127.0.0.1:5433/meridian"
        );
    }

    #[test]
    fn a_set_credential_goes_to_the_real_provider() {
        let vars = lookup(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AZURE_OPENAI_API_KEY", "azure-key"),
            ("GOOGLE_CLOUD_PROJECT", "my-project"),
        ]);
        let config = planned(&vars);
        let find = |p: ProviderKind| config.deployments.iter().find(|d| d.provider == p).unwrap();
        let bedrock = find(ProviderKind::Bedrock);
        assert_eq!(
            real_credential(bedrock, &vars).unwrap().expose(),
            "AKID:secret"
        );
        assert_eq!(
            bedrock.base_url,
            "https://bedrock-runtime.us-east-1.amazonaws.com"
        );
        assert_eq!(
            find(ProviderKind::Vertex).project.as_deref(),
            Some("my-project")
        );
        // An Azure key without its resource endpoint has nowhere to go.
        assert!(real_credential(find(ProviderKind::Azure), &vars).is_none());
        assert!(real_credential(find(ProviderKind::Anthropic), &vars).is_none());
    }
}
