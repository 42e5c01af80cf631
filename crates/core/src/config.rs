//! `meridian.toml`: read into raw structs that deny unknown fields, then validated
//! without IO into a typed [`Config`], reporting every error at once with its key path.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

/// The wire format family a deployment speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    Azure,
    Anthropic,
    Gemini,
    Vertex,
    Bedrock,
    #[serde(rename = "deepseek")]
    DeepSeek,
    Qwen,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 8] = [
        Self::OpenAi,
        Self::Azure,
        Self::Anthropic,
        Self::Gemini,
        Self::Vertex,
        Self::Bedrock,
        Self::DeepSeek,
        Self::Qwen,
    ];

    /// The name used in config, headers and rollups.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Azure => "azure",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Vertex => "vertex",
            Self::Bedrock => "bedrock",
            Self::DeepSeek => "deepseek",
            Self::Qwen => "qwen",
        }
    }

    /// The environment variable the provider's own SDK reads its key from.
    pub fn default_key_env(self) -> &'static str {
        match self {
            Self::OpenAi => "OPENAI_API_KEY",
            Self::Azure => "AZURE_OPENAI_API_KEY",
            Self::Anthropic => "ANTHROPIC_API_KEY",
            Self::Gemini => "GEMINI_API_KEY",
            Self::Vertex => "GOOGLE_OAUTH_ACCESS_TOKEN",
            Self::Bedrock => "AWS_SECRET_ACCESS_KEY",
            Self::DeepSeek => "DEEPSEEK_API_KEY",
            Self::Qwen => "DASHSCOPE_API_KEY",
        }
    }

    /// Prefix of this provider's keys in the price catalog (`azure/gpt-4o`).
    pub fn catalog_prefix(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Azure => "azure",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Vertex => "vertex_ai",
            Self::Bedrock => "bedrock",
            Self::DeepSeek => "deepseek",
            Self::Qwen => "dashscope",
        }
    }

    /// Whether a catalog entry's `litellm_provider` is this provider's list price.
    pub fn serves_catalog_provider(self, catalog_provider: &str) -> bool {
        match self {
            Self::Vertex => catalog_provider.starts_with("vertex_ai"),
            Self::Bedrock => {
                catalog_provider == "bedrock" || catalog_provider == "bedrock_converse"
            }
            other => catalog_provider == other.catalog_prefix(),
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapacityKind {
    Reserved,
    OnDemand,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    deployments: Vec<RawDeployment>,
    #[serde(default)]
    server: ServerLimits,
    #[serde(default)]
    gateway: RawGateway,
    #[serde(default)]
    residency: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    region: Option<String>,
    deadline_ms: Option<u64>,
}

/// The residency value that admits every region, and every customer's default.
pub const ANY_RESIDENCY: &str = "any";

/// How long a request may take, over all its attempts, to get its answer started,
/// unless `[gateway] deadline_ms` says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// How long connecting to a deployment may take, unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// `[gateway]` and `[residency]`: where this gateway runs and where each residency
/// value lets a customer's traffic go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The region this gateway runs in: the home region of customers without one
    /// (`[gateway] region`; `None` when not configured).
    pub region: Option<String>,
    /// The regions each residency value admits, in the order listed.
    pub residency: BTreeMap<String, Vec<String>>,
    /// The longest a request may take, over all attempts, to get its answer started.
    pub deadline: Duration,
}

impl Default for Placement {
    fn default() -> Self {
        Self {
            region: None,
            residency: BTreeMap::new(),
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Where one customer's traffic may go and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted<'a> {
    /// Every region.
    Anywhere,
    /// Only these regions.
    Regions(&'a [String]),
}

impl Admitted<'_> {
    pub fn admits(&self, region: &str) -> bool {
        match self {
            Admitted::Anywhere => true,
            Admitted::Regions(regions) => regions.iter().any(|r| r == region),
        }
    }
}

impl Placement {
    /// The regions `residency` admits (`None` or `any`: all of them), or `None` when
    /// the value is not configured: such a customer is served nowhere, never
    /// everywhere.
    pub fn admitted(&self, residency: Option<&str>) -> Option<Admitted<'_>> {
        match residency {
            None => Some(Admitted::Anywhere),
            Some(ANY_RESIDENCY) => Some(Admitted::Anywhere),
            Some(value) => self.residency.get(value).map(|r| Admitted::Regions(r)),
        }
    }

    /// A customer's home region: its own, else the gateway's region when its
    /// residency admits it, else the first region its residency lists.
    pub fn home_region<'a>(
        &'a self,
        own: Option<&'a str>,
        admitted: &Admitted<'a>,
    ) -> Option<&'a str> {
        if own.is_some() {
            return own;
        }
        match (self.region.as_deref(), admitted) {
            (Some(region), admitted) if admitted.admits(region) => Some(region),
            (_, Admitted::Regions(regions)) => regions.first().map(String::as_str),
            _ => None,
        }
    }
}

/// `[server]`: the listener's connection cap and client read timeouts; a key left
/// out keeps its default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    pub header_read_timeout_secs: Option<u64>,
    pub body_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub max_connections: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeployment {
    id: String,
    provider: ProviderKind,
    region: String,
    kind: CapacityKind,
    base_url: Option<String>,
    models: Vec<String>,
    tpm: Option<u64>,
    rpm: Option<u64>,
    api_key_env: Option<String>,
    upstream_model: Option<String>,
    azure_deployment: Option<String>,
    api_version: Option<String>,
    project: Option<String>,
    #[serde(default)]
    http2: bool,
    first_byte_timeout_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    #[serde(default)]
    collects_data: bool,
    breaker_failures: Option<u32>,
    breaker_cooldown_ms: Option<u64>,
}

/// How long a deployment may take to send its response head, unless configured.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);

/// When a deployment's circuit breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open it (`breaker_failures`, default 5).
    pub failures: u32,
    /// How long it stays open before one probe is let through (`breaker_cooldown_ms`,
    /// default 30 s).
    pub cooldown: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// A validated deployment: one pool of capacity of one provider in one region.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub provider: ProviderKind,
    pub region: String,
    pub kind: CapacityKind,
    pub base_url: String,
    /// Public model ids (`openai/gpt-4o-mini`).
    pub models: Vec<String>,
    pub tpm: Option<u64>,
    pub rpm: Option<u64>,
    /// Name of the environment variable holding the credential.
    pub api_key_env: String,
    pub upstream_model: Option<String>,
    pub azure_deployment: Option<String>,
    pub api_version: Option<String>,
    pub project: Option<String>,
    /// Speak HTTP/2 with prior knowledge to a plain `http://` base URL (h2c), so that
    /// many concurrent streams share a few connections. `https://` endpoints negotiate
    /// HTTP/2 through ALPN regardless.
    pub http2: bool,
    /// How long the provider may take to send its response head before the next
    /// deployment is tried (`first_byte_timeout_ms`).
    pub first_byte_timeout: Duration,
    /// How long connecting to the provider may take before the next deployment is
    /// tried (`connect_timeout_ms`).
    pub connect_timeout: Duration,
    /// The provider may keep or train on what it is sent (`collects_data`, default
    /// false): such a deployment never serves a request with `provider.data_collection:
    /// "deny"`.
    pub collects_data: bool,
    pub breaker: BreakerPolicy,
}

