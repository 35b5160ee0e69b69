//! The scheduled reconciliation: an order still open whose vendor has said nothing for a
//! while (its callbacks stopped, or were lost) is re-read from the vendor's API by the
//! worker, which applies what it finds.

use crate::clock::{millis, EpochMillis};
use crate::config::Settings;
use crate::error::AppError;
use crate::order::OrderPhase;
use crate::queue::WorkQueue;
use crate::store::OrderStore;
use crate::telemetry::metrics;
use crate::work::Work;
use serde::Serialize;

/// Most orders queued for a re-read per run; the next run takes the rest.
const BATCH: usize = 500;

/// What one run did (the scheduled function's answer, and its metrics).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Orders queued for a re-read from their vendor.
    pub queued: usize,
    /// Intents never placed (their work is being retried or was dead-lettered).
    pub unplaced: usize,
}

/// Queues a re-read of every order quiet since `now - reconcile_quiet_after`.
pub async fn run(
    orders: &dyn OrderStore,
    queue: &dyn WorkQueue,
    settings: &Settings,
    now: EpochMillis,
) -> Result<ReconcileReport, AppError> {
    let quiet_since = now - millis(settings.reconcile_quiet_after);
    let mut report = ReconcileReport::default();
    for order in orders.quiet_open_orders(quiet_since, BATCH).await? {
        match (order.vendor_order_id(), order.phase()) {
            (Some(vendor_order_id), OrderPhase::Open) => {
                queue
                    .send(&Work::ReadVendorOrder {
                        tenant: order.tenant_id().clone(),
                        vendor: order.vendor(),
                        vendor_order_id: vendor_order_id.to_owned(),
                        delivery: None,
                    })
                    .await?;
                report.queued += 1;
            }
            _ => report.unplaced += 1,
        }
    }
    metrics::reconciled(report.queued, report.unplaced);
    tracing::info!(
        queued = report.queued,
        unplaced = report.unplaced,
        "reconciliation queued"
    );
    Ok(report)
}
