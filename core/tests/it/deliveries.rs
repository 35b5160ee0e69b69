//! The delivery log: every delivery of a configured tenant is recorded with its answer and
//! what its work came to; refused ones within a budget; a failed one replays to an order,
//! and a replay never orders twice.

use crate::support::{tenant_id, World, ADA, REFCHECK, SCREEN, STAGE_TOKEN};
use lever_screening::clock::now_millis;
use lever_screening::delivery_log::{EffectResult, LogEntry, LogFilter, Received, WorkState};
use lever_screening::flows::deliveries::{self, Replayed};
use lever_screening::flows::{lever_webhook, REFUSALS_LOGGED_PER_MINUTE};
use lever_screening::ids::TenantId;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::queue::DeadLetters;
use lever_screening::vendors::{VendorError, VendorId};
use lever_screening::{AppError, Settings};
use serde_json::json;

async fn log(world: &World, filter: &LogFilter) -> Vec<LogEntry> {
    deliveries::list(world.store.as_ref(), &tenant_id(), filter, None, 100)
        .await
        .unwrap()
        .entries
}

async fn replay(world: &World, entry: &LogEntry) -> Result<Replayed, AppError> {
    let keep_until = world.app.settings().log_keep_until(now_millis());
    deliveries::replay(
        world.store.as_ref(),
        world.queue.as_ref(),
        &tenant_id(),
        &entry.delivery.id,
        keep_until,
    )
    .await
}

#[tokio::test]
async fn a_delivery_is_shown_with_the_order_it_placed() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    let [queued] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(queued.delivery.received, Received::Queued);
    assert_eq!(queued.delivery.source.sender(), "lever");
    assert_eq!(queued.delivery.opportunity.as_ref().unwrap().as_str(), ADA);
    assert!(queued.replayable(), "its verified work is kept");
    assert_eq!(queued.end, None, "queued, not done yet");

    world.run_worker().await;
    let [done] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    let end = done.end.unwrap();
    assert_eq!(end.state, WorkState::Done);
    let [effect] = end.effects.try_into().unwrap();
    assert_eq!(
        (effect.vendor, effect.result),
        (VendorId::Xref, EffectResult::Ordered)
    );
    assert_eq!(effect.order, Some(world.orders()[0].order_id().clone()));
    assert_eq!(effect.candidate.as_deref(), Some("Ada Lovelace"));
}

#[tokio::test]
async fn a_forged_delivery_is_shown_rejected_with_its_reason_and_cannot_be_replayed() {
    let world = World::new().await;
    let mut body = world.delivery(
        "candidateStageChange",
        STAGE_TOKEN,
        json!({ "opportunityId": ADA, "toStageId": REFCHECK }),
    );
    body["signature"] = json!("0".repeat(64));
    let refused = world.post(WebhookKind::CandidateStageChange, &body).await;
    assert!(matches!(refused, Err(AppError::LeverSignature(_))));
    let [rejected] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(rejected.delivery.received, Received::Rejected);
    assert!(
        rejected
            .delivery
            .why
            .as_deref()
            .unwrap()
            .contains("signature"),
        "{:?}",
        rejected.delivery.why
    );
    assert!(!rejected.replayable());
    let error = replay(&world, &rejected).await.unwrap_err();
    assert!(
        error.to_string().contains("nothing in it was verified"),
        "{error}"
    );
    assert!(world.queue.pending().is_empty());
}

#[tokio::test]
async fn a_delivery_that_concerns_nothing_says_why_and_an_unknown_tenant_leaves_no_trace() {
    let world = World::new().await;
    world.lever.move_to(ADA, SCREEN, now_millis());
    let body = world.delivery(
        "candidateStageChange",
        STAGE_TOKEN,
        json!({ "opportunityId": ADA, "toStageId": SCREEN }),
    );
    world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    let [ignored] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(ignored.delivery.received, Received::Ignored);
    assert_eq!(
        ignored.delivery.why.as_deref(),
        Some("this event concerns no integration")
    );

    let stranger = TenantId::parse("nobody").unwrap();
    let raw = serde_json::to_vec(&body).unwrap();
    let unknown = lever_webhook::handle(
        &world.app.intake(),
        WebhookKind::CandidateStageChange,
        &stranger,
        &raw,
        "https://hooks.example.com",
    )
    .await;
    assert!(matches!(unknown, Err(AppError::NotFound("tenant"))));
    let theirs = deliveries::list(
        world.store.as_ref(),
        &stranger,
        &LogFilter::default(),
        None,
        10,
    )
    .await
    .unwrap();
    assert!(theirs.entries.is_empty());
}

