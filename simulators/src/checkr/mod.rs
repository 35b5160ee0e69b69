//! Checkr simulator, written from Checkr's public API reference (docs.checkr.com and the
//! OpenAPI description it publishes), apart from the product's adapter:
//!
//! - HTTP Basic with the API key as the user name and an empty password; 401 `{"error":
//!   "Bad authentication error"}` otherwise. Every error is `{"error": "<message>"}`.
//! - `POST /v1/candidates` (for the invitation flow only `email` is required; duplicates are
//!   allowed, at most two per email within 24 h, then 409), `GET /v1/candidates/{id}`.
//! - `GET /v1/packages`, in Checkr's list envelope.
//! - `POST /v1/invitations` (`package` slug, `candidate_id`, `work_locations` with a `state`
//!   for US locations; an unknown package is 404 "Package not found"), `GET` and `DELETE
//!   /v1/invitations/{id}` (only a pending invitation can be cancelled; 400 otherwise).
//! - `GET /v1/reports/{id}`.
//! - Request bodies form-urlencoded (the default) or JSON with `Content-Type:
//!   application/json`.
//! - `Idempotency-Key` on POST: the first 2xx answer for a key is saved for 24 h and replayed.
//! - 1,200 requests a minute, with `X-Ratelimit-Limit`, `X-Ratelimit-Remaining` and
//!   `X-Ratelimit-Reset` on every answer and 429 beyond.
//! - Webhooks to at most two URLs, `{id, object:"event", type, created_at, webhook_url,
//!   data:{object}, account_id}`, signed in `X-Checkr-Signature` with the hex HMAC-SHA256 of
//!   the raw body keyed with the API key; a failed delivery is retried every minute for 10
//!   minutes, then every hour for 24 hours ([`CheckrSim::set_minute`] shortens the minute).
//!
//! What a candidate and Checkr's screeners do is driven from Rust:
//! [`CheckrSim::complete_invitation`] (the candidate fills in the form: the invitation
//! completes and a pending report is created), [`CheckrSim::complete_report`] (a result of
//! `clear` or `consider`), [`CheckrSim::expire_invitation`].

mod api;

use crate::{lock, now_millis, timestamp, FaultSource, Faults, SimError};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Checkr's documented rate limit: 1,200 requests a minute, across all endpoints.
pub const REQUESTS_PER_MINUTE: u32 = 1_200;
/// How long an idempotency key's saved answer is replayed: 24 hours.
const IDEMPOTENCY_KEY_LIFETIME_MS: i64 = 24 * 3_600_000;
/// "No more than 2 duplicate candidates can be created within a 24 hour period."
const DUPLICATE_CANDIDATES_PER_DAY: usize = 2;
/// At most two webhook URLs per account (Dashboard, Developer Settings).
const MAX_WEBHOOK_URLS: usize = 2;
/// The retry schedule of a failed webhook: every minute for 10 minutes, then every hour for
/// 24 hours, in minutes after the first attempt's failure.
pub fn retry_schedule_minutes() -> Vec<u64> {
    let minutely = (1..=10).collect::<Vec<u64>>();
    let hourly = (1..=24).map(|hour| 10 + 60 * hour);
    minutely.into_iter().chain(hourly).collect()
}

/// A candidate, as `POST /v1/candidates` stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckrCandidate {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub custom_id: Option<String>,
    pub created_at: i64,
}

/// One work location of an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkLocation {
    pub country: String,
    pub state: Option<String>,
    pub city: Option<String>,
}

/// An invitation: `pending` until the candidate completes it, or it expires (7 days), or it
/// is cancelled (`deleted_at` set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckrInvitation {
    pub id: String,
    pub candidate_id: String,
    pub package: String,
    pub work_locations: Vec<WorkLocation>,
    pub tags: Vec<String>,
    /// `pending`, `completed` or `expired`.
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub report_id: Option<String>,
}

/// A report: `pending`, then `complete` with a `result` of `clear` or `consider` (or
/// `suspended`, `canceled`, `dispute` ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckrReport {
    pub id: String,
    pub candidate_id: String,
    pub package: String,
    pub status: String,
    pub result: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    pub tags: Vec<String>,
}

