//! Shows an order in Lever as its vendor's own Lever integration does (its
//! [`lever_view()`]): tags, notes, or both.
//!
//! Always writes what the order stores now, never what a caller happened to see, and
//! records each write on the order by key and digest: a repeated sync writes nothing, a
//! changed note is updated in place, and a write that succeeded is never made twice. One
//! sync per order at a time (a short lease), so two concurrent syncs cannot both post a
//! note. A note POST is never re-sent blindly: before it is sent, the note is marked in
//! doubt with the creation time it is posted with ([`note_time`]) and its text's
//! digest; a note in doubt is first looked for among the opportunity's notes, by that
//! time and text, and adopted if it is there. Notes carry no marker a recruiter would see.

use super::context::Worker;
use crate::clock::{now_millis, EpochMillis};
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId};
use crate::lever::{LeverApi, NewNote, Note};
use crate::order::{Order, WrittenToLever};
use crate::store::modify_order;
use crate::vendors::{lever_view, LeverWrite, NoteWrite, VendorDescription};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long one sync holds an order: longer than a sync's calls can take in one invocation.
const LEASE: Duration = Duration::from_secs(120);
/// Rounds of "write, then look again" when callbacks keep arriving during a sync.
const ROUNDS: usize = 3;

/// What the order should show in Lever and is not there yet. Nothing once the candidate
/// was deleted in Lever and the order purged: there is no one to show it to.
pub fn pending_writes(description: &VendorDescription, order: &Order) -> Vec<LeverWrite> {
    if order.purged_at().is_some() {
        return Vec::new();
    }
    let mut view = lever_view(description, order);
    view.retain(|write| {
        order
            .lever_written()
            .get(write.key())
            .is_none_or(|written| written.digest != digest(write.content()))
    });
    view
}

/// Whether [`pending_writes`] has anything to write.
pub fn has_pending(description: &VendorDescription, order: &Order) -> bool {
    !pending_writes(description, order).is_empty()
}

/// Lever refuses a note created in the future: a note's time stays this far behind our
/// clock, in case Lever's runs a little behind.
const CLOCK_MARGIN_MS: EpochMillis = 1000;

/// The `createdAt` a note of `order` is posted with: the last instant, at or before its
/// event (`event`, the order's last change, kept `CLOCK_MARGIN_MS` in the past), whose
/// millisecond is the note's own, derived from the order and the note's key. So the
/// notes of one event get distinct times within the second of it, and a note whose POST's
/// answer was lost is recognised among the opportunity's notes by its time and text.
pub fn note_created_at(order: &OrderId, key: &str, event: EpochMillis) -> EpochMillis {
    let digest = Sha256::digest(format!("{order}:{key}").as_bytes());
    let own = EpochMillis::from(u16::from_be_bytes([digest[0], digest[1]]) % 1000);
    let at = event.min(now_millis() - CLOCK_MARGIN_MS);
    at - (at - own).rem_euclid(1000)
}

