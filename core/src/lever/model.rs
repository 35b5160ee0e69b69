//! The parts of Lever's API objects this product reads and writes (`docs/lever.md`). Unknown
//! fields are ignored; missing optional ones default, so a sparse object still parses.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opportunity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Stage UID.
    #[serde(default)]
    pub stage: Option<String>,
    /// Every move between stages, oldest first.
    #[serde(default)]
    pub stage_changes: Vec<StageChangeRecord>,
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

    /// Whether the opportunity entered stage `to_stage_id` within `tolerance_ms` of
    /// `at` (ms), or is in it now: what a signed stage change claims, confirmed.
    pub fn entered_stage(&self, to_stage_id: &str, at: i64, tolerance_ms: i64) -> bool {
        self.stage.as_deref() == Some(to_stage_id)
            || self.stage_changes.iter().any(|change| {
                change.to_stage_id == to_stage_id
                    && change
                        .updated_at
                        .is_some_and(|moved| (moved - at).abs() <= tolerance_ms)
            })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// One entry of an opportunity's `stageChanges`.
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageChangeRecord {
    pub to_stage_id: String,
    /// When the move happened, ms since the epoch.
    #[serde(default)]
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    #[serde(default)]
    pub posting: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Posting {
    pub id: String,
    /// The posting's title.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub categories: PostingCategories,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostingCategories {
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    /// Display name, e.g. "Reference Check".
    pub text: String,
}

/// `POST /opportunities/:id/notes` (and `PUT …/notes/:note`) body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNote {
    pub value: String,
    #[serde(default)]
    pub secret: bool,
    /// Lever tells the opportunity's followers about the note.
    #[serde(default)]
    pub notify_followers: bool,
}

/// A note as `GET /opportunities/:id/notes` lists it: the text is in the `value` of its
/// field of type `note`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Note {
    pub id: String,
    #[serde(default)]
    pub fields: Vec<NoteField>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NoteField {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

impl Note {
    /// The note's text.
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
    pub id: String,
    pub event: String,
    pub url: String,
    #[serde(default)]
    pub configuration: WebhookConfiguration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfiguration {
    #[serde(default)]
    pub signature_token: Option<secrecy::SecretString>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_change_is_confirmed_by_the_record_or_the_current_stage() {
        let opportunity: Opportunity = serde_json::from_str(
            r#"{"id":"o","stage":"offer","stageChanges":[
                {"toStageId":"screen","toStageIndex":1,"updatedAt":1000,"userId":"u"},
                {"toStageId":"refcheck","toStageIndex":2,"updatedAt":50000,"userId":"u"},
                {"toStageId":"offer","toStageIndex":3,"updatedAt":90000,"userId":"u"}]}"#,
        )
        .unwrap();
        assert!(opportunity.entered_stage("refcheck", 52_000, 5_000));
        assert!(
            !opportunity.entered_stage("refcheck", 70_000, 5_000),
            "another time"
        );
        assert!(
            opportunity.entered_stage("offer", 0, 5_000),
            "the current stage"
        );
        assert!(!opportunity.entered_stage("hired", 50_000, 5_000));
    }

    #[test]
    fn a_listed_note_reads_its_text_from_the_note_field() {
        let note: Note = serde_json::from_str(
            r#"{"id":"n1","text":"Note","fields":[{"type":"note","text":"Comment","value":"hello"}]}"#,
        )
        .unwrap();
        assert_eq!(note.text(), Some("hello"));
    }
}
