//! In-memory store for the local server and tests. Same semantics as DynamoDB, including the
//! conditional writes, under one mutex.

use super::{
    ClaimStore, CreateOrder, Delivery, DeliveryStore, OrderStore, OutboxStore, StoreError,
    TenantStore,
};
use crate::model::{EpochMillis, Order, OrderPhase, OutboxItem, TenantConfig, VendorId};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Simulates DynamoDB's eventually consistent index: lookups by vendor order id miss.
    index_lagging: bool,
    tenants: HashMap<String, TenantConfig>,
    orders: HashMap<String, Order>,
    deliveries: HashMap<String, DeliveryRecord>,
    outbox: HashMap<String, OutboxItem>,
    /// key → (value, expires_at)
    claims: HashMap<String, (String, EpochMillis)>,
}

struct DeliveryRecord {
    done: bool,
    claimed_at: EpochMillis,
    expires_at: EpochMillis,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written record (every write is
        // one insert), so a poisoned lock is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// While set, [`OrderStore::find_by_vendor_order`] finds nothing, as a DynamoDB GSI
    /// read can right after a write. For tests of the fallbacks.
    pub fn set_index_lagging(&self, lagging: bool) {
        self.lock().index_lagging = lagging;
    }

    /// Every order, for the local server's inspection endpoints and tests.
    pub fn orders(&self) -> Vec<Order> {
        let mut orders: Vec<Order> = self.lock().orders.values().cloned().collect();
        orders.sort_by_key(|o| o.created_at);
        orders
    }
}

fn millis(d: Duration) -> EpochMillis {
    EpochMillis::try_from(d.as_millis()).unwrap_or(EpochMillis::MAX)
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<TenantConfig>, StoreError> {
        Ok(self.lock().tenants.get(tenant_id).cloned())
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError> {
        self.lock()
            .tenants
            .insert(tenant.tenant_id.clone(), tenant.clone());
        Ok(())
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError> {
        let mut inner = self.lock();
        let open = inner.orders.values().find(|o| {
            o.tenant_id == order.tenant_id
                && o.vendor == order.vendor
                && o.opportunity_id == order.opportunity_id
                && o.phase != OrderPhase::Closed
        });
        if let Some(existing) = open {
            return Ok(CreateOrder::AlreadyOpen(existing.clone()));
        }
        if inner.orders.contains_key(&order.order_id) {
            return Err(StoreError::Conflict);
        }
        inner.orders.insert(order.order_id.clone(), order.clone());
        Ok(CreateOrder::Created)
    }

    async fn get_order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        Ok(self.lock().orders.get(order_id).cloned())
    }

    async fn find_by_vendor_order(
        &self,
        vendor: VendorId,
        vendor_order_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        let inner = self.lock();
        if inner.index_lagging {
            return Ok(None);
        }
        Ok(inner
            .orders
            .values()
            .find(|o| o.vendor == vendor && o.vendor_order_id.as_deref() == Some(vendor_order_id))
            .cloned())
    }

    async fn update_order(&self, order: &Order) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.orders.get(&order.order_id) {
            Some(stored) if stored.version + 1 == order.version => {
                inner.orders.insert(order.order_id.clone(), order.clone());
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn begin_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        stale_after: Duration,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError> {
        let mut inner = self.lock();
        if let Some(record) = inner.deliveries.get(key) {
            if record.expires_at > now {
                if record.done {
                    return Ok(Delivery::AlreadyDone);
                }
                if record.claimed_at + millis(stale_after) > now {
                    return Ok(Delivery::InProgress);
                }
            }
        }
        inner.deliveries.insert(
            key.to_owned(),
            DeliveryRecord {
                done: false,
                claimed_at: now,
                expires_at: now.saturating_add(millis(keep_for)),
            },
        );
        Ok(Delivery::New)
    }

    async fn finish_delivery(&self, key: &str) -> Result<(), StoreError> {
        if let Some(record) = self.lock().deliveries.get_mut(key) {
            record.done = true;
        }
        Ok(())
    }

    async fn abandon_delivery(&self, key: &str) -> Result<(), StoreError> {
        self.lock().deliveries.remove(key);
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn enqueue(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.lock().outbox.insert(item.id.clone(), item.clone());
        Ok(())
    }

    async fn due(&self, now: EpochMillis, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        let mut items: Vec<OutboxItem> = self
            .lock()
            .outbox
            .values()
            .filter(|item| item.next_attempt_at <= now)
            .cloned()
            .collect();
        items.sort_by_key(|item| (item.created_at, item.id.clone()));
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
        self.lock().outbox.remove(id);
        Ok(())
    }
}

#[async_trait]
impl ClaimStore for MemoryStore {
    async fn claim(
        &self,
        key: &str,
        value: &str,
        now: EpochMillis,
        expires_at: EpochMillis,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.claims.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(false);
        }
        inner
            .claims
            .insert(key.to_owned(), (value.to_owned(), expires_at));
        Ok(true)
    }

    async fn take(&self, key: &str, now: EpochMillis) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .claims
            .remove(key)
            .filter(|(_, until)| *until > now)
            .map(|(value, _)| value))
    }
}
