//! On the OAuth tenant: HRLogics WOTC surveys sent on Application Created and their
//! eligibility tags, and ESR background checks with their packages, status notes, flags
//! sent to the candidate's followers, and report links.

use crate::support::{start_connected, tenant, Harness};
use lever_screening::clock::Deadline;
use lever_screening::flows::{admin, AckStatus};
use lever_screening::ids::OpportunityId;
use lever_screening::vendors::VendorId;
use lever_screening_local::demo_tenant as demo;
use lever_screening_simulators::SentCallback;
use serde_json::Value;
use std::time::Duration;

const ADA: &str = demo::OPPORTUNITY_ID;
const GRACE: &str = demo::NO_EMAIL_OPPORTUNITY_ID;
const KATHERINE: &str = demo::JUSTIFACTS_OPPORTUNITY_ID;
const ALAN: &str = demo::STERLING_OPPORTUNITY_ID;

/// The `status` of an answer's JSON body.
fn status_of(response: &str) -> String {
    let body: Value = serde_json::from_str(response).unwrap();
    body["status"].as_str().unwrap_or_default().to_owned()
}

fn applied(sent: &SentCallback) {
    assert_eq!(
        (sent.status, status_of(&sent.response).as_str()),
        (200, "applied"),
        "{}",
        sent.response
    );
}

impl Harness {
    /// Lever reports `opportunity`'s application; the worker has done what it queued.
    async fn application_created(&self, opportunity: &str) -> Value {
        let sent = self
            .stack
            .oauth_lever
            .application_created(opportunity)
            .await
            .unwrap();
        assert_eq!(sent.status, 202, "{}", sent.response);
        self.settle().await;
        sent.body
    }

    fn wotc_tags(&self, opportunity: &str) -> Vec<String> {
        self.oauth_tags_of(opportunity)
            .into_iter()
            .filter(|t| t.starts_with("HRLogics-WOTC:"))
            .collect()
    }

    /// Alan, carrying `tags`, moves into 'Pre-hire Screening'; the ESR order placed.
    async fn order_esr(&self, tags: &[&str]) -> lever_screening_simulators::EsrOrder {
        let lever = &self.stack.oauth_lever;
        let mut alan = lever.opportunity(ALAN).unwrap();
        alan.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        lever.add_opportunity(alan);
        let sent = lever
            .move_to_stage(ALAN, demo::PRE_HIRE_SCREENING_STAGE_ID)
            .await
            .unwrap();
        assert_eq!(sent.status, 202, "{}", sent.response);
        self.settle().await;
        let orders = self.stack.esr.orders();
        assert_eq!(orders.len(), 1, "{orders:#?}");
        orders[0].clone()
    }

    async fn esr_status(
        &self,
        order: &str,
        status: &str,
        flags: &[(&str, &str)],
        report: Option<&str>,
    ) -> SentCallback {
        let sent = self
            .stack
            .esr
            .post_status(order, status, flags, report)
            .await
            .unwrap();
        self.settle().await;
        sent
    }
}

#[tokio::test]
async fn a_new_application_with_an_email_sends_one_hrlogics_applicant_the_survey() {
    let h = start_connected().await;
    let delivery = h.application_created(ADA).await;

    let applicants = h.stack.hrlogics.applicants();
    assert_eq!(applicants.len(), 1);
    let applicant = &applicants[0];
    assert_eq!(
        (applicant.first_name.as_str(), applicant.last_name.as_str()),
        ("Ada", "Lovelace")
    );
    assert_eq!(applicant.email, "ada@example.com");
    assert_eq!(applicant.phone.as_deref(), Some("+14165550100"), "E.164");
    assert_eq!(
        applicant.job_title.as_deref(),
        Some("Senior Software Engineer")
    );
    assert_eq!(applicant.location.as_deref(), Some("Toronto"));
    assert!(applicant.survey_url.ends_with(&applicant.applicant_id));

    // Lever redelivers it: answered as a duplicate, nothing sent again.
    let url = admin::webhook_url(
        &h.stack.functions_url,
        &tenant(demo::OAUTH_TENANT),
        lever_screening::lever::webhook::WebhookKind::ApplicationCreated,
    );
    let again = h.stack.oauth_lever.send_raw(&url, &delivery).await.unwrap();
    assert_eq!(
        (again.status, status_of(&again.response).as_str()),
        (200, "duplicate"),
        "{}",
        again.response
    );
    h.settle().await;
    assert_eq!(h.stack.hrlogics.applicants().len(), 1);
    assert!(
        h.wotc_tags(ADA).is_empty(),
        "no tag before HRLogics evaluates"
    );
    assert!(h.oauth_notes(ADA).is_empty());
}

