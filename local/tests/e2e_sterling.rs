//! Sterling Backcheck end to end: Lever simulator → lever-candidate-stage-change → Sterling
//! simulator → sterling-callback → notes in the Lever simulator, as a recruiter reads them
//! under Candidate → Notes.

mod support;

use lever_screening_local::demo_tenant as demo;
use lever_screening_local::sim::{SimNote, SterlingCallback};
use serde_json::{json, Value};
use support::{start, Harness, OTHER_STERLING_SECRET};

const CRIMINAL: &str = "Criminal Record Check";
const EMPLOYMENT: &str = "Employment Verification";

impl Harness {
    fn sterling_notes(&self) -> Vec<SimNote> {
        self.stack.lever.notes(demo::STERLING_OPPORTUNITY_ID)
    }

    fn note_texts(&self) -> Vec<String> {
        self.sterling_notes().into_iter().map(|n| n.value).collect()
    }

    /// Moves Alan Turing into 'Background Check' and returns the Sterling screening id.
    async fn submit_case(&self) -> String {
        let sent = self
            .stack
            .lever
            .move_to_stage(
                demo::STERLING_OPPORTUNITY_ID,
                demo::BACKGROUND_CHECK_STAGE_ID,
            )
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        let screenings = self.stack.sterling.screenings();
        assert_eq!(screenings.len(), 1);
        screenings[0].id.clone()
    }

    async fn sterling_callback(&self, screening: &str) -> SterlingCallback {
        let sent = self.stack.sterling.post_callback(screening).await.unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        sent
    }

    async fn post_to(&self, tenant: &str, secret: &str, body: &Value) -> u16 {
        self.http
            .post(format!(
                "{}/callbacks/sterling/{tenant}/{secret}",
                self.stack.functions_url
            ))
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn status_of(note: &str) -> &str {
    note.lines()
        .find_map(|line| line.strip_prefix("Status: "))
        .unwrap_or("")
}

#[tokio::test]
async fn a_stage_change_submits_a_case_and_lever_shows_new() {
    let h = start().await;
    let screening_id = h.submit_case().await;

    let candidate = &h.stack.sterling.candidates()[0];
    assert_eq!(
        (
            candidate.given_name.as_str(),
            candidate.family_name.as_str()
        ),
        ("Alan", "Turing")
    );
    assert_eq!(candidate.email, "alan@example.com");
    assert_eq!(candidate.phone.as_deref(), Some("+44 20 7946 0018"));
    let screening = h.stack.sterling.screening(&screening_id).unwrap();
    assert_eq!(screening.package_id, demo::STERLING_PACKAGE_ID);
    assert_eq!(
        screening.callback_uri,
        format!(
            "{}/callbacks/sterling/demo/{}",
            h.stack.functions_url,
            demo::STERLING_CALLBACK_SECRET
        )
    );
    let emails = h.stack.sterling.emails();
    assert_eq!(emails.len(), 1, "the candidate is emailed the portal link");
    assert_eq!(emails[0].to, "alan@example.com");

    let notes = h.note_texts();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("Sterling Backcheck background check\nStatus: New\n"));
    assert!(notes[0].contains(&format!("Reference number: {}", screening.order_number)));
    assert!(notes[0].contains("Date: 20"), "{}", notes[0]);
    assert!(h
        .stack
        .lever
        .opportunity(demo::STERLING_OPPORTUNITY_ID)
        .unwrap()
        .tags
        .is_empty());
}

#[tokio::test]
async fn each_order_status_adds_its_note_and_completion_carries_score_report_and_date() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    h.sterling_callback(&id).await;
    h.stack
        .sterling
        .complete(&id, "Amber", "https://sterling.example/reports/alan")
        .unwrap();
    h.sterling_callback(&id).await;

    let notes = h.note_texts();
    let statuses: Vec<&str> = notes.iter().map(|n| status_of(n)).collect();
    assert_eq!(
        statuses,
        ["New", "In Progress", "Fulfilled", "Completed"],
        "{notes:#?}"
    );
    let completed = notes.last().unwrap();
    assert!(completed.contains("Score: Amber"), "{completed}");
    assert!(completed.contains("Report: https://sterling.example/reports/alan"));
    assert!(completed.contains("Completed date: 20"));
    let order = &h.store.orders()[0];
    assert_eq!(
        order.results.result_code.as_deref(),
        Some("Review"),
        "Amber is Review"
    );
}

