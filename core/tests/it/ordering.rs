//! The worker's ordering: confirmed through Lever's API, one order per event and vendor,
//! never a second while one is open, a note when it cannot be ordered, and no more Lever
//! calls than needed.

use crate::support::{tenant_id, World, ADA, BGC, GRACE, REFCHECK, SCREEN, STAGE_TOKEN};
use lever_screening::clock::now_millis;
use lever_screening::flows::worker::Outcome;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::lever::LeverError;
use lever_screening::order::OrderPhase;
use lever_screening::store::TenantStore;
use lever_screening::tenant::PackageSettings;
use lever_screening::vendors::{VendorError, VendorId};
use serde_json::json;

#[tokio::test]
async fn a_confirmed_move_orders_one_reference_check_and_tags_the_candidate() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(world.run_worker().await, [Outcome::Done]);
    let placed = world.xref.orders();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].email, "ada@example.com");
    assert_eq!(
        placed[0].phone.as_deref(),
        Some("+14165550104"),
        "sent as E.164"
    );
    assert_eq!(
        placed[0].callback_url,
        "https://screening.example/callbacks/xref/acme"
    );
    assert_eq!(world.lever.tags(ADA), ["Xref - Candidate submitted"]);
    let order = &world.orders_of(VendorId::Xref)[0];
    assert_eq!(order.phase(), OrderPhase::Open);
    assert_eq!(order.vendor_order_id(), Some("v-1"));
    // The opportunity (confirm and order), its posting, one tag write.
    assert_eq!(
        world.lever.calls(),
        ["GET opportunity", "GET posting", "POST addTags"],
        "Lever calls per order"
    );
    assert_eq!(
        world.lever.connected(),
        [VendorId::Xref],
        "with Xref's own credential"
    );
}

#[tokio::test]
async fn data_lever_does_not_confirm_orders_nothing() {
    let world = World::new().await;
    // Signed, but Ada never entered 'Reference Check' (a test delivery's signature with
    // forged data, say).
    assert_a_move_of_ada_now_orders_nothing(&world).await;
    assert!(world.lever.tags(ADA).is_empty());
}

/// A signed delivery stamped now says Ada moved into 'Reference Check': it is
/// acknowledged, and nothing is ordered.
async fn assert_a_move_of_ada_now_orders_nothing(world: &World) {
    let body = world.delivery(
        "candidateStageChange",
        STAGE_TOKEN,
        json!({ "opportunityId": ADA, "toStageId": REFCHECK }),
    );
    world
        .post(WebhookKind::CandidateStageChange, &body)
        .await
        .unwrap();
    assert_eq!(world.run_worker().await, [Outcome::Done], "acknowledged");
    assert!(world.xref.orders().is_empty());
    assert!(world.orders().is_empty());
}

#[tokio::test]
async fn being_in_the_stage_now_alone_orders_nothing() {
    let world = World::new().await;
    // Ada entered 'Reference Check' two hours ago; a signed delivery stamped now names it.
    world
        .lever
        .move_to(ADA, REFCHECK, now_millis() - 2 * 3_600_000);
    assert_a_move_of_ada_now_orders_nothing(&world).await;
}

#[tokio::test]
async fn deliveries_naming_a_move_whose_order_ended_order_nothing_again() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    world
        .callback(VendorId::Xref, json!({ "id": id, "status": "Completed" }))
        .await
        .unwrap();
    world.run_worker().await;
    assert_eq!(world.lever.tags(ADA), ["Xref - Completed"]);
    // Ada is still in 'Reference Check'. Validly signed envelopes with unused tokens: one
    // for the same move (a replay, a re-sent delivery), one stamped 47 hours ago.
    let data = json!({ "opportunityId": ADA, "toStageId": REFCHECK, "fromStageId": SCREEN });
    for triggered_at in [now_millis(), now_millis() - 47 * 3_600_000] {
        let body = world.delivery_at(
            "candidateStageChange",
            STAGE_TOKEN,
            data.clone(),
            triggered_at,
        );
        world
            .post(WebhookKind::CandidateStageChange, &body)
            .await
            .unwrap();
        world.run_worker().await;
    }
    assert_eq!(world.xref.orders().len(), 1, "one billable check");
    assert_eq!(world.orders().len(), 1);
    assert_eq!(world.lever.tags(ADA), ["Xref - Completed"]);
    // Moving out and back in is a new entry: it may order again.
    world.lever.move_to(ADA, SCREEN, now_millis());
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 2, "a new move, a new order");
}

