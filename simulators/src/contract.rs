//! What the simulators of the contract vendors (docs/vendor-apis.md, "Common to every vendor": Xref,
//! Justifacts, HRLogics, ESR) share: creates behind one credential, idempotent under an
//! `Idempotency-Key` and unique by client reference; strict field formats; reading an order
//! back; cancelling it; checking a credential (`GET /account`); fault injection; and callbacks signed with Standard Webhooks.
//!
//! Each vendor's module says what differs ([`Contract`], [`Cancel`], [`VendorOrder`]); the
//! handlers here do the rest, the same for all.

use super::{
    gate, is_e164, is_email, is_http_url, json_error, lock, now_millis, parse_json, ApiError,
    FaultSource, Faults, SimError,
};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use standardwebhooks::{
    Webhook, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

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

/// Adds `key` to an order's body only when there is a value (the contract's `key?`).
pub(crate) fn set_optional(body: &mut Value, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body[key] = json!(value);
    }
}

/// How a contract vendor authenticates our requests.
#[derive(Debug)]
pub(crate) enum Credential {
    /// `Authorization: Basic base64("{user}:{password}")`; holds `"{user}:{password}"`.
    Basic(String),
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// A header of the vendor's own, such as Xref's `X-Api-Key`.
    Header { name: &'static str, key: String },
}

impl Credential {
    pub(crate) fn basic(user: &str, password: &str) -> Self {
        Credential::Basic(format!("{user}:{password}"))
    }

    /// 401 unless `headers` carry this credential.
    fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let authorization = header_str(headers, header::AUTHORIZATION.as_str());
        let accepted = match self {
            Credential::Basic(user_password) => authorization
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .is_some_and(|pair| pair == user_password.as_bytes()),
            Credential::Bearer(token) => {
                authorization.and_then(|v| v.strip_prefix("Bearer ")) == Some(token.as_str())
            }
            Credential::Header { name, key } => header_str(headers, name) == Some(key.as_str()),
        };
        if accepted {
            return Ok(());
        }
        let message = match self {
            Credential::Basic(_) => "missing or wrong Basic credentials".to_owned(),
            Credential::Bearer(_) => "missing or wrong Bearer token".to_owned(),
            Credential::Header { name, .. } => format!("missing or wrong {name}"),
        };
        Err(json_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            message,
        ))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An order as every contract vendor keeps it.
pub(crate) trait VendorOrder: Clone + Send + 'static {
    /// What the vendor calls an order, for messages: "reference check".
    const WHAT: &'static str;

    fn id(&self) -> &str;
    fn client_reference(&self) -> &str;
    fn callback_url(&self) -> &str;
    /// The order as its callbacks and `GET {PATH}/{id}` carry it.
    fn body(&self) -> Value;
}

/// How a field of a create request is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Not blank.
    Required,
    /// Not blank, and `local@domain.tld`.
    Email,
    /// When present, E.164: `+` and up to 15 digits, the first not 0.
    Phone,
    /// Not blank, and an absolute `http(s)` URL.
    Url,
}

/// One field of a create request, by its JSON path, and its rule.
pub(crate) struct Field<'a> {
    path: &'static str,
    value: Option<&'a str>,
    rule: Rule,
}

impl<'a> Field<'a> {
    pub(crate) fn new(path: &'static str, value: &'a str, rule: Rule) -> Self {
        Field {
            path,
            value: Some(value),
            rule,
        }
    }

    /// An optional field; `None` passes every rule but [`Rule::Required`].
    pub(crate) fn optional(path: &'static str, value: Option<&'a str>, rule: Rule) -> Self {
        Field { path, value, rule }
    }

