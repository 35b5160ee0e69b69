//! What an operator does for a tenant (the operator command and the console call these):
//! order again after a fix; register, re-create and rotate the Lever webhooks the
//! integrations need (through Lever's API, storing their signature tokens, so no token is
//! ever copied by hand); delete one integration; see each integration's state.

use super::ordering::{self, Outcome, Request};
use super::webhook_health;
use super::worker::Worker;
use super::Ack;
use crate::clock::now_millis;
use crate::directory::{Tenant, TenantDirectory};
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId, TenantId};
use crate::lever::webhook::WebhookKind;
use crate::lever::{LeverApi, LeverError};
use crate::secrets::cache::CachedSecrets;
use crate::secrets::{CredentialPath, RotatingSecret};
use crate::store::TenantStore;
use crate::tenant::WebhookHealth;
use crate::vendors::VendorId;
use serde::Serialize;
use std::time::Duration;

/// `{base}/lever/{tenant}/{kind}`: where Lever delivers this tenant's webhook.
pub fn webhook_url(base: &str, tenant: &TenantId, kind: WebhookKind) -> String {
    format!(
        "{}/lever/{tenant}/{}",
        base.trim_end_matches('/'),
        kind.path()
    )
}

/// Orders from `vendor` for an opportunity now, as its trigger would (e.g. once a missing
/// email was added). An order still open is not ordered twice.
pub async fn order(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
    opportunity: &OpportunityId,
    callback_base: &str,
) -> Result<Ack, AppError> {
    if !tenant
        .config
        .integration(vendor)
        .is_some_and(|i| i.is_active())
    {
        return Err(AppError::Misconfigured(format!(
            "{vendor} is not enabled (or its Lever access was revoked) for this tenant"
        )));
    }
    let lever = worker.lever_for(tenant, vendor).await?;
    let found = match lever.opportunity(opportunity).await {
        Ok(found) => found,
        Err(LeverError::NotFound { .. }) => return Err(AppError::NotFound("opportunity")),
        Err(e) => return Err(e.into()),
    };
    let request = Request {
        tenant,
        lever: lever.as_ref(),
        description: worker.vendor(vendor)?.description,
        callback_base,
    };
    // An operator's request is an event of its own.
    let event = format!("operator:{}", uuid::Uuid::new_v4().simple());
    let order_id = OrderId::for_event(tenant.id(), vendor.as_str(), &event);
    let outcome = ordering::start(worker, &request, order_id, &found).await?;
    Ok(Outcome::ack(&outcome))
}

/// Stores the Lever API key an integration's toggle generated (with `vendor`; without, the
/// tenant-wide key) in the tenant's secret, and clears the revocation of every integration
/// that now uses it, as reconnecting does. Returns those integrations; a key that cannot be
/// Lever's ([`api_key_problem`](crate::lever::api_key_problem)) is a `BadRequest`, stored nowhere.
pub async fn connect_api_key(
    tenants: &dyn TenantDirectory,
    tenant_store: &dyn TenantStore,
    secrets: &CachedSecrets,
    tenant: &TenantId,
    vendor: Option<VendorId>,
    api_key: &str,
) -> Result<Vec<VendorId>, AppError> {
    if let Some(problem) = crate::lever::api_key_problem(api_key) {
        return Err(AppError::BadRequest(format!("the Lever API key {problem}")));
    }
    let path = vendor.map_or(CredentialPath::Tenant, CredentialPath::Vendor);
    let mut keys = path.keys();
    keys.push("api_key");
    secrets
        .source()
        .set_field_creating(tenant.as_str(), &keys, serde_json::json!(api_key))
        .await?;
    tenants.invalidate(tenant);
    let reloaded = tenants.tenant(tenant).await?;
    let integrations = reloaded
        .secrets
        .sharing(path, reloaded.config.vendors.keys().copied());
    tenant_store
        .set_lever_access(tenant, &integrations, None)
        .await?;
    tenants.invalidate(tenant);
    tracing::info!(%tenant, credential = %path.name(), ?integrations, "Lever API key stored");
    Ok(integrations)
}

/// What registering did for one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    /// Lever's event name (`candidateStageChange`…).
    pub event: &'static str,
    /// `created`, or `kept` (Lever has it and its token is stored).
    pub action: &'static str,
}