/// A package a customer can order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckrPackage {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// One delivery attempt of a webhook, and what the receiver answered.
#[derive(Debug, Clone)]
pub struct CheckrWebhook {
    /// The event's id (the same on every retry of one event).
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    /// The raw body, as signed.
    pub body: String,
    /// The `X-Checkr-Signature` sent.
    pub signature: String,
    /// The receiver's status, or 0 when it could not be reached.
    pub status: u16,
    /// 0 for the first attempt, n for the n-th retry.
    pub retry: usize,
}

#[derive(Debug, Default)]
struct IdempotentAnswer {
    status: u16,
    body: String,
    saved_at: i64,
}

#[derive(Debug)]
struct CheckrState {
    packages: Vec<CheckrPackage>,
    candidates: Vec<CheckrCandidate>,
    invitations: Vec<CheckrInvitation>,
    reports: Vec<CheckrReport>,
    webhook_urls: Vec<String>,
    include_object: bool,
    webhooks: Vec<CheckrWebhook>,
    idempotency: HashMap<String, IdempotentAnswer>,
    /// Requests counted in the current minute: (minute since the epoch, count).
    window: (i64, u32),
    requests_per_minute: u32,
    next_id: u64,
    /// How long "a minute" of the retry schedule lasts.
    minute: Duration,
    faults: Faults,
}

impl Default for CheckrState {
    fn default() -> Self {
        CheckrState {
            packages: Vec::new(),
            candidates: Vec::new(),
            invitations: Vec::new(),
            reports: Vec::new(),
            webhook_urls: Vec::new(),
            include_object: true,
            webhooks: Vec::new(),
            idempotency: HashMap::new(),
            window: (0, 0),
            requests_per_minute: REQUESTS_PER_MINUTE,
            next_id: 0,
            minute: Duration::from_secs(60),
            faults: Faults::default(),
        }
    }
}

impl CheckrState {
    /// A 24-hex-digit id, as Checkr's look, unique in this simulator.
    fn new_id(&mut self, salt: &str) -> String {
        self.next_id += 1;
        let digest = <Sha256 as sha2::Digest>::digest(format!("{salt}:{}", self.next_id));
        hex::encode(&digest[..12])
    }

    fn candidate(&self, id: &str) -> Option<&CheckrCandidate> {
        self.candidates.iter().find(|c| c.id == id)
    }

    fn invitation_mut(&mut self, id: &str) -> Option<&mut CheckrInvitation> {
        self.invitations.iter_mut().find(|i| i.id == id)
    }

    fn report_mut(&mut self, id: &str) -> Option<&mut CheckrReport> {
        self.reports.iter_mut().find(|r| r.id == id)
    }
}

#[derive(Clone)]
pub struct CheckrSim {
    state: Arc<Mutex<CheckrState>>,
    api_key: Arc<str>,
    account_id: Arc<str>,
    http: reqwest::Client,
}

impl FaultSource for CheckrSim {
    fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        f(&mut self.lock().faults)
    }
}

impl CheckrSim {
    /// A Checkr account whose secret API key is `api_key`.
    pub fn new(api_key: &str) -> Self {
        CheckrSim {
            state: Arc::default(),
            api_key: api_key.into(),
            account_id: "a1b2c3d4e5f6a7b8c9d0e1f2".into(),
            http: reqwest::Client::new(),
        }
    }

    /// Checkr's API under `/v1`.
    pub fn router(&self) -> axum::Router {
        api::router(self)
    }

