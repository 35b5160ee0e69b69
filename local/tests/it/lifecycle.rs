//! What a candidate's life in Lever does to her open orders: archiving cancels them where
//! the vendor's API can (and says so where it cannot), deleting cancels and purges them,
//! hiring cancels nothing.

use crate::support::{start, start_connected, Harness, SUBMITTED};
use lever_screening::order::VendorResults;
use lever_screening::vendors::VendorId;
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::SentWebhook;
use serde_json::Value;

const ADA: &str = demo::OPPORTUNITY_ID;
const ALAN: &str = demo::STERLING_OPPORTUNITY_ID;
const KATHERINE: &str = demo::JUSTIFACTS_OPPORTUNITY_ID;
const CANCELLED: &str = "Xref - Cancelled";

/// What intake answered a delivery: its HTTP status and the body's `status`.
fn answered(sent: &SentWebhook) -> (u16, String) {
    let body: Value = serde_json::from_str(&sent.response).unwrap();
    (
        sent.status,
        body["status"].as_str().unwrap_or_default().to_owned(),
    )
}

impl Harness {
    /// The one stored order of `vendor`.
    fn order_of(&self, vendor: VendorId) -> lever_screening::order::Order {
        let orders: Vec<_> = self
            .store
            .orders()
            .into_iter()
            .filter(|o| o.vendor() == vendor)
            .collect();
        assert_eq!(orders.len(), 1, "{orders:#?}");
        orders[0].clone()
    }
}

#[tokio::test]
async fn archiving_a_candidate_cancels_her_open_xref_check_and_lever_shows_it_cancelled() {
    let h = start().await;
    let id = h.order_reference_check().await;
    assert_eq!(h.tags(), [SUBMITTED]);

    let sent = h.stack.lever.archive(ADA).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    assert_eq!(h.stack.xref.cancelled(), [id.as_str()]);
    assert_eq!(h.stack.xref.orders()[0].status, "Cancelled");
    assert_eq!(h.tags(), [CANCELLED]);

    // Xref's own late word changes nothing.
    let late = h
        .stack
        .xref
        .post_status(&id, "References in progress", None)
        .await
        .unwrap();
    assert_eq!(late.status, 200, "{}", late.response);
    h.settle().await;
    assert_eq!(h.tags(), [CANCELLED]);
}

#[tokio::test]
async fn an_open_sterling_case_cannot_be_cancelled_a_note_says_so_and_its_callbacks_still_apply() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(ALAN, demo::BACKGROUND_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    let screenings = h.stack.sterling.screenings();
    assert_eq!(screenings.len(), 1);
    let id = screenings[0].id.clone();
    let before = h.notes(ALAN).len();

    let sent = h.stack.lever.archive(ALAN).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    let notes = h.notes(ALAN);
    assert_eq!(notes.len(), before + 1, "{notes:#?}");
    let note = notes.last().unwrap();
    assert!(
        note.contains("could not be cancelled automatically"),
        "{note}"
    );
    assert!(
        note.contains("Cancel it with Sterling Backcheck directly"),
        "{note}"
    );
    assert_ne!(h.stack.sterling.screening(&id).unwrap().status, "Canceled");
    assert!(h.stack.xref.cancelled().is_empty());

    // Sterling goes on, and its callbacks still show in Lever.
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let callback = h.stack.sterling.post_callback(&id).await.unwrap();
    assert!(
        (200..300).contains(&callback.status),
        "{}",
        callback.response
    );
    h.settle().await;
    let notes = h.notes(ALAN);
    assert!(
        notes.iter().any(|n| n.contains("Status: In Progress")),
        "{notes:#?}"
    );
}