/// Makes sure Lever has every webhook the tenant's integrations need (or, with `vendor`,
/// that integration's), pointing at `base`, with its signature token stored: creates what
/// is missing through Lever's API (acting as `vendor`, else the first active integration).
pub async fn register_webhooks(
    worker: &Worker<'_>,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    vendor: Option<VendorId>,
    base: &str,
) -> Result<Vec<Registered>, AppError> {
    let acting = acting_integration(tenant, vendor)?;
    let lever = worker.lever_for(tenant, acting).await?;
    let integrations = tenant.config.vendors.iter();
    let needed = webhook_health::needed(
        integrations.filter(|(v, _)| vendor.is_none_or(|only| **v == only)),
        worker.vendors,
    );
    let existing = lever.webhooks().await?;
    let mut done = Vec::new();
    for kind in needed {
        let ours = existing
            .iter()
            .any(|w| webhook_health::is_ours(w, tenant, kind));
        let stored = tenant.secrets.webhook_token(kind.event_name()).is_some();
        if ours && stored {
            done.push(Registered {
                event: kind.event_name(),
                action: "kept",
            });
            continue;
        }
        create_and_store(lever.as_ref(), secrets, tenant, kind, base, None).await?;
        done.push(Registered {
            event: kind.event_name(),
            action: "created",
        });
    }
    worker.tenants.invalidate(tenant.id());
    Ok(done)
}

/// A new signature token for the tenant's webhook of `kind`. Lever issues a token only
/// with a new webhook, so the webhook is re-created for the same URL and the old one
/// deleted; the old token keeps working for `grace`, so deliveries in flight still verify.
pub async fn rotate_webhook_token(
    worker: &Worker<'_>,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    kind: WebhookKind,
    base: &str,
    grace: Duration,
) -> Result<String, AppError> {
    let lever = worker
        .lever_for(tenant, acting_integration(tenant, None)?)
        .await?;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let previous = tenant
        .secrets
        .webhook_token(kind.event_name())
        .map(|t| (t.current.clone(), now_millis().saturating_add(grace_ms)));
    let id = create_and_store(lever.as_ref(), secrets, tenant, kind, base, previous).await?;
    worker.tenants.invalidate(tenant.id());
    tracing::info!(tenant = %tenant.id(), event = kind.event_name(), "webhook signature token rotated");
    Ok(id)
}

/// Creates the webhook of `kind` pointing at `base`, stores its token (keeping `previous`
/// valid until its time), then deletes the tenant's other webhooks of that kind here.
async fn create_and_store(
    lever: &dyn LeverApi,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    kind: WebhookKind,
    base: &str,
    previous: Option<(secrecy::SecretString, i64)>,
) -> Result<String, AppError> {
    let old: Vec<String> = lever
        .webhooks()
        .await?
        .into_iter()
        .filter(|w| webhook_health::is_ours(w, tenant, kind))
        .map(|w| w.id)
        .collect();
    let created = lever
        .create_webhook(kind.event_name(), &webhook_url(base, tenant.id(), kind))
        .await?;
    let token = created
        .configuration
        .signature_token
        .clone()
        .ok_or_else(|| {
            AppError::Lever(LeverError::Decode(
                "the new webhook has no signature token".into(),
            ))
        })?;
    let (previous, previous_expires_at) = match previous {
        Some((token, until)) => (Some(token), Some(until)),
        None => (None, None),
    };
    let rotating = RotatingSecret {
        current: token,
        previous,
        previous_expires_at,
    };
    secrets
        .source()
        .set_field(
            tenant.id().as_str(),
            &["webhooks", kind.event_name()],
            rotating.to_document(),
        )
        .await?;
    secrets.invalidate(tenant.id().as_str());
    for id in old {
        lever.delete_webhook(&id).await?;
    }
    Ok(created.id)
}

