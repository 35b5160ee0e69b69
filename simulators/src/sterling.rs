//! Sterling simulator: Sterling's public API v2 transport (OAuth2 client credentials,
//! packages, candidates, screenings, unsigned `{type, payload}` callbacks) with the
//! screening object in the seed's Backcheck vocabulary (vendors.md, "Sterling Backcheck").

use super::{json_error, lock, parse_json, ApiError, Faults, SimError};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use crate::{now_millis, timestamp};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// Sterling's documented token lifetime, in seconds.
const TOKEN_LIFETIME_SECS: u32 = 36_000;
const PORTAL_URL: &str = "https://candidate.sterling.example/portal";
const ADMIN_URL: &str = "https://app.sterling.example/screenings";

// The seed's Backcheck words.
const INITIATED: &str = "Initiated";
const COMPLETED: &str = "Completed";
const ERROR: &str = "Error";
const IN_PRODUCTION: &str = "In Production";
const FULFILLED: &str = "Fulfilled";
const NOT_STARTED: &str = "Not Started";
const COMPLETE: &str = "Complete";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SterlingPackage {
    pub id: String,
    pub title: String,
    /// Service names, which become the screening's report item types.
    pub services: Vec<String>,
}

/// A candidate as posted to `POST /v2/candidates`, and as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SterlingCandidate {
    /// `cand_<n>`; Sterling's to assign, so never read from a request.
    #[serde(default, skip_deserializing)]
    pub id: String,
    pub client_reference_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteMethod {
    /// Sterling emails the candidate the portal link (recorded in [`SterlingSim::emails`]).
    Email,
    /// The client passes the link on itself.
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SterlingInvite {
    pub method: InviteMethod,
    /// The candidate portal URL; Sterling's to assign.
    #[serde(default, skip_deserializing)]
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SterlingReportItem {
    pub id: String,
    /// The service name (Lever's "ScreeningName").
    #[serde(rename = "type")]
    pub service_type: String,
    /// "Not Started" or "Complete".
    pub status: String,
    pub score: Option<String>,
    /// `YYYY-MM-DD`.
    pub completed_at: Option<String>,
    pub report_url: Option<String>,
}

impl SterlingReportItem {
    fn complete(&mut self, score: &str, report_url: &str, today: &str) {
        self.status = COMPLETE.to_owned();
        self.score = Some(score.to_owned());
        self.completed_at = Some(today.to_owned());
        self.report_url = Some(report_url.to_owned());
    }
}

/// The screening object that `GET /v2/screenings/{id}` and callbacks carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SterlingScreening {
    /// `scr_<n>`.
    pub id: String,
    /// Sterling's reference number, `BC-<n>`, which the Lever notes show.
    pub order_number: String,
    pub package_id: String,
    pub candidate_id: String,
    /// Initiated / In Progress / Canceled / Error / Completed, or whatever a test sets.
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
    #[serde(rename = "links", serialize_with = "admin_links")]
    pub admin_url: String,
    #[serde(rename = "callback", serialize_with = "callback_uri")]
    pub callback_uri: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub submitted_at: String,
    pub updated_at: String,
}

impl SterlingScreening {
    pub fn to_json(&self) -> Value {
        json!(self)
    }
}

fn admin_links<S: Serializer>(web: &str, serializer: S) -> Result<S::Ok, S::Error> {
    json!({ "admin": { "web": web } }).serialize(serializer)
}

fn callback_uri<S: Serializer>(uri: &str, serializer: S) -> Result<S::Ok, S::Error> {
    json!({ "uri": uri }).serialize(serializer)
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
    /// Where it was posted, so [`SterlingSim::resend`] can post it again.
    pub url: String,
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScreeningRequest {
    package_id: String,
    candidate_id: String,
    callback: CallbackRequest,
    invite: SterlingInvite,
}

#[derive(Deserialize)]
struct CallbackRequest {
    uri: String,
}

#[derive(Debug, Default)]
struct SterlingState {
    /// Tokens that still authorize a request.
    live_tokens: HashSet<String>,
    tokens_issued: usize,
    packages: Vec<SterlingPackage>,
    candidates: Vec<SterlingCandidate>,
    screenings: Vec<SterlingScreening>,
    /// `Idempotency-Key` header → screening id.
    idempotency_keys: HashMap<String, String>,
    emails: Vec<SentEmail>,
    faults: Faults,
}

impl SterlingState {
    fn screening(&self, id: &str) -> Option<&SterlingScreening> {
        self.screenings.iter().find(|s| s.id == id)
    }
}

#[derive(Clone)]
pub struct SterlingSim {
    state: Arc<Mutex<SterlingState>>,
    /// `client_id:client_secret`, as Basic auth carries it.
    credentials: Arc<str>,
    http: reqwest::Client,
}

impl SterlingSim {
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        SterlingSim {
            state: Arc::default(),
            credentials: format!("{client_id}:{client_secret}").into(),
            http: reqwest::Client::new(),
        }
    }

    /// Sterling's API under `/v2`; all but `POST /v2/oauth` need a Bearer token from it.
    pub fn router(&self) -> Router {
        let v2 = Router::new()
            .route("/packages", get(list_packages))
            .route("/candidates", post(create_candidate))
            .route("/screenings", post(create_screening))
            .route("/screenings/{id}", get(get_screening))
            .route_layer(middleware::from_fn_with_state(self.clone(), require_bearer))
            .route("/oauth", post(issue_token))
            .fallback(
                |OriginalUri(uri): OriginalUri| async move { not_found("resource", uri.path()) },
            )
            .layer(middleware::from_fn_with_state(self.clone(), inject_faults));
        Router::new().nest("/v2", v2).with_state(self.clone())
    }

    /// The next `n` `/v2` requests, token requests included, answer `status` (429 with
    /// `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    /// How many tokens `POST /v2/oauth` has handed out.
    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens_issued
    }

    /// Every token issued so far stops working, as at the end of its lifetime.
    pub fn expire_tokens(&self) {
        self.lock().live_tokens.clear();
    }

    /// Adds a package, or replaces the one with this id.
    pub fn add_package(&self, id: &str, title: &str, services: &[&str]) {
        let package = SterlingPackage {
            id: id.to_owned(),
            title: title.to_owned(),
            services: services.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut state = self.lock();
        state.packages.retain(|p| p.id != id);
        state.packages.push(package);
    }

    pub fn candidates(&self) -> Vec<SterlingCandidate> {
        self.lock().candidates.clone()
    }

    pub fn screenings(&self) -> Vec<SterlingScreening> {
        self.lock().screenings.clone()
    }

    pub fn screening(&self, id: &str) -> Option<SterlingScreening> {
        self.lock().screening(id).cloned()
    }

    pub fn emails(&self) -> Vec<SentEmail> {
        self.lock().emails.clone()
    }

    /// Sets the order status to any word: the Backcheck ones or the v2 ones ("pending").
    pub fn set_status(&self, id: &str, status: &str) -> Result<SterlingScreening, SimError> {
        self.update(id, |screening, _| {
            screening.status = status.to_owned();
            Ok(())
        })
    }

    /// The order errored out: status "Error" with Sterling's message.
    pub fn set_error(&self, id: &str, message: &str) -> Result<SterlingScreening, SimError> {
        self.update(id, |screening, _| {
            screening.status = ERROR.to_owned();
            screening.error_message = Some(message.to_owned());
            Ok(())
        })
    }

    /// One service is done; the last one makes the order Fulfilled.
    pub fn complete_service(
        &self,
        id: &str,
        service_type: &str,
        score: &str,
        report_url: &str,
    ) -> Result<SterlingScreening, SimError> {
        self.update(id, |screening, today| {
            screening
                .report_items
                .iter_mut()
                .find(|item| item.service_type == service_type)
                .ok_or_else(|| SimError::not_found("report item", service_type))?
                .complete(score, report_url, today);
            if screening.report_items.iter().all(|i| i.status == COMPLETE) {
                screening.overall_service_status = FULFILLED.to_owned();
            }
            Ok(())
        })
    }

    /// The order is Completed with its score; services not yet done complete with it too.
    pub fn complete(
        &self,
        id: &str,
        score: &str,
        report_url: &str,
    ) -> Result<SterlingScreening, SimError> {
        self.update(id, |screening, today| {
            for item in screening.report_items.iter_mut() {
                if item.status != COMPLETE {
                    item.complete(score, report_url, today);
                }
            }
            screening.status = COMPLETED.to_owned();
            screening.score = Some(score.to_owned());
            screening.report_url = Some(report_url.to_owned());
            screening.completed_at = Some(today.to_owned());
            screening.overall_service_status = FULFILLED.to_owned();
            Ok(())
        })
    }

    /// Posts `{"type":"screening","payload":<the screening as it is now>}` to its callback URI.
    pub async fn post_callback(&self, id: &str) -> Result<SterlingCallback, SimError> {
        let payload = self.found(id)?.to_json();
        self.post_callback_with(id, payload).await
    }

    /// Posts `{"type":"screening","payload":payload}` to the screening's callback URI: a
    /// forged or stale payload, since nothing in an unsigned callback proves its origin.
    pub async fn post_callback_with(
        &self,
        id: &str,
        payload: Value,
    ) -> Result<SterlingCallback, SimError> {
        let url = self.found(id)?.callback_uri;
        let body = json!({ "type": "screening", "payload": payload }).to_string();
        self.deliver(url, body).await
    }

    /// Posts the same body to the same URL again, as Sterling's 15-minute retries do.
    pub async fn resend(&self, sent: &SterlingCallback) -> Result<SterlingCallback, SimError> {
        self.deliver(sent.url.clone(), sent.body.clone()).await
    }

    async fn deliver(&self, url: String, body: String) -> Result<SterlingCallback, SimError> {
        let response = self
            .http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await?;
        Ok(SterlingCallback {
            status: response.status().as_u16(),
            body,
            response: response.text().await?,
            url,
        })
    }

    fn found(&self, id: &str) -> Result<SterlingScreening, SimError> {
        self.screening(id)
            .ok_or_else(|| SimError::not_found("screening", id))
    }

    /// Applies `change` (given today's date) and stamps `updatedAt`.
    fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut SterlingScreening, &str) -> Result<(), SimError>,
    ) -> Result<SterlingScreening, SimError> {
        let now = timestamp(now_millis());
        let mut state = self.lock();
        let screening = state
            .screenings
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| SimError::not_found("screening", id))?;
        change(screening, &now[..10])?;
        screening.updated_at = now;
        Ok(screening.clone())
    }

    fn lock(&self) -> MutexGuard<'_, SterlingState> {
        lock(&self.state)
    }
}

