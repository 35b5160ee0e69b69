//! HRLogics WOTC screening on Application Created, its credential management, and ESR
//! background checks with flags and report links, for a tenant connected by OAuth.

mod support;

use lever_screening::flows::admin;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::model::{now_millis, VendorId};
use lever_screening::store::TenantStore;
use lever_screening_local::demo_tenant as demo;
use lever_screening_local::sim::lever::sign;
use lever_screening_local::sim::SimOpportunity;
use serde_json::{json, Value};
use std::time::Duration;
use support::{connect_oauth_tenant, start, Harness};

const KATHERINE: &str = demo::JUSTIFACTS_OPPORTUNITY_ID;

async fn connected() -> Harness {
    let h = start().await;
    let (status, page) = connect_oauth_tenant(&h.stack, &h.http).await;
    assert_eq!(status, 200, "{page}");
    h
}

impl Harness {
    fn application_created_url(&self) -> String {
        admin::webhook_url(
            &self.stack.functions_url,
            demo::OAUTH_TENANT,
            WebhookKind::ApplicationCreated,
        )
    }

    /// An Application Created delivery for `opportunity`, signed with `token`.
    async fn application_created_signed(&self, opportunity: &str, token: &str) -> u16 {
        let at = now_millis();
        let delivery_token = format!("{}{}", uuid::Uuid::new_v4().simple(), "0123456789abcdef");
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event": "applicationCreated",
            "triggeredAt": at,
            "token": delivery_token,
            "signature": sign(token, &delivery_token, at),
            "data": { "applicationId": "a1", "opportunityId": opportunity, "contactId": "c1" }
        });
        self.stack
            .oauth_lever
            .send_raw(&self.application_created_url(), &body)
            .await
            .unwrap()
            .status
    }

    fn globex_secret(&self) -> Value {
        let file = std::fs::read_to_string(self.stack.secrets_file.as_ref().unwrap()).unwrap();
        serde_json::from_str::<Value>(&file).unwrap()["tenants"][demo::OAUTH_TENANT].clone()
    }

    fn wotc_tags(&self, opportunity: &str) -> Vec<String> {
        self.stack
            .oauth_lever
            .opportunity(opportunity)
            .unwrap()
            .tags
            .into_iter()
            .filter(|t| t.starts_with("HRLogics-WOTC:"))
            .collect()
    }

    fn notes(&self, opportunity: &str) -> Vec<String> {
        let notes = self.stack.oauth_lever.notes(opportunity);
        notes.into_iter().map(|n| n.value).collect()
    }
}

#[tokio::test]
async fn a_new_application_with_an_email_sends_one_hrlogics_applicant_the_survey() {
    let h = connected().await;
    let sent = h
        .stack
        .oauth_lever
        .application_created(KATHERINE)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    let applicants = h.stack.hrlogics.applicants();
    assert_eq!(applicants.len(), 1);
    let applicant = &applicants[0];
    assert_eq!(
        (applicant.first_name.as_str(), applicant.last_name.as_str()),
        ("Katherine", "Johnson")
    );
    assert_eq!(applicant.email, "katherine@example.com");
    assert_eq!(applicant.job_title.as_deref(), Some("Data Analyst"));
    assert_eq!(applicant.location.as_deref(), Some("Hampton"));
    assert!(
        !applicant.survey_url.is_empty(),
        "HRLogics emails the survey"
    );

    let again = h
        .stack
        .oauth_lever
        .send_raw(&h.application_created_url(), &sent.body)
        .await
        .unwrap();
    assert!(again.response.contains("duplicate"), "{}", again.response);
    assert_eq!(h.stack.hrlogics.applicants().len(), 1);
    assert!(
        h.wotc_tags(KATHERINE).is_empty(),
        "no tag before HRLogics evaluates"
    );
}

#[tokio::test]
async fn without_an_email_nothing_is_sent_a_note_says_why_and_a_replay_sends_it_once_fixed() {
    let h = connected().await;
    let grace = demo::NO_EMAIL_OPPORTUNITY_ID;
    let sent = h
        .stack
        .oauth_lever
        .application_created(grace)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert!(h.stack.hrlogics.applicants().is_empty());
    let notes = h.notes(grace);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with(
            "The HRLogics WOTC survey could not be sent: the candidate has no email address"
        ),
        "{}",
        notes[0]
    );

    // The recruiter adds the email in Lever; an operator sends it again.
    let mut fixed = h.stack.oauth_lever.opportunity(grace).unwrap();
    fixed.emails = vec!["grace@example.com".into()];
    h.stack
        .oauth_lever
        .add_opportunity(SimOpportunity { ..fixed });
    let ack = admin::order(
        &h.stack.app,
        demo::OAUTH_TENANT,
        VendorId::HrLogics,
        grace,
        &h.stack.functions_url,
    )
    .await
    .unwrap();
    assert_eq!(serde_json::to_value(&ack).unwrap()["status"], "ordered");
    let applicants = h.stack.hrlogics.applicants();
    assert_eq!(applicants.len(), 1);
    assert_eq!(applicants[0].email, "grace@example.com");
}

