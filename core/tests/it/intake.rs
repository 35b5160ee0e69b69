//! Intake: what a Lever delivery is answered, what is stored and queued, and that nothing
//! leaves the process (the fakes record every outbound call).

use crate::support::{World, ADA, APPLICATION_TOKEN, REFCHECK, SCREEN, STAGE_TOKEN};
use lever_screening::flows::AckStatus;
use lever_screening::ids::TenantId;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::tenant::Revoked;
use lever_screening::vendors::VendorId;
use lever_screening::work::Work;
use lever_screening::{AppError, Settings};
use serde_json::json;
use std::time::Duration;

fn stage_data(stage: &str) -> serde_json::Value {
    json!({ "opportunityId": ADA, "toStageId": stage })
}

/// Intake never calls Lever or a vendor: every fake saw nothing.
fn assert_no_outbound_call(world: &World) {
    assert!(
        world.lever.calls().is_empty(),
        "Lever was called: {:?}",
        world.lever.calls()
    );
    for vendor in [&world.xref, &world.sterling, &world.hrlogics] {
        assert_eq!(vendor.calls(), 0, "a vendor was called");
    }
}

#[tokio::test]
async fn a_move_into_a_trigger_stage_is_queued_without_any_outbound_call() {
    let world = World::new().await;
    let ack = world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(ack.status, AckStatus::Queued);
    assert!(ack.is_accepted_only(), "202: stored, not done");
    let queued = world.queue.pending();
    assert!(
        matches!(queued.as_slice(), [Work::LeverEvent { .. }]),
        "{queued:?}"
    );
    assert_no_outbound_call(&world);
}

#[tokio::test]
async fn a_redelivery_is_acknowledged_and_queues_nothing_more() {
    let world = World::new().await;
    let body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    let again = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(again.status, AckStatus::Duplicate);
    assert_eq!(world.queue.pending().len(), 1);
}

#[tokio::test]
async fn a_stage_no_integration_watches_is_ignored_but_its_token_claimed() {
    let world = World::new().await;
    let body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(SCREEN));
    let ack = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Ignored);
    assert!(world.queue.pending().is_empty());
    let replay = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(replay.status, AckStatus::Duplicate);
}

#[tokio::test]
async fn a_trigger_known_only_by_name_is_left_to_the_worker() {
    let world = World::new().await;
    world
        .configure(|config| {
            config
                .vendors
                .get_mut(&VendorId::Sterling)
                .unwrap()
                .trigger_stage = Some(lever_screening::tenant::StageRef::by_name(
                "Background Check",
            ));
        })
        .await;
    // Intake cannot tell what 'Background Check' is without asking Lever: it queues.
    let body = world.delivery(
        "candidateStageChange",
        STAGE_TOKEN,
        stage_data("stage-unknown"),
    );
    let ack = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Queued);
}

#[tokio::test]
async fn a_forged_or_stale_signature_is_refused_and_nothing_is_written() {
    let world = World::new().await;
    let mut body = world.delivery(
        "candidateStageChange",
        "not-the-token",
        stage_data(REFCHECK),
    );
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 401);
    body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    let week_ago = lever_screening::clock::now_millis() - 7 * 86_400_000;
    body["triggeredAt"] = week_ago.into();
    body["signature"] = lever_screening::lever::webhook::sign(
        STAGE_TOKEN,
        body["token"].as_str().unwrap(),
        week_ago,
    )
    .into();
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert_eq!(
        error.public_message(),
        "triggeredAt is outside the accepted window"
    );
    assert!(world.queue.pending().is_empty());
    // The genuine delivery later still goes through: nothing was claimed.
    body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    assert_eq!(
        world
            .post(WebhookKind::CandidateStageChange, &body)
            .await
            .unwrap()
            .status,
        AckStatus::Queued
    );
}

#[tokio::test]
async fn an_unknown_tenant_is_404() {
    let world = World::new().await;
    let body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    let error = lever_screening::flows::lever_webhook::handle(
        &world.app.intake(),
        WebhookKind::CandidateStageChange,
        &TenantId::parse("nobody").unwrap(),
        &serde_json::to_vec(&body).unwrap(),
        "https://x",
    )
    .await
    .unwrap_err();
    assert!(matches!(error, AppError::NotFound("tenant")));
}

#[tokio::test]
async fn levers_connection_test_is_2xx_whatever_event_it_names() {
    let world = World::new().await;
    // Lever's documented sample names candidateHired, posted to the stage change URL.
    let test = world.delivery("candidateHired", STAGE_TOKEN, json!({}));
    let ack = world
        .post(WebhookKind::CandidateStageChange, &test)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Test);
    assert!(world.queue.pending().is_empty());
    assert_no_outbound_call(&world);
}

#[tokio::test]
async fn a_connection_test_replayed_with_forged_data_orders_nothing() {
    let world = World::new().await;
    let test = world.delivery("candidateStageChange", STAGE_TOKEN, json!({}));
    world
        .post(WebhookKind::CandidateStageChange, &test)
        .await
        .unwrap();
    // Same token, triggeredAt and signature; `data` is not signed.
    let mut forged = test.clone();
    forged["data"] = stage_data(REFCHECK);
    let ack = world
        .post(WebhookKind::CandidateStageChange, &forged)
        .await
        .unwrap();
    assert_eq!(
        ack.status,
        AckStatus::Duplicate,
        "the test's token was claimed"
    );
    assert!(world.queue.pending().is_empty());
}

