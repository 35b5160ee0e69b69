//! The work the worker does, as queue messages: what intake stored but did not do on the
//! sender's request (every Lever and vendor call), and what becomes of work that fails.

use crate::ids::{DeliveryId, OpportunityId, OrderId, TenantId, VendorId};
use serde::{Deserialize, Serialize};

/// One message on the work queue. Every kind is safe to do twice (a queue may deliver a
/// message more than once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub enum Work {
    /// A verified Lever delivery: confirm it through Lever's API, then act on it (order
    /// from the vendors it triggers, cancel or purge on archive or delete).
    LeverEvent {
        /// The tenant whose webhook URL received it.
        tenant: TenantId,
        /// The delivery's token (for logs; orders are named after what Lever confirms,
        /// not after the delivery: [`crate::ids::OrderId::for_stage_entry`]).
        token: String,
        /// When Lever says it happened, ms since the epoch.
        triggered_at: i64,
        /// What happened, as the delivery described it.
        event: Event,
        /// Where this deployment is reachable (the domain the delivery came to), from which
        /// vendor callback URLs are made.
        callback_base: String,
        /// The delivery-log entry that records what this work came to (none for work the
        /// safety net found, or queued before the log existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<DeliveryId>,
    },
    /// Show an order's current state in Lever.
    SyncLever {
        /// The order's tenant.
        tenant: TenantId,
        /// The order to show.
        order: OrderId,
    },
    /// Read an order from the vendor's API and apply what it says: an unsigned callback's
    /// hint, or the reconciliation of an order whose callbacks stopped.
    ReadVendorOrder {
        /// The order's tenant.
        tenant: TenantId,
        /// The vendor to ask.
        vendor: VendorId,
        /// The vendor's id of the order (its API's path parameter).
        vendor_order_id: String,
        /// The callback's delivery-log entry, if a callback asked for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<DeliveryId>,
    },
}

impl Work {
    /// Whose work it is (every kind has a tenant).
    pub fn tenant(&self) -> &TenantId {
        match self {
            Work::LeverEvent { tenant, .. }
            | Work::SyncLever { tenant, .. }
            | Work::ReadVendorOrder { tenant, .. } => tenant,
        }
    }

    /// The delivery-log entry this work reports to, if any.
    pub fn delivery(&self) -> Option<&DeliveryId> {
        match self {
            Work::LeverEvent { delivery, .. } | Work::ReadVendorOrder { delivery, .. } => {
                delivery.as_ref()
            }
            Work::SyncLever { .. } => None,
        }
    }

    /// A short name for logs, metrics and the dead-letter listing.
    pub fn kind(&self) -> &'static str {
        match self {
            Work::LeverEvent { .. } => "lever_event",
            Work::SyncLever { .. } => "sync_lever",
            Work::ReadVendorOrder { .. } => "read_vendor_order",
        }
    }
}

/// What the worker does with a message whose processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Time may fix it (an outage, throttling, a tenant an operator is fixing): try again
    /// later, with growing gaps, then dead-letter it.
    Later,
    /// Lever refused the integration's credential (access revoked): the integration is
    /// disabled, so its work is dropped and counted, not retried.
    Disabled,
    /// The work itself cannot succeed (it names nothing that exists, or is malformed):
    /// dead-letter it at once for a person.
    Never,
}

/// What a Lever delivery says happened, by webhook type, with its ids parsed (read from
/// the delivery in [`crate::lever::webhook`]). Unsigned: the worker confirms it through
/// Lever's API before acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The opportunity moved into a stage.
    StageChange {
        /// The opportunity (`opportunityId`).
        opportunity: OpportunityId,
        /// The stage it moved into (`toStageId`).
        to_stage_id: String,
    },
    /// A new application (opportunity) was created.
    ApplicationCreated {
        /// The opportunity (`opportunityId`).
        opportunity: OpportunityId,
        /// The application (`applicationId`), when the delivery names it.
        application_id: Option<String>,
    },
    /// Archived (`archived`), or restored from the archive.
    ArchiveChange {
        /// The opportunity (`opportunityId`).
        opportunity: OpportunityId,
        /// `toArchived` is an object (archived), not `null` (restored).
        archived: bool,
    },
    /// The candidate was deleted from Lever.
    Deleted {
        /// The opportunity (`opportunityId`).
        opportunity: OpportunityId,
    },
    /// The candidate was hired.
    Hired {
        /// The opportunity (`opportunityId`).
        opportunity: OpportunityId,
    },
}
