//! Xref end to end: a move into 'Reference Check' in the Lever simulator →
//! lever-candidate-stage-change → the worker → the Xref simulator, and Xref's signed status
//! callbacks → xref-callback → the one "Xref - …" tag Lever shows.

use crate::support::{start, Harness, OTHER_SECRET, SUBMITTED};
use lever_screening::clock::now_millis;
use lever_screening::order::OrderPhase;
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::SentCallback;
use serde_json::{json, Value};

/// The `status` of a JSON answer.
fn status_of(response: &str) -> String {
    let answer: Value = serde_json::from_str(response).unwrap_or_default();
    answer["status"].as_str().unwrap_or_default().to_owned()
}

/// Xref posts `status` for the order; the callback is applied, then the worker writes the
/// tag.
async fn xref_reports(h: &Harness, xref_id: &str, status: &str) -> SentCallback {
    let sent = h
        .stack
        .xref
        .post_status(xref_id, status, None)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;
    sent
}

/// Replaces Ada's opportunity in Lever with `change` applied (a fresh stage history).
fn edit_ada(h: &Harness, change: impl FnOnce(&mut lever_screening_simulators::SimOpportunity)) {
    let mut ada = h.stack.lever.opportunity(demo::OPPORTUNITY_ID).unwrap();
    change(&mut ada);
    h.stack.lever.add_opportunity(ada);
}

