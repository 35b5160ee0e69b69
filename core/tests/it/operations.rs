//! What operators rely on: webhooks registered and checked through Lever's API, one
//! integration deleted without breaking the others, reconciliation of quiet orders, and an
//! integration reconnected by OAuth starting afresh.

use crate::support::{tenant_id, World, ADA, CALLBACK_BASE, REFCHECK};
use lever_screening::callback_auth::sign_headers;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::{admin, reconcile, vendor_callback, webhook_health};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::tenant::WebhookStatus;
use lever_screening::vendors::VendorId;
use lever_screening::work::Work;
use serde_json::{json, Value};
use std::time::Duration;

fn worker(world: &World) -> lever_screening::flows::Worker<'_> {
    world.app.worker(Deadline::after(Duration::from_secs(30)))
}

#[tokio::test]
async fn registering_creates_the_needed_webhooks_and_stores_their_tokens() {
    let world = World::new().await;
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    let done = admin::register_webhooks(
        &worker(&world),
        world.app.secrets(),
        &tenant,
        None,
        CALLBACK_BASE,
    )
    .await
    .unwrap();
    let events: Vec<_> = world
        .lever
        .webhooks()
        .iter()
        .map(|w| w.event.clone())
        .collect();
    let mut registered = events.clone();
    registered.sort();
    // Only the webhooks a feature uses: Candidate Hired does nothing, so it is not asked for.
    assert_eq!(
        registered,
        [
            "applicationCreated",
            "candidateArchiveChange",
            "candidateDeleted",
            "candidateStageChange",
        ]
    );
    assert!(done.iter().all(|r| r.action == "created"));
    let stored = world.secrets.document(crate::support::TENANT).unwrap();
    assert_eq!(
        stored["webhooks"]["candidateStageChange"]["current"],
        "signature-token-of-wh-4"
    );
    assert!(world
        .lever
        .webhooks()
        .iter()
        .all(|w| w.url.starts_with("https://screening.example/lever/acme/")));
    // Again: nothing new.
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    let again = admin::register_webhooks(
        &worker(&world),
        world.app.secrets(),
        &tenant,
        None,
        CALLBACK_BASE,
    )
    .await
    .unwrap();
    assert!(again.iter().all(|r| r.action == "kept"), "{again:?}");
    assert_eq!(world.lever.webhooks().len(), 4);
}

#[tokio::test]
async fn deleting_one_integration_keeps_the_webhooks_others_need() {
    let world = World::new().await;
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    admin::register_webhooks(
        &worker(&world),
        world.app.secrets(),
        &tenant,
        None,
        CALLBACK_BASE,
    )
    .await
    .unwrap();
    let deleted = admin::delete_integration(
        &worker(&world),
        world.app.secrets(),
        &tenant,
        VendorId::HrLogics,
    )
    .await
    .unwrap();
    assert_eq!(
        deleted.webhooks_deleted,
        ["applicationCreated"],
        "Xref and Sterling still need stage changes"
    );
    assert!(deleted.webhooks_left.is_empty());
    let events: Vec<_> = world
        .lever
        .webhooks()
        .iter()
        .map(|w| w.event.clone())
        .collect();
    assert!(events.contains(&"candidateStageChange".to_owned()));
    let config = world
        .app
        .tenants()
        .tenant(&tenant_id())
        .await
        .unwrap()
        .config;
    assert!(!config.vendors.contains_key(&VendorId::HrLogics));
    assert!(
        world.secrets.document(crate::support::TENANT).unwrap()["vendors"]
            .get("hrlogics")
            .is_none()
    );
}

#[tokio::test]
async fn the_webhook_check_reports_a_webhook_deleted_in_lever() {
    let world = World::new().await;
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    admin::register_webhooks(
        &worker(&world),
        world.app.secrets(),
        &tenant,
        None,
        CALLBACK_BASE,
    )
    .await
    .unwrap();
    let stage_change = world
        .lever
        .webhooks()
        .into_iter()
        .find(|w| w.event == "applicationCreated")
        .unwrap();
    use lever_screening::lever::LeverApi;
    world.lever.delete_webhook(&stage_change.id).await.unwrap();
    let health = webhook_health::check(&worker(&world), &tenant)
        .await
        .unwrap();
    let state = |event: &str| {
        health
            .webhooks
            .iter()
            .find(|w| w.event == event)
            .unwrap()
            .state
            .clone()
    };
    assert_eq!(state("applicationCreated"), WebhookStatus::Missing);
    assert_eq!(state("candidateStageChange"), WebhookStatus::Registered);
    let states = admin::integration_states(&tenant, Some(&health), world.app.vendors());
    let hrlogics = states
        .iter()
        .find(|s| s.vendor == VendorId::HrLogics)
        .unwrap();
    assert_eq!(hrlogics.webhook, "missing");
    assert_eq!(hrlogics.credential, "api key");
}

