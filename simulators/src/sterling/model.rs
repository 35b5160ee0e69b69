//! What Sterling keeps, and how its API renders it: packages, candidates and screenings as
//! Sterling API v2 documents them, the screening also carrying this product's Backcheck
//! fields (docs/vendor-apis.md, "Sterling Backcheck"), its words in either [`Vocabulary`].

use serde::Serialize;
use serde_json::{json, Value};

// The seed's Backcheck words, which the simulator keeps.
pub(super) const INITIATED: &str = "Initiated";
const IN_PROGRESS: &str = "In Progress";
pub(super) const COMPLETED: &str = "Completed";
const CANCELED: &str = "Canceled";
pub(super) const ERROR: &str = "Error";
pub(super) const IN_PRODUCTION: &str = "In Production";
pub(super) const FULFILLED: &str = "Fulfilled";
pub(super) const NOT_STARTED: &str = "Not Started";
pub(super) const COMPLETE: &str = "Complete";

/// The words a screening's statuses and results are rendered in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Vocabulary {
    /// The seed's Backcheck words: `status` Initiated / In Progress / Completed / Canceled /
    /// Error, `score` and `result` Green / Amber / Red, `overallServiceStatus` In Production
    /// / Fulfilled, report items Not Started / Complete.
    #[default]
    Backcheck,
    /// Sterling API v2's words for the same states: `status` new / pending / complete /
    /// canceled / expired, `result` n/a until scored, then Clear / Consider / Adverse;
    /// report items pending / complete with results clear / consider / adverse. The
    /// Backcheck-only words (`score`, `overallServiceStatus`, items' `score`) are null.
    V2,
}

impl Vocabulary {
    /// The order `status`; a word the simulator does not know passes through as set.
    fn status(self, word: &str) -> &str {
        match (self, word) {
            (Vocabulary::Backcheck, _) => word,
            (Vocabulary::V2, INITIATED) => "new",
            (Vocabulary::V2, IN_PROGRESS) => "pending",
            (Vocabulary::V2, COMPLETED) => "complete",
            (Vocabulary::V2, CANCELED) => "canceled",
            (Vocabulary::V2, ERROR) => "expired",
            (Vocabulary::V2, _) => word,
        }
    }

    /// A result from a Backcheck score.
    fn result(self, score: &str) -> String {
        match (self, score) {
            (Vocabulary::Backcheck, _) => score,
            (Vocabulary::V2, "Green") => "Clear",
            (Vocabulary::V2, "Amber") => "Consider",
            (Vocabulary::V2, "Red") => "Adverse",
            (Vocabulary::V2, _) => score,
        }
        .to_owned()
    }

    fn item_status(self, word: &str) -> &str {
        match (self, word) {
            (Vocabulary::V2, NOT_STARTED) => "pending",
            (Vocabulary::V2, COMPLETE) => "complete",
            _ => word,
        }
    }

    /// A Backcheck-only word: itself, or null in v2.
    fn backcheck_only<T: Serialize>(self, value: T) -> Value {
        match self {
            Vocabulary::Backcheck => json!(value),
            Vocabulary::V2 => Value::Null,
        }
    }
}

/// A package as `GET /v2/packages` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SterlingPackage {
    pub id: String,
    pub title: String,
    pub active: bool,
    /// Service names, which become the screening's report item types.
    pub components: Vec<String>,
    /// Candidate fields a screening for this package needs besides the required ones.
    pub required_fields: Vec<String>,
}

/// A candidate as `POST /v2/candidates` and `GET /v2/candidates/{id}` answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SterlingCandidate {
    /// A UUID, Sterling's to assign.
    pub id: String,
    pub client_reference_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The candidate's screenings, oldest first.
    pub screening_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteMethod {
    /// Sterling emails the candidate the portal link (recorded in
    /// [`SterlingSim::emails`](super::SterlingSim::emails)).
    Email,
    /// The client passes the link on itself.
    Link,
}

