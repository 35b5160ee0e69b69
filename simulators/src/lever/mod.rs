//! Lever simulator: the slice of Lever's API this product calls (docs/lever.md) under
//! `/v1`, the Webhooks Subscription API, webhook deliveries signed the way Lever signs
//! them, and Lever's OAuth authorization server for partner apps under `/oauth`.
//!
//! - `api`: the REST handlers (opportunities, tags, notes, stages, postings).
//! - `webhooks`: the Webhooks Subscription API and the outgoing signed deliveries.
//! - `oauth`: the authorization server.
//! - `drive`: a recruiter's clicks (create, move, archive, delete, tag) and their webhooks.
//! - `gate`: what every `/v1` request passes first: credentials, the rate limit and the
//!   injected faults.

mod api;
mod drive;
mod gate;
mod oauth;
mod webhooks;

pub use drive::{Delivery, DriveError, Driven, NewCandidate};
pub use webhooks::sign;

use crate::{json_error, lock, now_millis, ApiError, EpochMillis};
use axum::extract::OriginalUri;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use gate::Gate;
use oauth::OAuthState;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// The user a change is attributed to when no `perform_as` names one: the admin clicking
/// in Lever's UI.
pub const SIM_USER_ID: &str = "lever-sim-admin";

/// The archive reason [`LeverSim::archive`] records.
pub const ARCHIVE_REASON_ID: &str = "lever-sim-archive-reason";

/// A job posting, served by `GET /v1/postings/:id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimPosting {
    pub id: String,
    /// The posting's title.
    pub text: String,
    pub tags: Vec<String>,
    pub location: Option<String>,
}

/// An opportunity as seeded; its stage history and archive state are kept beside it
/// ([`LeverSim::stage_changes`], [`LeverSim::archived`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOpportunity {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    /// Phone numbers; served as `{"type":"mobile","value":...}`.
    pub phones: Vec<String>,
    pub tags: Vec<String>,
    /// Stage id.
    pub stage: String,
    /// The posting of the opportunity's one application, if it has one.
    pub posting_id: Option<String>,
    pub location: Option<String>,
}

/// A note written through `POST /v1/opportunities/:id/notes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNote {
    pub id: String,
    /// The note's body.
    pub value: String,
    pub secret: bool,
    /// 1 (Strong No) to 4 (Strong Yes), when given.
    pub score: Option<u8>,
    pub notify_followers: bool,
    /// The author: the request's `perform_as`, else [`SIM_USER_ID`].
    pub user: String,
    pub created_at: EpochMillis,
    /// Set by the last `PUT` of this note.
    pub updated_at: Option<EpochMillis>,
}

/// One entry of an opportunity's `stageChanges`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStageChange {
    pub to_stage_id: String,
    pub updated_at: EpochMillis,
    pub user_id: String,
}

/// An opportunity's archive state, Lever's `archived` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimArchived {
    pub archived_at: EpochMillis,
    /// An archive reason id.
    pub reason: String,
}

/// One `/v1` request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub method: String,
    /// Path only, e.g. `/v1/opportunities/abc`.
    pub path: String,
}

/// One webhook delivery as posted, and what the receiver answered.
#[derive(Debug, Clone)]
pub struct SentWebhook {
    pub status: u16,
    pub body: Value,
    pub response: String,
}

/// A webhook as the Webhooks Subscription API lists it. Deliveries of its event go to `url`,
/// signed with `signature_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWebhook {
    pub id: String,
    pub event: String,
    pub url: String,
    pub signature_token: String,
    /// `configuration.conditions.origins`; empty when the webhook has no condition.
    pub origins: Vec<String>,
}

/// An opportunity with what Lever keeps beside the seeded fields.
#[derive(Debug)]
struct Opportunity {
    record: SimOpportunity,
    created_at: EpochMillis,
    /// Lever's `updatedAt`: the last change to the opportunity (a move, an archive, tags).
    updated_at: EpochMillis,
    /// Oldest first; the first is the stage it was created in.
    stage_changes: Vec<SimStageChange>,
    archived: Option<SimArchived>,
}

