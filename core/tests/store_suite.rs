//! One behaviour suite for every store: each case runs against `MemoryStore` and against
//! `DynamoStore` on DynamoDB Local (a fresh table per test), so both keep the same contract.

mod support;

use lever_screening::model::{
    EpochMillis, Order, OrderPhase, OutboxItem, OutboxWork, Package, PackageSettings, StageRef,
    TenantConfig, VendorId, VendorSettings,
};
use lever_screening::store::dynamodb::{create_table, DynamoStore};
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::{CreateOrder, Delivery, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// A fixed clock, so delivery and outbox timing is exact.
const NOW: EpochMillis = 1_700_000_000_000;
const STALE_AFTER: Duration = Duration::from_secs(30);
const KEEP_FOR: Duration = Duration::from_secs(3600);

fn ms(d: Duration) -> EpochMillis {
    d.as_millis() as EpochMillis
}

fn order(tenant: &str, opportunity: &str) -> Order {
    Order::new_intent(tenant, VendorId::Xref, opportunity)
}

/// `order` as its next update: version bumped, `change` applied.
fn next(order: &Order, change: impl FnOnce(&mut Order)) -> Order {
    let mut next = order.clone();
    next.version += 1;
    change(&mut next);
    next
}

fn outbox_item(created_at: EpochMillis, next_attempt_at: EpochMillis) -> OutboxItem {
    let mut item = OutboxItem::new(
        "acme",
        OutboxWork::SyncLever {
            order_id: format!("order-{created_at}"),
        },
        "lever returned 503",
    );
    item.created_at = created_at;
    item.next_attempt_at = next_attempt_at;
    item
}

async fn tenants_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_tenant("acme").await.unwrap(), None);
    let mut tenant = TenantConfig {
        tenant_id: "acme".into(),
        lever_api_base: TenantConfig::LEVER_PRODUCTION.into(),
        vendors: [(
            VendorId::Xref,
            VendorSettings {
                enabled: true,
                api_base: "https://xref.example".into(),
                trigger_stage: Some(StageRef::Name("Reference Check".into())),
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
            },
        )]
        .into(),
        lever_disconnected: None,
    };
    store.put_tenant(&tenant).await.unwrap();
    assert_eq!(
        store.get_tenant("acme").await.unwrap(),
        Some(tenant.clone())
    );

    tenant.lever_api_base = "https://sandbox.lever.example/v1".into();
    store.put_tenant(&tenant).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(tenant));
    assert_eq!(store.get_tenant("other").await.unwrap(), None);
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
    assert_eq!(store.get_order(&second.order_id).await.unwrap(), None);

    let other_opportunity = order("acme", "opp-2");
    let other_tenant = order("globex", "opp-1");
    for created in [&other_opportunity, &other_tenant] {
        assert_eq!(
            store.create_order(created).await.unwrap(),
            CreateOrder::Created
        );
        assert_eq!(
            store.get_order(&created.order_id).await.unwrap().as_ref(),
            Some(created)
        );
    }
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
    for loser in attempts.iter().filter(|o| o.order_id != winner.order_id) {
        assert_eq!(store.get_order(&loser.order_id).await.unwrap(), None);
    }
}

async fn closing_an_order_frees_its_opportunity(store: Arc<dyn Store>) {
    let first = order("acme", "opp-1");
    store.create_order(&first).await.unwrap();
    let opened = next(&first, |o| o.phase = OrderPhase::Open);
    store.update_order(&opened).await.unwrap();
    assert_eq!(
        store.create_order(&order("acme", "opp-1")).await.unwrap(),
        CreateOrder::AlreadyOpen(opened.clone()),
        "an open order still holds its opportunity"
    );

    let closed = next(&opened, |o| o.phase = OrderPhase::Closed);
    store.update_order(&closed).await.unwrap();
    let second = order("acme", "opp-1");
    assert_eq!(
        store.create_order(&second).await.unwrap(),
        CreateOrder::Created
    );

    // A late update of the closed order must not free the new order's opportunity.
    let late = next(&closed, |o| {
        o.results.report_url = Some("https://xref.example/r/1".into())
    });
    store.update_order(&late).await.unwrap();
    assert_eq!(store.get_order(&first.order_id).await.unwrap(), Some(late));
    assert_eq!(
        store.create_order(&order("acme", "opp-1")).await.unwrap(),
        CreateOrder::AlreadyOpen(second)
    );
}

