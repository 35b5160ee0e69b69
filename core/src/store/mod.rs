//! Storage behind small traits: tenant configuration, orders, delivery dedupe and the outbox.
//! [`dynamodb::DynamoStore`] is what the Lambdas use; [`memory::MemoryStore`] backs the local
//! server and fast tests. Both pass the same suite (`core/tests/store_suite.rs`).

pub mod dynamodb;
pub mod memory;

use crate::model::{EpochMillis, Order, OutboxItem, TenantConfig, VendorId};
use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An optimistic-lock or uniqueness condition failed: someone else wrote first.
    #[error("conflicting write")]
    Conflict,
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantConfig>, StoreError>;
    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError>;
}

/// What [`OrderStore::create_order`] did.
// Returned once per order attempt and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOrder {
    Created,
    /// An order for this tenant, vendor and opportunity is still open: no second one.
    AlreadyOpen(Order),
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Writes a new order unless one that is not closed exists for the same tenant, vendor
    /// and opportunity. Atomic: of two concurrent calls exactly one gets `Created`.
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError>;
    async fn get_order(&self, order_id: &str) -> Result<Option<Order>, StoreError>;
    /// Finds an order by the vendor's own id (what callbacks carry), through the GSI.
    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError>;
    /// Replaces the order if its stored version is `order.version - 1`, else `Conflict`.
    /// Closing an order frees its (tenant, vendor, opportunity) for a new order.
    async fn update_order(&self, order: &Order) -> Result<(), StoreError>;
}

/// What [`DeliveryStore::begin`] found for a delivery key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// First time seen (or an earlier attempt failed): process it.
    New,
    /// Processed before: acknowledge, do nothing.
    AlreadyDone,
    /// Another invocation is processing it right now.
    InProgress,
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims `key` (a Lever delivery token or a callback's webhook-id) for processing.
    /// A claim older than `stale_after` is taken over, so a crashed attempt is not stuck.
    async fn begin_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        stale_after: Duration,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError>;
    /// Marks the delivery done; it is remembered for `keep_for` from its claim.
    async fn finish_delivery(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets a claim whose processing failed, so the sender's retry is processed.
    async fn abandon_delivery(&self, key: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn enqueue(&self, item: &OutboxItem) -> Result<(), StoreError>;
    /// Items whose `next_attempt_at` is at or before `now`, oldest first.
    async fn due(&self, now: EpochMillis, limit: usize) -> Result<Vec<OutboxItem>, StoreError>;
    /// Every item, due or not, oldest first (for the admin listing).
    async fn list_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError>;
    /// Saves a changed item (attempts, next attempt, last error).
    async fn reschedule(&self, item: &OutboxItem) -> Result<(), StoreError>;
    async fn remove(&self, id: &str) -> Result<(), StoreError>;
}

/// Short-lived entries that one caller claims: OAuth `state` values (single use, expiring)
/// and the lease that lets one invocation at a time refresh a tenant's Lever token.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Writes `key → value` unless an entry that has not expired holds the key. True if
    /// this call wrote it.
    async fn claim(
        &self,
        key: &str,
        value: &str,
        now: EpochMillis,
        expires_at: EpochMillis,
    ) -> Result<bool, StoreError>;
    /// Removes the entry, returning its value if it had not expired: at most one caller
    /// gets it.
    async fn take(&self, key: &str, now: EpochMillis) -> Result<Option<String>, StoreError>;
}

/// Everything a function needs from storage, as one object to share.
pub trait Store: TenantStore + OrderStore + DeliveryStore + OutboxStore + ClaimStore {}
impl<T: TenantStore + OrderStore + DeliveryStore + OutboxStore + ClaimStore> Store for T {}
