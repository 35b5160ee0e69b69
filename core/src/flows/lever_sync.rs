//! Shows an order in Lever as its vendor's own Lever integration does: tags, notes, or
//! both, as the adapter's [`LeverWrite`]s describe.
//!
//! Always writes what the order stores now, never what a caller happened to see, and
//! records each write on the order by key and digest: a repeated sync writes nothing, a
//! changed note is updated in place, and a write that succeeded is never made twice even
//! when recording it races another update.

use super::Tenant;
use crate::app::App;
use crate::error::AppError;
use crate::lever::{LeverClient, NewNote};
use crate::model::{Order, OutboxItem, OutboxWork, WrittenToLever};
use crate::store::StoreError;
use crate::vendors::{self, LeverWrite};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the order should show in Lever and is not there yet.
pub fn pending_writes(order: &Order) -> Vec<LeverWrite> {
    let mut view = vendors::adapter(order.vendor).lever_view(order);
    if let Some(problem) = &order.problem {
        view.push(LeverWrite::Note {
            key: "not-ordered".into(),
            text: vendors::adapter(order.vendor).not_ordered_note(problem),
            secret: false,
        });
    }
    view.retain(|write| {
        order
            .lever_written
            .get(write.key())
            .is_none_or(|written| written.digest != digest(write.content()))
    });
    view
}

/// Writes what the order should show in Lever and is not there yet. `known_tags` are the
/// opportunity's tags when the caller has just read them: only tags actually present are
/// then removed, which saves a Lever call on a fresh order.
pub async fn sync(
    app: &App,
    lever: &LeverClient,
    order_id: &str,
    known_tags: Option<&[String]>,
) -> Result<(), AppError> {
    // A callback applied while we write makes more to write: go round again (bounded).
    for _ in 0..3 {
        let Some(order) = app.store.get_order(order_id).await? else {
            return Ok(());
        };
        let pending = pending_writes(&order);
        if pending.is_empty() {
            return Ok(());
        }
        let mut done = BTreeMap::new();
        let mut outcome = Ok(());
        for write in &pending {
            match perform(lever, &order, write, known_tags).await {
                Ok(written) => {
                    done.insert(write.key().to_owned(), written);
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        // Record what was written even if a later write failed, so it is not repeated.
        record(app, order_id, done).await?;
        outcome?;
        tracing::info!(tenant = %order.tenant_id, vendor = %order.vendor,
            order = %order.order_id, writes = pending.len(), "order shown in Lever");
    }
    Ok(())
}

async fn perform(
    lever: &LeverClient,
    order: &Order,
    write: &LeverWrite,
    known_tags: Option<&[String]>,
) -> Result<WrittenToLever, AppError> {
    let opportunity = &order.opportunity_id;
    let note_id = match write {
        LeverWrite::Tag { add, remove } => {
            let remove: Vec<String> = match known_tags {
                Some(present) => remove
                    .iter()
                    .filter(|t| present.contains(t))
                    .cloned()
                    .collect(),
                None => remove.clone(),
            };
            // Remove first: the candidate never shows two statuses of one vendor.
            lever.remove_tags(opportunity, &remove).await?;
            lever
                .add_tags(opportunity, std::slice::from_ref(add))
                .await?;
            None
        }
        LeverWrite::Note { key, text, secret } => {
            let note = NewNote {
                value: text.clone(),
                secret: *secret,
            };
            match order
                .lever_written
                .get(key)
                .and_then(|w| w.note_id.as_deref())
            {
                Some(note_id) => {
                    lever.update_note(opportunity, note_id, &note).await?;
                    Some(note_id.to_owned())
                }
                None => Some(lever.add_note(opportunity, &note).await?),
            }
        }
    };
    Ok(WrittenToLever {
        digest: digest(write.content()),
        note_id,
    })
}

/// Adds `done` to the stored order, re-reading it on a version conflict: these are facts
/// about Lever, true whatever else changed.
async fn record(
    app: &App,
    order_id: &str,
    done: BTreeMap<String, WrittenToLever>,
) -> Result<(), AppError> {
    if done.is_empty() {
        return Ok(());
    }
    for _ in 0..5 {
        let Some(order) = app.store.get_order(order_id).await? else {
            return Ok(());
        };
        let mut next = order.next_version();
        next.lever_written.extend(done.clone());
        match app.store.update_order(&next).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

fn digest(content: &str) -> String {
    hex::encode(&Sha256::digest(content.as_bytes())[..12])
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