    /// Why this field is refused, if it is.
    fn problem(&self) -> Option<String> {
        let Some(value) = self.value else {
            return (self.rule != Rule::Phone).then(|| format!("{} is required", self.path));
        };
        let path = self.path;
        let blank = value.trim().is_empty();
        match self.rule {
            Rule::Required | Rule::Email | Rule::Url if blank => {
                Some(format!("{path} must not be empty"))
            }
            Rule::Email if !is_email(value) => Some(format!(
                "{path} must be an email address, such as name@example.com"
            )),
            Rule::Phone if !is_e164(value) => Some(format!(
                "{path} must be an E.164 phone number, such as +15555551234"
            )),
            Rule::Url if !is_http_url(value) => {
                Some(format!("{path} must be an absolute http(s) URL"))
            }
            _ => None,
        }
    }
}

/// 422 naming the first field refused.
fn check(fields: &[Field<'_>]) -> Result<(), ApiError> {
    match fields.iter().find_map(Field::problem) {
        Some(message) => Err(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "InvalidRequest",
            message,
        )),
        None => Ok(()),
    }
}

#[derive(Debug)]
struct Ledger<T> {
    orders: Vec<T>,
    /// `Idempotency-Key` header → order id.
    idempotency_keys: HashMap<String, String>,
    /// Ids of the orders cancelled through the API, in order.
    cancelled: Vec<String>,
    faults: Faults,
}

// Not derived: the derive would demand `T: Default`.
impl<T> Default for Ledger<T> {
    fn default() -> Self {
        Ledger {
            orders: Vec::new(),
            idempotency_keys: HashMap::new(),
            cancelled: Vec::new(),
            faults: Faults::default(),
        }
    }
}

impl<T: VendorOrder> Ledger<T> {
    fn order(&self, id: &str) -> Option<&T> {
        self.orders.iter().find(|order| order.id() == id)
    }

    fn order_mut(&mut self, id: &str) -> Option<&mut T> {
        self.orders.iter_mut().find(|order| order.id() == id)
    }

    /// The order made under `key`, if any.
    fn by_key(&self, key: &str) -> Option<&T> {
        self.order(self.idempotency_keys.get(key)?)
    }

    fn by_reference(&self, client_reference: &str) -> Option<&T> {
        self.orders
            .iter()
            .find(|order| order.client_reference() == client_reference)
    }

    /// `answer`, unless a fault armed with `fail_after_applying` replaces it.
    fn answer(&mut self, status: StatusCode, body: Value) -> Response {
        self.faults
            .take_after()
            .unwrap_or_else(|| (status, Json(body)).into_response())
    }
}

/// The state behind every contract vendor's handle.
#[derive(Clone)]
pub(crate) struct VendorCore<T> {
    ledger: Arc<Mutex<Ledger<T>>>,
    credential: Arc<Credential>,
    callbacks: Callbacks,
}

impl<T: VendorOrder> VendorCore<T> {
    pub(crate) fn new(credential: Credential, callback_secret: &str) -> Self {
        VendorCore {
            ledger: Arc::default(),
            credential: Arc::new(credential),
            callbacks: Callbacks::new(callback_secret),
        }
    }

    pub(crate) fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    pub(crate) fn fail_after_applying(&self, n: usize, status: u16) {
        self.lock().faults.arm_after(n, status);
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        self.lock().faults.latency = latency;
    }

    pub(crate) fn orders(&self) -> Vec<T> {
        self.lock().orders.clone()
    }

    pub(crate) fn cancelled(&self) -> Vec<String> {
        self.lock().cancelled.clone()
    }

    /// Applies `change` to order `id` and posts its body, signed, to its `callback_url`.
    pub(crate) async fn post(
        &self,
        id: &str,
        change: impl FnOnce(&mut T),
    ) -> Result<SentCallback, SimError> {
        let (url, body) = {
            let mut ledger = self.lock();
            let order = ledger
                .order_mut(id)
                .ok_or_else(|| SimError::not_found(T::WHAT, id))?;
            change(order);
            (order.callback_url().to_owned(), order.body().to_string())
        };
        self.callbacks.send(url, body).await
    }

    /// Changes order `id` without posting its callback.
    pub(crate) fn change(&self, id: &str, change: impl FnOnce(&mut T)) -> Result<(), SimError> {
        let mut ledger = self.lock();
        let order = ledger
            .order_mut(id)
            .ok_or_else(|| SimError::not_found(T::WHAT, id))?;
        change(order);
        Ok(())
    }

