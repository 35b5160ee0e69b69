//! The use cases, in one place. Each entry point takes the [`App`] and already-read request
//! parts, and returns an [`Ack`] (what the sender is told) or an [`AppError`].
//!
//! - [`lever_webhook`]: a signed Lever delivery → verify, dedupe, order from the vendors
//!   whose trigger stage the candidate entered.
//! - [`vendor_callback`]: an authenticated vendor status → apply it (never backwards) and
//!   show it in Lever.
//! - [`outbox`]: redo what failed on the way out, on a schedule or from the admin command.

pub mod admin;
pub mod lever_sync;
pub mod lever_webhook;
pub mod oauth;
pub mod ordering;
pub mod outbox;
pub mod vendor_callback;

use crate::app::App;
use crate::error::AppError;
use crate::model::{Order, TenantConfig, VendorId};
use crate::secrets::{SecretsError, TenantSecrets};
use crate::vendors::VendorAccount;
use serde::Serialize;
use std::sync::Arc;

/// What happened, as the JSON body of a 2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ack {
    pub status: AckStatus,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Lever's "send test" delivery.
    Test,
    /// The stage triggers no vendor.
    Ignored,
    /// This delivery or callback was processed before.
    Duplicate,
    /// At least one vendor order placed (or already open).
    Ordered,
    /// Stored safely; the outbox finishes the work once Lever or the vendor answers.
    Queued,
    /// Nothing ordered: the candidate lacks data the vendor needs (a Lever note says what).
    NotOrdered,
    /// A vendor status moved the order forward.
    Applied,
    /// The status was already applied, or is older than the order's: nothing changed.
    Unchanged,
}

impl Ack {
    pub fn new(status: AckStatus) -> Self {
        Ack {
            status,
            orders: Vec::new(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `Queued` is "accepted, not done": 202. Everything else is done: 200.
    pub fn is_accepted_only(&self) -> bool {
        self.status == AckStatus::Queued
    }
}

/// An order as the sender may see it: ids and status, no candidate data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRef {
    pub vendor: VendorId,
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl From<&Order> for OrderRef {
    fn from(order: &Order) -> Self {
        OrderRef {
            vendor: order.vendor,
            order_id: order.order_id.clone(),
            vendor_order_id: order.vendor_order_id.clone(),
            status: order.status.clone(),
        }
    }
}

/// A tenant's configuration and secrets, loaded once per request.
pub struct Tenant {
    pub config: TenantConfig,
    pub secrets: Arc<TenantSecrets>,
}

impl Tenant {
    pub fn id(&self) -> &str {
        &self.config.tenant_id
    }

    /// This tenant's account with `vendor`: where its API is and its credentials.
    pub fn vendor_account<'a>(
        &'a self,
        app: &'a App,
        vendor: VendorId,
    ) -> Result<VendorAccount<'a>, AppError> {
        let settings = self.config.vendors.get(&vendor).ok_or_else(|| {
            AppError::Misconfigured(format!("{vendor} is not configured for this tenant"))
        })?;
        let secrets = self.secrets.vendor(vendor).ok_or_else(|| {
            AppError::Misconfigured(format!("the tenant secret has no credentials for {vendor}"))
        })?;
        Ok(VendorAccount {
            http: &app.http,
            retry: &app.settings.retry,
            base_url: &settings.api_base,
            secrets,
        })
    }
}

/// Runs `work` once per delivery `key` (a Lever delivery token or a vendor's callback id):
/// a delivery already processed is acknowledged as a duplicate, one being processed by
/// another invocation is answered 409 (the sender retries), and a failed one is forgotten
/// so the sender's retry is processed afresh.
pub(crate) async fn once_per_delivery(
    app: &App,
    key: &str,
    work: impl std::future::Future<Output = Result<Ack, AppError>>,
) -> Result<Ack, AppError> {
    use crate::store::Delivery as Claim;
    let claim = app
        .store
        .begin_delivery(
            key,
            crate::model::now_millis(),
            app.settings.delivery_stale_after,
            app.settings.delivery_memory(),
        )
        .await?;
    match claim {
        Claim::AlreadyDone => return Ok(Ack::new(AckStatus::Duplicate)),
        Claim::InProgress => return Err(AppError::InProgress),
        Claim::New => {}
    }
    let outcome = work.await;
    match &outcome {
        Ok(_) => app.store.finish_delivery(key).await?,
        Err(_) => app.store.abandon_delivery(key).await?,
    }
    outcome
}

/// Runs an authentication `check` on the tenant's secrets. If it fails only because the
/// signature does not match, the secrets are re-read once (rate-limited, see
/// [`crate::secrets::cache::CachedSecrets::reload_after_mismatch`]) in case the token or
/// secret was just rotated, and checked again.
pub(crate) async fn check_with_fresh_secrets<T>(
    app: &App,
    tenant: &Tenant,
    check: impl Fn(&TenantSecrets) -> Result<T, AppError>,
) -> Result<T, AppError> {
    use crate::callback_auth::CallbackAuthError;
    use crate::lever::webhook::SignatureError;
    match check(&tenant.secrets) {
        Err(
            mismatch @ (AppError::LeverSignature(SignatureError::Mismatch)
            | AppError::CallbackAuth(CallbackAuthError::Mismatch)),
        ) => match app.secrets.reload_after_mismatch(tenant.id()).await? {
            Some(fresh) => check(&fresh),
            None => Err(mismatch),
        },
        other => other,
    }
}

/// Unknown tenant → 404 before anything else is read or written.
pub async fn load_tenant(app: &App, tenant_id: &str) -> Result<Tenant, AppError> {
    let config = app
        .store
        .get_tenant(tenant_id)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let secrets = app.secrets.get(tenant_id).await.map_err(|e| match e {
        SecretsError::NotFound(_) => AppError::Misconfigured("the tenant has no secret".into()),
        other => AppError::Secrets(other),
    })?;
    Ok(Tenant { config, secrets })
}

/// Failures that time may fix (Lever or the vendor down or throttling past the retry
/// bound): the work goes to the outbox and the sender is told it was accepted. A store or
/// secrets outage is not among them: nothing could be kept, so the sender must retry.
pub(crate) fn is_transient(error: &AppError) -> bool {
    match error {
        AppError::Lever(crate::lever::LeverError::Unavailable(_)) => true,
        AppError::Vendor(e) => e.is_transient(),
        _ => is_disconnected(error),
    }
}

/// The tenant's Lever app was revoked: work is kept, parked until it reconnects.
pub(crate) fn is_disconnected(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Lever(crate::lever::LeverError::Disconnected)
    )
}
