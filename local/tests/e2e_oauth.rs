//! A tenant connected as a Lever authorized app (OAuth), running Justifacts background
//! checks end to end: the connection, token refresh and revocation, and what Lever shows.

mod support;

use lever_screening::flows::{oauth, outbox};
use lever_screening::model::now_millis;
use lever_screening::store::{OutboxStore, TenantStore};
use lever_screening_local::demo_tenant as demo;
use serde_json::Value;
use support::{start, Harness};

const INVITED: &str = "(Justifacts)In-Progress : Candidate";

impl Harness {
    async fn connect(&self) -> (u16, String) {
        support::connect_oauth_tenant(&self.stack, &self.http).await
    }

    fn oauth_tags(&self, opportunity: &str) -> Vec<String> {
        self.stack
            .oauth_lever
            .opportunity(opportunity)
            .unwrap()
            .tags
    }

    fn stored_oauth_secret(&self) -> Value {
        let file = std::fs::read_to_string(self.stack.secrets_file.as_ref().unwrap()).unwrap();
        let document: Value = serde_json::from_str(&file).unwrap();
        document["tenants"][demo::OAUTH_TENANT]["lever"]["oauth"].clone()
    }

    async fn move_globex(&self, opportunity: &str) -> (u16, Value) {
        let sent = self
            .stack
            .oauth_lever
            .move_to_stage(opportunity, demo::BACKGROUND_CHECK_STAGE_ID)
            .await
            .unwrap();
        (sent.status, serde_json::from_str(&sent.response).unwrap())
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn connecting_by_oauth_stores_the_tokens_with_the_scopes_the_integrations_need() {
    let h = start().await;
    assert!(h.stored_oauth_secret().is_null());
    let (status, page) = h.connect().await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Lever is connected for tenant globex"),
        "{page}"
    );
    let tokens = h.stored_oauth_secret();
    assert!(tokens["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(tokens["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(tokens["expires_at"].as_i64().unwrap() > now_millis());
    let scopes = h.stack.oauth_lever.granted_scopes();
    for needed in [
        "offline_access",
        "opportunities:write:admin",
        "notes:write:admin",
    ] {
        assert!(scopes.iter().any(|s| s == needed), "{needed} in {scopes:?}");
    }
}

#[tokio::test]
async fn a_forged_reused_expired_or_declined_callback_is_refused_and_stores_nothing() {
    let h = start().await;
    let callback = format!("{}/lever/oauth/callback", h.stack.functions_url);
    let refused = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    };

    // A state we never issued (CSRF, or someone else's Lever account).
    let forged = h
        .http
        .get(format!("{callback}?code=anything&state=forged"))
        .send()
        .await
        .unwrap();
    let (status, page) = refused(forged).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown, already used or expired"), "{page}");

    // The genuine redirect, replayed after it was used.
    let link = oauth::authorize_link(&h.stack.app, demo::OAUTH_TENANT)
        .await
        .unwrap();
    let redirect = no_redirects().get(link).send().await.unwrap();
    let back = redirect.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(h.http.get(&back).send().await.unwrap().status(), 200);
    assert_eq!(
        h.http.get(&back).send().await.unwrap().status(),
        400,
        "single use"
    );

    // An expired state.
    let now = now_millis();
    h.stack
        .app
        .store
        .claim(
            "lever-oauth-state:old",
            demo::OAUTH_TENANT,
            now - 20 * 60_000,
            now - 5 * 60_000,
        )
        .await
        .unwrap();
    let expired = h
        .http
        .get(format!("{callback}?code=c&state=old"))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 400);

    // The Super Admin declines.
    let h = start().await;
    h.stack.oauth_lever.deny_next_authorization();
    let (status, page) = h.connect().await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("did not authorize"), "{page}");
    assert!(h.stored_oauth_secret().is_null());
}

#[tokio::test]
async fn a_justifacts_check_runs_from_stage_move_to_the_secret_result_note() {
    let h = start().await;
    h.connect().await;
    let katherine = demo::JUSTIFACTS_OPPORTUNITY_ID;
    let (status, answer) = h.move_globex(katherine).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "ordered");

    let invitations = h.stack.justifacts.invitations();
    assert_eq!(invitations.len(), 1);
    let invitation = &invitations[0];
    assert_eq!(
        (
            invitation.package_code.as_str(),
            invitation.package_id.as_str()
        ),
        ("EmpCod", "13558")
    );
    assert_eq!(invitation.email, "katherine@example.com");
    assert_eq!(
        (
            invitation.first_name.as_str(),
            invitation.last_name.as_str()
        ),
        ("Katherine", "Johnson")
    );
    let with_package = |tags: Vec<String>| -> Vec<String> {
        tags.into_iter()
            .filter(|t| t != demo::JUSTIFACTS_PACKAGE_TAG)
            .collect()
    };
    assert_eq!(with_package(h.oauth_tags(katherine)), [INVITED]);

    let justifacts = &h.stack.justifacts;
    let id = invitation.request_id.clone();
    let sent = justifacts
        .post_status(&id, "InProgressJustifacts", None, None)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert_eq!(
        with_package(h.oauth_tags(katherine)),
        ["(Justifacts)In-Progress: Justifacts"]
    );

    let done = justifacts
        .post_status(
            &id,
            "Complete",
            Some("Clear"),
            Some("https://jweb.example/results/katherine"),
        )
        .await
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.response);
    assert_eq!(
        with_package(h.oauth_tags(katherine)),
        ["(Justifacts)Complete"]
    );
    let notes = h.stack.oauth_lever.notes(katherine);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].secret, "the result URL is in a secret note");
    assert!(notes[0]
        .value
        .contains("https://jweb.example/results/katherine"));

    // Justifacts repeats its callback: nothing new in Lever.
    let calls = h.stack.oauth_lever.api_calls().len();
    let again = justifacts.resend(&done).await.unwrap();
    assert!(again.response.contains("duplicate"), "{}", again.response);
    assert_eq!(h.stack.oauth_lever.api_calls().len(), calls);
    assert_eq!(h.stack.oauth_lever.notes(katherine).len(), 1);
}

