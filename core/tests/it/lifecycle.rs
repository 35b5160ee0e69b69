//! A candidate's life in Lever: archiving cancels open orders (or says it could not),
//! deleting cancels and purges, hiring cancels nothing.

use crate::support::{World, ADA, ARCHIVE_TOKEN, BGC, DELETED_TOKEN, GRACE, REFCHECK};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::order::OrderPhase;
use lever_screening::vendors::VendorId;
use serde_json::json;

async fn archive(world: &World, opportunity: &str) {
    let body = world.delivery(
        "candidateArchiveChange",
        ARCHIVE_TOKEN,
        json!({ "opportunityId": opportunity, "toArchived": { "archivedAt": 1, "reason": "r" }, "fromArchived": null }),
    );
    world
        .post(WebhookKind::CandidateArchiveChange, &body)
        .await
        .unwrap();
    world.run_worker().await;
}

#[tokio::test]
async fn archiving_cancels_an_open_reference_check_as_xref_would_show_it() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    archive(&world, ADA).await;
    assert!(world.xref.orders()[0].cancelled);
    let order = &world.orders_of(VendorId::Xref)[0];
    assert_eq!(order.phase, OrderPhase::Closed);
    assert_eq!(order.status.as_deref(), Some("Cancelled"));
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
    assert_eq!(order.phase, OrderPhase::Open, "its callbacks still apply");
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
    let body = world.delivery(
        "candidateDeleted",
        DELETED_TOKEN,
        json!({ "opportunityId": ADA }),
    );
    world
        .post(WebhookKind::CandidateDeleted, &body)
        .await
        .unwrap();
    world.run_worker().await;
    assert!(world.xref.orders()[0].cancelled);
    let order = &world.orders_of(VendorId::Xref)[0];
    assert!(order.purged_at.is_some());
    assert_eq!(order.results.report_url, None, "report links purged");
    assert!(order.steps.is_empty());
    assert_eq!(order.phase, OrderPhase::Closed);
    assert_eq!(
        world.lever.calls().len(),
        calls_before,
        "nothing written to a deleted candidate"
    );
}

#[tokio::test]
async fn a_purge_is_not_undone_by_the_vendors_late_word() {
    let world = World::new().await;
    world.xref.cannot_cancel();
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    let body = world.delivery(
        "candidateDeleted",
        DELETED_TOKEN,
        json!({ "opportunityId": ADA }),
    );
    world
        .post(WebhookKind::CandidateDeleted, &body)
        .await
        .unwrap();
    world.run_worker().await;
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
    assert!(order.purged_at.is_some());
    assert_eq!(
        order.results.report_url, None,
        "the report link is not stored again"
    );
    assert_eq!(
        world.lever.calls().len(),
        calls_before,
        "nothing written to Lever"
    );
}
