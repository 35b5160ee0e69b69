//! In-memory store for the local server and the fast tests. Same semantics as DynamoDB,
//! the conditional writes included, under one mutex.

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
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Every store trait in memory, for one process.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Simulates DynamoDB's eventually consistent index: lookups by vendor order id miss.
    index_lagging: bool,
    tenants: BTreeMap<TenantId, TenantConfig>,
    health: HashMap<TenantId, WebhookHealth>,
    safety_net: HashMap<TenantId, SafetyNetRun>,
    confidential: HashMap<TenantId, ConfidentialRefusal>,
    orders: HashMap<OrderId, Order>,
    deliveries: HashMap<String, DeliveryRecord>,
    /// key → (value, expires_at)
    claims: HashMap<String, (String, EpochMillis)>,
    /// (key, second) → requests taken
    rates: HashMap<(String, EpochMillis), u32>,
    /// (tenant, id) → the delivery's halves, kept until the last field (ms)
    log: BTreeMap<(TenantId, DeliveryId), LogHalves>,
}

/// A delivery-log entry's two halves (either may come first) and until when it is kept.
type LogHalves = (Option<LoggedDelivery>, Option<WorkEnd>, EpochMillis);

/// The entry, if its delivery is recorded and it has not expired at `now`.
fn log_entry((delivery, end, keep_until): &LogHalves, now: EpochMillis) -> Option<LogEntry> {
    (*keep_until > now).then_some(())?;
    Some(LogEntry {
        delivery: delivery.clone()?,
        end: end.clone(),
    })
}

struct DeliveryRecord {
    done: bool,
    claimed_at: EpochMillis,
    expires_at: EpochMillis,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every write is one insert, so a panic while holding the lock cannot leave a
        // half-written record: a poisoned lock is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// While set, [`OrderStore::find_by_vendor_order`] finds nothing, as a DynamoDB index
    /// read can right after a write. For tests of the fallbacks.
    pub fn set_index_lagging(&self, lagging: bool) {
        self.lock().index_lagging = lagging;
    }

