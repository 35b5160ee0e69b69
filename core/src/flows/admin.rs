//! What an operator does for a tenant (the operator command and the console call these):
//! order again after a fix; register, re-create and rotate the Lever webhooks the
//! integrations need (through Lever's API, storing their signature tokens, so no token is
//! ever copied by hand); delete one integration; see each integration's state.

use super::context::Worker;
use super::ordering::{self, Outcome, Request};
use super::webhook_health;
use super::Ack;
use crate::clock::now_millis;
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId, TenantId};
use crate::lever::webhook::WebhookKind;
use crate::lever::{LeverApi, LeverError};
use crate::retry::Outbound;
use crate::secrets::cache::CachedSecrets;
use crate::secrets::{CredentialPath, RotatingSecret};
use crate::tenant::WebhookHealth;
use crate::vendors::{VendorAccount, VendorError, VendorId};
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

/// Lever's stages, read with `vendor`'s own credential: also the live check that Lever
/// accepts it (the console's pages, `tenant check`). A credential Lever refuses is recorded
/// at once, as the worker would on its next call: the integrations sharing it are disabled
/// until reconnected, so every view says so instead of "connected".
pub async fn lever_stages(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
) -> Result<Vec<crate::lever::Stage>, AppError> {
    let read = async {
        let lever = worker.lever_for(tenant, vendor).await?;
        Ok::<_, AppError>(lever.stages().await?)
    }
    .await;
    if let Err(error) = &read {
        let recorded = tenant
            .config
            .integration(vendor)
            .is_some_and(|i| i.lever_access_revoked.is_some());
        if error.retry() == crate::work::Retry::Disabled && !recorded {
            worker.revoke(tenant, vendor, error).await?;
        }
    }
    read
}

/// Held orders at most resumed by one request (the console's 20 s); the rest wait for the
/// next "Resume" or credential save.
pub const RESUME_AT_ONCE: usize = 20;
/// Open orders scanned for held ones (the open-orders index, quietest first).
const HELD_SCANNED: usize = 1000;

/// The tenant's orders held because a vendor refused its account (needs attention), oldest
/// first; with `vendor`, that vendor's only.
pub async fn held_orders(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: Option<VendorId>,
) -> Result<Vec<crate::order::Order>, AppError> {
    let mut held: Vec<_> = worker
        .orders
        .quiet_open_orders(now_millis() + 1, HELD_SCANNED)
        .await?
        .into_iter()
        .filter(|o| {
            o.tenant_id() == tenant.id()
                && o.attention().is_some()
                && vendor.is_none_or(|v| o.vendor() == v)
        })
        .collect();
    held.sort_by_key(|o| o.created_at());
    Ok(held)
}

/// What resuming held orders came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resumed {
    /// Placed with the vendor now.
    pub placed: usize,
    /// Still held: the vendor still refuses.
    pub still_held: usize,
    /// Not placed now: beyond [`RESUME_AT_ONCE`] (for the next resume), the integration
    /// switched off, or the order ended otherwise (the candidate archived or deleted,
    /// another order open, the vendor refusing the order itself: its Lever note says why).
    pub left: usize,
}

/// Places the tenant's held orders again (of `vendor`, or all), once the admin has fixed
/// what the vendor refused, through the same idempotent path (never ordered twice). Called
/// after credentials are saved, and by the console's and the command's "resume".
pub async fn resume_held(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: Option<VendorId>,
    callback_base: &str,
) -> Result<Resumed, AppError> {
    let held = held_orders(worker, tenant, vendor).await?;
    let mut resumed = Resumed {
        left: held.len().saturating_sub(RESUME_AT_ONCE),
        ..Resumed::default()
    };
    for order in held.into_iter().take(RESUME_AT_ONCE) {
        let vendor = order.vendor();
        if !tenant
            .config
            .integration(vendor)
            .is_some_and(|i| i.is_active())
        {
            resumed.left += 1;
            continue;
        }
        let lever = worker.lever_for(tenant, vendor).await?;
        let request = Request {
            tenant,
            lever: lever.as_ref(),
            description: worker.vendor(vendor)?.description,
            callback_base,
        };
        match ordering::resume(worker, &request, order).await? {
            Outcome::Ordered(_) => resumed.placed += 1,
            Outcome::Held(_) => resumed.still_held += 1,
            Outcome::AlreadyOpen(_) | Outcome::NotOrdered(_) => resumed.left += 1,
        }
    }
    tracing::info!(tenant = %tenant.id(), ?resumed, "held orders resumed");
    Ok(resumed)
}

