//! In-memory simulators of Lever and the vendors, for the local server, its demo, the
//! end-to-end tests and the benchmark. Each is a cheap-to-clone handle: an axum `Router` for
//! the product to call, plus a Rust API to seed data, inspect it, inject faults and send
//! webhooks.
//!
//! They are witnesses, not mirrors: each is written from the external API's own
//! documentation (Lever's, Sterling's public API v2) or from this product's vendor contract
//! (`docs/vendors.md`), and this crate does not depend on the product, so a simulator cannot
//! quietly accept whatever the product's adapter happens to send.

pub mod esr;
pub mod hrlogics;
pub mod justifacts;
pub mod lever;
pub mod sterling;
pub mod xref;

pub use esr::{EsrCandidate, EsrOrder, EsrSim};
pub use hrlogics::{HrLogicsApplicant, HrLogicsSim};
pub use justifacts::{JustifactsInvitation, JustifactsSim};
pub use lever::{LeverSim, RecordedCall, SentWebhook, SimNote, SimOpportunity, SimPosting};
pub use sterling::{
    InviteMethod, SentEmail, SterlingCallback, SterlingCandidate, SterlingInvite, SterlingPackage,
    SterlingReportItem, SterlingScreening, SterlingSim,
};
pub use xref::{XrefCandidate, XrefOrder, XrefSim};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use standardwebhooks::{
    Webhook, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

/// Wall-clock time in ms.
pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a time in ms; its first 10 characters are the date.
pub fn timestamp(millis: EpochMillis) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulator has no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error("nothing is subscribed to {0}")]
    NotSubscribed(String),
    #[error("delivery failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot sign the callback: {0}")]
    Signing(#[from] standardwebhooks::WebhookError),
}

impl SimError {
    fn not_found(what: &'static str, id: &str) -> Self {
        SimError::NotFound {
            what,
            id: id.to_owned(),
        }
    }
}

/// The next `remaining` requests answer `status` instead of being served.
#[derive(Debug, Default)]
struct Faults {
    remaining: usize,
    status: u16,
}

impl Faults {
    fn arm(&mut self, n: usize, status: u16) {
        *self = Faults {
            remaining: n,
            status,
        };
    }

    /// The injected answer for this request, if a fault is armed.
    fn take(&mut self) -> Option<Response> {
        self.remaining = self.remaining.checked_sub(1)?;
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = json_error(
            status,
            "SimulatedFailure",
            "fault injected by the simulator",
        )
        .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Some(response)
    }
}

/// An error answer with the body in Lever's shape, `{"code","message"}`, which the vendor
/// contract reuses. Small (unlike a `Response`), so handlers return it through `?`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

fn json_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

/// Parses a JSON request body: 400 when it is not JSON, `invalid` when it is JSON of the
/// wrong shape (Lever says 400, the vendor contract 422).
fn parse_json<T: DeserializeOwned>(body: &[u8], invalid: StatusCode) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let (status, code) = if e.is_data() {
            (invalid, "InvalidRequest")
        } else {
            (StatusCode::BAD_REQUEST, "BadRequestError")
        };
        json_error(status, code, e.to_string())
    })
}

/// A panic in one test handler must not take the simulator down for the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// What the simulators of the contract vendors (vendors.md, "Common to every vendor": Xref,
// Justifacts, HRLogics, ESR) share: idempotent creates behind one credential, fault
// injection, and callbacks signed with Standard Webhooks.

/// One callback as posted, and what the receiver answered.
#[derive(Debug, Clone)]
pub struct SentCallback {
    pub status: u16,
    pub webhook_id: String,
    /// The raw body, as signed.
    pub body: String,
    pub response: String,
    /// Where it was posted, so the simulator's `resend` can post it again.
    pub url: String,
}

/// Posts callbacks signed with the Standard Webhooks scheme.
#[derive(Clone)]
struct Callbacks {
    /// `whsec_<base64>`.
    secret: Arc<str>,
    http: reqwest::Client,
}

impl Callbacks {
    fn new(secret: &str) -> Self {
        Callbacks {
            secret: secret.into(),
            http: reqwest::Client::new(),
        }
    }