/// Tags added through Lever's API, as a recruiter's own.
async fn recruiter_adds_tag(h: &Harness, tag: &str) {
    let response = h
        .http
        .post(format!(
            "{}/v1/opportunities/{}/addTags",
            h.stack.lever_url,
            demo::OPPORTUNITY_ID
        ))
        .basic_auth(demo::XREF_LEVER_KEY, Some(""))
        .json(&json!({ "tags": [tag] }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn moving_into_reference_check_orders_one_xref_check_and_lever_shows_it_submitted() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    assert_eq!(status_of(&sent.response), "queued");
    h.settle().await;

    let orders = h.stack.xref.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order = &orders[0];
    assert_eq!(order.candidate.name, "Ada Lovelace");
    assert_eq!(order.candidate.email, "ada@example.com");
    assert_eq!(
        order.candidate.phone.as_deref(),
        Some("+14165550100"),
        "Lever has \"+1 416 555 0100\"; Xref gets E.164"
    );
    assert_eq!(order.role.as_deref(), Some("Senior Software Engineer"));
    assert_eq!(
        order.callback_url,
        format!("{}/callbacks/xref/{}", h.stack.functions_url, demo::TENANT)
    );
    assert_eq!(h.tags(), [SUBMITTED]);

    // The order's Lever calls: the opportunity, its posting, one tag write; no removeTags,
    // as the candidate had no Xref tag.
    let opportunity = format!("/v1/opportunities/{}", demo::OPPORTUNITY_ID);
    assert_eq!(
        h.lever_calls_since(0),
        [
            format!("GET {opportunity}"),
            format!("GET /v1/postings/{}", demo::POSTING_ID),
            format!("POST {opportunity}/addTags"),
        ]
    );
}

#[tokio::test]
async fn each_xref_status_replaces_the_previous_tag() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    for status in ["Referees nominated", "References in progress", "Completed"] {
        let sent = xref_reports(&h, &xref_id, status).await;
        assert_eq!(status_of(&sent.response), "applied");
        assert_eq!(
            h.tags(),
            [format!("Xref - {status}")],
            "one Xref tag at a time"
        );
    }
    let order = &h.store.orders()[0];
    assert_eq!(
        order.phase(),
        OrderPhase::Closed,
        "Completed ends the check"
    );
}

#[tokio::test]
async fn other_recruiter_tags_are_left_alone() {
    let h = start().await;
    edit_ada(&h, |ada| ada.tags = vec!["Priority".into()]);
    let xref_id = h.order_reference_check().await;
    assert_eq!(h.tags(), ["Priority", SUBMITTED]);

    recruiter_adds_tag(&h, "Relocation").await;
    xref_reports(&h, &xref_id, "Referees nominated").await;
    assert_eq!(
        h.tags(),
        ["Priority", "Relocation", "Xref - Referees nominated"]
    );
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
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert_eq!(status_of(&sent.response), "ignored");
    h.settle().await;
    assert!(h.stack.xref.orders().is_empty());
    assert!(h.stack.sterling.screenings().is_empty());
    assert!(h.store.orders().is_empty());
    assert!(h.tags().is_empty());
    assert_eq!(
        h.lever_calls_since(0),
        Vec::<String>::new(),
        "Lever not asked"
    );
}

#[tokio::test]
async fn a_redelivery_or_identical_deliveries_at_once_order_once() {
    let h = start().await;
    // Ada is in 'Reference Check' in Lever; Lever's delivery of that move arrives several
    // times at once (its retries after a slow answer).
    edit_ada(&h, |ada| ada.stage = demo::REFERENCE_CHECK_STAGE_ID.into());
    let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let answers = futures::future::join_all((0..4).map(|_| h.send_delivery(&delivery))).await;
    let queued = answers.iter().filter(|(status, _)| *status == 202).count();
    assert_eq!(queued, 1, "{answers:?}");
    assert!(
        answers.iter().all(|(status, body)| *status == 202
            || *status == 409
            || (*status == 200 && body["status"] == "duplicate")),
        "{answers:?}"
    );
    h.settle().await;

    // Redelivered once done, as Lever's "Rerun" does.
    let (status, body) = h.send_delivery(&delivery).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
    h.settle().await;
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.store.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
}

#[tokio::test]
async fn late_and_repeated_callbacks_change_nothing() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    let completed = xref_reports(&h, &xref_id, "Completed").await;
    assert_eq!(h.tags(), ["Xref - Completed"]);
    let before = h.stack.lever.api_calls().len();

    let late = xref_reports(&h, &xref_id, "Referees nominated").await;
    assert_eq!(status_of(&late.response), "unchanged", "{}", late.response);
    let repeat = h.stack.xref.resend(&completed).await.unwrap();
    assert_eq!(repeat.status, 200, "{}", repeat.response);
    assert_eq!(status_of(&repeat.response), "duplicate");
    h.settle().await;

    assert_eq!(h.tags(), ["Xref - Completed"]);
    assert_eq!(
        h.lever_calls_since(before),
        Vec::<String>::new(),
        "no Lever writes"
    );
    assert_eq!(h.store.orders()[0].status(), Some("Completed"));
}

#[tokio::test]
async fn callbacks_are_authenticated_per_tenant() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;

    // Signed with the other tenant's secret, sent to the demo tenant's URL.
    let (status, body) = h
        .xref_callback(demo::TENANT, OTHER_SECRET, &xref_id, "Completed")
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(body["error"]["message"], "authentication failed");

    // Correctly signed by the other tenant, naming the demo tenant's order.
    let (status, body) = h
        .xref_callback("other", OTHER_SECRET, &xref_id, "Completed")
        .await;
    assert_eq!(status, 404, "{body}");
    h.settle().await;
    assert_eq!(h.tags(), [SUBMITTED], "neither moved the order");
    assert_eq!(h.store.orders()[0].status(), Some("Candidate submitted"));

    // The demo tenant's own secret does.
    let (status, body) = h
        .xref_callback(
            demo::TENANT,
            demo::XREF_CALLBACK_SECRET,
            &xref_id,
            "Completed",
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")));
    h.settle().await;
    assert_eq!(h.tags(), ["Xref - Completed"]);
}