/// Stores a Lever API key for `vendor`'s integration (or, without one, the tenant-wide
/// credential), and makes it the credential in use there: an OAuth grant stored at the same
/// place is removed (a key pasted after a refused sign-in must not lose to that grant), and
/// every integration sharing it is no longer marked refused. Returns those integrations.
///
/// The key is first tried on Lever (one read of the account's stages): a key Lever refuses,
/// or one that cannot be tried because Lever is unreachable, is not stored, so a mistyped
/// key never replaces a working one. `replace_anyway` stores it untried, for a key Lever
/// will accept only later.
pub async fn connect_api_key(
    worker: &Worker<'_>,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    vendor: Option<VendorId>,
    api_key: &str,
    replace_anyway: bool,
) -> Result<Vec<VendorId>, AppError> {
    if let Some(problem) = crate::lever::api_key_problem(api_key) {
        return Err(AppError::BadRequest(format!("the Lever API key {problem}")));
    }
    let path = vendor.map_or(CredentialPath::Tenant, CredentialPath::Vendor);
    if !replace_anyway {
        try_lever_key(worker, tenant, vendor, api_key).await?;
    }
    let mut keys = path.keys();
    keys.push("api_key");
    let source = secrets.source();
    source
        .set_field_creating(tenant.id().as_str(), &keys, serde_json::json!(api_key))
        .await?;
    keys.pop();
    if path_has_oauth(tenant, path) {
        keys.push("oauth");
        source
            .set_field_creating(tenant.id().as_str(), &keys, serde_json::Value::Null)
            .await?;
    }
    let tenants = worker.tenants;
    tenants.invalidate(tenant.id());
    let reloaded = tenants.tenant(tenant.id()).await?;
    let integrations = reloaded
        .secrets
        .sharing(path, reloaded.config.vendors.keys().copied());
    worker
        .tenant_store
        .set_lever_access(tenant.id(), &integrations, None)
        .await?;
    tenants.invalidate(tenant.id());
    tracing::info!(tenant = %tenant.id(), credential = %path.name(), ?integrations, replace_anyway, "Lever API key stored");
    Ok(integrations)
}

fn path_has_oauth(tenant: &Tenant, path: CredentialPath) -> bool {
    match path {
        CredentialPath::Tenant => tenant.secrets.lever.oauth.is_some(),
        CredentialPath::Vendor(vendor) => tenant
            .secrets
            .vendor(vendor)
            .and_then(|s| s.lever.as_ref())
            .is_some_and(|lever| lever.oauth.is_some()),
    }
}

