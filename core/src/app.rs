//! What every handler needs, built once per process (in `main`) and shared by reference:
//! the store, the cached secrets, one HTTP client, settings.

use crate::error::AppError;
use crate::lever::oauth::{OAuthApp, TenantTokens};
use crate::lever::webhook::FreshnessWindow;
use crate::lever::{LeverAuth, LeverClient, LeverError, Stage};
use crate::model::TenantConfig;
use crate::retry::RetryPolicy;
use crate::secrets::aws::SecretsManagerSource;
use crate::secrets::cache::CachedSecrets;
use crate::secrets::{SecretsSource, TenantSecrets};
use crate::store::dynamodb::DynamoStore;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Tunables, from the environment in Lambda (see the README's configuration reference).
#[derive(Debug, Clone)]
pub struct Settings {
    pub webhook_window: FreshnessWindow,
    /// Outbound calls to Lever and vendors.
    pub retry: RetryPolicy,
    /// A delivery claimed longer ago than this is assumed crashed and may be taken over.
    pub delivery_stale_after: Duration,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    pub secrets_ttl: Duration,
    /// After this many failed attempts an outbox item is parked for a person to replay.
    pub outbox_max_attempts: u32,
    /// How long stage names resolved through Lever's API are reused.
    pub stage_cache_ttl: Duration,
    /// Base of the callback URLs handed to vendors when a custom domain fronts the API;
    /// `None`: the host each request came to.
    pub public_base_url: Option<String>,
    /// Name of the secret holding this deployment's Lever OAuth app (client id and
    /// secret, redirect URI), for tenants connected as an authorized app.
    pub lever_oauth_app_secret: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            webhook_window: FreshnessWindow::default(),
            retry: RetryPolicy::default(),
            delivery_stale_after: Duration::from_secs(60),
            max_body_bytes: 256 * 1024,
            secrets_ttl: Duration::from_secs(300),
            outbox_max_attempts: 12,
            stage_cache_ttl: Duration::from_secs(600),
            public_base_url: None,
            lever_oauth_app_secret: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Settings {
    /// Defaults, overridden by `LEVER_WEBHOOK_MAX_AGE_SECS`, `SECRETS_TTL_SECS`,
    /// `PUBLIC_BASE_URL` and `LEVER_OAUTH_APP_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = Settings::default();
        if let Some(secs) = env_secs("LEVER_WEBHOOK_MAX_AGE_SECS")? {
            settings.webhook_window.max_age = secs;
        }
        if let Some(secs) = env_secs("SECRETS_TTL_SECS")? {
            settings.secrets_ttl = secs;
        }
        let optional = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        settings.public_base_url = optional("PUBLIC_BASE_URL");
        settings.lever_oauth_app_secret = optional("LEVER_OAUTH_APP_SECRET");
        Ok(settings)
    }

    /// How long a delivery token is remembered: at least the freshness window, so a
    /// replay inside the window is always recognised.
    pub fn delivery_memory(&self) -> Duration {
        self.webhook_window.max_age + self.webhook_window.max_future + Duration::from_secs(3600)
    }
}

fn env_secs(name: &'static str) -> Result<Option<Duration>, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .map(|secs| Some(Duration::from_secs(secs)))
            .map_err(|e| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

fn env_required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// Stage lists per tenant, with when they were fetched.
type StageCache = HashMap<String, (Instant, Arc<Vec<Stage>>)>;

pub struct App {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<CachedSecrets>,
    pub http: reqwest::Client,
    pub settings: Settings,
    stages: Mutex<StageCache>,
    oauth_app: tokio::sync::OnceCell<Arc<OAuthApp>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretsSource>, settings: Settings) -> Self {
        App {
            store,
            secrets: Arc::new(CachedSecrets::new(secrets, settings.secrets_ttl)),
            http: reqwest::Client::new(),
            settings,
            stages: Mutex::new(HashMap::new()),
            oauth_app: tokio::sync::OnceCell::new(),
        }
    }

    /// The Lambda wiring: DynamoDB table `TABLE_NAME`, Secrets Manager secrets named
    /// `SECRETS_PREFIX` + tenant id. Builds clients only; nothing is fetched yet, so a cold
    /// start stays short.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let table = env_required("TABLE_NAME")?;
        let prefix = env_required("SECRETS_PREFIX")?;
        let settings = Settings::from_env()?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
        let secrets = SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(&aws), prefix);
        Ok(App::new(Arc::new(store), Arc::new(secrets), settings))
    }

    /// A Lever client for the tenant: OAuth tokens that refresh themselves for an
    /// authorized-app tenant, else its API key. A disconnected tenant gets none.
    pub async fn lever_client(
        &self,
        tenant: &TenantConfig,
        secrets: &TenantSecrets,
    ) -> Result<LeverClient, AppError> {
        if tenant.lever_disconnected.is_some() {
            return Err(LeverError::Disconnected.into());
        }
        let auth = match (&secrets.lever.oauth, &secrets.lever.api_key) {
            (Some(tokens), _) => LeverAuth::OAuth(Arc::new(TenantTokens::new(
                &tenant.tenant_id,
                tokens.clone(),
                self.oauth_app().await?,
                Arc::clone(&self.store),
                Arc::clone(&self.secrets),
                self.http.clone(),
                self.settings.retry.clone(),
            ))),
            (None, Some(api_key)) => LeverAuth::ApiKey(api_key.clone()),
            (None, None) => {
                return Err(AppError::Misconfigured(
                    "the tenant secret has neither lever.api_key nor lever.oauth".into(),
                ))
            }
        };
        Ok(LeverClient::new(
            self.http.clone(),
            &tenant.lever_api_base,
            auth,
            self.settings.retry.clone(),
        ))
    }

    /// This deployment's Lever OAuth app, read once from its secret.
    pub async fn oauth_app(&self) -> Result<Arc<OAuthApp>, AppError> {
        let name = self
            .settings
            .lever_oauth_app_secret
            .as_deref()
            .ok_or_else(|| AppError::Misconfigured("LEVER_OAUTH_APP_SECRET is not set".into()))?;
        self.oauth_app
            .get_or_try_init(|| async {
                let json = self.secrets.source().load_named(name).await?;
                OAuthApp::parse(&json)
                    .map(Arc::new)
                    .map_err(|e| AppError::Misconfigured(e.to_string()))
            })
            .await
            .cloned()
    }

    /// The tenant's stages, fetched through Lever's API at most once per cache period.
    pub async fn stages(
        &self,
        tenant_id: &str,
        lever: &LeverClient,
    ) -> Result<Arc<Vec<Stage>>, AppError> {
        let cached = self
            .stage_cache()
            .get(tenant_id)
            .filter(|(at, _)| at.elapsed() < self.settings.stage_cache_ttl)
            .map(|(_, stages)| Arc::clone(stages));
        if let Some(stages) = cached {
            return Ok(stages);
        }
        let stages = Arc::new(lever.list_stages().await?);
        self.stage_cache()
            .insert(tenant_id.to_owned(), (Instant::now(), Arc::clone(&stages)));
        Ok(stages)
    }

    fn stage_cache(&self) -> std::sync::MutexGuard<'_, StageCache> {
        // Entries are replaced whole, so a poisoned lock holds nothing half-written.
        self.stages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
