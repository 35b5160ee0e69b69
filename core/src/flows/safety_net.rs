//! The scheduled safety net: Lever retries a failed webhook delivery only a few times, and a
//! deleted or disabled webhook delivers nothing, so once an hour each tenant's Lever account
//! is asked (`GET /opportunities`, paged and paced like every Lever call) which candidates
//! entered a trigger stage, or were archived, since the last run. What no delivery brought
//! is put on the work queue as the same [`Work::LeverEvent`] a webhook makes, stamped with
//! the time Lever recorded, so the worker confirms it exactly as it confirms a delivery and
//! names the order after the same stage entry: a move its webhook already handled is never
//! ordered again. In normal operation it finds nothing; finding something means webhooks
//! are failing, so it is counted, alarmed and shown to the admin.

use super::context::Worker;
use super::webhook_health;
use crate::clock::{millis, EpochMillis};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId};
use crate::lever::webhook::{Event, WebhookKind};
use crate::lever::{LeverApi, Opportunity, OpportunityFilter};
use crate::order::OrderPhase;
use crate::telemetry::metrics;
use crate::tenant::SafetyNetRun;
use crate::vendors::{Trigger, VendorId};
use crate::work::Work;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a webhook normally takes to arrive and be worked: changes younger than this are
/// left to their delivery (the next run looks at them).
pub const SETTLE: Duration = Duration::from_secs(300);

/// The token the safety net's work carries in place of a delivery's (for logs).
pub const TOKEN: &str = "safety-net";

/// Runs the safety net for one tenant and records its cursor. The first run only sets the
/// cursor: what happened before it was installed is not re-examined.
pub async fn run(
    worker: &Worker<'_>,
    tenant: &Tenant,
    now: EpochMillis,
) -> Result<SafetyNetRun, AppError> {
    let until = now - millis(SETTLE);
    let mut run = SafetyNetRun {
        ran_at: now,
        until,
        stage_entries: 0,
        archives: 0,
    };
    if let Some(last) = worker.tenant_store.safety_net(tenant.id()).await? {
        // Overlapping by the tolerance: a change recorded late is not missed.
        let since = last.until - millis(worker.settings.stage_change_tolerance);
        run.stage_entries = stage_entries(worker, tenant, since, until).await?;
        run.archives = archives(worker, tenant, since, until).await?;
    }
    if run.found() > 0 {
        tracing::error!(tenant = %tenant.id(), stage_entries = run.stage_entries,
            archives = run.archives, "the safety net found Lever changes no webhook delivered: \
             they are being worked now; check the tenant's webhooks and the API's throttling");
    }
    worker
        .tenant_store
        .put_safety_net(tenant.id(), &run)
        .await?;
    Ok(run)
}

/// Entries into each active integration's trigger stage in `(since, until]` that no
/// delivery ordered: each is queued once, for every integration it triggers.
async fn stage_entries(
    worker: &Worker<'_>,
    tenant: &Tenant,
    since: EpochMillis,
    until: EpochMillis,
) -> Result<u32, AppError> {
    // Trigger stage id → the integrations it triggers, and one to ask Lever with.
    let mut stages: BTreeMap<String, Vec<VendorId>> = BTreeMap::new();
    for (vendor, integration) in tenant.config.active() {
        let description = worker.vendor(vendor)?.description;
        let Some(stage) = integration.trigger_stage.as_ref() else {
            continue;
        };
        if description.trigger != Trigger::StageChange {
            continue;
        }
        let id = match &stage.id {
            Some(id) => id.clone(),
            None => {
                let lever = worker.lever_for(tenant, vendor).await?;
                let listed = worker.stages.stages(tenant.id(), lever.as_ref()).await?;
                match listed.iter().find(|s| stage.matches(&s.id, Some(&s.text))) {
                    Some(found) => found.id.clone(),
                    None => continue,
                }
            }
        };
        stages.entry(id).or_default().push(vendor);
    }
    let mut found = 0;
    let mut callback_base: Option<String> = None;
    for (stage_id, vendors) in stages {
        let lever = worker.lever_for(tenant, vendors[0]).await?;
        let filter = OpportunityFilter::InStageUpdatedSince {
            stage_id: stage_id.clone(),
            since,
        };
        for opportunity in lever.opportunities(&filter).await? {
            let Some(entered_at) = latest_entry(&opportunity, &stage_id) else {
                continue;
            };
            if entered_at <= since || entered_at > until {
                continue;
            }
            let Ok(id) = OpportunityId::parse(opportunity.id.as_str()) else {
                continue;
            };
            if handled(worker, tenant, &id, &vendors, entered_at).await? {
                continue;
            }
            let base = match &callback_base {
                Some(base) => base.clone(),
                None => callback_base
                    .insert(callback_base_of(worker, tenant, lever.as_ref()).await?)
                    .clone(),
            };
            tracing::warn!(tenant = %tenant.id(), opportunity = %id, stage = %stage_id,
                "safety net: a stage entry no delivery brought");
            let event = Event::StageChange {
                opportunity: id,
                to_stage_id: stage_id.clone(),
            };
            queue(worker, tenant, entered_at, event, base).await?;
            found += 1;
        }
    }
    metrics::safety_net_found("stage_entry", found);
    Ok(found)
}

