//! The DynamoDB store the Lambdas use: one table, every record as one item whose attributes
//! are the record's fields (through `serde_dynamo`) next to its keys.
//!
//! | item            | `pk`                                   | `sk`          | index keys                 |
//! |-----------------|----------------------------------------|---------------|----------------------------|
//! | tenant          | `TENANT`                               | `<tenant>`    |                            |
//! | webhook health  | `HEALTH`                               | `<tenant>`    |                            |
//! | safety net run  | `SAFETYNET`                            | `<tenant>`    |                            |
//! | Lever's refusal | `CONFIDENTIAL`                         | `<tenant>`    |                            |
//! | order           | `ORDER#<order id>`                     | `ORDER`       | `gsi1…`, `gsi2…`, `gsi3…`  |
//! | open-order lock | `OPEN#<tenant>#<vendor>#<opportunity>` | `OPEN`        |                            |
//! | delivery        | `DELIVERY#<key>`                       | `DELIVERY`    | `expires_at` (TTL)         |
//! | claim           | `CLAIM#<key>`                          | `CLAIM`       | `expires_at` (TTL)         |
//! | request budget  | `RATE#<key>`                           | `<second>`    | `expires_at` (TTL)         |
//! | delivery log    | `LOG#<tenant>`                         | `<delivery id>` | `expires_at` (TTL)       |
//!
//! - The lock, holding the open order's `order_id`, makes "one open order per tenant, vendor
//!   and opportunity" a conditional write: an order is created together with its lock and
//!   closed together with the lock's removal, each in one transaction.
//! - Indexes (all eventually consistent):
//!   `by-vendor-order` (`gsi1pk` = `<vendor>#<vendor order id>`) finds an order from a
//!   vendor callback; `by-opportunity` (`gsi2pk` = `<tenant>#<opportunity>`, `gsi2sk` =
//!   created) lists an opportunity's orders when Lever archives or deletes it; the sparse
//!   `open-orders` (`gsi3pk` = `OPEN` on orders not closed, `gsi3sk` = last vendor activity)
//!   lists the orders whose callbacks stopped.
//! - Tenants share one partition, so listing them is one query (there are few).
//! - `expires_at` is in epoch seconds, as TTL wants. TTL deletes expired items lazily, so a
//!   claim checks `expires_at` itself.
//! - A request budget is one item per key and second, counted with a conditional `ADD`.
//! - A delivery-log entry has two halves written by two functions in either order, each
//!   with its own `SET` (`delivery` by intake, `work_end` by the worker); a tenant's log is
//!   one partition, read newest first (its sort keys sort by arrival).

use super::memory::last_activity;
use super::{
    ClaimStore, CreateOrder, Delivery, DeliveryLog, DeliveryStore, OrderStore, RateLimiter,
    StoreError, TenantStore,
};
use crate::clock::{millis, EpochMillis};
use crate::delivery_log::{LogEntry, LoggedDelivery, WorkEnd};
use crate::ids::VendorId;
use crate::ids::{DeliveryId, OpportunityId, OrderId, TenantId};
use crate::order::{Order, OrderPhase};
use crate::tenant::{ConfidentialRefusal, Revoked, SafetyNetRun, TenantConfig, WebhookHealth};
use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, Delete,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use aws_sdk_dynamodb::{Client, Error};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

const PK: &str = "pk";
const SK: &str = "sk";
const TTL: &str = "expires_at";
const NEW_ITEM: &str = "attribute_not_exists(pk)";
const TENANTS: &str = "TENANT";
/// The indexes: name and key attributes.
const BY_VENDOR_ORDER: Index = Index {
    name: "by-vendor-order",
    pk: "gsi1pk",
    sk: "gsi1sk",
};
const BY_OPPORTUNITY: Index = Index {
    name: "by-opportunity",
    pk: "gsi2pk",
    sk: "gsi2sk",
};
const OPEN_ORDERS: Index = Index {
    name: "open-orders",
    pk: "gsi3pk",
    sk: "gsi3sk",
};
/// A create that keeps meeting concurrent transactions on its items gives up after this.
const CREATE_ATTEMPTS: u64 = 5;

