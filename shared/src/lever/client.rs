//! Lever API client (lever-api.md §3–4). STUB: implemented by the client work package.

use super::model::{NewNote, Opportunity, Posting, Stage};
use crate::retry::RetryPolicy;
use secrecy::SecretString;

#[derive(Debug, Clone)]
pub enum LeverAuth {
    /// Basic auth, the key as user name and an empty password.
    ApiKey(SecretString),
    /// OAuth access token.
    Bearer(SecretString),
}

#[derive(Debug, thiserror::Error)]
pub enum LeverError {
    /// 401/403: credentials rejected or revoked. Not retried.
    #[error("Lever rejected the credentials (HTTP {status})")]
    Unauthorized { status: u16 },
    #[error("Lever has no {what}")]
    NotFound { what: String },
    /// Any other 4xx: our request is wrong; retrying will not help.
    #[error("Lever refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// 429/5xx/timeouts still failing after the retry bound.
    #[error("Lever unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected response from Lever: {0}")]
    Decode(String),
}

#[derive(Clone)]
pub struct LeverClient {
    http: reqwest::Client,
    base_url: String,
    auth: LeverAuth,
    retry: RetryPolicy,
}

impl LeverClient {
    pub fn new(http: reqwest::Client, base_url: &str, auth: LeverAuth, retry: RetryPolicy) -> Self {
        LeverClient { http, base_url: base_url.trim_end_matches('/').to_owned(), auth, retry }
    }

    pub async fn get_opportunity(&self, _id: &str) -> Result<Opportunity, LeverError> { unimplemented!() }
    pub async fn get_posting(&self, _id: &str) -> Result<Posting, LeverError> { unimplemented!() }
    pub async fn list_stages(&self) -> Result<Vec<Stage>, LeverError> { unimplemented!() }
    pub async fn add_tags(&self, _opportunity_id: &str, _tags: &[String]) -> Result<(), LeverError> { unimplemented!() }
    pub async fn remove_tags(&self, _opportunity_id: &str, _tags: &[String]) -> Result<(), LeverError> { unimplemented!() }
    pub async fn add_note(&self, _opportunity_id: &str, _note: &NewNote) -> Result<String, LeverError> { unimplemented!() }
    pub async fn update_note(&self, _opportunity_id: &str, _note_id: &str, _note: &NewNote) -> Result<(), LeverError> { unimplemented!() }
}