#[tokio::test]
async fn archiving_cancels_a_justifacts_check_but_never_the_hrlogics_survey() {
    let h = start_connected().await;
    let lever = &h.stack.oauth_lever;
    let sent = lever.application_created(KATHERINE).await.unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    let sent = lever
        .move_to_stage(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    let invitation = h.stack.justifacts.invitations()[0].request_id.clone();
    let applicant = h.stack.hrlogics.applicants()[0].applicant_id.clone();
    let in_progress = "(Justifacts)In-Progress : Candidate".to_owned();
    assert!(h.oauth_tags_of(KATHERINE).contains(&in_progress));

    let sent = lever.archive(KATHERINE).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    assert_eq!(h.stack.justifacts.cancelled(), [invitation]);
    let notes = h.oauth_notes(KATHERINE);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with(
            "Justifacts background check cancelled: the candidate was archived in Lever."
        ),
        "{}",
        notes[0]
    );
    // The tags stay true: no in-progress tag next to the cancelled invitation.
    let tags = h.oauth_tags_of(KATHERINE);
    assert!(
        !tags.iter().any(|tag| tag.starts_with("(Justifacts)")),
        "{tags:?}"
    );

    // The WOTC survey goes on: its result still shows.
    let result = h
        .stack
        .hrlogics
        .post_eligibility(&applicant, "Pre Qualified")
        .await
        .unwrap();
    assert_eq!(result.status, 200, "{}", result.response);
    h.settle().await;
    assert!(
        h.oauth_tags_of(KATHERINE)
            .contains(&"HRLogics-WOTC:Pre Qualified".to_owned()),
        "{:?}",
        h.oauth_tags_of(KATHERINE)
    );
    assert_eq!(h.oauth_notes(KATHERINE), notes, "no note about HRLogics");
}

#[tokio::test]
async fn deleting_a_candidate_cancels_her_open_orders_purges_their_results_and_writes_nothing_to_lever(
) {
    let h = start().await;
    let id = h.order_reference_check().await;
    let report = "https://xref.example/reports/ada";
    let sent = h
        .stack
        .xref
        .post_status(&id, "References in progress", Some(report))
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;
    let order = h.order_of(VendorId::Xref);
    assert_eq!(order.results().report_url.as_deref(), Some(report));
    assert!(order.purged_at().is_none());

    let calls = h.stack.lever.api_calls().len();
    let sent = h.stack.lever.delete_opportunity(ADA).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    assert_eq!(h.stack.xref.cancelled(), [id.as_str()]);
    let purged = h.order_of(VendorId::Xref);
    assert!(purged.purged_at().is_some(), "{purged:#?}");
    assert_eq!(*purged.results(), VendorResults::default());
    assert!(purged.notices().is_empty() && purged.problem().is_none());
    assert_eq!(
        h.lever_calls_since(calls),
        [format!("GET /v1/opportunities/{ADA}")],
        "Lever confirms the delete (404); nothing is written"
    );
}

/// Posts a correctly signed `event` delivery carrying `data` (Lever's signature does not
/// cover `data`) to the demo tenant's webhook of that event.
async fn signed(h: &Harness, event: &str, data: Value) -> SentWebhook {
    let body = h.stack.lever.signed_delivery(event, data).unwrap();
    let url = h
        .stack
        .lever
        .webhooks()
        .into_iter()
        .rev()
        .find(|w| w.event == event)
        .unwrap()
        .url;
    h.stack.lever.send_raw(&url, &body).await.unwrap()
}

fn archived_now(opportunity: &str) -> Value {
    serde_json::json!({
        "opportunityId": opportunity,
        "toArchived": { "archivedAt": lever_screening::clock::now_millis(), "reason": "r" },
        "fromArchived": null,
    })
}

async fn assert_still_open(h: &Harness, id: &str) {
    h.settle().await;
    assert!(h.stack.xref.cancelled().is_empty(), "nothing cancelled");
    let order = h.order_of(VendorId::Xref);
    assert!(order.purged_at().is_none(), "nothing purged");
    assert_eq!(h.tags(), [SUBMITTED], "{id}");
}

#[tokio::test]
async fn a_signed_archive_of_a_candidate_lever_shows_active_cancels_nothing() {
    let h = start().await;
    let id = h.order_reference_check().await;
    let sent = signed(&h, "candidateArchiveChange", archived_now(ADA)).await;
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    assert_still_open(&h, &id).await;
}

