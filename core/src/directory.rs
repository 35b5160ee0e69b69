//! Tenants as the flows see them: configuration (DynamoDB) and secrets (Secrets Manager),
//! both cached for a short TTL in a warm function, so a delivery costs no read of either.
//! A signature mismatch may re-read the secrets early (rate-limited, so a rotated token
//! takes effect at once while forged requests cannot hammer Secrets Manager).

use crate::error::AppError;
use crate::ids::TenantId;
use crate::secrets::cache::CachedSecrets;
use crate::secrets::{SecretsError, TenantSecrets};
use crate::store::TenantStore;
use crate::tenant::TenantConfig;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A tenant's configuration and secrets, as one request reads them.
#[derive(Clone)]
pub struct Tenant {
    /// The tenant's record in the store: integrations, stages, state.
    pub config: Arc<TenantConfig>,
    /// Empty when the tenant has no secret yet (its webhooks' test deliveries are still
    /// acknowledged; anything else finds nothing it needs and says which field).
    pub secrets: Arc<TenantSecrets>,
}

impl Tenant {
    /// The tenant's id, from its configuration.
    pub fn id(&self) -> &TenantId {
        &self.config.tenant_id
    }
}

/// Where flows read tenants.
#[async_trait]
pub trait TenantDirectory: Send + Sync {
    /// The tenant's configuration and secrets; `NotFound` for a tenant nobody configured.
    async fn tenant(&self, tenant: &TenantId) -> Result<Tenant, AppError>;
    /// The secrets read again after a signature mismatch, in case a token was just
    /// rotated; `None` when one was re-read less than a minute ago.
    async fn secrets_after_mismatch(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Arc<TenantSecrets>>, AppError>;
    /// Forgets what is cached for the tenant (after an operator or a flow changed it).
    fn invalidate(&self, tenant: &TenantId);
    /// The tenant with its configuration read again from the store, and its secrets too if
    /// the configuration changed (reconnecting Lever changes both). For decisions a stale
    /// cache would get wrong for minutes: dropping work of an integration whose access was
    /// revoked (another function may just have reconnected it).
    async fn fresh(&self, tenant: &TenantId) -> Result<Tenant, AppError>;
}

/// Configuration from a [`TenantStore`], secrets from [`CachedSecrets`], both cached.
pub struct CachedDirectory {
    store: Arc<dyn TenantStore>,
    secrets: Arc<CachedSecrets>,
    ttl: Duration,
    configs: Mutex<HashMap<TenantId, (Instant, Arc<TenantConfig>)>>,
}

impl CachedDirectory {
    /// `ttl`: how long a configuration is reused (secrets have their own TTL).
    pub fn new(store: Arc<dyn TenantStore>, secrets: Arc<CachedSecrets>, ttl: Duration) -> Self {
        CachedDirectory {
            store,
            secrets,
            ttl,
            configs: Mutex::default(),
        }
    }

    fn configs(&self) -> MutexGuard<'_, HashMap<TenantId, (Instant, Arc<TenantConfig>)>> {
        // Entries are replaced whole: a poisoned map holds nothing half-written.
        self.configs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn config(&self, tenant: &TenantId) -> Result<Arc<TenantConfig>, AppError> {
        let cached = self
            .configs()
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, config)| Arc::clone(config));
        if let Some(config) = cached {
            return Ok(config);
        }
        let config = Arc::new(
            self.store
                .get_tenant(tenant)
                .await?
                .ok_or(AppError::NotFound("tenant"))?,
        );
        self.configs()
            .insert(tenant.clone(), (Instant::now(), Arc::clone(&config)));
        Ok(config)
    }
}

#[async_trait]
impl TenantDirectory for CachedDirectory {
    async fn tenant(&self, tenant: &TenantId) -> Result<Tenant, AppError> {
        let config = self.config(tenant).await?;
        let secrets = match self.secrets.get(tenant.as_str()).await {
            Ok(secrets) => secrets,
            Err(SecretsError::NotFound(_)) => Arc::new(TenantSecrets::default()),
            Err(other) => return Err(other.into()),
        };
        Ok(Tenant { config, secrets })
    }

    async fn secrets_after_mismatch(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Arc<TenantSecrets>>, AppError> {
        match self.secrets.reload_after_mismatch(tenant.as_str()).await {
            Err(SecretsError::NotFound(_)) => Ok(None),
            other => Ok(other?),
        }
    }

    fn invalidate(&self, tenant: &TenantId) {
        self.configs().remove(tenant);
        self.secrets.invalidate(tenant.as_str());
    }

    async fn fresh(&self, tenant: &TenantId) -> Result<Tenant, AppError> {
        let cached = self.configs().remove(tenant).map(|(_, config)| config);
        let config = self.config(tenant).await?;
        if cached.is_none_or(|cached| *cached != *config) {
            self.secrets.invalidate(tenant.as_str());
        }
        self.tenant(tenant).await
    }
}