fn not_found(what: &str, id: &str) -> ApiError {
    json_error(StatusCode::NOT_FOUND, "NotFound", format!("no {what} {id}"))
}

fn unprocessable(message: String) -> ApiError {
    json_error(StatusCode::UNPROCESSABLE_ENTITY, "InvalidRequest", message)
}

/// 422 naming the first required field that is blank.
fn require_filled(fields: &[(&str, &str)]) -> Result<(), ApiError> {
    match fields.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((field, _)) => Err(unprocessable(format!("{field} must not be empty"))),
        None => Ok(()),
    }
}

fn created_or_found(created: bool, body: impl Serialize) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

async fn inject_faults(State(sim): State<SterlingSim>, request: Request, next: Next) -> Response {
    let fault = sim.lock().faults.take();
    match fault {
        Some(response) => response,
        None => next.run(request).await,
    }
}

async fn require_bearer(
    State(sim): State<SterlingSim>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let live = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| sim.lock().live_tokens.contains(token));
    if !live {
        let message = "a live Bearer token from POST /v2/oauth is required";
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            message,
        ));
    }
    Ok(next.run(request).await)
}

async fn issue_token(
    State(sim): State<SterlingSim>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let authenticated = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|pair| pair == sim.credentials.as_bytes());
    if !authenticated {
        let message = "Basic auth with the client id and secret is required";
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            message,
        ));
    }
    if !form.is_ok_and(|Form(form)| form.grant_type == "client_credentials") {
        let message = "grant_type must be client_credentials";
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            message,
        ));
    }
    let token = Uuid::new_v4().simple().to_string();
    let mut state = sim.lock();
    state.live_tokens.insert(token.clone());
    state.tokens_issued += 1;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
    })))
}

