//! The worker's handling of failures: growing backoff, dead letters with their last error,
//! dropped work for revoked integrations, and the ambiguous note write.

use crate::support::{World, ADA, BGC, REFCHECK};
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::worker::Outcome;
use lever_screening::lever::{LeverError, NewNote};
use lever_screening::queue::{Consumer, DeadLetters, WorkQueue};
use lever_screening::vendors::{VendorError, VendorId};
use lever_screening::work::Work;
use lever_screening::Settings;
use std::time::Duration;

#[tokio::test]
async fn failing_work_backs_off_then_is_dead_lettered_with_its_last_error() {
    let mut settings = Settings::default();
    settings.work.max_attempts = 3;
    let world = World::with_settings(settings).await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    let mut delays = Vec::new();
    for _ in 0..3 {
        world
            .lever
            .fail_next(LeverError::Unavailable("HTTP 503".into()));
        for outcome in world.run_worker().await {
            if let Outcome::RetryLater(delay) = outcome {
                delays.push(delay);
            }
        }
        world.queue.expire_delays();
    }
    assert_eq!(delays.len(), 2, "retried twice, then dead-lettered");
    assert!(delays[1] > delays[0], "growing gaps: {delays:?}");
    let dead = world.queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("Lever unavailable"));
    assert_eq!(dead[0].attempts, Some(3));
    assert_eq!(world.queue.depth().await.unwrap().dead, 1);
    // Lever was what failed, before any order existed: nothing to note on.
    assert!(world.note_texts(ADA).is_empty());
    assert!(world.queue.depth().await.unwrap().is_idle());
    // Redriven once Lever is back, it orders.
    assert_eq!(world.queue.redrive(None).await.unwrap(), 1);
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1);
}

#[tokio::test]
async fn an_order_dead_lettered_after_a_vendor_outage_is_noted_once_and_a_redrive_places_it() {
    let mut settings = Settings::default();
    settings.work.max_attempts = 3;
    let world = World::with_settings(settings).await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    for _ in 0..3 {
        world
            .xref
            .fail_next(VendorError::Unavailable("HTTP 503".into()));
        world.run_worker().await;
        world.queue.expire_delays();
    }
    assert_eq!(world.queue.dead_letters(10).await.unwrap().len(), 1);
    let notes = world.note_texts(ADA);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("Xref reference check not ordered: ordering it kept failing"),
        "{notes:?}"
    );
    assert_eq!(world.queue.redrive(None).await.unwrap(), 1);
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1, "placed once on the redrive");
    assert_eq!(world.note_texts(ADA).len(), 1, "noted once");
}

#[tokio::test]
async fn work_that_cannot_succeed_is_dead_lettered_at_once() {
    let world = World::new().await;
    world
        .queue
        .send(&Work::ReadVendorOrder {
            tenant: crate::support::tenant_id(),
            vendor: VendorId::Xref,
            vendor_order_id: "v-404".into(),
            delivery: None,
        })
        .await
        .unwrap();
    let outcomes = world.run_worker().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::DeadLetter(_)]),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn work_for_a_revoked_integration_is_dropped_not_retried() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.stage_change(ADA, BGC).await.unwrap();
    world.lever.revoke();
    let outcomes = world.run_worker().await;
    assert_eq!(outcomes, [Outcome::Done, Outcome::Done]);
    let depth = world.queue.depth().await.unwrap();
    assert!(
        depth.is_idle() && depth.dead == 0,
        "nothing kept, nothing dead"
    );
    let config = world
        .app
        .tenants()
        .tenant(&crate::support::tenant_id())
        .await
        .unwrap()
        .config;
    let revoked = |vendor| config.vendors[&vendor].lever_access_revoked.is_some();
    assert!(
        revoked(VendorId::Xref) && revoked(VendorId::Sterling),
        "each its own key, both refused"
    );
    assert!(
        !revoked(VendorId::HrLogics),
        "the tenant-wide key was never tried"
    );
}