#[tokio::test]
async fn an_archive_delivered_after_the_unarchive_cancels_nothing() {
    let h = start().await;
    let id = h.order_reference_check().await;
    // Ada is archived, but the delivery does not get through (the webhook is briefly
    // gone); she is restored, that delivery gets through; then the archive's retry arrives.
    let lever = &h.stack.lever;
    let webhook = lever
        .webhooks()
        .into_iter()
        .find(|w| w.event == "candidateArchiveChange")
        .unwrap();
    assert!(lever.remove_webhook(&webhook.event));
    assert!(lever.archive(ADA).await.is_err(), "not delivered");
    lever.subscribe(&webhook.event, webhook.url.clone(), webhook.signature_token);
    let archived_at = lever.archived(ADA).unwrap().archived_at;
    let data = serde_json::json!({
        "opportunityId": ADA,
        "toArchived": { "archivedAt": archived_at, "reason": "r" },
        "fromArchived": null,
    });
    let late = lever.signed_delivery(&webhook.event, data).unwrap();
    let restored = lever.unarchive(ADA).await.unwrap();
    assert_eq!(
        answered(&restored),
        (200, "ignored".into()),
        "{}",
        restored.response
    );
    h.settle().await;
    let sent = lever.send_raw(&webhook.url, &late).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    assert_still_open(&h, &id).await;
}

#[tokio::test]
async fn a_signed_delete_of_a_candidate_lever_still_has_cancels_and_purges_nothing() {
    let h = start().await;
    let id = h.order_reference_check().await;
    let data = serde_json::json!({ "opportunityId": ADA });
    let sent = signed(&h, "candidateDeleted", data).await;
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    assert_still_open(&h, &id).await;
    // Xref's later word still reaches Lever.
    let later = h
        .stack
        .xref
        .post_status(&id, "References in progress", None)
        .await
        .unwrap();
    assert_eq!(later.status, 200, "{}", later.response);
    h.settle().await;
    assert_eq!(h.tags(), ["Xref - References in progress"]);
}

#[tokio::test]
async fn a_late_vendor_callback_after_deleting_a_candidate_writes_nothing_to_lever() {
    let h = start().await;
    let id = h.order_reference_check().await;
    let sent = h.stack.lever.delete_opportunity(ADA).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    assert_eq!(h.stack.xref.cancelled(), [id.as_str()]);
    let calls = h.stack.lever.api_calls().len();

    // Xref's late report is not stored, and nothing goes to Lever.
    let report = "https://xref.example/reports/ada";
    let late = h
        .stack
        .xref
        .post_status(&id, "Completed", Some(report))
        .await
        .unwrap();
    assert_eq!(late.status, 200, "{}", late.response);
    h.settle().await;
    assert_eq!(
        *h.order_of(VendorId::Xref).results(),
        VendorResults::default()
    );
    assert_eq!(
        h.lever_calls_since(calls),
        Vec::<String>::new(),
        "{}",
        late.response
    );
}

#[tokio::test]
async fn hiring_a_candidate_is_acknowledged_and_cancels_nothing() {
    let h = start().await;
    h.order_reference_check().await;
    let calls = h.stack.lever.api_calls().len();

    let sent = h.stack.lever.hire(ADA).await.unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;
    assert!(h.stack.xref.cancelled().is_empty());
    assert_eq!(h.stack.xref.orders()[0].status, "Candidate submitted");
    assert_eq!(h.tags(), [SUBMITTED]);
    assert!(h.order_of(VendorId::Xref).purged_at().is_none());
    assert_eq!(h.lever_calls_since(calls), Vec::<String>::new());
}

#[tokio::test]
async fn archiving_after_the_check_ended_at_xref_is_not_an_error_and_cancels_nothing() {
    let h = start().await;
    let id = h.order_reference_check().await;
    // Xref completed the check; its callback never arrived.
    h.stack.xref.set_status_silently(&id, "Completed").unwrap();

    let sent = h.stack.lever.archive(ADA).await.unwrap();
    assert_eq!(answered(&sent), (202, "queued".into()), "{}", sent.response);
    h.settle().await;
    assert!(h.stack.xref.cancelled().is_empty());
    assert_eq!(h.stack.xref.orders()[0].status, "Completed");
    let dead = h.stack.app.queue().dead_letters(10).await.unwrap();
    assert!(
        dead.is_empty(),
        "Xref's 409 `order_ended` is an answer, not a failure: {dead:?}"
    );
    assert_eq!(
        h.tags(),
        [SUBMITTED],
        "no cancellation shown for a check that was not cancelled"
    );
}