async fn get_order_returns_stored_or_none(store: Arc<dyn Store>) {
    let mut stored = order("acme", "opp-1");
    stored.history.push(lever_screening::model::StatusChange {
        status: "Candidate submitted".into(),
        at: NOW,
    });
    store.create_order(&stored).await.unwrap();
    assert_eq!(
        store.get_order(&stored.order_id).await.unwrap(),
        Some(stored)
    );
    assert_eq!(store.get_order("no-such-order").await.unwrap(), None);
}

async fn finds_order_by_vendor_order_id(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let other = order("acme", "opp-2");
    store.create_order(&other).await.unwrap();
    assert_eq!(
        store
            .find_by_vendor_order(VendorId::Xref, "X-1")
            .await
            .unwrap(),
        None,
        "no vendor id stored yet"
    );

    let placed = next(&created, |o| {
        o.vendor_order_id = Some("X-1".into());
        o.phase = OrderPhase::Open;
    });
    store.update_order(&placed).await.unwrap();
    let other_placed = next(&other, |o| o.vendor_order_id = Some("X-2".into()));
    store.update_order(&other_placed).await.unwrap();

    let found = store.find_by_vendor_order(VendorId::Xref, "X-1").await;
    assert_eq!(found.unwrap(), Some(placed.clone()));
    let found = store.find_by_vendor_order(VendorId::Xref, "X-2").await;
    assert_eq!(found.unwrap(), Some(other_placed));
    let unknown = store.find_by_vendor_order(VendorId::Xref, "X-3").await;
    assert_eq!(unknown.unwrap(), None);
    // Vendor ids are only unique per vendor (vacuous until a second vendor exists).
    for vendor in VendorId::ALL.into_iter().filter(|v| *v != placed.vendor) {
        assert_eq!(
            store.find_by_vendor_order(vendor, "X-1").await.unwrap(),
            None
        );
    }
}