#[tokio::test]
async fn canceled_and_error_cases_are_noted_with_the_error_text() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack
        .sterling
        .set_error(&id, "Candidate portal link expired")
        .unwrap();
    h.sterling_callback(&id).await;
    let error = h.note_texts().pop().unwrap();
    assert_eq!(status_of(&error), "Error");
    assert!(
        error.contains("Error: Candidate portal link expired"),
        "{error}"
    );

    // Error ends the case: a later Canceled does not add a note.
    h.stack.sterling.set_status(&id, "Canceled").unwrap();
    h.sterling_callback(&id).await;
    assert_eq!(h.note_texts().len(), 2);

    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "canceled").unwrap(); // the v2 word
    h.sterling_callback(&id).await;
    assert_eq!(status_of(&h.note_texts().pop().unwrap()), "Canceled");
}

#[tokio::test]
async fn piecemeal_results_keep_one_services_note_up_to_date() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    h.sterling_callback(&id).await;
    let services = |h: &Harness| {
        h.sterling_notes()
            .into_iter()
            .find(|n| n.value.contains("screening services"))
            .expect("a services note")
    };
    let first = services(&h);
    assert_eq!(status_of(&first.value), "In Production");
    assert!(first
        .value
        .contains(&format!("{CRIMINAL} | Not Started | - | - | -")));

    h.stack
        .sterling
        .complete_service(
            &id,
            CRIMINAL,
            "Clear",
            "https://sterling.example/r/criminal",
        )
        .unwrap();
    let sent = h.sterling_callback(&id).await;
    let second = services(&h);
    assert_eq!(second.id, first.id, "the same note, updated in place");
    assert!(second.updated_at.is_some());
    assert_eq!(status_of(&second.value), "In Production");
    assert!(second
        .value
        .contains(&format!("{CRIMINAL} | Complete | Clear | 20")));
    assert!(second.value.contains("https://sterling.example/r/criminal"));
    assert!(second
        .value
        .contains(&format!("{EMPLOYMENT} | Not Started")));

    // An unchanged repeat post adds nothing.
    let notes_before = h.sterling_notes();
    let calls_before = h.stack.lever.api_calls().len();
    h.stack.sterling.resend(&sent).await.unwrap();
    assert_eq!(h.sterling_notes(), notes_before);
    assert_eq!(h.stack.lever.api_calls().len(), calls_before);

    h.stack
        .sterling
        .complete_service(
            &id,
            EMPLOYMENT,
            "Clear",
            "https://sterling.example/r/employment",
        )
        .unwrap();
    h.sterling_callback(&id).await;
    let third = services(&h);
    assert_eq!(third.id, first.id);
    assert_eq!(status_of(&third.value), "Fulfilled");
    let count = h.sterling_notes().len();
    assert_eq!(count, 3, "New, In Progress and one services note");
}

#[tokio::test]
async fn a_late_in_progress_after_completed_changes_nothing() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack
        .sterling
        .complete(&id, "Green", "https://sterling.example/r")
        .unwrap();
    h.sterling_callback(&id).await;
    let before = h.sterling_notes();
    // Sterling's API now says In Progress again (a late post): never backwards.
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let late = h.sterling_callback(&id).await;
    assert!(late.response.contains("unchanged"), "{}", late.response);
    assert_eq!(h.sterling_notes(), before);
}

#[tokio::test]
async fn a_callback_is_applied_as_sterlings_api_says_not_as_its_body_claims() {
    let h = start().await;
    let id = h.submit_case().await;
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
    let notes = h.note_texts();
    assert_eq!(
        status_of(notes.last().unwrap()),
        "In Production",
        "{notes:#?}"
    );
    assert!(notes.iter().all(|n| !n.contains("Score:")), "{notes:#?}");
    assert!(notes.iter().any(|n| status_of(n) == "In Progress"));
}

