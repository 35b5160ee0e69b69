//! A candidate's life in Lever: archiving cancels open orders (or says it could not),
//! deleting cancels and purges, hiring cancels nothing.

use crate::support::{World, ADA, ARCHIVE_TOKEN, BGC, DELETED_TOKEN, GRACE, REFCHECK};
use lever_screening::clock::now_millis;
use lever_screening::flows::worker::Outcome;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::order::OrderPhase;
use lever_screening::vendors::VendorId;
use serde_json::{json, Value};

/// A recruiter archives the candidate in Lever, and Lever delivers the change.
async fn archive(world: &World, opportunity: &str) {
    world.lever.archive(opportunity);
    deliver_archive(world, &archive_delivery(world, opportunity)).await;
}

/// A signed `candidateArchiveChange` saying `opportunity` was archived now.
fn archive_delivery(world: &World, opportunity: &str) -> Value {
    world.delivery(
        "candidateArchiveChange",
        ARCHIVE_TOKEN,
        json!({ "opportunityId": opportunity, "toArchived": { "archivedAt": now_millis(), "reason": "r" }, "fromArchived": null }),
    )
}

async fn deliver_archive(world: &World, body: &Value) {
    world
        .post(WebhookKind::CandidateArchiveChange, body)
        .await
        .unwrap();
    world.run_worker().await;
}

/// Lever delivers `candidateDeleted` for `opportunity` (deleted or not).
async fn deliver_deleted(world: &World, opportunity: &str) {
    let body = world.delivery(
        "candidateDeleted",
        DELETED_TOKEN,
        json!({ "opportunityId": opportunity }),
    );
    world
        .post(WebhookKind::CandidateDeleted, &body)
        .await
        .unwrap();
    assert_eq!(world.run_worker().await, [Outcome::Done], "acknowledged");
}

/// Ada with an open Xref reference check, as Lever shows it.
async fn ada_with_an_open_reference_check() -> World {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.lever.tags(ADA), ["Xref - Candidate submitted"]);
    world
}

fn assert_still_open(world: &World) {
    assert!(!world.xref.orders()[0].cancelled, "not cancelled at Xref");
    let order = &world.orders_of(VendorId::Xref)[0];
    assert_eq!(order.phase(), OrderPhase::Open);
    assert!(order.purged_at().is_none(), "not purged");
    assert_eq!(world.lever.tags(ADA), ["Xref - Candidate submitted"]);
}

#[tokio::test]
async fn an_archive_lever_does_not_confirm_cancels_nothing() {
    let world = ada_with_an_open_reference_check().await;
    // Validly signed, but Ada is not archived in Lever (`data` is not signed).
    deliver_archive(&world, &archive_delivery(&world, ADA)).await;
    assert_still_open(&world);
}

#[tokio::test]
async fn a_late_archive_after_an_unarchive_cancels_nothing() {
    let world = ada_with_an_open_reference_check().await;
    world.lever.archive(ADA);
    let archived = archive_delivery(&world, ADA);
    // Restored before the archive's delivery got through (Lever's retry, a backlog).
    world.lever.unarchive(ADA);
    let restored = world.delivery(
        "candidateArchiveChange",
        ARCHIVE_TOKEN,
        json!({ "opportunityId": ADA, "toArchived": null, "fromArchived": { "archivedAt": now_millis(), "reason": "r" } }),
    );
    deliver_archive(&world, &restored).await;
    deliver_archive(&world, &archived).await;
    assert_still_open(&world);
}

#[tokio::test]
async fn an_archive_of_another_time_cancels_nothing() {
    let world = ada_with_an_open_reference_check().await;
    world.lever.archive(ADA);
    // Stamped an hour before Lever's `archivedAt`: not this archive.
    let stale = world.delivery_at(
        "candidateArchiveChange",
        ARCHIVE_TOKEN,
        json!({ "opportunityId": ADA, "toArchived": { "archivedAt": 1, "reason": "r" } }),
        now_millis() - 3_600_000,
    );
    deliver_archive(&world, &stale).await;
    assert_still_open(&world);
}

