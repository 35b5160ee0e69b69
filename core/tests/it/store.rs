//! One behaviour suite for every store: each case runs against `MemoryStore` and against
//! `DynamoStore` on DynamoDB Local (a fresh table per test), as `memory::<case>` and
//! `dynamodb::<case>`, so both keep the same contract.

use crate::support::aws::{local_aws_config, unique_table_name};
use async_trait::async_trait;
use lever_screening::clock::EpochMillis;
use lever_screening::delivery_log::{LoggedDelivery, Received, Source, WorkEnd, WorkState};
use lever_screening::ids::{DeliveryId, OpportunityId, OrderId, TenantId};
use lever_screening::order::{Order, VendorResults};
use lever_screening::status::Status;
use lever_screening::store::dynamodb::{create_table, DynamoStore};
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::{
    modify_order, CreateOrder, Delivery, Modified, OrderStore, Store, StoreError,
};
use lever_screening::tenant::{
    Integration, OnCompletion, Package, PackageSettings, Revoked, StageRef, TenantConfig,
    WebhookHealth, WebhookState, WebhookStatus,
};
use lever_screening::vendors::VendorId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fixed clock (a whole second), so delivery, claim and budget timing is exact.
const NOW: EpochMillis = 1_700_000_000_000;
const STALE_AFTER: Duration = Duration::from_secs(30);
const KEEP_FOR: Duration = Duration::from_secs(3600);

fn ms(d: Duration) -> EpochMillis {
    EpochMillis::try_from(d.as_millis()).unwrap()
}

fn tenant_id(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

fn opportunity(id: &str) -> OpportunityId {
    OpportunityId::parse(id).unwrap()
}

fn new_order_id() -> OrderId {
    OrderId::parse(uuid::Uuid::new_v4().simple().to_string()).unwrap()
}

fn order_of(vendor: VendorId, tenant: &str, opportunity_id: &str) -> Order {
    Order::new_intent(
        new_order_id(),
        tenant_id(tenant),
        vendor,
        opportunity(opportunity_id),
    )
}

fn order(tenant: &str, opportunity_id: &str) -> Order {
    order_of(VendorId::Xref, tenant, opportunity_id)
}

/// `order` as its next update: version bumped, `change` applied.
fn next(order: &Order, change: impl FnOnce(&mut Order)) -> Order {
    let mut next = with(order, "version", serde_json::json!(order.version() + 1));
    change(&mut next);
    next
}

/// `order` with the record's `field` set to `value`: a state no transition makes, which a
/// store must keep as it is given (an order's fields are private to its transitions).
fn with(order: &Order, field: &str, value: serde_json::Value) -> Order {
    let mut record = serde_json::to_value(order).unwrap();
    record[field] = value;
    serde_json::from_value(record).unwrap()
}

/// `results` as an order's record has them.
fn results(results: VendorResults) -> serde_json::Value {
    serde_json::to_value(results).unwrap()
}

/// Closed as a flow closes an order that was not placed.
fn close(order: &mut Order) {
    order.close("not placed", "not-placed", "Not placed".into());
}

fn integration(api_base: &str) -> Integration {
    Integration {
        enabled: true,
        api_base: api_base.into(),
        trigger_stage: None,
        package: PackageSettings::default(),
        lever_access_revoked: None,
        on_completion: None,
        shares_trigger_stage: false,
    }
}

fn tenant(id: &str) -> TenantConfig {
    TenantConfig {
        tenant_id: tenant_id(id),
        lever_api_base: TenantConfig::LEVER_PRODUCTION.into(),
        vendors: [
            (VendorId::Xref, integration("https://xref.example")),
            (VendorId::Sterling, integration("https://sterling.example")),
            (VendorId::HrLogics, integration("https://hrlogics.example")),
        ]
        .into(),
        phone_region: None,
    }
}

async fn tenants_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_tenant(&tenant_id("acme")).await.unwrap(), None);
    let mut acme = TenantConfig {
        tenant_id: tenant_id("acme"),
        lever_api_base: TenantConfig::LEVER_PRODUCTION.into(),
        vendors: [
            (
                VendorId::Xref,
                Integration {
                    enabled: true,
                    api_base: "https://xref.example".into(),
                    trigger_stage: Some(StageRef::by_name("Reference Check")),
                    package: PackageSettings {
                        tag_prefix: Some("BGC PKG:".into()),
                        default: Some(Package {
                            name: Some("Standard".into()),
                            id: "42".into(),
                        }),
                        catalog: vec![Package {
                            name: Some("Executive".into()),
                            id: "43".into(),
                        }],
                    },
                    lever_access_revoked: Some(Revoked {
                        reason: "Lever answered 401".into(),
                        at: NOW,
                    }),
                    on_completion: Some(OnCompletion {
                        move_to_stage: StageRef::by_id("stage-offer"),
                        when_results: vec!["Clear".into()],
                    }),
                    shares_trigger_stage: true,
                },
            ),
            (
                VendorId::Esr,
                Integration {
                    enabled: false,
                    trigger_stage: Some(StageRef {
                        id: Some("stage-bgc".into()),
                        name: Some("Background Check".into()),
                    }),
                    ..integration("https://esr.example")
                },
            ),
        ]
        .into(),
        phone_region: Some("CA".into()),
    };
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(
        store.get_tenant(&tenant_id("acme")).await.unwrap(),
        Some(acme.clone())
    );

    acme.lever_api_base = "https://sandbox.lever.example/v1".into();
    acme.phone_region = None;
    acme.vendors.remove(&VendorId::Esr);
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(
        store.get_tenant(&tenant_id("acme")).await.unwrap(),
        Some(acme)
    );
    assert_eq!(store.get_tenant(&tenant_id("other")).await.unwrap(), None);
}