/// One read of Lever's stages with `api_key` in the place it would be stored: Lever's
/// refusal, or its being unreachable, is the admin's answer, and nothing is stored.
async fn try_lever_key(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: Option<VendorId>,
    api_key: &str,
) -> Result<(), AppError> {
    let mut trial = (*tenant.secrets).clone();
    let key = crate::secrets::LeverCredentials {
        api_key: Some(api_key.to_owned().into()),
        oauth: None,
    };
    // The integration acting: the one given, else any (with no credential of its own, so
    // the tenant-wide key is the one tried).
    let acting = match vendor {
        Some(vendor) => {
            trial.vendors.entry(vendor).or_default().lever = Some(key);
            vendor
        }
        None => {
            trial.lever = key;
            trial.vendors.clear();
            VendorId::Xref
        }
    };
    let trial = Tenant {
        config: std::sync::Arc::clone(&tenant.config),
        secrets: std::sync::Arc::new(trial),
    };
    let lever = worker
        .lever
        .connect(&trial, acting, worker.deadline)
        .await?;
    match lever.stages().await {
        Ok(_) => Ok(()),
        Err(LeverError::Unauthorized { status } | LeverError::Rejected { status, .. })
            if matches!(status, 401 | 403) =>
        {
            Err(AppError::BadRequest(format!(
                "Lever refused this API key (HTTP {status}), so it was not saved and the \
                 credential in use is unchanged: copy the key again from Lever (Settings › \
                 Integrations and API). A key Lever will accept only later can be saved with \
                 \"replace anyway\""
            )))
        }
        Err(error @ (LeverError::Unavailable(_) | LeverError::Ambiguous(_))) => {
            tracing::warn!(%error, "Lever could not be asked about a new API key");
            Err(AppError::Lever(LeverError::Unavailable(
                "Lever could not be reached to try this API key, so it was not saved; try \
                 again, or save it with \"replace anyway\""
                    .into(),
            )))
        }
        Err(other) => Err(other.into()),
    }
}

/// The longest vendor credential accepted (API keys, client secrets and passwords are far
/// shorter).
pub const CREDENTIAL_MAX_BYTES: usize = 4096;

/// Tries `vendor`'s account credentials as they would be once `given` (`field → value`,
/// e.g. `api_key`) replaced the stored ones, with one live, read-only call to the vendor
/// (its `verify credentials` operation): what the vendor refuses, or what cannot be tried,
/// is the admin's answer and is not stored. A missing companion field (a client id without
/// its secret) is named.
pub async fn verify_vendor_credentials(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
    given: &[(&str, &str)],
) -> Result<(), AppError> {
    let integration = tenant
        .config
        .integration(vendor)
        .ok_or(AppError::NotFound("integration"))?;
    let name = worker.vendor(vendor)?.description.name;
    // No vendor issues credentials this long; a paste of something else is refused here
    // rather than sent to the vendor in a header.
    if let Some((field, _)) = given
        .iter()
        .find(|(_, value)| value.len() > CREDENTIAL_MAX_BYTES)
    {
        return Err(AppError::BadRequest(format!(
            "`{field}` is longer than any {name} credential ({CREDENTIAL_MAX_BYTES} characters \
             at most): paste the credential alone"
        )));
    }
    let mut secrets = tenant.secrets.vendor(vendor).cloned().unwrap_or_default();
    for (field, value) in given {
        let value = Some(secrecy::SecretString::from((*value).to_owned()));
        match *field {
            "api_key" => secrets.api_key = value,
            "client_id" => secrets.client_id = value,
            "client_secret" => secrets.client_secret = value,
            "username" => secrets.username = value,
            "password" => secrets.password = value,
            _ => {}
        }
    }
    let account = VendorAccount {
        http: worker.http.get(),
        outbound: Outbound::new(
            vendor.as_str(),
            worker.settings.retry.clone(),
            worker.deadline,
        ),
        base_url: &integration.api_base,
        secrets: &secrets,
    };
    match worker
        .vendor_api(vendor)?
        .verify_credentials(&account)
        .await
    {
        Ok(()) => Ok(()),
        Err(VendorError::MissingCredential(field)) => Err(AppError::BadRequest(format!(
            "{name} needs `{field}` too to check these credentials: fill it in as well"
        ))),
        Err(VendorError::Rejected { status, message }) if matches!(status, 401 | 403) => {
            Err(AppError::BadRequest(format!(
                "{name} refused these credentials (HTTP {status}: {message}), so they were \
                 not saved and the stored ones are unchanged: check them with {name}"
            )))
        }
        Err(VendorError::Rejected { status, message }) => Err(AppError::BadRequest(format!(
            "{name} answered HTTP {status} to the credential check ({message}), so nothing \
             was saved: check the API base URL under Settings ({})",
            integration.api_base
        ))),
        Err(error) => {
            tracing::warn!(%vendor, %error, "vendor credentials could not be checked");
            Err(AppError::Vendor(VendorError::Unavailable(format!(
                "{name} could not be reached to check these credentials, so nothing was \
                 saved; try again shortly"
            ))))
        }
    }
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

/// What deleting an integration did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    /// The webhooks deleted in Lever (event names).
    pub webhooks_deleted: Vec<&'static str>,
    /// The webhooks only this integration needed that could not be deleted, because Lever
    /// refused or could not be reached: the admin removes them by hand.
    pub webhooks_left: Vec<&'static str>,
    /// Why they were left: Lever's answer.
    pub lever_problem: Option<String>,
}

