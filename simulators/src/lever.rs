//! Lever simulator: the slice of Lever's API this product calls (lever-api.md §3–4) under
//! `/v1`, the Webhooks Subscription API, webhook deliveries signed the way Lever signs them
//! (§1–2), and Lever's OAuth authorization server for partner apps (§3) under `/oauth`.

use super::{json_error, lock, parse_json, ApiError, Faults, SimError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Form, Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use crate::now_millis;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

const STAGE_CHANGE: &str = "candidateStageChange";
const APPLICATION_CREATED: &str = "applicationCreated";

/// The events `POST /v1/webhooks` accepts (lever-api.md §1).
const EVENTS: [&str; 10] = [
    APPLICATION_CREATED,
    "candidateHired",
    STAGE_CHANGE,
    "candidateArchiveChange",
    "candidateDeleted",
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
];

/// Lever's access-token lifetime (lever-api.md §3).
const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;

/// Lever issues a refresh token only when this scope was granted (lever-api.md §3).
const OFFLINE_ACCESS: &str = "offline_access";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimPosting {
    pub id: String,
    pub text: String,
    pub tags: Vec<String>,
    pub location: Option<String>,
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNote {
    pub id: String,
    pub value: String,
    pub secret: bool,
    pub created_at: i64,
    /// Set by the last `PUT` of this note.
    pub updated_at: Option<i64>,
}

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
}

impl SimWebhook {
    fn new(event: String, url: String, signature_token: String) -> Self {
        SimWebhook {
            id: Uuid::new_v4().to_string(),
            event,
            url,
            signature_token,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "event": self.event,
            "url": self.url,
            "configuration": { "signatureToken": self.signature_token },
        })
    }
}

#[derive(Debug)]
struct OAuthApp {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

/// Lever's authorization server, for the one registered app. Codes and refresh tokens map
/// to the space-separated scope they were granted, which the tokens they buy carry on.
#[derive(Debug, Default)]
struct OAuthState {
    app: Option<OAuthApp>,
    deny_next: bool,
    granted_scopes: Vec<String>,
    codes: HashMap<String, String>,
    access_tokens: HashSet<String>,
    refresh_tokens: HashMap<String, String>,
    refresh_count: usize,
    token_delay: Duration,
}

impl OAuthState {
    /// Answers `POST /oauth/token`; the client authenticates with its id and secret in the form.
    fn exchange(&mut self, form: TokenForm) -> Result<Value, OAuthError> {
        let app = self
            .app
            .as_ref()
            .filter(|app| {
                form.client_id.as_deref() == Some(app.client_id.as_str())
                    && form.client_secret.as_deref() == Some(app.client_secret.as_str())
            })
            .ok_or_else(|| {
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "unknown client_id or wrong client_secret",
                )
            })?;
        let scope = match form.grant_type.as_str() {
            "authorization_code" => {
                if form.redirect_uri.as_deref() != Some(app.redirect_uri.as_str()) {
                    return Err(invalid_grant(
                        "redirect_uri differs from the authorization request's",
                    ));
                }
                // Removing the code is what makes it single-use.
                form.code
                    .and_then(|code| self.codes.remove(&code))
                    .ok_or_else(|| invalid_grant("unknown, used or revoked authorization code"))?
            }
            "refresh_token" => {
                // Rotation: the presented refresh token is spent by this exchange.
                let scope = form
                    .refresh_token
                    .and_then(|token| self.refresh_tokens.remove(&token))
                    .ok_or_else(|| invalid_grant("unknown, rotated or revoked refresh token"))?;
                self.refresh_count += 1;
                scope
            }
            other => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported"),
                ))
            }
        };
        Ok(self.issue(scope))
    }

    fn issue(&mut self, scope: String) -> Value {
        let access_token = random_hex(48);
        self.access_tokens.insert(access_token.clone());
        let mut body = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        });
        if scope.split(' ').any(|s| s == OFFLINE_ACCESS) {
            let refresh_token = random_hex(48);
            body["refresh_token"] = json!(refresh_token);
            self.refresh_tokens.insert(refresh_token, scope);
        }
        body
    }
}

#[derive(Debug, Default)]
struct LeverState {
    api_key: String,
    bearer_token: Option<String>,
    /// In Lever's pipeline order, which `GET /stages` keeps.
    stages: Vec<(String, String)>,
    postings: HashMap<String, SimPosting>,
    opportunities: HashMap<String, SimOpportunity>,
    notes: HashMap<String, Vec<SimNote>>,
    calls: Vec<RecordedCall>,
    faults: Faults,
    /// In creation order; the newest webhook of an event is the one deliveries go to.
    webhooks: Vec<SimWebhook>,
    oauth: OAuthState,
}

