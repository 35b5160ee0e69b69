//! The scheduled webhook check: lists each tenant's webhooks through Lever's API and reports
//! those its integrations need but Lever no longer has (HRLogics' article warns that the
//! integration stops when its webhook is deleted), with the command that re-creates them.

use super::context::Worker;
use crate::clock::now_millis;
use crate::directory::Tenant;
use crate::error::AppError;
use crate::lever::webhook::WebhookKind;
use crate::lever::Webhook;
use crate::telemetry::metrics;
use crate::tenant::Integration;
use crate::tenant::{WebhookHealth, WebhookState, WebhookStatus};
use crate::vendors::{Trigger, VendorId, Vendors};

/// The webhooks `integrations` need when enabled, and only those a feature uses: each
/// one's trigger; Candidate Archive State Change while one of them cancels on archive;
/// Candidate Deleted whenever any is on (deleting a candidate in Lever purges what is stored
/// about her, which no setting turns off). Candidate Hired is never needed: nothing acts on
/// it (a delivery is still verified and acknowledged).
pub fn needed<'a>(
    integrations: impl IntoIterator<Item = (&'a VendorId, &'a Integration)>,
    vendors: &Vendors,
) -> Vec<WebhookKind> {
    let mut needed = Vec::new();
    for (vendor, integration) in integrations {
        let Some(known) = vendors.get(*vendor).filter(|_| integration.enabled) else {
            continue;
        };
        needed.push(match known.description.trigger {
            Trigger::StageChange => WebhookKind::CandidateStageChange,
            Trigger::ApplicationCreated => WebhookKind::ApplicationCreated,
        });
        if known.description.archive_cancels {
            needed.push(WebhookKind::CandidateArchiveChange);
        }
        needed.push(WebhookKind::CandidateDeleted);
    }
    needed.sort_by_key(|kind| kind.event_name());
    needed.dedup();
    needed
}

/// `/lever/{tenant}/{kind}`: the end of the URL a webhook of this deployment has, whatever
/// domain fronts it.
pub fn route(tenant: &Tenant, kind: WebhookKind) -> String {
    format!("/lever/{}/{}", tenant.id(), kind.path())
}

/// Whether `webhook` delivers `kind` to this deployment for `tenant`.
pub fn is_ours(webhook: &Webhook, tenant: &Tenant, kind: WebhookKind) -> bool {
    webhook.event == kind.event_name()
        && webhook
            .url
            .trim_end_matches('/')
            .ends_with(&route(tenant, kind))
}

/// Checks one tenant and records what it found.
pub async fn check(worker: &Worker<'_>, tenant: &Tenant) -> Result<WebhookHealth, AppError> {
    let needed = needed(&tenant.config.vendors, worker.vendors);
    let listed = list(worker, tenant).await;
    let webhooks = needed
        .iter()
        .map(|kind| {
            let state = match &listed {
                Ok(webhooks) if webhooks.iter().any(|w| is_ours(w, tenant, *kind)) => {
                    WebhookStatus::Registered
                }
                Ok(_) => WebhookStatus::Missing,
                Err(error) => WebhookStatus::Unknown(error.to_string()),
            };
            if state == WebhookStatus::Missing {
                metrics::webhook_missing(kind.event_name());
                tracing::error!(tenant = %tenant.id(), event = kind.event_name(),
                    "Lever no longer has this webhook: its deliveries stop; re-create it with \
                     `lever-screening-admin webhooks register {}`", tenant.id());
            }
            WebhookState {
                event: kind.event_name().to_owned(),
                state,
            }
        })
        .collect();
    let health = WebhookHealth {
        checked_at: now_millis(),
        webhooks,
    };
    worker
        .tenant_store
        .put_webhook_health(tenant.id(), &health)
        .await?;
    Ok(health)
}

/// The account's webhooks, through the first active integration's credential.
async fn list(worker: &Worker<'_>, tenant: &Tenant) -> Result<Vec<Webhook>, AppError> {
    let (vendor, _) =
        tenant.config.active().next().ok_or_else(|| {
            AppError::Misconfigured("no active integration to ask Lever with".into())
        })?;
    let lever = worker.lever_for(tenant, vendor).await?;
    Ok(lever.webhooks().await?)
}