#[tokio::test]
async fn without_an_email_nothing_is_sent_a_note_says_why_and_an_operator_sends_it_once_fixed() {
    let h = start_connected().await;
    h.application_created(GRACE).await;
    assert!(h.stack.hrlogics.applicants().is_empty());
    let notes = h.oauth_notes(GRACE);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].starts_with(
            "The HRLogics WOTC survey could not be sent: the candidate has no email address"
        ),
        "{}",
        notes[0]
    );
    // Written for the recruiter: no operator command, no placeholder; who re-sends it.
    assert!(
        notes[0].ends_with("Once that is fixed in Lever, ask your Lever admin to send it again."),
        "{}",
        notes[0]
    );
    assert!(
        !notes[0].contains('<') && !notes[0].contains('`'),
        "{}",
        notes[0]
    );

    // The recruiter adds her email in Lever; the admin runs `lever-screening-admin order`.
    h.stack.oauth_lever.set_email(GRACE, "grace@example.com");
    let app = &h.stack.app;
    let globex = app
        .tenants()
        .tenant(&tenant(demo::OAUTH_TENANT))
        .await
        .unwrap();
    let worker = app.worker(Deadline::after(Duration::from_secs(30)));
    let grace = OpportunityId::parse(GRACE).unwrap();
    let base = &h.stack.functions_url;
    let ack = admin::order(&worker, &globex, VendorId::HrLogics, &grace, base)
        .await
        .unwrap();
    assert_eq!(ack.status, AckStatus::Ordered, "{ack:?}");
    let applicants = h.stack.hrlogics.applicants();
    assert_eq!(applicants.len(), 1);
    assert_eq!(applicants[0].email, "grace@example.com");
    assert_eq!(
        (
            applicants[0].first_name.as_str(),
            applicants[0].last_name.as_str()
        ),
        ("Grace", "Hopper")
    );

    // Run again, it does not send a second survey while the first is open.
    admin::order(&worker, &globex, VendorId::HrLogics, &grace, base)
        .await
        .unwrap();
    h.settle().await;
    assert_eq!(h.stack.hrlogics.applicants().len(), 1);
}

#[tokio::test]
async fn each_wotc_result_is_the_exact_tag_and_a_later_result_replaces_the_earlier() {
    let h = start_connected().await;
    h.application_created(KATHERINE).await;
    let id = h.stack.hrlogics.applicants()[0].applicant_id.clone();
    let hrlogics = &h.stack.hrlogics;

    let pre = hrlogics
        .post_eligibility(&id, "Pre Qualified")
        .await
        .unwrap();
    applied(&pre);
    h.settle().await;
    assert_eq!(h.wotc_tags(KATHERINE), ["HRLogics-WOTC:Pre Qualified"]);

    for (result, tag) in [
        ("Not Qualified", "HRLogics-WOTC:Not Qualified"),
        ("Pre Qualified", "HRLogics-WOTC:Pre Qualified"),
    ] {
        let sent = hrlogics.post_eligibility(&id, result).await.unwrap();
        applied(&sent);
        h.settle().await;
        assert_eq!(h.wotc_tags(KATHERINE), [tag], "re-evaluated: {result}");
    }
    assert!(
        h.oauth_tags_of(KATHERINE)
            .contains(&demo::JUSTIFACTS_PACKAGE_TAG.to_owned()),
        "other tags stay"
    );

    // The same result again changes nothing in Lever.
    let calls = h.stack.oauth_lever.api_calls().len();
    let repeat = hrlogics
        .post_eligibility(&id, "Pre Qualified")
        .await
        .unwrap();
    assert_eq!(
        status_of(&repeat.response),
        "unchanged",
        "{}",
        repeat.response
    );
    h.settle().await;
    assert_eq!(h.stack.oauth_lever.api_calls().len(), calls);
    assert_eq!(h.wotc_tags(KATHERINE), ["HRLogics-WOTC:Pre Qualified"]);
}

