//! What the worker's flows share: [`Worker`], the narrow view of the app each piece of work
//! runs with (stores, queue, Lever connector, vendors, settings, the invocation's deadline),
//! and what every flow asks of it (a Lever client per integration, a vendor account, the
//! revoked-access rule). The flows import this, never the dispatcher that calls them.

use crate::clock::Deadline;
use crate::config::Settings;
use crate::connect::{LeverConnector, StageCache};
use crate::directory::{Tenant, TenantDirectory};
use crate::error::AppError;
use crate::lever::LeverApi;
use crate::queue::WorkQueue;
use crate::retry::Outbound;
use crate::store::{ClaimStore, DeliveryLog, OrderStore, TenantStore};
use crate::telemetry::metrics;
use crate::tenant::Revoked;
use crate::vendors::{Vendor, VendorAccount, VendorApi, VendorId, Vendors};
use crate::work::Retry;
use std::sync::Arc;

/// What the worker uses.
#[derive(Clone, Copy)]
pub struct Worker<'a> {
    /// Tenants' configuration and secrets (cached; [`TenantDirectory::fresh`] bypasses it).
    pub tenants: &'a dyn TenantDirectory,
    /// Tenant records, written when an integration's Lever access is revoked.
    pub tenant_store: &'a dyn TenantStore,
    /// Orders, read and updated under optimistic locking.
    pub orders: &'a dyn OrderStore,
    /// Short leases (one Lever sync per order at a time).
    pub claims: &'a dyn ClaimStore,
    /// Where what a delivery's work came to is recorded.
    pub log: &'a dyn DeliveryLog,
    /// For follow-up work.
    pub queue: &'a dyn WorkQueue,
    /// A Lever client per integration.
    pub lever: &'a dyn LeverConnector,
    /// Each tenant's Lever stages, cached.
    pub stages: &'a StageCache,
    /// The registered vendors.
    pub vendors: &'a Vendors,
    /// The shared HTTP client for vendor calls.
    pub http: &'a crate::retry::HttpClient,
    /// The deployment's tunables.
    pub settings: &'a Settings,
    /// When this invocation must be done (less the margin to record outcomes).
    pub deadline: Deadline,
}

impl Worker<'_> {
    /// A Lever client acting as `vendor`'s integration of `tenant`.
    pub async fn lever_for(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
    ) -> Result<Arc<dyn LeverApi>, AppError> {
        self.lever.connect(tenant, vendor, self.deadline).await
    }

    /// `vendor` as registered (its description and wire adapter).
    pub fn vendor(&self, vendor: VendorId) -> Result<&Vendor, AppError> {
        self.vendors
            .get(vendor)
            .ok_or_else(|| AppError::Misconfigured(format!("{vendor} is not a known vendor")))
    }

    /// How to speak to `vendor`: an error in a function built without its adapter
    /// ([`crate::vendors::Vendors::described`]), where no flow should call it.
    pub fn vendor_api(&self, vendor: VendorId) -> Result<&dyn VendorApi, AppError> {
        adapter(self.vendor(vendor)?)
    }

    /// The tenant's account with `vendor`, for this invocation's calls.
    pub fn vendor_account<'t>(
        &'t self,
        tenant: &'t Tenant,
        vendor: VendorId,
    ) -> Result<VendorAccount<'t>, AppError> {
        let integration = tenant.config.integration(vendor).ok_or_else(|| {
            AppError::Misconfigured(format!("{vendor} is not configured for this tenant"))
        })?;
        let secrets = tenant.secrets.vendor(vendor).ok_or_else(|| {
            AppError::Misconfigured(format!("vendors.{vendor}: no credentials in the secret"))
        })?;
        Ok(VendorAccount {
            http: self.http.get(),
            outbound: Outbound::new(vendor.as_str(), self.settings.retry.clone(), self.deadline),
            base_url: &integration.api_base,
            secrets,
        })
    }

    /// Runs `work` for `vendor`'s integration of `tenant`, unless its Lever access was
    /// revoked; if Lever refuses its credential now, marks every integration sharing that
    /// credential revoked. Either way the work is dropped (and counted), not retried.
    pub async fn with_access<T>(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
        work: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<Option<T>, AppError> {
        if tenant
            .config
            .integration(vendor)
            .is_some_and(|i| i.lever_access_revoked.is_some())
        {
            metrics::work_dropped("integration_disabled");
            return Ok(None);
        }
        match work.await {
            Err(error) if error.retry() == Retry::Disabled => {
                self.revoke(tenant, vendor, &error).await?;
                metrics::work_dropped("integration_disabled");
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Records that Lever refused `vendor`'s credential (`error`): every integration
    /// sharing it is disabled until reconnected, counted and logged.
    pub(crate) async fn revoke(
        &self,
        tenant: &Tenant,
        vendor: VendorId,
        error: &AppError,
    ) -> Result<(), AppError> {
        let sharing = match tenant.secrets.lever_credential(vendor) {
            Some((path, _)) => tenant
                .secrets
                .sharing(path, tenant.config.vendors.keys().copied()),
            None => vec![vendor],
        };
        let revoked = Revoked {
            reason: error.to_string(),
            at: crate::clock::now_millis(),
        };
        self.tenant_store
            .set_lever_access(tenant.id(), &sharing, Some(revoked))
            .await?;
        self.tenants.invalidate(tenant.id());
        for vendor in &sharing {
            metrics::integration_disabled(*vendor);
        }
        tracing::error!(tenant = %tenant.id(), integrations = ?sharing, %error,
            "Lever refused the integration's credential: disabled until reconnected");
        Ok(())
    }
}

/// `vendor`'s wire adapter: an error in a function built without it
/// ([`crate::vendors::Vendors::described`], or another vendor's callback function), where no
/// flow should speak to `vendor`.
pub fn adapter(vendor: &Vendor) -> Result<&dyn VendorApi, AppError> {
    vendor.api().ok_or_else(|| {
        AppError::Misconfigured(format!(
            "this function does not hold {}'s adapter: the worker calls it, and its own \
             callback function reads its callbacks",
            vendor.description.id
        ))
    })
}
