//! Shows an order in Lever as its vendor's own Lever integration does (its
//! [`lever_view()`]): tags, notes, or both.
//!
//! Always writes what the order stores now, never what a caller happened to see, and
//! records each write on the order by key and digest: a repeated sync writes nothing, a
//! changed note is updated in place, and a write that succeeded is never made twice. One
//! sync per order at a time (a short lease), so two concurrent syncs cannot both post a
//! note. A note POST is never re-sent blindly: it is marked in doubt before it is sent, and
//! a note in doubt is first looked for among the opportunity's notes (each note carries a
//! marker) and adopted if it is there.

use super::worker::Worker;
use crate::clock::now_millis;
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId};
use crate::lever::{LeverApi, NewNote, Note};
use crate::order::{Order, WrittenToLever};
use crate::store::modify_order;
use crate::vendors::{lever_view, LeverWrite, NoteWrite, VendorDescription};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one sync holds an order: longer than a sync's calls can take in one invocation.
const LEASE: Duration = Duration::from_secs(120);
/// Rounds of "write, then look again" when callbacks keep arriving during a sync.
const ROUNDS: usize = 3;

/// What the order should show in Lever and is not there yet. Nothing once the candidate
/// was deleted in Lever and the order purged: there is no one to show it to.
pub fn pending_writes(description: &VendorDescription, order: &Order) -> Vec<LeverWrite> {
    if order.purged_at.is_some() {
        return Vec::new();
    }
    let mut view = lever_view(description, order);
    view.retain(|write| {
        order
            .lever_written
            .get(write.key())
            .is_none_or(|written| written.digest != digest(write.content()))
    });
    view
}

/// Whether [`pending_writes`] has anything to write.
pub fn has_pending(description: &VendorDescription, order: &Order) -> bool {
    !pending_writes(description, order).is_empty()
}

/// The marker that ends every note this product writes: recognises a note whose POST's
/// outcome was unknown among the opportunity's notes.
pub fn marker(order: &OrderId, key: &str) -> String {
    let digest = Sha256::digest(format!("{order}:{key}").as_bytes());
    format!("[ls:{}]", hex::encode(&digest[..6]))
}

fn digest(content: &str) -> String {
    hex::encode(&Sha256::digest(content.as_bytes())[..12])
}

/// Writes what the order should show in Lever and is not there yet. `known_tags` are the
/// opportunity's tags when the caller has just read them: only tags actually present are
/// then removed, which saves a Lever call on a fresh order.
pub async fn sync(
    worker: &Worker<'_>,
    lever: &dyn LeverApi,
    order_id: &OrderId,
    known_tags: Option<&[String]>,
) -> Result<(), AppError> {
    let lease = format!("lever-write:{order_id}");
    let holder = uuid::Uuid::new_v4().to_string();
    let now = now_millis();
    let until = now + crate::clock::millis(LEASE);
    if !worker.claims.claim(&lease, &holder, now, until).await? {
        // Another sync of this order is writing: it (or this message's retry) finishes.
        return Err(AppError::InProgress);
    }
    let outcome = write_pending(worker, lever, order_id, known_tags).await;
    // Release whatever happened; a lease left by a crash expires on its own.
    let _ = worker.claims.release(&lease, &holder).await;
    outcome
}

