//! An in-memory cache in front of any [`SecretsSource`]. Secrets are served from memory for a
//! short TTL; after a signature mismatch they may be re-read early, but at most once per
//! interval per tenant, so a rotated token is picked up quickly while forged requests cannot
//! hammer the backend.

use super::{SecretsError, SecretsSource, TenantSecrets};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

const DEFAULT_MISMATCH_RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// Tenant secrets kept in memory for a TTL, per tenant, in front of a [`SecretsSource`].
pub struct CachedSecrets {
    source: Arc<dyn SecretsSource>,
    ttl: Duration,
    mismatch_reload_interval: Duration,
    tenants: Mutex<HashMap<String, TenantEntry>>,
}

#[derive(Default)]
struct TenantEntry {
    /// The secrets and when the load that returned them started.
    cached: Option<(Arc<TenantSecrets>, Instant)>,
    /// The last reload forced by a mismatch, whether it succeeded or not.
    forced_reload_at: Option<Instant>,
}

impl CachedSecrets {
    /// Serves `source`'s secrets from memory for `ttl` after each read.
    pub fn new(source: Arc<dyn SecretsSource>, ttl: Duration) -> Self {
        Self {
            source,
            ttl,
            mismatch_reload_interval: DEFAULT_MISMATCH_RELOAD_INTERVAL,
            tenants: Mutex::default(),
        }
    }

    /// The source behind the cache, for reads that must bypass it and for writes.
    pub fn source(&self) -> &Arc<dyn SecretsSource> {
        &self.source
    }

    /// How often a signature mismatch may force a re-read per tenant (default 60 s).
    pub fn with_mismatch_reload_interval(mut self, interval: Duration) -> Self {
        self.mismatch_reload_interval = interval;
        self
    }

    /// The tenant's secrets, from memory while younger than the TTL. Failures are not cached.
    pub async fn get(&self, tenant_id: &str) -> Result<Arc<TenantSecrets>, SecretsError> {
        match self.fresh(tenant_id) {
            Some(secrets) => Ok(secrets),
            None => self.load(tenant_id).await,
        }
    }

    /// Re-reads the tenant's secrets after a signature mismatch, unless that was already done
    /// within the interval: then `Ok(None)`, and the caller rejects with what it has.
    pub async fn reload_after_mismatch(
        &self,
        tenant_id: &str,
    ) -> Result<Option<Arc<TenantSecrets>>, SecretsError> {
        if !self.claim_forced_reload(tenant_id) {
            return Ok(None);
        }
        self.load(tenant_id).await.map(Some)
    }

    /// Forgets the tenant's cached secrets; the next [`get`](Self::get) reads the source.
    pub fn invalidate(&self, tenant_id: &str) {
        if let Some(entry) = self.tenants().get_mut(tenant_id) {
            entry.cached = None;
        }
    }

    fn fresh(&self, tenant_id: &str) -> Option<Arc<TenantSecrets>> {
        let tenants = self.tenants();
        let (secrets, loaded_at) = tenants.get(tenant_id)?.cached.as_ref()?;
        (loaded_at.elapsed() < self.ttl).then(|| Arc::clone(secrets))
    }

    /// Records a forced reload now, unless one happened within the interval. Claimed before
    /// loading so concurrent mismatches trigger a single read.
    fn claim_forced_reload(&self, tenant_id: &str) -> bool {
        let now = Instant::now();
        let mut tenants = self.tenants();
        let entry = tenants.entry(tenant_id.to_owned()).or_default();
        if entry
            .forced_reload_at
            .is_some_and(|at| now.duration_since(at) < self.mismatch_reload_interval)
        {
            return false;
        }
        entry.forced_reload_at = Some(now);
        true
    }

    async fn load(&self, tenant_id: &str) -> Result<Arc<TenantSecrets>, SecretsError> {
        let started = Instant::now();
        let secrets = Arc::new(self.source.load(tenant_id).await?);
        let mut tenants = self.tenants();
        let entry = tenants.entry(tenant_id.to_owned()).or_default();
        // A slow load must not replace secrets read after it started (e.g. a rotation picked
        // up by a concurrent mismatch reload).
        if let Some((newer, loaded_at)) = &entry.cached {
            if *loaded_at > started {
                return Ok(Arc::clone(newer));
            }
        }
        entry.cached = Some((Arc::clone(&secrets), started));
        Ok(secrets)
    }

    fn tenants(&self) -> MutexGuard<'_, HashMap<String, TenantEntry>> {
        // Nothing panics while the lock is held, so a poisoned map is still consistent.
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