type Item = HashMap<String, AttributeValue>;

struct Index {
    name: &'static str,
    pk: &'static str,
    sk: &'static str,
}

/// Every store trait over one DynamoDB table (the layout above).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// The store in `table` (the stack's `TableName`); nothing is called yet.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// Creates the table with the schema the SAM template declares, and waits until it is usable.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
    };
    let indexes = [BY_VENDOR_ORDER, BY_OPPORTUNITY, OPEN_ORDERS];
    let attributes = [PK, SK]
        .into_iter()
        .chain(indexes.iter().flat_map(|index| [index.pk, index.sk]))
        .map(|name| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for index in indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.pk, KeyType::Hash)?)
                .key_schema(key(index.sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        );
    }
    create.send().await.map_err(store_error)?;
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(60))
        .await
        .map_err(|e| unavailable(&e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()?,
        )
        .send()
        .await
        .map_err(store_error)?;
    Ok(())
}

/// What the open-order lock holds.
#[derive(Serialize, Deserialize)]
struct OpenOrder {
    order_id: OrderId,
}

#[derive(Serialize, Deserialize)]
struct DeliveryRecord {
    done: bool,
    claimed_at: EpochMillis,
    /// Epoch seconds: the table's TTL attribute.
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct ClaimRecord {
    value: String,
    expires_at_ms: EpochMillis,
    /// Epoch seconds: the table's TTL attribute, so stale claims disappear.
    expires_at: i64,
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.into())),
    ])
}

fn tenant_key(tenant: &TenantId) -> Item {
    key(TENANTS.to_owned(), tenant.as_str())
}

fn order_key(order: &OrderId) -> Item {
    key(format!("ORDER#{order}"), "ORDER")
}

/// Ids cannot contain `#` (see [`crate::ids`]), so the key is unambiguous.
fn open_order_key(order: &Order) -> Item {
    key(
        format!(
            "OPEN#{}#{}#{}",
            order.tenant_id(),
            order.vendor(),
            order.opportunity_id()
        ),
        "OPEN",
    )
}

fn delivery_key(delivery: &str) -> Item {
    key(format!("DELIVERY#{delivery}"), "DELIVERY")
}

fn claim_key(claim: &str) -> Item {
    key(format!("CLAIM#{claim}"), "CLAIM")
}

fn vendor_order_key(vendor: VendorId, vendor_order_id: &str) -> AttributeValue {
    AttributeValue::S(format!("{vendor}#{vendor_order_id}"))
}

fn opportunity_key(tenant: &TenantId, opportunity: &OpportunityId) -> AttributeValue {
    AttributeValue::S(format!("{tenant}#{opportunity}"))
}

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Epoch seconds for a TTL attribute, rounded up: nothing is forgotten early.
fn ttl_seconds(at: EpochMillis) -> i64 {
    at.saturating_add(999).div_euclid(1000)
}

/// Sorts as a string in time order.
fn sortable_millis(at: EpochMillis) -> String {
    format!("{:015}", at.max(0))
}

/// `record`'s fields as attributes, next to `key`.
fn encode<T: Serialize>(key: Item, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode record: {e}")))?;
    item.extend(key);
    Ok(item)
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The order with the keys of the indexes it belongs in.
fn order_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = encode(order_key(order.order_id()), order)?;
    if let Some(vendor_order_id) = &order.vendor_order_id() {
        item.insert(
            BY_VENDOR_ORDER.pk.to_owned(),
            vendor_order_key(order.vendor(), vendor_order_id),
        );
        item.insert(
            BY_VENDOR_ORDER.sk.to_owned(),
            string(order.order_id().as_str()),
        );
    }
    item.insert(
        BY_OPPORTUNITY.pk.to_owned(),
        opportunity_key(order.tenant_id(), order.opportunity_id()),
    );
    item.insert(
        BY_OPPORTUNITY.sk.to_owned(),
        string(format!(
            "{}#{}",
            sortable_millis(order.created_at()),
            order.order_id()
        )),
    );
    if order.phase() != OrderPhase::Closed {
        item.insert(OPEN_ORDERS.pk.to_owned(), string("OPEN"));
        item.insert(
            OPEN_ORDERS.sk.to_owned(),
            string(format!(
                "{}#{}",
                sortable_millis(last_activity(order)),
                order.order_id()
            )),
        );
    }
    Ok(item)
}

