//! Sterling simulator, written from Sterling's public API v2: OAuth2 client credentials
//! with expiring tokens; packages; candidates, unique by email and by `clientReferenceId`;
//! screenings, never deduplicated (v2 documents no idempotency key), with no cancel
//! endpoint; unsigned `{type, payload}` callbacks; errors as `{"errors":[{code, message}]}`.
//! The screening object also carries this product's Backcheck fields (docs/vendor-apis.md, "Sterling
//! Backcheck"), its words in the seed's Backcheck [`Vocabulary`] or in v2's.

mod api;
mod model;

pub use model::{
    InviteMethod, SentEmail, SterlingCallback, SterlingCandidate, SterlingInvite, SterlingPackage,
    SterlingReportItem, SterlingScreening, Vocabulary,
};

use crate::{lock, now_millis, timestamp, Armed, FaultSource, Faults, SimError};
use axum::http::header;
use axum::Router;
use model::{COMPLETE, COMPLETED, ERROR, FULFILLED};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Sterling's documented token lifetime: 10 hours.
const TOKEN_LIFETIME: Duration = Duration::from_secs(36_000);

#[derive(Debug)]
struct SterlingState {
    /// Token → when it stops authorizing requests.
    tokens: HashMap<String, Instant>,
    token_lifetime: Duration,
    tokens_issued: usize,
    packages: Vec<SterlingPackage>,
    candidates: Vec<SterlingCandidate>,
    screenings: Vec<SterlingScreening>,
    emails: Vec<SentEmail>,
    vocabulary: Vocabulary,
    faults: Faults,
    /// Like `faults.after`, for screening creates only.
    screening_faults: Armed,
}

impl Default for SterlingState {
    fn default() -> Self {
        SterlingState {
            tokens: HashMap::new(),
            token_lifetime: TOKEN_LIFETIME,
            tokens_issued: 0,
            packages: Vec::new(),
            candidates: Vec::new(),
            screenings: Vec::new(),
            emails: Vec::new(),
            vocabulary: Vocabulary::default(),
            faults: Faults::default(),
            screening_faults: Armed::default(),
        }
    }
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

    /// Sterling's API under `/v2`; all but `POST /v2/oauth` need a live Bearer token from it.
    pub fn router(&self) -> Router {
        api::router(self)
    }

    /// The next `n` requests, token requests included, answer `status` unserved (429 with
    /// `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    /// The next `n` creates (`POST /v2/candidates`, `POST /v2/screenings`) that succeed are
    /// applied, then answered `status`, as by a gateway that lost Sterling's answer. Token
    /// requests do not count.
    pub fn fail_after_applying(&self, n: usize, status: u16) {
        self.lock().faults.arm_after(n, status);
    }

    /// Like [`SterlingSim::fail_after_applying`], for the next `n` screening creates only.
    pub fn fail_screenings_after_applying(&self, n: usize, status: u16) {
        self.lock().screening_faults = Armed::new(n, status);
    }

    /// Every request is answered `latency` late (zero, the default, for none).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().faults.latency = latency;
    }

    /// How long the tokens issued from now on last, 10 hours unless set; `expires_in`
    /// says it in whole seconds, rounded up.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.lock().token_lifetime = lifetime;
    }

    /// How many tokens `POST /v2/oauth` has handed out.
    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens_issued
    }

    /// Every token issued so far stops working, as at the end of its lifetime.
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// The words screenings are rendered in, over HTTP and in callbacks, from now on.
    pub fn set_vocabulary(&self, vocabulary: Vocabulary) {
        self.lock().vocabulary = vocabulary;
    }

    pub fn vocabulary(&self) -> Vocabulary {
        self.lock().vocabulary
    }

    /// Adds an active package whose components are `services`, or replaces the one with
    /// this id.
    pub fn add_package(&self, id: &str, title: &str, services: &[&str]) {
        let package = SterlingPackage {
            id: id.to_owned(),
            title: title.to_owned(),
            active: true,
            components: services.iter().map(|s| (*s).to_owned()).collect(),
            required_fields: Vec::new(),
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

    /// Sets the order status to any word: a Backcheck one, which [`Vocabulary::V2`]
    /// renders in v2's words, or any other, rendered as set.
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
        self.update(id, |screening, now| {
            screening
                .report_items
                .iter_mut()
                .find(|item| item.service_type == service_type)
                .ok_or_else(|| SimError::not_found("report item", service_type))?
                .complete(score, report_url, now);
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
        self.update(id, |screening, now| {
            for item in screening.report_items.iter_mut() {
                if item.status != COMPLETE {
                    item.complete(score, report_url, now);
                }
            }
            screening.status = COMPLETED.to_owned();
            screening.score = Some(score.to_owned());
            screening.report_url = Some(report_url.to_owned());
            screening.completed_at = Some(now[..10].to_owned());
            screening.overall_service_status = FULFILLED.to_owned();
            Ok(())
        })
    }

    /// Posts `{"type":"screening","payload":<the screening as it is now>}`, in the current
    /// vocabulary, to its callback URI.
    pub async fn post_callback(&self, id: &str) -> Result<SterlingCallback, SimError> {
        let payload = {
            let state = self.lock();
            state
                .screening(id)
                .ok_or_else(|| SimError::not_found("screening", id))?
                .to_json_in(state.vocabulary)
        };
        self.post_callback_with(id, payload).await
    }

    /// Posts `{"type":"screening","payload":payload}` to the screening's callback URI: a
    /// forged or stale payload, since nothing in an unsigned callback proves its origin.
    pub async fn post_callback_with(
        &self,
        id: &str,
        payload: Value,
    ) -> Result<SterlingCallback, SimError> {
        let url = self
            .screening(id)
            .ok_or_else(|| SimError::not_found("screening", id))?
            .callback_uri;
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

    /// Applies `change` (given the time now, `YYYY-MM-DDTHH:MM:SSZ`) and stamps `updatedAt`.
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
        change(screening, &now)?;
        screening.updated_at = now;
        Ok(screening.clone())
    }

    fn lock(&self) -> MutexGuard<'_, SterlingState> {
        lock(&self.state)
    }
}

impl FaultSource for SterlingSim {
    fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        f(&mut self.lock().faults)
    }
}
