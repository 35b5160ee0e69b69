//! An order: one screening ordered for one opportunity from one vendor, and the rules of its
//! life — it moves forward through its vendor's statuses and never back, and it remembers
//! what Lever already shows so nothing is written twice.
//!
//! No candidate PII is stored: names, emails and phones are read from Lever when the order is
//! placed and passed on. What is kept is the vendor's words: statuses, scores, dates,
//! references and report links (purged when Lever deletes the candidate).

use crate::clock::{now_millis, EpochMillis};
use crate::ids::VendorId;
use crate::ids::{OpportunityId, OrderId, TenantId};
use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an order is in its life. `Pending` is the intent written before the vendor is
/// called, so a crash or a vendor outage between the two leaves a record to resume from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPhase {
    /// The intent is written; the vendor has not (knowingly) got the order yet.
    Pending,
    /// Placed with the vendor, not ended.
    Open,
    /// Ended: a terminal vendor status, or closed by us (not placed, or ended on Lever's
    /// side). A new trigger may order again.
    Closed,
}

/// A status the vendor reported, in the vendor's own words, and when we learnt it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The vendor's status word.
    pub status: String,
    /// When this product applied it (not the vendor's timestamp).
    pub at: EpochMillis,
}

/// What a vendor reported about an order, in its own words (what Lever shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorResults {
    /// Link to the vendor's report.
    #[serde(default)]
    pub report_url: Option<String>,
    /// The overall score or result (Sterling's Green / Amber / Red, Justifacts' Clear …).
    #[serde(default)]
    pub score: Option<String>,
    /// When the vendor says it completed, in its own format (Sterling: `YYYY-MM-DD`).
    #[serde(default)]
    pub completed_at: Option<String>,
    /// The vendor's explanation of an error status (Sterling's `Error`).
    #[serde(default)]
    pub error_message: Option<String>,
    /// The vendor's own reference number for the order, when it differs from its order id.
    #[serde(default)]
    pub reference: Option<String>,
    /// The result on the HR-XML 3.0 ScreeningResultCode list (Clear, Review, Fail, …),
    /// next to the vendor's own words, for reporting across vendors and completion rules.
    #[serde(default)]
    pub result_code: Option<String>,
    /// Per-service results, for vendors that report services piecemeal.
    #[serde(default)]
    pub services: Vec<ServiceResult>,
    /// Items the vendor flagged for review (ESR), each shown once.
    #[serde(default)]
    pub flags: Vec<Flag>,
}

/// One item a vendor flagged for review (ESR); each gets its own Lever note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// What kind of item (`Criminal`, `Address`…), in the vendor's words.
    pub category: String,
    /// What was found.
    pub description: String,
}

/// One service of a screening (Sterling's report items: `County Criminal Record`…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceResult {
    /// The service's name, as the vendor gives it.
    pub name: String,
    /// What Lever shows: "Not Started" or "Complete" (the adapter maps the vendor's words).
    pub status: String,
    /// Whether the service is done; more complete services is progress.
    pub complete: bool,
    /// The service's own score or result.
    #[serde(default)]
    pub score: Option<String>,
    /// When the service completed, in the vendor's format.
    #[serde(default)]
    pub completed_at: Option<String>,
    /// Link to the service's report.
    #[serde(default)]
    pub report_url: Option<String>,
}

impl VendorResults {
    /// How many services are complete.
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

/// One thing written to Lever for an order (a tag, a note, a stage move), by key, so it is
/// written once and, for a note, updated in place rather than added again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenToLever {
    /// Digest of what was written; a different digest means it must be written again.
    pub digest: String,
    /// For notes: Lever's id, so the note can be updated.
    #[serde(default)]
    pub note_id: Option<String>,
    /// A note POST was started and its outcome is unknown (a timeout, a crash): before
    /// posting again, Lever's notes are read back and the note with its `created_at` and
    /// one of the `sent` texts adopted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_doubt: bool,
    /// For notes: the `createdAt` the note is posted with, chosen (and stored) before its
    /// first POST, so that every POST of it carries the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<EpochMillis>,
    /// For a note in doubt: digests of the texts posted for it (a retry may post a newer
    /// text than the POST whose answer was lost).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<String>,
}

/// Where an order stands among its vendor's statuses: an update applies only if it is
/// ahead. Piecemeal progress (more services complete) and a new flag count as ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Progress {
    /// The status's rank in its vendor's order (compared first).
    pub rank: u32,
    /// Services complete (compared at the same rank).
    pub completed_services: usize,
    /// Flags known (compared last).
    pub flags: usize,
}