/// Candidates archived in `(since, until]` who still have orders an archive cancels: the
/// archive's delivery never got through.
async fn archives(
    worker: &Worker<'_>,
    tenant: &Tenant,
    since: EpochMillis,
    until: EpochMillis,
) -> Result<u32, AppError> {
    let Some((vendor, _)) = tenant.config.active().next() else {
        return Ok(0);
    };
    let lever = worker.lever_for(tenant, vendor).await?;
    let mut found = 0;
    for opportunity in lever
        .opportunities(&OpportunityFilter::ArchivedSince(since))
        .await?
    {
        let Some(archived_at) = opportunity.archived.as_ref().and_then(|a| a.archived_at) else {
            continue;
        };
        if archived_at <= since || archived_at > until {
            continue;
        }
        let Ok(id) = OpportunityId::parse(opportunity.id.as_str()) else {
            continue;
        };
        let orders = worker
            .orders
            .orders_for_opportunity(tenant.id(), &id)
            .await?;
        let mut cancellable = false;
        for order in orders.iter().filter(|o| o.phase() != OrderPhase::Closed) {
            cancellable |= worker.vendor(order.vendor())?.description.archive_cancels;
        }
        if !cancellable {
            continue;
        }
        tracing::warn!(tenant = %tenant.id(), opportunity = %id,
            "safety net: an archive no delivery brought");
        let event = Event::ArchiveChange {
            opportunity: id,
            archived: true,
        };
        queue(worker, tenant, archived_at, event, String::new()).await?;
        found += 1;
    }
    metrics::safety_net_found("archive", found);
    Ok(found)
}

/// When the opportunity entered `stage_id`, if its latest move is into that stage.
fn latest_entry(opportunity: &Opportunity, stage_id: &str) -> Option<EpochMillis> {
    let latest = opportunity
        .stage_changes
        .iter()
        .filter(|change| change.updated_at.is_some())
        .max_by_key(|change| change.updated_at)?;
    (latest.to_stage_id == stage_id)
        .then_some(latest.updated_at)
        .flatten()
}

/// Whether every integration the entry triggers already has its order (the one named after
/// this entry, or another still open, which the entry would not replace).
async fn handled(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
    vendors: &[VendorId],
    entered_at: EpochMillis,
) -> Result<bool, AppError> {
    let orders = worker
        .orders
        .orders_for_opportunity(tenant.id(), opportunity)
        .await?;
    Ok(vendors.iter().all(|vendor| {
        let id = OrderId::for_stage_entry(tenant.id(), vendor.as_str(), opportunity, entered_at);
        orders.iter().any(|order| {
            order.vendor() == *vendor
                && (*order.order_id() == id || order.phase() != OrderPhase::Closed)
        })
    }))
}

/// Where vendor callbacks go: the deployment's public base URL, else the base of the
/// tenant's webhooks registered in Lever (any of ours: the stage change's may be the one
/// that is gone).
async fn callback_base_of(
    worker: &Worker<'_>,
    tenant: &Tenant,
    lever: &dyn LeverApi,
) -> Result<String, AppError> {
    if let Some(base) = &worker.settings.public_base_url {
        return Ok(base.clone());
    }
    let webhooks = lever.webhooks().await?;
    WebhookKind::ALL
        .iter()
        .find_map(|kind| {
            let webhook = webhooks
                .iter()
                .find(|w| webhook_health::is_ours(w, tenant, *kind))?;
            let url = webhook.url.trim_end_matches('/');
            url.strip_suffix(&webhook_health::route(tenant, *kind))
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            AppError::Misconfigured(
                "no public base URL (PUBLIC_BASE_URL) and no webhook of this deployment in \
                 Lever to take it from: vendor callback URLs cannot be made"
                    .into(),
            )
        })
}

async fn queue(
    worker: &Worker<'_>,
    tenant: &Tenant,
    triggered_at: EpochMillis,
    event: Event,
    callback_base: String,
) -> Result<(), AppError> {
    let work = Work::LeverEvent {
        tenant: tenant.id().clone(),
        token: TOKEN.to_owned(),
        triggered_at,
        event,
        callback_base,
        // Found by asking Lever, not delivered: no delivery-log entry.
        delivery: None,
    };
    worker.queue.send(&work).await?;
    Ok(())
}