fn unavailable(err: &dyn std::error::Error) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

fn store_error(err: impl Into<Error>) -> StoreError {
    match err.into() {
        Error::ConditionalCheckFailedException(_) => StoreError::Conflict,
        // Unmodelled in the SDK; DynamoDB's answer to a value it cannot keep.
        other if other.meta().code() == Some("ValidationException") => {
            StoreError::Invalid(other.meta().message().unwrap_or_default().to_owned())
        }
        other => unavailable(&other),
    }
}

/// A request the SDK refuses to build is missing a required field: a bug here, not bad data.
impl From<BuildError> for StoreError {
    fn from(err: BuildError) -> Self {
        unavailable(&err)
    }
}

fn transaction_put(put: PutBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder().put(put.build()?).build())
}

fn condition_failed(reason: &CancellationReason) -> bool {
    reason.code() == Some("ConditionalCheckFailed")
}

/// How DynamoDB answered a transaction.
enum Txn {
    Committed,
    /// One reason per item, in request order: a failed condition, or a concurrent
    /// transaction on the same item.
    Cancelled(Vec<CancellationReason>),
}

impl DynamoStore {
    async fn get<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        output.item.map(decode).transpose()
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, key: Item) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Txn, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result.map_err(Error::from) {
            Ok(_) => Ok(Txn::Committed),
            Err(Error::TransactionCanceledException(e)) => {
                Ok(Txn::Cancelled(e.cancellation_reasons().to_vec()))
            }
            Err(other) => Err(store_error(other)),
        }
    }

    /// A put of `item` into this table, if `condition` holds, for [`transaction_put`].
    fn put_if(&self, item: Item, condition: &str) -> PutBuilder {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
    }

    /// Every item of a query, through its pages.
    async fn query_all<T: DeserializeOwned>(
        &self,
        index: Option<&Index>,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
        limit: Option<usize>,
    ) -> Result<Vec<T>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .set_index_name(index.map(|i| i.name.to_owned()));
        for (name, value) in values {
            query = query.expression_attribute_values(name, value);
        }
        let mut items = Vec::new();
        let mut pages = query.into_paginator().items().send();
        while limit.is_none_or(|limit| items.len() < limit) {
            let Some(item) = pages.try_next().await.map_err(store_error)? else {
                break;
            };
            items.push(decode(item)?);
        }
        Ok(items)
    }
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        self.get(tenant_key(tenant)).await
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError> {
        self.put(encode(tenant_key(&tenant.tenant_id), tenant)?)
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<TenantConfig>, StoreError> {
        self.query_all(
            None,
            "pk = :tenants",
            vec![(":tenants", string(TENANTS))],
            None,
        )
        .await
    }

    async fn set_lever_access(
        &self,
        tenant: &TenantId,
        vendors: &[VendorId],
        revoked: Option<Revoked>,
    ) -> Result<(), StoreError> {
        let value: Option<AttributeValue> = revoked
            .as_ref()
            .map(serde_dynamo::to_attribute_value)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for vendor in vendors {
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(tenant_key(tenant)))
                // Only an integration the tenant (still) has.
                .condition_expression("attribute_exists(#vendors.#vendor)")
                .expression_attribute_names("#vendors", "vendors")
                .expression_attribute_names("#vendor", vendor.as_str())
                .expression_attribute_names("#access", "lever_access_revoked");
            let update = match &value {
                Some(value) => update
                    .update_expression("SET #vendors.#vendor.#access = :revoked")
                    .expression_attribute_values(":revoked", value.clone()),
                None => update.update_expression("REMOVE #vendors.#vendor.#access"),
            };
            match update.send().await.map_err(store_error) {
                Ok(_) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn put_webhook_health(
        &self,
        tenant: &TenantId,
        health: &WebhookHealth,
    ) -> Result<(), StoreError> {
        self.put(encode(key("HEALTH".to_owned(), tenant.as_str()), health)?)
            .await
    }

    async fn webhook_health(&self, tenant: &TenantId) -> Result<Option<WebhookHealth>, StoreError> {
        self.get(key("HEALTH".to_owned(), tenant.as_str())).await
    }

    async fn put_safety_net(
        &self,
        tenant: &TenantId,
        run: &SafetyNetRun,
    ) -> Result<(), StoreError> {
        self.put(encode(key("SAFETYNET".to_owned(), tenant.as_str()), run)?)
            .await
    }

    async fn safety_net(&self, tenant: &TenantId) -> Result<Option<SafetyNetRun>, StoreError> {
        self.get(key("SAFETYNET".to_owned(), tenant.as_str())).await
    }

    async fn put_confidential_refusal(
        &self,
        tenant: &TenantId,
        refusal: &ConfidentialRefusal,
    ) -> Result<(), StoreError> {
        self.put(encode(
            key("CONFIDENTIAL".to_owned(), tenant.as_str()),
            refusal,
        )?)
        .await
    }

    async fn confidential_refusal(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<ConfidentialRefusal>, StoreError> {
        self.get(key("CONFIDENTIAL".to_owned(), tenant.as_str()))
            .await
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError> {
        let lock = OpenOrder {
            order_id: order.order_id().clone(),
        };
        let items = vec![
            transaction_put(self.put_if(order_item(order)?, NEW_ITEM))?,
            transaction_put(
                self.put_if(encode(open_order_key(order), &lock)?, NEW_ITEM)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    ),
            )?,
        ];
        for attempt in 1..=CREATE_ATTEMPTS {
            let Txn::Cancelled(reasons) = self.transact(items.clone()).await? else {
                return Ok(CreateOrder::Created);
            };
            match reasons.as_slice() {
                [existing, _] if condition_failed(existing) => {
                    if let Some(existing) = self.get_order(order.order_id()).await? {
                        return Ok(CreateOrder::Exists(existing));
                    }
                }
                [_, lock] if condition_failed(lock) => {
                    let holder: OpenOrder = decode(lock.item.clone().unwrap_or_default())?;
                    // Closed since the write failed: the opportunity is free again, try anew.
                    let open = self.get_order(&holder.order_id).await?;
                    if let Some(open) = open.filter(|o| o.phase() != OrderPhase::Closed) {
                        return Ok(CreateOrder::AlreadyOpen(open));
                    }
                }
                // A concurrent transaction on the same items: let it settle.
                _ => tokio::time::sleep(Duration::from_millis(10 * attempt)).await,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn get_order(&self, order: &OrderId) -> Result<Option<Order>, StoreError> {
        self.get(order_key(order)).await
    }

    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        let found: Vec<Order> = self
            .query_all(
                Some(&BY_VENDOR_ORDER),
                "gsi1pk = :id",
                vec![(":id", vendor_order_key(vendor, vendor_order_id))],
                Some(1),
            )
            .await?;
        Ok(found.into_iter().next())
    }

    async fn update_order(&self, order: &Order) -> Result<(), StoreError> {
        let expected = order.version().checked_sub(1).ok_or(StoreError::Conflict)?;
        let save = transaction_put(
            self.put_if(order_item(order)?, "version = :expected")
                .expression_attribute_values(":expected", number(expected)),
        )?;
        if order.phase() == OrderPhase::Closed {
            let release = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(open_order_key(order)))
                .condition_expression("order_id = :order_id")
                .expression_attribute_values(":order_id", string(order.order_id().as_str()))
                .build()?;
            let items = vec![
                save.clone(),
                TransactWriteItem::builder().delete(release).build(),
            ];
            match self.transact(items).await? {
                Txn::Committed => return Ok(()),
                // Only the lock's condition failed: it is gone or names a newer order, so this
                // order was closed before and holds no lock. Save it alone.
                Txn::Cancelled(reasons)
                    if matches!(reasons.as_slice(),
                        [order, lock] if !condition_failed(order) && condition_failed(lock)) => {}
                Txn::Cancelled(_) => return Err(StoreError::Conflict),
            }
        }
        match self.transact(vec![save]).await? {
            Txn::Committed => Ok(()),
            Txn::Cancelled(_) => Err(StoreError::Conflict),
        }
    }

    async fn orders_for_opportunity(
        &self,
        tenant: &TenantId,
        opportunity: &OpportunityId,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_all(
            Some(&BY_OPPORTUNITY),
            "gsi2pk = :opportunity",
            vec![(":opportunity", opportunity_key(tenant, opportunity))],
            None,
        )
        .await
    }

    async fn quiet_open_orders(
        &self,
        quiet_since: EpochMillis,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_all(
            Some(&OPEN_ORDERS),
            "gsi3pk = :open AND gsi3sk < :quiet",
            vec![
                (":open", string("OPEN")),
                (":quiet", string(sortable_millis(quiet_since))),
            ],
            Some(limit),
        )
        .await
    }
}

impl DynamoStore {
    /// A conditional put of a delivery record; on a failed condition, what holds the key.
    async fn put_delivery(
        &self,
        key: &str,
        record: &DeliveryRecord,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Delivery, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(delivery_key(key), record)?))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, value) in values {
            put = put.expression_attribute_values(name, value);
        }
        match put.send().await.map_err(Error::from) {
            Ok(_) => Ok(Delivery::New),
            Err(Error::ConditionalCheckFailedException(e)) => {
                let held: DeliveryRecord = decode(e.item.unwrap_or_default())?;
                Ok(if held.done {
                    Delivery::AlreadyDone
                } else {
                    Delivery::InProgress
                })
            }
            Err(other) => Err(store_error(other)),
        }
    }
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn begin_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        stale_after: Duration,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError> {
        let claim = DeliveryRecord {
            done: false,
            claimed_at: now,
            expires_at: ttl_seconds(now.saturating_add(millis(keep_for))),
        };
        // Free, expired but not yet deleted by TTL, or an unfinished claim gone stale.
        let condition = "attribute_not_exists(pk) OR expires_at <= :now \
                         OR (done = :false AND claimed_at <= :stale_before)";
        let values = vec![
            (":now", number(now.div_euclid(1000))),
            (":false", AttributeValue::Bool(false)),
            (
                ":stale_before",
                number(now.saturating_sub(millis(stale_after))),
            ),
        ];
        self.put_delivery(key, &claim, condition, values).await
    }

    async fn record_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError> {
        let record = DeliveryRecord {
            done: true,
            claimed_at: now,
            expires_at: ttl_seconds(now.saturating_add(millis(keep_for))),
        };
        let condition = "attribute_not_exists(pk) OR expires_at <= :now";
        let values = vec![(":now", number(now.div_euclid(1000)))];
        self.put_delivery(key, &record, condition, values).await
    }

    async fn finish_delivery(&self, key: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(key)))
            .update_expression("SET done = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await;
        match result.map_err(store_error) {
            // No claim left to mark (abandoned or expired), as in the memory store.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn abandon_delivery(&self, key: &str) -> Result<(), StoreError> {
        self.delete(delivery_key(key)).await
    }
}

#[async_trait]
impl ClaimStore for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        value: &str,
        now: EpochMillis,
        expires_at: EpochMillis,
    ) -> Result<bool, StoreError> {
        let record = ClaimRecord {
            value: value.to_owned(),
            expires_at_ms: expires_at,
            expires_at: ttl_seconds(expires_at),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(claim_key(key), &record)?))
            // Free, or held by a claim that has expired (TTL deletes lazily).
            .condition_expression("attribute_not_exists(pk) OR expires_at_ms <= :now")
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match result.map_err(store_error) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn take(&self, key: &str, now: EpochMillis) -> Result<Option<String>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(claim_key(key)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            // The conditional delete is the single use: of two concurrent takes, one fails.
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        let attributes = match result.map_err(store_error) {
            Ok(output) => output.attributes,
            Err(StoreError::Conflict) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(item) = attributes.filter(|item| !item.is_empty()) else {
            return Ok(None);
        };
        let record: ClaimRecord = decode(item)?;
        Ok((record.expires_at_ms > now).then_some(record.value))
    }

    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(claim_key(key)))
            .condition_expression("#value = :value")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":value", AttributeValue::S(value.to_owned()))
            .send()
            .await;
        match result.map_err(store_error) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl RateLimiter for DynamoStore {
    async fn try_take(&self, key: &str, now: EpochMillis, limit: u32) -> Result<bool, StoreError> {
        let second = now.div_euclid(1000);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self::key(format!("RATE#{key}"), second.to_string())))
            .update_expression("ADD taken :one SET expires_at = :expires")
            .condition_expression("attribute_not_exists(taken) OR taken < :limit")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":limit", number(limit))
            // Kept a minute: only the current second is ever read.
            .expression_attribute_values(":expires", number(second + 60))
            .send()
            .await;
        match result.map_err(store_error) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn log_key(tenant: &TenantId, delivery: &DeliveryId) -> Item {
    key(format!("LOG#{tenant}"), delivery.as_str())
}