impl LeverState {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        if let Some(token) = value.strip_prefix("Bearer ") {
            return self.bearer_token.as_deref() == Some(token)
                || self.oauth.access_tokens.contains(token);
        }
        value
            .strip_prefix("Basic ")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .is_some_and(|user_pass| user_pass == format!("{}:", self.api_key).as_bytes())
    }

    fn opportunity(&mut self, id: &str) -> Result<&mut SimOpportunity, ApiError> {
        self.opportunities
            .get_mut(id)
            .ok_or_else(|| not_found("opportunity", id))
    }

    fn stage_text(&self, id: &str) -> Option<&str> {
        self.stages
            .iter()
            .find(|(stage_id, _)| stage_id == id)
            .map(|(_, text)| text.as_str())
    }

    fn subscription(&self, event: &str) -> Result<SimWebhook, SimError> {
        self.webhooks
            .iter()
            .rev()
            .find(|webhook| webhook.event == event)
            .cloned()
            .ok_or_else(|| SimError::NotSubscribed(event.to_owned()))
    }
}

#[derive(Clone)]
pub struct LeverSim {
    state: Arc<Mutex<LeverState>>,
    http: reqwest::Client,
}

impl LeverSim {
    pub fn new(api_key: &str) -> Self {
        let state = LeverState {
            api_key: api_key.to_owned(),
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
        let api = Router::new()
            .route("/opportunities/{id}", get(get_opportunity))
            .route("/opportunities/{id}/addTags", post(add_tags))
            .route("/opportunities/{id}/removeTags", post(remove_tags))
            .route("/opportunities/{id}/notes", post(create_note))
            .route("/opportunities/{id}/notes/{note_id}", put(update_note))
            .route("/postings/{id}", get(get_posting))
            .route("/stages", get(list_stages))
            .route("/webhooks", get(list_webhooks).post(create_webhook))
            .route("/webhooks/{id}", delete(delete_webhook))
            .fallback(
                |OriginalUri(uri): OriginalUri| async move { not_found("resource", uri.path()) },
            )
            .layer(middleware::from_fn_with_state(self.clone(), gate));
        Router::new()
            .nest("/v1", api)
            .route("/oauth/authorize", get(authorize))
            // Lever's own path on its auth host, so that a client given the simulator's base
            // URL as the auth host builds the same URLs as against https://auth.lever.co.
            .route("/authorize", get(authorize))
            .route("/oauth/token", post(issue_oauth_token))
            .route("/_sim/opportunities/{id}", get(inspect_opportunity))
            .with_state(self.clone())
    }

    /// Registers the partner app that `/oauth` authorizes, replacing any earlier one.
    pub fn register_oauth_app(&self, client_id: &str, client_secret: &str, redirect_uri: &str) {
        self.lock().oauth.app = Some(OAuthApp {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        });
    }

    /// The admin clicks "Decline" on the next authorization instead of "Accept".
    pub fn deny_next_authorization(&self) {
        self.lock().oauth.deny_next = true;
    }

    /// The scopes of the last accepted authorization.
    pub fn granted_scopes(&self) -> Vec<String> {
        self.lock().oauth.granted_scopes.clone()
    }

    /// How many refresh-token exchanges have succeeded.
    pub fn refresh_count(&self) -> usize {
        self.lock().oauth.refresh_count
    }

    /// Every access token issued so far stops working, as at the end of its hour; refresh
    /// tokens stay valid.
    pub fn expire_access_tokens(&self) {
        self.lock().oauth.access_tokens.clear();
    }

    /// A Super Admin clicks "Revoke Access" in Authorized Apps: every code, access token and
    /// refresh token of the app stops working. The app can be authorized again.
    pub fn revoke_app(&self) {
        let oauth = &mut self.lock().oauth;
        oauth.codes.clear();
        oauth.access_tokens.clear();
        oauth.refresh_tokens.clear();
    }

    /// `POST /oauth/token` waits this long before answering, so tests can race refreshes.
    pub fn set_token_delay(&self, delay: Duration) {
        self.lock().oauth.token_delay = delay;
    }

    /// The webhooks subscribed so far, through `subscribe` or `POST /v1/webhooks`, oldest
    /// first.
    pub fn webhooks(&self) -> Vec<SimWebhook> {
        self.lock().webhooks.clone()
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

    pub fn add_posting(&self, posting: SimPosting) {
        self.lock().postings.insert(posting.id.clone(), posting);
    }

    pub fn add_opportunity(&self, opportunity: SimOpportunity) {
        self.lock()
            .opportunities
            .insert(opportunity.id.clone(), opportunity);
    }

    pub fn opportunity(&self, id: &str) -> Option<SimOpportunity> {
        self.lock().opportunities.get(id).cloned()
    }

    pub fn notes(&self, opportunity_id: &str) -> Vec<SimNote> {
        self.lock()
            .notes
            .get(opportunity_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every `/v1` request received so far, failed ones included.
    pub fn api_calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.clone()
    }

    /// The next `n` `/v1` requests answer `status` (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    /// Where `event` ("candidateStageChange" or "applicationCreated") is delivered, and the
    /// webhook's signature token, as an admin sets it up in Settings. Replaces every webhook
    /// of that event, however it was created.
    pub fn subscribe(&self, event: &str, url: String, signature_token: String) {
        let mut state = self.lock();
        state.webhooks.retain(|webhook| webhook.event != event);
        state
            .webhooks
            .push(SimWebhook::new(event.to_owned(), url, signature_token));
    }

    /// Moves the opportunity to a known stage and delivers `candidateStageChange`.
    /// Nothing changes when nobody is subscribed or the ids are unknown.
    pub async fn move_to_stage(
        &self,
        opportunity_id: &str,
        to_stage_id: &str,
    ) -> Result<SentWebhook, SimError> {
        let (subscription, data) = {
            let mut state = self.lock();
            let subscription = state.subscription(STAGE_CHANGE)?;
            if state.stage_text(to_stage_id).is_none() {
                return Err(SimError::not_found("stage", to_stage_id));
            }
            let opportunity = state
                .opportunities
                .get_mut(opportunity_id)
                .ok_or_else(|| SimError::not_found("opportunity", opportunity_id))?;
            let from_stage_id = std::mem::replace(&mut opportunity.stage, to_stage_id.to_owned());
            let data = json!({
                "opportunityId": opportunity_id,
                "candidateId": opportunity_id,
                "contactId": contact_id(opportunity_id),
                "toStageId": to_stage_id,
                "fromStageId": from_stage_id,
            });
            (subscription, data)
        };
        self.deliver(&subscription, STAGE_CHANGE, data).await
    }

    /// Delivers `applicationCreated` for the opportunity's application, with the fields
    /// lever-api.md §1 confirms (no `postingId`: the product reads it from the opportunity).
    pub async fn application_created(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        let subscription = {
            let state = self.lock();
            if !state.opportunities.contains_key(opportunity_id) {
                return Err(SimError::not_found("opportunity", opportunity_id));
            }
            state.subscription(APPLICATION_CREATED)?
        };
        let data = json!({
            "applicationId": application_id(opportunity_id),
            "opportunityId": opportunity_id,
            "contactId": contact_id(opportunity_id),
        });
        self.deliver(&subscription, APPLICATION_CREATED, data).await
    }

    /// Posts a delivery unchanged, as Lever's retries and an admin's "Rerun" do.
    pub async fn send_raw(&self, url: &str, body: &Value) -> Result<SentWebhook, SimError> {
        let response = self
            .http
            .post(url)
            .header(header::USER_AGENT, "Lever-Webhooks")
            .json(body)
            .send()
            .await?;
        Ok(SentWebhook {
            status: response.status().as_u16(),
            body: body.clone(),
            response: response.text().await?,
        })
    }

    async fn deliver(
        &self,
        subscription: &SimWebhook,
        event: &str,
        data: Value,
    ) -> Result<SentWebhook, SimError> {
        let triggered_at = now_millis();
        let token = random_hex(48);
        let body = json!({
            "id": Uuid::new_v4().to_string(),
            "event": event,
            "triggeredAt": triggered_at,
            "signature": sign(&subscription.signature_token, &token, triggered_at),
            "token": token,
            "data": data,
        });
        self.send_raw(&subscription.url, &body).await
    }

    fn lock(&self) -> MutexGuard<'_, LeverState> {
        lock(&self.state)
    }
}

/// Hex HMAC-SHA256 of `token + triggeredAt`, keyed by the webhook's signature token.
/// Written here rather than borrowed from `shared`, so the simulator checks the product's
/// verifier instead of mirroring it.
pub fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("{token}{triggered_at}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
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

/// An OAuth error answer, `{"error","error_description"}`, as Lever's auth host sends.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        (self.status, Json(body)).into_response()
    }
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_grant(description: &str) -> OAuthError {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Records every `/v1` call, then answers an injected fault or a missing credential
/// before the request reaches its handler.
async fn gate(
    State(sim): State<LeverSim>,
    OriginalUri(uri): OriginalUri,
    request: Request,
    next: Next,
) -> Response {
    let refusal = {
        let mut state = sim.lock();
        state.calls.push(RecordedCall {
            method: request.method().to_string(),
            path: uri.path().to_owned(),
        });
        state.faults.take().or_else(|| {
            (!state.authorized(request.headers())).then(|| {
                json_error(
                    StatusCode::UNAUTHORIZED,
                    "UnauthorizedError",
                    "Basic auth with the API key as user name, or a Bearer token, is required",
                )
                .into_response()
            })
        })
    };
    match refusal {
        Some(response) => response,
        None => next.run(request).await,
    }
}

type Params = Query<Vec<(String, String)>>;

fn param<'a>(params: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
    params
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn opportunity_json(opportunity: &SimOpportunity, expand_applications: bool) -> Value {
    let applications: Vec<Value> = opportunity
        .posting_id
        .iter()
        .map(|posting| {
            let id = application_id(&opportunity.id);
            if expand_applications {
                json!({ "id": id, "posting": posting })
            } else {
                json!(id)
            }
        })
        .collect();
    let phones: Vec<Value> = opportunity
        .phones
        .iter()
        .map(|value| json!({ "type": "mobile", "value": value }))
        .collect();
    json!({
        "id": opportunity.id,
        "name": opportunity.name,
        "contact": contact_id(&opportunity.id),
        "emails": opportunity.emails,
        "phones": phones,
        "tags": opportunity.tags,
        "stage": opportunity.stage,
        "location": opportunity.location,
        "applications": applications,
    })
}

async fn get_opportunity(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let expand = param(&params, "expand").any(|v| v == "applications");
    let mut state = sim.lock();
    let opportunity = state.opportunity(&id)?;
    Ok(Json(
        json!({ "data": opportunity_json(opportunity, expand) }),
    ))
}

async fn get_posting(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = sim.lock();
    let posting = state
        .postings
        .get(&id)
        .ok_or_else(|| not_found("posting", &id))?;
    Ok(Json(json!({ "data": {
        "id": posting.id,
        "text": posting.text,
        "tags": posting.tags,
        "categories": { "location": posting.location, "team": null },
    }})))
}

async fn list_stages(
    State(sim): State<LeverSim>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let number = |key: &str, default: usize| match param(&params, key).next() {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad_request(format!("{key} must be a number"))),
    };
    let limit = number("limit", 100)?;
    if !(1..=100).contains(&limit) {
        return Err(bad_request("limit must be between 1 and 100"));
    }
    let offset = number("offset", 0)?;
    let state = sim.lock();
    let page: Vec<Value> = state
        .stages
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, text)| json!({ "id": id, "text": text }))
        .collect();
    let end = offset.saturating_add(limit);
    let mut body = json!({ "data": page, "hasNext": end < state.stages.len() });
    if end < state.stages.len() {
        body["next"] = json!(end.to_string());
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
}

async fn add_tags(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    edit_tags(&sim, &id, &body, |tags, new| {
        for tag in new {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    })
}

async fn remove_tags(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    edit_tags(&sim, &id, &body, |tags, gone| {
        tags.retain(|t| !gone.contains(t))
    })
}

fn edit_tags(
    sim: &LeverSim,
    id: &str,
    body: &[u8],
    edit: impl FnOnce(&mut Vec<String>, Vec<String>),
) -> Result<Json<Value>, ApiError> {
    let TagsBody { tags } = parse_json(body, StatusCode::BAD_REQUEST)?;
    let mut state = sim.lock();
    let opportunity = state.opportunity(id)?;
    edit(&mut opportunity.tags, tags);
    Ok(Json(
        json!({ "data": opportunity_json(opportunity, false) }),
    ))
}

#[derive(Deserialize)]
struct NoteBody {
    value: String,
    secret: Option<bool>,
}

async fn create_note(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let note: NoteBody = parse_json(&body, StatusCode::BAD_REQUEST)?;
    let mut state = sim.lock();
    state.opportunity(&id)?;
    let note_id = Uuid::new_v4().to_string();
    state.notes.entry(id).or_default().push(SimNote {
        id: note_id.clone(),
        value: note.value,
        secret: note.secret.unwrap_or(false),
        created_at: now_millis(),
        updated_at: None,
    });
    let body = json!({ "data": { "noteId": note_id } });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn update_note(
    State(sim): State<LeverSim>,
    Path((id, note_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let update: NoteBody = parse_json(&body, StatusCode::BAD_REQUEST)?;
    let mut state = sim.lock();
    state.opportunity(&id)?;
    let note = state
        .notes
        .get_mut(&id)
        .and_then(|notes| notes.iter_mut().find(|n| n.id == note_id))
        .ok_or_else(|| not_found("note", &note_id))?;
    note.value = update.value;
    note.secret = update.secret.unwrap_or(note.secret);
    note.updated_at = Some(now_millis());
    Ok(Json(json!({ "data": { "noteId": note_id } })))
}

async fn inspect_opportunity(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = sim.lock();
    let opportunity = state
        .opportunities
        .get(&id)
        .ok_or_else(|| not_found("opportunity", &id))?;
    let notes: Vec<Value> = state
        .notes
        .get(&id)
        .into_iter()
        .flatten()
        .map(|n| {
            json!({
                "id": n.id,
                "value": n.value,
                "secret": n.secret,
                "createdAt": n.created_at,
                "updatedAt": n.updated_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": opportunity.id,
        "stage": opportunity.stage,
        "stageText": state.stage_text(&opportunity.stage),
        "tags": opportunity.tags,
        "notes": notes,
    })))
}

#[derive(Deserialize)]
struct WebhookBody {
    event: String,
    url: String,
}

async fn create_webhook(
    State(sim): State<LeverSim>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let WebhookBody { event, url } = parse_json(&body, StatusCode::BAD_REQUEST)?;
    if !EVENTS.contains(&event.as_str()) {
        return Err(bad_request(format!("unknown event {event:?}")));
    }
    // Lever insists on HTTPS; plain http passes so that local receivers can subscribe.
    if !Url::parse(&url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
        return Err(bad_request("url must be an absolute http(s) URL"));
    }
    let webhook = SimWebhook::new(event, url, random_hex(32));
    let body = json!({ "data": webhook.to_json() });
    sim.lock().webhooks.push(webhook);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_webhooks(State(sim): State<LeverSim>) -> Json<Value> {
    let state = sim.lock();
    let data: Vec<Value> = state.webhooks.iter().map(SimWebhook::to_json).collect();
    Json(json!({ "data": data, "hasNext": false }))
}

async fn delete_webhook(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut state = sim.lock();
    let index = state
        .webhooks
        .iter()
        .position(|webhook| webhook.id == id)
        .ok_or_else(|| not_found("webhook", &id))?;
    state.webhooks.remove(index);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /oauth/authorize`; `audience` is accepted and ignored, as production and sandbox
/// differ in it.
#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    scope: Option<String>,
}

/// The admin answers the consent screen at once: Accept (a one-time code) unless
/// `deny_next_authorization` armed a Decline.
async fn authorize(
    State(sim): State<LeverSim>,
    Query(query): Query<AuthorizeQuery>,
) -> Result<Response, OAuthError> {
    let mut state = sim.lock();
    let oauth = &mut state.oauth;
    let app = oauth
        .app
        .as_ref()
        .filter(|app| query.client_id.as_deref() == Some(app.client_id.as_str()))
        .ok_or_else(|| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "unknown client_id",
            )
        })?;
    if query.redirect_uri.as_deref() != Some(app.redirect_uri.as_str()) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not the app's callback URL",
        ));
    }
    if query.response_type.as_deref() != Some("code") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let mut location = Url::parse(&app.redirect_uri).map_err(|e| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("redirect_uri: {e}"),
        )
    })?;
    {
        let mut pairs = location.query_pairs_mut();
        if std::mem::take(&mut oauth.deny_next) {
            pairs.append_pair("error", "access_denied");
        } else {
            let scopes: Vec<String> = query
                .scope
                .iter()
                .flat_map(|scope| scope.split_whitespace())
                .map(str::to_owned)
                .collect();
            let code = random_hex(32);
            oauth.codes.insert(code.clone(), scopes.join(" "));
            oauth.granted_scopes = scopes;
            pairs.append_pair("code", &code);
        }
        if let Some(state) = &query.state {
            pairs.append_pair("state", state);
        }
    }
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response())
}

/// `POST /oauth/token`, form-urlencoded, the client authenticating in the body.
#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

async fn issue_oauth_token(
    State(sim): State<LeverSim>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Json<Value>, OAuthError> {
    let delay = sim.lock().oauth.token_delay;
    tokio::time::sleep(delay).await;
    let Form(form) = form.map_err(|rejection| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            rejection.body_text(),
        )
    })?;
    sim.lock().oauth.exchange(form).map(Json)
}
