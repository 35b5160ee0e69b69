//! Reading the witnesses: the vendors' orders and what Lever shows, per candidate.

use super::world::email;
use crate::stack::Stack;
use lever_screening_simulators::SimNote;
use std::collections::HashSet;

/// The first line of each Sterling status note.
pub const STERLING_SERVICE: &str = "Sterling Backcheck background check";
/// Every Xref status tag starts so.
pub const XREF_TAG_PREFIX: &str = "Xref - ";

/// The vendor orders placed for one candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orders {
    /// Xref reference check ids.
    pub xref: Vec<String>,
    /// Sterling screening ids.
    pub sterling: Vec<String>,
    /// Orders at the other vendors (Justifacts, HRLogics, ESR).
    pub others: usize,
}

impl Orders {
    pub fn total(&self) -> usize {
        self.xref.len() + self.sterling.len() + self.others
    }
}

/// What every vendor simulator holds, readable per candidate.
pub struct VendorOrders {
    xref: Vec<(String, String)>,
    /// (email, screening ids) per Sterling candidate.
    sterling: Vec<(String, Vec<String>)>,
    others: Vec<String>,
}

impl VendorOrders {
    pub fn read(stack: &Stack) -> Self {
        let xref = stack
            .xref
            .orders()
            .into_iter()
            .map(|order| (order.candidate.email.to_ascii_lowercase(), order.id))
            .collect();
        let sterling = stack
            .sterling
            .candidates()
            .into_iter()
            .map(|candidate| {
                (
                    candidate.email.to_ascii_lowercase(),
                    candidate.screening_ids,
                )
            })
            .collect();
        let others = stack
            .justifacts
            .invitations()
            .iter()
            .map(|i| format!("{i:?}"))
            .chain(stack.hrlogics.applicants().iter().map(|a| format!("{a:?}")))
            .chain(stack.esr.orders().iter().map(|o| format!("{o:?}")))
            .collect();
        VendorOrders {
            xref,
            sterling,
            others,
        }
    }

    /// Every order at every vendor.
    pub fn total(&self) -> usize {
        self.xref.len()
            + self
                .sterling
                .iter()
                .map(|(_, screenings)| screenings.len())
                .sum::<usize>()
            + self.others.len()
    }

    /// The orders for `candidate` (by its email address).
    pub fn of(&self, candidate: &str) -> Orders {
        let address = email(candidate).to_ascii_lowercase();
        Orders {
            xref: self
                .xref
                .iter()
                .filter(|(e, _)| *e == address)
                .map(|(_, id)| id.clone())
                .collect(),
            sterling: self
                .sterling
                .iter()
                .filter(|(e, _)| *e == address)
                .flat_map(|(_, ids)| ids.clone())
                .collect(),
            others: self.others.iter().filter(|o| o.contains(&address)).count(),
        }
    }
}

/// What a note's `Status:` line says.
pub fn status_line(note: &str) -> Option<&str> {
    note.lines().find_map(|line| line.strip_prefix("Status: "))
}

/// Whether `note` is a Sterling status note (not the services note).
pub fn is_sterling_status_note(note: &str) -> bool {
    note.lines().next() == Some(STERLING_SERVICE)
}

/// The notes that repeat an earlier one on the same opportunity: the same creation time
/// (the product gives each of its notes its own, so one write made twice), or for status
/// notes the same status (one status shown twice).
pub fn duplicate_notes(notes: &[SimNote]) -> Vec<String> {
    let mut times = HashSet::new();
    let mut statuses = HashSet::new();
    let mut duplicates = Vec::new();
    for note in notes {
        let by_time = !times.insert(note.created_at);
        let by_status = is_sterling_status_note(&note.value)
            && status_line(&note.value).is_some_and(|s| !statuses.insert(s.to_owned()));
        if by_time || by_status {
            duplicates.push(note.value.lines().take(2).collect::<Vec<_>>().join(" / "));
        }
    }
    duplicates
}

/// The Xref status tags among `tags`.
pub fn xref_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter(|tag| tag.starts_with(XREF_TAG_PREFIX))
        .cloned()
        .collect()
}

/// The Sterling status notes' statuses, oldest first.
pub fn sterling_statuses(notes: &[SimNote]) -> Vec<String> {
    notes
        .iter()
        .filter(|note| is_sterling_status_note(&note.value))
        .filter_map(|note| status_line(&note.value).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(value: &str, created_at: i64) -> SimNote {
        SimNote {
            id: "n".into(),
            value: value.into(),
            secret: false,
            score: None,
            notify_followers: false,
            user: "u".into(),
            created_at,
            updated_at: None,
        }
    }

    #[test]
    fn a_note_written_twice_or_a_status_shown_twice_is_a_duplicate() {
        let new = format!("{STERLING_SERVICE}\nStatus: New\nDate: x");
        let new_again = format!("{STERLING_SERVICE}\nStatus: New\nDate: y");
        let progress = format!("{STERLING_SERVICE}\nStatus: In Progress");
        let notes = [
            note(&new, 1_001),
            note(&progress, 1_002),
            note(&new, 1_001),
            note(&new_again, 5_003),
            note("a recruiter's own note", 7_000),
        ];
        assert_eq!(duplicate_notes(&notes).len(), 2);
        assert_eq!(
            sterling_statuses(&notes),
            ["New", "In Progress", "New", "New"]
        );
        assert!(duplicate_notes(&notes[..2]).is_empty());
    }
}