#[tokio::test]
async fn each_wotc_result_is_the_exact_tag_and_a_later_result_replaces_the_earlier() {
    let h = connected().await;
    h.stack
        .oauth_lever
        .application_created(KATHERINE)
        .await
        .unwrap();
    let id = h.stack.hrlogics.applicants()[0].applicant_id.clone();
    let hrlogics = &h.stack.hrlogics;

    let pre = hrlogics
        .post_eligibility(&id, "Pre Qualified")
        .await
        .unwrap();
    assert_eq!(pre.status, 200, "{}", pre.response);
    assert_eq!(h.wotc_tags(KATHERINE), ["HRLogics-WOTC:Pre Qualified"]);

    hrlogics
        .post_eligibility(&id, "Not Qualified")
        .await
        .unwrap();
    assert_eq!(h.wotc_tags(KATHERINE), ["HRLogics-WOTC:Not Qualified"]);

    let calls = h.stack.oauth_lever.api_calls().len();
    let repeat = hrlogics
        .post_eligibility(&id, "Not Qualified")
        .await
        .unwrap();
    assert!(repeat.response.contains("unchanged"), "{}", repeat.response);
    assert_eq!(
        h.stack.oauth_lever.api_calls().len(),
        calls,
        "nothing new in Lever"
    );
}

