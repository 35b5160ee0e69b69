//! Sterling Backcheck end to end: a move into 'Background Check' → lever-candidate-stage-change
//! → the worker → the strict Sterling simulator (API v2: token, candidate, screening), and
//! Sterling's unsigned callbacks → sterling-callback → the worker re-reading the screening →
//! the notes a recruiter reads under Candidate → Notes.

use crate::support::{start, Harness, OTHER_STERLING_SECRET};
use lever_screening::order::OrderPhase;
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::{SimNote, SterlingCallback, Vocabulary};
use serde_json::{json, Value};

const ALAN: &str = demo::STERLING_OPPORTUNITY_ID;
const CRIMINAL: &str = demo::STERLING_PACKAGE_SERVICES[0];
const EMPLOYMENT: &str = demo::STERLING_PACKAGE_SERVICES[1];
/// The first line of each status note.
const SERVICE: &str = "Sterling Backcheck background check";
/// The first line of the services note.
const SERVICES: &str = "Sterling Backcheck background check: screening services";

fn alan_notes(h: &Harness) -> Vec<SimNote> {
    h.stack.lever.notes(ALAN)
}

/// The status notes on Alan's profile, oldest first.
fn status_notes(h: &Harness) -> Vec<String> {
    h.notes(ALAN)
        .into_iter()
        .filter(|note| note.lines().next() == Some(SERVICE))
        .collect()
}

/// What a note's "Status:" line says.
fn status_line(note: &str) -> &str {
    note.lines()
        .find_map(|line| line.strip_prefix("Status: "))
        .unwrap_or_default()
}

/// The statuses the status notes show, oldest first.
fn statuses(h: &Harness) -> Vec<String> {
    status_notes(h)
        .iter()
        .map(|note| status_line(note).to_owned())
        .collect()
}

/// The services notes on Alan's profile.
fn services_notes(h: &Harness) -> Vec<SimNote> {
    alan_notes(h)
        .into_iter()
        .filter(|note| note.value.lines().next() == Some(SERVICES))
        .collect()
}

/// A note ends as Lever's Sterling Backcheck integration's does, with one of the seed's
/// fields, and carries no line of the product's own (such as a marker).
fn assert_seed_fields_only(note: &str) {
    let last = note.lines().last().unwrap_or_default();
    assert!(
        ["Date: ", "Completed Date: ", "Results Report: ", "Error: "]
            .iter()
            .any(|field| last.starts_with(field)),
        "the note ends with a line of its own: {note}"
    );
    assert!(!note.contains("[ls:"), "a marker: {note}");
}

/// Moves Alan Turing into 'Background Check' (Lever's delivery is queued) and waits for
/// the worker.
async fn move_into_background_check(h: &Harness) {
    let sent = h
        .stack
        .lever
        .move_to_stage(ALAN, demo::BACKGROUND_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
}

/// Moves Alan Turing back to 'Phone Screen', then into 'Background Check' again.
async fn move_back_then_into_background_check(h: &Harness) {
    h.stack
        .lever
        .move_to_stage(ALAN, demo::PHONE_SCREEN_STAGE_ID)
        .await
        .unwrap();
    move_into_background_check(h).await;
}

/// Moves Alan Turing into 'Background Check', waits for the worker, and returns the
/// Sterling screening id.
async fn submit_case(h: &Harness) -> String {
    move_into_background_check(h).await;
    let screenings = h.stack.sterling.screenings();
    assert_eq!(screenings.len(), 1, "{screenings:?}");
    screenings[0].id.clone()
}

/// Sterling posts the screening as it is now; the worker re-reads and applies it.
async fn sterling_reports(h: &Harness, screening: &str) -> SterlingCallback {
    let sent = h.stack.sterling.post_callback(screening).await.unwrap();
    // Exactly 200: Sterling sends a callback again until it gets it.
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;
    sent
}

fn callback_url(h: &Harness, tenant: &str, secret: &str) -> String {
    format!(
        "{}/callbacks/sterling/{tenant}/{secret}",
        h.stack.functions_url
    )
}

/// Replaces Alan's opportunity in Lever with `change` applied.
fn edit_alan(h: &Harness, change: impl FnOnce(&mut lever_screening_simulators::SimOpportunity)) {
    let mut alan = h.stack.lever.opportunity(ALAN).unwrap();
    change(&mut alan);
    h.stack.lever.add_opportunity(alan);
}

#[tokio::test]
async fn a_stage_change_submits_a_case_and_lever_shows_the_new_note() {
    let h = start().await;
    let id = submit_case(&h).await;

    let candidates = h.stack.sterling.candidates();
    assert_eq!(candidates.len(), 1);
    let candidate = &candidates[0];
    assert_eq!(
        (
            candidate.given_name.as_str(),
            candidate.family_name.as_str()
        ),
        ("Alan", "Turing")
    );
    assert_eq!(candidate.email, "alan@example.com");
    assert_eq!(candidate.phone.as_deref(), Some("+442079460018"));
    assert_eq!(candidate.screening_ids, std::slice::from_ref(&id));
    let screening = h.stack.sterling.screening(&id).unwrap();
    assert_eq!(screening.package_id, demo::STERLING_PACKAGE_ID);
    assert_eq!(screening.candidate_id, candidate.id);
    assert_eq!(
        screening.callback_uri,
        callback_url(&h, demo::TENANT, demo::STERLING_CALLBACK_SECRET)
    );
    let emails = h.stack.sterling.emails();
    assert_eq!(emails.len(), 1, "the candidate is emailed the portal link");
    assert_eq!(emails[0].to, "alan@example.com");

    let notes = h.notes(ALAN);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let new = &notes[0];
    assert!(
        new.starts_with(&format!(
            "{SERVICE}\nStatus: New\nReference number: {id}\nDate: 20"
        )),
        "{new}"
    );
    assert_seed_fields_only(new);
    assert!(h.tags_of(ALAN).is_empty(), "Sterling shows notes, not tags");
    assert_eq!(h.store.orders()[0].vendor_order_id(), Some(&*id));
}

#[tokio::test]
async fn each_status_adds_its_note_and_completed_carries_the_results() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "In Progress"]);

    h.stack
        .sterling
        .complete(&id, "Amber", "https://sterling.example/reports/alan")
        .unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "In Progress", "Completed"]);
    let completed = status_notes(&h).pop().unwrap();
    assert!(completed.contains("Results Score: Amber\n"), "{completed}");
    assert!(
        completed.contains("Results Report: https://sterling.example/reports/alan\n"),
        "{completed}"
    );
    assert!(completed.contains("Completed Date: 20"), "{completed}");
    assert!(completed.contains(&format!("Reference number: {id}\n")));
    for note in h.notes(ALAN) {
        assert_seed_fields_only(&note);
    }
    assert_eq!(h.store.orders()[0].phase(), OrderPhase::Closed);
}