#[tokio::test]
async fn a_quiet_open_order_is_re_read_from_its_vendor() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    world.xref.set_status(&id, "References in progress");
    let report = reconcile::run(
        world.store.as_ref(),
        world.queue.as_ref(),
        &world.app.settings,
        now_millis() + 13 * 3600 * 1000,
    )
    .await
    .unwrap();
    assert_eq!(report.queued, 1);
    assert!(matches!(
        world.queue.pending().as_slice(),
        [Work::ReadVendorOrder { .. }]
    ));
    world.run_worker().await;
    assert_eq!(world.lever.tags(ADA), ["Xref - References in progress"]);
    let nothing = reconcile::run(
        world.store.as_ref(),
        world.queue.as_ref(),
        &world.app.settings,
        now_millis(),
    )
    .await
    .unwrap();
    assert_eq!(nothing.queued, 0, "not quiet any more");
}

/// The alarms in `template.yaml` match metrics by name and by their labels alone
/// (`WebhookRejected{reason}`, `Callback{vendor,outcome}`): a forged delivery and a forged
/// callback must come out as Embedded Metric Format documents with exactly those dimensions.
#[tokio::test]
async fn forgeries_are_published_as_the_metrics_the_alarms_watch() {
    let collector = lever_screening::lambda::install_metrics().unwrap();
    let world = World::new().await;
    let forged = world.delivery(
        "candidateStageChange",
        "not-the-token",
        json!({ "opportunityId": ADA, "toStageId": REFCHECK }),
    );
    world
        .post(WebhookKind::CandidateStageChange, &forged)
        .await
        .unwrap_err();
    let body = serde_json::to_vec(&json!({ "type": "reference.completed" })).unwrap();
    let headers = sign_headers(
        "whsec_bm90LXRoZS12ZW5kb3JzLXNlY3JldC1hdC1hbGw=",
        "msg_forged",
        now_millis() / 1000,
        &body,
    )
    .unwrap();
    let callback = vendor_callback::Callback {
        headers: &headers,
        body: &body,
        url_secret: None,
    };
    vendor_callback::handle(&world.app.intake(), VendorId::Xref, &tenant_id(), &callback)
        .await
        .unwrap_err();

    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    let documents: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON document"))
        .collect();
    let published = |metric: &str, dimensions: &[(&str, &str)]| {
        documents.iter().any(|doc| {
            let directive = &doc["_aws"]["CloudWatchMetrics"][0];
            let names: Vec<&str> = directive["Dimensions"][0]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            directive["Namespace"] == lever_screening::lambda::METRICS_NAMESPACE
                && doc["_aws"]["Timestamp"].is_u64()
                && directive["Metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["Name"] == metric)
                && doc[metric].as_u64() >= Some(1)
                && names.len() == dimensions.len()
                && dimensions
                    .iter()
                    .all(|(name, value)| names.contains(name) && doc[*name] == *value)
        })
    };
    assert!(
        published("WebhookRejected", &[("reason", "unauthorized")]),
        "{documents:#?}"
    );
    assert!(
        published(
            "Callback",
            &[("vendor", "xref"), ("outcome", "unauthorized")]
        ),
        "{documents:#?}"
    );
}

#[tokio::test]
async fn archive_change_is_needed_only_while_an_integration_cancels_on_archive() {
    let world = World::new().await;
    let tenant = world.app.tenants().tenant(&tenant_id()).await.unwrap();
    let vendors = world.app.vendors();
    let names = |kinds: Vec<WebhookKind>| -> Vec<&str> {
        kinds.into_iter().map(WebhookKind::event_name).collect()
    };
    // HRLogics alone: its WOTC survey outlives the application, archiving cancels nothing.
    let hrlogics = &tenant.config.vendors[&VendorId::HrLogics];
    assert_eq!(
        names(webhook_health::needed(
            [(&VendorId::HrLogics, hrlogics)],
            vendors
        )),
        ["applicationCreated", "candidateDeleted"]
    );
    let xref = &tenant.config.vendors[&VendorId::Xref];
    assert_eq!(
        names(webhook_health::needed([(&VendorId::Xref, xref)], vendors)),
        [
            "candidateArchiveChange",
            "candidateDeleted",
            "candidateStageChange"
        ]
    );
}
