//! The DynamoDB store the Lambdas use: one table, every record as one item whose attributes
//! are the record's fields (through `serde_dynamo`) next to its keys.
//!
//! | item            | `pk`                                   | `sk`       | other keys           |
//! |-----------------|----------------------------------------|------------|----------------------|
//! | tenant          | `TENANT#<tenant>`                      | `TENANT`   |                      |
//! | order           | `ORDER#<order id>`                     | `ORDER`    | `gsi1pk`, `gsi1sk`   |
//! | open-order lock | `OPEN#<tenant>#<vendor>#<opportunity>` | `OPEN`     |                      |
//! | delivery        | `DELIVERY#<key>`                       | `DELIVERY` | `expires_at` (TTL)   |
//! | outbox item     | `OUTBOX`                               | `<id>`     |                      |
//! | claim           | `CLAIM#<key>`                          | `CLAIM`    | `expires_at` (TTL)   |
//!
//! - The lock, holding the open order's `order_id`, makes "one open order per tenant, vendor
//!   and opportunity" a conditional write: an order is created together with its lock and
//!   closed together with the lock's removal, each in one transaction.
//! - The `by-vendor-order` index finds an order from a vendor callback: once the vendor's id
//!   is known, an order carries `gsi1pk` = `<vendor>#<vendor order id>` and `gsi1sk` =
//!   `<order id>`. Index reads are eventually consistent; callbacks come well after the
//!   vendor's id is stored.
//! - A delivery's `expires_at` is in epoch seconds, as TTL wants. TTL deletes expired items
//!   lazily, so a claim checks `expires_at` itself.
//! - The outbox holds only work that failed, so it is small: one partition, read whole and
//!   sorted by `created_at` (item ids are random, so the sort key cannot order it), and
//!   every other outbox operation addresses its item by id.

use super::{
    ClaimStore, CreateOrder, Delivery, DeliveryStore, OrderStore, OutboxStore, StoreError,
    TenantStore,
};
use crate::model::{EpochMillis, Order, OrderPhase, OutboxItem, TenantConfig, VendorId};
use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext};
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
const GSI_PK: &str = "gsi1pk";
const GSI_SK: &str = "gsi1sk";
const VENDOR_ORDER_INDEX: &str = "by-vendor-order";
const TTL: &str = "expires_at";
const OUTBOX: &str = "OUTBOX";
const NEW_ITEM: &str = "attribute_not_exists(pk)";
/// A create that keeps meeting concurrent transactions on its items gives up after this.
const CREATE_ATTEMPTS: u64 = 5;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
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
    let attributes = [PK, SK, GSI_PK, GSI_SK]
        .map(|name| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let index = GlobalSecondaryIndex::builder()
        .index_name(VENDOR_ORDER_INDEX)
        .key_schema(key(GSI_PK, KeyType::Hash)?)
        .key_schema(key(GSI_SK, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(store_error)?;
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
    order_id: String,
}

#[derive(Serialize, Deserialize)]
struct DeliveryRecord {
    done: bool,
    claimed_at: EpochMillis,
    /// Epoch seconds: the table's TTL attribute.
    expires_at: i64,
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.into())),
    ])
}

fn tenant_key(tenant_id: &str) -> Item {
    key(format!("TENANT#{tenant_id}"), "TENANT")
}

fn order_key(order_id: &str) -> Item {
    key(format!("ORDER#{order_id}"), "ORDER")
}

/// Tenant ids cannot contain `#` and the opportunity id comes last, so the key is unambiguous.
fn open_order_key(order: &Order) -> Item {
    let Order {
        tenant_id,
        vendor,
        opportunity_id,
        ..
    } = order;
    key(
        format!("OPEN#{tenant_id}#{vendor}#{opportunity_id}"),
        "OPEN",
    )
}

fn delivery_key(delivery: &str) -> Item {
    key(format!("DELIVERY#{delivery}"), "DELIVERY")
}

fn claim_key(claim: &str) -> Item {
    key(format!("CLAIM#{claim}"), "CLAIM")
}

#[derive(Serialize, Deserialize)]
struct ClaimRecord {
    value: String,
    expires_at_ms: EpochMillis,
    /// Epoch seconds: the table's TTL attribute, so stale claims disappear.
    expires_at: i64,
}

fn outbox_key(id: &str) -> Item {
    key(OUTBOX.to_owned(), id)
}