    fn lock(&self) -> MutexGuard<'_, CheckrState> {
        lock(&self.state)
    }

    /// Adds a package customers can order by `slug`.
    pub fn add_package(&self, slug: &str, name: &str) {
        let mut state = self.lock();
        let id = state.new_id("package");
        state.packages.retain(|p| p.slug != slug);
        state.packages.push(CheckrPackage {
            id,
            slug: slug.to_owned(),
            name: name.to_owned(),
        });
    }

    /// Adds a webhook URL, as an admin does in the Dashboard; Checkr keeps at most two.
    pub fn add_webhook_url(&self, url: &str) -> Result<(), SimError> {
        let mut state = self.lock();
        if state.webhook_urls.len() >= MAX_WEBHOOK_URLS {
            return Err(SimError::NotSubscribed(format!(
                "{url}: Checkr keeps at most {MAX_WEBHOOK_URLS} webhook URLs"
            )));
        }
        state.webhook_urls.push(url.to_owned());
        Ok(())
    }

    /// Whether webhooks carry the whole object (on, the default) or only `{id, object, uri}`.
    pub fn set_include_object(&self, include: bool) {
        self.lock().include_object = include;
    }

    /// How long a minute of the webhook retry schedule lasts (a real minute by default), so
    /// a test can watch the schedule run.
    pub fn set_minute(&self, minute: Duration) {
        self.lock().minute = minute;
    }

    /// The rate limit, 1,200 requests a minute unless set.
    pub fn set_requests_per_minute(&self, limit: u32) {
        self.lock().requests_per_minute = limit;
    }

    /// The next `n` requests answer `status` unserved (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    /// The next `n` creates that succeed are applied, then answered `status`, as by a
    /// gateway that lost Checkr's answer.
    pub fn fail_after_applying(&self, n: usize, status: u16) {
        self.lock().faults.arm_after(n, status);
    }

    pub fn candidates(&self) -> Vec<CheckrCandidate> {
        self.lock().candidates.clone()
    }

    pub fn invitations(&self) -> Vec<CheckrInvitation> {
        self.lock().invitations.clone()
    }

    pub fn reports(&self) -> Vec<CheckrReport> {
        self.lock().reports.clone()
    }

    /// Every webhook delivery attempt so far, retries included.
    pub fn webhooks(&self) -> Vec<CheckrWebhook> {
        self.lock().webhooks.clone()
    }

    /// Waits (up to `timeout`) until at least `count` webhook deliveries were attempted and
    /// every one was answered (Checkr sends its webhooks after its own answers, in the
    /// background); answers them all.
    pub async fn webhooks_answered(&self, count: usize, timeout: Duration) -> Vec<CheckrWebhook> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let sent = self.webhooks();
            let answered = sent.len() >= count && sent.iter().all(|w| w.status != 0);
            if answered || tokio::time::Instant::now() >= until {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The candidate completes the invitation's form: the invitation is `completed` and a
    /// `pending` report is created (webhooks `invitation.completed`, `report.created`).
    /// Answers the report's id.
    pub async fn complete_invitation(&self, invitation_id: &str) -> Result<String, SimError> {
        let (invitation, report) = {
            let mut state = self.lock();
            let report_id = state.new_id("report");
            let now = now_millis();
            let invitation = state
                .invitation_mut(invitation_id)
                .filter(|i| i.status == "pending" && i.deleted_at.is_none())
                .ok_or_else(|| not_found("pending invitation", invitation_id))?;
            invitation.status = "completed".to_owned();
            invitation.completed_at = Some(now);
            invitation.report_id = Some(report_id.clone());
            let invitation = invitation.clone();
            let report = CheckrReport {
                id: report_id,
                candidate_id: invitation.candidate_id.clone(),
                package: invitation.package.clone(),
                status: "pending".to_owned(),
                result: None,
                created_at: now,
                completed_at: None,
                tags: invitation.tags.clone(),
            };
            state.reports.push(report.clone());
            (invitation, report)
        };
        self.notify("invitation.completed", invitation_json(&invitation))
            .await;
        self.notify("report.created", report_json(&report)).await;
        Ok(report.id)
    }

    /// The screeners finish the report with `result` (`clear` or `consider`): webhook
    /// `report.completed`.
    pub async fn complete_report(&self, report_id: &str, result: &str) -> Result<(), SimError> {
        let report = {
            let mut state = self.lock();
            let report = state
                .report_mut(report_id)
                .ok_or_else(|| not_found("report", report_id))?;
            report.status = "complete".to_owned();
            report.result = Some(result.to_owned());
            report.completed_at = Some(now_millis());
            report.clone()
        };
        self.notify("report.completed", report_json(&report)).await;
        Ok(())
    }

    /// The invitation expires unanswered: webhook `invitation.expired`.
    pub async fn expire_invitation(&self, invitation_id: &str) -> Result<(), SimError> {
        let invitation = {
            let mut state = self.lock();
            let invitation = state
                .invitation_mut(invitation_id)
                .filter(|i| i.status == "pending")
                .ok_or_else(|| not_found("pending invitation", invitation_id))?;
            invitation.status = "expired".to_owned();
            invitation.clone()
        };
        self.notify("invitation.expired", invitation_json(&invitation))
            .await;
        Ok(())
    }

    /// Sends an event of `event_type` about `object` to every webhook URL, signed; a failed
    /// delivery is retried on Checkr's schedule in the background.
    async fn notify(&self, event_type: &str, object: Value) {
        let (urls, include_object, event_id) = {
            let mut state = self.lock();
            let event_id = state.new_id("event");
            (state.webhook_urls.clone(), state.include_object, event_id)
        };
        let object = if include_object {
            object
        } else {
            json!({ "id": object["id"], "object": object["object"], "uri": object["uri"] })
        };
        for url in urls {
            let body = json!({
                "id": event_id,
                "object": "event",
                "type": event_type,
                "created_at": timestamp(now_millis()),
                "webhook_url": url,
                "data": { "object": object },
                "account_id": self.account_id.as_ref(),
            })
            .to_string();
            let delivery = Delivery {
                event_id: event_id.clone(),
                event_type: event_type.to_owned(),
                url,
                body,
            };
            if !self.deliver(&delivery, 0).await {
                let sim = self.clone();
                tokio::spawn(async move { sim.retry(delivery).await });
            }
        }
    }

    async fn retry(&self, delivery: Delivery) {
        let mut waited = 0;
        for (n, at) in retry_schedule_minutes().into_iter().enumerate() {
            let minute = self.lock().minute;
            let wait = (at - waited) as u32;
            waited = at;
            tokio::time::sleep(minute * wait).await;
            if self.deliver(&delivery, n + 1).await {
                return;
            }
        }
    }

    /// One attempt; true when the receiver acknowledged it (any 2xx).
    async fn deliver(&self, delivery: &Delivery, retry: usize) -> bool {
        let signature = sign(&self.api_key, delivery.body.as_bytes());
        let status = self
            .http
            .post(&delivery.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Checkr-Webhook/1.0")
            .header("X-Checkr-Signature", &signature)
            .body(delivery.body.clone())
            .send()
            .await
            .map(|response| response.status().as_u16())
            .unwrap_or(0);
        self.lock().webhooks.push(CheckrWebhook {
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            url: delivery.url.clone(),
            body: delivery.body.clone(),
            signature,
            status,
            retry,
        });
        (200..300).contains(&status)
    }
}

struct Delivery {
    event_id: String,
    event_type: String,
    url: String,
    body: String,
}

/// `X-Checkr-Signature`: the lowercase hex HMAC-SHA256 of the raw body, keyed with the API
/// key.
pub fn sign(api_key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(api_key.as_bytes())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn not_found(what: &'static str, id: &str) -> SimError {
    SimError::NotFound {
        what,
        id: id.to_owned(),
    }
}

fn optional_time(millis: Option<i64>) -> Value {
    millis.map_or(Value::Null, |m| json!(timestamp(m)))
}

pub(crate) fn candidate_json(candidate: &CheckrCandidate) -> Value {
    json!({
        "id": candidate.id,
        "object": "candidate",
        "uri": format!("/v1/candidates/{}", candidate.id),
        "email": candidate.email,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "phone": candidate.phone,
        "custom_id": candidate.custom_id,
        "created_at": timestamp(candidate.created_at),
    })
}

pub(crate) fn invitation_json(invitation: &CheckrInvitation) -> Value {
    let locations: Vec<Value> = invitation
        .work_locations
        .iter()
        .map(|l| json!({ "country": l.country, "state": l.state, "city": l.city }))
        .collect();
    json!({
        "id": invitation.id,
        "object": "invitation",
        "uri": format!("/v1/invitations/{}", invitation.id),
        "invitation_url": format!("https://apply.checkr.example/invite/{}", invitation.id),
        "status": invitation.status,
        "created_at": timestamp(invitation.created_at),
        "expires_at": timestamp(invitation.expires_at),
        "completed_at": optional_time(invitation.completed_at),
        "deleted_at": optional_time(invitation.deleted_at),
        "package": invitation.package,
        "candidate_id": invitation.candidate_id,
        "report_id": invitation.report_id,
        "work_locations": locations,
        "tags": invitation.tags,
        "archived": false,
    })
}

pub(crate) fn report_json(report: &CheckrReport) -> Value {
    json!({
        "id": report.id,
        "object": "report",
        "uri": format!("/v1/reports/{}", report.id),
        "status": report.status,
        "result": report.result,
        "adjudication": null,
        "assessment": null,
        "source": "form",
        "package": report.package,
        "candidate_id": report.candidate_id,
        "tags": report.tags,
        "created_at": timestamp(report.created_at),
        "completed_at": optional_time(report.completed_at),
    })
}
