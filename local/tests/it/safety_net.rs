//! The safety net end to end, through the Lever simulator's `GET /opportunities`: a move
//! whose webhook was deleted is ordered once by the safety net, and the late webhook of
//! that move orders nothing more.

use crate::support::{start, tenant, SUBMITTED};
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::safety_net;
use lever_screening::tenant::SafetyNetRun;
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::SimError;
use std::time::Duration;

const MINUTE: i64 = 60_000;

async fn safety_net_at(h: &crate::support::Harness, at: i64) -> SafetyNetRun {
    let app = &h.stack.app;
    let worker = app.worker(Deadline::after(Duration::from_secs(60)));
    let tenant = app.tenants().tenant(&tenant(demo::TENANT)).await.unwrap();
    safety_net::run(&worker, &tenant, at).await.unwrap()
}

#[tokio::test]
async fn a_move_whose_webhook_was_deleted_is_ordered_once_by_the_safety_net() {
    let h = start().await;
    let start = now_millis();
    assert_eq!(safety_net_at(&h, start).await.found(), 0, "sets the cursor");

    // An admin deletes the stage-change webhook; a recruiter moves Ada.
    assert!(h.stack.lever.remove_webhook("candidateStageChange"));
    let moved = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await;
    assert!(matches!(moved, Err(SimError::NotSubscribed(_))));
    h.settle().await;
    assert!(h.stack.xref.orders().is_empty(), "nothing delivered");

    let run = safety_net_at(&h, start + 6 * MINUTE).await;
    assert_eq!((run.stage_entries, run.archives), (1, 0));
    h.settle().await;
    let orders = h.stack.xref.orders();
    assert_eq!(orders.len(), 1, "ordered by the safety net");
    assert_eq!(h.tags(), [SUBMITTED]);

    // The webhook is back, and Lever's delivery of that move arrives late.
    let entered_at = h
        .stack
        .lever
        .stage_changes(demo::OPPORTUNITY_ID)
        .last()
        .unwrap()
        .updated_at;
    let late = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, entered_at);
    let (status, body) = h.send_delivery(&late).await;
    assert_eq!(status, 202, "{body}");
    h.settle().await;
    assert_eq!(
        h.stack.xref.orders().len(),
        1,
        "no second order for one move"
    );
    assert_eq!(h.tags(), [SUBMITTED]);
    assert_eq!(safety_net_at(&h, start + 12 * MINUTE).await.found(), 0);
}