#[tokio::test]
async fn no_package_two_packages_or_no_email_leave_a_note_and_send_nothing() {
    let h = start().await;
    h.connect().await;
    // Ada's posting has no package tag.
    let (status, answer) = h.move_globex(demo::OPPORTUNITY_ID).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("not_ordered")),
        "{answer}"
    );
    let note = &h.stack.oauth_lever.notes(demo::OPPORTUNITY_ID)[0].value;
    assert!(note.contains("no background check package"), "{note}");
    assert!(
        note.contains("JUSTIFACTS BGC PKG: Name[ID : 123]"),
        "{note}"
    );

    // Grace has no email address.
    h.move_globex(demo::NO_EMAIL_OPPORTUNITY_ID).await;
    let note = &h.stack.oauth_lever.notes(demo::NO_EMAIL_OPPORTUNITY_ID)[0].value;
    assert!(note.contains("no email address"), "{note}");

    // Katherine carries a second, different package tag.
    h.http
        .post(format!(
            "{}/v1/opportunities/{}/addTags",
            h.stack.oauth_lever_url,
            demo::JUSTIFACTS_OPPORTUNITY_ID
        ))
        .basic_auth(demo::OAUTH_TENANT_UNUSED_API_KEY, Some(""))
        .json(&serde_json::json!({ "tags": ["JUSTIFACTS BGC PKG: Exec[ID : 2]"] }))
        .send()
        .await
        .unwrap();
    h.move_globex(demo::JUSTIFACTS_OPPORTUNITY_ID).await;
    let note = &h.stack.oauth_lever.notes(demo::JUSTIFACTS_OPPORTUNITY_ID)[0].value;
    assert!(note.contains("more than one package"), "{note}");
    assert!(h.stack.justifacts.invitations().is_empty());
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_for_concurrent_requests() {
    let h = start().await;
    h.connect().await;
    support::refresh_once_under_concurrency(&h.stack).await;
}

#[tokio::test]
async fn a_revoked_app_disconnects_the_tenant_without_retries_and_reconnecting_restores_it() {
    let h = start().await;
    h.connect().await;
    let lever_sim = &h.stack.oauth_lever;
    lever_sim.revoke_app();
    lever_sim.expire_access_tokens();

    let (status, answer) = h.move_globex(demo::JUSTIFACTS_OPPORTUNITY_ID).await;
    assert_eq!(status, 202, "kept, not lost: {answer}");
    let tenant = h
        .store
        .get_tenant(demo::OAUTH_TENANT)
        .await
        .unwrap()
        .unwrap();
    assert!(tenant.lever_disconnected.is_some());
    let kept = h.store.list_outbox(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].next_attempt_at, outbox::PARKED);

    // No retry storm: the schedule finds nothing due, Lever's token endpoint is left alone.
    let refreshes = lever_sim.refresh_count();
    let report = outbox::drain(&h.stack.app, now_millis() + 86_400_000, 10)
        .await
        .unwrap();
    assert_eq!(report, outbox::DrainReport::default());
    let (status, _) = h.move_globex(demo::OPPORTUNITY_ID).await;
    assert_eq!(status, 202);
    assert_eq!(lever_sim.refresh_count(), refreshes);
    assert!(h.stack.justifacts.invitations().is_empty());

    // The Super Admin reconnects: the kept delivery is replayed.
    let (status, page) = h.connect().await;
    assert_eq!(status, 200, "{page}");
    let tenant = h
        .store
        .get_tenant(demo::OAUTH_TENANT)
        .await
        .unwrap()
        .unwrap();
    assert!(tenant.lever_disconnected.is_none());
    let report = outbox::drain(&h.stack.app, now_millis(), 10).await.unwrap();
    assert_eq!(report.done, 2, "{report:?}");
    assert_eq!(h.stack.justifacts.invitations().len(), 1);
    assert!(h
        .oauth_tags(demo::JUSTIFACTS_OPPORTUNITY_ID)
        .contains(&INVITED.to_owned()));
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_it_is_used() {
    let h = start().await;
    h.connect().await;
    // The stored token says it expires in 30 s: inside the renewal margin.
    let path = h.stack.secrets_file.clone().unwrap();
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["tenants"][demo::OAUTH_TENANT]["lever"]["oauth"]["expires_at"] =
        (now_millis() + 30_000).into();
    std::fs::write(&path, file.to_string()).unwrap();
    h.stack.app.secrets.invalidate(demo::OAUTH_TENANT);

    let (status, _) = h.move_globex(demo::JUSTIFACTS_OPPORTUNITY_ID).await;
    assert_eq!(status, 200);
    assert_eq!(
        h.stack.oauth_lever.refresh_count(),
        1,
        "refreshed before any 401"
    );
    let stored = h.stored_oauth_secret();
    assert!(stored["expires_at"].as_i64().unwrap() > now_millis() + 3_000_000);
}
