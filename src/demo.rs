//! `meridian demo`: the newcomer's one command. Provisions Postgres, migrates, seeds a
//! demo customer and key, starts the mock providers for every provider without
//! credentials, and serves.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use meridian_billing::customers::{self, NewCustomer};
use meridian_core::Secret;
use meridian_core::config::{CapacityKind, Config, Deployment, ProviderKind};
use meridian_mock_providers::{MockConfig, MockServer};
use sqlx::PgPool;

/// Port the demo's mock providers prefer (any free port when taken).
const MOCK_PORT: u16 = 9100;
const DEMO_CUSTOMER: &str = "Demo Customer";

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

fn deployment(id: &str, provider: ProviderKind, base_url: String, models: &[&str]) -> Deployment {
    Deployment {
        id: id.into(),
        provider,
        region: "us-east".into(),
        kind: CapacityKind::Reserved,
        base_url,
        models: models.iter().map(|m| m.to_string()).collect(),
        tpm: None,
        rpm: None,
        api_key_env: provider.default_key_env().into(),
        upstream_model: None,
        azure_deployment: None,
        api_version: None,
        project: None,
        http2: false,
    }
}

/// The demo's deployments: real providers where their credential is set, the mock
/// providers for the rest. Returns the mock server when one was started.
pub async fn demo_config() -> anyhow::Result<(Config, Option<MockServer>)> {
    let has_key = |p: ProviderKind| std::env::var(p.default_key_env()).is_ok_and(|v| !v.is_empty());
    let needs_mock = [
        ProviderKind::OpenAi,
        ProviderKind::DeepSeek,
        ProviderKind::Qwen,
    ]
    .into_iter()
    .any(|p| !has_key(p));
    let mock = if needs_mock {
        let preferred = SocketAddr::from(([127, 0, 0, 1], MOCK_PORT));
        Some(
            match MockServer::start_on(preferred, MockConfig::default()).await {
                Ok(m) => m,
                Err(_) => MockServer::start(MockConfig::default()).await?,
            },
        )
    } else {
        None
    };
    let base = |p: ProviderKind, real: &str, mock_path: &str| match (&mock, has_key(p)) {
        (Some(m), false) => format!("http://{}{mock_path}", m.addr()),
        _ => real.to_string(),
    };
    let config = Config {
        deployments: vec![
            deployment(
                "openai-us-east-reserved",
                ProviderKind::OpenAi,
                base(ProviderKind::OpenAi, "https://api.openai.com/v1", "/v1"),
                &[
                    "openai/gpt-4o-mini",
                    "openai/gpt-4o",
                    "openai/text-embedding-3-small",
                ],
            ),
            deployment(
                "deepseek-on-demand",
                ProviderKind::DeepSeek,
                base(ProviderKind::DeepSeek, "https://api.deepseek.com", ""),
                &["deepseek/deepseek-chat"],
            ),
            deployment(
                "qwen-on-demand",
                ProviderKind::Qwen,
                base(
                    ProviderKind::Qwen,
                    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
                    "/compatible-mode/v1",
                ),
                &["qwen/qwen-max"],
            ),
        ],
    };
    Ok((config, mock))
}

/// Credentials for the demo: the environment, or a placeholder key for the mocks.
pub fn demo_credentials(d: &Deployment) -> Option<Secret> {
    meridian_core::config::credential(d).or_else(|| Some(Secret::new("mock-key")))
}

pub fn print_welcome(base_url: &str, key: &str, data_dir: &Path, mock: Option<&MockServer>) {
    println!("Meridian is running.");
    println!();
    println!("  base URL   {base_url}");
    println!("  API key    {key}");
    if let Some(m) = mock {
        println!(
            "  providers  mock providers at http://{} (set OPENAI_API_KEY etc. to use real ones)",
            m.addr()
        );
    }
    println!("  data       {}", data_dir.display());
    println!();
    println!("Try it:");
    println!();
    println!(
        "  curl {base_url}/chat/completions -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n    -d '{{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hello!\"}}], \"usage\": {{\"include\": true}}}}'"
    );
    println!();
    println!(
        "  usage so far: curl '{}/api/v1/usage?group_by=model' -H 'Authorization: Bearer {key}'",
        base_url.trim_end_matches("/v1")
    );
    println!();
    println!(
        "With the OpenAI SDK: OpenAI(base_url=\"{base_url}\", api_key=\"{key}\"). Ctrl-C stops."
    );
}

/// The demo's credential source, for [`crate::ServeOptions`].
pub fn credential_source() -> crate::CredentialSource {
    Arc::new(demo_credentials)
}