/// Why an order waits for the tenant's admin, in the admin's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// What the vendor said: "Xref refused this account's credentials (HTTP 401: …)".
    pub cause: String,
    /// What the admin does: "Save working Xref credentials in the setup console".
    pub fix: String,
    /// When it was first held.
    pub since: EpochMillis,
}

/// One screening ordered for one opportunity from one vendor. Its fields are private: its
/// identity is fixed when the intent is made, and everything else changes only through the
/// transitions below (placed, advanced, held, closed, purged), so the rules of its life are
/// the type's, not its callers'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Ours; also the client reference and idempotency key sent to the vendor.
    order_id: OrderId,
    /// The tenant that ordered.
    tenant_id: TenantId,
    /// The vendor ordered from.
    vendor: VendorId,
    /// The Lever opportunity screened.
    opportunity_id: OpportunityId,
    /// The candidate's name as Lever showed it when the order was made: the console lists
    /// orders by it. The only candidate data kept; purged with the rest when Lever deletes
    /// the candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    candidate_name: Option<String>,
    /// The vendor's id of the order, once placed: how callbacks and reads find it.
    vendor_order_id: Option<String>,
    /// The vendor-side ids of the steps of placing the order (Sterling: its candidate, then
    /// its screening), recorded as soon as each exists so a retry reuses them.
    #[serde(default)]
    steps: BTreeMap<String, String>,
    /// Where the order is in its life.
    phase: OrderPhase,
    /// The vendor's latest status word. With `status_rank` and `history`, it changes only
    /// through [`Order::advance`], so an order cannot move backwards.
    status: Option<String>,
    /// The rank of `status` (0 before any status).
    status_rank: u32,
    /// Every status change applied, oldest first.
    #[serde(default)]
    history: Vec<StatusChange>,
    /// What the vendor reported, merged across its reports.
    #[serde(default)]
    results: VendorResults,
    /// Why the order was not placed or was closed early (candidate data missing, the vendor
    /// refused, the candidate archived), shown in a Lever note.
    #[serde(default)]
    problem: Option<String>,
    /// Notes the flows add about the order itself, by key (why it was not placed, what
    /// archiving the candidate did to it), shown in Lever as they are.
    #[serde(default)]
    notices: BTreeMap<String, String>,
    /// What is already in Lever, by key (see [`crate::vendors::LeverWrite`]).
    #[serde(default)]
    lever_written: BTreeMap<String, WrittenToLever>,
    /// When the vendor last told us something (a callback, or a read of its API); the
    /// reconciliation job re-reads orders whose callbacks stopped.
    #[serde(default)]
    vendor_updated_at: Option<EpochMillis>,
    /// Set while the order is held because the vendor refused this tenant's configuration
    /// (its credentials): not retried, shown to the admin, resumed once they fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attention: Option<Attention>,
    /// Set when Lever deleted the candidate and this order's results were purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purged_at: Option<EpochMillis>,
    /// When the intent was written.
    created_at: EpochMillis,
    /// When the record was last written.
    updated_at: EpochMillis,
    /// Optimistic lock: every update must name the version it read.
    version: u64,
}

