//! What a candidate's life in Lever does to its orders, in the worker. Archiving cancels
//! its open orders with vendors whose API can cancel, or notes that it could not;
//! deleting cancels them too and purges what this product stores about the candidate
//! (results, report links, the vendor's candidate id), keeping only what proves the purge. Hiring
//! cancels nothing (it is acknowledged at intake).

use super::lever_sync;
use super::worker::Worker;
use crate::clock::now_millis;
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::OpportunityId;
use crate::order::{Order, OrderPhase, VendorResults};
use crate::store::modify_order;
use crate::telemetry::metrics;
use crate::vendors::{Cancellation, Outcome, VendorDescription};
use std::collections::BTreeMap;
use tracing::instrument;

/// The candidate was archived in Lever. Each open order is handled on its own: one that
/// fails (its vendor down) does not keep the others from being cancelled, and the message's
/// retry finds only what is still open.
#[instrument(skip_all, fields(opportunity = %opportunity))]
pub async fn on_archived(
    worker: &Worker<'_>,
    tenant: &Tenant,
    opportunity: &OpportunityId,
) -> Result<(), AppError> {
    let mut outcome = Ok(());
    for order in open_orders(worker, tenant, opportunity).await? {
        let description = worker.vendor(order.vendor)?.description;
        if !description.archive_cancels {
            continue;
        }
        let ended = async {
            let order = cancel(worker, tenant, description, order, "archived").await?;
            worker
                .with_access(tenant, order.vendor, async {
                    let lever = worker.lever_for(tenant, order.vendor).await?;
                    lever_sync::sync(worker, lever.as_ref(), &order.order_id, None).await
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
    let mut outcome = Ok(());
    for order in open_orders(worker, tenant, opportunity).await? {
        let description = worker.vendor(order.vendor)?.description;
        let cancelled = cancel(worker, tenant, description, order, "deleted").await;
        keep_first_error(&mut outcome, cancelled.map(drop));
    }
    let orders = worker
        .orders
        .orders_for_opportunity(tenant.id(), opportunity)
        .await?;
    let mut purged = 0;
    for order in orders.iter().filter(|o| o.purged_at.is_none()) {
        modify_order(worker.orders, &order.order_id, |next| {
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
        .filter(|order| order.phase != OrderPhase::Closed)
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
    let cancelled = match &order.vendor_order_id {
        None => None,
        Some(vendor_order_id) => {
            let account = worker.vendor_account(tenant, order.vendor)?;
            let api = &worker.vendor(order.vendor)?.api;
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
    tracing::info!(order = %order.order_id, vendor = %order.vendor, %problem, "order ended");
    let modified = modify_order(worker.orders, &order.order_id, |next| {
        if next.phase == OrderPhase::Closed {
            return false;
        }
        match (&cancelled, canceled_status) {
            (Some(Cancellation::Cancelled), Some(status)) => {
                next.advance(status, VendorResults::default());
                next.problem = Some(problem.clone());
            }
            // Ended at the vendor: its callback (or reconciliation) brings the status.
            (Some(Cancellation::AlreadyEnded), _) => {
                next.problem = Some(problem.clone());
            }
            // Still going on at the vendor: it stays open, its callbacks still apply.
            (Some(Cancellation::Unsupported), _) => {
                next.problem = Some(problem.clone());
                next.notices
                    .insert(why.to_owned(), note.clone().unwrap_or_default());
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
/// times. Results, report links, notes' texts and the vendor-side ids of intermediate steps
/// (a Sterling candidate) go. A purged order takes no later results in.
fn purge(order: &mut Order) {
    order.results = VendorResults::default();
    order.steps = BTreeMap::new();
    order.notices = BTreeMap::new();
    order.problem = None;
    order.purged_at = Some(now_millis());
}