async fn list_tenants_returns_every_tenant(store: Arc<dyn Store>) {
    assert_eq!(store.list_tenants().await.unwrap(), vec![]);
    let tenants = [tenant("initech"), tenant("acme"), tenant("globex")];
    for tenant in &tenants {
        store.put_tenant(tenant).await.unwrap();
    }
    // Neither webhook health nor orders are tenants.
    store
        .put_webhook_health(&tenant_id("acme"), &health(NOW))
        .await
        .unwrap();
    store.create_order(&order("acme", "opp-1")).await.unwrap();

    let listed = store.list_tenants().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|t| t.tenant_id.as_str()).collect();
    assert_eq!(ids, ["acme", "globex", "initech"], "by id");
    for tenant in &tenants {
        assert!(listed.contains(tenant), "{tenant:?} in {listed:?}");
    }
}

async fn lever_access_is_set_and_cleared_on_the_named_integrations(store: Arc<dyn Store>) {
    let acme = tenant_id("acme");
    let config = tenant("acme");
    store.put_tenant(&config).await.unwrap();
    store.put_tenant(&tenant("globex")).await.unwrap();
    let revoked = Revoked {
        reason: "Lever answered 401".into(),
        at: NOW,
    };

    store
        .set_lever_access(
            &acme,
            &[VendorId::Xref, VendorId::Sterling],
            Some(revoked.clone()),
        )
        .await
        .unwrap();
    let mut expected = config.clone();
    for vendor in [VendorId::Xref, VendorId::Sterling] {
        expected
            .vendors
            .get_mut(&vendor)
            .unwrap()
            .lever_access_revoked = Some(revoked.clone());
    }
    assert_eq!(
        store.get_tenant(&acme).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.get_tenant(&tenant_id("globex")).await.unwrap(),
        Some(tenant("globex")),
        "other tenants are left alone"
    );

    // An integration the tenant does not have is not created.
    store
        .set_lever_access(&acme, &[VendorId::Esr], Some(revoked.clone()))
        .await
        .unwrap();
    assert_eq!(
        store.get_tenant(&acme).await.unwrap(),
        Some(expected.clone())
    );

    // Accepted again: only the named integration is cleared.
    store
        .set_lever_access(&acme, &[VendorId::Xref, VendorId::Esr], None)
        .await
        .unwrap();
    expected
        .vendors
        .get_mut(&VendorId::Xref)
        .unwrap()
        .lever_access_revoked = None;
    assert_eq!(
        store.get_tenant(&acme).await.unwrap(),
        Some(expected.clone())
    );
    // Clearing what is already clear changes nothing.
    store
        .set_lever_access(&acme, &[VendorId::HrLogics], None)
        .await
        .unwrap();
    assert_eq!(store.get_tenant(&acme).await.unwrap(), Some(expected));

    // An unknown tenant is not created.
    let nobody = tenant_id("nobody");
    store
        .set_lever_access(&nobody, &[VendorId::Xref], Some(revoked))
        .await
        .unwrap();
    assert_eq!(store.get_tenant(&nobody).await.unwrap(), None);
    assert_eq!(store.list_tenants().await.unwrap().len(), 2);
}

fn health(checked_at: EpochMillis) -> WebhookHealth {
    WebhookHealth {
        checked_at,
        webhooks: vec![
            WebhookState {
                event: "candidateStageChange".into(),
                state: WebhookStatus::Registered,
            },
            WebhookState {
                event: "applicationCreated".into(),
                state: WebhookStatus::Missing,
            },
            WebhookState {
                event: "candidateDeleted".into(),
                state: WebhookStatus::Unknown("Lever answered 503".into()),
            },
        ],
    }
}

async fn webhook_health_round_trips_beside_the_configuration(store: Arc<dyn Store>) {
    let acme = tenant_id("acme");
    let config = tenant("acme");
    store.put_tenant(&config).await.unwrap();
    assert_eq!(store.webhook_health(&acme).await.unwrap(), None);

    store.put_webhook_health(&acme, &health(NOW)).await.unwrap();
    assert_eq!(
        store.webhook_health(&acme).await.unwrap(),
        Some(health(NOW))
    );

    let later = WebhookHealth {
        checked_at: NOW + 60_000,
        webhooks: vec![],
    };
    store.put_webhook_health(&acme, &later).await.unwrap();
    assert_eq!(store.webhook_health(&acme).await.unwrap(), Some(later));
    assert_eq!(
        store.webhook_health(&tenant_id("globex")).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_tenant(&acme).await.unwrap(),
        Some(config),
        "the configuration is untouched"
    );
}

