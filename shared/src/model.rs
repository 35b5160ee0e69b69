//! The records this product keeps: tenants, orders, outbox items. No candidate PII is stored:
//! names, emails and phones are read from Lever when an order is placed and passed on.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Milliseconds since the Unix epoch, as Lever and DynamoDB TTL arithmetic use them.
pub type EpochMillis = i64;

/// Wall-clock time in ms. One function so tests and the outbox agree on "now".
pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or_default()
}

/// The screening vendors this product speaks to. The string form appears in URLs
/// (`/callbacks/{vendor}/{tenant}`), secrets and store keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VendorId {
    Xref,
}

impl VendorId {
    pub const ALL: [VendorId; 1] = [VendorId::Xref];

    pub fn as_str(self) -> &'static str {
        match self {
            VendorId::Xref => "xref",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == value)
    }

    /// What a recruiter calls the screening, for notes ("Xref reference check").
    pub fn service_name(self) -> &'static str {
        match self {
            VendorId::Xref => "Xref reference check",
        }
    }

    /// The name recruiters know the vendor by, used in notes and logs.
    pub fn display_name(self) -> &'static str {
        match self {
            VendorId::Xref => "Xref",
        }
    }
}

impl fmt::Display for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tenant id is part of public URLs and store keys: short, URL-safe, nothing else.
pub fn is_valid_tenant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One connected Lever account and what it has switched on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConfig {
    pub tenant_id: String,
    /// `https://api.lever.co/v1`, the sandbox, or a simulator.
    pub lever_api_base: String,
    #[serde(default)]
    pub vendors: BTreeMap<VendorId, VendorSettings>,
}

impl TenantConfig {
    pub const LEVER_PRODUCTION: &'static str = "https://api.lever.co/v1";

    pub fn enabled_vendors(&self) -> impl Iterator<Item = (VendorId, &VendorSettings)> {
        self.vendors
            .iter()
            .filter(|(_, settings)| settings.enabled)
            .map(|(vendor, settings)| (*vendor, settings))
    }
}

/// Per tenant and vendor: where its API lives and which Lever stage orders from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorSettings {
    pub enabled: bool,
    /// The vendor's API base URL for this tenant (its account, region or simulator).
    pub api_base: String,
    /// Moving an opportunity into this stage orders from the vendor.
    pub trigger_stage: StageRef,
}

/// A Lever stage named by id (exact) or by its display name (resolved through the Lever API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRef {
    Id(String),
    Name(String),
}

/// Where an order is in its life. `Pending` is the intent written before the vendor is
/// called, so a crash or a vendor outage between the two leaves a record to resume from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPhase {
    Pending,
    Open,
    Closed,
}

/// A status the vendor reported, in the vendor's own words (what Lever shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: String,
    pub at: EpochMillis,
}

/// One screening ordered for one opportunity from one vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Ours; also the idempotency key and client reference sent to the vendor.
    pub order_id: String,
    pub tenant_id: String,
    pub vendor: VendorId,
    pub opportunity_id: String,
    pub vendor_order_id: Option<String>,
    pub phase: OrderPhase,
    /// The vendor's latest status word, and its rank in that vendor's order of statuses.
    pub status: Option<String>,
    pub status_rank: u32,
    #[serde(default)]
    pub history: Vec<StatusChange>,
    pub report_url: Option<String>,
    /// Why the order was not placed (candidate data missing, vendor refused), if so.
    #[serde(default)]
    pub problem: Option<String>,
    /// The status whose Lever presentation (tags, notes) is known to be written.
    pub lever_synced_status: Option<String>,
    pub created_at: EpochMillis,
    pub updated_at: EpochMillis,
    /// Optimistic lock: every update must name the version it read.
    pub version: u64,
}

impl Order {
    pub fn new_intent(tenant_id: &str, vendor: VendorId, opportunity_id: &str) -> Self {
        let now = now_millis();
        Order {
            order_id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant_id.to_owned(),
            vendor,
            opportunity_id: opportunity_id.to_owned(),
            vendor_order_id: None,
            phase: OrderPhase::Pending,
            status: None,
            status_rank: 0,
            history: Vec::new(),
            report_url: None,
            problem: None,
            lever_synced_status: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    /// Moves the order to `status` if that is a step forward. A repeat or an older status
    /// changes nothing and returns false: orders never regress (DESIGN.md §3.3).
    pub fn advance(
        &mut self,
        status: &str,
        rank: u32,
        terminal: bool,
        report_url: Option<String>,
    ) -> bool {
        if rank <= self.status_rank {
            return false;
        }
        let now = now_millis();
        self.status = Some(status.to_owned());
        self.status_rank = rank;
        self.history.push(StatusChange {
            status: status.to_owned(),
            at: now,
        });
        if report_url.is_some() {
            self.report_url = report_url;
        }
        self.phase = if terminal {
            OrderPhase::Closed
        } else {
            OrderPhase::Open
        };
        true
    }

    /// The record to write after changing this one: next version, fresh `updated_at`.
    pub fn next_version(mut self) -> Self {
        self.version += 1;
        self.updated_at = now_millis();
        self
    }

    pub fn needs_lever_sync(&self) -> bool {
        self.status.is_some() && self.status != self.lever_synced_status
    }
}

/// Work that failed on the way out and is retried by `lever-writeback-retry` (and can be
/// listed and replayed from the admin command). Every kind is idempotent to redo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxWork {
    /// Place (or finish placing) the vendor order for an order intent.
    PlaceOrder {
        order_id: String,
        callback_url: String,
    },
    /// Write the order's current status to Lever (tags or notes).
    SyncLever { order_id: String },
    /// A verified Lever webhook that could not be processed (e.g. Lever's API was down).
    LeverWebhook {
        tenant_id: String,
        event: String,
        body: String,
        callback_base: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: String,
    pub tenant_id: String,
    pub work: OutboxWork,
    pub attempts: u32,
    pub next_attempt_at: EpochMillis,
    pub last_error: Option<String>,
    pub created_at: EpochMillis,
}

impl OutboxItem {
    pub fn new(tenant_id: &str, work: OutboxWork, error: impl Into<String>) -> Self {
        let now = now_millis();
        OutboxItem {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant_id.to_owned(),
            work,
            attempts: 0,
            next_attempt_at: now,
            last_error: Some(error.into()),
            created_at: now,
        }
    }
}