impl Order {
    /// A `Pending` order, version 0: what is written (conditionally) before the vendor is
    /// called.
    pub fn new_intent(
        order_id: OrderId,
        tenant_id: TenantId,
        vendor: VendorId,
        opportunity_id: OpportunityId,
    ) -> Self {
        let now = now_millis();
        Order {
            order_id,
            tenant_id,
            vendor,
            opportunity_id,
            candidate_name: None,
            vendor_order_id: None,
            steps: BTreeMap::new(),
            phase: OrderPhase::Pending,
            status: None,
            status_rank: 0,
            history: Vec::new(),
            results: VendorResults::default(),
            problem: None,
            notices: BTreeMap::new(),
            lever_written: BTreeMap::new(),
            vendor_updated_at: None,
            attention: None,
            purged_at: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    /// Ours; also the client reference and idempotency key sent to the vendor.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The tenant that ordered.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The vendor ordered from.
    pub fn vendor(&self) -> VendorId {
        self.vendor
    }

    /// The Lever opportunity screened.
    pub fn opportunity_id(&self) -> &OpportunityId {
        &self.opportunity_id
    }

    /// The candidate's name as Lever showed it when the order was made.
    pub fn candidate_name(&self) -> Option<&str> {
        self.candidate_name.as_deref()
    }

    /// The vendor's id of the order, once placed.
    pub fn vendor_order_id(&self) -> Option<&str> {
        self.vendor_order_id.as_deref()
    }

    /// The vendor-side ids of the steps of placing the order, by step.
    pub fn steps(&self) -> &BTreeMap<String, String> {
        &self.steps
    }

    /// Where the order is in its life.
    pub fn phase(&self) -> OrderPhase {
        self.phase
    }

    /// What the vendor reported, merged across its reports.
    pub fn results(&self) -> &VendorResults {
        &self.results
    }

    /// Why the order was not placed or was closed early, if it was.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Notes about the order itself, by key, shown in Lever as they are.
    pub fn notices(&self) -> &BTreeMap<String, String> {
        &self.notices
    }

    /// What is already in Lever, by key.
    pub fn lever_written(&self) -> &BTreeMap<String, WrittenToLever> {
        &self.lever_written
    }

    /// When the vendor last told us something.
    pub fn vendor_updated_at(&self) -> Option<EpochMillis> {
        self.vendor_updated_at
    }

    /// Why the order waits for the tenant's admin, while it does.
    pub fn attention(&self) -> Option<&Attention> {
        self.attention.as_ref()
    }

    /// When Lever deleted the candidate and this order's results were purged.
    pub fn purged_at(&self) -> Option<EpochMillis> {
        self.purged_at
    }

    /// When the intent was written.
    pub fn created_at(&self) -> EpochMillis {
        self.created_at
    }

    /// When the record was last written.
    pub fn updated_at(&self) -> EpochMillis {
        self.updated_at
    }

    /// The version read, which the next update must name (optimistic lock).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The intent with the candidate's name as Lever shows it (blank: none).
    pub fn for_candidate(mut self, name: Option<&str>) -> Self {
        self.candidate_name = name
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        self
    }

    /// Records the vendor-side id of one step of placing the order, as soon as it exists,
    /// so that a retry reuses it.
    pub fn record_step(&mut self, step: &str, id: &str) {
        self.steps.insert(step.to_owned(), id.to_owned());
    }

    /// Starts from `steps` carried over from an earlier order of the same candidate.
    pub fn carry_steps(&mut self, steps: impl IntoIterator<Item = (String, String)>) {
        self.steps.extend(steps);
    }

    /// Placed with the vendor as `vendor_order_id`, heard from `at`. False (nothing
    /// changed) when it was placed already: a vendor order id is never replaced.
    pub fn placed(&mut self, vendor_order_id: &str, at: EpochMillis) -> bool {
        if self.vendor_order_id.is_some() {
            return false;
        }
        self.vendor_order_id = Some(vendor_order_id.to_owned());
        self.phase = OrderPhase::Open;
        self.vendor_updated_at = Some(at);
        true
    }

    /// The vendor told us something about the order at `at`.
    pub fn heard_from_vendor(&mut self, at: EpochMillis) {
        self.vendor_updated_at = Some(at);
    }

    /// Held for the admin because of `cause` (fixed by `fix`), from `since`. False when it
    /// is held already: the first cause and its time stay.
    pub fn hold(&mut self, cause: &str, fix: &str, since: EpochMillis) -> bool {
        if self.attention.is_some() {
            return false;
        }
        self.attention = Some(Attention {
            cause: cause.to_owned(),
            fix: fix.to_owned(),
            since,
        });
        true
    }

    /// No longer held: the admin fixed what held it.
    pub fn release(&mut self) {
        self.attention = None;
    }

    /// Records why the order ended early (for operators) without closing it: its vendor
    /// still brings the status.
    pub fn note_problem(&mut self, problem: &str) {
        self.problem = Some(problem.to_owned());
    }

    /// A note about the order that Lever shows under `key`.
    pub fn add_notice(&mut self, key: &str, note: String) {
        self.notices.insert(key.to_owned(), note);
    }

    /// The same note under `key`, unless one is there already.
    pub fn add_notice_once(&mut self, key: &str, note: impl FnOnce() -> String) {
        self.notices.entry(key.to_owned()).or_insert_with(note);
    }

    /// Records writes to Lever already done, by key.
    pub fn record_lever_writes(
        &mut self,
        done: impl IntoIterator<Item = (String, WrittenToLever)>,
    ) {
        self.lever_written.extend(done);
    }

    /// Records `written` under `key` unless something is recorded there already.
    pub fn record_lever_write_once(&mut self, key: &str, written: impl FnOnce() -> WrittenToLever) {
        self.lever_written
            .entry(key.to_owned())
            .or_insert_with(written);
    }

    /// What Lever already shows under `key`, to record a write in.
    pub fn written_to_lever(&mut self, key: &str) -> &mut WrittenToLever {
        self.lever_written.entry(key.to_owned()).or_default()
    }

    /// Leaves only what proves the order existed and was purged (Lever deleted the
    /// candidate): its ids (the vendor's too, so its late callbacks are still answered and
    /// ignored), vendor, statuses and times. Results, report links, notes' texts, the
    /// candidate's name and the vendor-side ids of intermediate steps go.
    pub fn purge(&mut self, at: EpochMillis) {
        self.results = VendorResults::default();
        self.steps = BTreeMap::new();
        self.notices = BTreeMap::new();
        self.problem = None;
        self.candidate_name = None;
        self.purged_at = Some(at);
    }

    /// The vendor's latest status word, if it reported one yet.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The rank of [`Order::status`] in the vendor's order of statuses (0 before any).
    pub fn status_rank(&self) -> u32 {
        self.status_rank
    }

    /// Every status change applied, oldest first.
    pub fn history(&self) -> &[StatusChange] {
        &self.history
    }

    /// The same order as if the vendor had reported `statuses` in turn, at `at`, whatever
    /// their ranks: for tests of what an order shows.
    #[cfg(test)]
    pub(crate) fn with_history(mut self, statuses: &[&str], at: EpochMillis) -> Self {
        self.history = statuses
            .iter()
            .map(|status| StatusChange {
                status: (*status).to_owned(),
                at,
            })
            .collect();
        self.status = statuses.last().map(|s| (*s).to_owned());
        self
    }

    /// The same order placed as `vendor_order_id` with `results`, whatever they are: for
    /// tests of what an order shows.
    #[cfg(test)]
    pub(crate) fn placed_with(mut self, vendor_order_id: &str, results: VendorResults) -> Self {
        self.placed(vendor_order_id, self.created_at);
        self.results = results;
        self
    }

    /// The results, to set by hand in tests of what an order shows.
    #[cfg(test)]
    pub(crate) fn results_mut(&mut self) -> &mut VendorResults {
        &mut self.results
    }

    /// Where the order stands, to compare a vendor update against.
    pub fn progress(&self) -> Progress {
        Progress {
            rank: self.status_rank,
            completed_services: self.results.completed_services(),
            flags: self.results.flags.len(),
        }
    }

    /// Moves the order to `status` with `results` if that is a step forward (or, for a
    /// replaceable status, a different status of the same rank: a re-evaluated result). A
    /// repeat or an older report changes nothing and returns false: orders never regress.
    pub fn advance(&mut self, status: &Status, results: VendorResults) -> bool {
        let new_flags = results
            .flags
            .iter()
            .filter(|flag| !self.results.flags.contains(flag))
            .count();
        let offered = Progress {
            rank: status.rank,
            completed_services: results.completed_services(),
            flags: self.results.flags.len() + new_flags,
        };
        let replaces = status.replaceable
            && status.rank == self.status_rank
            && self
                .status
                .as_deref()
                .is_some_and(|current| current != status.word);
        // An ending (Completed, Canceled, Failed) is not swapped for another ending of the
        // same rank because the later report carries more results.
        let ends_differently = self.phase == OrderPhase::Closed
            && status.rank == self.status_rank
            && self
                .status
                .as_deref()
                .is_some_and(|current| current != status.word);
        if (offered <= self.progress() || ends_differently) && !replaces {
            return false;
        }
        if self.status.as_deref() != Some(status.word) {
            self.history.push(StatusChange {
                status: status.word.to_owned(),
                at: now_millis(),
            });
        }
        self.status = Some(status.word.to_owned());
        self.status_rank = status.rank;
        self.results.merge(results);
        // A closed order never reopens: its opportunity may already have a newer order, and
        // only one may be open at a time.
        self.phase = if status.terminal() || self.phase == OrderPhase::Closed {
            OrderPhase::Closed
        } else {
            OrderPhase::Open
        };
        true
    }

    /// Closes the order without a vendor status (not placed, or ended on Lever's side):
    /// `problem` says why (for operators), `note` is what Lever shows under `key`.
    pub fn close(&mut self, problem: &str, key: &str, note: String) {
        self.phase = OrderPhase::Closed;
        self.problem = Some(problem.to_owned());
        self.notices.insert(key.to_owned(), note);
    }

    /// The record to write after changing this one: next version, fresh `updated_at`.
    pub fn next_version(mut self) -> Self {
        self.version += 1;
        self.updated_at = now_millis();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBMITTED: Status = Status::step("Candidate submitted", 1);
    const NOMINATED: Status = Status::step("Referees nominated", 2);
    const IN_PROGRESS: Status = Status::step("In Progress", 2);
    const COMPLETED: Status = Status::last("Completed", 4);

    fn order() -> Order {
        Order::new_intent(
            OrderId::parse("o1").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::Xref,
            OpportunityId::parse("opp").unwrap(),
        )
    }

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
    fn an_order_moves_forward_and_never_back() {
        let mut order = order();
        assert!(order.advance(&SUBMITTED, VendorResults::default()));
        assert!(order.advance(&COMPLETED, VendorResults::default()));
        assert_eq!(order.phase, OrderPhase::Closed);
        assert!(!order.advance(&NOMINATED, VendorResults::default()));
        assert!(!order.advance(&COMPLETED, VendorResults::default()));
        assert_eq!(order.status.as_deref(), Some("Completed"));
        assert_eq!(order.history.len(), 2);
    }

    #[test]
    fn a_closed_order_records_later_steps_but_never_reopens() {
        let mut order = order();
        assert!(order.advance(&SUBMITTED, VendorResults::default()));
        order.close("archived", "archived", "cancelled".into());
        assert!(order.advance(&NOMINATED, VendorResults::default()));
        assert_eq!(order.status.as_deref(), Some("Referees nominated"));
        assert_eq!(order.phase, OrderPhase::Closed);
    }

    #[test]
    fn a_cancelled_order_is_not_completed_by_a_later_richer_report() {
        const CANCELED: Status = Status {
            outcome: crate::status::Outcome::Canceled,
            ..Status::last("Canceled", 4)
        };
        let mut order = order();
        assert!(order.advance(&SUBMITTED, VendorResults::default()));
        assert!(order.advance(&CANCELED, VendorResults::default()));
        let flagged = VendorResults {
            flags: vec![Flag {
                category: "Address".into(),
                description: "History gap".into(),
            }],
            ..VendorResults::default()
        };
        assert!(!order.advance(&COMPLETED, flagged));
        assert_eq!(order.status.as_deref(), Some("Canceled"));
        assert!(order.results.flags.is_empty());
    }

    #[test]
    fn more_completed_services_at_the_same_status_is_progress() {
        let mut order = order();
        let pending = vec![service("Criminal", false), service("Employment", false)];
        assert!(order.advance(&IN_PROGRESS, results(pending.clone())));
        assert!(!order.advance(&IN_PROGRESS, results(pending)), "a repeat");
        let one_done = vec![service("Criminal", true), service("Employment", false)];
        assert!(order.advance(&IN_PROGRESS, results(one_done.clone())));
        assert_eq!(order.history.len(), 1, "the status itself did not change");
        let regress = vec![service("Criminal", false), service("Employment", false)];
        assert!(!order.advance(&IN_PROGRESS, results(regress)));
        assert_eq!(order.results.services, one_done);
    }

    #[test]
    fn a_replaceable_result_may_be_re_evaluated_but_not_repeated() {
        let sent = Status::step("Survey sent", 1);
        let pre = Status::replaceable("Pre Qualified", 2);
        let not = Status::replaceable("Not Qualified", 2);
        let mut order = order();
        assert!(order.advance(&sent, VendorResults::default()));
        assert!(order.advance(&pre, VendorResults::default()));
        assert!(order.advance(&not, VendorResults::default()));
        assert!(!order.advance(&not, VendorResults::default()), "a repeat");
        assert!(
            !order.advance(&sent, VendorResults::default()),
            "never back"
        );
        assert_eq!(order.status.as_deref(), Some("Not Qualified"));
    }

    #[test]
    fn later_results_keep_what_earlier_ones_said() {
        let mut order = order();
        let first = VendorResults {
            reference: Some("BC-1".into()),
            ..VendorResults::default()
        };
        order.advance(&SUBMITTED, first);
        let last = VendorResults {
            score: Some("Green".into()),
            ..VendorResults::default()
        };
        order.advance(&COMPLETED, last);
        assert_eq!(order.results.reference.as_deref(), Some("BC-1"));
        assert_eq!(order.results.score.as_deref(), Some("Green"));
    }
}
