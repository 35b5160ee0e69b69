//! A tenant connected as a Lever authorized app (OAuth): the connection and its refusals,
//! a Justifacts check from the stage move to its secret result note, token refresh, and
//! what revoking the app (or one integration's API key) stops, and what it does not.

use crate::support::{fast_settings, start, start_connected, start_with, tenant, Harness};
use futures::future::join_all;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::ids::OpportunityId;
use lever_screening::store::ClaimStore;
use lever_screening::vendors::VendorId;
use lever_screening::Settings;
use lever_screening_local::demo_tenant as demo;
use serde_json::Value;
use std::time::Duration;

const KATHERINE: &str = demo::JUSTIFACTS_OPPORTUNITY_ID;
const INVITED: &str = "(Justifacts)In-Progress : Candidate";
const THE_OAUTH_INTEGRATIONS: [VendorId; 3] =
    [VendorId::Justifacts, VendorId::HrLogics, VendorId::Esr];

/// A client that shows Lever's redirect instead of following it.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What lever-oauth-callback answered: status, content type and page.
async fn page(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

impl Harness {
    /// The OAuth tenant's candidate is moved into `stage`; what intake answered.
    async fn move_globex(&self, opportunity: &str, stage: &str) -> (u16, Value) {
        let sent = self
            .stack
            .oauth_lever
            .move_to_stage(opportunity, stage)
            .await
            .unwrap();
        (sent.status, serde_json::from_str(&sent.response).unwrap())
    }

    /// The demo tenant's candidate is moved into `stage`; what intake answered.
    async fn move_demo(&self, opportunity: &str, stage: &str) -> (u16, Value) {
        let sent = self
            .stack
            .lever
            .move_to_stage(opportunity, stage)
            .await
            .unwrap();
        (sent.status, serde_json::from_str(&sent.response).unwrap())
    }

    /// Katherine's tags but the posting's package tag Lever copied onto her.
    fn justifacts_tags(&self) -> Vec<String> {
        self.oauth_tags_of(KATHERINE)
            .into_iter()
            .filter(|t| t != demo::JUSTIFACTS_PACKAGE_TAG)
            .collect()
    }

    /// The OAuth tenant's integrations whose Lever access is marked revoked.
    async fn revoked(&self, tenant_id: &str) -> Vec<VendorId> {
        let config = self.tenant_config(tenant_id).await;
        VendorId::ALL
            .iter()
            .copied()
            .filter(|v| {
                config
                    .integration(*v)
                    .is_some_and(|i| i.lever_access_revoked.is_some())
            })
            .collect()
    }

    /// The Super Admin accepts an authorize link; Lever's redirect back, not yet followed.
    async fn lever_redirect(&self) -> reqwest::Url {
        let app = &self.stack.app;
        let link = lever_screening::flows::oauth::authorize_link(
            app.store().as_ref(),
            app.store().as_ref(),
            &app.oauth_apps().await.unwrap(),
            &tenant(demo::OAUTH_TENANT),
            None,
        )
        .await
        .unwrap();
        // Lever's sign-in first sends the admin on to the tenant's own account.
        let sign_in = no_redirects().get(link).send().await.unwrap();
        assert_eq!(sign_in.status(), 303);
        let account = sign_in.headers()["location"].to_str().unwrap();
        assert!(
            account.starts_with(&self.stack.oauth_lever_url),
            "{account}"
        );
        let redirect = no_redirects().get(account).send().await.unwrap();
        assert_eq!(redirect.status(), 302);
        let location = redirect.headers()["location"].to_str().unwrap();
        reqwest::Url::parse(location).unwrap()
    }
}

fn query(url: &reqwest::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn with_state(url: &reqwest::Url, state: &str) -> reqwest::Url {
    let code = query(url, "code");
    let mut changed = url.clone();
    changed
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", state);
    changed
}

#[tokio::test]
async fn connecting_by_oauth_stores_the_tokens_with_the_scopes_the_integrations_need() {
    let h = start().await;
    let globex = |h: &Harness| h.stored_secret(demo::OAUTH_TENANT);
    assert!(globex(&h)["lever"]["oauth"].is_null());

    // One integration's own grant is stored with that integration.
    let (status, page) = h.connect_oauth_tenant(Some(VendorId::Justifacts)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Lever is connected for tenant globex"),
        "{page}"
    );
    let own = globex(&h)["vendors"]["justifacts"]["lever"]["oauth"].clone();
    assert!(own["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(globex(&h)["lever"]["oauth"].is_null(), "not tenant-wide");

    // The tenant-wide grant.
    let (status, page) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 200, "{page}");
    let tokens = globex(&h)["lever"]["oauth"].clone();
    assert!(tokens["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(tokens["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(tokens["expires_at"].as_i64().unwrap() > now_millis() + 3_000_000);
    let scopes = h.stack.oauth_lever.granted_scopes();
    for needed in [
        "offline_access",
        "confidential:access:admin",
        "opportunities:read:admin",
        "opportunities:write:admin",
        "notes:read:admin",
        "notes:write:admin",
        "postings:read:admin",
        "stages:read:admin",
    ] {
        assert!(scopes.iter().any(|s| s == needed), "{needed} in {scopes:?}");
    }
}

#[tokio::test]
async fn a_forged_reused_expired_or_declined_callback_is_refused_and_stores_nothing() {
    let h = start().await;
    let http = &h.http;
    let stored = |h: &Harness| h.stored_secret(demo::OAUTH_TENANT)["lever"]["oauth"].clone();

    // Lever's genuine code, with a state this deployment never issued (CSRF, or someone
    // else's Lever account).
    let genuine = h.lever_redirect().await;
    let forged = with_state(&genuine, "forged0123456789");
    let (status, content_type, text) = page(http.get(forged).send().await.unwrap()).await;
    assert_eq!(status, 400, "{text}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(text.contains("unknown, already used or expired"), "{text}");
    assert!(stored(&h).is_null());

    // A state whose link expired before the Super Admin accepted.
    let expired = h.lever_redirect().await;
    let key = format!("lever-oauth-state:{}", query(&expired, "state"));
    let now = now_millis();
    assert!(h.store.take(&key, now).await.unwrap().is_some());
    let claimed = h
        .store
        .claim(&key, "globex|tenant", now - 20 * 60_000, now - 5 * 60_000)
        .await
        .unwrap();
    assert!(claimed);
    let (status, _, text) = page(http.get(expired).send().await.unwrap()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("unknown, already used or expired"), "{text}");
    assert!(stored(&h).is_null());

    // The Super Admin declines.
    h.stack.oauth_lever.deny_next_authorization();
    let (status, text) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("did not authorize"), "{text}");
    assert!(stored(&h).is_null());

    // The genuine redirect works once; replayed, it is refused and changes nothing.
    let (status, _, text) = page(http.get(genuine.clone()).send().await.unwrap()).await;
    assert_eq!(status, 200, "{text}");
    let connected = stored(&h);
    assert!(connected["access_token"].is_string());
    let (status, _, text) = page(http.get(genuine).send().await.unwrap()).await;
    assert_eq!(status, 400, "single use: {text}");
    assert!(text.contains("unknown, already used or expired"), "{text}");
    assert_eq!(stored(&h), connected, "the replay stored nothing");
}

#[tokio::test]
async fn a_justifacts_check_runs_from_the_stage_move_to_its_tags_and_the_secret_result_note() {
    let h = start_connected().await;
    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (202, &"queued".into()),
        "{answer}"
    );
    h.settle().await;

    let invitations = h.stack.justifacts.invitations();
    assert_eq!(invitations.len(), 1);
    let invitation = &invitations[0];
    assert_eq!(
        (
            invitation.package_code.as_str(),
            invitation.package_id.as_str()
        ),
        ("EmpCod", "13558"),
        "the package of the posting's tag"
    );
    assert_eq!(
        (
            invitation.first_name.as_str(),
            invitation.last_name.as_str(),
            invitation.email.as_str()
        ),
        ("Katherine", "Johnson", "katherine@example.com")
    );
    assert_eq!(h.justifacts_tags(), [INVITED]);
    assert!(h.oauth_notes(KATHERINE).is_empty());

    let justifacts = &h.stack.justifacts;
    let id = invitation.request_id.clone();
    let sent = justifacts
        .post_status(&id, "InProgressJustifacts", None, None)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    h.settle().await;
    assert_eq!(h.justifacts_tags(), ["(Justifacts)In-Progress: Justifacts"]);
    assert!(h.oauth_notes(KATHERINE).is_empty(), "no result yet");

    let url = "https://jweb.example/results/katherine";
    let done = justifacts
        .post_status(&id, "Complete", Some("Clear"), Some(url))
        .await
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.response);
    h.settle().await;
    assert_eq!(h.justifacts_tags(), ["(Justifacts)Complete"]);
    assert!(
        h.oauth_tags_of(KATHERINE)
            .contains(&demo::JUSTIFACTS_PACKAGE_TAG.to_owned()),
        "the package tag stays"
    );
    let notes = h.stack.oauth_lever.notes(KATHERINE);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(notes[0].secret, "the result URL is in a secret note");
    assert!(notes[0].value.contains(url), "{}", notes[0].value);
    assert!(notes[0].value.contains("Clear"), "{}", notes[0].value);
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_for_five_concurrent_lever_calls() {
    let h = start_connected().await;
    let lever = &h.stack.oauth_lever;
    lever.expire_access_tokens();
    lever.set_token_delay(Duration::from_millis(300));
    let app = &h.stack.app;
    let globex = app
        .tenants()
        .tenant(&tenant(demo::OAUTH_TENANT))
        .await
        .unwrap();
    let worker = app.worker(Deadline::after(Duration::from_secs(30)));
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(
            worker
                .lever_for(&globex, VendorId::Justifacts)
                .await
                .unwrap(),
        );
    }
    let katherine = OpportunityId::parse(KATHERINE).unwrap();
    let reads = join_all(clients.iter().map(|c| c.opportunity(&katherine))).await;
    for read in &reads {
        let opportunity = read.as_ref().expect("every call succeeds");
        assert_eq!(opportunity.name.as_deref(), Some("Katherine Johnson"));
    }
    assert_eq!(lever.refresh_count(), 1, "one refresh for five calls");
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_it_is_used() {
    let h = start_connected().await;
    // The stored token says it expires in 30 s: inside the renewal margin. Lever would
    // still take it, so only a refresh before use replaces it.
    let path = h.stack.secrets_file.clone().unwrap();
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let oauth = &mut file["tenants"][demo::OAUTH_TENANT]["lever"]["oauth"];
    let old_access = oauth["access_token"].clone();
    oauth["expires_at"] = (now_millis() + 30_000).into();
    std::fs::write(&path, file.to_string()).unwrap();
    h.stack.app.secrets().invalidate(demo::OAUTH_TENANT);

    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(status, 202, "{answer}");
    h.settle().await;
    assert_eq!(h.stack.justifacts.invitations().len(), 1);
    assert_eq!(
        h.stack.oauth_lever.refresh_count(),
        1,
        "refreshed before use"
    );
    let stored = h.stored_secret(demo::OAUTH_TENANT)["lever"]["oauth"].clone();
    assert_ne!(stored["access_token"], old_access);
    assert!(stored["expires_at"].as_i64().unwrap() > now_millis() + 3_000_000);
}

/// The OAuth tenant connected, its Super Admin revokes the app in Lever, and the worker
/// finds out from the first delivery after: every integration sharing the grant is
/// disabled.
async fn revoked_after_a_delivery(h: &Harness) {
    let (status, page) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 200, "{page}");
    h.stack.oauth_lever.revoke_app(demo::OAUTH_CLIENT_ID);
    // Intake makes no outbound call, so only the worker learns that Lever refuses the
    // tokens: this delivery is still queued, and then orders nothing.
    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(status, 202, "{answer}");
    h.settle().await;
    assert_eq!(h.revoked(demo::OAUTH_TENANT).await, THE_OAUTH_INTEGRATIONS);
    assert!(h.stack.justifacts.invitations().is_empty());
}

#[tokio::test]
async fn revoking_the_app_disables_the_oauth_integrations_and_reconnecting_replays_nothing() {
    // How long intake and the worker may act on a tenant configuration they read before
    // (TENANT_TTL_SECS), short here so the reconnection shows within the test.
    let h = start_with(Settings {
        tenant_ttl: Duration::from_millis(100),
        ..fast_settings()
    })
    .await;
    let lever = &h.stack.oauth_lever;
    revoked_after_a_delivery(&h).await;
    let refreshes = lever.refresh_count();

    // From then on every integration sharing the grant answers "disabled" and orders
    // nothing; nothing is retried against Lever meanwhile.
    let (status, answer) = h
        .move_globex(
            demo::STERLING_OPPORTUNITY_ID,
            demo::PRE_HIRE_SCREENING_STAGE_ID,
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &"disabled".into()),
        "{answer}"
    );
    let sent = lever
        .application_created(demo::OPPORTUNITY_ID)
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(&sent.response).unwrap();
    assert_eq!(
        (sent.status, &answer["status"]),
        (200, &"disabled".into()),
        "{answer}"
    );
    h.settle().await;
    assert!(h.stack.justifacts.invitations().is_empty());
    assert!(h.stack.esr.orders().is_empty());
    assert!(h.stack.hrlogics.applicants().is_empty());
    assert_eq!(lever.refresh_count(), refreshes);

    // The Super Admin reconnects: what arrived while the integrations were disabled is
    // not replayed.
    let (status, page) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 200, "{page}");
    assert!(h.revoked(demo::OAUTH_TENANT).await.is_empty());
    h.settle().await;
    assert!(
        h.stack.justifacts.invitations().is_empty(),
        "nothing replayed"
    );
    assert!(h.stack.esr.orders().is_empty(), "nothing replayed");
    assert!(h.stack.hrlogics.applicants().is_empty(), "nothing replayed");
    assert!(h.oauth_notes(KATHERINE).is_empty());
    assert!(h.oauth_notes(demo::STERLING_OPPORTUNITY_ID).is_empty());

    // Once the tenant configuration is read again, a new move orders.
    tokio::time::sleep(Duration::from_millis(150)).await;
    h.move_globex(KATHERINE, demo::PHONE_SCREEN_STAGE_ID).await;
    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (202, &"queued".into()),
        "{answer}"
    );
    h.settle().await;
    assert_eq!(h.stack.justifacts.invitations().len(), 1);
    assert_eq!(h.justifacts_tags(), [INVITED]);
}