    /// Posts `body` to `url` as a new message, with a `webhook-id` of its own.
    async fn send(&self, url: String, body: String) -> Result<SentCallback, SimError> {
        self.deliver(url, format!("msg_{}", Uuid::new_v4()), body)
            .await
    }

    /// Posts the same callback again: same `webhook-id` and body, fresh timestamp and
    /// signature, as a vendor's retry does.
    async fn resend(&self, sent: &SentCallback) -> Result<SentCallback, SimError> {
        self.deliver(sent.url.clone(), sent.webhook_id.clone(), sent.body.clone())
            .await
    }

    async fn deliver(
        &self,
        url: String,
        webhook_id: String,
        body: String,
    ) -> Result<SentCallback, SimError> {
        let timestamp = now_millis() / 1000;
        let signature =
            Webhook::new(&self.secret)?.sign(&webhook_id, timestamp, body.as_bytes())?;
        let response = self
            .http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(HEADER_WEBHOOK_ID, &webhook_id)
            .header(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(HEADER_WEBHOOK_SIGNATURE, signature)
            .body(body.clone())
            .send()
            .await?;
        Ok(SentCallback {
            status: response.status().as_u16(),
            webhook_id,
            body,
            response: response.text().await?,
            url,
        })
    }
}

/// Adds `key` to a callback body only when there is a value (the contract's `key?`).
fn set_optional(body: &mut Value, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body[key] = json!(value);
    }
}

/// How a contract vendor authenticates our requests.
#[derive(Debug)]
enum Credential {
    /// `Authorization: Basic base64("{user}:{password}")`; holds `"{user}:{password}"`.
    Basic(String),
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// A header of the vendor's own, such as Xref's `X-Api-Key`.
    Header { name: &'static str, key: String },
}

impl Credential {
    fn basic(user: &str, password: &str) -> Self {
        Credential::Basic(format!("{user}:{password}"))
    }

    fn accepts(&self, headers: &HeaderMap) -> bool {
        let authorization = header_str(headers, header::AUTHORIZATION.as_str());
        match self {
            Credential::Basic(user_password) => authorization
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .is_some_and(|pair| pair == user_password.as_bytes()),
            Credential::Bearer(token) => {
                authorization.and_then(|v| v.strip_prefix("Bearer ")) == Some(token.as_str())
            }
            Credential::Header { name, key } => header_str(headers, name) == Some(key.as_str()),
        }
    }