/// [`note_created_at`], moved a millisecond earlier while it is one of `taken` (the times
/// of the order's other notes): two keys whose own milliseconds collide (one pair in a
/// thousand), written in the same second, would otherwise show two notes at one instant,
/// and the order of its notes in Lever would be left to chance.
pub fn note_time(
    order: &OrderId,
    key: &str,
    event: EpochMillis,
    taken: &BTreeSet<EpochMillis>,
) -> EpochMillis {
    let mut at = note_created_at(order, key, event);
    while taken.contains(&at) {
        at -= 1;
    }
    at
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
        let description = worker.vendor(order.vendor())?.description;
        let pending = pending_writes(description, &order);
        if pending.is_empty() {
            return Ok(());
        }
        // Marked in the store before any POST, in case this invocation dies mid-way; the
        // writes below go by the order as read, in which only an earlier attempt's notes
        // are in doubt (a first POST needs no look for itself first).
        let created = mark_new_notes_in_doubt(worker, &order, &pending).await?;
        let mut notes: Option<Vec<Note>> = None;
        let mut done = BTreeMap::new();
        let mut outcome = Ok(());
        for write in &pending {
            let created_at = created.get(write.key()).copied();
            match perform(lever, &order, write, created_at, known_tags, &mut notes).await {
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

/// Records, before any POST, that the notes among `pending` not yet in Lever may soon
/// be: in doubt, with the creation time each is posted with (chosen once) and the digest
/// of each text posted. Returns every such note's creation time, by key.
async fn mark_new_notes_in_doubt(
    worker: &Worker<'_>,
    order: &Order,
    pending: &[LeverWrite],
) -> Result<BTreeMap<String, EpochMillis>, AppError> {
    let unposted: Vec<(&NoteWrite, String)> = pending
        .iter()
        .filter_map(|write| match write {
            LeverWrite::Note(note) => Some((note, digest(&note.text))),
            LeverWrite::Tag { .. } | LeverWrite::Untag { .. } => None,
        })
        .filter(|(note, _)| {
            order
                .lever_written()
                .get(&note.key)
                .is_none_or(|w| w.note_id.is_none())
        })
        .collect();
    let noted = |order: &Order| -> BTreeMap<String, EpochMillis> {
        unposted
            .iter()
            .filter_map(|(note, _)| {
                let written = order.lever_written().get(&note.key)?;
                Some((note.key.clone(), written.created_at?))
            })
            .collect()
    };
    let up_to_date = unposted.iter().all(|(note, sent)| {
        order
            .lever_written()
            .get(&note.key)
            .is_some_and(|w| w.in_doubt && w.created_at.is_some() && w.sent.contains(sent))
    });
    if up_to_date {
        return Ok(noted(order));
    }
    let event = order.updated_at();
    let marked = modify_order(worker.orders, order.order_id(), |next| {
        for (note, sent) in &unposted {
            // The times the order's other notes were posted with: no two may share one.
            let taken: BTreeSet<EpochMillis> = next
                .lever_written()
                .iter()
                .filter(|(key, _)| **key != note.key)
                .filter_map(|(_, written)| written.created_at)
                .collect();
            let entry = next.written_to_lever(&note.key);
            entry.in_doubt = true;
            entry.created_at = entry
                .created_at
                .or_else(|| Some(note_time(order.order_id(), &note.key, event, &taken)));
            if !entry.sent.contains(sent) {
                entry.sent.push(sent.clone());
            }
        }
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?;
    Ok(noted(marked.order()))
}

async fn perform(
    lever: &dyn LeverApi,
    order: &Order,
    write: &LeverWrite,
    created_at: Option<EpochMillis>,
    known_tags: Option<&[String]>,
    notes: &mut Option<Vec<Note>>,
) -> Result<WrittenToLever, AppError> {
    let opportunity = &order.opportunity_id();
    let note_id = match write {
        LeverWrite::Tag { add, remove } => {
            // Remove first: the candidate never shows two statuses of one vendor.
            lever
                .remove_tags(opportunity, &present(remove, known_tags))
                .await?;
            lever
                .add_tags(opportunity, std::slice::from_ref(add))
                .await?;
            None
        }
        LeverWrite::Untag { remove } => {
            lever
                .remove_tags(opportunity, &present(remove, known_tags))
                .await?;
            None
        }
        LeverWrite::Note(note) => Some(write_note(lever, order, note, created_at, notes).await?),
    };
    Ok(WrittenToLever {
        digest: digest(write.content()),
        note_id,
        created_at,
        ..WrittenToLever::default()
    })
}

/// The tags of `remove` the opportunity has, when its tags are known; else all of them.
fn present(remove: &[String], known_tags: Option<&[String]>) -> Vec<String> {
    match known_tags {
        Some(present) => remove
            .iter()
            .filter(|t| present.contains(t))
            .cloned()
            .collect(),
        None => remove.to_vec(),
    }
}

/// Adds or updates one note; a note in doubt is first looked for among the opportunity's
/// notes (read once per sync).
async fn write_note(
    lever: &dyn LeverApi,
    order: &Order,
    note: &NoteWrite,
    created_at: Option<EpochMillis>,
    notes: &mut Option<Vec<Note>>,
) -> Result<String, AppError> {
    let opportunity = &order.opportunity_id();
    let mut body = NewNote {
        value: note.text.clone(),
        secret: note.secret,
        notify_followers: note.notify_followers,
        created_at: None,
    };
    let written = order.lever_written().get(&note.key);
    let mut existing = written.and_then(|w| w.note_id.clone());
    if let Some(written) = written.filter(|w| existing.is_none() && w.in_doubt) {
        existing = find_posted(lever, opportunity, written, &note.text, notes).await?;
    }
    match existing {
        Some(note_id) => {
            lever.update_note(opportunity, &note_id, &body).await?;
            Ok(note_id)
        }
        // An ambiguous failure leaves the note in doubt: the retry looks before posting.
        None => {
            body.created_at = created_at;
            Ok(lever.add_note(opportunity, &body).await?)
        }
    }
}

/// The note an earlier POST whose answer was lost created, if Lever has it: the one with
/// the creation time it was posted with and one of the texts posted for it (or `text`).
/// A note in doubt without a recorded time cannot be recognised: it is posted again,
/// which shows it twice at worst.
async fn find_posted(
    lever: &dyn LeverApi,
    opportunity: &OpportunityId,
    written: &WrittenToLever,
    text: &str,
    notes: &mut Option<Vec<Note>>,
) -> Result<Option<String>, AppError> {
    let Some(created_at) = written.created_at else {
        return Ok(None);
    };
    if notes.is_none() {
        *notes = Some(lever.notes(opportunity).await?);
    }
    let current = digest(text);
    Ok(notes
        .iter()
        .flatten()
        .find(|n| {
            n.created_at == Some(created_at)
                && n.text().is_some_and(|posted| {
                    let posted = digest(posted);
                    posted == current || written.sent.contains(&posted)
                })
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
        next.record_lever_writes(done.clone());
        true
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_notes_of_one_order_never_share_a_creation_time() {
        let order = OrderId::parse("ord-1").unwrap();
        let event = 1_700_000_000_500;
        let services = note_created_at(&order, "services", event);
        // A key whose own millisecond collides with the services note's.
        let colliding = (0..100_000)
            .map(|n| format!("status:{n}"))
            .find(|key| note_created_at(&order, key, event) == services)
            .expect("a colliding key among 100,000");
        let taken = BTreeSet::from([services]);
        let at = note_time(&order, &colliding, event, &taken);
        assert_ne!(at, services);
        assert!(at < services && services - at < 1000, "{at} vs {services}");
        assert_eq!(
            note_time(&order, "services", event, &BTreeSet::new()),
            services,
            "without a collision, the note's own time"
        );
    }
}
