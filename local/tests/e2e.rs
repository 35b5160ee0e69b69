//! End to end through the local server: Lever simulator → lever-candidate-stage-change →
//! Xref simulator → xref-callback → tags in the Lever simulator. What a recruiter would
//! see in Lever is what these tests assert.

mod support;

use lever_screening::flows::outbox;
use lever_screening::model::{now_millis, OrderPhase};
use lever_screening::store::OutboxStore;
use lever_screening_local::demo_tenant as demo;
use serde_json::{json, Value};
use support::{start, OTHER_SECRET, SUBMITTED};

#[tokio::test]
async fn moving_into_the_trigger_stage_orders_one_reference_check_and_tags_the_candidate() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    let answer: Value = serde_json::from_str(&sent.response).unwrap();
    assert_eq!(answer["status"], "ordered");
    assert_eq!(answer["orders"][0]["vendor_order_id"], "xref_1");

    let orders = h.stack.xref.orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0];
    assert_eq!(order.candidate.name, "Ada Lovelace");
    assert_eq!(order.candidate.email, "ada@example.com");
    assert_eq!(order.candidate.phone.as_deref(), Some("+1 416 555 0100"));
    assert_eq!(order.role.as_deref(), Some("Senior Software Engineer"));
    assert_eq!(
        order.callback_url,
        format!("{}/callbacks/xref/demo", h.stack.functions_url)
    );
    assert_eq!(h.tags(), [SUBMITTED]);

    // Per order: the opportunity, its posting, one tag write (plus the stage list, once
    // per process, to resolve 'Reference Check' by name).
    let calls: Vec<String> = h
        .lever_calls_since(0)
        .into_iter()
        .filter(|c| !c.ends_with("/v1/stages"))
        .collect();
    assert!(calls.len() <= 3, "Lever calls per order: {calls:?}");
}

#[tokio::test]
async fn each_xref_status_replaces_the_previous_xref_tag() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    for status in ["Referees nominated", "References in progress", "Completed"] {
        let sent = h
            .stack
            .xref
            .post_status(&xref_id, status, Some("https://xref.example/r/1"))
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        assert_eq!(
            h.tags(),
            [format!("Xref - {status}")],
            "one Xref tag at a time"
        );
    }
    let order = &h.store.orders()[0];
    assert_eq!(order.phase, OrderPhase::Closed);
    assert_eq!(
        order.results.report_url.as_deref(),
        Some("https://xref.example/r/1")
    );
    assert_eq!(order.history.len(), 4);
}

#[tokio::test]
async fn other_recruiter_tags_are_left_alone() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    // A recruiter's own tag, added in Lever between two Xref updates.
    h.http
        .post(format!(
            "{}/v1/opportunities/{}/addTags",
            h.stack.lever_url,
            demo::OPPORTUNITY_ID
        ))
        .basic_auth(demo::LEVER_API_KEY, Some(""))
        .json(&json!({ "tags": ["Priority"] }))
        .send()
        .await
        .unwrap();
    h.stack
        .xref
        .post_status(&xref_id, "Referees nominated", None)
        .await
        .unwrap();
    assert_eq!(h.tags(), ["Priority", "Xref - Referees nominated"]);
}

#[tokio::test]
async fn moving_into_another_stage_orders_nothing() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::OFFER_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&sent.response).unwrap()["status"],
        "ignored"
    );
    assert!(h.stack.xref.orders().is_empty());
    assert!(h.store.orders().is_empty());
    assert!(h.tags().is_empty());
}

#[tokio::test]
async fn a_bad_signature_is_refused_with_401_and_nothing_is_written() {
    let h = start().await;
    let mut delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let genuine = delivery.clone();
    let signature = delivery["signature"].as_str().unwrap().to_owned();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    delivery["signature"] = json!(format!("{flipped}{}", &signature[1..]));

    let (status, body) = h.send_delivery(&delivery).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(h.stack.xref.orders().is_empty());
    assert!(h.store.orders().is_empty());
    assert!(
        h.stack.lever.api_calls().is_empty(),
        "not even Lever is asked"
    );

    // The forged attempt did not burn the delivery token: the genuine one still works.
    let (status, body) = h.send_delivery(&genuine).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ordered")));
}