impl Opportunity {
    fn new(record: SimOpportunity) -> Self {
        let created_at = now_millis();
        let first = SimStageChange {
            to_stage_id: record.stage.clone(),
            updated_at: created_at,
            user_id: SIM_USER_ID.to_owned(),
        };
        Opportunity {
            record,
            created_at,
            updated_at: created_at,
            stage_changes: vec![first],
            archived: None,
        }
    }

    /// Moves to `stage` by `user_id`, recording the change; returns the stage it left.
    fn advance(&mut self, stage: &str, user_id: &str) -> String {
        // One person's moves of one candidate are never in the same millisecond in Lever.
        let last = self
            .stage_changes
            .last()
            .map_or(0, |change| change.updated_at);
        let at = now_millis().max(last + 1);
        self.stage_changes.push(SimStageChange {
            to_stage_id: stage.to_owned(),
            updated_at: at,
            user_id: user_id.to_owned(),
        });
        self.updated_at = at;
        std::mem::replace(&mut self.record.stage, stage.to_owned())
    }
}

#[derive(Debug, Default)]
struct LeverState {
    /// API keys the account accepts: each integration's toggle in Lever generates its own.
    api_keys: Vec<String>,
    bearer_token: Option<String>,
    /// In Lever's pipeline order, which `GET /stages` keeps.
    stages: Vec<(String, String)>,
    postings: HashMap<String, SimPosting>,
    opportunities: HashMap<String, Opportunity>,
    notes: HashMap<String, Vec<SimNote>>,
    calls: Vec<RecordedCall>,
    gate: Gate,
    /// In creation order; the newest webhook of an event is the one deliveries go to.
    webhooks: Vec<SimWebhook>,
    oauth: OAuthState,
    /// Opportunities of confidential postings: only a credential with access to
    /// confidential data may read or change them.
    confidential: HashSet<String>,
    /// API keys an admin gave access to confidential data (a key has none by default).
    confidential_keys: HashSet<String>,
}

impl LeverState {
    fn stage_index(&self, id: &str) -> Option<usize> {
        self.stages.iter().position(|(stage_id, _)| stage_id == id)
    }

    fn stage_text(&self, id: &str) -> Option<&str> {
        self.stage_index(id).map(|i| self.stages[i].1.as_str())
    }
}

/// A cheap-to-clone handle on one simulated Lever account.
#[derive(Clone)]
pub struct LeverSim {
    state: Arc<Mutex<LeverState>>,
    http: reqwest::Client,
}

impl LeverSim {
    /// A Lever account that accepts `api_key` as Basic auth user name, with Lever's rate
    /// limit on and nothing seeded.
    pub fn new(api_key: &str) -> Self {
        let state = LeverState {
            api_keys: vec![api_key.to_owned()],
            ..LeverState::default()
        };
        LeverSim {
            state: Arc::new(Mutex::new(state)),
            http: reqwest::Client::new(),
        }
    }

    /// Lever's API under `/v1`, its authorization server under `/oauth` (`GET
    /// /oauth/authorize`, `POST /oauth/token`), plus `GET /_sim/opportunities/{id}` for humans.
    pub fn router(&self) -> Router {
        let v1 = api::routes()
            .merge(webhooks::routes())
            .fallback(
                |OriginalUri(uri): OriginalUri| async move { not_found("resource", uri.path()) },
            )
            .layer(middleware::from_fn_with_state(self.clone(), gate::gate));
        Router::new()
            .nest("/v1", v1)
            .merge(oauth::routes())
            .route("/_sim/opportunities/{id}", get(api::inspect_opportunity))
            .merge(drive::routes())
            .with_state(self.clone())
    }

    /// Another API key the account accepts, as when an admin generates one with another
    /// integration's toggle.
    pub fn add_api_key(&self, api_key: &str) {
        self.lock().api_keys.push(api_key.to_owned());
    }