/// A delivery-log item: either half may be missing (written first by the other function).
#[derive(Deserialize)]
struct LogItem {
    delivery: Option<LoggedDelivery>,
    work_end: Option<WorkEnd>,
    expires_at: Option<i64>,
}

impl LogItem {
    /// The entry, if its delivery is recorded and TTL (which deletes lazily) has not
    /// expired it at `now`.
    fn entry(self, now: EpochMillis) -> Option<LogEntry> {
        if self.expires_at.is_some_and(|at| at * 1000 <= now) {
            return None;
        }
        Some(LogEntry {
            delivery: self.delivery?,
            end: self.work_end,
        })
    }
}

impl DynamoStore {
    /// Sets one half of a log entry (`attribute` = `value`) and its expiry.
    async fn log_half<T: Serialize>(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        (attribute, value): (&str, &T),
        expires: &str,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(value)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(log_key(tenant, delivery)))
            .update_expression(format!("SET #half = :half, expires_at = {expires}"))
            .expression_attribute_names("#half", attribute)
            .expression_attribute_values(":half", value)
            .expression_attribute_values(":expires", number(ttl_seconds(keep_until)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl DeliveryLog for DynamoStore {
    async fn log_delivery(
        &self,
        tenant: &TenantId,
        delivery: &LoggedDelivery,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError> {
        self.log_half(
            tenant,
            &delivery.id,
            ("delivery", delivery),
            ":expires",
            keep_until,
        )
        .await
    }

    async fn log_work_end(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        end: &WorkEnd,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError> {
        // The delivery's own expiry stands once written.
        let expires = "if_not_exists(expires_at, :expires)";
        self.log_half(tenant, delivery, ("work_end", end), expires, keep_until)
            .await
    }

    async fn delivery_log(
        &self,
        tenant: &TenantId,
        before: Option<&DeliveryId>,
        limit: usize,
        now: EpochMillis,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            // A page a little larger than asked: a few items may be expired or half-written.
            .limit(i32::try_from(limit.saturating_add(5).min(1000)).unwrap_or(1000))
            .expression_attribute_values(":pk", string(format!("LOG#{tenant}")));
        query = match before {
            Some(before) => query
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":before", string(before.as_str())),
            None => query.key_condition_expression("pk = :pk"),
        };
        let mut entries = Vec::new();
        let mut pages = query.into_paginator().items().send();
        while entries.len() < limit {
            let Some(item) = pages.try_next().await.map_err(store_error)? else {
                break;
            };
            if let Some(entry) = decode::<LogItem>(item)?.entry(now) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    async fn log_entry(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        now: EpochMillis,
    ) -> Result<Option<LogEntry>, StoreError> {
        Ok(self
            .get::<LogItem>(log_key(tenant, delivery))
            .await?
            .and_then(|item| item.entry(now)))
    }
}