#[tokio::test]
async fn a_delete_lever_does_not_confirm_cancels_and_purges_nothing() {
    let world = ada_with_an_open_reference_check().await;
    // Ada is still in Lever.
    deliver_deleted(&world, ADA).await;
    assert_still_open(&world);
    let id = world.xref.orders()[0].id.clone();
    // Later callbacks still reach Lever.
    world
        .callback(
            VendorId::Xref,
            json!({ "id": id, "status": "Completed", "report_url": "https://xref.example/r/1" }),
        )
        .await
        .unwrap();
    world.run_worker().await;
    assert_eq!(world.lever.tags(ADA), ["Xref - Completed"]);
}

#[tokio::test]
async fn archiving_cancels_an_open_reference_check_as_xref_would_show_it() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    archive(&world, ADA).await;
    assert!(world.xref.orders()[0].cancelled);
    let order = &world.orders_of(VendorId::Xref)[0];
    assert_eq!(order.phase(), OrderPhase::Closed);
    assert_eq!(order.status(), Some("Cancelled"));
    assert_eq!(world.lever.tags(ADA), ["Xref - Cancelled"]);
}

#[tokio::test]
async fn a_vendor_that_cannot_cancel_leaves_a_note_and_the_order_goes_on() {
    let world = World::new().await;
    world.sterling.cannot_cancel();
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    archive(&world, ADA).await;
    let order = &world.orders_of(VendorId::Sterling)[0];
    assert_eq!(order.phase(), OrderPhase::Open, "its callbacks still apply");
    let notes = world.note_texts(ADA);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("could not be cancelled automatically")
                && n.contains("Cancel it with Sterling Backcheck")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn archiving_a_candidate_without_orders_does_nothing() {
    let world = World::new().await;
    archive(&world, GRACE).await;
    assert!(world.orders().is_empty());
    assert!(world.lever.calls().is_empty());
}

#[tokio::test]
async fn deleting_cancels_and_purges_what_is_stored_about_the_candidate() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    world
        .callback(VendorId::Xref, json!({ "id": id, "status": "Referees nominated", "report_url": "https://xref.example/r/1" }))
        .await
        .unwrap();
    world.run_worker().await;
    let calls_before = world.lever.calls().len();
    world.lever.delete(ADA);
    deliver_deleted(&world, ADA).await;
    assert!(world.xref.orders()[0].cancelled);
    let order = &world.orders_of(VendorId::Xref)[0];
    assert!(order.purged_at().is_some());
    assert_eq!(order.results().report_url, None, "report links purged");
    assert!(order.steps().is_empty());
    assert_eq!(order.phase(), OrderPhase::Closed);
    assert_eq!(
        world.lever.calls()[calls_before..],
        ["GET opportunity"],
        "confirmed (404), nothing written to a deleted candidate"
    );
}

#[tokio::test]
async fn a_purge_is_not_undone_by_the_vendors_late_word() {
    let world = World::new().await;
    world.xref.cannot_cancel();
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    world.lever.delete(ADA);
    deliver_deleted(&world, ADA).await;
    let calls_before = world.lever.calls().len();
    // The check went on (it could not be cancelled) and completes with a report.
    world
        .callback(
            VendorId::Xref,
            json!({ "id": id, "status": "Completed", "report_url": "https://xref.example/r/1" }),
        )
        .await
        .unwrap();
    world.run_worker().await;
    let order = &world.orders_of(VendorId::Xref)[0];
    assert!(order.purged_at().is_some());
    assert_eq!(
        order.results().report_url,
        None,
        "the report link is not stored again"
    );
    assert_eq!(
        world.lever.calls().len(),
        calls_before,
        "nothing written to Lever"
    );
}