async fn orders_are_unique_per_opportunity(store: Arc<dyn Store>) {
    let first = order("acme", "opp-1");
    assert_eq!(
        store.create_order(&first).await.unwrap(),
        CreateOrder::Created
    );

    let second = order("acme", "opp-1");
    assert_eq!(
        store.create_order(&second).await.unwrap(),
        CreateOrder::AlreadyOpen(first.clone())
    );
    assert_eq!(store.get_order(second.order_id()).await.unwrap(), None);

    let other_opportunity = order("acme", "opp-2");
    let other_tenant = order("globex", "opp-1");
    let other_vendor = order_of(VendorId::Sterling, "acme", "opp-1");
    for created in [&other_opportunity, &other_tenant, &other_vendor] {
        assert_eq!(
            store.create_order(created).await.unwrap(),
            CreateOrder::Created
        );
        assert_eq!(
            store.get_order(created.order_id()).await.unwrap().as_ref(),
            Some(created)
        );
    }
}

async fn creating_an_existing_order_id_returns_it(store: Arc<dyn Store>) {
    let first = order("acme", "opp-1");
    store.create_order(&first).await.unwrap();
    // The same event again, even if it now names another opportunity.
    let mut again = first.clone();
    again = with(
        &again,
        "opportunity_id",
        serde_json::json!(opportunity("opp-2")),
    );
    reported(&mut again, "Different", 1);
    assert_eq!(
        store.create_order(&again).await.unwrap(),
        CreateOrder::Exists(first.clone())
    );
    assert_eq!(
        store.get_order(first.order_id()).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.create_order(&order("acme", "opp-2")).await.unwrap(),
        CreateOrder::Created,
        "the refused create holds no opportunity"
    );

    // Closed, and its opportunity free again: still the existing order, not a new one.
    let closed = next(&first, close);
    store.update_order(&closed).await.unwrap();
    assert_eq!(
        store.create_order(&first).await.unwrap(),
        CreateOrder::Exists(closed.clone())
    );
    assert_eq!(
        store.create_order(&order("acme", "opp-1")).await.unwrap(),
        CreateOrder::Created,
        "the opportunity stayed free"
    );
}