#[tokio::test]
async fn a_flood_of_forged_deliveries_is_recorded_only_up_to_the_budget() {
    let world = World::new().await;
    let sent = 3 * REFUSALS_LOGGED_PER_MINUTE;
    for _ in 0..sent {
        let refused = world
            .post(
                WebhookKind::CandidateStageChange,
                &json!({ "not": "lever" }),
            )
            .await;
        assert!(matches!(refused, Err(AppError::BadRequest(_))));
    }
    let recorded = log(&world, &LogFilter::default()).await.len();
    // The budget is per calendar minute: a run across a minute's end may use two.
    assert!(
        (1..=2 * REFUSALS_LOGGED_PER_MINUTE as usize).contains(&recorded),
        "{recorded} of {sent} recorded"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_replayed_and_ends_ordered() {
    let mut settings = Settings::default();
    settings.work.max_attempts = 1;
    let world = World::with_settings(settings).await;
    world
        .xref
        .fail_next(VendorError::Unavailable("Xref is down".into()));
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let failed = LogFilter {
        outcome: Some("failed".into()),
        ..LogFilter::default()
    };
    let [entry] = log(&world, &failed).await.try_into().unwrap();
    match &entry.end.as_ref().unwrap().state {
        WorkState::DeadLettered { attempts, error } => {
            assert_eq!(*attempts, 1);
            assert!(error.contains("Xref is down"), "{error}");
        }
        other => panic!("not dead-lettered: {other:?}"),
    }
    assert_eq!(world.queue.dead_letters(10).await.unwrap().len(), 1);

    assert_eq!(replay(&world, &entry).await.unwrap(), Replayed::Redriven);
    assert!(
        world.queue.dead_letters(10).await.unwrap().is_empty(),
        "moved back, not copied"
    );
    let [replayed] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(replayed.end.unwrap().state, WorkState::Replayed);
    world.run_worker().await;
    let [done] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    let end = done.end.unwrap();
    assert_eq!(end.state, WorkState::Done);
    assert_eq!(end.effects[0].result, EffectResult::Ordered);
    assert_eq!(world.xref.orders().len(), 1);
}

#[tokio::test]
async fn replaying_a_delivery_that_ordered_orders_nothing_more() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let calls = world.xref.calls();
    let [entry] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(replay(&world, &entry).await.unwrap(), Replayed::Queued);
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1, "one order");
    assert_eq!(world.orders().len(), 1);
    assert_eq!(world.xref.calls(), calls, "the vendor was not asked again");
    let [done] = log(&world, &LogFilter::default()).await.try_into().unwrap();
    assert_eq!(done.end.unwrap().effects[0].result, EffectResult::Ordered);
}

#[tokio::test]
async fn callbacks_are_shown_with_their_order_and_the_log_filters() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    world
        .callback(
            VendorId::Xref,
            json!({ "id": id, "status": "Referees nominated" }),
        )
        .await
        .unwrap();
    let by_xref = LogFilter {
        sender: Some("xref".into()),
        ..LogFilter::default()
    };
    let [callback] = log(&world, &by_xref).await.try_into().unwrap();
    assert_eq!(callback.delivery.received, Received::Applied);
    assert_eq!(
        callback.delivery.orders,
        [world.orders()[0].order_id().clone()]
    );

    let everything = log(&world, &LogFilter::default()).await;
    assert_eq!(everything.len(), 2);
    assert_eq!(
        everything[0].delivery.id, callback.delivery.id,
        "newest first"
    );
    let by_name = LogFilter {
        candidate: Some("lovelace".into()),
        ..LogFilter::default()
    };
    let [named] = log(&world, &by_name).await.try_into().unwrap();
    assert_eq!(named.delivery.source.sender(), "lever");
    let by_opportunity = LogFilter {
        candidate: Some(ADA.into()),
        ..LogFilter::default()
    };
    assert_eq!(log(&world, &by_opportunity).await.len(), 2);
    let rejected = LogFilter {
        outcome: Some("rejected".into()),
        ..LogFilter::default()
    };
    assert!(log(&world, &rejected).await.is_empty());
}