fn vendor_order_key(vendor: VendorId, vendor_order_id: &str) -> AttributeValue {
    AttributeValue::S(format!("{vendor}#{vendor_order_id}"))
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
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

fn order_item(order: &Order) -> Result<Item, StoreError> {
    let mut item = encode(order_key(&order.order_id), order)?;
    if let Some(vendor_order_id) = &order.vendor_order_id {
        item.insert(
            GSI_PK.to_owned(),
            vendor_order_key(order.vendor, vendor_order_id),
        );
        item.insert(GSI_SK.to_owned(), AttributeValue::S(order.order_id.clone()));
    }
    Ok(item)
}

fn millis(d: Duration) -> EpochMillis {
    EpochMillis::try_from(d.as_millis()).unwrap_or(EpochMillis::MAX)
}

fn unavailable(err: &dyn std::error::Error) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

fn store_error(err: impl Into<Error>) -> StoreError {
    match err.into() {
        Error::ConditionalCheckFailedException(_) => StoreError::Conflict,
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
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantConfig>, StoreError> {
        self.get(tenant_key(tenant_id)).await
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError> {
        self.put(encode(tenant_key(&tenant.tenant_id), tenant)?)
            .await
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError> {
        let lock = OpenOrder {
            order_id: order.order_id.clone(),
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
                [_, lock] if condition_failed(lock) => {
                    let holder: OpenOrder = decode(lock.item.clone().unwrap_or_default())?;
                    // Closed since the write failed: the opportunity is free again, try anew.
                    let open = self.get_order(&holder.order_id).await?;
                    if let Some(open) = open.filter(|o| o.phase != OrderPhase::Closed) {
                        return Ok(CreateOrder::AlreadyOpen(open));
                    }
                }
                [order, _] if condition_failed(order) => return Err(StoreError::Conflict),
                // A concurrent transaction on the same items: let it settle.
                _ => tokio::time::sleep(Duration::from_millis(10 * attempt)).await,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn get_order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        self.get(order_key(order_id)).await
    }

    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(VENDOR_ORDER_INDEX)
            .key_condition_expression("gsi1pk = :id")
            .expression_attribute_values(":id", vendor_order_key(vendor, vendor_order_id))
            .limit(1)
            .send()
            .await
            .map_err(store_error)?;
        output
            .items
            .and_then(|items| items.into_iter().next())
            .map(decode)
            .transpose()
    }

    async fn update_order(&self, order: &Order) -> Result<(), StoreError> {
        let expected = order.version.checked_sub(1).ok_or(StoreError::Conflict)?;
        let save = transaction_put(
            self.put_if(order_item(order)?, "version = :expected")
                .expression_attribute_values(":expected", number(expected)),
        )?;
        if order.phase == OrderPhase::Closed {
            let release = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(open_order_key(order)))
                .condition_expression("order_id = :order_id")
                .expression_attribute_values(":order_id", AttributeValue::S(order.order_id.clone()))
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
        let expires_ms = now.saturating_add(millis(keep_for));
        let claim = DeliveryRecord {
            done: false,
            claimed_at: now,
            // Rounded up: a delivery is never forgotten before `keep_for`.
            expires_at: expires_ms.saturating_add(999).div_euclid(1000),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(delivery_key(key), &claim)?))
            // Free, expired but not yet deleted by TTL, or an unfinished claim gone stale.
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at <= :now \
                 OR (done = :false AND claimed_at <= :stale_before)",
            )
            .expression_attribute_values(":now", number(now.div_euclid(1000)))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(
                ":stale_before",
                number(now.saturating_sub(millis(stale_after))),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result.map_err(Error::from) {
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
impl OutboxStore for DynamoStore {
    async fn enqueue(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.put(encode(outbox_key(&item.id), item)?).await
    }

    async fn due(&self, now: EpochMillis, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :outbox")
            .filter_expression("next_attempt_at <= :now")
            .expression_attribute_values(":outbox", AttributeValue::S(OUTBOX.to_owned()))
            .expression_attribute_values(":now", number(now))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(store_error)?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<OutboxItem>, _>>()?;
        items.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        items.truncate(limit);
        Ok(items)
    }

    async fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        self.due(EpochMillis::MAX, limit).await
    }

    async fn reschedule(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.enqueue(item).await
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.delete(outbox_key(id)).await
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
            expires_at: expires_at.saturating_add(999).div_euclid(1000),
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
}
