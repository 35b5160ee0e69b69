//! [`LeverApi`] over HTTP, per Lever's developer documentation: objects come as
//! `{"data": …}`, lists as `{"data": […], "hasNext", "next"}` (followed with `limit=100` and
//! `offset=<next>`, at most 50 pages), errors as `{"code", "message"}`.
//! Every call goes through [`Outbound::send`]:
//! paced by the credential's budget, retried within the invocation's deadline, a note POST
//! never re-sent blindly. Ids only ever enter the URL as single encoded path segments.

use super::api::{LeverApi, LeverError};
use super::model::{NewNote, Note, Opportunity, OpportunityFilter, Posting, Stage, Webhook};
use crate::ids::OpportunityId;
use crate::retry::{Outbound, Resend, SendError};
use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Bounds list calls, so a server that always says `hasNext` cannot loop us forever.
const MAX_PAGES: usize = 50;
/// Longest part of Lever's error message kept in [`LeverError::Rejected`].
const MAX_MESSAGE_CHARS: usize = 200;

/// How a client authenticates to Lever: each integration has its own credential.
#[derive(Clone)]
pub enum LeverAuth {
    /// Basic auth, the key as user name and an empty password.
    ApiKey(SecretString),
    /// OAuth access tokens that renew themselves (see [`super::oauth::IntegrationTokens`]).
    OAuth(Arc<dyn AccessTokens>),
}

/// Where an authorized-app integration's access token comes from.
#[async_trait]
pub trait AccessTokens: Send + Sync {
    /// A token to use now, refreshed first if it is about to expire.
    async fn current(&self) -> Result<SecretString, LeverError>;
    /// Lever answered 401 to `rejected`: a replacement.
    async fn after_rejection(&self, rejected: &SecretString) -> Result<SecretString, LeverError>;
}

/// The credential one request is sent with.
enum Credential<'a> {
    Basic(&'a SecretString),
    Bearer(SecretString),
}

/// One integration's Lever client: a base URL, a credential and the invocation's
/// [`Outbound`] (retries, pacing, deadline).
pub struct LeverClient {
    http: reqwest::Client,
    base_url: String,
    auth: LeverAuth,
    outbound: Outbound,
}

/// Lever's envelope for single objects.
#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

/// Lever's envelope for lists.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    has_next: bool,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedNote {
    note_id: String,
}