#[tokio::test]
async fn a_message_processed_twice_orders_once() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    let messages = world.queue.pending();
    // The queue delivers the same message again (at-least-once).
    use lever_screening::queue::WorkQueue;
    world.queue.send(&messages[0]).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1);
    assert_eq!(world.orders().len(), 1);
}

#[tokio::test]
async fn a_second_move_while_an_order_is_open_orders_nothing() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    world.lever.move_to(ADA, SCREEN, now_millis());
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1);
    assert_eq!(world.orders().len(), 1, "no second intent either");
}

#[tokio::test]
async fn a_candidate_without_email_gets_a_note_and_can_be_ordered_once_fixed() {
    let world = World::new().await;
    world.stage_change(GRACE, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert!(world.xref.orders().is_empty());
    let notes = world.note_texts(GRACE);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("Xref reference check was not ordered: the candidate has no email address in Lever. Fix this in Lever, then move the candidate into the trigger stage again to order it."),
        "{}",
        notes[0]
    );
    assert_eq!(world.orders()[0].phase(), OrderPhase::Closed);
    world.lever.set_email(GRACE, "grace@example.com");
    world.lever.move_to(GRACE, SCREEN, now_millis());
    world.stage_change(GRACE, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.xref.orders().len(), 1, "ordered once fixed");
}

