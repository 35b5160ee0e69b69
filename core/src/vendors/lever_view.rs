//! What an order shows in Lever, rendered from its vendor's [`VendorDescription`] and the
//! order's stored state: one status tag, notes per status, flags, services and report, and
//! the flows' own notices. [`crate::flows::lever_sync`] writes each [`LeverWrite`] once, by
//! key, and rewrites it only when its content changes.

use super::description::{Outcome, VendorDescription};
use crate::clock::utc_date;
use crate::order::{Order, OrderPhase};
use std::fmt::Write as _;

/// One thing an order shows in Lever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeverWrite {
    /// The vendor's one status tag: its other status tags are removed, then this is added.
    Tag {
        /// The tag for the order's current status, exactly as the vendor's integration
        /// writes it.
        add: String,
        /// Every other status tag of the vendor (removing an absent tag is harmless).
        remove: Vec<String>,
    },
    /// No status tag: the order ended without a status the vendor tags (cancelled on
    /// Lever's side), so the tag it last showed is no longer true and is removed, as the
    /// vendor's integration does.
    Untag {
        /// Every status tag of the vendor (removing an absent tag is harmless).
        remove: Vec<String>,
    },
    /// A note, added or updated in place.
    Note(NoteWrite),
}

/// A note. A new `key` adds a note; the same key with new text updates that note in place
/// (Lever lets an integration update the notes it created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteWrite {
    /// Which note of the order this is: `status:{label}`, `services`, `flag:{n}`,
    /// `report`, `notice:{key}`.
    pub key: String,
    /// The note's text (the marker line is appended when it is written).
    pub text: String,
    /// Only those Lever lets see secret notes can read it.
    pub secret: bool,
    /// Lever tells the candidate's followers (`notifyFollowers`).
    pub notify_followers: bool,
}

impl LeverWrite {
    /// Tags share one key per vendor: a new status tag replaces the last one.
    pub fn key(&self) -> &str {
        match self {
            LeverWrite::Tag { .. } | LeverWrite::Untag { .. } => "tag",
            LeverWrite::Note(note) => &note.key,
        }
    }

    /// What identifies the content written: the tag or the note text.
    pub fn content(&self) -> &str {
        match self {
            LeverWrite::Tag { add, .. } => add,
            LeverWrite::Untag { .. } => "",
            LeverWrite::Note(note) => &note.text,
        }
    }
}

fn note(key: String, text: String) -> LeverWrite {
    LeverWrite::Note(NoteWrite {
        key,
        text,
        secret: false,
        notify_followers: false,
    })
}

/// Everything `order` should show in Lever now.
pub fn lever_view(vendor: &VendorDescription, order: &Order) -> Vec<LeverWrite> {
    let mut writes = Vec::new();
    let current = order.status().and_then(|word| vendor.status(word));
    // Closed at an open status: ended on Lever's side (cancelled when the candidate was
    // archived), so its in-progress tag would say what is no longer so.
    let ended_open =
        order.phase() == OrderPhase::Closed && current.is_some_and(|s| s.outcome == Outcome::Open);
    if let Some(add) = current.and_then(|status| status.tag) {
        let others = |keep: Option<&str>| -> Vec<String> {
            vendor
                .statuses
                .iter()
                .filter_map(|status| status.tag)
                .filter(|tag| Some(*tag) != keep)
                .map(str::to_owned)
                .collect()
        };
        writes.push(if ended_open {
            LeverWrite::Untag {
                remove: others(None),
            }
        } else {
            LeverWrite::Tag {
                add: add.to_owned(),
                remove: others(Some(add)),
            }
        });
    }
    status_notes(vendor, order, &mut writes);
    services_note(vendor, order, &mut writes);
    if vendor.lever.flag_notes {
        // Flags are only ever appended, so their position is a stable key.
        for (n, flag) in order.results().flags.iter().enumerate() {
            writes.push(LeverWrite::Note(NoteWrite {
                key: format!("flag:{n}"),
                // ESR's words only: no advice of the product's own.
                text: format!(
                    "⚠ FLAG — {} needs review\nFlagged: {}: {}",
                    vendor.service, flag.category, flag.description
                ),
                secret: false,
                notify_followers: true,
            }));
        }
    }
    report_note(vendor, order, current.map(|s| s.outcome), &mut writes);
    for (key, text) in order.notices() {
        writes.push(note(format!("notice:{key}"), text.clone()));
    }
    writes
}