#[tokio::test]
async fn a_note_whose_answer_was_lost_is_found_not_posted_twice() {
    let world = World::new().await;
    world.lever.lose_next_note_answers(1);
    world.stage_change(ADA, BGC).await.unwrap();
    let outcomes = world.run_worker().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::RetryLater(_)]),
        "{outcomes:?}"
    );
    assert_eq!(world.note_texts(ADA).len(), 1, "Lever has the note");
    world.queue.expire_delays();
    world.run_worker().await;
    let notes = world.note_texts(ADA);
    assert_eq!(notes.len(), 1, "adopted, not posted again: {notes:?}");
    let order = &world.orders_of(VendorId::Sterling)[0];
    assert!(order.lever_written()["status:New"].note_id.is_some());
    assert!(world.lever.calls().contains(&"GET notes".to_owned()));
}

#[tokio::test]
async fn notes_carry_no_marker_but_a_creation_time_of_their_own() {
    let world = World::new().await;
    let before = now_millis();
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    let notes = world.lever.notes(ADA);
    let [note] = notes.as_slice() else {
        panic!("one note: {notes:?}");
    };
    // Exactly the text Lever's Sterling Backcheck integration writes, nothing after it.
    let date = lever_screening::clock::utc_date(before);
    assert_eq!(
        note.note.value,
        format!(
            "Sterling Backcheck background check\nStatus: New\nReference number: v-1\nDate: {date}"
        )
    );
    let created_at = note.note.created_at.expect("posted with its createdAt");
    assert!(
        created_at <= now_millis() - 1000 && created_at > before - 3000,
        "within the second of its event, never in Lever's future: {created_at} vs {before}"
    );
    let order = &world.orders_of(VendorId::Sterling)[0];
    assert_eq!(
        order.lever_written()["status:New"].created_at,
        Some(created_at)
    );
}

#[tokio::test]
async fn a_note_in_doubt_is_not_mistaken_for_a_note_of_the_same_text_at_another_time() {
    let world = World::new().await;
    world.lever.lose_next_note_answers(1);
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    // The note Lever kept is removed; a note of the same text written at another time
    // (a recruiter's copy) is not the product's note.
    let lost = world.lever.notes(ADA).remove(0);
    world.lever.replace_notes(
        ADA,
        vec![NewNote {
            created_at: lost.note.created_at.map(|t| t - 1),
            ..lost.note.clone()
        }],
    );
    world.queue.expire_delays();
    world.run_worker().await;
    let notes = world.lever.notes(ADA);
    assert_eq!(notes.len(), 2, "posted again: {notes:?}");
    assert_eq!(
        notes[1].note.created_at, lost.note.created_at,
        "at the same time"
    );
}

#[tokio::test]
async fn a_vendor_timeout_with_an_idempotency_key_does_not_order_twice() {
    let world = World::new().await;
    world
        .xref
        .fail_next(VendorError::Ambiguous("timeout".into()));
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    world.queue.expire_delays();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1);
}

#[tokio::test]
async fn two_concurrent_syncs_of_one_order_write_once() {
    let world = World::new().await;
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    let order = world.orders_of(VendorId::Sterling)[0].order_id().clone();
    let before = world.note_texts(ADA).len();
    // A status whose note is not written yet, then two syncs at once.
    lever_screening::store::modify_order(world.store.as_ref(), &order, |next| {
        let status = lever_screening::vendors::sterling::DESCRIPTION
            .status("In Progress")
            .unwrap();
        next.advance(status, Default::default())
    })
    .await
    .unwrap();
    let sync = Work::SyncLever {
        tenant: crate::support::tenant_id(),
        order: order.clone(),
    };
    world.queue.send(&sync).await.unwrap();
    world.queue.send(&sync).await.unwrap();
    let worker = world.app.worker(Deadline::after(Duration::from_secs(30)));
    let messages = world.queue.receive(10, Duration::ZERO).await.unwrap();
    let outcomes = futures::future::join_all(messages.iter().map(|m| worker.process(m))).await;
    assert!(outcomes.contains(&Outcome::Done));
    assert_eq!(
        world.note_texts(ADA).len(),
        before + 1,
        "one In Progress note"
    );
}

#[tokio::test]
async fn the_default_retries_outlast_a_day_long_lever_outage() {
    let work = Settings::default().work;
    assert!(work.retry_span() > Duration::from_secs(24 * 3600));
}
