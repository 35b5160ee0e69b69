//! The parts of Lever's API objects this product reads and writes, as Lever's developer
//! documentation describes them (Opportunities, Postings, Stages, Notes, Webhooks). Unknown
//! fields are ignored; missing optional ones default, so a sparse object still parses. Times
//! are ms since the epoch, as everywhere in Lever's API.

use serde::{Deserialize, Serialize};

/// A candidate's opportunity (`GET /opportunities/:id`): contact data, tags, stage and
/// archive state. Its contact data is passed on to vendors, never stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    /// Lever's opportunity id (a UUID).
    pub id: String,
    /// The candidate's full name; Lever has a single name field.
    #[serde(default)]
    pub name: Option<String>,
    /// Email addresses, as entered; the first non-blank one is used.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers, as entered.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Tags on the opportunity (case-sensitive strings).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The id of the stage it is in now.
    #[serde(default)]
    pub stage: Option<String>,
    /// Every move between stages, oldest first.
    #[serde(default)]
    pub stage_changes: Vec<StageChangeRecord>,
    /// The candidate's location, free text (used when the posting has none).
    #[serde(default)]
    pub location: Option<String>,
    /// Set while the candidate is archived: `{ "archivedAt": ms, "reason": id }`.
    #[serde(default)]
    pub archived: Option<Archived>,
    /// With `expand=applications`: the application objects (at most one), which name the
    /// posting.
    #[serde(default)]
    pub applications: Vec<Application>,
}

impl Opportunity {
    /// The posting the candidate applied to or was sourced for, if any.
    pub fn posting_id(&self) -> Option<&str> {
        self.applications
            .iter()
            .find_map(|application| application.posting.as_deref())
    }

    /// The first email address that is not blank, trimmed.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.iter().map(|e| e.trim()).find(|e| !e.is_empty())
    }

    /// Phone numbers as the recruiter typed them, first first.
    pub fn phones(&self) -> impl Iterator<Item = &str> {
        self.phones
            .iter()
            .filter_map(|p| p.value.as_deref())
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// When the opportunity entered stage `to_stage_id`, if Lever confirms a signed stage
    /// change stamped `at` (ms): it is in that stage now, and the move that put it there,
    /// its latest `stageChanges` entry, is into that stage within `tolerance_ms` of `at`.
    /// Being in the stage alone confirms nothing: the entry found names the order.
    pub fn stage_entry(&self, to_stage_id: &str, at: i64, tolerance_ms: i64) -> Option<i64> {
        if self.stage.as_deref() != Some(to_stage_id) {
            return None;
        }
        let latest = self
            .stage_changes
            .iter()
            .filter(|change| change.updated_at.is_some())
            .max_by_key(|change| change.updated_at)?;
        let entered_at = latest.updated_at?;
        (latest.to_stage_id == to_stage_id && (entered_at - at).abs() <= tolerance_ms)
            .then_some(entered_at)
    }

    /// Whether Lever confirms a signed archive stamped `at` (ms): the opportunity is
    /// archived now, and was archived within `tolerance_ms` of `at` (an archive delivered
    /// after an unarchive, or after a later archive, is not this one).
    pub fn archived_about(&self, at: i64, tolerance_ms: i64) -> bool {
        self.archived
            .as_ref()
            .and_then(|archived| archived.archived_at)
            .is_some_and(|archived_at| (archived_at - at).abs() <= tolerance_ms)
    }
}

/// Which opportunities `GET /opportunities` lists (its query parameters, as Lever
/// documents them; times in ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpportunityFilter {
    /// In stage `stage_id` now and updated since `since` (a move updates the opportunity).
    InStageUpdatedSince {
        /// The stage (`stage_id`).
        stage_id: String,
        /// `updated_at_start`.
        since: i64,
    },
    /// Archived since `since` (`archived_at_start`).
    ArchivedSince(i64),
}

impl OpportunityFilter {
    /// The query parameters.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        match self {
            OpportunityFilter::InStageUpdatedSince { stage_id, since } => vec![
                ("stage_id", stage_id.clone()),
                ("updated_at_start", since.to_string()),
            ],
            OpportunityFilter::ArchivedSince(since) => {
                vec![("archived_at_start", since.to_string())]
            }
        }
    }
}

/// One of an opportunity's `phones`: `{ "type": "mobile", "value": "…" }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    /// Lever's `type` (e.g. `mobile`); not used.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The number as typed, in any format.
    #[serde(default)]
    pub value: Option<String>,
}

/// Why and when an opportunity was archived.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Archived {
    /// ms since the epoch.
    #[serde(default)]
    pub archived_at: Option<i64>,
    /// An archive reason id (`GET /archive_reasons`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// One entry of an opportunity's `stageChanges`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageChangeRecord {
    /// The stage moved into.
    pub to_stage_id: String,
    /// When the move happened, ms since the epoch.
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// An opportunity's application, as `expand=applications` returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// Lever's application id (what Application Created names).
    pub id: String,
    /// The posting's id; `None` for a candidate not attached to a job.
    #[serde(default)]
    pub posting: Option<String>,
}

