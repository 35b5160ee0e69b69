//! What a candidate's life in Lever does to its orders, in the worker. Archiving cancels
//! its open orders with vendors whose API can cancel, or notes that it could not;
//! deleting cancels them too and purges what this product stores about the candidate
//! (results, report links, the vendor's candidate id), keeping only what proves the purge. Hiring
//! cancels nothing (it is acknowledged at intake).
//!
//! A delivery's `data` is not covered by Lever's signature, and a delivery may arrive late
//! (Lever's retries, a queue backlog): before anything is cancelled or purged, Lever's API
//! is asked whether it still holds. An archive is acted on only while the candidate is
//! archived, with an `archivedAt` within the stage-change tolerance of the delivery's
//! `triggeredAt`; a delete only while Lever answers 404 for the opportunity. Anything else
//! is acknowledged, logged as suspicious with its reason, counted, and changes nothing.

use super::context::Worker;
use super::lever_sync;
use crate::clock::{millis, now_millis};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::OpportunityId;
use crate::lever::LeverError;
use crate::order::{Order, OrderPhase, VendorResults};
use crate::store::modify_order;
use crate::telemetry::metrics;
use crate::vendors::{Cancellation, Outcome, VendorDescription, VendorId};
use tracing::instrument;

/// The candidate was archived in Lever. Each open order is handled on its own: one that
/// fails (its vendor down) does not keep the others from being cancelled, and the message's
/// retry finds only what is still open.
#[instrument(skip_all, fields(opportunity = %opportunity))]
pub async fn on_archived(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
    triggered_at: i64,
) -> Result<(), AppError> {
    let mut cancellable = Vec::new();
    for order in open_orders(worker, tenant, opportunity).await? {
        if worker.vendor(order.vendor())?.description.archive_cancels {
            cancellable.push(order);
        }
    }
    let vendors = cancellable.iter().map(|order| order.vendor());
    let claim = Claim::Archived { triggered_at };
    if cancellable.is_empty() || !confirmed(worker, tenant, opportunity, claim, vendors).await? {
        return Ok(());
    }
    let mut outcome = Ok(());
    for order in cancellable {
        let description = worker.vendor(order.vendor())?.description;
        let ended = async {
            let order = cancel(worker, tenant, description, order, "archived").await?;
            worker
                .with_access(tenant, order.vendor(), async {
                    let lever = worker.lever_for(tenant, order.vendor()).await?;
                    lever_sync::sync(worker, lever.as_ref(), order.order_id(), None).await
                })
                .await
                .map(drop)
        };
        keep_first_error(&mut outcome, ended.await);
    }
    outcome
}

/// The candidate was deleted in Lever: its open orders are cancelled where the vendor can,
/// and every order is purged even if a cancel failed (the retry cancels again). Nothing is
/// written to Lever: there is nothing left to write to.
#[instrument(skip_all, fields(opportunity = %opportunity))]
pub async fn on_deleted(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
) -> Result<(), AppError> {
    let orders = worker
        .orders
        .orders_for_opportunity(tenant.id(), opportunity)
        .await?;
    let vendors = orders.iter().map(|order| order.vendor());
    let claim = Claim::Deleted;
    if orders.is_empty() || !confirmed(worker, tenant, opportunity, claim, vendors).await? {
        return Ok(());
    }
    let mut outcome = Ok(());
    for order in open_orders(worker, tenant, opportunity).await? {
        let description = worker.vendor(order.vendor())?.description;
        let cancelled = cancel(worker, tenant, description, order, "deleted").await;
        keep_first_error(&mut outcome, cancelled.map(drop));
    }
    let orders = worker
        .orders
        .orders_for_opportunity(tenant.id(), opportunity)
        .await?;
    let mut purged = 0;
    for order in orders.iter().filter(|o| o.purged_at().is_none()) {
        modify_order(worker.orders, order.order_id(), |next| {
            purge(next);
            true
        })
        .await?;
        purged += 1;
    }
    tracing::info!(purged, "candidate deleted in Lever: orders purged");
    metrics::purged(purged);
    outcome
}

/// What a lifecycle delivery claims happened in Lever.
#[derive(Clone, Copy)]
enum Claim {
    /// Archived at about `triggered_at` (ms).
    Archived { triggered_at: i64 },
    /// Deleted.
    Deleted,
}