#[tokio::test]
async fn a_wrong_url_secret_or_another_tenants_order_is_refused_and_changes_nothing() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let body = json!({ "type": "screening", "payload": h.stack.sterling.screening(&id).unwrap().to_json() });
    let before = h.sterling_notes();

    assert_eq!(h.post_to("demo", "not-the-secret-at-all", &body).await, 401);
    assert_eq!(h.post_to("demo", OTHER_STERLING_SECRET, &body).await, 401);
    // The other tenant's own, valid secret, but the demo tenant's order.
    assert_eq!(h.post_to("other", OTHER_STERLING_SECRET, &body).await, 404);
    assert_eq!(h.sterling_notes(), before);
    assert_eq!(h.store.orders()[0].status.as_deref(), Some("Initiated"));
}

#[tokio::test]
async fn the_same_callback_twice_adds_one_note() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    let sent = h.sterling_callback(&id).await;
    let again = h.stack.sterling.resend(&sent).await.unwrap();
    assert_eq!(again.status, 200);
    assert!(again.response.contains("duplicate"), "{}", again.response);
    let in_progress = h
        .note_texts()
        .iter()
        .filter(|n| status_of(n) == "In Progress")
        .count();
    assert_eq!(in_progress, 1);
}

#[tokio::test]
async fn a_missing_email_or_package_sends_nothing_and_a_note_says_what_to_fix() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(
            demo::NO_EMAIL_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    assert!(h.stack.sterling.candidates().is_empty());
    let notes = h.stack.lever.notes(demo::NO_EMAIL_OPPORTUNITY_ID);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].value.starts_with(
        "Sterling Backcheck background check was not ordered: the candidate has no email address"
    ));

    // Without a package tag and without a default package.
    let h = start().await;
    let mut tenant = h
        .stack
        .app
        .store
        .get_tenant(demo::TENANT)
        .await
        .unwrap()
        .unwrap();
    let sterling = tenant
        .vendors
        .get_mut(&lever_screening::model::VendorId::Sterling)
        .unwrap();
    sterling.package.default = None;
    h.stack.app.store.put_tenant(&tenant).await.unwrap();
    h.stack
        .lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await
        .unwrap();
    assert!(h.stack.sterling.screenings().is_empty());
    let note = h.note_texts().pop().unwrap();
    assert!(note.contains("no background check package"), "{note}");
    assert!(note.contains("STERLING BGC PKG: Name[ID : 123]"), "{note}");
}

#[tokio::test]
async fn a_package_tag_on_the_posting_selects_the_package() {
    let h = start().await;
    h.stack.sterling.add_package(
        "pkg-exec",
        "Executive",
        &["Criminal Record Check", "Credit"],
    );
    h.http
        .post(format!(
            "{}/v1/opportunities/{}/addTags",
            h.stack.lever_url,
            demo::STERLING_OPPORTUNITY_ID
        ))
        .basic_auth(demo::LEVER_API_KEY, Some(""))
        .json(&json!({ "tags": ["STERLING BGC PKG: Executive[ID : pkg-exec]"] }))
        .send()
        .await
        .unwrap();
    let id = h.submit_case().await;
    assert_eq!(
        h.stack.sterling.screening(&id).unwrap().package_id,
        "pkg-exec"
    );
}

#[tokio::test]
async fn the_sterling_token_is_fetched_once_and_renewed_when_refused() {
    let h = start().await;
    let id = h.submit_case().await;
    h.stack.sterling.set_status(&id, "In Progress").unwrap();
    h.sterling_callback(&id).await;
    let issued = h.stack.sterling.tokens_issued();
    assert!(
        issued <= 1,
        "one token for candidate, screening and re-read: {issued}"
    );

    h.stack.sterling.expire_tokens();
    h.stack
        .sterling
        .complete(&id, "Green", "https://sterling.example/r")
        .unwrap();
    h.sterling_callback(&id).await;
    assert_eq!(status_of(&h.note_texts().pop().unwrap()), "Completed");
    assert!(h.stack.sterling.tokens_issued() > issued);
}
