//! Storage behind narrow traits — tenants, orders, delivery claims, the delivery log,
//! short-lived claims and request budgets — each flow taking only the ones it uses.
//! [`dynamodb::DynamoStore`] is what the Lambdas use; [`memory::MemoryStore`] backs the
//! local server and the fast tests. Both pass the same suite (`core/tests/it/store.rs`).

pub mod dynamodb;
pub mod memory;

use crate::clock::EpochMillis;
use crate::delivery_log::{LogEntry, LoggedDelivery, WorkEnd};
use crate::ids::VendorId;
use crate::ids::{DeliveryId, OpportunityId, OrderId, TenantId};
use crate::order::Order;
use crate::tenant::{ConfidentialRefusal, Revoked, SafetyNetRun, TenantConfig, WebhookHealth};
use async_trait::async_trait;
use std::time::Duration;

/// How a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An optimistic-lock or uniqueness condition failed: someone else wrote first.
    #[error("conflicting write")]
    Conflict,
    /// A stored item does not parse as its record (never retried: a person must look).
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    /// The backend failed or throttled (DynamoDB's error, with context): retried later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend refused a value it cannot keep (DynamoDB's `ValidationException`: a key
    /// over 2 KiB, say). Retrying cannot help: the request that carried it is refused.
    #[error("the store refused the request: {0}")]
    Invalid(String),
}

/// Tenant configurations, and what the scheduled checks record beside them.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// The tenant's configuration; `None` for a tenant nobody configured.
    async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantConfig>, StoreError>;
    /// Creates or replaces the tenant's configuration, whole.
    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError>;
    /// Every tenant, by id (operator listings and scheduled checks).
    async fn list_tenants(&self) -> Result<Vec<TenantConfig>, StoreError>;
    /// Records that Lever refused (`Some`) or accepts again (`None`) the credential of
    /// `vendors`' integrations, leaving everything else of the tenant as it is.
    async fn set_lever_access(
        &self,
        tenant: &TenantId,
        vendors: &[VendorId],
        revoked: Option<Revoked>,
    ) -> Result<(), StoreError>;
    /// The last webhook check's findings (kept beside the configuration, not in it, so a
    /// check never overwrites an operator's change).
    async fn put_webhook_health(
        &self,
        tenant: &TenantId,
        health: &WebhookHealth,
    ) -> Result<(), StoreError>;
    /// The last webhook check's findings; `None` before the first check.
    async fn webhook_health(&self, tenant: &TenantId) -> Result<Option<WebhookHealth>, StoreError>;
    /// Records the safety net's run (its cursor) for the tenant, beside its configuration.
    async fn put_safety_net(&self, tenant: &TenantId, run: &SafetyNetRun)
        -> Result<(), StoreError>;
    /// The safety net's last run; `None` before the first.
    async fn safety_net(&self, tenant: &TenantId) -> Result<Option<SafetyNetRun>, StoreError>;

    /// Records that Lever refused a confidential candidate (the last refusal is kept).
    async fn put_confidential_refusal(
        &self,
        tenant: &TenantId,
        refusal: &ConfidentialRefusal,
    ) -> Result<(), StoreError>;

    /// The last refusal recorded, if any.
    async fn confidential_refusal(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<ConfidentialRefusal>, StoreError>;
}

/// What [`OrderStore::create_order`] did.
// Returned once per order attempt and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOrder {
    /// Written: the caller goes on to place it.
    Created,
    /// An order with this very id exists: the event that asks for it was seen before.
    Exists(Order),
    /// Another order for this tenant, vendor and opportunity is still open: no second one.
    AlreadyOpen(Order),
}

/// Orders, under optimistic locking (each write names the version it read).
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Writes a new order unless its id exists or another order for the same tenant,
    /// vendor and opportunity is not closed. Atomic: of two concurrent calls exactly one
    /// gets `Created`.
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError>;
    /// The order with this id, read consistently.
    async fn get_order(&self, order: &OrderId) -> Result<Option<Order>, StoreError>;
    /// Finds an order by the vendor's own id (what callbacks carry). Eventually consistent
    /// in DynamoDB (an index): a just-placed order may not be found yet.
    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError>;
    /// Replaces the order if its stored version is `order.version - 1`, else `Conflict`.
    /// Closing an order frees its (tenant, vendor, opportunity) for a new order.
    async fn update_order(&self, order: &Order) -> Result<(), StoreError>;
    /// Every order of one opportunity, oldest first (eventually consistent in DynamoDB).
    async fn orders_for_opportunity(
        &self,
        tenant: &TenantId,
        opportunity: &OpportunityId,
    ) -> Result<Vec<Order>, StoreError>;
    /// Orders not closed whose vendor has said nothing since `quiet_since` (ms), oldest
    /// activity first, at most `limit`: the reconciliation job's list.
    async fn quiet_open_orders(
        &self,
        quiet_since: EpochMillis,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
}