async fn list_packages(State(sim): State<SterlingSim>) -> Json<Vec<SterlingPackage>> {
    Json(sim.lock().packages.clone())
}

async fn create_candidate(
    State(sim): State<SterlingSim>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut candidate: SterlingCandidate = parse_json(&body, StatusCode::UNPROCESSABLE_ENTITY)?;
    require_filled(&[
        ("givenName", &candidate.given_name),
        ("familyName", &candidate.family_name),
        ("email", &candidate.email),
    ])?;
    let mut state = sim.lock();
    let existing = candidate
        .client_reference_id
        .as_ref()
        .and_then(|reference| {
            state
                .candidates
                .iter()
                .find(|c| c.client_reference_id.as_ref() == Some(reference))
        });
    if let Some(existing) = existing {
        return Ok(created_or_found(false, existing));
    }
    candidate.id = format!("cand_{}", state.candidates.len() + 1);
    let response = created_or_found(true, &candidate);
    state.candidates.push(candidate);
    Ok(response)
}

async fn create_screening(
    State(sim): State<SterlingSim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ScreeningRequest = parse_json(&body, StatusCode::UNPROCESSABLE_ENTITY)?;
    require_filled(&[
        ("packageId", &request.package_id),
        ("candidateId", &request.candidate_id),
        ("callback.uri", &request.callback.uri),
    ])?;
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let mut state = sim.lock();
    let existing = idempotency_key
        .and_then(|key| state.idempotency_keys.get(key))
        .and_then(|id| state.screening(id));
    if let Some(existing) = existing {
        return Ok(created_or_found(false, existing));
    }
    let services = state
        .packages
        .iter()
        .find(|p| p.id == request.package_id)
        .ok_or_else(|| unprocessable(format!("no package {}", request.package_id)))?
        .services
        .clone();
    let email = state
        .candidates
        .iter()
        .find(|c| c.id == request.candidate_id)
        .ok_or_else(|| unprocessable(format!("no candidate {}", request.candidate_id)))?
        .email
        .clone();

    let screening = new_screening(state.screenings.len() + 1, request, &services);
    if screening.invite.method == InviteMethod::Email {
        state.emails.push(SentEmail {
            to: email,
            portal_url: screening.invite.link.clone(),
        });
    }
    if let Some(key) = idempotency_key {
        state
            .idempotency_keys
            .insert(key.to_owned(), screening.id.clone());
    }
    let response = created_or_found(true, &screening);
    state.screenings.push(screening);
    Ok(response)
}

