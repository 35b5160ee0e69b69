//! What an operator does for a tenant (the admin command calls these): order again after a
//! fix, and manage the Lever webhooks an integration depends on, as HRLogics' 'Manage ATS
//! Credentials' does: re-create a deleted webhook, regenerate its signature token, delete
//! the integration.

use super::{load_tenant, ordering, Ack, AckStatus};
use crate::app::App;
use crate::error::AppError;
use crate::lever::webhook::WebhookKind;
use crate::lever::LeverClient;
use crate::model::{now_millis, VendorId};
use crate::secrets::RotatingSecret;
use secrecy::SecretString;
use std::time::Duration;

/// `{base}/lever/{tenant}/{kind}`: where Lever delivers this tenant's webhook.
pub fn webhook_url(base: &str, tenant_id: &str, kind: WebhookKind) -> String {
    format!(
        "{}/lever/{tenant_id}/{}",
        base.trim_end_matches('/'),
        kind.path()
    )
}

/// Orders from `vendor` for an opportunity now, as its trigger would (e.g. once a missing
/// email was added). An order still open is not ordered twice.
pub async fn order(
    app: &App,
    tenant_id: &str,
    vendor: VendorId,
    opportunity_id: &str,
    callback_base: &str,
) -> Result<Ack, AppError> {
    let tenant = load_tenant(app, tenant_id).await?;
    if !tenant
        .config
        .vendors
        .get(&vendor)
        .is_some_and(|v| v.enabled)
    {
        return Err(AppError::Misconfigured(format!(
            "{vendor} is not enabled for this tenant"
        )));
    }
    let lever = app.lever_client(&tenant.config, &tenant.secrets).await?;
    let outcome =
        ordering::start(app, &tenant, &lever, vendor, opportunity_id, callback_base).await?;
    let mut ack = Ack::new(match &outcome {
        ordering::Outcome::Queued(_) => AckStatus::Queued,
        ordering::Outcome::NotOrdered(_) => AckStatus::NotOrdered,
        _ => AckStatus::Ordered,
    });
    ack.orders.push(outcome.order().into());
    Ok(ack)
}

/// Creates the tenant's webhook of `kind` through Lever's API (after it was deleted in
/// Lever) and stores its signature token. Returns Lever's webhook id.
pub async fn create_webhook(
    app: &App,
    tenant_id: &str,
    kind: WebhookKind,
    base: &str,
) -> Result<String, AppError> {
    let lever = lever_for(app, tenant_id).await?;
    let created = lever
        .create_webhook(kind.event_name(), &webhook_url(base, tenant_id, kind))
        .await?;
    let token = signature_token(&created)?;
    store_token(
        app,
        tenant_id,
        kind,
        RotatingSecret {
            current: token,
            previous: None,
            previous_expires_at: None,
        },
    )
    .await?;
    Ok(created.id)
}

/// A new signature token for the tenant's webhook of `kind`: Lever issues one with a new
/// webhook for the same URL, which replaces the old; the old token keeps working for
/// `grace`, so deliveries already in flight still verify.
pub async fn regenerate_webhook_token(
    app: &App,
    tenant_id: &str,
    kind: WebhookKind,
    base: &str,
    grace: Duration,
) -> Result<String, AppError> {
    let lever = lever_for(app, tenant_id).await?;
    let url = webhook_url(base, tenant_id, kind);
    let old_webhooks = matching_webhooks(&lever, kind, &url).await?;
    let created = lever.create_webhook(kind.event_name(), &url).await?;
    let token = signature_token(&created)?;
    let secrets = app.secrets.source().load(tenant_id).await?;
    let previous = secrets.webhooks.for_kind(kind).map(|t| t.current.clone());
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    store_token(
        app,
        tenant_id,
        kind,
        RotatingSecret {
            current: token,
            previous,
            previous_expires_at: Some(now_millis().saturating_add(grace_ms)),
        },
    )
    .await?;
    for old in old_webhooks {
        lever.delete_webhook(&old).await?;
    }
    tracing::info!(
        tenant = tenant_id,
        event = kind.event_name(),
        "webhook signature token regenerated"
    );
    Ok(created.id)
}

/// Removes an integration: the tenant's webhook of `kind` from Lever, and the vendor's
/// settings and credentials from the tenant.
pub async fn delete_integration(
    app: &App,
    tenant_id: &str,
    vendor: VendorId,
    kind: WebhookKind,
    base: &str,
) -> Result<usize, AppError> {
    let lever = lever_for(app, tenant_id).await?;
    let webhooks = matching_webhooks(&lever, kind, &webhook_url(base, tenant_id, kind)).await?;
    for id in &webhooks {
        lever.delete_webhook(id).await?;
    }
    let mut tenant = app
        .store
        .get_tenant(tenant_id)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    tenant.vendors.remove(&vendor);
    app.store.put_tenant(&tenant).await?;
    app.secrets
        .source()
        .set_field(
            tenant_id,
            &["vendors", vendor.as_str()],
            serde_json::Value::Null,
        )
        .await?;
    app.secrets.invalidate(tenant_id);
    tracing::info!(tenant = tenant_id, %vendor, webhooks = webhooks.len(), "integration deleted");
    Ok(webhooks.len())
}

async fn lever_for(app: &App, tenant_id: &str) -> Result<LeverClient, AppError> {
    let tenant = load_tenant(app, tenant_id).await?;
    app.lever_client(&tenant.config, &tenant.secrets).await
}

async fn matching_webhooks(
    lever: &LeverClient,
    kind: WebhookKind,
    url: &str,
) -> Result<Vec<String>, AppError> {
    Ok(lever
        .list_webhooks()
        .await?
        .into_iter()
        .filter(|w| w.event == kind.event_name() && w.url == url)
        .map(|w| w.id)
        .collect())
}

fn signature_token(webhook: &crate::lever::client::Webhook) -> Result<SecretString, AppError> {
    webhook
        .configuration
        .signature_token
        .clone()
        .ok_or_else(|| {
            AppError::Lever(crate::lever::LeverError::Decode(
                "the new webhook has no signature token".into(),
            ))
        })
}

async fn store_token(
    app: &App,
    tenant_id: &str,
    kind: WebhookKind,
    token: RotatingSecret,
) -> Result<(), AppError> {
    app.secrets
        .source()
        .set_field(
            tenant_id,
            &["webhooks", kind.event_name()],
            token.to_document(),
        )
        .await?;
    app.secrets.invalidate(tenant_id);
    Ok(())
}
