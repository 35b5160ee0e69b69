//! The safety net: what Lever recorded but no webhook delivered is found through Lever's
//! API, worked exactly as its delivery would have been, counted, and never ordered twice.

use crate::support::{tenant_id, World, ADA, CALLBACK_BASE, REFCHECK, SCREEN, STAGE_TOKEN};
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::safety_net;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::lever::LeverApi;
use lever_screening::store::TenantStore;
use lever_screening::tenant::SafetyNetRun;
use lever_screening::vendors::VendorId;
use serde_json::json;
use std::time::Duration;

const MINUTE: i64 = 60_000;

async fn run_at(world: &World, at: i64) -> SafetyNetRun {
    let worker = world.app.worker(Deadline::after(Duration::from_secs(30)));
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    safety_net::run(&worker, &tenant, at).await.unwrap()
}

#[tokio::test]
async fn a_move_no_webhook_delivered_is_ordered_once_and_its_late_webhook_orders_nothing() {
    let world = World::new().await;
    // The account has this deployment's archive webhook; its stage-change webhook is gone.
    let kind = WebhookKind::CandidateArchiveChange;
    let url = format!("{CALLBACK_BASE}/lever/{}/{}", tenant_id(), kind.path());
    world
        .lever
        .create_webhook(kind.event_name(), &url)
        .await
        .unwrap();
    let start = now_millis();
    assert_eq!(
        run_at(&world, start).await.found(),
        0,
        "the first run sets the cursor"
    );

    // A recruiter moves Ada; no delivery comes.
    world.lever.move_to(ADA, REFCHECK, start);
    let run = run_at(&world, start + 6 * MINUTE).await;
    assert_eq!((run.stage_entries, run.archives), (1, 0));
    world.run_worker().await;
    let placed = world.xref.orders();
    assert_eq!(placed.len(), 1, "ordered through the safety net");
    assert_eq!(
        placed[0].callback_url,
        "https://screening.example/callbacks/xref/acme"
    );
    assert_eq!(world.lever.tags(ADA), ["Xref - Candidate submitted"]);

    // The webhook comes back and Lever's delivery of that move arrives late.
    let entered_at = world.lever.stage_entries(ADA).last().copied().unwrap();
    let late = world.delivery_at(
        "candidateStageChange",
        STAGE_TOKEN,
        json!({ "opportunityId": ADA, "toStageId": REFCHECK, "fromStageId": SCREEN }),
        entered_at,
    );
    world
        .post(WebhookKind::CandidateStageChange, &late)
        .await
        .unwrap();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1, "no second order for one move");
    assert_eq!(world.orders_of(VendorId::Xref).len(), 1);

    // The next run finds nothing: the move is handled.
    assert_eq!(run_at(&world, start + 12 * MINUTE).await.found(), 0);

    // Ada is archived; that delivery is lost too.
    world.lever.archive(ADA);
    let run = run_at(&world, start + 20 * MINUTE).await;
    assert_eq!((run.stage_entries, run.archives), (0, 1));
    world.run_worker().await;
    assert!(
        world.xref.orders()[0].cancelled,
        "cancelled as the archive would"
    );
    assert_eq!(world.lever.tags(ADA), ["Xref - Cancelled"]);
    let stored = world
        .store
        .as_ref()
        .safety_net(&tenant_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.archives, 1, "the last run is kept for the admin");
}

#[tokio::test]
async fn a_move_its_webhook_delivered_is_not_found_again() {
    let world = World::new().await;
    let start = now_millis();
    run_at(&world, start).await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let run = run_at(&world, start + 6 * MINUTE).await;
    assert_eq!(run.found(), 0);
    assert!(world.queue.pending().is_empty(), "nothing queued");
    assert_eq!(world.xref.orders().len(), 1);
}
