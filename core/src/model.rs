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
    Sterling,
    Justifacts,
    #[serde(rename = "hrlogics")]
    HrLogics,
    Esr,
}

impl VendorId {
    pub const ALL: [VendorId; 5] = [
        VendorId::Xref,
        VendorId::Sterling,
        VendorId::Justifacts,
        VendorId::HrLogics,
        VendorId::Esr,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VendorId::Xref => "xref",
            VendorId::Sterling => "sterling",
            VendorId::Justifacts => "justifacts",
            VendorId::HrLogics => "hrlogics",
            VendorId::Esr => "esr",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == value)
    }

    /// What a recruiter calls the screening, for notes ("Xref reference check").
    pub fn service_name(self) -> &'static str {
        match self {
            VendorId::Xref => "Xref reference check",
            VendorId::Sterling => "Sterling Backcheck background check",
            VendorId::Justifacts => "Justifacts background check",
            VendorId::HrLogics => "HRLogics WOTC survey",
            VendorId::Esr => "ESR background check",
        }
    }

    /// The name recruiters know the vendor by, used in notes and logs.
    pub fn display_name(self) -> &'static str {
        match self {
            VendorId::Xref => "Xref",
            VendorId::Sterling => "Sterling Backcheck",
            VendorId::Justifacts => "Justifacts",
            VendorId::HrLogics => "HRLogics",
            VendorId::Esr => "ESR",
        }
    }
}

impl fmt::Display for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `YYYY-MM-DD` (UTC) of a time in ms: the dates Lever notes show.
pub fn utc_date(millis: EpochMillis) -> String {
    // Howard Hinnant's days-to-civil algorithm: no calendar crate for one date format.
    let days = millis.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
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
    /// Set when Lever refused the tenant's OAuth refresh token (the app was revoked in
    /// Lever); cleared by reconnecting. While set, nothing calls Lever for this tenant.
    #[serde(default)]
    pub lever_disconnected: Option<Disconnected>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnected {
    pub reason: String,
    pub at: EpochMillis,
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
    /// Moving an opportunity into this stage orders from the vendor (for vendors ordered
    /// on a stage change).
    #[serde(default)]
    pub trigger_stage: Option<StageRef>,
    /// For vendors that sell packages.
    #[serde(default)]
    pub package: PackageSettings,
}

/// A screening package: its id, and the name recruiters know it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    #[serde(default)]
    pub name: Option<String>,
    pub id: String,
}

/// Where a vendor's package comes from for an order: a tag on the opportunity or its
/// posting (`"{tag_prefix} Name[ID : 123]"`), else the tenant's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSettings {
    #[serde(default)]
    pub tag_prefix: Option<String>,
    #[serde(default)]
    pub default: Option<Package>,
    /// The packages the vendor sold this tenant (ESR's come from its representative): a
    /// tag may then name a package by name alone, and must name one of these.
    #[serde(default)]
    pub catalog: Vec<Package>,
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

/// A status the vendor reported, in the vendor's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: String,
    pub at: EpochMillis,
}

/// What a vendor reported about an order, in its own words (what Lever shows). No
/// candidate data: statuses, scores, dates, references and report links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorResults {
    #[serde(default)]
    pub report_url: Option<String>,
    /// The overall score or result (e.g. Sterling's Green / Amber / Red).
    #[serde(default)]
    pub score: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    /// The vendor's own reference number for the order (e.g. Sterling's OrderNumber).
    #[serde(default)]
    pub reference: Option<String>,
    /// The result on the HR-XML 3.0 ScreeningResultCode list (Clear, Review, Fail, …),
    /// next to the vendor's own words, for reporting across vendors.
    #[serde(default)]
    pub result_code: Option<String>,
    /// Per-service results, for vendors that report services piecemeal.
    #[serde(default)]
    pub services: Vec<ServiceResult>,
    /// Items the vendor flagged for review (ESR), each shown once.
    #[serde(default)]
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub category: String,
    pub description: String,
}

impl VendorResults {
    pub fn completed_services(&self) -> usize {
        self.services.iter().filter(|s| s.complete).count()
    }

    /// Takes every value `newer` has, keeping ours where it has none (a later callback may
    /// omit what an earlier one said).
    fn merge(&mut self, newer: VendorResults) {
        let keep = |ours: &mut Option<String>, theirs: Option<String>| {
            if theirs.is_some() {
                *ours = theirs;
            }
        };
        keep(&mut self.report_url, newer.report_url);
        keep(&mut self.score, newer.score);
        keep(&mut self.completed_at, newer.completed_at);
        keep(&mut self.error_message, newer.error_message);
        keep(&mut self.reference, newer.reference);
        keep(&mut self.result_code, newer.result_code);
        if !newer.services.is_empty() {
            self.services = newer.services;
        }
        for flag in newer.flags {
            if !self.flags.contains(&flag) {
                self.flags.push(flag);
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceResult {
    pub name: String,
    /// The vendor's word, e.g. "Not Started" / "Complete".
    pub status: String,
    pub complete: bool,
    #[serde(default)]
    pub score: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub report_url: Option<String>,
}

/// One thing written to Lever for an order (a tag or a note), so it is written once and,
/// for a note, updated in place rather than added again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenToLever {
    /// Digest of what was written; a different digest means it must be written again.
    pub digest: String,
    /// For notes: Lever's id, so the note can be updated.
    #[serde(default)]
    pub note_id: Option<String>,
}

/// Where an order stands among its vendor's statuses: an update applies only if it is
/// ahead (DESIGN.md §3.3). Piecemeal progress (more services complete) counts as ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Progress {
    pub rank: u32,
    pub completed_services: usize,
    /// A new flag is news too.
    pub flags: usize,
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
    #[serde(default)]
    pub results: VendorResults,
    /// Why the order was not placed (candidate data missing, vendor refused), if so.
    #[serde(default)]
    pub problem: Option<String>,
    /// What is already in Lever, by key (see [`crate::vendors::LeverWrite`]).
    #[serde(default)]
    pub lever_written: BTreeMap<String, WrittenToLever>,
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
            results: VendorResults::default(),
            problem: None,
            lever_written: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            rank: self.status_rank,
            completed_services: self.results.completed_services(),
            flags: self.results.flags.len(),
        }
    }

