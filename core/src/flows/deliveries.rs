//! The delivery log as a person uses it (the console's Deliveries page, `admin deliveries`,
//! `admin replay`): listing a tenant's deliveries, filtered and paged, and replaying one.
//!
//! A replay queues the delivery's verified work again, so it runs through the same path as
//! the first time: a Lever event is confirmed through Lever's API again and its order is
//! named after what Lever confirms, so a replay can never order twice. A dead-lettered
//! work is moved back from the dead-letter queue instead of copied.

use crate::clock::now_millis;
use crate::delivery_log::{LogEntry, LogFilter, Received, WorkEnd, WorkState};
use crate::error::AppError;
use crate::ids::{DeliveryId, TenantId};
use crate::queue::{Queue, DEAD_LETTERS_READ};
use crate::store::DeliveryLog;
use serde::Serialize;

/// Entries read per store call while filling a page.
const BATCH: usize = 100;
/// Entries read at most for one page, so a filter that matches little cannot read the
/// whole log in one request: the page then ends early with a link to go on.
const SCANNED_PER_PAGE: usize = 2_000;

/// One page of a tenant's delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    /// Newest first.
    pub entries: Vec<LogEntry>,
    /// Where the next (older) page starts; `None` on the last page.
    pub older: Option<DeliveryId>,
}

/// Up to `limit` entries of `tenant`'s log received before `before` that pass `filter`,
/// newest first.
pub async fn list(
    log: &dyn DeliveryLog,
    tenant: &TenantId,
    filter: &LogFilter,
    before: Option<&DeliveryId>,
    limit: usize,
) -> Result<LogPage, AppError> {
    let now = now_millis();
    let limit = limit.clamp(1, BATCH);
    let mut cursor = before.cloned();
    let mut entries = Vec::new();
    let mut scanned = 0;
    loop {
        let batch = log
            .delivery_log(tenant, cursor.as_ref(), BATCH, now)
            .await?;
        let exhausted = batch.len() < BATCH;
        for entry in batch {
            scanned += 1;
            cursor = Some(entry.delivery.id.clone());
            if filter.admits(&entry) {
                entries.push(entry);
                if entries.len() == limit {
                    break;
                }
            }
        }
        if entries.len() == limit || scanned >= SCANNED_PER_PAGE {
            break;
        }
        if exhausted {
            // The end of the log: no older page.
            cursor = None;
            break;
        }
    }
    Ok(LogPage {
        entries,
        older: cursor,
    })
}

/// How a replay was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replayed {
    /// Its dead letter was moved back to the work queue.
    Redriven,
    /// Its work was queued again.
    Queued,
}

/// Runs delivery `id` of `tenant` again: its verified work goes back to the work queue, and
/// its entry says so until the worker's word. A delivery that queued nothing (rejected,
/// ignored, a test) has nothing to run again: 422 with why.
pub async fn replay(
    log: &dyn DeliveryLog,
    queue: &dyn Queue,
    tenant: &TenantId,
    id: &DeliveryId,
    keep_until: crate::clock::EpochMillis,
) -> Result<Replayed, AppError> {
    let entry = log
        .log_entry(tenant, id, now_millis())
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    let Some(work) = &entry.delivery.work else {
        return Err(AppError::Unprocessable(
            match entry.delivery.received {
                Received::Rejected => {
                    "a rejected delivery cannot be replayed: nothing in it was verified"
                }
                _ => "this delivery queued no work: there is nothing to run again",
            }
            .into(),
        ));
    };
    let dead = queue.dead_letters(DEAD_LETTERS_READ).await?;
    let letter = dead.iter().find(|letter| {
        letter
            .work()
            .is_some_and(|dead| dead.delivery() == Some(id) && dead.tenant() == tenant)
    });
    let replayed = match letter {
        Some(letter) if queue.redrive(Some(&letter.message_id)).await? > 0 => Replayed::Redriven,
        _ => {
            queue.send(work).await?;
            Replayed::Queued
        }
    };
    let effects = entry.end.map(|end| end.effects).unwrap_or_default();
    let end = WorkEnd::now(WorkState::Replayed, effects);
    log.log_work_end(tenant, id, &end, keep_until).await?;
    tracing::info!(%tenant, delivery = %id, ?replayed, "delivery replayed");
    Ok(replayed)
}