/// Removes one integration: its settings and credentials, and the Lever webhooks it needed
/// that no other enabled integration of the tenant needs. Returns the webhooks deleted.
pub async fn delete_integration(
    worker: &Worker<'_>,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    vendor: VendorId,
) -> Result<Vec<&'static str>, AppError> {
    let mut remaining = (*tenant.config).clone();
    let Some(removed) = remaining.vendors.remove(&vendor) else {
        return Err(AppError::NotFound("integration"));
    };
    let its_own = webhook_health::needed([(&vendor, &removed)], worker.vendors);
    let still_needed = webhook_health::needed(&remaining.vendors, worker.vendors);
    let lever = worker.lever_for(tenant, vendor).await?;
    let mut deleted = Vec::new();
    for webhook in lever.webhooks().await? {
        let Some(kind) = WebhookKind::from_event_name(&webhook.event) else {
            continue;
        };
        let only_its = its_own.contains(&kind) && !still_needed.contains(&kind);
        if only_its && webhook_health::is_ours(&webhook, tenant, kind) {
            lever.delete_webhook(&webhook.id).await?;
            deleted.push(kind.event_name());
        }
    }
    worker.tenant_store.put_tenant(&remaining).await?;
    secrets
        .source()
        .set_field(
            tenant.id().as_str(),
            &["vendors", vendor.as_str()],
            serde_json::Value::Null,
        )
        .await?;
    worker.tenants.invalidate(tenant.id());
    tracing::info!(tenant = %tenant.id(), %vendor, webhooks = ?deleted, "integration deleted");
    Ok(deleted)
}

/// The integration whose credential acts for the tenant: `vendor`'s, else the first active
/// one.
fn acting_integration(tenant: &Tenant, vendor: Option<VendorId>) -> Result<VendorId, AppError> {
    match vendor {
        Some(vendor) => Ok(vendor),
        None => tenant
            .config
            .active()
            .next()
            .map(|(vendor, _)| vendor)
            .ok_or_else(|| AppError::Misconfigured("the tenant has no active integration".into())),
    }
}

/// One integration's state at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationState {
    /// The integration's vendor.
    pub vendor: VendorId,
    /// Switched on in the configuration (revoked or not).
    pub enabled: bool,
    /// `api key`, `oauth` or `none`.
    pub credential: &'static str,
    /// `connected`, `not connected` (no Lever credential), or `revoked` with why.
    pub lever_access: String,
    /// The trigger webhook as the last check found it: `registered`, `missing`, `unknown`,
    /// `unchecked`.
    pub webhook: String,
}

/// Each integration's state: enabled, its Lever credential, whether Lever still accepts
/// it, and whether its trigger webhook is there (as the last check found).
pub fn integration_states(
    tenant: &Tenant,
    health: Option<&WebhookHealth>,
    vendors: &crate::vendors::Vendors,
) -> Vec<IntegrationState> {
    tenant
        .config
        .vendors
        .iter()
        .map(|(vendor, integration)| {
            let credential = tenant
                .secrets
                .lever_credential(*vendor)
                .map_or("none", |(_, c)| c.kind());
            let lever_access = match &integration.lever_access_revoked {
                Some(revoked) => format!("revoked: {}", revoked.reason),
                None if credential == "none" => "not connected".to_owned(),
                None => "connected".to_owned(),
            };
            let trigger = vendors.get(*vendor).map(|v| match v.description.trigger {
                crate::vendors::Trigger::StageChange => WebhookKind::CandidateStageChange,
                crate::vendors::Trigger::ApplicationCreated => WebhookKind::ApplicationCreated,
            });
            let webhook = health
                .and_then(|h| {
                    let event = trigger?.event_name();
                    h.webhooks.iter().find(|w| w.event == event)
                })
                .map_or("unchecked".to_owned(), |w| match &w.state {
                    crate::tenant::WebhookStatus::Registered => "registered".into(),
                    crate::tenant::WebhookStatus::Missing => "missing".into(),
                    crate::tenant::WebhookStatus::Unknown(_) => "unknown".into(),
                });
            IntegrationState {
                vendor: *vendor,
                enabled: integration.enabled,
                credential,
                lever_access,
                webhook,
            }
        })
        .collect()
}

/// One line on the safety net's last run for the admin: in normal operation it finds
/// nothing; what it found was worked, and means the tenant's webhooks are failing.
pub fn safety_net_summary(run: Option<&crate::tenant::SafetyNetRun>) -> String {
    match run {
        None => "not run yet".into(),
        Some(run) if run.found() == 0 => "last run found nothing missed".into(),
        Some(run) => format!(
            "last run found {} stage entr{} and {} archive{} no webhook delivered (worked \
             now; check the webhooks)",
            run.stage_entries,
            if run.stage_entries == 1 { "y" } else { "ies" },
            run.archives,
            if run.archives == 1 { "" } else { "s" },
        ),
    }
}