    fn rejection(&self) -> ApiError {
        let message = match self {
            Credential::Basic(_) => "missing or wrong Basic credentials".to_owned(),
            Credential::Bearer(_) => "missing or wrong Bearer token".to_owned(),
            Credential::Header { name, .. } => format!("missing or wrong {name}"),
        };
        json_error(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An order as every contract vendor keeps it.
trait VendorOrder: Clone + Send + 'static {
    fn id(&self) -> &str;
    fn client_reference(&self) -> &str;
    fn callback_url(&self) -> &str;
}

#[derive(Debug)]
struct Ledger<T> {
    orders: Vec<T>,
    /// `Idempotency-Key` header → order id.
    idempotency_keys: HashMap<String, String>,
    faults: Faults,
}

// Not derived: the derive would demand `T: Default`.
impl<T> Default for Ledger<T> {
    fn default() -> Self {
        Ledger {
            orders: Vec::new(),
            idempotency_keys: HashMap::new(),
            faults: Faults::default(),
        }
    }
}

impl<T: VendorOrder> Ledger<T> {
    /// The order a repeated create means: the one made under a known `Idempotency-Key`,
    /// else the one with the same client reference.
    fn find(&self, idempotency_key: Option<&str>, client_reference: &str) -> Option<&T> {
        let by_key = idempotency_key.and_then(|key| self.idempotency_keys.get(key));
        self.orders.iter().find(|order| match by_key {
            Some(id) => order.id() == id,
            None => order.client_reference() == client_reference,
        })
    }
}

/// The state behind every contract vendor's handle.
#[derive(Clone)]
struct VendorCore<T> {
    ledger: Arc<Mutex<Ledger<T>>>,
    credential: Arc<Credential>,
    callbacks: Callbacks,
}

impl<T: VendorOrder> VendorCore<T> {
    fn new(credential: Credential, callback_secret: &str) -> Self {
        VendorCore {
            ledger: Arc::default(),
            credential: Arc::new(credential),
            callbacks: Callbacks::new(callback_secret),
        }
    }

    fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    fn orders(&self) -> Vec<T> {
        self.lock().orders.clone()
    }

    /// Applies `change` to order `id` and posts the callback body it returns, signed, to
    /// the order's `callback_url`. `what` names the order in the not-found error.
    async fn post(
        &self,
        what: &'static str,
        id: &str,
        change: impl FnOnce(&mut T) -> Value,
    ) -> Result<SentCallback, SimError> {
        let (url, body) = {
            let mut ledger = self.lock();
            let order = ledger
                .orders
                .iter_mut()
                .find(|order| order.id() == id)
                .ok_or_else(|| SimError::not_found(what, id))?;
            let body = change(order);
            (order.callback_url().to_owned(), body.to_string())
        };
        self.callbacks.send(url, body).await
    }

    async fn resend(&self, sent: &SentCallback) -> Result<SentCallback, SimError> {
        self.callbacks.resend(sent).await
    }

    fn lock(&self) -> MutexGuard<'_, Ledger<T>> {
        lock(&self.ledger)
    }
}

/// A contract vendor's create endpoint: what differs between vendors. [`create`] does
/// the rest, the same for all.
trait Contract: Clone + Send + Sync + 'static {
    type Request: DeserializeOwned;
    type Order: VendorOrder;
    /// The create endpoint's path.
    const PATH: &'static str;
    /// New orders are `{ID_PREFIX}_{n}`.
    const ID_PREFIX: &'static str;

    fn core(&self) -> &VendorCore<Self::Order>;
    fn client_reference(request: &Self::Request) -> &str;
    /// The fields that must not be blank, by their JSON path.
    fn required(request: &Self::Request) -> Vec<(&'static str, &str)>;
    /// The new order, or why the vendor refuses it.
    fn open(&self, id: String, request: Self::Request) -> Result<Self::Order, ApiError>;
    /// The create answer's body, for the new order and for a repeated create alike.
    fn summary(order: &Self::Order) -> Value;
}

fn contract_router<C: Contract>(sim: &C) -> Router {
    Router::new()
        .route(C::PATH, post(create::<C>))
        .with_state(sim.clone())
}

/// An armed fault answers first; then the credential (401), the body (400 when not JSON,
/// 422 when of the wrong shape or with a blank required field); a repeated create answers
/// 200 with the order it made, a new order 201.
async fn create<C: Contract>(
    State(sim): State<C>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let core = sim.core();
    let mut ledger = core.lock();
    if let Some(fault) = ledger.faults.take() {
        return Ok(fault);
    }
    if !core.credential.accepts(&headers) {
        return Err(core.credential.rejection());
    }
    let request: C::Request = parse_json(&body, StatusCode::UNPROCESSABLE_ENTITY)?;
    if let Some((field, _)) = C::required(&request)
        .into_iter()
        .find(|(_, value)| value.trim().is_empty())
    {
        let message = format!("{field} must not be empty");
        return Err(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "InvalidRequest",
            message,
        ));
    }

    let idempotency_key = header_str(&headers, "idempotency-key");
    if let Some(order) = ledger.find(idempotency_key, C::client_reference(&request)) {
        return Ok((StatusCode::OK, Json(C::summary(order))).into_response());
    }
    let id = format!("{}_{}", C::ID_PREFIX, ledger.orders.len() + 1);
    let order = sim.open(id, request)?;
    if let Some(key) = idempotency_key {
        ledger
            .idempotency_keys
            .insert(key.to_owned(), order.id().to_owned());
    }
    let response = (StatusCode::CREATED, Json(C::summary(&order))).into_response();
    ledger.orders.push(order);
    Ok(response)
}
