//! Shows an order's status in Lever, as its vendor's own Lever integration does.
//!
//! Always writes the status currently stored, never the one a caller happened to see, and
//! marks it synced with an optimistic update: two callbacks racing each other end with
//! Lever showing the later status.

use super::Tenant;
use crate::app::App;
use crate::error::AppError;
use crate::lever::LeverClient;
use crate::model::{OutboxItem, OutboxWork};
use crate::store::StoreError;
use crate::vendors::{self, LeverView};

/// Writes the order's current status to Lever if it is not there yet. `known_tags` are the
/// opportunity's tags when the caller has just read them: only tags actually present are
/// then removed, which saves a Lever call on a fresh order.
pub async fn sync(
    app: &App,
    lever: &LeverClient,
    order_id: &str,
    known_tags: Option<&[String]>,
) -> Result<(), AppError> {
    for _ in 0..3 {
        let Some(order) = app.store.get_order(order_id).await? else {
            return Ok(());
        };
        let Some(status) = order.status.clone().filter(|_| order.needs_lever_sync()) else {
            return Ok(());
        };
        match vendors::adapter(order.vendor).lever_view(&status) {
            LeverView::Tag { add, remove } => {
                let remove: Vec<String> = match known_tags {
                    Some(present) => remove.into_iter().filter(|t| present.contains(t)).collect(),
                    None => remove,
                };
                // Remove first: the candidate never shows two statuses of one vendor.
                if !remove.is_empty() {
                    lever.remove_tags(&order.opportunity_id, &remove).await?;
                }
                lever.add_tags(&order.opportunity_id, &[add]).await?;
            }
        }
        let mut synced = order.next_version();
        synced.lever_synced_status = Some(status);
        match app.store.update_order(&synced).await {
            Ok(()) => {
                tracing::info!(tenant = %synced.tenant_id, vendor = %synced.vendor,
                    order = %synced.order_id, "status shown in Lever");
                return Ok(());
            }
            // The status moved on while we wrote: write the newer one.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// [`sync`], keeping the work in the outbox when Lever cannot take it now. Only a store
/// failure (nothing could be kept) is returned.
pub async fn sync_or_keep(
    app: &App,
    tenant: &Tenant,
    lever: &LeverClient,
    order_id: &str,
    known_tags: Option<&[String]>,
) -> Result<(), AppError> {
    match sync(app, lever, order_id, known_tags).await {
        Ok(()) => Ok(()),
        Err(AppError::Store(e)) => Err(e.into()),
        Err(error) => {
            let work = OutboxWork::SyncLever {
                order_id: order_id.to_owned(),
            };
            let item = OutboxItem::new(tenant.id(), work, error.to_string());
            app.store.enqueue(&item).await?;
            tracing::warn!(tenant = tenant.id(), order = order_id, outbox_id = %item.id,
                error = %error, "Lever write kept for retry");
            Ok(())
        }
    }
}