#[tokio::test]
async fn a_missing_signature_or_a_stale_delivery_is_refused() {
    let h = start().await;
    let mut unsigned = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    unsigned.as_object_mut().unwrap().remove("signature");
    assert_eq!(h.send_delivery(&unsigned).await.0, 401);

    let four_days_ago = now_millis() - 4 * 24 * 3600 * 1000;
    let (status, body) = h
        .send_delivery(&h.delivery(demo::REFERENCE_CHECK_STAGE_ID, four_days_ago))
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "triggeredAt is outside the accepted window"
    );
    assert!(h.store.orders().is_empty());
}

#[tokio::test]
async fn the_same_delivery_twice_or_at_once_orders_once() {
    let h = start().await;
    let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let sends = (0..5).map(|_| h.send_delivery(&delivery));
    let answers = futures::future::join_all(sends).await;
    assert!(
        answers
            .iter()
            .all(|(status, _)| matches!(status, 200 | 409)),
        "{answers:?}"
    );
    assert_eq!(h.stack.xref.orders().len(), 1);

    let (status, body) = h.send_delivery(&delivery).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
}

#[tokio::test]
async fn a_second_move_into_the_stage_while_the_check_is_open_does_not_reorder() {
    let h = start().await;
    h.order_reference_check().await;
    let lever = &h.stack.lever;
    lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::OFFER_STAGE_ID)
        .await
        .unwrap();
    let again = lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(again.status, 200);
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.store.orders().len(), 1);
}

#[tokio::test]
async fn bad_requests_get_a_clear_status_and_a_json_error() {
    let h = start().await;
    let url = h.webhook_url(demo::TENANT);
    let (status, body) = h.post(&url, "application/json", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");

    let (status, _) = h.post(&url, "text/plain", "{}").await;
    assert_eq!(status, 415);

    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let (status, _) = h.post(&url, "application/json", huge).await;
    assert_eq!(status, 413);

    let (status, body) = h
        .post(&h.webhook_url("nobody"), "application/json", "{}")
        .await;
    assert_eq!(
        status, 400,
        "malformed JSON is refused before the tenant is looked up: {body}"
    );
    let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let (status, _) = h
        .post(
            &h.webhook_url("nobody"),
            "application/json",
            delivery.to_string(),
        )
        .await;
    assert_eq!(status, 404);

    let response = h.http.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);

    // Signed, but missing the stage change fields.
    let mut incomplete = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    incomplete["data"] = json!({ "opportunityId": demo::OPPORTUNITY_ID });
    let (status, body) = h.send_delivery(&incomplete).await;
    assert_eq!(status, 400, "{body}");
    assert!(h.store.orders().is_empty());
}

#[tokio::test]
async fn lever_test_delivery_is_acknowledged_and_does_nothing() {
    let h = start().await;
    let mut delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    delivery["data"] = json!({});
    let (status, body) = h.send_delivery(&delivery).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("test")));
    assert!(h.stack.lever.api_calls().is_empty());
}

#[tokio::test]
async fn a_candidate_without_email_gets_a_note_and_no_order() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(
            demo::NO_EMAIL_OPPORTUNITY_ID,
            demo::REFERENCE_CHECK_STAGE_ID,
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    assert!(h.stack.xref.orders().is_empty());
    let notes = h.stack.lever.notes(demo::NO_EMAIL_OPPORTUNITY_ID);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].value.contains("no email address"),
        "{}",
        notes[0].value
    );
    assert!(!notes[0].secret);
}