    pub(crate) async fn resend(&self, sent: &SentCallback) -> Result<SentCallback, SimError> {
        self.callbacks.resend(sent).await
    }

    fn lock(&self) -> MutexGuard<'_, Ledger<T>> {
        lock(&self.ledger)
    }
}

impl<T: VendorOrder> FaultSource for VendorCore<T> {
    fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        f(&mut self.lock().faults)
    }
}

/// The methods every contract vendor's handle has, delegating to its `core`. With
/// `cancel`, also [`VendorCore::cancelled`], for vendors with a cancel endpoint.
macro_rules! vendor_controls {
    () => {
        /// The next `n` requests answer `status` unserved (429 with `Retry-After: 1`).
        pub fn fail_next(&self, n: usize, status: u16) {
            self.core.fail_next(n, status);
        }

        /// The next `n` creates or cancels that succeed are applied (the order exists, or
        /// is cancelled) and then answered `status`, as by a gateway that lost the vendor's
        /// answer. Refused ones (401, 404, 409, 422) do not count.
        pub fn fail_after_applying(&self, n: usize, status: u16) {
            self.core.fail_after_applying(n, status);
        }

        /// Every request is answered `latency` late (zero, the default, for none).
        pub fn set_latency(&self, latency: std::time::Duration) {
            self.core.set_latency(latency);
        }

        /// Posts the same callback again: same `webhook-id` and body, fresh timestamp and
        /// signature, as a vendor's retry does.
        pub async fn resend(
            &self,
            sent: &$crate::SentCallback,
        ) -> Result<$crate::SentCallback, $crate::SimError> {
            self.core.resend(sent).await
        }
    };
    (cancel) => {
        $crate::contract::vendor_controls!();

        /// The ids of the orders cancelled through `POST {resource}/{id}/cancel`, in order.
        pub fn cancelled(&self) -> Vec<String> {
            self.core.cancelled()
        }
    };
}
pub(crate) use vendor_controls;

/// A contract vendor's endpoints: what differs between vendors.
pub(crate) trait Contract: Clone + Send + Sync + 'static {
    type Request: DeserializeOwned;
    type Order: VendorOrder;
    /// The create endpoint's path, which orders are read back under: `{PATH}/{id}`.
    const PATH: &'static str;
    /// New orders are `{ID_PREFIX}_{n}`.
    const ID_PREFIX: &'static str;

    fn core(&self) -> &VendorCore<Self::Order>;
    fn client_reference(request: &Self::Request) -> &str;
    /// The request's fields to check, each with its rule.
    fn fields(request: &Self::Request) -> Vec<Field<'_>>;
    /// The new order, or why the vendor refuses it.
    fn open(&self, id: String, request: Self::Request) -> Result<Self::Order, ApiError>;
    /// The create answer's body, for the new order and for a repeated create alike.
    fn summary(order: &Self::Order) -> Value;
}

/// A contract vendor with `POST {PATH}/{id}/cancel`.
pub(crate) trait Cancel: Contract {
    /// The status a cancelled order takes.
    const CANCELLED: &'static str;
    /// The statuses of an order that has ended, which can no longer be cancelled.
    const ENDED: &'static [&'static str];

    fn status(order: &mut Self::Order) -> &mut String;
}

/// `POST {PATH}` and `GET {PATH}/{id}`.
pub(crate) fn contract_router<C: Contract>(sim: &C) -> Router {
    serve(sim, routes::<C>())
}

/// [`contract_router`]'s routes and `POST {PATH}/{id}/cancel`.
pub(crate) fn cancellable_router<C: Cancel>(sim: &C) -> Router {
    let cancel_path = format!("{}/{{id}}/cancel", C::PATH);
    serve(sim, routes::<C>().route(&cancel_path, post(cancel::<C>)))
}