impl Deployment {
    /// The model name this deployment's provider knows `public_id` by.
    pub fn upstream_model(&self, public_id: &str) -> String {
        if let Some(name) = &self.upstream_model {
            return name.clone();
        }
        match public_id.split_once('/') {
            Some((_, bare)) => bare.to_string(),
            None => public_id.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub deployments: Vec<Deployment>,
    pub server: ServerLimits,
    pub placement: Placement,
}

/// Every problem found in a config file, one per line, each with its key path.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.join("\n"))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError(vec![e.to_string()]))?;
        validate(raw)
    }
}

fn default_base_url(d: &RawDeployment) -> Option<String> {
    Some(match d.provider {
        ProviderKind::OpenAi => "https://api.openai.com/v1".into(),
        ProviderKind::Anthropic => "https://api.anthropic.com".into(),
        ProviderKind::Gemini => "https://generativelanguage.googleapis.com".into(),
        // The global endpoint has no region in its host name.
        ProviderKind::Vertex if d.region == "global" => "https://aiplatform.googleapis.com".into(),
        ProviderKind::Vertex => format!("https://{}-aiplatform.googleapis.com", d.region),
        ProviderKind::Bedrock => format!("https://bedrock-runtime.{}.amazonaws.com", d.region),
        ProviderKind::DeepSeek => "https://api.deepseek.com".into(),
        ProviderKind::Qwen => "https://dashscope-intl.aliyuncs.com/compatible-mode/v1".into(),
        ProviderKind::Azure => return None,
    })
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let mut deployments = Vec::new();
    for (i, d) in raw.deployments.into_iter().enumerate() {
        let at = format!("deployments[{i}]");
        if d.id.trim().is_empty() {
            errors.push(format!("{at}.id: must not be empty"));
        } else if !ids.insert(d.id.clone()) {
            errors.push(format!("{at}.id: `{}` is used by another deployment", d.id));
        }
        if d.region.trim().is_empty() {
            errors.push(format!("{at}.region: must not be empty"));
        }
        if d.models.is_empty() {
            errors.push(format!("{at}.models: lists no model"));
        }
        for (j, m) in d.models.iter().enumerate() {
            if !m.contains('/') {
                errors.push(format!(
                    "{at}.models[{j}]: `{m}` is not a public id like `openai/gpt-4o-mini`"
                ));
            }
        }
        if d.upstream_model.is_some() && d.models.len() > 1 {
            errors.push(format!(
                "{at}.upstream_model: only allowed with a single model"
            ));
        }
        let base_url = d.base_url.clone().or_else(|| default_base_url(&d));
        match &base_url {
            None => errors.push(format!(
                "{at}.base_url: required for provider {}",
                d.provider
            )),
            Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                errors.push(format!("{at}.base_url: `{u}` is not an http(s) URL"))
            }
            Some(_) => {}
        }
        if d.provider == ProviderKind::Azure {
            if d.azure_deployment.is_none() {
                errors.push(format!(
                    "{at}.azure_deployment: required for provider azure"
                ));
            }
            if d.api_version.is_none() {
                errors.push(format!("{at}.api_version: required for provider azure"));
            }
        }
        for (key, value) in [
            ("first_byte_timeout_ms", d.first_byte_timeout_ms),
            ("connect_timeout_ms", d.connect_timeout_ms),
            ("breaker_failures", d.breaker_failures.map(u64::from)),
            ("breaker_cooldown_ms", d.breaker_cooldown_ms),
        ] {
            if value == Some(0) {
                errors.push(format!("{at}.{key}: must be at least 1"));
            }
        }
        if d.provider == ProviderKind::Vertex && d.project.is_none() {
            errors.push(format!("{at}.project: required for provider vertex"));
        }
        deployments.push(Deployment {
            api_key_env: d
                .api_key_env
                .clone()
                .unwrap_or_else(|| d.provider.default_key_env().into()),
            base_url: base_url
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            id: d.id,
            provider: d.provider,
            region: d.region,
            kind: d.kind,
            models: d.models,
            tpm: d.tpm,
            rpm: d.rpm,
            upstream_model: d.upstream_model,
            azure_deployment: d.azure_deployment,
            api_version: d.api_version,
            project: d.project,
            http2: d.http2,
            first_byte_timeout: d
                .first_byte_timeout_ms
                .map_or(DEFAULT_FIRST_BYTE_TIMEOUT, Duration::from_millis),
            connect_timeout: d
                .connect_timeout_ms
                .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_millis),
            collects_data: d.collects_data,
            breaker: BreakerPolicy {
                failures: d
                    .breaker_failures
                    .unwrap_or(BreakerPolicy::default().failures),
                cooldown: d
                    .breaker_cooldown_ms
                    .map_or(BreakerPolicy::default().cooldown, Duration::from_millis),
            },
        });
    }
    let limits = &raw.server;
    for (key, value) in [
        ("header_read_timeout_secs", limits.header_read_timeout_secs),
        ("body_read_timeout_secs", limits.body_read_timeout_secs),
        ("idle_timeout_secs", limits.idle_timeout_secs),
        ("max_connections", limits.max_connections.map(u64::from)),
    ] {
        if value == Some(0) {
            errors.push(format!("server.{key}: must be at least 1"));
        }
    }
    let placement = validate_placement(raw.gateway, raw.residency, &mut errors);
    if errors.is_empty() {
        Ok(Config {
            deployments,
            server: raw.server,
            placement,
        })
    } else {
        Err(ConfigError(errors))
    }
}