async fn concurrent_creates_make_one_order(store: Arc<dyn Store>) {
    let attempts: Vec<Order> = (0..10).map(|_| order("acme", "opp-1")).collect();
    let tasks: Vec<_> = attempts
        .iter()
        .cloned()
        .map(|order| {
            let store = store.clone();
            tokio::spawn(async move { store.create_order(&order).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }

    let created: Vec<&Order> = attempts
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == CreateOrder::Created)
        .map(|(order, _)| order)
        .collect();
    assert_eq!(created.len(), 1, "outcomes: {outcomes:?}");
    let winner = created[0];
    for outcome in outcomes.iter().filter(|o| **o != CreateOrder::Created) {
        assert_eq!(*outcome, CreateOrder::AlreadyOpen(winner.clone()));
    }
    for loser in attempts
        .iter()
        .filter(|o| o.order_id() != winner.order_id())
    {
        assert_eq!(store.get_order(loser.order_id()).await.unwrap(), None);
    }
}

async fn closing_an_order_frees_its_opportunity(store: Arc<dyn Store>) {
    let first = order("acme", "opp-1");
    store.create_order(&first).await.unwrap();
    let opened = next(&first, |o| assert!(o.placed("X-0", NOW)));
    store.update_order(&opened).await.unwrap();
    assert_eq!(
        store.create_order(&order("acme", "opp-1")).await.unwrap(),
        CreateOrder::AlreadyOpen(opened.clone()),
        "an open order still holds its opportunity"
    );

    let closed = next(&opened, close);
    store.update_order(&closed).await.unwrap();
    let second = order("acme", "opp-1");
    assert_eq!(
        store.create_order(&second).await.unwrap(),
        CreateOrder::Created
    );

    // A late update of the closed order must not free the new order's opportunity.
    let late = next(&closed, |o| {
        let report_url = Some("https://xref.example/r/1".into());
        *o = with(
            o,
            "results",
            results(VendorResults {
                report_url,
                ..Default::default()
            }),
        );
    });
    store.update_order(&late).await.unwrap();
    assert_eq!(store.get_order(first.order_id()).await.unwrap(), Some(late));
    assert_eq!(
        store.create_order(&order("acme", "opp-1")).await.unwrap(),
        CreateOrder::AlreadyOpen(second)
    );
}

async fn get_order_returns_stored_or_none(store: Arc<dyn Store>) {
    let mut stored = order("acme", "opp-1");
    reported(&mut stored, "Candidate submitted", 1);
    stored.record_step("candidate", "C-1");
    stored.add_notice("not-placed", "No email".into());
    let score = Some("Green".into());
    let stored = with(
        &stored,
        "results",
        results(VendorResults {
            score,
            ..Default::default()
        }),
    );
    store.create_order(&stored).await.unwrap();
    assert_eq!(
        store.get_order(stored.order_id()).await.unwrap(),
        Some(stored)
    );
    assert_eq!(store.get_order(&new_order_id()).await.unwrap(), None);
}

async fn finds_order_by_vendor_order_id(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let other = order("acme", "opp-2");
    store.create_order(&other).await.unwrap();
    let sterling = order_of(VendorId::Sterling, "acme", "opp-1");
    store.create_order(&sterling).await.unwrap();
    assert_eq!(
        store
            .find_by_vendor_order(VendorId::Xref, "X-1")
            .await
            .unwrap(),
        None,
        "no vendor id stored yet"
    );

    let placed = next(&created, |o| {
        assert!(o.placed("X-1", NOW));
    });
    store.update_order(&placed).await.unwrap();
    let other_placed = next(&other, |o| assert!(o.placed("X-2", NOW)));
    store.update_order(&other_placed).await.unwrap();
    // Vendor ids are only unique per vendor: Sterling may use the same one.
    let sterling_placed = next(&sterling, |o| assert!(o.placed("X-1", NOW)));
    store.update_order(&sterling_placed).await.unwrap();

    let found = store.find_by_vendor_order(VendorId::Xref, "X-1").await;
    assert_eq!(found.unwrap(), Some(placed));
    let found = store.find_by_vendor_order(VendorId::Xref, "X-2").await;
    assert_eq!(found.unwrap(), Some(other_placed));
    let found = store.find_by_vendor_order(VendorId::Sterling, "X-1").await;
    assert_eq!(found.unwrap(), Some(sterling_placed));
    let unknown = store.find_by_vendor_order(VendorId::Xref, "X-3").await;
    assert_eq!(unknown.unwrap(), None);
    let other_vendor = store.find_by_vendor_order(VendorId::Esr, "X-1").await;
    assert_eq!(other_vendor.unwrap(), None);
}

async fn stale_updates_conflict(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let updated = next(&created, |o| reported(o, "Candidate submitted", 1));
    store.update_order(&updated).await.unwrap();

    let stale = next(&created, |o| reported(o, "Stale", 1));
    let skipping = next(&updated, |o| {
        *o = with(o, "version", serde_json::json!(o.version() + 1))
    });
    let unversioned = with(&updated, "version", serde_json::json!(0));
    for rejected in [&stale, &skipping, &unversioned] {
        assert!(
            matches!(
                store.update_order(rejected).await,
                Err(StoreError::Conflict)
            ),
            "version {} must conflict",
            rejected.version()
        );
    }
    assert_eq!(
        store.get_order(created.order_id()).await.unwrap(),
        Some(updated)
    );

    let unknown = next(&order("acme", "opp-2"), |_| {});
    assert!(matches!(
        store.update_order(&unknown).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.get_order(unknown.order_id()).await.unwrap(), None);
}

async fn concurrent_updates_one_wins(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let rivals =
        ["In Progress", "Completed"].map(|status| next(&created, |o| reported(o, status, 2)));
    let tasks = rivals.clone().map(|rival| {
        let store = store.clone();
        tokio::spawn(async move { store.update_order(&rival).await })
    });
    let mut winners = Vec::new();
    for (rival, task) in rivals.iter().zip(tasks) {
        match task.await.unwrap() {
            Ok(()) => winners.push(rival),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one update wins");
    assert_eq!(
        store.get_order(created.order_id()).await.unwrap().as_ref(),
        Some(winners[0])
    );
}

/// `order` as the vendor moved it to `status` (of rank `rank`).
fn reported(order: &mut Order, status: &'static str, rank: u32) {
    assert!(order.advance(&Status::step(status, rank), VendorResults::default()));
}

/// Orders of one tenant's opportunity, created at the given times.
async fn create_at(store: &dyn Store, order: Order, created_at: EpochMillis) -> Order {
    let order = with(&order, "created_at", serde_json::json!(created_at));
    let order = with(&order, "updated_at", serde_json::json!(created_at));
    assert_eq!(
        store.create_order(&order).await.unwrap(),
        CreateOrder::Created
    );
    order
}

async fn orders_for_opportunity_lists_only_that_opportunity(store: Arc<dyn Store>) {
    let acme = tenant_id("acme");
    let first = create_at(&*store, order("acme", "opp-1"), NOW - 3000).await;
    let closed = next(&first, close);
    store.update_order(&closed).await.unwrap();
    let sterling = create_at(
        &*store,
        order_of(VendorId::Sterling, "acme", "opp-1"),
        NOW - 2000,
    )
    .await;
    let second = create_at(&*store, order("acme", "opp-1"), NOW - 1000).await;
    create_at(&*store, order("acme", "opp-2"), NOW - 2500).await;
    create_at(&*store, order("globex", "opp-1"), NOW - 1500).await;

    assert_eq!(
        store
            .orders_for_opportunity(&acme, &opportunity("opp-1"))
            .await
            .unwrap(),
        vec![closed, sterling, second],
        "oldest first"
    );
    assert_eq!(
        store
            .orders_for_opportunity(&acme, &opportunity("opp-3"))
            .await
            .unwrap(),
        vec![]
    );
}

async fn quiet_open_orders_lists_the_longest_quiet_first(store: Arc<dyn Store>) {
    let cutoff = NOW - 2000;
    let with_activity = |tenant: &str, opportunity: &str, activity: Option<EpochMillis>| {
        let mut order = order(tenant, opportunity);
        if let Some(at) = activity {
            order.heard_from_vendor(at);
        }
        order
    };
    // Quiet since it was created.
    let never_heard = create_at(&*store, with_activity("acme", "opp-a", None), NOW - 5000).await;
    // Created long ago, but the vendor spoke recently.
    create_at(
        &*store,
        with_activity("acme", "opp-b", Some(NOW - 1000)),
        NOW - 90_000,
    )
    .await;
    // The quietest: created later than `never_heard`, heard from earlier.
    let quietest = create_at(
        &*store,
        with_activity("globex", "opp-c", Some(NOW - 8000)),
        NOW - 20_000,
    )
    .await;
    // Exactly at the cutoff: not before it.
    create_at(&*store, with_activity("acme", "opp-d", None), cutoff).await;
    // Quiet, but closed.
    let closed = create_at(&*store, with_activity("acme", "opp-e", None), NOW - 10_000).await;
    store.update_order(&next(&closed, close)).await.unwrap();

    assert_eq!(
        store.quiet_open_orders(cutoff, 10).await.unwrap(),
        vec![quietest.clone(), never_heard.clone()]
    );
    assert_eq!(
        store.quiet_open_orders(cutoff, 1).await.unwrap(),
        vec![quietest.clone()]
    );
    assert_eq!(
        store.quiet_open_orders(NOW - 9000, 10).await.unwrap(),
        vec![]
    );

    // Closing it, or hearing from its vendor, takes an order off the list.
    store.update_order(&next(&quietest, close)).await.unwrap();
    assert_eq!(
        store.quiet_open_orders(cutoff, 10).await.unwrap(),
        vec![never_heard.clone()]
    );
    store
        .update_order(&next(&never_heard, |o| o.heard_from_vendor(NOW)))
        .await
        .unwrap();
    assert_eq!(store.quiet_open_orders(cutoff, 10).await.unwrap(), vec![]);
}

async fn finished_delivery_is_already_done(store: Arc<dyn Store>) {
    let begin = |now| store.begin_delivery("token-1", now, STALE_AFTER, KEEP_FOR);
    assert_eq!(begin(NOW).await.unwrap(), Delivery::New);
    store.finish_delivery("token-1").await.unwrap();
    assert_eq!(begin(NOW + 1).await.unwrap(), Delivery::AlreadyDone);
    // Finished work is never taken over as stale.
    let later = NOW + ms(STALE_AFTER) * 10;
    assert_eq!(begin(later).await.unwrap(), Delivery::AlreadyDone);
    assert_eq!(
        store
            .begin_delivery("token-2", NOW, STALE_AFTER, KEEP_FOR)
            .await
            .unwrap(),
        Delivery::New,
        "keys are independent"
    );
}

async fn claimed_delivery_is_in_progress_until_stale(store: Arc<dyn Store>) {
    let begin = |now| store.begin_delivery("token-1", now, STALE_AFTER, KEEP_FOR);
    assert_eq!(begin(NOW).await.unwrap(), Delivery::New);
    assert_eq!(begin(NOW + 1).await.unwrap(), Delivery::InProgress);
    let stale_at = NOW + ms(STALE_AFTER);
    assert_eq!(begin(stale_at - 1).await.unwrap(), Delivery::InProgress);
    assert_eq!(begin(stale_at).await.unwrap(), Delivery::New, "stale claim");
    // The takeover is a fresh claim, stale only `stale_after` from now on.
    assert_eq!(begin(stale_at + 1).await.unwrap(), Delivery::InProgress);
}

async fn abandoned_delivery_is_new_again(store: Arc<dyn Store>) {
    let begin = || store.begin_delivery("token-1", NOW, STALE_AFTER, KEEP_FOR);
    assert_eq!(begin().await.unwrap(), Delivery::New);
    store.abandon_delivery("token-1").await.unwrap();
    assert_eq!(begin().await.unwrap(), Delivery::New);
    assert_eq!(begin().await.unwrap(), Delivery::InProgress);
}

async fn expired_delivery_is_new_again(store: Arc<dyn Store>) {
    let begin = |now| store.begin_delivery("token-1", now, STALE_AFTER, KEEP_FOR);
    assert_eq!(begin(NOW).await.unwrap(), Delivery::New);
    store.finish_delivery("token-1").await.unwrap();
    let expiry = NOW + ms(KEEP_FOR);
    assert_eq!(begin(expiry - 1).await.unwrap(), Delivery::AlreadyDone);
    assert_eq!(begin(expiry).await.unwrap(), Delivery::New);
}

async fn finishing_an_unknown_delivery_remembers_nothing(store: Arc<dyn Store>) {
    store.finish_delivery("token-1").await.unwrap();
    assert_eq!(
        store
            .begin_delivery("token-1", NOW, STALE_AFTER, KEEP_FOR)
            .await
            .unwrap(),
        Delivery::New
    );
}

async fn a_recorded_delivery_is_done_at_once(store: Arc<dyn Store>) {
    let record = |key, now| store.record_delivery(key, now, KEEP_FOR);
    assert_eq!(record("token-1", NOW).await.unwrap(), Delivery::New);
    assert_eq!(
        record("token-1", NOW + 1).await.unwrap(),
        Delivery::AlreadyDone
    );
    assert_eq!(
        store
            .begin_delivery("token-1", NOW + ms(STALE_AFTER) * 10, STALE_AFTER, KEEP_FOR)
            .await
            .unwrap(),
        Delivery::AlreadyDone,
        "done, never stale"
    );

    // An unfinished claim, even a stale one, is another invocation's.
    store
        .begin_delivery("token-2", NOW, STALE_AFTER, KEEP_FOR)
        .await
        .unwrap();
    assert_eq!(
        record("token-2", NOW + 1).await.unwrap(),
        Delivery::InProgress
    );
    assert_eq!(
        record("token-2", NOW + ms(STALE_AFTER) + 1).await.unwrap(),
        Delivery::InProgress
    );

    // Remembered for `keep_for`, then new again.
    let expiry = NOW + ms(KEEP_FOR);
    assert_eq!(
        record("token-1", expiry - 1).await.unwrap(),
        Delivery::AlreadyDone
    );
    assert_eq!(record("token-1", expiry).await.unwrap(), Delivery::New);
    assert_eq!(
        record("token-1", expiry + 1).await.unwrap(),
        Delivery::AlreadyDone
    );
}

async fn a_claim_is_held_until_it_expires_or_is_taken(store: Arc<dyn Store>) {
    let now = NOW;
    assert!(store
        .claim("lease:acme", "a", now, now + 30_000)
        .await
        .unwrap());
    assert!(!store
        .claim("lease:acme", "b", now + 1, now + 30_000)
        .await
        .unwrap());
    assert!(store
        .claim("lease:other", "c", now, now + 30_000)
        .await
        .unwrap());
    // Expired (TTL has not deleted it yet): free to claim again.
    assert!(store
        .claim("lease:acme", "d", now + 30_000, now + 60_000)
        .await
        .unwrap());
    assert_eq!(
        store.take("lease:acme", now + 30_001).await.unwrap(),
        Some("d".into())
    );
    // Taken: free at once.
    assert!(store
        .claim("lease:acme", "e", now + 30_002, now + 60_000)
        .await
        .unwrap());
    assert_eq!(
        store.take("lease:other", now + 1).await.unwrap(),
        Some("c".into())
    );
}

/// A key no store can hold is refused as such (never reported as an outage to retry).
async fn an_oversized_key_is_refused_not_unavailable(store: Arc<dyn Store>) {
    let key = "k".repeat(3000);
    match store.claim(&key, "v", NOW, NOW + 1_000).await {
        // The memory store has no key limit.
        Ok(claimed) => assert!(claimed),
        Err(error) => assert!(matches!(error, StoreError::Invalid(_)), "{error:?}"),
    }
}

/// A lease holder whose lease expired must not free the lease a later holder took.
async fn a_lease_is_released_only_by_its_holder(store: Arc<dyn Store>) {
    let now = NOW;
    assert!(store
        .claim("lease:x", "first", now, now + 1_000)
        .await
        .unwrap());
    // The first holder is slow; its lease expires and a second holder takes it.
    assert!(store
        .claim("lease:x", "second", now + 1_000, now + 2_000)
        .await
        .unwrap());
    assert!(!store.release("lease:x", "first").await.unwrap());
    assert!(
        !store
            .claim("lease:x", "third", now + 1_500, now + 3_000)
            .await
            .unwrap(),
        "still the second holder's"
    );
    assert!(store.release("lease:x", "second").await.unwrap());
    assert!(store
        .claim("lease:x", "third", now + 1_500, now + 3_000)
        .await
        .unwrap());
    assert!(!store.release("lease:unknown", "anyone").await.unwrap());
}

async fn a_claim_is_taken_once_and_not_after_expiry(store: Arc<dyn Store>) {
    let now = NOW;
    store
        .claim("state:s1", "acme", now, now + 600_000)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.take("state:s1", now + 1),
        store.take("state:s1", now + 1)
    );
    let takes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        takes.iter().flatten().collect::<Vec<_>>(),
        ["acme"],
        "{takes:?}"
    );
    assert_eq!(store.take("state:s1", now + 2).await.unwrap(), None);

    store
        .claim("state:s2", "acme", now, now + 600_000)
        .await
        .unwrap();
    assert_eq!(
        store.take("state:s2", now + 600_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.take("state:unknown", now).await.unwrap(), None);
}

async fn request_budget_is_per_key_and_calendar_second(store: Arc<dyn Store>) {
    let take = |key, now| store.try_take(key, now, 3);
    let mut taken = Vec::new();
    for offset in [0, 100, 500, 998, 999] {
        taken.push(take("lever:acme", NOW + offset).await.unwrap());
    }
    assert_eq!(taken, [true, true, true, false, false]);
    // Another credential has its own budget.
    for _ in 0..3 {
        assert!(take("lever:globex", NOW + 999).await.unwrap());
    }
    assert!(!take("lever:globex", NOW + 999).await.unwrap());
    // The next second is fresh.
    let mut taken = Vec::new();
    for offset in [1000, 1000, 1500, 1999] {
        taken.push(take("lever:acme", NOW + offset).await.unwrap());
    }
    assert_eq!(taken, [true, true, true, false]);
    // A different limit counts the same requests.
    assert!(store.try_take("lever:acme", NOW + 1999, 4).await.unwrap());
    assert!(!store.try_take("lever:acme", NOW + 1999, 4).await.unwrap());
}

/// The store's orders as [`modify_order`] takes them (without upcasting `dyn Store`), and
/// optionally a rival that, on the first write, writes the order first.
struct Orders {
    inner: Arc<dyn Store>,
    rival: Mutex<Option<Order>>,
}

impl Orders {
    fn of(store: &Arc<dyn Store>) -> Self {
        Orders {
            inner: store.clone(),
            rival: Mutex::new(None),
        }
    }

    fn with_rival(store: &Arc<dyn Store>, rival: Order) -> Self {
        Orders {
            inner: store.clone(),
            rival: Mutex::new(Some(rival)),
        }
    }
}

#[async_trait]
impl OrderStore for Orders {
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError> {
        self.inner.create_order(order).await
    }
    async fn get_order(&self, order: &OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.get_order(order).await
    }
    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        self.inner
            .find_by_vendor_order(vendor, vendor_order_id)
            .await
    }
    async fn update_order(&self, order: &Order) -> Result<(), StoreError> {
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            self.inner.update_order(&rival).await?;
        }
        self.inner.update_order(order).await
    }
    async fn orders_for_opportunity(
        &self,
        tenant: &TenantId,
        opportunity: &OpportunityId,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.orders_for_opportunity(tenant, opportunity).await
    }
    async fn quiet_open_orders(
        &self,
        quiet_since: EpochMillis,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.quiet_open_orders(quiet_since, limit).await
    }
}

fn add_notice(order: &mut Order, key: &str) -> bool {
    let new = !order.notices().contains_key(key);
    order.add_notice(key, format!("notice {key}"));
    new
}

async fn modify_order_starts_again_after_a_conflict(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let rival = next(&created, |o| {
        add_notice(o, "rival");
    });
    let orders = Orders::with_rival(&store, rival);

    let applied = AtomicUsize::new(0);
    let modified = modify_order(&orders, created.order_id(), |order| {
        applied.fetch_add(1, Ordering::SeqCst);
        add_notice(order, "ours")
    })
    .await
    .unwrap();

    assert_eq!(
        applied.load(Ordering::SeqCst),
        2,
        "applied again to the rival's write"
    );
    let Some(Modified::Changed(written)) = modified else {
        panic!("expected a change, got {modified:?}");
    };
    assert_eq!(written.version(), created.version() + 2);
    assert_eq!(
        written.notices().keys().collect::<Vec<_>>(),
        ["ours", "rival"]
    );
    assert_eq!(
        store.get_order(created.order_id()).await.unwrap(),
        Some(written)
    );
}

async fn concurrent_modifications_all_land(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let tasks: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|key| {
            let store = store.clone();
            let id = created.order_id().clone();
            tokio::spawn(async move {
                modify_order(&Orders::of(&store), &id, |order| add_notice(order, key)).await
            })
        })
        .collect();
    for task in tasks {
        let modified = task.await.unwrap().unwrap();
        assert!(
            matches!(modified, Some(Modified::Changed(_))),
            "{modified:?}"
        );
    }
    let stored = store.get_order(created.order_id()).await.unwrap().unwrap();
    assert_eq!(stored.notices().keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(stored.version(), created.version() + 2);
}

async fn modify_order_writes_nothing_without_a_change(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let orders = Orders::of(&store);
    let modified = modify_order(&orders, created.order_id(), |_| false)
        .await
        .unwrap();
    assert_eq!(modified, Some(Modified::Unchanged(created.clone())));
    assert_eq!(
        store.get_order(created.order_id()).await.unwrap(),
        Some(created)
    );

    let unknown = modify_order(&orders, &new_order_id(), |order| add_notice(order, "never"))
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

fn logged(id: &DeliveryId, received: Received) -> LoggedDelivery {
    let mut delivery =
        LoggedDelivery::new(id.clone(), Source::Lever("candidateStageChange".into()));
    delivery.received = received;
    delivery.opportunity = Some(opportunity("opp-1"));
    delivery
}

fn ended(state: WorkState) -> WorkEnd {
    WorkEnd {
        at: NOW,
        state,
        effects: Vec::new(),
    }
}

async fn a_log_entry_joins_its_halves_in_either_order(store: Arc<dyn Store>) {
    let acme = tenant_id("acme");
    let keep = NOW + ms(KEEP_FOR);
    // Intake first, then the worker.
    let first = DeliveryId::new(NOW);
    store
        .log_delivery(&acme, &logged(&first, Received::Queued), keep)
        .await
        .unwrap();
    assert_eq!(
        store
            .log_entry(&acme, &first, NOW)
            .await
            .unwrap()
            .unwrap()
            .end,
        None
    );
    store
        .log_work_end(&acme, &first, &ended(WorkState::Done), keep)
        .await
        .unwrap();
    // The worker first (its message ran before intake's write landed), then intake.
    let second = DeliveryId::new(NOW + 1);
    store
        .log_work_end(&acme, &second, &ended(WorkState::Done), keep)
        .await
        .unwrap();
    assert_eq!(
        store.log_entry(&acme, &second, NOW).await.unwrap(),
        None,
        "an end without its delivery is not an entry"
    );
    store
        .log_delivery(&acme, &logged(&second, Received::Queued), keep)
        .await
        .unwrap();
    for id in [&first, &second] {
        let entry = store.log_entry(&acme, id, NOW).await.unwrap().unwrap();
        assert_eq!(entry.delivery, logged(id, Received::Queued));
        assert_eq!(entry.end, Some(ended(WorkState::Done)));
    }
    // The latest word wins.
    store
        .log_work_end(&acme, &first, &ended(WorkState::Replayed), keep)
        .await
        .unwrap();
    let entry = store.log_entry(&acme, &first, NOW).await.unwrap().unwrap();
    assert_eq!(entry.end, Some(ended(WorkState::Replayed)));
}

async fn the_delivery_log_is_newest_first_per_tenant_and_paged(store: Arc<dyn Store>) {
    let (acme, globex) = (tenant_id("acme"), tenant_id("globex"));
    let keep = NOW + ms(KEEP_FOR);
    let ids: Vec<DeliveryId> = (0..7).map(|n| DeliveryId::new(NOW + n * 1000)).collect();
    for id in &ids {
        store
            .log_delivery(&acme, &logged(id, Received::Ignored), keep)
            .await
            .unwrap();
    }
    store
        .log_delivery(
            &globex,
            &logged(&DeliveryId::new(NOW + 500), Received::Queued),
            keep,
        )
        .await
        .unwrap();
    let page = store.delivery_log(&acme, None, 3, NOW).await.unwrap();
    let shown: Vec<_> = page.iter().map(|e| e.delivery.id.clone()).collect();
    assert_eq!(shown, vec![ids[6].clone(), ids[5].clone(), ids[4].clone()]);
    let older = store
        .delivery_log(&acme, Some(&ids[4]), 10, NOW)
        .await
        .unwrap();
    let shown: Vec<_> = older.iter().map(|e| e.delivery.id.clone()).collect();
    assert_eq!(shown, ids[..4].iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        store
            .delivery_log(&globex, None, 10, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .log_entry(&globex, &ids[0], NOW)
            .await
            .unwrap()
            .is_none(),
        "another tenant's entry is not found"
    );
}

async fn expired_log_entries_are_not_shown(store: Arc<dyn Store>) {
    let acme = tenant_id("acme");
    let old = DeliveryId::new(NOW);
    store
        .log_delivery(&acme, &logged(&old, Received::Rejected), NOW + 60_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .delivery_log(&acme, None, 10, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    let later = NOW + 61_000;
    assert!(store
        .delivery_log(&acme, None, 10, later)
        .await
        .unwrap()
        .is_empty());
    assert!(store.log_entry(&acme, &old, later).await.unwrap().is_none());
}

fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

async fn dynamo_store() -> Arc<dyn Store> {
    let client = aws_sdk_dynamodb::Client::new(&local_aws_config().await);
    let table = unique_table_name("store-suite");
    create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("cannot create table {table}: {e}"));
    Arc::new(DynamoStore::new(client, table))
}

/// Runs every case once per store, as `memory::<case>` and `dynamodb::<case>`.
macro_rules! store_suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::memory_store()).await;
                }
            )*
        }

        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::dynamo_store().await).await;
                }
            )*
        }
    };
}