#[tokio::test]
async fn a_move_right_after_reconnecting_orders() {
    let h = start().await;
    revoked_after_a_delivery(&h).await;
    let (status, answer) = h
        .move_globex(
            demo::STERLING_OPPORTUNITY_ID,
            demo::PRE_HIRE_SCREENING_STAGE_ID,
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &"disabled".into()),
        "{answer}"
    );
    let (status, page) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 200, "{page}");

    h.move_globex(KATHERINE, demo::PHONE_SCREEN_STAGE_ID).await;
    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (202, &"queued".into()),
        "{answer}"
    );
    h.settle().await;
    assert_eq!(h.stack.justifacts.invitations().len(), 1);
}

#[tokio::test]
async fn revoking_one_vendors_app_in_lever_disables_that_vendor_only() {
    let h = start().await;
    // Justifacts and HRLogics are each authorized as their own app, as in Lever's
    // Authorized Apps.
    for vendor in [VendorId::Justifacts, VendorId::HrLogics] {
        let (status, page) = h.connect_oauth_tenant(Some(vendor)).await;
        assert_eq!(status, 200, "{page}");
    }
    let (_, justifacts_client, _) = demo::OAUTH_VENDOR_APPS[0];
    h.stack.oauth_lever.revoke_app(justifacts_client);

    let (status, answer) = h
        .move_globex(KATHERINE, demo::BACKGROUND_CHECK_STAGE_ID)
        .await;
    assert_eq!(status, 202, "{answer}");
    h.settle().await;
    assert!(h.stack.justifacts.invitations().is_empty());
    assert_eq!(h.revoked(demo::OAUTH_TENANT).await, [VendorId::Justifacts]);

    // HRLogics' app was not revoked: a new application still sends the survey.
    let sent = h
        .stack
        .oauth_lever
        .application_created(KATHERINE)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    assert_eq!(h.stack.hrlogics.applicants().len(), 1);
    assert_eq!(h.revoked(demo::OAUTH_TENANT).await, [VendorId::Justifacts]);
}