async fn write_pending(
    worker: &Worker<'_>,
    lever: &dyn LeverApi,
    order_id: &OrderId,
    known_tags: Option<&[String]>,
) -> Result<(), AppError> {
    // The caller's tags describe the opportunity before this sync: after its first round
    // wrote a tag, they no longer do, and a tag they lack would never be removed.
    let mut known_tags = known_tags;
    for _ in 0..ROUNDS {
        let Some(order) = worker.orders.get_order(order_id).await? else {
            return Ok(());
        };
        let description = worker.vendor(order.vendor)?.description;
        let pending = pending_writes(description, &order);
        if pending.is_empty() {
            return Ok(());
        }
        // Marked in the store before any POST, in case this invocation dies mid-way; the
        // writes below go by the order as read, in which only an earlier attempt's notes
        // are in doubt (a first POST needs no look for itself first).
        mark_new_notes_in_doubt(worker, &order, &pending).await?;
        let mut notes: Option<Vec<Note>> = None;
        let mut done = BTreeMap::new();
        let mut outcome = Ok(());
        for write in &pending {
            match perform(lever, &order, write, known_tags, &mut notes).await {
                Ok(written) => {
                    done.insert(write.key().to_owned(), written);
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        known_tags = None;
        // Record what was written even if a later write failed, so it is not repeated.
        record(worker, order_id, done).await?;
        outcome?;
        tracing::info!(order = %order_id, writes = pending.len(), "order shown in Lever");
    }
    Ok(())
}

/// Records, before any POST, that the new notes among `pending` may soon exist in Lever.
async fn mark_new_notes_in_doubt(
    worker: &Worker<'_>,
    order: &Order,
    pending: &[LeverWrite],
) -> Result<(), AppError> {
    let new_notes: Vec<&NoteWrite> = pending
        .iter()
        .filter_map(|write| match write {
            LeverWrite::Note(note)
                if order
                    .lever_written
                    .get(&note.key)
                    .is_none_or(|w| w.note_id.is_none() && !w.in_doubt) =>
            {
                Some(note)
            }
            _ => None,
        })
        .collect();
    if new_notes.is_empty() {
        return Ok(());
    }
    modify_order(worker.orders, &order.order_id, |next| {
        for note in &new_notes {
            let entry = next
                .lever_written
                .entry(note.key.clone())
                .or_insert_with(|| WrittenToLever {
                    digest: String::new(),
                    note_id: None,
                    in_doubt: false,
                });
            entry.in_doubt = true;
        }
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?;
    Ok(())
}

async fn perform(
    lever: &dyn LeverApi,
    order: &Order,
    write: &LeverWrite,
    known_tags: Option<&[String]>,
    notes: &mut Option<Vec<Note>>,
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
        LeverWrite::Note(note) => Some(write_note(lever, order, note, notes).await?),
    };
    Ok(WrittenToLever {
        digest: digest(write.content()),
        note_id,
        in_doubt: false,
    })
}

/// Adds or updates one note; a note in doubt is first looked for (by its marker) among the
/// opportunity's notes, read once per sync.
async fn write_note(
    lever: &dyn LeverApi,
    order: &Order,
    note: &NoteWrite,
    notes: &mut Option<Vec<Note>>,
) -> Result<String, AppError> {
    let opportunity = &order.opportunity_id;
    let marker = marker(&order.order_id, &note.key);
    let body = NewNote {
        value: format!("{}\n{marker}", note.text),
        secret: note.secret,
        notify_followers: note.notify_followers,
    };
    let written = order.lever_written.get(&note.key);
    let mut existing = written.and_then(|w| w.note_id.clone());
    if existing.is_none() && written.is_some_and(|w| w.in_doubt) {
        existing = find_marked(lever, opportunity, &marker, notes).await?;
    }
    match existing {
        Some(note_id) => {
            lever.update_note(opportunity, &note_id, &body).await?;
            Ok(note_id)
        }
        // An ambiguous failure leaves the note in doubt: the retry looks before posting.
        None => Ok(lever.add_note(opportunity, &body).await?),
    }
}

async fn find_marked(
    lever: &dyn LeverApi,
    opportunity: &OpportunityId,
    marker: &str,
    notes: &mut Option<Vec<Note>>,
) -> Result<Option<String>, AppError> {
    if notes.is_none() {
        *notes = Some(lever.notes(opportunity).await?);
    }
    Ok(notes
        .iter()
        .flatten()
        .find(|n| {
            n.text()
                .is_some_and(|text| text.trim_end().ends_with(marker))
        })
        .map(|n| n.id.clone()))
}

/// Adds `done` to the stored order: facts about Lever, true whatever else changed.
async fn record(
    worker: &Worker<'_>,
    order_id: &OrderId,
    done: BTreeMap<String, WrittenToLever>,
) -> Result<(), AppError> {
    if done.is_empty() {
        return Ok(());
    }
    modify_order(worker.orders, order_id, |next| {
        next.lever_written.extend(done.clone());
        true
    })
    .await?;
    Ok(())
}