store_suite!(
    tenants_round_trip,
    list_tenants_returns_every_tenant,
    lever_access_is_set_and_cleared_on_the_named_integrations,
    webhook_health_round_trips_beside_the_configuration,
    orders_are_unique_per_opportunity,
    creating_an_existing_order_id_returns_it,
    concurrent_creates_make_one_order,
    closing_an_order_frees_its_opportunity,
    get_order_returns_stored_or_none,
    finds_order_by_vendor_order_id,
    stale_updates_conflict,
    concurrent_updates_one_wins,
    orders_for_opportunity_lists_only_that_opportunity,
    quiet_open_orders_lists_the_longest_quiet_first,
    finished_delivery_is_already_done,
    claimed_delivery_is_in_progress_until_stale,
    abandoned_delivery_is_new_again,
    expired_delivery_is_new_again,
    finishing_an_unknown_delivery_remembers_nothing,
    a_recorded_delivery_is_done_at_once,
    a_claim_is_held_until_it_expires_or_is_taken,
    a_claim_is_taken_once_and_not_after_expiry,
    a_lease_is_released_only_by_its_holder,
    an_oversized_key_is_refused_not_unavailable,
    request_budget_is_per_key_and_calendar_second,
    modify_order_starts_again_after_a_conflict,
    concurrent_modifications_all_land,
    modify_order_writes_nothing_without_a_change,
    a_log_entry_joins_its_halves_in_either_order,
    the_delivery_log_is_newest_first_per_tenant_and_paged,
    expired_log_entries_are_not_shown,
);