fn routes<C: Contract>() -> Router<C> {
    Router::new()
        .route("/account", get(account::<C>))
        .route(C::PATH, post(create::<C>))
        .route(&format!("{}/{{id}}", C::PATH), get(read::<C>))
}

/// Every request, unknown paths included, goes through [`gate`] first.
fn serve<C: Contract>(sim: &C, routes: Router<C>) -> Router {
    let core = sim.core().clone();
    routes
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            core,
            gate::<VendorCore<C::Order>>,
        ))
        .with_state(sim.clone())
}

async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    let message = format!("no route {method} {}", uri.path());
    json_error(StatusCode::NOT_FOUND, "NotFound", message)
}

fn unknown_order<T: VendorOrder>(id: &str) -> ApiError {
    let message = format!("no {} {id}", T::WHAT);
    json_error(StatusCode::NOT_FOUND, "NotFound", message)
}

/// The credential (401), then the body (400 when not JSON, 422 when of the wrong shape or
/// with a field refused). A create under a known `Idempotency-Key` answers 200 with the
/// order made under it; else one whose `client_reference` is taken answers 409
/// `duplicate_reference` naming the order that has it; else the new order 201.
async fn create<C: Contract>(
    State(sim): State<C>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let core = sim.core();
    core.credential.check(&headers)?;
    let request: C::Request = parse_json(&body, StatusCode::UNPROCESSABLE_ENTITY)?;
    check(&C::fields(&request))?;

    let idempotency_key = header_str(&headers, "idempotency-key");
    let mut ledger = core.lock();
    if let Some(order) = idempotency_key.and_then(|key| ledger.by_key(key)) {
        let summary = C::summary(order);
        return Ok(ledger.answer(StatusCode::OK, summary));
    }
    let client_reference = C::client_reference(&request);
    if let Some(existing) = ledger.by_reference(client_reference) {
        let body = json!({
            "code": "duplicate_reference",
            "id": existing.id(),
            "message": format!(
                "{} {} already has client_reference {client_reference}",
                C::Order::WHAT,
                existing.id()
            ),
        });
        return Ok((StatusCode::CONFLICT, Json(body)).into_response());
    }
    let id = format!("{}_{}", C::ID_PREFIX, ledger.orders.len() + 1);
    let order = sim.open(id, request)?;
    if let Some(key) = idempotency_key {
        ledger
            .idempotency_keys
            .insert(key.to_owned(), order.id().to_owned());
    }
    let summary = C::summary(&order);
    ledger.orders.push(order);
    Ok(ledger.answer(StatusCode::CREATED, summary))
}

/// The contract's credential check: 200 for the account's credential, 401 otherwise;
/// nothing is read or changed.
async fn account<C: Contract>(
    State(sim): State<C>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    sim.core().credential.check(&headers)?;
    Ok(Json(json!({ "authenticated": true })))
}

/// The order as its callbacks carry it; 404 for an unknown id.
async fn read<C: Contract>(
    State(sim): State<C>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let core = sim.core();
    core.credential.check(&headers)?;
    let ledger = core.lock();
    let order = ledger
        .order(&id)
        .ok_or_else(|| unknown_order::<C::Order>(&id))?;
    Ok(Json(order.body()))
}

/// 200 with the order, now cancelled; 409 `order_ended` if it had already ended; 404 for
/// an unknown id. No callback is sent.
async fn cancel<C: Cancel>(
    State(sim): State<C>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let core = sim.core();
    core.credential.check(&headers)?;
    let mut ledger = core.lock();
    let order = ledger
        .order_mut(&id)
        .ok_or_else(|| unknown_order::<C::Order>(&id))?;
    let status = C::status(order);
    if C::ENDED.contains(&status.as_str()) {
        let message = format!("{id} has already ended: {status}");
        return Err(json_error(StatusCode::CONFLICT, "order_ended", message));
    }
    *status = C::CANCELLED.to_owned();
    let body = order.body();
    ledger.cancelled.push(id);
    Ok(ledger.answer(StatusCode::OK, body))
}
