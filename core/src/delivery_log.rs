//! The delivery log: each Lever delivery and vendor callback that reached a tenant's URLs,
//! what intake made of it, and what the work it caused came to. It answers "did my webhook
//! arrive, and what did it do?" on the console's Deliveries page and in `admin deliveries`,
//! and keeps the verified work so a delivery can be replayed. Entries are kept for
//! [`Settings::delivery_log_retention`](crate::config::Settings::delivery_log_retention)
//! (DynamoDB TTL). No candidate data beyond Lever's ids and the name Lever shows.

use crate::clock::EpochMillis;
use crate::ids::{DeliveryId, OpportunityId, OrderId, VendorId};
use crate::work::Work;
use serde::{Deserialize, Serialize};

/// Where a delivery came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A Lever webhook, by its event name (`candidateStageChange`).
    Lever(String),
    /// A vendor's status callback.
    Vendor(VendorId),
}

impl Source {
    /// `lever` or the vendor's id: what the log is filtered by.
    pub fn sender(&self) -> &str {
        match self {
            Source::Lever(_) => "lever",
            Source::Vendor(vendor) => vendor.as_str(),
        }
    }
}

/// What intake made of a delivery (the answer its sender got).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Received {
    /// Verified and its work queued.
    Queued,
    /// Lever's "Verify connection" test.
    Test,
    /// Verified; it concerns no integration (a stage that triggers nothing).
    Ignored,
    /// Verified; every integration it concerns is disabled (Lever access revoked).
    Disabled,
    /// The same delivery was received before.
    Duplicate,
    /// A vendor's status moved an order forward.
    Applied,
    /// A vendor's status the order already had (or an older one).
    Unchanged,
    /// Refused: signature, age, event, body, an order the tenant does not have.
    Rejected,
    /// Not stored because something on our side failed; the sender retries it.
    Failed,
}

impl Received {
    /// Every outcome, for filters.
    pub const ALL: [Received; 9] = [
        Received::Queued,
        Received::Test,
        Received::Ignored,
        Received::Disabled,
        Received::Duplicate,
        Received::Applied,
        Received::Unchanged,
        Received::Rejected,
        Received::Failed,
    ];

    /// The snake_case word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Received::Queued => "queued",
            Received::Test => "test",
            Received::Ignored => "ignored",
            Received::Disabled => "disabled",
            Received::Duplicate => "duplicate",
            Received::Applied => "applied",
            Received::Unchanged => "unchanged",
            Received::Rejected => "rejected",
            Received::Failed => "failed",
        }
    }

    /// The outcome named `word`, if any.
    pub fn parse(word: &str) -> Option<Received> {
        Received::ALL.into_iter().find(|r| r.as_str() == word)
    }
}

/// One delivery as intake recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedDelivery {
    /// Sorts in arrival order; carries the arrival time.
    pub id: DeliveryId,
    /// Lever (which webhook) or a vendor.
    pub source: Source,
    /// What intake made of it.
    pub received: Received,
    /// Why it was ignored, disabled, rejected or failed, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The Lever opportunity it is about, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opportunity: Option<OpportunityId>,
    /// The orders it concerns, once known (a callback's order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderId>,
    /// The verified work it queued: what a replay queues again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<Work>,
}

impl LoggedDelivery {
    /// A delivery from `source` that arrived at `id`'s time, not yet judged (`Failed`
    /// until intake says otherwise).
    pub fn new(id: DeliveryId, source: Source) -> Self {
        LoggedDelivery {
            id,
            source,
            received: Received::Failed,
            why: None,
            opportunity: None,
            orders: Vec::new(),
            work: None,
        }
    }

    /// When it arrived, ms since the epoch.
    pub fn received_at(&self) -> EpochMillis {
        self.id.received_at()
    }
}

/// What the queued work of a delivery came to (the latest word).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkEnd {
    /// When this was recorded, ms since the epoch.
    pub at: EpochMillis,
    /// Done, still being retried, dead-lettered, or queued again by a replay.
    pub state: WorkState,
    /// What it did, per integration (empty when it had nothing to do).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

impl WorkEnd {
    /// The work's end as it stands now.
    pub fn now(state: WorkState, effects: Vec<Effect>) -> Self {
        WorkEnd {
            at: crate::clock::now_millis(),
            state,
            effects,
        }
    }
}

/// Where a delivery's work stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WorkState {
    /// Done.
    Done,
    /// Failed; tried again later.
    Retrying {
        /// Attempts so far.
        attempts: u32,
        /// The last error (no secrets, no candidate data).
        error: String,
    },
    /// Failed for good: in the dead-letter queue.
    DeadLettered {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// Dropped: the integration's Lever access is revoked.
    Dropped,
    /// Queued again by a replay; the worker's word follows.
    Replayed,
}

impl WorkState {
    /// A word for listings: `done`, `retrying`, `failed`, `dropped`, `replayed`.
    pub fn word(&self) -> &'static str {
        match self {
            WorkState::Done => "done",
            WorkState::Retrying { .. } => "retrying",
            WorkState::DeadLettered { .. } => "failed",
            WorkState::Dropped => "dropped",
            WorkState::Replayed => "replayed",
        }
    }

    /// Where it stands, in a sentence.
    pub fn sentence(&self) -> String {
        match self {
            WorkState::Done => "done".into(),
            WorkState::Retrying { attempts, error } => {
                format!("failed (attempt {attempts}), trying again later: {error}")
            }
            WorkState::DeadLettered { attempts, error } => {
                format!("failed for good after {attempts} attempt(s): {error}")
            }
            WorkState::Dropped => "dropped: the integration's Lever access is revoked".into(),
            WorkState::Replayed => "replayed: waiting for the worker".into(),
        }
    }

    /// Whether a person should replay it: it failed for good, or was dropped.
    pub fn failed(&self) -> bool {
        matches!(self, WorkState::DeadLettered { .. } | WorkState::Dropped)
    }
}