#[tokio::test]
async fn an_error_is_noted_with_sterlings_error_text_and_ends_the_case() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack
        .sterling
        .set_error(&id, "Candidate portal link expired")
        .unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "Error"]);
    let error = status_notes(&h).pop().unwrap();
    assert!(
        error.ends_with("\nError: Candidate portal link expired"),
        "{error}"
    );

    // Error ends the case: a later Canceled adds nothing.
    h.stack.sterling.set_status(&id, "Canceled").unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "Error"]);
}

#[tokio::test]
async fn a_canceled_case_is_noted() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "Canceled").unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "Canceled"]);
    assert!(services_notes(&h).is_empty(), "nothing was in production");
    assert_eq!(h.store.orders()[0].phase(), OrderPhase::Closed);
}

#[tokio::test]
async fn piecemeal_results_keep_one_services_note_up_to_date() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    sterling_reports(&h, &id).await;
    let first = services_notes(&h);
    let [first] = first.as_slice() else {
        panic!("one services note: {:#?}", h.notes(ALAN));
    };
    assert_eq!(status_line(&first.value), "In Production");
    assert!(
        first.value.contains(&format!("Reference number: {id}\n")),
        "{}",
        first.value
    );
    assert!(
        first.value.contains(&format!(
            "ScreeningName: {CRIMINAL}\nScreeningStatus: Not Started\nScreeningScore: -\n"
        )),
        "{}",
        first.value
    );

    h.stack
        .sterling
        .complete_service(
            &id,
            CRIMINAL,
            "Clear",
            "https://sterling.example/r/criminal",
        )
        .unwrap();
    sterling_reports(&h, &id).await;
    let second = services_notes(&h);
    let [second] = second.as_slice() else {
        panic!("still one services note: {:#?}", h.notes(ALAN));
    };
    assert_eq!(second.id, first.id, "the same note, updated in place");
    assert!(second.updated_at.is_some());
    assert_eq!(status_line(&second.value), "In Production");
    assert!(
        second.value.contains(&format!(
            "ScreeningName: {CRIMINAL}\nScreeningStatus: Complete\nScreeningScore: Clear\nScreeningCompleteDate: 20"
        )),
        "{}",
        second.value
    );
    assert!(second
        .value
        .contains("Results Report: https://sterling.example/r/criminal"));
    assert!(second.value.contains(&format!(
        "ScreeningName: {EMPLOYMENT}\nScreeningStatus: Not Started\n"
    )));

    h.stack
        .sterling
        .complete_service(
            &id,
            EMPLOYMENT,
            "Clear",
            "https://sterling.example/r/employment",
        )
        .unwrap();
    sterling_reports(&h, &id).await;
    let third = services_notes(&h);
    let [third] = third.as_slice() else {
        panic!("still one services note: {:#?}", h.notes(ALAN));
    };
    assert_eq!(third.id, first.id);
    assert_eq!(status_line(&third.value), "Fulfilled");
    assert_seed_fields_only(&third.value);
    assert_eq!(statuses(&h), ["New", "In Progress"]);
    assert_eq!(
        alan_notes(&h).len(),
        3,
        "New, In Progress and one services note"
    );
}

