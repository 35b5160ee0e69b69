//! The status model every vendor's statuses are made of (vendor-neutral): a word, how Lever
//! shows it, its rank (orders only move forward) and whether it ends the order. Each
//! vendor's description lists its own; an [`crate::order::Order`] advances through them.

/// How an order in a status ended, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order goes on.
    Open,
    /// Done, with results (a score, a report): completion rules and result notes apply.
    Completed,
    /// Cancelled, at the vendor or by us when the candidate was archived.
    Canceled,
    /// Errored or expired: the vendor's error text is shown.
    Failed,
}

/// One status of a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The vendor's word, as the wire adapter reports it.
    pub word: &'static str,
    /// What Lever shows for it (the same word, unless the vendor's integration maps it).
    pub label: &'static str,
    /// Orders never move to a lower rank.
    pub rank: u32,
    /// Whether the status ends the order, and how.
    pub outcome: Outcome,
    /// Another status of the same rank replaces this one (a result the vendor may
    /// re-evaluate, like WOTC eligibility) instead of being refused as a repeat.
    pub replaceable: bool,
    /// The exact tag text, for vendors that show status as one tag at a time; `None` shows
    /// no tag for this status.
    pub tag: Option<&'static str>,
}

impl Status {
    /// A status the order moves on from, shown as its own word.
    pub const fn step(word: &'static str, rank: u32) -> Self {
        Status {
            word,
            label: word,
            rank,
            outcome: Outcome::Open,
            replaceable: false,
            tag: None,
        }
    }

    /// A completing status.
    pub const fn last(word: &'static str, rank: u32) -> Self {
        Status {
            outcome: Outcome::Completed,
            ..Status::step(word, rank)
        }
    }

    /// A result of rank `rank` that a later, different result may replace.
    pub const fn replaceable(word: &'static str, rank: u32) -> Self {
        Status {
            replaceable: true,
            ..Status::step(word, rank)
        }
    }

    /// The same status, ending the order with `outcome`.
    pub const fn ending(self, outcome: Outcome) -> Self {
        Status { outcome, ..self }
    }

    /// The same status, shown in Lever as `label`.
    pub const fn shown_as(self, label: &'static str) -> Self {
        Status { label, ..self }
    }

    /// The same status, shown as the tag `tag` (replacing the vendor's other status tags).
    pub const fn tagged(self, tag: &'static str) -> Self {
        Status {
            tag: Some(tag),
            ..self
        }
    }

    /// The order is closed once it reaches this status (any outcome but `Open`).
    pub fn terminal(&self) -> bool {
        self.outcome != Outcome::Open
    }
}