fn new_screening(n: usize, request: ScreeningRequest, services: &[String]) -> SterlingScreening {
    let id = format!("scr_{n}");
    let now = timestamp(now_millis());
    let report_items = services
        .iter()
        .enumerate()
        .map(|(i, service)| SterlingReportItem {
            id: format!("{id}-{}", i + 1),
            service_type: service.clone(),
            status: NOT_STARTED.to_owned(),
            score: None,
            completed_at: None,
            report_url: None,
        })
        .collect();
    SterlingScreening {
        order_number: format!("BC-{}", 100_000 + n),
        package_id: request.package_id,
        candidate_id: request.candidate_id,
        status: INITIATED.to_owned(),
        score: None,
        overall_service_status: IN_PRODUCTION.to_owned(),
        report_url: None,
        completed_at: None,
        error_message: None,
        report_items,
        invite: SterlingInvite {
            method: request.invite.method,
            link: format!("{PORTAL_URL}/{}", Uuid::new_v4().simple()),
        },
        admin_url: format!("{ADMIN_URL}/{id}"),
        callback_uri: request.callback.uri,
        submitted_at: now.clone(),
        updated_at: now,
        id,
    }
}

async fn get_screening(
    State(sim): State<SterlingSim>,
    Path(id): Path<String>,
) -> Result<Json<SterlingScreening>, ApiError> {
    sim.screening(&id)
        .map(Json)
        .ok_or_else(|| not_found("screening", &id))
}

#[cfg(test)]
mod tests {
    use crate::timestamp;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(timestamp(-1_000), "1969-12-31T23:59:59Z");
    }
}