#[tokio::test]
async fn a_callback_is_applied_as_sterlings_api_says_not_as_its_body_claims() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let mut forged = h.stack.sterling.screening(&id).unwrap().to_json();
    forged["status"] = json!("Completed");
    forged["score"] = json!("Green");
    let sent = h
        .stack
        .sterling
        .post_callback_with(&id, forged)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;

    assert_eq!(statuses(&h), ["New", "In Progress"]);
    let notes = h.notes(ALAN);
    assert!(
        notes.iter().all(|n| !n.contains("Results Score")),
        "{notes:#?}"
    );
    let order = &h.store.orders()[0];
    assert_eq!(order.status(), Some("In Progress"));
    assert_eq!(order.results().score, None);
}

#[tokio::test]
async fn a_wrong_url_secret_is_401_and_changes_nothing() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let body = json!({
        "type": "screening",
        "payload": h.stack.sterling.screening(&id).unwrap().to_json(),
    })
    .to_string();
    let post = |url: String| {
        let body = body.clone();
        let h = &h;
        async move { h.post(&url, "application/json", body).await }
    };

    for url in [
        callback_url(&h, demo::TENANT, "not-the-callback-secret"),
        // The other tenant's secret, on the demo tenant's URL.
        callback_url(&h, demo::TENANT, OTHER_STERLING_SECRET),
        format!(
            "{}/callbacks/sterling/{}",
            h.stack.functions_url,
            demo::TENANT
        ),
    ] {
        let (status, answer) = post(url.clone()).await;
        assert_eq!(status, 401, "{url}: {answer}");
        assert_eq!(answer["error"]["message"], "authentication failed");
    }
    // The other tenant's own secret, naming the demo tenant's screening.
    let (status, answer) = post(callback_url(&h, "other", OTHER_STERLING_SECRET)).await;
    assert_eq!(status, 404, "{answer}");
    h.settle().await;
    assert_eq!(statuses(&h), ["New"], "nothing changed");
    assert_eq!(h.store.orders()[0].status(), Some("Initiated"));

    // The right secret.
    let (status, answer) = post(callback_url(
        &h,
        demo::TENANT,
        demo::STERLING_CALLBACK_SECRET,
    ))
    .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("received")));
    h.settle().await;
    assert_eq!(statuses(&h), ["New", "In Progress"]);
}

#[tokio::test]
async fn the_same_callback_twice_adds_one_note() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let sent = sterling_reports(&h, &id).await;
    let before = alan_notes(&h);
    let calls = h.stack.lever.api_calls().len();

    let again = h.stack.sterling.resend(&sent).await.unwrap();
    assert_eq!(again.status, 200, "{}", again.response);
    let answer: Value = serde_json::from_str(&again.response).unwrap();
    assert_eq!(answer["status"], "duplicate");
    h.settle().await;
    assert_eq!(alan_notes(&h), before);
    assert_eq!(statuses(&h), ["New", "In Progress"]);
    assert_eq!(h.lever_calls_since(calls), Vec::<String>::new());
}