fn validate_placement(
    gateway: RawGateway,
    residency: BTreeMap<String, Vec<String>>,
    errors: &mut Vec<String>,
) -> Placement {
    if gateway
        .region
        .as_deref()
        .is_some_and(|r| r.trim().is_empty())
    {
        errors.push("gateway.region: must not be empty".into());
    }
    if gateway.deadline_ms == Some(0) {
        errors.push("gateway.deadline_ms: must be at least 1".into());
    }
    for (name, regions) in &residency {
        if name == ANY_RESIDENCY {
            errors.push(format!(
                "residency.{name}: `{ANY_RESIDENCY}` always admits every region and cannot be redefined"
            ));
        } else if regions.is_empty() {
            errors.push(format!("residency.{name}: lists no region"));
        }
    }
    Placement {
        region: gateway.region,
        residency,
        deadline: gateway
            .deadline_ms
            .map_or(DEFAULT_DEADLINE, Duration::from_millis),
    }
}

/// Reads a deployment's credential from the environment (see [`credential_from`]).
pub fn credential(d: &Deployment) -> Option<Secret> {
    credential_from(d, |name| std::env::var(name).ok())
}

/// A deployment's credential, reading variables through `lookup`: the value of
/// `api_key_env`. Bedrock signs with an AWS key pair, so its credential is
/// `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`, combined as the AWS SDKs read
/// them: the secret from `api_key_env` (default `AWS_SECRET_ACCESS_KEY`), the key id
/// from `AWS_ACCESS_KEY_ID` (required) and the token from `AWS_SESSION_TOKEN`. A value
/// of `api_key_env` with a `:` is already the whole pair (none of the three parts ever
/// contains one), so each Bedrock deployment can have keys of its own. Empty
/// variables count as unset.
pub fn credential_from(d: &Deployment, lookup: impl Fn(&str) -> Option<String>) -> Option<Secret> {
    let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let value = var(&d.api_key_env)?;
    if d.provider != ProviderKind::Bedrock || value.contains(':') {
        return Some(Secret::new(value));
    }
    let id = var("AWS_ACCESS_KEY_ID")?;
    Some(Secret::new(match var("AWS_SESSION_TOKEN") {
        Some(token) => format!("{id}:{value}:{token}"),
        None => format!("{id}:{value}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses() {
        let cfg = Config::parse(
            r#"
            [[deployments]]
            id = "openai-us-east-reserved"
            provider = "openai"
            region = "us-east"
            kind = "reserved"
            base_url = "http://127.0.0.1:9101/v1"
            models = ["openai/gpt-4o-mini", "openai/text-embedding-3-small"]
            tpm = 2_000_000
            rpm = 10_000

            [[deployments]]
            id = "bedrock-ap-northeast-1"
            provider = "bedrock"
            region = "ap-northeast-1"
            kind = "reserved"
            models = ["anthropic/claude-sonnet-4-5"]
            upstream_model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.deployments.len(), 2);
        assert_eq!(
            cfg.deployments[0].upstream_model("openai/gpt-4o-mini"),
            "gpt-4o-mini"
        );
        assert_eq!(
            cfg.deployments[1].base_url,
            "https://bedrock-runtime.ap-northeast-1.amazonaws.com"
        );
        assert_eq!(cfg.deployments[0].api_key_env, "OPENAI_API_KEY");
    }

    #[test]
    fn every_error_is_reported_with_its_path() {
        let err = Config::parse(
            r#"
            [[deployments]]
            id = "a"
            provider = "azure"
            region = ""
            kind = "on-demand"
            models = ["gpt-4o"]
            [[deployments]]
            id = "a"
            provider = "openai"
            region = "us"
            kind = "reserved"
            models = []
            "#,
        )
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "deployments[0].region: must not be empty",
            "deployments[0].models[0]: `gpt-4o` is not a public id",
            "deployments[0].base_url: required for provider azure",
            "deployments[0].azure_deployment: required",
            "deployments[1].id: `a` is used by another deployment",
            "deployments[1].models: lists no model",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
    }

    fn deployment(provider: &str, region: &str, extra: &str) -> Deployment {
        let text = format!(
            "[[deployments]]\nid='d'\nprovider='{provider}'\nregion='{region}'\nkind='reserved'\nmodels=['v/m']\nproject='p'\n{extra}"
        );
        Config::parse(&text).unwrap().deployments.remove(0)
    }

    #[test]
    fn vertex_global_has_no_region_in_its_host() {
        assert_eq!(
            deployment("vertex", "global", "").base_url,
            "https://aiplatform.googleapis.com"
        );
        assert_eq!(
            deployment("vertex", "europe-west4", "").base_url,
            "https://europe-west4-aiplatform.googleapis.com"
        );
    }

    /// Looks names up in `vars` instead of the process environment.
    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn exposed(secret: Option<Secret>) -> Option<String> {
        secret.map(|s| s.expose().to_string())
    }

    #[test]
    fn a_key_comes_from_its_variable() {
        let openai = deployment("openai", "us", "");
        let env = lookup(&[("OPENAI_API_KEY", "sk-1"), ("OTHER", "sk-2")]);
        assert_eq!(exposed(credential_from(&openai, &env)), Some("sk-1".into()));
        let named = deployment("openai", "us", "api_key_env='OTHER'");
        assert_eq!(exposed(credential_from(&named, &env)), Some("sk-2".into()));
        let empty = lookup(&[("OPENAI_API_KEY", "")]);
        assert_eq!(exposed(credential_from(&openai, &empty)), None);
    }

    #[test]
    fn bedrock_combines_the_aws_variables() {
        let bedrock = deployment("bedrock", "us-east-1", "");
        assert_eq!(bedrock.api_key_env, "AWS_SECRET_ACCESS_KEY");
        let pair = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sec/ret+"),
        ];
        assert_eq!(
            exposed(credential_from(&bedrock, lookup(&pair))),
            Some("AKID:sec/ret+".into())
        );
        let temporary = [pair[0], pair[1], ("AWS_SESSION_TOKEN", "TOKEN")];
        assert_eq!(
            exposed(credential_from(&bedrock, lookup(&temporary))),
            Some("AKID:sec/ret+:TOKEN".into())
        );
        // Without the key id there is nothing to sign with.
        assert_eq!(exposed(credential_from(&bedrock, lookup(&pair[1..]))), None);
        // `api_key_env` names the secret; or holds the whole pair.
        let named = deployment("bedrock", "eu-west-1", "api_key_env='TOKYO_SECRET'");
        let env = [("AWS_ACCESS_KEY_ID", "AKID"), ("TOKYO_SECRET", "other")];
        assert_eq!(
            exposed(credential_from(&named, lookup(&env))),
            Some("AKID:other".into())
        );
        let whole = [("TOKYO_SECRET", "AKID2:secret2:TOKEN2")];
        assert_eq!(
            exposed(credential_from(&named, lookup(&whole))),
            Some("AKID2:secret2:TOKEN2".into())
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::parse("[[deployments]]\nid='a'\nprovider='openai'\nregion='us'\nkind='reserved'\nmodels=['openai/x']\ncolour='red'\n")
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn server_limits_are_read_and_zero_is_refused() {
        let cfg = Config::parse("[server]\nheader_read_timeout_secs = 5\nmax_connections = 500\n")
            .unwrap();
        assert_eq!(cfg.server.header_read_timeout_secs, Some(5));
        assert_eq!(cfg.server.max_connections, Some(500));
        assert_eq!(cfg.server.idle_timeout_secs, None);
        let err = Config::parse("[server]\nidle_timeout_secs = 0\nmax_connections = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server.idle_timeout_secs: must be at least 1"),
            "{err}"
        );
        assert!(
            err.contains("server.max_connections: must be at least 1"),
            "{err}"
        );
        let err = Config::parse("[server]\nidle_timeout = 5\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `idle_timeout`"),
            "{err}"
        );
    }

    #[test]
    fn placement_reads_the_gateway_region_and_residency_and_defaults_home_regions() {
        let cfg = Config::parse(
            r#"
            [gateway]
            region = "us-east"
            deadline_ms = 1500
            [residency]
            eu = ["eu-west", "eu-central"]
            "#,
        )
        .unwrap();
        let p = &cfg.placement;
        assert_eq!(p.deadline, Duration::from_millis(1500));
        let eu = p.admitted(Some("eu")).unwrap();
        assert!(eu.admits("eu-central") && !eu.admits("us-east"));
        assert_eq!(p.home_region(None, &eu), Some("eu-west"));
        let any = p.admitted(Some(ANY_RESIDENCY)).unwrap();
        assert_eq!(p.home_region(None, &any), Some("us-east"));
        assert_eq!(p.home_region(Some("ap-south"), &any), Some("ap-south"));
        assert_eq!(
            p.admitted(Some("apac")),
            None,
            "an unknown value admits nothing"
        );
    }

    #[test]
    fn placement_errors_name_their_keys() {
        let err = Config::parse(
            "[gateway]\nregion = \" \"\ndeadline_ms = 0\n[residency]\nany = [\"x\"]\neu = []\n",
        )
        .unwrap_err()
        .to_string();
        for key in [
            "gateway.region",
            "gateway.deadline_ms",
            "residency.any",
            "residency.eu",
        ] {
            assert!(err.contains(key), "{err}");
        }
    }
}