/// The vendor's reference for the order: its own reference number if it gives one, else
/// its order id.
fn reference(order: &Order) -> Option<&str> {
    order
        .results()
        .reference
        .as_deref()
        .or(order.vendor_order_id())
}

fn status_notes(vendor: &VendorDescription, order: &Order, writes: &mut Vec<LeverWrite>) {
    let Some(display) = vendor.lever.status_notes else {
        return;
    };
    let results = &order.results();
    let mut shown: Vec<&str> = Vec::new();
    for change in order.history() {
        let Some(status) = vendor.status(&change.status) else {
            continue;
        };
        if shown.contains(&status.label) {
            continue;
        }
        shown.push(status.label);
        let date = utc_date(change.at);
        let mut text = format!("{}\nStatus: {}\n", vendor.service, status.label);
        if let Some(reference) = reference(order) {
            let _ = writeln!(text, "{}: {reference}", display.reference_label);
        }
        let _ = writeln!(text, "Date: {date}");
        match status.outcome {
            Outcome::Failed => {
                let message = results
                    .error_message
                    .as_deref()
                    .unwrap_or("no detail given");
                let _ = writeln!(text, "Error: {message}");
            }
            Outcome::Completed if display.result_fields => {
                // The score shows only once every element of the case is complete.
                if let Some(score) = &results.score {
                    let _ = writeln!(text, "Results Score: {score}");
                }
                if let Some(url) = &results.report_url {
                    let _ = writeln!(text, "Results Report: {url}");
                }
                let completed = results.completed_at.as_deref().unwrap_or(&date);
                let _ = writeln!(text, "Completed Date: {completed}");
            }
            _ => {}
        }
        writes.push(note(
            format!("status:{}", status.label),
            text.trim_end().to_owned(),
        ));
    }
}

/// Services are "in production" once the order moved past its first status (the candidate
/// consented) or completed; an order that errors or is canceled before has nothing to show.
fn services_note(vendor: &VendorDescription, order: &Order, writes: &mut Vec<LeverWrite>) {
    let Some(words) = vendor.lever.services_note else {
        return;
    };
    let first_rank = vendor.status(vendor.first_status).map_or(0, |s| s.rank);
    let in_production = order.history().iter().any(|change| {
        vendor.status(&change.status).is_some_and(|status| {
            status.outcome == Outcome::Completed
                || (status.outcome == Outcome::Open && status.rank > first_rank)
        })
    });
    let services = &order.results().services;
    if !in_production || services.is_empty() {
        return;
    }
    let overall = if services.iter().all(|s| s.complete) {
        words.done
    } else {
        words.in_progress
    };
    let mut text = format!(
        "{}: screening services\nStatus: {overall}\n",
        vendor.service
    );
    if let Some(reference) = reference(order) {
        let _ = writeln!(text, "Reference number: {reference}");
    }
    let dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    let [name, status, score, date, report] = words.fields;
    for service in services {
        let _ = write!(
            text,
            "\n{name}: {}\n{status}: {}\n{score}: {}\n{date}: {}\n{report}: {}\n",
            service.name,
            service.status,
            dash(&service.score),
            dash(&service.completed_at),
            dash(&service.report_url)
        );
    }
    writes.push(note("services".into(), text.trim_end().to_owned()));
}

fn report_note(
    vendor: &VendorDescription,
    order: &Order,
    outcome: Option<Outcome>,
    writes: &mut Vec<LeverWrite>,
) {
    let (Some(display), Some(url)) = (vendor.lever.report_note, &order.results().report_url) else {
        return;
    };
    let completed = order.phase() == OrderPhase::Closed && outcome == Some(Outcome::Completed);
    if display.when_completed && !completed {
        return;
    }
    let mut text = format!("{}: report\n", vendor.service);
    if let Some(reference) = reference(order) {
        let _ = writeln!(text, "{} order: {reference}", vendor.name);
    }
    if let Some(score) = &order.results().score {
        let _ = writeln!(text, "Result: {score}");
    }
    let _ = write!(text, "{}: {url}", display.link_label);
    writes.push(LeverWrite::Note(NoteWrite {
        key: "report".into(),
        text,
        secret: display.secret,
        notify_followers: false,
    }));
}