#[tokio::test]
async fn a_regenerated_token_is_accepted_and_the_old_one_only_during_the_grace_period() {
    let h = connected().await;
    let app = &h.stack.app;
    let base = &h.stack.functions_url;
    let original = demo::OAUTH_TENANT_APPLICATION_CREATED_TOKEN;

    admin::regenerate_webhook_token(
        app,
        demo::OAUTH_TENANT,
        WebhookKind::ApplicationCreated,
        base,
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let stored = h.globex_secret()["webhooks"]["applicationCreated"].clone();
    let new_token = stored["current"].as_str().unwrap().to_owned();
    assert_ne!(new_token, original);
    assert_eq!(stored["previous"], original);
    let in_lever = h.stack.oauth_lever.webhooks();
    let created: Vec<_> = in_lever
        .iter()
        .filter(|w| w.event == "applicationCreated")
        .collect();
    assert_eq!(
        created.len(),
        1,
        "the old webhook was replaced: {in_lever:?}"
    );
    assert_eq!(created[0].signature_token, new_token);

    assert_eq!(
        h.application_created_signed(demo::OPPORTUNITY_ID, &new_token)
            .await,
        200
    );
    assert_eq!(
        h.application_created_signed(demo::OPPORTUNITY_ID, original)
            .await,
        200,
        "within the grace period"
    );

    // Regenerated again with no grace: the token before is refused at once.
    admin::regenerate_webhook_token(
        app,
        demo::OAUTH_TENANT,
        WebhookKind::ApplicationCreated,
        base,
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(
        h.application_created_signed(demo::OPPORTUNITY_ID, &new_token)
            .await,
        401
    );
    assert_eq!(
        h.application_created_signed(demo::OPPORTUNITY_ID, original)
            .await,
        401
    );
}

#[tokio::test]
async fn deleting_the_integration_removes_the_webhook_and_settings_and_it_can_be_recreated() {
    let h = connected().await;
    let app = &h.stack.app;
    let base = &h.stack.functions_url;
    let subscribed = |h: &Harness| {
        h.stack
            .oauth_lever
            .webhooks()
            .into_iter()
            .filter(|w| w.event == "applicationCreated")
            .collect::<Vec<_>>()
    };
    assert_eq!(subscribed(&h).len(), 1);

    let removed = admin::delete_integration(
        app,
        demo::OAUTH_TENANT,
        VendorId::HrLogics,
        WebhookKind::ApplicationCreated,
        base,
    )
    .await
    .unwrap();
    assert_eq!(removed, 1);
    assert!(subscribed(&h).is_empty(), "the webhook is gone from Lever");
    let tenant = h
        .store
        .get_tenant(demo::OAUTH_TENANT)
        .await
        .unwrap()
        .unwrap();
    assert!(!tenant.vendors.contains_key(&VendorId::HrLogics));
    assert!(h.globex_secret()["vendors"].get("hrlogics").is_none());

    // An admin re-creates a deleted webhook through Lever's API; its token is stored.
    admin::create_webhook(
        app,
        demo::OAUTH_TENANT,
        WebhookKind::ApplicationCreated,
        base,
    )
    .await
    .unwrap();
    let webhooks = subscribed(&h);
    assert_eq!(webhooks.len(), 1);
    assert_eq!(webhooks[0].url, h.application_created_url());
    assert_eq!(
        h.globex_secret()["webhooks"]["applicationCreated"]["current"],
        webhooks[0].signature_token.as_str()
    );
}

#[tokio::test]
async fn esr_orders_the_tagged_package_and_shows_statuses_flags_and_the_report_in_notes() {
    let h = connected().await;
    let lever = &h.stack.oauth_lever;
    let mut alan = lever.opportunity(demo::STERLING_OPPORTUNITY_ID).unwrap();
    alan.tags = vec!["ESR PKG: Executive[ID : 102]".into()];
    lever.add_opportunity(alan);
    let sent = lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::PRE_HIRE_SCREENING_STAGE_ID,
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    let orders = h.stack.esr.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].package_id, "102");
    let id = orders[0].order_id.clone();
    let notes = |h: &Harness| h.notes(demo::STERLING_OPPORTUNITY_ID);
    assert!(notes(&h)[0].contains("Status: Draft"), "{:?}", notes(&h));

    let esr = &h.stack.esr;
    esr.post_status(&id, "In-Progress", &[], None)
        .await
        .unwrap();
    let flagged = esr
        .post_status(
            &id,
            "In-Progress",
            &[("Criminal", "Record found in Alameda County")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(flagged.status, 200, "{}", flagged.response);
    let flag = notes(&h)
        .into_iter()
        .find(|n| n.starts_with("⚠ FLAG"))
        .expect("a flag note");
    assert!(
        flag.contains("Criminal: Record found in Alameda County"),
        "{flag}"
    );
    assert!(flag.contains("Review the report"));

    let done = esr
        .post_status(
            &id,
            "Completed",
            &[],
            Some("https://esr.example/reports/alan"),
        )
        .await
        .unwrap();
    let all = notes(&h);
    assert!(
        all.iter().any(|n| n.contains("Status: Completed")),
        "{all:#?}"
    );
    assert!(all
        .iter()
        .any(|n| n.contains("https://esr.example/reports/alan")));
    let count = all.len();
    assert_eq!(
        count, 5,
        "Draft, In-Progress, the flag, Completed, the report: {all:#?}"
    );

    let repeat = esr.resend(&done).await.unwrap();
    assert!(repeat.response.contains("duplicate"), "{}", repeat.response);
    assert_eq!(notes(&h).len(), count);
}

#[tokio::test]
async fn an_esr_package_is_chosen_by_name_or_falls_back_to_the_default() {
    for (tag, expected) in [(Some("ESR PKG: executive"), "102"), (None, "101")] {
        let h = connected().await;
        let lever = &h.stack.oauth_lever;
        let mut alan = lever.opportunity(demo::STERLING_OPPORTUNITY_ID).unwrap();
        alan.tags = tag.map(|t| vec![t.to_owned()]).unwrap_or_default();
        lever.add_opportunity(alan);
        lever
            .move_to_stage(
                demo::STERLING_OPPORTUNITY_ID,
                demo::PRE_HIRE_SCREENING_STAGE_ID,
            )
            .await
            .unwrap();
        assert_eq!(h.stack.esr.orders()[0].package_id, expected, "{tag:?}");
    }
}

#[tokio::test]
async fn a_canceled_esr_order_is_noted_and_nothing_moves_it_back() {
    let h = connected().await;
    h.stack
        .oauth_lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::PRE_HIRE_SCREENING_STAGE_ID,
        )
        .await
        .unwrap();
    let id = h.stack.esr.orders()[0].order_id.clone();
    let canceled = h
        .stack
        .esr
        .post_status(&id, "Canceled", &[], None)
        .await
        .unwrap();
    assert_eq!(canceled.status, 200, "{}", canceled.response);
    let notes = h.notes(demo::STERLING_OPPORTUNITY_ID);
    assert!(
        notes.last().unwrap().contains("Status: Canceled"),
        "{notes:#?}"
    );
    let late = h
        .stack
        .esr
        .post_status(&id, "In-Progress", &[], None)
        .await
        .unwrap();
    assert!(late.response.contains("unchanged"), "{}", late.response);
    assert_eq!(h.notes(demo::STERLING_OPPORTUNITY_ID), notes);
}