/// What [`DeliveryStore::begin_delivery`] found for a delivery key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// First time seen (or an earlier attempt failed or went stale): process it.
    New,
    /// Processed before: acknowledge, do nothing.
    AlreadyDone,
    /// Another invocation is processing it right now.
    InProgress,
}

/// The dedupe of incoming deliveries and callbacks, by key.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Claims `key` (a Lever delivery token or a callback's id) for processing. A claim
    /// older than `stale_after` is taken over, so a crashed attempt is not stuck. The key
    /// is remembered for `keep_for` from `now` (ms).
    async fn begin_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        stale_after: Duration,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError>;
    /// Claims `key` and marks it done in one write, for a delivery that needs no work: a
    /// repeat finds it `AlreadyDone`.
    async fn record_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError>;
    /// Marks the delivery done; it is remembered for `keep_for` from its claim.
    async fn finish_delivery(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets a claim whose processing failed, so the sender's retry is processed.
    async fn abandon_delivery(&self, key: &str) -> Result<(), StoreError>;
}

/// Each tenant's delivery log ([`crate::delivery_log`]): what intake made of a delivery and
/// what its work came to, written separately (by intake and by the worker, in either order)
/// into one entry, kept until `keep_until` (DynamoDB TTL).
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Records a delivery as intake judged it (replacing an earlier record of the same id,
    /// keeping its work's end).
    async fn log_delivery(
        &self,
        tenant: &TenantId,
        delivery: &LoggedDelivery,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError>;
    /// Records what the delivery's work came to (the latest word wins), even before the
    /// delivery's own record is written.
    async fn log_work_end(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        end: &WorkEnd,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError>;
    /// Up to `limit` entries received before `before` (all when `None`), newest first,
    /// leaving out the expired and those whose delivery record is missing.
    async fn delivery_log(
        &self,
        tenant: &TenantId,
        before: Option<&DeliveryId>,
        limit: usize,
        now: EpochMillis,
    ) -> Result<Vec<LogEntry>, StoreError>;
    /// One entry, if it exists and has not expired.
    async fn log_entry(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        now: EpochMillis,
    ) -> Result<Option<LogEntry>, StoreError>;
}

/// Short-lived entries that one caller claims: OAuth `state` values and console invitation
/// links (single use, expiring), and leases (one token refresh at a time per credential,
/// one Lever write-back at a time per order).
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
    /// Removes the entry only if it still holds `value`: a lease released by its holder, never
    /// one a later holder took after it expired. True if removed.
    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError>;
}

/// Requests per key and calendar second, shared by every invocation ([`crate::pacing`]).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes one request from `key`'s budget for the second containing `now`, unless
    /// `limit` were already taken. True if taken.
    async fn try_take(&self, key: &str, now: EpochMillis, limit: u32) -> Result<bool, StoreError>;
}

/// Everything the functions need from storage, as one object to share.
pub trait Store:
    TenantStore + OrderStore + DeliveryStore + DeliveryLog + ClaimStore + RateLimiter
{
}
impl<T: TenantStore + OrderStore + DeliveryStore + DeliveryLog + ClaimStore + RateLimiter> Store
    for T
{
}

/// What [`modify_order`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Modified {
    /// The change was written; the order as stored now.
    Changed(Order),
    /// The change found nothing to do; the order as it is.
    Unchanged(Order),
}

impl Modified {
    /// The order, changed or not.
    pub fn order(&self) -> &Order {
        match self {
            Modified::Changed(order) | Modified::Unchanged(order) => order,
        }
    }

    /// The order, changed or not, by value.
    pub fn into_order(self) -> Order {
        match self {
            Modified::Changed(order) | Modified::Unchanged(order) => order,
        }
    }
}

/// How often [`modify_order`] re-reads and re-applies after losing a race.
const MODIFY_ATTEMPTS: usize = 5;

/// The one way an order is changed: read it, apply `change` (true: there is something to
/// write), write it as the next version, and on a version conflict (someone wrote first)
/// start again from what they wrote. `None` if there is no such order.
pub async fn modify_order(
    orders: &dyn OrderStore,
    order: &OrderId,
    mut change: impl FnMut(&mut Order) -> bool,
) -> Result<Option<Modified>, StoreError> {
    for _ in 0..MODIFY_ATTEMPTS {
        let Some(current) = orders.get_order(order).await? else {
            return Ok(None);
        };
        let mut next = current.clone().next_version();
        if !change(&mut next) {
            return Ok(Some(Modified::Unchanged(current)));
        }
        match orders.update_order(&next).await {
            Ok(()) => return Ok(Some(Modified::Changed(next))),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