#[derive(Serialize)]
struct Tags<'a> {
    tags: &'a [String],
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl LeverClient {
    /// A client of the API at `base_url` (`https://api.lever.co/v1`; a trailing `/` is
    /// ignored). An unusable base URL is reported by the first call, as
    /// [`LeverError::Misconfigured`].
    pub fn new(http: reqwest::Client, base_url: &str, auth: LeverAuth, outbound: Outbound) -> Self {
        LeverClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth,
            outbound,
        }
    }

    /// `GET` of a single object at `url`, unwrapped from its `data` envelope.
    async fn get<T: DeserializeOwned>(&self, what: &str, url: Url) -> Result<T, LeverError> {
        let response = self
            .send(what, Resend::Safe, |auth| {
                self.request(auth, Method::GET, &url)
            })
            .await?;
        Ok(decode::<Data<T>>(response).await?.data)
    }

    /// Every item of a list endpoint, following Lever's `next` offset tokens.
    async fn list_all<T: DeserializeOwned>(
        &self,
        what: &str,
        base: Url,
    ) -> Result<Vec<T>, LeverError> {
        let mut items = Vec::new();
        let mut offset: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = base.clone();
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("limit", "100");
                if let Some(offset) = &offset {
                    query.append_pair("offset", offset);
                }
            }
            let response = self
                .send(what, Resend::Safe, |auth| {
                    self.request(auth, Method::GET, &url)
                })
                .await?;
            let page: Page<T> = decode(response).await?;
            items.extend(page.data);
            match (page.has_next, page.next) {
                (false, _) => return Ok(items),
                (true, Some(next)) => offset = Some(next),
                (true, None) => return Err(LeverError::Decode("hasNext without next".into())),
            }
        }
        Err(LeverError::Decode(format!(
            "{what} list longer than {MAX_PAGES} pages"
        )))
    }

    async fn change_tags(
        &self,
        opportunity: &OpportunityId,
        action: &str,
        tags: &[String],
    ) -> Result<(), LeverError> {
        // Nothing to change: save a call against Lever's rate limit.
        if tags.is_empty() {
            return Ok(());
        }
        let url = self.url(&["opportunities", opportunity.as_str(), action])?;
        // Adding a present tag or removing an absent one changes nothing: safe to repeat.
        self.send("opportunity", Resend::Safe, |auth| {
            self.request(auth, Method::POST, &url).json(&Tags { tags })
        })
        .await
        .map(drop)
    }

    /// `{base}/a/b/…`; each segment is percent-encoded ('/' → %2F), so it stays one segment.
    fn url(&self, segments: &[&str]) -> Result<Url, LeverError> {
        let mut url = Url::parse(&self.base_url)
            .map_err(|e| LeverError::Misconfigured(format!("base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| LeverError::Misconfigured("base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn request(&self, credential: &Credential<'_>, method: Method, url: &Url) -> RequestBuilder {
        let request = self.http.request(method, url.clone());
        match credential {
            Credential::Basic(key) => request.basic_auth(key.expose_secret(), None::<&str>),
            Credential::Bearer(token) => request.bearer_auth(token.expose_secret()),
        }
    }

    async fn credential(&self) -> Result<Credential<'_>, LeverError> {
        Ok(match &self.auth {
            LeverAuth::ApiKey(key) => Credential::Basic(key),
            LeverAuth::OAuth(tokens) => Credential::Bearer(tokens.current().await?),
        })
    }

    /// Sends and turns Lever's error statuses into [`LeverError`]s; `what` names the object
    /// a 404 is about.
    async fn send(
        &self,
        what: &str,
        resend: Resend,
        request: impl Fn(&Credential<'_>) -> RequestBuilder,
    ) -> Result<Response, LeverError> {
        let mut credential = self.credential().await?;
        let mut response = self.send_once(&credential, resend, &request).await?;
        // An OAuth token Lever no longer takes (expired early, or refreshed elsewhere) is
        // replaced once; a second 401 is the answer.
        if let (LeverAuth::OAuth(tokens), Credential::Bearer(rejected)) = (&self.auth, &credential)
        {
            if response.status() == StatusCode::UNAUTHORIZED {
                credential = Credential::Bearer(tokens.after_rejection(rejected).await?);
                response = self.send_once(&credential, resend, &request).await?;
            }
        }
        let status = response.status();
        match status {
            _ if status.is_success() => Ok(response),
            StatusCode::UNAUTHORIZED => Err(LeverError::Unauthorized {
                status: status.as_u16(),
            }),
            StatusCode::NOT_FOUND => Err(LeverError::NotFound {
                what: what.to_owned(),
            }),
            _ if status.is_client_error() => Err(LeverError::Rejected {
                status: status.as_u16(),
                message: error_message(response).await,
            }),
            // A 5xx the retry policy does not retry (501, 505…) is still Lever's side.
            _ if status.is_server_error() => {
                Err(LeverError::Unavailable(format!("HTTP {}", status.as_u16())))
            }
            _ => Err(LeverError::Decode(format!(
                "unexpected HTTP {}",
                status.as_u16()
            ))),
        }
    }

    async fn send_once(
        &self,
        credential: &Credential<'_>,
        resend: Resend,
        request: &impl Fn(&Credential<'_>) -> RequestBuilder,
    ) -> Result<Response, LeverError> {
        self.outbound
            .send(resend, || request(credential))
            .await
            .map_err(|e| match e {
                SendError::Build(e) => LeverError::Misconfigured(e.to_string()),
                ambiguous @ SendError::Ambiguous { .. } => {
                    LeverError::Ambiguous(ambiguous.to_string())
                }
                other => LeverError::Unavailable(other.to_string()),
            })
    }
}

#[async_trait]
impl LeverApi for LeverClient {
    async fn opportunity(&self, id: &OpportunityId) -> Result<Opportunity, LeverError> {
        let mut url = self.url(&["opportunities", id.as_str()])?;
        url.query_pairs_mut().append_pair("expand", "applications");
        self.get("opportunity", url).await
    }

    async fn opportunities(
        &self,
        filter: &OpportunityFilter,
    ) -> Result<Vec<Opportunity>, LeverError> {
        let mut url = self.url(&["opportunities"])?;
        // Applications as objects, as the opportunity is read everywhere else.
        url.query_pairs_mut()
            .extend_pairs(filter.query())
            .append_pair("expand", "applications");
        self.list_all("opportunity", url).await
    }

    async fn posting(&self, id: &str) -> Result<Posting, LeverError> {
        const WHAT: &str = "posting";
        let url = self.url(&["postings", segment(WHAT, id)?])?;
        self.get(WHAT, url).await
    }

    async fn stages(&self) -> Result<Vec<Stage>, LeverError> {
        self.list_all("stages", self.url(&["stages"])?).await
    }

    async fn add_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError> {
        self.change_tags(opportunity, "addTags", tags).await
    }

    async fn remove_tags(
        &self,
        opportunity: &OpportunityId,
        tags: &[String],
    ) -> Result<(), LeverError> {
        self.change_tags(opportunity, "removeTags", tags).await
    }

    async fn notes(&self, opportunity: &OpportunityId) -> Result<Vec<Note>, LeverError> {
        let url = self.url(&["opportunities", opportunity.as_str(), "notes"])?;
        self.list_all("opportunity", url).await
    }

    async fn add_note(
        &self,
        opportunity: &OpportunityId,
        note: &NewNote,
    ) -> Result<String, LeverError> {
        let url = self.url(&["opportunities", opportunity.as_str(), "notes"])?;
        let response = self
            .send("opportunity", Resend::Never, |auth| {
                self.request(auth, Method::POST, &url).json(note)
            })
            .await?;
        Ok(decode::<Data<CreatedNote>>(response).await?.data.note_id)
    }

    async fn update_note(
        &self,
        opportunity: &OpportunityId,
        note_id: &str,
        note: &NewNote,
    ) -> Result<(), LeverError> {
        const WHAT: &str = "note";
        let url = self.url(&[
            "opportunities",
            opportunity.as_str(),
            "notes",
            segment(WHAT, note_id)?,
        ])?;
        self.send(WHAT, Resend::Safe, |auth| {
            self.request(auth, Method::PUT, &url).json(note)
        })
        .await
        .map(drop)
    }

    async fn move_to_stage(
        &self,
        opportunity: &OpportunityId,
        stage_id: &str,
    ) -> Result<(), LeverError> {
        let url = self.url(&["opportunities", opportunity.as_str(), "stage"])?;
        let body = serde_json::json!({ "stage": stage_id });
        self.send("opportunity", Resend::Safe, |auth| {
            self.request(auth, Method::PUT, &url).json(&body)
        })
        .await
        .map(drop)
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, LeverError> {
        self.list_all("webhooks", self.url(&["webhooks"])?).await
    }

    async fn create_webhook(&self, event: &str, url: &str) -> Result<Webhook, LeverError> {
        let endpoint = self.url(&["webhooks"])?;
        let body = serde_json::json!({ "event": event, "url": url });
        // A repeated create would make a second webhook: never re-sent blindly.
        let response = self
            .send("webhook", Resend::Never, |auth| {
                self.request(auth, Method::POST, &endpoint).json(&body)
            })
            .await?;
        Ok(decode::<Data<Webhook>>(response).await?.data)
    }

    async fn delete_webhook(&self, id: &str) -> Result<(), LeverError> {
        const WHAT: &str = "webhook";
        let url = self.url(&["webhooks", segment(WHAT, id)?])?;
        self.send(WHAT, Resend::Safe, |auth| {
            self.request(auth, Method::DELETE, &url)
        })
        .await
        .map(drop)
    }
}

/// An id from Lever's own answers (a posting, a note, a webhook) as a path segment. URL
/// handling drops tabs and newlines and resolves "." and "..", so such ids could address
/// another resource: refuse them (no Lever id looks like that).
fn segment<'a>(what: &str, id: &'a str) -> Result<&'a str, LeverError> {
    if id.is_empty() || matches!(id, "." | "..") || id.chars().any(char::is_control) {
        return Err(LeverError::NotFound {
            what: what.to_owned(),
        });
    }
    Ok(id)
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, LeverError> {
    // Read the bytes ourselves: reqwest's decode errors carry the URL.
    let body = response
        .bytes()
        .await
        .map_err(|e| LeverError::Unavailable(e.without_url().to_string()))?;
    serde_json::from_slice(&body).map_err(|e| LeverError::Decode(e.to_string()))
}

/// The `message` (else `code`) of Lever's `{"code","message"}` error body, shortened.
async fn error_message(response: Response) -> String {
    let body = response.bytes().await.unwrap_or_default();
    serde_json::from_slice::<ErrorBody>(&body)
        .ok()
        .and_then(|e| e.message.or(e.code))
        .map(|message| message.chars().take(MAX_MESSAGE_CHARS).collect())
        .unwrap_or_else(|| "no error message".to_owned())
}