    /// Every order, oldest first, for the local server's inspection and tests.
    pub fn orders(&self) -> Vec<Order> {
        let mut orders: Vec<Order> = self.lock().orders.values().cloned().collect();
        orders
            .sort_by(|a, b| (a.created_at(), &a.order_id()).cmp(&(b.created_at(), &b.order_id())));
        orders
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn get_tenant(&self, tenant: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        Ok(self.lock().tenants.get(tenant).cloned())
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<(), StoreError> {
        self.lock()
            .tenants
            .insert(tenant.tenant_id.clone(), tenant.clone());
        Ok(())
    }

    async fn list_tenants(&self) -> Result<Vec<TenantConfig>, StoreError> {
        Ok(self.lock().tenants.values().cloned().collect())
    }

    async fn set_lever_access(
        &self,
        tenant: &TenantId,
        vendors: &[VendorId],
        revoked: Option<Revoked>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let Some(config) = inner.tenants.get_mut(tenant) else {
            return Ok(());
        };
        for vendor in vendors {
            if let Some(integration) = config.vendors.get_mut(vendor) {
                integration.lever_access_revoked = revoked.clone();
            }
        }
        Ok(())
    }

    async fn put_webhook_health(
        &self,
        tenant: &TenantId,
        health: &WebhookHealth,
    ) -> Result<(), StoreError> {
        self.lock().health.insert(tenant.clone(), health.clone());
        Ok(())
    }

    async fn webhook_health(&self, tenant: &TenantId) -> Result<Option<WebhookHealth>, StoreError> {
        Ok(self.lock().health.get(tenant).cloned())
    }

    async fn put_safety_net(
        &self,
        tenant: &TenantId,
        run: &SafetyNetRun,
    ) -> Result<(), StoreError> {
        self.lock().safety_net.insert(tenant.clone(), *run);
        Ok(())
    }

    async fn safety_net(&self, tenant: &TenantId) -> Result<Option<SafetyNetRun>, StoreError> {
        Ok(self.lock().safety_net.get(tenant).copied())
    }

    async fn put_confidential_refusal(
        &self,
        tenant: &TenantId,
        refusal: &ConfidentialRefusal,
    ) -> Result<(), StoreError> {
        self.lock().confidential.insert(tenant.clone(), *refusal);
        Ok(())
    }

    async fn confidential_refusal(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<ConfidentialRefusal>, StoreError> {
        Ok(self.lock().confidential.get(tenant).copied())
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn create_order(&self, order: &Order) -> Result<CreateOrder, StoreError> {
        let mut inner = self.lock();
        if let Some(existing) = inner.orders.get(order.order_id()) {
            return Ok(CreateOrder::Exists(existing.clone()));
        }
        let open = inner.orders.values().find(|o| {
            o.tenant_id() == order.tenant_id()
                && o.vendor() == order.vendor()
                && o.opportunity_id() == order.opportunity_id()
                && o.phase() != OrderPhase::Closed
        });
        if let Some(existing) = open {
            return Ok(CreateOrder::AlreadyOpen(existing.clone()));
        }
        inner.orders.insert(order.order_id().clone(), order.clone());
        Ok(CreateOrder::Created)
    }

    async fn get_order(&self, order: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.lock().orders.get(order).cloned())
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
            .find(|o| o.vendor() == vendor && o.vendor_order_id() == Some(vendor_order_id))
            .cloned())
    }

    async fn update_order(&self, order: &Order) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.orders.get(order.order_id()) {
            Some(stored) if stored.version() + 1 == order.version() => {
                inner.orders.insert(order.order_id().clone(), order.clone());
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn orders_for_opportunity(
        &self,
        tenant: &TenantId,
        opportunity: &OpportunityId,
    ) -> Result<Vec<Order>, StoreError> {
        let mut orders: Vec<Order> = self
            .orders()
            .into_iter()
            .filter(|o| o.tenant_id() == tenant && o.opportunity_id() == opportunity)
            .collect();
        orders.sort_by_key(|o| o.created_at());
        Ok(orders)
    }

    async fn quiet_open_orders(
        &self,
        quiet_since: EpochMillis,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut orders: Vec<Order> = self
            .orders()
            .into_iter()
            .filter(|o| o.phase() != OrderPhase::Closed && last_activity(o) < quiet_since)
            .collect();
        orders.sort_by_key(last_activity);
        orders.truncate(limit);
        Ok(orders)
    }
}

/// When the vendor last said something about the order, else when it was created.
pub(super) fn last_activity(order: &Order) -> EpochMillis {
    order.vendor_updated_at().unwrap_or(order.created_at())
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

    async fn record_delivery(
        &self,
        key: &str,
        now: EpochMillis,
        keep_for: Duration,
    ) -> Result<Delivery, StoreError> {
        let mut inner = self.lock();
        if let Some(record) = inner.deliveries.get(key) {
            if record.expires_at > now {
                return Ok(if record.done {
                    Delivery::AlreadyDone
                } else {
                    Delivery::InProgress
                });
            }
        }
        inner.deliveries.insert(
            key.to_owned(),
            DeliveryRecord {
                done: true,
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

    async fn release(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let held = inner.claims.get(key).is_some_and(|(held, _)| held == value);
        if held {
            inner.claims.remove(key);
        }
        Ok(held)
    }
}

#[async_trait]
impl RateLimiter for MemoryStore {
    async fn try_take(&self, key: &str, now: EpochMillis, limit: u32) -> Result<bool, StoreError> {
        let second = now.div_euclid(1000);
        let mut inner = self.lock();
        // Forget seconds long spent (an hour): callers may name a window's first second (a
        // per-minute budget), which an aggressive purge would reset.
        inner.rates.retain(|(_, s), _| *s >= second - 3600);
        let taken = inner.rates.entry((key.to_owned(), second)).or_default();
        if *taken >= limit {
            return Ok(false);
        }
        *taken += 1;
        Ok(true)
    }
}

#[async_trait]
impl DeliveryLog for MemoryStore {
    async fn log_delivery(
        &self,
        tenant: &TenantId,
        delivery: &LoggedDelivery,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let entry = inner
            .log
            .entry((tenant.clone(), delivery.id.clone()))
            .or_insert((None, None, keep_until));
        entry.0 = Some(delivery.clone());
        entry.2 = keep_until;
        Ok(())
    }

    async fn log_work_end(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        end: &WorkEnd,
        keep_until: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let entry = inner
            .log
            .entry((tenant.clone(), delivery.clone()))
            .or_insert((None, None, keep_until));
        entry.1 = Some(end.clone());
        Ok(())
    }

    async fn delivery_log(
        &self,
        tenant: &TenantId,
        before: Option<&DeliveryId>,
        limit: usize,
        now: EpochMillis,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .log
            .iter()
            .rev()
            .filter(|((t, id), _)| t == tenant && before.is_none_or(|before| id < before))
            .filter_map(|(_, entry)| log_entry(entry, now))
            .take(limit)
            .collect())
    }

    async fn log_entry(
        &self,
        tenant: &TenantId,
        delivery: &DeliveryId,
        now: EpochMillis,
    ) -> Result<Option<LogEntry>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .log
            .get(&(tenant.clone(), delivery.clone()))
            .and_then(|entry| log_entry(entry, now)))
    }
}