    /// Moves the order to `status` with `results` if that is a step forward. A repeat or
    /// an older report changes nothing and returns false: orders never regress.
    pub fn advance(
        &mut self,
        status: &str,
        rank: u32,
        terminal: bool,
        results: VendorResults,
    ) -> bool {
        self.advance_or_replace(status, rank, terminal, false, results)
    }

    /// [`advance`](Self::advance), where `replaceable` also lets a different status of the
    /// current rank replace it (a re-evaluated result).
    pub fn advance_or_replace(
        &mut self,
        status: &str,
        rank: u32,
        terminal: bool,
        replaceable: bool,
        results: VendorResults,
    ) -> bool {
        let new_flags = results
            .flags
            .iter()
            .filter(|flag| !self.results.flags.contains(flag))
            .count();
        let offered = Progress {
            rank,
            completed_services: results.completed_services(),
            flags: self.results.flags.len() + new_flags,
        };
        let replaces = replaceable
            && rank == self.status_rank
            && self
                .status
                .as_deref()
                .is_some_and(|current| current != status);
        if offered <= self.progress() && !replaces {
            return false;
        }
        if self.status.as_deref() != Some(status) {
            self.history.push(StatusChange {
                status: status.to_owned(),
                at: now_millis(),
            });
        }
        self.status = Some(status.to_owned());
        self.status_rank = rank;
        self.results.merge(results);
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
}

/// Work that failed on the way out and is retried by `lever-writeback-retry` (and can be
/// listed and replayed from the admin command). Every kind is idempotent to redo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxWork {
    /// Place (or finish placing) the vendor order for an order intent.
    PlaceOrder {
        order_id: String,
        /// Where this deployment is reachable; the callback URL is derived from it when
        /// the order is placed (it may carry a secret, which is not stored here).
        callback_base: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, complete: bool) -> ServiceResult {
        ServiceResult {
            name: name.into(),
            status: if complete { "Complete" } else { "Not Started" }.into(),
            complete,
            ..ServiceResult::default()
        }
    }

    fn results(services: Vec<ServiceResult>) -> VendorResults {
        VendorResults {
            services,
            ..VendorResults::default()
        }
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_431_454_330_072), "2015-05-12");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert_eq!(utc_date(1_795_585_372_000), "2026-11-25");
    }

    #[test]
    fn an_order_moves_forward_and_never_back() {
        let mut order = Order::new_intent("t", VendorId::Xref, "o");
        assert!(order.advance("Candidate submitted", 1, false, VendorResults::default()));
        assert!(order.advance("Completed", 4, true, VendorResults::default()));
        assert_eq!(order.phase, OrderPhase::Closed);
        assert!(!order.advance("Referees nominated", 2, false, VendorResults::default()));
        assert!(!order.advance("Completed", 4, true, VendorResults::default()));
        assert_eq!(order.status.as_deref(), Some("Completed"));
        assert_eq!(order.history.len(), 2);
    }

    #[test]
    fn more_completed_services_at_the_same_status_is_progress() {
        let mut order = Order::new_intent("t", VendorId::Xref, "o");
        let pending = vec![service("Criminal", false), service("Employment", false)];
        assert!(order.advance("In Progress", 2, false, results(pending.clone())));
        assert!(
            !order.advance("In Progress", 2, false, results(pending)),
            "a repeat"
        );
        let one_done = vec![service("Criminal", true), service("Employment", false)];
        assert!(order.advance("In Progress", 2, false, results(one_done.clone())));
        assert_eq!(order.results.completed_services(), 1);
        assert_eq!(order.history.len(), 1, "the status itself did not change");
        let regress = vec![service("Criminal", false), service("Employment", false)];
        assert!(!order.advance("In Progress", 2, false, results(regress)));
        assert_eq!(order.results.services, one_done);
    }

    #[test]
    fn later_results_keep_what_earlier_ones_said() {
        let mut order = Order::new_intent("t", VendorId::Xref, "o");
        let first = VendorResults {
            reference: Some("BC-1".into()),
            ..VendorResults::default()
        };
        order.advance("Initiated", 1, false, first);
        let last = VendorResults {
            score: Some("Green".into()),
            ..VendorResults::default()
        };
        order.advance("Completed", 3, true, last);
        assert_eq!(order.results.reference.as_deref(), Some("BC-1"));
        assert_eq!(order.results.score.as_deref(), Some("Green"));
    }
}