#[tokio::test]
async fn esr_orders_the_tagged_package_and_shows_statuses_a_flag_to_followers_and_the_report() {
    let h = start_connected().await;
    let order = h.order_esr(&["ESR PKG: Executive[ID : 102]"]).await;
    assert_eq!(order.package_id, "102");
    assert_eq!(order.candidate.email, "alan@example.com");
    assert_eq!(order.candidate.phone.as_deref(), Some("+442079460018"));
    let id = order.order_id.clone();
    let notes = |h: &Harness| h.stack.oauth_lever.notes(ALAN);
    let first = notes(&h);
    assert_eq!(first.len(), 1, "{first:#?}");
    assert!(
        first[0].value.contains("Status: Draft"),
        "{}",
        first[0].value
    );
    assert!(first[0].value.contains(&id), "{}", first[0].value);

    applied(&h.esr_status(&id, "In-Progress", &[], None).await);
    let flagged = h
        .esr_status(
            &id,
            "In-Progress",
            &[("Criminal", "Record found in Alameda County")],
            None,
        )
        .await;
    applied(&flagged);
    let all = notes(&h);
    let flags: Vec<_> = all.iter().filter(|n| n.value.contains("FLAG")).collect();
    assert_eq!(flags.len(), 1, "{all:#?}");
    // ESR's flag as ESR gives it, without advice of the product's own.
    assert_eq!(
        flags[0].value,
        "⚠ FLAG — ESR background check needs review\nFlagged: Criminal: Record found in Alameda County"
    );
    assert!(flags[0].notify_followers, "the followers are notified");
    assert!(
        all.iter()
            .filter(|n| !n.value.contains("FLAG"))
            .all(|n| !n.notify_followers),
        "only the flag notifies: {all:#?}"
    );

    let report = "https://esr.example/reports/alan";
    let done = h.esr_status(&id, "Completed", &[], Some(report)).await;
    applied(&done);
    let all = notes(&h);
    let texts: Vec<&str> = all.iter().map(|n| n.value.as_str()).collect();
    assert!(
        texts.iter().any(|n| n.contains("Status: In-Progress")),
        "{texts:#?}"
    );
    assert!(
        texts.iter().any(|n| n.contains("Status: Completed")),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|n| n.contains(&format!("Report: {report}"))),
        "{texts:#?}"
    );
    assert_eq!(
        all.len(),
        5,
        "Draft, In-Progress, the flag, Completed, the report: {texts:#?}"
    );

    // ESR repeats its callback: nothing new in Lever.
    let repeat = h.stack.esr.resend(&done).await.unwrap();
    assert_eq!(
        status_of(&repeat.response),
        "duplicate",
        "{}",
        repeat.response
    );
    h.settle().await;
    assert_eq!(notes(&h).len(), 5);
}

#[tokio::test]
async fn an_esr_package_is_chosen_by_id_or_name_from_the_catalog_else_the_default() {
    for (tags, expected) in [
        (&["ESR PKG: Executive Plus[ID : 102]"][..], "102"),
        (&["ESR PKG: executive"][..], "102"),
        (&[][..], "101"),
    ] {
        let h = start_connected().await;
        let order = h.order_esr(tags).await;
        assert_eq!(order.package_id, expected, "{tags:?}");
    }
}

#[tokio::test]
async fn a_canceled_esr_order_is_noted_and_nothing_moves_it_back() {
    let h = start_connected().await;
    let id = h.order_esr(&[]).await.order_id;
    applied(&h.esr_status(&id, "In-Progress", &[], None).await);
    applied(&h.esr_status(&id, "Canceled", &[], None).await);
    let notes = h.oauth_notes(ALAN);
    assert!(
        notes.last().unwrap().contains("Status: Canceled"),
        "{notes:#?}"
    );

    for (status, flags) in [
        ("In-Progress", &[][..]),
        ("Draft", &[][..]),
        ("In-Progress", &[("Criminal", "Record found")][..]),
    ] {
        let late = h.esr_status(&id, status, flags, None).await;
        assert_eq!(
            (late.status, status_of(&late.response).as_str()),
            (200, "unchanged"),
            "{status}: {}",
            late.response
        );
    }
    assert_eq!(h.oauth_notes(ALAN), notes, "Lever shows nothing new");
    let order = h
        .store
        .orders()
        .into_iter()
        .find(|o| o.vendor() == VendorId::Esr)
        .unwrap();
    assert_eq!(order.status(), Some("Canceled"));
}

#[tokio::test]
async fn a_canceled_esr_order_is_not_completed_by_a_later_flagged_report() {
    let h = start_connected().await;
    let id = h.order_esr(&[]).await.order_id;
    applied(&h.esr_status(&id, "Canceled", &[], None).await);
    let notes = h.oauth_notes(ALAN);

    let late = h
        .esr_status(
            &id,
            "Completed",
            &[("Criminal", "Record found")],
            Some("https://esr.example/reports/alan"),
        )
        .await;
    assert_eq!(status_of(&late.response), "unchanged", "{}", late.response);
    assert_eq!(h.oauth_notes(ALAN), notes, "Lever shows nothing new");
}
