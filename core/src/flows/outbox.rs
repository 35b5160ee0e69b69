//! Redoing what failed on the way out. `lever-writeback-retry` drains due items on a
//! schedule; the admin command lists items and replays one on demand. Every kind of work
//! is idempotent, so running an item twice is harmless.

use super::{lever_sync, lever_webhook, load_tenant, ordering};
use crate::app::App;
use crate::error::AppError;
use crate::model::{now_millis, EpochMillis, OutboxItem, OutboxWork};
use serde::Serialize;
use std::time::Duration;

/// What one drain did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    pub done: usize,
    pub rescheduled: usize,
    /// Gave up after the attempt limit: kept for a person to fix and replay.
    pub parked: usize,
}

/// A parked item is due never; only an explicit replay runs it.
pub const PARKED: EpochMillis = EpochMillis::MAX;

/// Runs every item due at `now` (at most `limit`).
pub async fn drain(app: &App, now: EpochMillis, limit: usize) -> Result<DrainReport, AppError> {
    let mut report = DrainReport::default();
    for item in app.store.due(now, limit).await? {
        match run_item(app, item).await? {
            ItemResult::Done => report.done += 1,
            ItemResult::Rescheduled => report.rescheduled += 1,
            ItemResult::Parked => report.parked += 1,
        }
    }
    Ok(report)
}

/// Runs one item now, due or parked (the admin "replay").
pub async fn replay(app: &App, id: &str) -> Result<ItemResult, AppError> {
    // The outbox is small by design (only failures land there), so a listing finds it.
    let item = app
        .store
        .list_outbox(10_000)
        .await?
        .into_iter()
        .find(|item| item.id == id)
        .ok_or(AppError::NotFound("outbox item"))?;
    run_item(app, item).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Done,
    Rescheduled,
    Parked,
}

async fn run_item(app: &App, mut item: OutboxItem) -> Result<ItemResult, AppError> {
    match run(app, &item.work).await {
        Ok(()) => {
            app.store.remove(&item.id).await?;
            tracing::info!(tenant = %item.tenant_id, outbox_id = %item.id, "outbox item done");
            Ok(ItemResult::Done)
        }
        // Nothing can be recorded while the store itself is down: stop the drain.
        Err(AppError::Store(e)) => Err(e.into()),
        // No point retrying until the tenant reconnects, which unparks it.
        Err(error) if super::is_disconnected(&error) => {
            item.last_error = Some(error.to_string());
            item.next_attempt_at = PARKED;
            app.store.reschedule(&item).await?;
            tracing::warn!(tenant = %item.tenant_id, outbox_id = %item.id,
                "tenant disconnected from Lever: outbox item parked until it reconnects");
            Ok(ItemResult::Parked)
        }
        Err(error) => {
            item.attempts += 1;
            item.last_error = Some(error.to_string());
            let result = if item.attempts >= app.settings.outbox_max_attempts {
                item.next_attempt_at = PARKED;
                ItemResult::Parked
            } else {
                item.next_attempt_at = now_millis() + backoff(item.attempts).as_millis() as i64;
                ItemResult::Rescheduled
            };
            app.store.reschedule(&item).await?;
            tracing::warn!(tenant = %item.tenant_id, outbox_id = %item.id,
                attempts = item.attempts, parked = (result == ItemResult::Parked),
                error = %error, "outbox item failed again");
            Ok(result)
        }
    }
}

/// Makes the tenant's parked items due now (after it reconnected). Returns how many.
pub async fn unpark_tenant(app: &App, tenant_id: &str) -> Result<usize, AppError> {
    let mut unparked = 0;
    for mut item in app.store.list_outbox(10_000).await? {
        if item.tenant_id == tenant_id && item.next_attempt_at == PARKED {
            item.next_attempt_at = now_millis();
            app.store.reschedule(&item).await?;
            unparked += 1;
        }
    }
    Ok(unparked)
}

/// 1, 2, 4 … minutes, at most 6 hours between attempts.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(60 << attempts.saturating_sub(1).min(9)).min(Duration::from_secs(6 * 3600))
}

async fn run(app: &App, work: &OutboxWork) -> Result<(), AppError> {
    match work {
        OutboxWork::PlaceOrder {
            order_id,
            callback_base,
        } => {
            let Some(order) = app.store.get_order(order_id).await? else {
                return Ok(());
            };
            let tenant = load_tenant(app, &order.tenant_id).await?;
            let lever = app.lever_client(&tenant.config, &tenant.secrets).await?;
            ordering::place(app, &tenant, &lever, order, callback_base).await?;
            Ok(())
        }
        OutboxWork::SyncLever { order_id } => {
            let Some(order) = app.store.get_order(order_id).await? else {
                return Ok(());
            };
            let tenant = load_tenant(app, &order.tenant_id).await?;
            let lever = app.lever_client(&tenant.config, &tenant.secrets).await?;
            lever_sync::sync(app, &lever, order_id, None).await
        }
        OutboxWork::LeverWebhook {
            tenant_id,
            event,
            body,
            callback_base,
        } => {
            // A `Queued` answer means the order intent now exists with its own outbox
            // item: this delivery's part is done either way.
            lever_webhook::replay(app, tenant_id, event, body, callback_base).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_a_minute_and_caps_at_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(2), Duration::from_secs(120));
        assert_eq!(backoff(5), Duration::from_secs(960));
        assert_eq!(backoff(30), Duration::from_secs(6 * 3600));
    }
}
