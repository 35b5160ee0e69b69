//! Vendor callbacks: authenticated, applied forward only, once per callback, shown in Lever
//! by the worker; unsigned ones confirmed by reading the vendor first.

use crate::support::{tenant_id, World, ADA, BGC, REFCHECK, STERLING_URL_SECRET, XREF_SECRET};
use lever_screening::callback_auth::sign_headers;
use lever_screening::clock::now_millis;
use lever_screening::flows::{vendor_callback, AckStatus};
use lever_screening::vendors::VendorId;
use lever_screening::work::Work;
use serde_json::json;

async fn ordered_reference_check(world: &World) -> String {
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    world.xref.orders()[0].id.clone()
}

#[tokio::test]
async fn each_status_moves_the_order_forward_and_replaces_the_tag() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    for status in ["Referees nominated", "References in progress", "Completed"] {
        let ack = world
            .callback(VendorId::Xref, json!({ "id": id, "status": status }))
            .await
            .unwrap();
        assert_eq!(ack.status, AckStatus::Applied);
        world.run_worker().await;
        assert_eq!(
            world.lever.tags(ADA),
            [format!("Xref - {status}")],
            "one Xref tag at a time"
        );
    }
}

#[tokio::test]
async fn a_late_or_repeated_status_changes_nothing() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    world
        .callback(VendorId::Xref, json!({ "id": id, "status": "Completed" }))
        .await
        .unwrap();
    world.run_worker().await;
    let late = world
        .callback(
            VendorId::Xref,
            json!({ "id": id, "status": "Referees nominated" }),
        )
        .await
        .unwrap();
    assert_eq!(late.status, AckStatus::Unchanged);
    assert!(world.queue.pending().is_empty(), "nothing to write");
    assert_eq!(world.lever.tags(ADA), ["Xref - Completed"]);
}

#[tokio::test]
async fn the_same_callback_twice_is_a_duplicate() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    let body = json!({ "id": id, "status": "Referees nominated" });
    world
        .callback_with_id(VendorId::Xref, "msg_1", body.clone())
        .await
        .unwrap();
    let again = world
        .callback_with_id(VendorId::Xref, "msg_1", body)
        .await
        .unwrap();
    assert_eq!(again.status, AckStatus::Duplicate);
}

#[tokio::test]
async fn a_status_the_vendor_never_uses_is_422_and_an_unknown_order_404() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    let error = world
        .callback(VendorId::Xref, json!({ "id": id, "status": "Done" }))
        .await
        .unwrap_err();
    assert_eq!(error.status(), 422);
    let error = world
        .callback(
            VendorId::Xref,
            json!({ "id": "v-999", "status": "Completed" }),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), 404);
}

#[tokio::test]
async fn a_callback_signed_with_another_secret_is_401() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    let body = serde_json::to_vec(&json!({ "id": id, "status": "Completed" })).unwrap();
    let headers = sign_headers(
        "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtdmFsdWU=",
        "msg_x",
        now_millis() / 1000,
        &body,
    )
    .unwrap();
    let callback = vendor_callback::Callback {
        headers: &headers,
        body: &body,
        url_secret: None,
    };
    let error =
        vendor_callback::handle(&world.app.intake(), VendorId::Xref, &tenant_id(), &callback)
            .await
            .unwrap_err();
    assert_eq!(error.status(), 401);
}

#[tokio::test]
async fn an_unusable_callback_secret_is_a_configuration_error_naming_its_field() {
    let world = World::new().await;
    let id = ordered_reference_check(&world).await;
    let mut secret = crate::support::acme_secret();
    secret["vendors"]["xref"]["callback_secret"]["current"] = json!(format!("v1,{XREF_SECRET}"));
    world.secrets.put(crate::support::TENANT, secret);
    world.app.tenants().invalidate(&tenant_id());
    let error = world
        .callback(VendorId::Xref, json!({ "id": id, "status": "Completed" }))
        .await
        .unwrap_err();
    assert_eq!(error.status(), 500);
    assert_eq!(error.code(), "tenant_misconfigured");
    assert!(
        error
            .to_string()
            .contains("vendors.xref.callback_secret.current"),
        "{error}"
    );
    assert_eq!(
        error.public_message(),
        "this tenant is not fully configured"
    );
}

#[tokio::test]
async fn an_unsigned_callback_is_a_hint_the_worker_confirms_with_the_vendor() {
    let world = World::new().await;
    world.stage_change(ADA, BGC).await.unwrap();
    world.run_worker().await;
    let screening = world.sterling.orders()[0].id.clone();
    // The callback claims Completed; Sterling's API says In Progress.
    world.sterling.set_status(&screening, "In Progress");
    let body = serde_json::to_vec(&json!({ "id": screening, "status": "Completed" })).unwrap();
    let headers = http::HeaderMap::new();
    let callback = vendor_callback::Callback {
        headers: &headers,
        body: &body,
        url_secret: Some(STERLING_URL_SECRET),
    };
    let ack = vendor_callback::handle(
        &world.app.intake(),
        VendorId::Sterling,
        &tenant_id(),
        &callback,
    )
    .await
    .unwrap();
    // Queued, and answered 200 (not 202): Sterling retries a callback until it gets 200.
    assert_eq!(ack.status, AckStatus::Received);
    assert!(!ack.is_accepted_only());
    assert!(matches!(
        world.queue.pending().as_slice(),
        [Work::ReadVendorOrder { .. }]
    ));
    world.run_worker().await;
    let order = &world.orders_of(VendorId::Sterling)[0];
    assert_eq!(
        order.status(),
        Some("In Progress"),
        "what Sterling's API says"
    );
    assert!(world
        .note_texts(ADA)
        .iter()
        .any(|n| n.contains("Status: In Progress")));
    let wrong = vendor_callback::Callback {
        headers: &headers,
        body: &body,
        url_secret: Some("not-the-secret-at-all"),
    };
    let error = vendor_callback::handle(
        &world.app.intake(),
        VendorId::Sterling,
        &tenant_id(),
        &wrong,
    )
    .await
    .unwrap_err();
    assert_eq!(error.status(), 401);
}