#[tokio::test]
async fn each_integration_uses_its_own_lever_credential() {
    let h = start().await;
    // An admin turns Xref's toggle off in Lever: its key stops working. Sterling has its own.
    h.stack.lever.disable_api_key(demo::XREF_LEVER_KEY);

    let (status, answer) = h
        .move_demo(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await;
    assert_eq!(status, 202, "{answer}");
    h.settle().await;
    assert!(h.stack.xref.orders().is_empty());
    assert_eq!(h.revoked(demo::TENANT).await, [VendorId::Xref]);

    let (status, answer) = h
        .move_demo(
            demo::STERLING_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (202, &"queued".into()),
        "{answer}"
    );
    h.settle().await;
    assert_eq!(
        h.stack.sterling.screenings().len(),
        1,
        "Sterling still orders"
    );
    let notes = h.notes(demo::STERLING_OPPORTUNITY_ID);
    assert!(
        notes.iter().any(|n| n.contains("Status: New")),
        "{notes:#?}"
    );

    let (status, answer) = h
        .move_demo(
            demo::NO_EMAIL_OPPORTUNITY_ID,
            demo::REFERENCE_CHECK_STAGE_ID,
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &"disabled".into()),
        "{answer}"
    );
    h.settle().await;
    assert!(h.stack.xref.orders().is_empty());
}