#[tokio::test]
async fn under_sterlings_v2_words_lever_still_shows_lever_articles_words() {
    let h = start().await;
    h.stack.sterling.set_vocabulary(Vocabulary::V2);
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let sent = sterling_reports(&h, &id).await;
    assert!(sent.body.contains(r#""status":"pending""#), "{}", sent.body);
    h.stack
        .sterling
        .complete(&id, "Amber", "https://sterling.example/reports/alan")
        .unwrap();
    let sent = sterling_reports(&h, &id).await;
    assert!(
        sent.body.contains(r#""result":"Consider""#),
        "{}",
        sent.body
    );

    assert_eq!(statuses(&h), ["New", "In Progress", "Completed"]);
    let completed = status_notes(&h).pop().unwrap();
    assert!(completed.contains("Results Score: Amber\n"), "{completed}");
    assert!(completed.contains("Results Report: https://sterling.example/reports/alan"));
    assert_eq!(h.store.orders()[0].phase(), OrderPhase::Closed);
}

#[tokio::test]
async fn reordering_after_a_closed_case_reuses_the_sterling_candidate() {
    let h = start().await;
    let first = submit_case(&h).await;
    h.stack
        .sterling
        .complete(&first, "Green", "https://sterling.example/reports/alan")
        .unwrap();
    sterling_reports(&h, &first).await;
    assert_eq!(h.store.orders()[0].phase(), OrderPhase::Closed);

    // Back, then into 'Background Check' again: a new case for the same person, whom
    // Sterling keeps, by the id her last order kept.
    move_back_then_into_background_check(&h).await;

    let candidates = h.stack.sterling.candidates();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    let screenings = h.stack.sterling.screenings();
    assert_eq!(screenings.len(), 2, "{screenings:?}");
    let second = &screenings[1].id;
    assert_eq!(screenings[1].candidate_id, candidates[0].id);
    assert_eq!(candidates[0].screening_ids, [first.clone(), second.clone()]);
    let orders = h.store.orders();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[1].vendor_order_id(), Some(second.as_str()));
    assert_eq!(orders[1].phase(), OrderPhase::Open);
    let newest = status_notes(&h).pop().unwrap();
    assert!(
        newest.starts_with(&format!(
            "{SERVICE}\nStatus: New\nReference number: {second}\n"
        )),
        "{newest}"
    );
}

#[tokio::test]
async fn a_screening_create_whose_answer_is_lost_is_not_made_twice() {
    let h = start().await;
    // Sterling makes the screening but the gateway loses its answer; v2 has no
    // idempotency key, so a blind retry would order a second case.
    h.stack.sterling.fail_screenings_after_applying(1, 504);
    let id = submit_case(&h).await;

    assert_eq!(h.stack.sterling.screenings().len(), 1);
    assert_eq!(h.stack.sterling.emails().len(), 1, "one invitation");
    let order = &h.store.orders()[0];
    assert_eq!(order.phase(), OrderPhase::Open);
    assert_eq!(order.vendor_order_id(), Some(id.as_str()));
    let notes = status_notes(&h);
    assert_eq!(statuses(&h), ["New"]);
    assert!(notes[0].contains(&format!("Reference number: {id}\n")));
}

#[tokio::test]
async fn a_phone_typed_with_punctuation_reaches_sterling_in_e164() {
    let h = start().await;
    edit_alan(&h, |alan| alan.phones = vec!["(416) 555-0104".into()]);
    submit_case(&h).await;
    let candidates = h.stack.sterling.candidates();
    assert_eq!(candidates[0].phone.as_deref(), Some("+14165550104"));
}

#[tokio::test]
async fn the_sterling_token_is_fetched_once_and_renewed_once_when_refused() {
    let h = start().await;
    let id = submit_case(&h).await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(
        h.stack.sterling.tokens_issued(),
        1,
        "one token for the candidate, the screening and the re-read"
    );

    h.stack.sterling.expire_tokens();
    h.stack
        .sterling
        .complete(&id, "Green", "https://sterling.example/reports/alan")
        .unwrap();
    sterling_reports(&h, &id).await;
    assert_eq!(statuses(&h), ["New", "In Progress", "Completed"]);
    assert_eq!(h.stack.sterling.tokens_issued(), 2, "renewed once");
}

#[tokio::test]
async fn a_package_sterling_refuses_holds_the_order_and_a_corrected_tag_places_it() {
    let h = start().await;
    let lever = &h.stack.lever;
    let alan = lever.opportunity(ALAN).unwrap();
    let mut tagged = alan.clone();
    tagged.tags.push(format!(
        "{} Retired[ID : 999]",
        demo::STERLING_PACKAGE_TAG_PREFIX
    ));
    lever.add_opportunity(tagged);
    move_into_background_check(&h).await;
    assert!(h.stack.sterling.screenings().is_empty());
    assert_eq!(h.stack.sterling.candidates().len(), 1, "Sterling keeps her");
    let held = &h.store.orders()[0];
    let attention = held.attention().expect("held: needs attention");
    assert!(
        attention
            .cause
            .starts_with("Sterling Backcheck refused the package ordered (HTTP 400: packageId 999"),
        "{attention:?}"
    );
    let refused = h.notes(ALAN);
    assert!(
        refused[0].starts_with(
            "Sterling Backcheck background check not ordered yet: Sterling Backcheck did not \
             accept the screening package chosen for this candidate"
        ),
        "{refused:?}"
    );

    // The recruiter removes the wrong tag and moves her into 'Background Check' again: the
    // held order is placed, with documented calls only, and no second order.
    lever.add_opportunity(alan);
    move_back_then_into_background_check(&h).await;
    let candidates = h.stack.sterling.candidates();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    let screenings = h.stack.sterling.screenings();
    assert_eq!(screenings.len(), 1, "ordered: {:?}", h.notes(ALAN));
    assert_eq!(screenings[0].candidate_id, candidates[0].id);
    let orders = h.store.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0].phase(), OrderPhase::Open);
    assert!(orders[0].attention().is_none());
}