#[tokio::test]
async fn lever_down_keeps_the_delivery_and_the_outbox_finishes_the_order() {
    let h = start().await;
    h.stack.lever.fail_next(1000, 503);
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "stored, not done: {}", sent.response);
    assert!(h.stack.xref.orders().is_empty());
    assert_eq!(h.store.list_outbox(10).await.unwrap().len(), 1);

    h.stack.lever.fail_next(0, 503);
    let report = outbox::drain(&h.stack.app, now_millis(), 10).await.unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
    assert!(h.store.list_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn xref_down_keeps_the_intent_and_the_outbox_orders_exactly_once() {
    let h = start().await;
    h.stack.xref.fail_next(1000, 503);
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    assert_eq!(h.store.orders().len(), 1, "the intent is stored");
    assert!(h.tags().is_empty());

    // Still down: the item is rescheduled, not lost.
    let report = outbox::drain(&h.stack.app, now_millis(), 10).await.unwrap();
    assert_eq!(report.rescheduled, 1);

    h.stack.xref.fail_next(0, 503);
    let later = now_millis() + 3_600_000;
    let report = outbox::drain(&h.stack.app, later, 10).await.unwrap();
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
}

#[tokio::test]
async fn lever_down_during_a_callback_keeps_the_tag_write_for_the_outbox() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    h.stack.lever.fail_next(1000, 503);
    let sent = h
        .stack
        .xref
        .post_status(&xref_id, "Referees nominated", None)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "the status is stored: {}", sent.response);
    assert_eq!(h.tags(), [SUBMITTED]);

    h.stack.lever.fail_next(0, 503);
    outbox::drain(&h.stack.app, now_millis(), 10).await.unwrap();
    assert_eq!(h.tags(), ["Xref - Referees nominated"]);
}

#[tokio::test]
async fn late_and_repeated_callbacks_change_nothing() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    let completed = h
        .stack
        .xref
        .post_status(&xref_id, "Completed", None)
        .await
        .unwrap();
    let before = h.stack.lever.api_calls().len();

    let late = h
        .stack
        .xref
        .post_status(&xref_id, "Referees nominated", None)
        .await
        .unwrap();
    assert_eq!(late.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&late.response).unwrap()["status"],
        "unchanged"
    );
    let repeat = h.stack.xref.resend(&completed).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&repeat.response).unwrap()["status"],
        "duplicate"
    );

    assert_eq!(h.tags(), ["Xref - Completed"]);
    assert_eq!(
        h.lever_calls_since(before),
        Vec::<String>::new(),
        "no Lever writes"
    );
}

#[tokio::test]
async fn a_callback_right_after_the_order_is_found_by_its_client_reference() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    h.store.set_index_lagging(true);
    // Without the client reference the lagging index finds nothing: 404, Xref retries.
    let (status, _) = h
        .callback(
            demo::TENANT,
            demo::XREF_CALLBACK_SECRET,
            &xref_id,
            "Completed",
        )
        .await;
    assert_eq!(status, 404);
    // Xref echoes our order id as client_reference: a consistent read finds the order.
    let sent = h
        .stack
        .xref
        .post_status(&xref_id, "Referees nominated", None)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert_eq!(h.tags(), ["Xref - Referees nominated"]);
}

#[tokio::test]
async fn callbacks_are_authenticated_per_tenant() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;

    let (status, _) = h
        .callback(demo::TENANT, OTHER_SECRET, &xref_id, "Completed")
        .await;
    assert_eq!(status, 401, "signed with another tenant's secret");

    // Correctly signed by the other tenant, but naming the demo tenant's order.
    let (status, _) = h
        .callback("other", OTHER_SECRET, &xref_id, "Completed")
        .await;
    assert_eq!(status, 404);

    let (status, _) = h
        .callback(
            demo::TENANT,
            demo::XREF_CALLBACK_SECRET,
            &xref_id,
            "Finished",
        )
        .await;
    assert_eq!(status, 422, "a status Xref does not have");

    let unsigned = h
        .post(
            &format!("{}/callbacks/xref/demo", h.stack.functions_url),
            "application/json",
            json!({ "id": xref_id, "status": "Completed" }).to_string(),
        )
        .await;
    assert_eq!(unsigned.0, 401);
    assert_eq!(h.tags(), [SUBMITTED], "none of these changed Lever");
}