#[tokio::test]
async fn a_trigger_stage_known_by_name_is_resolved_through_levers_stage_list() {
    let world = World::new().await;
    world
        .configure(|config| {
            config
                .vendors
                .get_mut(&VendorId::Sterling)
                .unwrap()
                .trigger_stage = Some(lever_screening::tenant::StageRef::by_name(
                "background check",
            ));
        })
        .await;
    world
        .stage_change(ADA, crate::support::REFCHECK)
        .await
        .unwrap();
    world.run_worker().await;
    assert!(
        world.sterling.orders().is_empty(),
        "'Reference Check' is not it"
    );
    world
        .lever
        .move_to(ADA, crate::support::SCREEN, now_millis());
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    assert_eq!(
        world.sterling.orders().len(),
        1,
        "'Background Check' by name"
    );
    assert_eq!(
        world.sterling.orders()[0].package.as_deref(),
        Some("pkg-1"),
        "the default"
    );
    let order = &world.orders_of(VendorId::Sterling)[0];
    assert_eq!(
        order.steps().get("candidate").map(String::as_str),
        Some(&*format!("candidate-of-{}", order.order_id()))
    );
    assert!(world.lever.calls().contains(&"GET stages".to_owned()));
    let notes = world.note_texts(ADA);
    assert!(
        notes[0]
            .starts_with("Sterling Backcheck background check\nStatus: New\nReference number: v-1"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_first_note_is_posted_without_reading_the_notes_first() {
    let world = World::new().await;
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.note_texts(ADA).len(), 1);
    let calls = world.lever.calls();
    assert!(calls.contains(&"POST note".to_owned()), "{calls:?}");
    assert!(
        !calls.contains(&"GET notes".to_owned()),
        "only a note whose earlier POST was lost is looked for: {calls:?}"
    );
}

#[tokio::test]
async fn two_package_tags_are_not_guessed_between() {
    let world = World::new().await;
    world
        .lever
        .add_tag(ADA, "STERLING BGC PKG: Standard[ID : 1]");
    world
        .lever
        .add_tag(ADA, "STERLING BGC PKG: Executive[ID : 2]");
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    assert!(world.sterling.orders().is_empty());
    assert!(world.note_texts(ADA)[0].contains("more than one package"));
}

#[tokio::test]
async fn a_vendor_refusal_closes_the_order_with_the_vendors_message() {
    let world = World::new().await;
    world.xref.fail_next(VendorError::Rejected {
        status: 422,
        message: "candidate.email is not an email address".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(world.run_worker().await, [Outcome::Done]);
    let note = &world.note_texts(ADA)[0];
    assert!(
        note.contains("Xref refused the order: candidate.email is not an email address"),
        "{note}"
    );
    // Nothing in Lever to fix: the admin who holds the Xref account is asked.
    assert!(
        note.ends_with("Ask your Lever admin to fix this, then move the candidate into the trigger stage again to order it."),
        "{note}"
    );
    assert_eq!(world.orders()[0].phase(), OrderPhase::Closed);
}

#[tokio::test]
async fn a_missing_package_configuration_sends_the_recruiter_to_the_admin_not_to_lever() {
    let world = World::new().await;
    world
        .configure(|config| {
            let sterling = config.vendors.get_mut(&VendorId::Sterling).unwrap();
            sterling.package = PackageSettings::default();
        })
        .await;
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    assert!(world.sterling.orders().is_empty());
    let note = &world.note_texts(ADA)[0];
    assert_eq!(
        note,
        "Sterling Backcheck background check was not ordered: no background check package is \
         configured for this tenant. Ask your Lever admin to fix this, then move the candidate \
         into the trigger stage again to order it."
    );
}

#[tokio::test]
async fn a_vendor_outage_is_retried_later_with_the_same_idempotency_key() {
    let world = World::new().await;
    world
        .xref
        .fail_next(VendorError::Unavailable("HTTP 503".into()));
    world.stage_change(ADA, REFCHECK).await.unwrap();
    let outcomes = world.run_worker().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::RetryLater(_)]),
        "{outcomes:?}"
    );
    assert_eq!(
        world.orders()[0].phase(),
        OrderPhase::Pending,
        "the intent waits"
    );
    world.queue.expire_delays();
    assert_eq!(world.run_worker().await, [Outcome::Done]);
    assert_eq!(world.xref.orders().len(), 1);
    assert_eq!(
        world.xref.orders()[0].reference,
        world.orders()[0].order_id().to_string()
    );
}

#[tokio::test]
async fn a_confidential_candidate_lever_refuses_orders_nothing_and_tells_the_admin() {
    let world = World::new().await;
    // Lever's answer to a credential without access to confidential data.
    world.lever.fail_next(LeverError::Rejected {
        status: 403,
        message: "Forbidden".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(
        world.run_worker().await,
        [Outcome::Done],
        "acknowledged: neither retried nor dead-lettered"
    );
    assert!(world.xref.orders().is_empty());
    assert!(world.orders().is_empty());
    assert!(world.lever.tags(ADA).is_empty());
    let refusal = world
        .store
        .confidential_refusal(&tenant_id())
        .await
        .unwrap()
        .expect("the admin is told");
    assert_eq!(refusal.vendor, VendorId::Xref);
    assert!(refusal.at > now_millis() - 60_000);
}

#[tokio::test]
async fn a_vendor_refusing_our_credential_holds_the_order_at_once_instead_of_retrying() {
    let world = World::new().await;
    world.xref.fail_next(VendorError::Rejected {
        status: 401,
        message: "bad key".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(
        world.run_worker().await,
        [Outcome::Done],
        "held: no retry can help until the admin fixes the credentials"
    );
    let order = &world.orders()[0];
    assert_eq!(order.phase(), OrderPhase::Pending, "not closed: it resumes");
    let attention = order.attention().expect("needs attention");
    assert!(
        attention.cause.contains("HTTP 401: bad key"),
        "{attention:?}"
    );
    let notes = world.note_texts(ADA);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("not ordered yet"), "{notes:?}");
    // The same delivery again (Lever's retry) holds nothing twice and notes nothing twice.
    world.xref.fail_next(VendorError::Rejected {
        status: 401,
        message: "bad key".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.note_texts(ADA).len(), 1);
}

#[tokio::test]
async fn a_revoked_lever_key_disables_only_the_integrations_using_it() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world
        .lever
        .fail_next(LeverError::Unauthorized { status: 401 });
    assert_eq!(
        world.run_worker().await,
        [Outcome::Done],
        "dropped, not retried"
    );
    let config = world
        .app
        .tenants()
        .tenant(&crate::support::tenant_id())
        .await
        .unwrap()
        .config;
    assert!(config.vendors[&VendorId::Xref]
        .lever_access_revoked
        .is_some());
    assert!(
        config.vendors[&VendorId::Sterling]
            .lever_access_revoked
            .is_none(),
        "Sterling has its own key"
    );
    assert!(world.xref.orders().is_empty());
}

#[tokio::test]
async fn a_new_application_is_sent_to_hrlogics_once_lever_confirms_it() {
    let world = World::new().await;
    world.application_created(ADA).await.unwrap();
    world.run_worker().await;
    assert_eq!(world.hrlogics.orders().len(), 1);
    assert!(
        world.lever.tags(ADA).is_empty(),
        "nothing shows until HRLogics evaluates"
    );
    assert_eq!(world.lever.connected(), [VendorId::HrLogics]);
}

#[tokio::test]
async fn another_delivery_of_one_application_orders_nothing_after_its_order_ended() {
    let world = World::new().await;
    world.application_created(ADA).await.unwrap();
    world.run_worker().await;
    let order = world.orders_of(VendorId::HrLogics)[0].order_id().clone();
    // The survey ended (closed as HRLogics' last word would close it).
    lever_screening::store::modify_order(world.store.as_ref(), &order, |o| {
        o.close("survey ended", "ended", String::new());
        true
    })
    .await
    .unwrap();
    // A replay of the application under another token names the same order.
    world.application_created(ADA).await.unwrap();
    world.run_worker().await;
    assert_eq!(
        world.hrlogics.orders().len(),
        1,
        "one survey per application"
    );
    assert_eq!(world.orders_of(VendorId::HrLogics).len(), 1);
}

#[tokio::test]
async fn an_application_that_is_not_the_opportunitys_orders_nothing() {
    let world = World::new().await;
    let body = world.delivery(
        "applicationCreated",
        crate::support::APPLICATION_TOKEN,
        json!({ "opportunityId": ADA, "applicationId": "someone-elses" }),
    );
    world
        .post(WebhookKind::ApplicationCreated, &body)
        .await
        .unwrap();
    world.run_worker().await;
    assert!(world.hrlogics.orders().is_empty());
}

#[tokio::test]
async fn a_new_justifacts_integration_reads_the_seeds_posting_tag_without_any_setting() {
    let world = World::new().await;
    world
        .configure(|config| {
            let justifacts = config.vendors.get_mut(&VendorId::Justifacts).unwrap();
            justifacts.enabled = true;
            assert_eq!(justifacts.package, PackageSettings::default(), "no setting");
        })
        .await;
    world
        .lever
        .add_tag(ADA, "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]");
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    let orders = world.justifacts.orders();
    assert_eq!(orders.len(), 1, "{:?}", world.note_texts(ADA));
    assert_eq!(orders[0].package.as_deref(), Some("13558"));
}

#[tokio::test]
async fn a_package_the_vendor_refuses_holds_the_order_until_the_admin_fixes_it() {
    use lever_screening::clock::Deadline;
    use lever_screening::flows::admin;
    let world = World::new().await;
    // The contract's 422 names the field refused.
    world.xref.fail_next(VendorError::Rejected {
        status: 422,
        message: "package_id: no package \"pkg-gone\" on this account".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    assert_eq!(
        world.run_worker().await,
        [Outcome::Done],
        "held, not retried"
    );
    let order = &world.orders()[0];
    assert_eq!(order.phase(), OrderPhase::Pending, "not closed: it resumes");
    let attention = order.attention().expect("needs attention");
    assert!(
        attention
            .cause
            .starts_with("Xref refused the package ordered (HTTP 422"),
        "{attention:?}"
    );
    assert!(attention.fix.contains("package"), "{attention:?}");
    let notes = world.note_texts(ADA);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("did not accept the screening package chosen for this candidate"),
        "{notes:?}"
    );

    // Fixed (the package saved again): the held order is placed, once.
    let worker = world
        .app
        .worker(Deadline::after(std::time::Duration::from_secs(30)));
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    let resumed = admin::resume_held(&worker, &tenant, Some(VendorId::Xref), "https://x.example")
        .await
        .unwrap();
    assert_eq!(resumed.placed, 1, "{resumed:?}");
    assert_eq!(world.xref.orders().len(), 1);
    assert!(world.orders()[0].attention().is_none());
}

#[tokio::test]
async fn a_refused_callback_url_is_the_operators_to_fix_and_a_refused_candidate_field_is_not_held()
{
    let world = World::new().await;
    world.xref.fail_next(VendorError::Rejected {
        status: 422,
        message: "callback_url must be an absolute http(s) URL".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let orders = world.orders();
    let attention = orders[0].attention().expect("needs attention");
    assert!(attention.cause.contains("callback URL"), "{attention:?}");
    assert!(attention.fix.contains("PUBLIC_BASE_URL"), "{attention:?}");

    // The candidate's own data refused: closed with a note, as before (not a setting).
    let world = World::new().await;
    world.xref.fail_next(VendorError::Rejected {
        status: 422,
        message: "candidate.email must be an email address".into(),
    });
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let order = &world.orders()[0];
    assert_eq!(order.phase(), OrderPhase::Closed);
    assert!(order.attention().is_none());
}

#[tokio::test]
async fn an_order_that_fails_for_good_is_noted_on_the_candidate_once() {
    // The last attempt (here the first) of an outage that outlasts the retries.
    let mut settings = lever_screening::Settings::default();
    settings.work.max_attempts = 1;
    let world = World::with_settings(settings).await;
    world
        .xref
        .fail_next(VendorError::Unavailable("Xref is down".into()));
    world.stage_change(ADA, REFCHECK).await.unwrap();
    let outcomes = world.run_worker().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::DeadLetter(_)]),
        "{outcomes:?}"
    );
    let notes = world.note_texts(ADA);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("not ordered: ordering it kept failing")
            && notes[0].contains("Work that failed"),
        "{notes:?}"
    );
}