#[tokio::test]
async fn a_callback_is_authentic_if_any_of_its_joined_signatures_is() {
    // A signature no secret of the tenant makes (Xref's key before a rotation).
    const STALE: &str = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    /// Writes the valid signature among others.
    type Join = fn(&str) -> String;
    let joinings: [(&str, Join); 2] = [
        // Two `webhook-signature` headers, which API Gateway joins with a comma.
        ("Referees nominated", |valid| format!("{STALE},{valid}")),
        // Several in one header, separated by spaces (Standard Webhooks' own form).
        ("Completed", |valid| format!("{valid} {STALE}")),
    ];
    for (status, joined) in joinings {
        let secret = demo::XREF_CALLBACK_SECRET;
        let (code, body) = h
            .xref_callback_signed(demo::TENANT, secret, &xref_id, status, joined)
            .await;
        assert_eq!(
            (code, body["status"].as_str()),
            (200, Some("applied")),
            "{body}"
        );
        h.settle().await;
        assert_eq!(h.tags(), [format!("Xref - {status}")]);
    }
    // Joined stale ones alone are refused.
    let (code, body) = h
        .xref_callback_signed(
            demo::TENANT,
            demo::XREF_CALLBACK_SECRET,
            &xref_id,
            "Completed",
            |_| format!("{STALE},{STALE}"),
        )
        .await;
    assert_eq!(code, 401, "{body}");
}

#[tokio::test]
async fn xref_down_the_workers_retry_places_the_order_exactly_once() {
    let h = start().await;
    // More failures than one attempt's own retries (fast_settings: 2 tries per call), so
    // only the worker's retry of the message gets through.
    h.stack.xref.fail_next(3, 503);
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;

    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
    let order = &h.store.orders()[0];
    assert_eq!(order.phase(), OrderPhase::Open);
    assert_eq!(order.vendor_order_id(), Some("xref_1"));
    let opportunity_reads = h
        .lever_calls_since(0)
        .iter()
        .filter(|call| call.starts_with("GET /v1/opportunities/"))
        .count();
    assert_eq!(opportunity_reads, 2, "the message was processed twice");
    assert_eq!(queue_dead_letters(&h).await, 0);
}

#[tokio::test]
async fn an_xref_create_whose_answer_is_lost_is_not_placed_twice() {
    let h = start().await;
    // Xref makes the check, but its answer is lost on the way back: the create is sent
    // again with the same idempotency key.
    h.stack.xref.fail_after_applying(1, 502);
    let xref_id = h.order_reference_check().await;
    assert_eq!(xref_id, "xref_1");
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert_eq!(h.tags(), [SUBMITTED]);
    assert_eq!(h.store.orders()[0].vendor_order_id(), Some("xref_1"));
}

#[tokio::test]
async fn lever_down_during_the_tag_write_the_tag_appears_after_the_retry_once() {
    let h = start().await;
    let xref_id = h.order_reference_check().await;
    let before = h.stack.lever.api_calls().len();
    // Lever answers 503 to the next three requests: the write fails this attempt (two
    // tries) and once more on the worker's retry before it gets through.
    h.stack.lever.fail_next(3, 503);
    let sent = xref_reports(&h, &xref_id, "Referees nominated").await;
    assert_eq!(status_of(&sent.response), "applied", "the status is stored");

    assert_eq!(h.tags(), ["Xref - Referees nominated"]);
    let calls = h.lever_calls_since(before);
    let opportunity = format!("/v1/opportunities/{}", demo::OPPORTUNITY_ID);
    let count = |call: &str| calls.iter().filter(|c| *c == call).count();
    assert_eq!(
        count(&format!("POST {opportunity}/removeTags")),
        4,
        "three refused, then done: {calls:?}"
    );
    assert_eq!(
        count(&format!("POST {opportunity}/addTags")),
        1,
        "{calls:?}"
    );
    assert_eq!(queue_dead_letters(&h).await, 0);
}

/// Messages the worker gave up on.
async fn queue_dead_letters(h: &Harness) -> usize {
    h.stack.app.queue().depth().await.unwrap().dead
}