async fn stale_updates_conflict(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let updated = next(&created, |o| o.status = Some("Candidate submitted".into()));
    store.update_order(&updated).await.unwrap();

    let stale = next(&created, |o| o.status = Some("Stale".into()));
    let skipping = next(&updated, |o| o.version += 1);
    let unversioned = Order {
        version: 0,
        ..updated.clone()
    };
    for rejected in [&stale, &skipping, &unversioned] {
        assert!(
            matches!(
                store.update_order(rejected).await,
                Err(StoreError::Conflict)
            ),
            "version {} must conflict",
            rejected.version
        );
    }
    assert_eq!(
        store.get_order(&created.order_id).await.unwrap(),
        Some(updated)
    );

    let unknown = next(&order("acme", "opp-2"), |_| {});
    assert!(matches!(
        store.update_order(&unknown).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.get_order(&unknown.order_id).await.unwrap(), None);
}

async fn concurrent_updates_one_wins(store: Arc<dyn Store>) {
    let created = order("acme", "opp-1");
    store.create_order(&created).await.unwrap();
    let rivals = ["In Progress", "Completed"]
        .map(|status| next(&created, |o| o.status = Some(status.into())));
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
        store.get_order(&created.order_id).await.unwrap().as_ref(),
        Some(winners[0])
    );
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
    assert_eq!(begin(expiry - 1000).await.unwrap(), Delivery::AlreadyDone);
    assert_eq!(begin(expiry + 1000).await.unwrap(), Delivery::New);
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

async fn outbox_serves_due_items_oldest_first(store: Arc<dyn Store>) {
    let oldest = outbox_item(NOW - 3000, NOW - 10);
    let middle = outbox_item(NOW - 2000, NOW + 60_000);
    let newest = outbox_item(NOW - 1000, NOW);
    for item in [&newest, &middle, &oldest] {
        store.enqueue(item).await.unwrap();
    }

    let due = store.due(NOW, 10).await.unwrap();
    assert_eq!(
        due,
        vec![oldest.clone(), newest.clone()],
        "not yet due excluded"
    );
    assert_eq!(store.due(NOW, 1).await.unwrap(), vec![oldest.clone()]);
    assert_eq!(store.due(NOW - 11, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.list_outbox(10).await.unwrap(),
        vec![oldest.clone(), middle.clone(), newest.clone()]
    );
    assert_eq!(
        store.list_outbox(2).await.unwrap(),
        vec![oldest.clone(), middle.clone()]
    );

    let retried = OutboxItem {
        attempts: 1,
        next_attempt_at: NOW + 30_000,
        last_error: Some("lever returned 429".into()),
        ..oldest.clone()
    };
    store.reschedule(&retried).await.unwrap();
    assert_eq!(store.due(NOW, 10).await.unwrap(), vec![newest.clone()]);

    store.remove(&newest.id).await.unwrap();
    assert_eq!(store.due(NOW, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.list_outbox(10).await.unwrap(),
        vec![retried.clone(), middle.clone()]
    );
    assert_eq!(
        store.due(NOW + 60_000, 10).await.unwrap(),
        vec![retried, middle]
    );
}

/// More than DynamoDB returns in one page (1 MB), so `due` has to follow the pages.
async fn outbox_reads_past_one_page(store: Arc<dyn Store>) {
    let error = "x".repeat(200_000);
    let mut items: Vec<OutboxItem> = (0..8)
        .map(|i| OutboxItem {
            last_error: Some(error.clone()),
            ..outbox_item(NOW - 100 + i, NOW)
        })
        .collect();
    for item in items.iter().rev() {
        store.enqueue(item).await.unwrap();
    }
    assert_eq!(store.due(NOW, 100).await.unwrap(), items);
    items.truncate(6);
    assert_eq!(store.due(NOW, 6).await.unwrap(), items);
}

fn memory_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

async fn dynamo_store() -> Arc<dyn Store> {
    let client = aws_sdk_dynamodb::Client::new(&support::local_aws_config().await);
    let table = support::unique_table_name("store-suite");
    create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("cannot create table {table}: {e}"));
    Arc::new(DynamoStore::new(client, table))
}

/// Runs every case once per store, as `memory::<case>` and `dynamodb::<case>`.
async fn a_claim_is_held_until_it_expires_or_is_taken(store: Arc<dyn Store>) {
    let now = 1_000_000;
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
    assert!(store
        .claim("lease:acme", "e", now + 30_002, now + 60_000)
        .await
        .unwrap());
}

async fn a_claim_is_taken_once_and_not_after_expiry(store: Arc<dyn Store>) {
    let now = 1_000_000;
    store
        .claim("state:s1", "acme", now, now + 600_000)
        .await
        .unwrap();
    let takes = futures_take_twice(&store, "state:s1", now + 1).await;
    assert_eq!(takes.iter().filter(|t| t.is_some()).count(), 1, "{takes:?}");
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

async fn futures_take_twice(
    store: &Arc<dyn Store>,
    key: &str,
    now: EpochMillis,
) -> Vec<Option<String>> {
    let (a, b) = tokio::join!(store.take(key, now), store.take(key, now));
    vec![a.unwrap(), b.unwrap()]
}

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
    orders_are_unique_per_opportunity,
    concurrent_creates_make_one_order,
    closing_an_order_frees_its_opportunity,
    get_order_returns_stored_or_none,
    finds_order_by_vendor_order_id,
    stale_updates_conflict,
    concurrent_updates_one_wins,
    finished_delivery_is_already_done,
    claimed_delivery_is_in_progress_until_stale,
    abandoned_delivery_is_new_again,
    expired_delivery_is_new_again,
    finishing_an_unknown_delivery_remembers_nothing,
    outbox_serves_due_items_oldest_first,
    outbox_reads_past_one_page,
    a_claim_is_held_until_it_expires_or_is_taken,
    a_claim_is_taken_once_and_not_after_expiry,
);