/// A job posting (`GET /postings/:id`): the role, location and package tags an order uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    /// Lever's posting id.
    pub id: String,
    /// The posting's title.
    #[serde(default)]
    pub text: Option<String>,
    /// The posting's tags; package tags may be put here for every candidate of the job.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The posting's categories (location, team).
    #[serde(default)]
    pub categories: PostingCategories,
}

/// A posting's `categories`, free text as the account defines them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingCategories {
    /// Where the job is.
    #[serde(default)]
    pub location: Option<String>,
    /// The team it belongs to; not used.
    #[serde(default)]
    pub team: Option<String>,
}

/// A pipeline stage (`GET /stages`, which lists them in pipeline order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Lever's stage id.
    pub id: String,
    /// Display name, e.g. "Reference Check".
    pub text: String,
}

/// `POST /opportunities/:id/notes` (and `PUT …/notes/:note`) body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNote {
    /// The note's text (plain text, newlines kept).
    pub value: String,
    /// Only users allowed to see secret notes can read it.
    #[serde(default)]
    pub secret: bool,
    /// Lever tells the opportunity's followers about the note.
    #[serde(default)]
    pub notify_followers: bool,
    /// The note's creation time (ms), on create only: Lever accepts any time not in the
    /// future. A time chosen before the POST lets the note be recognised if its answer is
    /// lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

/// A note as `GET /opportunities/:id/notes` lists it: the text is in the `value` of its
/// field of type `note`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Note {
    /// Lever's note id (what `PUT …/notes/:note` takes).
    pub id: String,
    /// When the note was created (ms): the `createdAt` it was posted with, if any.
    #[serde(default, rename = "createdAt")]
    pub created_at: Option<i64>,
    /// The note's fields; see [`Note::text`].
    #[serde(default)]
    pub fields: Vec<NoteField>,
}

/// One field of a listed note.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteField {
    /// Lever's `type`; the note's text is in the field of type `note`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The field's value, of a shape that depends on the type (a string for `note`).
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

impl Note {
    /// The note's text: the string `value` of its `note` field (the top-level `text` Lever
    /// also sends is only a label).
    pub fn text(&self) -> Option<&str> {
        self.fields
            .iter()
            .filter(|f| f.kind.as_deref() == Some("note"))
            .find_map(|f| f.value.as_ref().and_then(|v| v.as_str()))
    }
}

/// A webhook of Lever's Webhooks Subscription API. Its signature token comes back on create.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    /// Lever's webhook id (what `DELETE /webhooks/:id` takes).
    pub id: String,
    /// Lever's event name: `candidateStageChange`, `applicationCreated`, ….
    pub event: String,
    /// Where Lever posts the deliveries.
    pub url: String,
    /// Holds the signature token, when Lever returns it.
    #[serde(default)]
    pub configuration: WebhookConfiguration,
}

/// A webhook's `configuration`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfiguration {
    /// The key Lever signs this webhook's deliveries with (`signatureToken`).
    #[serde(default)]
    pub signature_token: Option<secrecy::SecretString>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_change_is_confirmed_by_the_entry_that_put_the_candidate_in_the_stage() {
        let opportunity: Opportunity = serde_json::from_str(
            r#"{"id":"o","stage":"refcheck","stageChanges":[
                {"toStageId":"screen","toStageIndex":1,"updatedAt":1000,"userId":"u"},
                {"toStageId":"refcheck","toStageIndex":2,"updatedAt":50000,"userId":"u"}]}"#,
        )
        .unwrap();
        assert_eq!(
            opportunity.stage_entry("refcheck", 52_000, 5_000),
            Some(50_000)
        );
        assert_eq!(
            opportunity.stage_entry("refcheck", 70_000, 5_000),
            None,
            "in the stage now, but not because of a move at that time"
        );
        assert_eq!(
            opportunity.stage_entry("screen", 1_000, 5_000),
            None,
            "moved on since"
        );
        let moved_on = Opportunity {
            stage: Some("offer".into()),
            ..opportunity
        };
        assert_eq!(moved_on.stage_entry("refcheck", 50_000, 5_000), None);
    }

    #[test]
    fn an_archive_is_confirmed_by_archived_at_while_archived() {
        let archived: Opportunity =
            serde_json::from_str(r#"{"id":"o","archived":{"archivedAt":50000,"reason":"r"}}"#)
                .unwrap();
        assert!(archived.archived_about(52_000, 5_000));
        assert!(!archived.archived_about(70_000, 5_000), "another archive");
        let active: Opportunity = serde_json::from_str(r#"{"id":"o","archived":null}"#).unwrap();
        assert!(!active.archived_about(50_000, 5_000), "restored since");
    }

    #[test]
    fn a_listed_note_reads_its_text_from_the_note_field() {
        let note: Note = serde_json::from_str(
            r#"{"id":"n1","text":"Note","fields":[{"type":"note","text":"Comment","value":"hello"}],"createdAt":1700000000123}"#,
        )
        .unwrap();
        assert_eq!(note.text(), Some("hello"));
        assert_eq!(note.created_at, Some(1_700_000_000_123));
    }
}