#[tokio::test]
async fn a_connection_test_before_any_token_is_stored_is_acknowledged() {
    let world = World::new().await;
    let mut secret = crate::support::acme_secret();
    secret["webhooks"] = json!({});
    world.secrets.put(crate::support::TENANT, secret);
    world.app.tenants().invalidate(&crate::support::tenant_id());
    // Setup verifies the URL before the token is copied: any signature.
    let test = world.delivery("candidateStageChange", "whatever", json!({}));
    let ack = world
        .post(WebhookKind::CandidateStageChange, &test)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Test);
    // A real delivery without a stored token is a configuration problem, named.
    let real = world.delivery("candidateStageChange", "whatever", stage_data(REFCHECK));
    let error = world
        .post(WebhookKind::CandidateStageChange, &real)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "tenant_misconfigured");
    assert!(error.to_string().contains("webhooks.candidateStageChange"));
}

#[tokio::test]
async fn a_delivery_for_another_event_is_refused() {
    let world = World::new().await;
    let body = world.delivery("candidateHired", STAGE_TOKEN, stage_data(REFCHECK));
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
}

#[tokio::test]
async fn malformed_data_is_400_and_claims_nothing() {
    let world = World::new().await;
    let body = world.delivery(
        "candidateStageChange",
        STAGE_TOKEN,
        json!({ "opportunityId": "../etc" }),
    );
    assert_eq!(
        world
            .post(WebhookKind::CandidateStageChange, &body)
            .await
            .unwrap_err()
            .status(),
        400
    );
}

/// A correctly signed delivery whose token no store key can hold is the sender's fault, not
/// an outage: 400, never a 503 its sender would retry for ever.
#[tokio::test]
async fn a_signed_delivery_with_an_overlong_token_is_400() {
    let world = World::new().await;
    let mut body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    let token = "t".repeat(3000);
    let at = body["triggeredAt"].as_i64().unwrap();
    body["token"] = token.clone().into();
    body["signature"] = lever_screening::lever::webhook::sign(STAGE_TOKEN, &token, at).into();
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400, "{error}");
}

#[tokio::test]
async fn a_queue_outage_is_503_and_the_retry_goes_through() {
    let world = World::new().await;
    let body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    world.queue.set_failing(true);
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 503);
    world.queue.set_failing(false);
    let ack = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Queued, "the claim was given up");
}

#[tokio::test]
async fn a_claim_left_by_a_killed_function_is_taken_over_once_stale() {
    let settings = Settings {
        delivery_stale_after: Duration::from_millis(50),
        ..Settings::default()
    };
    let world = World::with_settings(settings).await;
    let body = world.delivery("candidateStageChange", STAGE_TOKEN, stage_data(REFCHECK));
    let key = format!("lever:acme:{}", body["token"].as_str().unwrap());
    // What a function killed mid-delivery leaves: a claim, never finished.
    use lever_screening::store::DeliveryStore;
    world
        .store
        .begin_delivery(
            &key,
            lever_screening::clock::now_millis(),
            Duration::from_millis(50),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let error = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AppError::InProgress),
        "409 while it may still run"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    let ack = world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Queued, "Lever's retry is processed");
}

#[tokio::test]
async fn a_delivery_for_a_revoked_integration_is_acknowledged_and_orders_nothing() {
    let world = World::new().await;
    world
        .configure(|config| {
            config
                .vendors
                .get_mut(&VendorId::Xref)
                .unwrap()
                .lever_access_revoked = Some(Revoked {
                reason: "Lever refused the API key".into(),
                at: 1,
            });
        })
        .await;
    let ack = world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(ack.status, AckStatus::Disabled);
    assert!(ack.detail.unwrap().contains("xref"));
    assert!(world.queue.pending().is_empty());
}

#[tokio::test]
async fn an_application_is_queued_for_the_vendors_ordered_on_new_applications() {
    let world = World::new().await;
    let ack = world.application_created(ADA).await.unwrap();
    assert_eq!(ack.status, AckStatus::Queued);
    let body = world.delivery("applicationCreated", APPLICATION_TOKEN, json!({}));
    let test = world
        .post(WebhookKind::ApplicationCreated, &body)
        .await
        .unwrap();
    assert_eq!(test.status, AckStatus::Test);
}

#[tokio::test]
async fn hiring_is_verified_and_acknowledged_and_cancels_nothing() {
    let world = World::new().await;
    let mut secret = crate::support::acme_secret();
    secret["webhooks"]["candidateHired"] = json!({ "current": "candidate-hired-token" });
    world.secrets.put(crate::support::TENANT, secret);
    world.app.tenants().invalidate(&crate::support::tenant_id());
    let body = world.delivery(
        "candidateHired",
        "candidate-hired-token",
        json!({ "opportunityId": ADA }),
    );
    let ack = world
        .post(WebhookKind::CandidateHired, &body)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Ignored);
    assert!(world.queue.pending().is_empty());
}

/// A placeholder pasted as the signature token (the example file's) must not let anyone who
/// read the example sign deliveries: it is a configuration error, not a key.
#[tokio::test]
async fn a_placeholder_or_blank_signature_token_is_never_used_as_a_key() {
    for token in [
        "<Candidate Stage Change signature token from Lever>",
        "",
        "short",
    ] {
        let world = World::new().await;
        let mut secret = crate::support::acme_secret();
        secret["webhooks"]["candidateStageChange"] = json!({ "current": token });
        world.secrets.put(crate::support::TENANT, secret);
        world.app.tenants().invalidate(&crate::support::tenant_id());
        let body = world.delivery("candidateStageChange", token, stage_data(REFCHECK));
        let error = world
            .post(WebhookKind::CandidateStageChange, &body)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "tenant_misconfigured", "{token:?}: {error}");
        assert!(world.queue.pending().is_empty(), "{token:?} queued work");
    }
}
