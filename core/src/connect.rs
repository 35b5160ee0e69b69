//! Connecting to a tenant's Lever account as one of its integrations: the integration's own
//! credential (an API key, or the OAuth tokens of its authorization), paced by that
//! credential's request budget and bounded by the invocation's deadline. Also the stage
//! list, which is the same for every integration of a tenant and cached.

use crate::clock::Deadline;
use crate::config::Settings;
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::TenantId;
use crate::lever::oauth::{IntegrationTokens, OAuthApps, TokenRefresh};
use crate::lever::{LeverApi, LeverAuth, LeverClient, Stage};
use crate::pacing::Pacer;
use crate::retry::{HttpClient, Outbound};
use crate::secrets::cache::CachedSecrets;
use crate::store::{ClaimStore, RateLimiter};
use crate::vendors::VendorId;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Where the worker, the scheduled checks and the operator's commands get a Lever client.
#[async_trait]
pub trait LeverConnector: Send + Sync {
    /// A client acting as `vendor`'s integration of `tenant`, with its credential.
    /// `Misconfigured` if it has none.
    async fn connect(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
        deadline: Deadline,
    ) -> Result<Arc<dyn LeverApi>, AppError>;
}

/// [`LeverConnector`] over HTTP.
pub struct LeverConnections {
    /// The process's shared HTTP client.
    pub http: HttpClient,
    /// Leases that serialise OAuth token refreshes across invocations.
    pub claims: Arc<dyn ClaimStore>,
    /// The shared per-credential request counts behind each client's [`Pacer`].
    pub limiter: Arc<dyn RateLimiter>,
    /// Tenant secrets (credentials); refreshed OAuth tokens are written through its source.
    pub secrets: Arc<CachedSecrets>,
    /// Retry policy, request budget and the OAuth app's secret name.
    pub settings: Settings,
    oauth_apps: tokio::sync::OnceCell<Arc<OAuthApps>>,
}

impl LeverConnections {
    /// Connections built from these parts; the OAuth app is read on first need.
    pub fn new(
        http: HttpClient,
        claims: Arc<dyn ClaimStore>,
        limiter: Arc<dyn RateLimiter>,
        secrets: Arc<CachedSecrets>,
        settings: Settings,
    ) -> Self {
        LeverConnections {
            http,
            claims,
            limiter,
            secrets,
            settings,
            oauth_apps: tokio::sync::OnceCell::new(),
        }
    }

    /// This deployment's Lever OAuth apps, read once from their secret.
    pub async fn oauth_apps(&self) -> Result<Arc<OAuthApps>, AppError> {
        oauth_apps(&self.oauth_apps, &self.secrets, &self.settings).await
    }
}

/// The deployment's Lever OAuth apps from the secret `LEVER_OAUTH_APP_SECRET` names, read
/// into `cell` once.
pub async fn oauth_apps(
    cell: &tokio::sync::OnceCell<Arc<OAuthApps>>,
    secrets: &CachedSecrets,
    settings: &Settings,
) -> Result<Arc<OAuthApps>, AppError> {
    let name = settings
        .lever_oauth_app_secret
        .as_deref()
        .ok_or_else(|| AppError::Misconfigured("LEVER_OAUTH_APP_SECRET is not set".into()))?;
    cell.get_or_try_init(|| async {
        let json = secrets.source().load_named(name).await?;
        OAuthApps::parse(&json)
            .map(Arc::new)
            .map_err(|e| AppError::Misconfigured(format!("{name}: {e}")))
    })
    .await
    .cloned()
}

/// The budget a credential's requests share: per tenant and credential value (two
/// integrations given the same API key share Lever's bucket for it), never the value itself.
fn budget_key(tenant: &TenantId, credential: &str) -> String {
    let digest = Sha256::digest(credential.as_bytes());
    format!("lever:{tenant}:{}", hex::encode(&digest[..8]))
}

#[async_trait]
impl LeverConnector for LeverConnections {
    async fn connect(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
        deadline: Deadline,
    ) -> Result<Arc<dyn LeverApi>, AppError> {
        let (path, credential) = tenant.secrets.lever_credential(vendor).ok_or_else(|| {
            AppError::Misconfigured(format!(
                "vendors.{vendor}.lever: no Lever credential for this integration (nor a \
                 tenant-wide `lever`)"
            ))
        })?;
        let (auth, identity) = match (&credential.oauth, &credential.api_key) {
            (Some(tokens), _) => {
                let refresh = TokenRefresh {
                    app: Arc::new(
                        self.oauth_apps()
                            .await?
                            .for_credential(path)
                            .map_err(|e| AppError::Misconfigured(e.to_string()))?
                            .clone(),
                    ),
                    claims: Arc::clone(&self.claims),
                    secrets: Arc::clone(&self.secrets),
                    http: self.http.get().clone(),
                    retry: self.settings.retry.clone(),
                };
                let tokens =
                    IntegrationTokens::new(tenant.id().as_str(), path, tokens.clone(), refresh);
                (
                    LeverAuth::OAuth(Arc::new(tokens)),
                    format!("oauth:{}", path.name()),
                )
            }
            (None, Some(key)) => (
                LeverAuth::ApiKey(key.clone()),
                format!("key:{}", key.expose_secret()),
            ),
            (None, None) => unreachable!("lever_credential returns no empty credential"),
        };
        let pacer = Pacer::new(
            Arc::clone(&self.limiter),
            budget_key(tenant.id(), &identity),
            self.settings.lever_requests_per_second,
        );
        let outbound = Outbound::new("lever", self.settings.retry.clone(), deadline).paced(pacer);
        Ok(Arc::new(LeverClient::new(
            self.http.get().clone(),
            &tenant.config.lever_api_base,
            auth,
            outbound,
        )))
    }
}

/// Each tenant's stage list and when it was fetched.
type StageLists = HashMap<TenantId, (Instant, Arc<Vec<Stage>>)>;

/// Stage lists per tenant, fetched through Lever's API at most once per TTL.
pub struct StageCache {
    ttl: std::time::Duration,
    stages: Mutex<StageLists>,
}

impl StageCache {
    /// An empty cache whose lists are reused for `ttl`.
    pub fn new(ttl: std::time::Duration) -> Self {
        StageCache {
            ttl,
            stages: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StageLists> {
        // Entries are replaced whole: a poisoned map holds nothing half-written.
        self.stages.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tenant's stages in pipeline order (`GET /stages`), from the cache while younger
    /// than the TTL; `lever` is called only on a miss, and a failure is not cached.
    pub async fn stages(
        &self,
        tenant: &TenantId,
        lever: &dyn LeverApi,
    ) -> Result<Arc<Vec<Stage>>, AppError> {
        let cached = self
            .lock()
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, stages)| Arc::clone(stages));
        if let Some(stages) = cached {
            return Ok(stages);
        }
        let stages = Arc::new(lever.stages().await?);
        self.lock()
            .insert(tenant.clone(), (Instant::now(), Arc::clone(&stages)));
        Ok(stages)
    }
}