impl InviteMethod {
    pub(super) fn parse(word: &str) -> Option<Self> {
        match word {
            "email" => Some(InviteMethod::Email),
            "link" => Some(InviteMethod::Link),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SterlingInvite {
    pub method: InviteMethod,
    /// The candidate portal URL; Sterling's to assign.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SterlingReportItem {
    pub id: String,
    /// The service name (Lever's "ScreeningName").
    pub service_type: String,
    /// "Not Started" or "Complete".
    pub status: String,
    /// Green / Amber / Red once complete.
    pub score: Option<String>,
    /// `YYYY-MM-DD`.
    pub completed_at: Option<String>,
    pub report_url: Option<String>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub updated_at: String,
}

impl SterlingReportItem {
    pub(super) fn complete(&mut self, score: &str, report_url: &str, now: &str) {
        self.status = COMPLETE.to_owned();
        self.score = Some(score.to_owned());
        self.completed_at = Some(now[..10].to_owned());
        self.report_url = Some(report_url.to_owned());
        self.updated_at = now.to_owned();
    }

    fn to_json_in(&self, vocabulary: Vocabulary) -> Value {
        let result = match (vocabulary, &self.score) {
            (_, None) => None,
            (Vocabulary::Backcheck, Some(score)) => Some(score.clone()),
            (Vocabulary::V2, Some(score)) => Some(vocabulary.result(score).to_lowercase()),
        };
        json!({
            "id": self.id,
            "type": self.service_type,
            "status": vocabulary.item_status(&self.status),
            "result": result,
            "updatedAt": self.updated_at,
            "score": vocabulary.backcheck_only(&self.score),
            "completedAt": self.completed_at,
            "reportUrl": self.report_url,
        })
    }
}

/// A screening, which `POST /v2/screenings`, `GET /v2/screenings/{id}` and callbacks carry
/// as [`SterlingScreening::to_json_in`] renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SterlingScreening {
    /// A numeric string, increasing: "1806030372".
    pub id: String,
    pub package_id: String,
    pub candidate_id: String,
    /// A Backcheck word (Initiated / In Progress / Canceled / Error / Completed), or
    /// whatever a test sets.
    pub status: String,
    /// Green / Amber / Red once completed.
    pub score: Option<String>,
    /// In Production until every report item is Complete, then Fulfilled.
    pub overall_service_status: String,
    pub report_url: Option<String>,
    /// `YYYY-MM-DD`.
    pub completed_at: Option<String>,
    pub error_message: Option<String>,
    pub report_items: Vec<SterlingReportItem>,
    pub invite: SterlingInvite,
    /// `links.admin.web`.
    pub admin_url: String,
    /// Where callbacks go; not part of the screening object.
    pub callback_uri: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub submitted_at: String,
    pub updated_at: String,
}

impl SterlingScreening {
    /// The screening object in the Backcheck vocabulary, the simulator's default.
    pub fn to_json(&self) -> Value {
        self.to_json_in(Vocabulary::Backcheck)
    }

    /// The screening object: v2's fields and this product's Backcheck fields.
    pub fn to_json_in(&self, vocabulary: Vocabulary) -> Value {
        let result = match (&self.score, vocabulary) {
            (Some(score), _) => json!(vocabulary.result(score)),
            (None, Vocabulary::Backcheck) => Value::Null,
            (None, Vocabulary::V2) => json!("n/a"),
        };
        let report_items: Vec<Value> = self
            .report_items
            .iter()
            .map(|item| item.to_json_in(vocabulary))
            .collect();
        json!({
            "id": self.id,
            "packageId": self.package_id,
            "candidateId": self.candidate_id,
            "status": vocabulary.status(&self.status),
            "result": result,
            "score": vocabulary.backcheck_only(&self.score),
            "overallServiceStatus": vocabulary.backcheck_only(&self.overall_service_status),
            "reportUrl": self.report_url,
            "completedAt": self.completed_at,
            "errorMessage": self.error_message,
            "invite": self.invite,
            "links": { "admin": { "web": self.admin_url } },
            "reportItems": report_items,
            "submittedAt": self.submitted_at,
            "updatedAt": self.updated_at,
        })
    }
}

/// An invitation Sterling would have emailed; nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub to: String,
    pub portal_url: String,
}

/// One callback as posted, and what the receiver answered. Unsigned, as Sterling's are.
#[derive(Debug, Clone)]
pub struct SterlingCallback {
    pub status: u16,
    /// The raw body, `{"type":"screening","payload":...}`.
    pub body: String,
    pub response: String,
    /// Where it was posted, so [`SterlingSim::resend`](super::SterlingSim::resend) can
    /// post it again.
    pub url: String,
}