/// Whether Lever's API confirms `claim` now, asked with the Lever client of the first of
/// `vendors`' integrations whose access works. An unconfirmed claim is logged as suspicious
/// with its reason and counted; with no integration able to ask, nothing is confirmed.
async fn confirmed(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
    claim: Claim,
    vendors: impl Iterator<Item = VendorId>,
) -> Result<bool, AppError> {
    let tolerance = millis(worker.settings.stage_change_tolerance);
    let mut asked: Vec<VendorId> = Vec::new();
    for vendor in vendors {
        if asked.contains(&vendor) {
            continue;
        }
        asked.push(vendor);
        let refused = worker
            .with_access(tenant, vendor, async {
                let lever = worker.lever_for(tenant, vendor).await?;
                let found = match lever.opportunity(opportunity).await {
                    Ok(found) => Some(found),
                    Err(LeverError::NotFound { .. }) => None,
                    Err(e) => return Err(AppError::from(e)),
                };
                Ok(match (claim, found) {
                    (Claim::Archived { triggered_at }, Some(found)) => match &found.archived {
                        _ if found.archived_about(triggered_at, tolerance) => None,
                        None => Some("not_archived"),
                        Some(_) => Some("archived_at_another_time"),
                    },
                    (Claim::Archived { .. }, None) => Some("no_such_opportunity"),
                    (Claim::Deleted, Some(_)) => Some("not_deleted"),
                    (Claim::Deleted, None) => None,
                })
            })
            .await?;
        match refused {
            // This integration's access is revoked: ask with another.
            None => continue,
            Some(None) => return Ok(true),
            Some(Some(reason)) => {
                tracing::warn!(
                    suspicious = true,
                    reason,
                    "Lever's API does not confirm the signed lifecycle delivery (now): \
                     nothing cancelled or purged"
                );
                metrics::unconfirmed(reason);
                return Ok(false);
            }
        }
    }
    tracing::warn!("no integration can read Lever: the lifecycle delivery is not acted on");
    metrics::unconfirmed("no_lever_access");
    Ok(false)
}

fn keep_first_error(outcome: &mut Result<(), AppError>, next: Result<(), AppError>) {
    if let (Ok(()), Err(error)) = (&outcome, next) {
        *outcome = Err(error);
    }
}

async fn open_orders(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
) -> Result<Vec<Order>, AppError> {
    Ok(worker
        .orders
        .orders_for_opportunity(tenant.id(), opportunity)
        .await?
        .into_iter()
        .filter(|order| order.phase() != OrderPhase::Closed)
        .collect())
}

/// Cancels one open order: with the vendor where its API can (the order then takes the
/// vendor's canceled status, as a vendor's own callback would show it); where it cannot,
/// the order goes on and a note says to cancel it with the vendor. An intent not yet
/// placed is closed.
async fn cancel(
    worker: &Worker<'_>,
    tenant: &Tenant,
    description: &'static VendorDescription,
    order: Order,
    why: &str,
) -> Result<Order, AppError> {
    let service = description.service;
    let cancelled = match &order.vendor_order_id() {
        None => None,
        Some(vendor_order_id) => {
            let account = worker.vendor_account(tenant, order.vendor())?;
            let api = worker.vendor_api(order.vendor())?;
            Some(api.cancel(&account, vendor_order_id).await?)
        }
    };
    let canceled_status = description
        .statuses
        .iter()
        .find(|s| s.outcome == Outcome::Canceled);
    let (problem, note) = match (cancelled, canceled_status) {
        (None, _) => (
            format!("the candidate was {why} in Lever before it was ordered"),
            Some(format!(
                "{service} was not ordered: the candidate was {why} in Lever before it was placed."
            )),
        ),
        (Some(Cancellation::Cancelled), Some(_)) => (format!("cancelled: candidate {why}"), None),
        // Its own callback shows how it ended; nothing to add.
        (Some(Cancellation::AlreadyEnded), _) => (
            format!("had already ended when the candidate was {why}"),
            None,
        ),
        (Some(Cancellation::Cancelled), None) => (
            format!("cancelled: candidate {why}"),
            Some(format!(
                "{service} cancelled: the candidate was {why} in Lever."
            )),
        ),
        (Some(Cancellation::Unsupported), _) => (
            format!("could not cancel: candidate {why}"),
            Some(format!(
                "The candidate was {why} in Lever, but this {service} could not be cancelled \
                 automatically: {} offers no cancellation through its API. Cancel it with {} \
                 directly if it should not go on.",
                description.name, description.name
            )),
        ),
    };
    metrics::cancelled(
        description.id,
        match cancelled {
            None => "not_placed",
            Some(Cancellation::Cancelled) => "cancelled",
            Some(Cancellation::AlreadyEnded) => "already_ended",
            Some(Cancellation::Unsupported) => "not_cancellable",
        },
    );
    tracing::info!(order = %order.order_id(), vendor = %order.vendor(), %problem, "order ended");
    let modified = modify_order(worker.orders, order.order_id(), |next| {
        if next.phase() == OrderPhase::Closed {
            return false;
        }
        match (&cancelled, canceled_status) {
            (Some(Cancellation::Cancelled), Some(status)) => {
                next.advance(status, VendorResults::default());
                next.note_problem(&problem);
            }
            // Ended at the vendor: its callback (or reconciliation) brings the status.
            (Some(Cancellation::AlreadyEnded), _) => {
                next.note_problem(&problem);
            }
            // Still going on at the vendor: it stays open, its callbacks still apply.
            (Some(Cancellation::Unsupported), _) => {
                next.note_problem(&problem);
                next.add_notice(why, note.clone().unwrap_or_default());
            }
            _ => next.close(&problem, why, note.clone().unwrap_or_default()),
        }
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?;
    Ok(modified.into_order())
}

/// Leaves only what proves the order existed and was purged: its ids (the vendor's order id
/// too, so the vendor's late callbacks are still answered, and ignored), vendor, statuses and
/// times. Results, report links, notes' texts, the candidate's name and the vendor-side ids of
/// intermediate steps (a Sterling candidate) go. A purged order takes no later results in.
fn purge(order: &mut Order) {
    order.purge(now_millis());
}