/// Removes one integration: its settings and credentials, always, and the Lever webhooks it
/// needed that no other enabled integration of the tenant needs, where Lever lets it. A
/// Lever that refuses the integration's credential (the usual reason to delete it) or
/// cannot be reached does not keep the integration: the webhooks it could not delete are
/// returned, for the admin to remove in Lever's settings.
pub async fn delete_integration(
    worker: &Worker<'_>,
    secrets: &CachedSecrets,
    tenant: &Tenant,
    vendor: VendorId,
) -> Result<Deleted, AppError> {
    let mut remaining = (*tenant.config).clone();
    let Some(removed) = remaining.vendors.remove(&vendor) else {
        return Err(AppError::NotFound("integration"));
    };
    let its_own = webhook_health::needed([(&vendor, &removed)], worker.vendors);
    let still_needed = webhook_health::needed(&remaining.vendors, worker.vendors);
    let only_its: Vec<WebhookKind> = its_own
        .into_iter()
        .filter(|kind| !still_needed.contains(kind))
        .collect();
    let mut deleted = Deleted {
        webhooks_deleted: Vec::new(),
        webhooks_left: Vec::new(),
        lever_problem: None,
    };
    if let Err(error) = delete_its_webhooks(worker, tenant, vendor, &only_its, &mut deleted).await {
        tracing::warn!(tenant = %tenant.id(), %vendor, %error, "Lever webhooks not deleted with the integration");
        deleted.webhooks_left = only_its
            .iter()
            .map(|kind| kind.event_name())
            .filter(|event| !deleted.webhooks_deleted.contains(event))
            .collect();
        deleted.lever_problem = Some(error.to_string());
    }
    worker.tenant_store.put_tenant(&remaining).await?;
    let cleared = secrets
        .source()
        .set_field(
            tenant.id().as_str(),
            &["vendors", vendor.as_str()],
            serde_json::Value::Null,
        )
        .await;
    match cleared {
        // A tenant without a secret has no credentials to remove.
        Ok(()) | Err(crate::secrets::SecretsError::NotFound(_)) => {}
        Err(other) => return Err(other.into()),
    }
    worker.tenants.invalidate(tenant.id());
    tracing::info!(tenant = %tenant.id(), %vendor, webhooks = ?deleted.webhooks_deleted, left = ?deleted.webhooks_left, "integration deleted");
    Ok(deleted)
}

/// Deletes in Lever the webhooks of `kinds` that point at this deployment, as `vendor`.
async fn delete_its_webhooks(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
    kinds: &[WebhookKind],
    deleted: &mut Deleted,
) -> Result<(), AppError> {
    if kinds.is_empty() {
        return Ok(());
    }
    let lever = worker.lever_for(tenant, vendor).await?;
    for webhook in lever.webhooks().await? {
        let Some(kind) = WebhookKind::from_event_name(&webhook.event) else {
            continue;
        };
        if kinds.contains(&kind) && webhook_health::is_ours(&webhook, tenant, kind) {
            lever.delete_webhook(&webhook.id).await?;
            deleted.webhooks_deleted.push(kind.event_name());
        }
    }
    Ok(())
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