    /// The opportunity is a confidential posting's candidate: Lever answers 403 to a
    /// credential without access to confidential data (an API key without the grant, an
    /// authorized app without `confidential:access:admin`).
    pub fn set_confidential(&self, opportunity: &str) {
        self.lock().confidential.insert(opportunity.to_owned());
    }

    /// Gives the API key access to confidential data, as an admin does in Lever's settings.
    pub fn grant_confidential_access(&self, api_key: &str) {
        self.lock().confidential_keys.insert(api_key.to_owned());
    }

    /// The key stops working, as when an admin turns its integration's toggle off.
    pub fn disable_api_key(&self, api_key: &str) {
        self.lock().api_keys.retain(|key| key != api_key);
    }

    /// Also accept `Authorization: Bearer <token>`, as an OAuth-connected tenant sends.
    pub fn set_bearer_token(&self, token: &str) {
        self.lock().bearer_token = Some(token.to_owned());
    }

    /// Adds a stage at the end of the pipeline, or renames an existing one.
    pub fn add_stage(&self, id: &str, text: &str) {
        let mut state = self.lock();
        match state.stages.iter_mut().find(|(stage_id, _)| stage_id == id) {
            Some(stage) => stage.1 = text.to_owned(),
            None => state.stages.push((id.to_owned(), text.to_owned())),
        }
    }

    /// Adds a posting, or replaces the one with its id.
    pub fn add_posting(&self, posting: SimPosting) {
        self.lock().postings.insert(posting.id.clone(), posting);
    }

    /// Adds an opportunity created now in its `stage` (one `stageChanges` entry), or
    /// replaces the one with its id, history included.
    pub fn add_opportunity(&self, opportunity: SimOpportunity) {
        self.lock()
            .opportunities
            .insert(opportunity.id.clone(), Opportunity::new(opportunity));
    }

    /// Replaces the opportunity's email addresses, as a recruiter editing the profile.
    pub fn set_email(&self, id: &str, email: &str) {
        if let Some(opportunity) = self.lock().opportunities.get_mut(id) {
            opportunity.record.emails = vec![email.to_owned()];
        }
    }

    /// The opportunity as it is now, if it exists.
    pub fn opportunity(&self, id: &str) -> Option<SimOpportunity> {
        self.lock()
            .opportunities
            .get(id)
            .map(|opportunity| opportunity.record.clone())
    }

    /// The opportunity's stage history, oldest first; empty when it does not exist.
    pub fn stage_changes(&self, id: &str) -> Vec<SimStageChange> {
        self.lock()
            .opportunities
            .get(id)
            .map(|opportunity| opportunity.stage_changes.clone())
            .unwrap_or_default()
    }

    /// The opportunity's archive state; `None` when it is active or does not exist.
    pub fn archived(&self, id: &str) -> Option<SimArchived> {
        self.lock()
            .opportunities
            .get(id)
            .and_then(|opportunity| opportunity.archived.clone())
    }

    /// The opportunity's notes, oldest first.
    pub fn notes(&self, opportunity_id: &str) -> Vec<SimNote> {
        self.lock()
            .notes
            .get(opportunity_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every `/v1` request received so far, refused and failed ones included.
    pub fn api_calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> MutexGuard<'_, LeverState> {
        lock(&self.state)
    }
}

/// `len` (at most 64) random hex digits, for tokens and codes.
fn random_hex(len: usize) -> String {
    let mut hex = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    hex.truncate(len);
    hex
}

// Lever's ids for an opportunity's contact and application, derived so they stay stable.
fn contact_id(opportunity_id: &str) -> String {
    format!("{opportunity_id}-contact")
}

fn application_id(opportunity_id: &str) -> String {
    format!("{opportunity_id}-application")
}

fn not_found(what: &str, id: &str) -> ApiError {
    json_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("no {what} {id}"),
    )
}

fn bad_request(message: impl Into<String>) -> ApiError {
    json_error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}