/// What a delivery's work did for one integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    /// The integration.
    pub vendor: VendorId,
    /// What it came to.
    pub result: EffectResult,
    /// The order concerned, if one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
    /// The candidate's name as Lever showed it when ordering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// Why, when it was not ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Effect {
    /// Not ordered from `vendor`: Lever's API does not confirm the delivery (`why`).
    pub fn unconfirmed(vendor: VendorId, why: &str) -> Effect {
        Effect {
            vendor,
            result: EffectResult::NotConfirmed,
            order: None,
            candidate: None,
            why: Some(why.to_owned()),
        }
    }

    /// Not ordered from `vendor`: its integration's Lever access is revoked.
    pub fn disabled(vendor: VendorId) -> Effect {
        Effect {
            vendor,
            result: EffectResult::Disabled,
            order: None,
            candidate: None,
            why: None,
        }
    }
}

/// What a delivery's work came to for one integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectResult {
    /// Ordered (now, or by an earlier attempt of the same delivery).
    Ordered,
    /// Not ordered: an order for this candidate and vendor was already open.
    AlreadyOpen,
    /// Not ordered: the candidate lacks data, or the vendor refused the order.
    NotOrdered,
    /// Held: the vendor refused the tenant's account (needs attention).
    Held,
    /// Not ordered: Lever's API does not confirm what the delivery said.
    NotConfirmed,
    /// Not ordered: the integration's Lever access is revoked.
    Disabled,
}

impl EffectResult {
    /// In the admin's words.
    pub fn words(self) -> &'static str {
        match self {
            EffectResult::Ordered => "ordered",
            EffectResult::AlreadyOpen => "not ordered: an order was already open",
            EffectResult::NotOrdered => "not ordered",
            EffectResult::Held => "held: needs attention",
            EffectResult::NotConfirmed => "not ordered: Lever does not confirm it",
            EffectResult::Disabled => "not ordered: Lever access revoked",
        }
    }
}

/// A delivery with what its work came to so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The delivery as intake recorded it.
    pub delivery: LoggedDelivery,
    /// What its work came to; `None` while queued (or when it queued nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<WorkEnd>,
}

impl LogEntry {
    /// What its work came to, in sentences, integrations named by `name`: what the console
    /// and the command show.
    pub fn work_words(&self, name: impl Fn(VendorId) -> String) -> String {
        if self.delivery.work.is_none() {
            return "-".into();
        }
        let Some(end) = &self.end else {
            return "queued: waiting for the worker".into();
        };
        let effects = end.effects.iter().map(|effect| {
            let mut words = format!("{}: {}", name(effect.vendor), effect.result.words());
            if let Some(why) = &effect.why {
                words.push_str(&format!(" ({why})"));
            }
            words
        });
        match (&end.state, end.effects.is_empty()) {
            (WorkState::Done, true) => "done".into(),
            (WorkState::Done, false) => effects.collect::<Vec<_>>().join("; "),
            (state, _) => state.sentence(),
        }
    }

    /// Whether it can be replayed: it holds verified work.
    pub fn replayable(&self) -> bool {
        self.delivery.work.is_some()
    }

    /// Whether `query` names this entry's candidate: Lever's opportunity id, or part of the
    /// name Lever showed (any case).
    pub fn about_candidate(&self, query: &str) -> bool {
        let query = query.trim();
        if query.is_empty() {
            return true;
        }
        let lower = query.to_lowercase();
        self.delivery
            .opportunity
            .as_ref()
            .is_some_and(|o| o.as_str() == query)
            || self.end.iter().flat_map(|e| &e.effects).any(|effect| {
                effect
                    .candidate
                    .as_ref()
                    .is_some_and(|name| name.to_lowercase().contains(&lower))
            })
    }
}

/// Which entries a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this outcome (`rejected`), or work in this state (`failed`).
    pub outcome: Option<String>,
    /// Only deliveries from `lever` or this vendor.
    pub sender: Option<String>,
    /// Only this candidate (opportunity id or part of the name).
    pub candidate: Option<String>,
}

impl LogFilter {
    /// Whether `entry` passes.
    pub fn admits(&self, entry: &LogEntry) -> bool {
        let outcome = self.outcome.as_deref().is_none_or(|word| {
            entry.delivery.received.as_str() == word
                || entry
                    .end
                    .as_ref()
                    .is_some_and(|end| end.state.word() == word)
        });
        let sender = self
            .sender
            .as_deref()
            .is_none_or(|sender| entry.delivery.source.sender() == sender);
        let candidate = self
            .candidate
            .as_deref()
            .is_none_or(|query| entry.about_candidate(query));
        outcome && sender && candidate
    }

    /// Whether it lets everything through.
    pub fn is_empty(&self) -> bool {
        *self == LogFilter::default()
    }
}
