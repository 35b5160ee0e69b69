//! The Lever API as the flows need it: one narrow trait, implemented by
//! [`super::LeverClient`] over HTTP and by in-memory fakes in tests.

use super::model::{NewNote, Note, Opportunity, OpportunityFilter, Posting, Stage, Webhook};
use crate::ids::OpportunityId;
use crate::work::Retry;
use async_trait::async_trait;

/// How a Lever API call failed; [`LeverError::retry`] says what becomes of the work.
#[derive(Debug, thiserror::Error)]
pub enum LeverError {
    /// 401: the credential is not (or no longer) accepted: the API key was disabled with
    /// its integration's toggle, or the authorized app revoked.
    #[error("Lever rejected the credentials (HTTP {status})")]
    Unauthorized {
        /// The HTTP status (401).
        status: u16,
    },
    /// 404. Also returned, without a request, for an id no Lever object can have.
    #[error("Lever has no {what}")]
    NotFound {
        /// The kind of object (`opportunity`, `posting`, `note`, `webhook`…).
        what: String,
    },
    /// Any other 4xx (403 included: a missing scope): our request is wrong; retrying the
    /// same request will not help.
    #[error("Lever refused the request (HTTP {status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Lever's `message` (else `code`), at most 200 characters.
        message: String,
    },
    /// 429/5xx/timeouts still failing after the retry bound, or no time left to try.
    #[error("Lever unavailable: {0}")]
    Unavailable(String),
    /// A write that cannot be safely repeated may or may not have been applied.
    #[error("Lever outcome unknown: {0}")]
    Ambiguous(String),
    /// Lever refused the integration's OAuth refresh token (its app was revoked, or the
    /// token expired unused): nothing works until it is reconnected, so nothing retries.
    #[error("the integration's Lever authorization was revoked; reconnect it")]
    Disconnected,
    /// A body that does not parse, a status outside 2xx–5xx, or a list that does not end.
    #[error("unexpected response from Lever: {0}")]
    Decode(String),
    /// An unusable base URL or credential (e.g. a token that is no valid header value).
    #[error("Lever client misconfigured: {0}")]
    Misconfigured(String),
}

impl LeverError {
    /// A revoked credential disables the integration; outages, ambiguous writes and a
    /// misconfigured client are retried later; what Lever refused or cannot find, never.
    pub fn retry(&self) -> Retry {
        match self {
            LeverError::Unauthorized { status: 401 } | LeverError::Disconnected => Retry::Disabled,
            LeverError::Unavailable(_)
            | LeverError::Ambiguous(_)
            | LeverError::Misconfigured(_)
            | LeverError::Unauthorized { .. } => Retry::Later,
            LeverError::NotFound { .. } | LeverError::Rejected { .. } | LeverError::Decode(_) => {
                Retry::Never
            }
        }
    }
}

/// What this product does in a tenant's Lever account, with one integration's credential.
#[async_trait]
pub trait LeverApi: Send + Sync {
    /// `GET /opportunities/:id?expand=applications`: with its tags, stage changes and the
    /// application naming the posting.
    async fn opportunity(&self, id: &OpportunityId) -> Result<Opportunity, LeverError>;
    /// `GET /opportunities` filtered by `filter`, every page (the safety net's question).
    async fn opportunities(
        &self,
        filter: &OpportunityFilter,
    ) -> Result<Vec<Opportunity>, LeverError>;
    /// `GET /postings/:id`.
    async fn posting(&self, id: &str) -> Result<Posting, LeverError>;
    /// `GET /stages`, every page.
    async fn stages(&self) -> Result<Vec<Stage>, LeverError>;
    /// `POST /opportunities/:id/addTags`; nothing is sent for no tags.
    async fn add_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError>;
    /// `POST /opportunities/:id/removeTags`; nothing is sent for no tags.
    async fn remove_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError>;
    /// `GET /opportunities/:id/notes`, every page.
    async fn notes(&self, opportunity: &OpportunityId) -> Result<Vec<Note>, LeverError>;
    /// `POST /opportunities/:id/notes`: the new note's id. Never re-sent after an ambiguous
    /// failure ([`LeverError::Ambiguous`]): the caller reads the notes back instead.
    async fn add_note(
        &self,
        opportunity: &OpportunityId,
        note: &NewNote,
    ) -> Result<String, LeverError>;
    /// `PUT /opportunities/:id/notes/:note` (Lever lets the API update notes it created).
    async fn update_note(
        &self,
        opportunity: &OpportunityId,
        note_id: &str,
        note: &NewNote,
    ) -> Result<(), LeverError>;
    /// `PUT /opportunities/:id/stage`.
    async fn move_to_stage(
        &self,
        opportunity: &OpportunityId,
        stage_id: &str,
    ) -> Result<(), LeverError>;
    /// `GET /webhooks` (Webhooks Subscription API).
    async fn webhooks(&self) -> Result<Vec<Webhook>, LeverError>;
    /// `POST /webhooks`: the webhook with its new signature token.
    async fn create_webhook(&self, event: &str, url: &str) -> Result<Webhook, LeverError>;
    /// `DELETE /webhooks/:id`.
    async fn delete_webhook(&self, id: &str) -> Result<(), LeverError>;
}
