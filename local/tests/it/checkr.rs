//! Checkr end to end: a move into 'Pre-hire Screening' → lever-candidate-stage-change → the
//! worker → the strict Checkr simulator (candidate, then invitation); Checkr's signed
//! webhooks → checkr-callback → the worker re-reading the invitation and its report → the
//! one tag Lever's Checkr integration shows, and the report's link.

use crate::support::{start, Harness};
use lever_screening::callback_auth;
use lever_screening::order::OrderPhase;
use lever_screening::store::OrderStore;
use lever_screening::vendors::{checkr, VendorId};
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::SimOpportunity;
use std::time::Duration;

const MARGARET: &str = demo::CHECKR_OPPORTUNITY_ID;
const CHECKR_TAGS: [&str; 6] = [
    "Invitation Pending",
    "Invitation Completed",
    "Report Clear",
    "Report Consider",
    "Invitation Expired",
    "Canceled",
];

/// Margaret's Checkr tags in Lever.
fn checkr_tags(h: &Harness) -> Vec<String> {
    h.tags_of(MARGARET)
        .into_iter()
        .filter(|tag| CHECKR_TAGS.contains(&tag.as_str()))
        .collect()
}

/// Waits until Checkr's webhooks (sent after its answers, in the background) have been
/// answered, and the worker has done what they queued.
async fn webhooks_answered(h: &Harness, count: usize) {
    h.stack
        .checkr
        .webhooks_answered(count, Duration::from_secs(5))
        .await;
    h.settle().await;
}

async fn move_into_pre_hire_screening(h: &Harness) {
    let sent = h
        .stack
        .lever
        .move_to_stage(MARGARET, demo::PRE_HIRE_SCREENING_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
}

#[tokio::test]
async fn a_checkr_check_shows_lever_s_tags_one_at_a_time_and_the_report_link() {
    let h = start().await;
    move_into_pre_hire_screening(&h).await;

    // Checkr got a candidate with her email, and an invitation for the tenant's package at
    // the posting's work location, tagged with our order.
    let candidates = h.stack.checkr.candidates();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].email, "margaret@example.com");
    assert_eq!(candidates[0].first_name.as_deref(), Some("Margaret"));
    let [invitation] = h.stack.checkr.invitations().try_into().unwrap();
    assert_eq!(invitation.package, demo::CHECKR_PACKAGE);
    assert_eq!(invitation.work_locations[0].state.as_deref(), Some("MA"));
    assert_eq!(invitation.work_locations[0].city.as_deref(), Some("Boston"));
    assert!(invitation.tags[0].starts_with(checkr::ORDER_TAG_PREFIX));
    webhooks_answered(&h, 1).await;
    assert_eq!(checkr_tags(&h), ["Invitation Pending"]);

    // The candidate fills in Checkr's form: the invitation completes, a report starts.
    let report = h
        .stack
        .checkr
        .complete_invitation(&invitation.id)
        .await
        .unwrap();
    webhooks_answered(&h, 3).await;
    assert_eq!(checkr_tags(&h), ["Invitation Completed"]);

    h.stack
        .checkr
        .complete_report(&report, "clear")
        .await
        .unwrap();
    webhooks_answered(&h, 4).await;
    assert_eq!(checkr_tags(&h), ["Report Clear"]);
    let link = format!("https://dashboard.checkr.com/reports/{report}");
    let report_notes: Vec<_> = h
        .stack
        .lever
        .notes(MARGARET)
        .into_iter()
        .filter(|note| note.value.contains(&link))
        .collect();
    assert_eq!(report_notes.len(), 1, "one note with the report's link");
    assert!(report_notes[0].secret, "a gated link: a secret note");
    assert!(report_notes[0].value.contains("Result: Clear"));
    for webhook in h.stack.checkr.webhooks() {
        assert_eq!(webhook.status, 200, "{} answered 200", webhook.event_type);
    }
    let order = h
        .store
        .find_by_vendor_order(VendorId::Checkr, &invitation.id)
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(order.phase(), OrderPhase::Closed);
}

#[tokio::test]
async fn a_forged_checkr_webhook_is_refused_and_changes_nothing() {
    let h = start().await;
    move_into_pre_hire_screening(&h).await;
    let [invitation] = h.stack.checkr.invitations().try_into().unwrap();
    webhooks_answered(&h, 1).await;
    let body = format!(
        r#"{{"id":"evt_forged","object":"event","type":"invitation.completed","data":{{"object":{{"id":"{}","object":"invitation","status":"completed"}}}}}}"#,
        invitation.id
    );
    let url = format!(
        "{}/callbacks/checkr/{}",
        h.stack.functions_url,
        demo::TENANT
    );
    let forged = secrecy::SecretString::from("not-the-api-key");
    for signature in [
        None,
        Some(callback_auth::sign_hex_hmac(&forged, body.as_bytes()).unwrap()),
    ] {
        let mut request = h
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header(checkr::SIGNATURE_HEADER, signature);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401);
    }
    h.settle().await;
    assert_eq!(checkr_tags(&h), ["Invitation Pending"]);
}

#[tokio::test]
async fn archiving_cancels_a_pending_invitation_and_an_expired_one_says_so() {
    let h = start().await;
    move_into_pre_hire_screening(&h).await;
    let [invitation] = h.stack.checkr.invitations().try_into().unwrap();
    webhooks_answered(&h, 1).await;
    h.stack
        .checkr
        .expire_invitation(&invitation.id)
        .await
        .unwrap();
    webhooks_answered(&h, 2).await;
    assert_eq!(checkr_tags(&h), ["Invitation Expired"]);

    // Moved in again, then archived: the new invitation is cancelled at Checkr.
    h.stack
        .lever
        .move_to_stage(MARGARET, demo::PHONE_SCREEN_STAGE_ID)
        .await
        .unwrap();
    move_into_pre_hire_screening(&h).await;
    let invitations = h.stack.checkr.invitations();
    assert_eq!(invitations.len(), 2, "ordered again");
    assert_eq!(
        h.stack.checkr.candidates().len(),
        1,
        "the Checkr candidate is re-used, as Checkr recommends"
    );
    h.stack
        .lever
        .archive_candidate(MARGARET, None)
        .await
        .unwrap();
    h.settle().await;
    let cancelled = &h.stack.checkr.invitations()[1];
    assert!(cancelled.deleted_at.is_some(), "cancelled at Checkr");
    webhooks_answered(&h, 4).await;
    assert_eq!(checkr_tags(&h), ["Canceled"]);
}

#[tokio::test]
async fn a_job_without_a_us_state_is_not_sent_to_checkr_and_the_recruiter_is_told_what_to_write() {
    let h = start().await;
    let remote = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    h.stack.lever.add_opportunity(SimOpportunity {
        id: remote.into(),
        name: "Katherine Remote".into(),
        emails: vec!["remote@example.com".into()],
        phones: vec![],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: None,
        location: Some("Remote".into()),
    });
    let sent = h
        .stack
        .lever
        .move_to_stage(remote, demo::PRE_HIRE_SCREENING_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    assert!(
        h.stack.checkr.candidates().is_empty(),
        "nothing sent to Checkr"
    );
    let notes = h.notes(remote);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "Checkr background check was not ordered: Checkr needs the job's US state"
        ) && notes[0].contains("(Remote)")
            && notes[0].contains("`City, ST`")
            && notes[0].contains(
                "Fix this in Lever, then move the candidate into the trigger stage again"
            ),
        "{}",
        notes[0]
    );
}
