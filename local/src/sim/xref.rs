//! Xref simulator, speaking this product's Xref contract (vendors.md, "Common" and "Xref"):
//! orders by `POST /reference-checks`, status callbacks signed with Standard Webhooks.

use super::{json_error, lock, parse_json, ApiError, Faults, SimError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use shared::model::now_millis;
use standardwebhooks::{
    Webhook, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

const FIRST_STATUS: &str = "Candidate submitted";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct XrefCandidate {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrefOrder {
    /// `xref_<n>`.
    pub id: String,
    pub client_reference: String,
    pub candidate: XrefCandidate,
    pub role: Option<String>,
    pub callback_url: String,
    pub status: String,
}

/// One callback as posted, and what the receiver answered.
#[derive(Debug, Clone)]
pub struct SentCallback {
    pub status: u16,
    pub webhook_id: String,
    /// The raw body, as signed.
    pub body: String,
    pub response: String,
    /// Where it was posted, so [`XrefSim::resend`] can post it again.
    pub url: String,
}

#[derive(Deserialize)]
struct CreateRequest {
    client_reference: String,
    candidate: XrefCandidate,
    #[serde(default)]
    role: Option<String>,
    callback_url: String,
}

#[derive(Debug, Default)]
struct XrefState {
    orders: Vec<XrefOrder>,
    /// `Idempotency-Key` header → order id.
    idempotency_keys: HashMap<String, String>,
    faults: Faults,
}

impl XrefState {
    fn find(&self, idempotency_key: Option<&str>, client_reference: &str) -> Option<&XrefOrder> {
        let by_key = idempotency_key.and_then(|key| self.idempotency_keys.get(key));
        self.orders.iter().find(|order| match by_key {
            Some(id) => order.id == *id,
            None => order.client_reference == client_reference,
        })
    }
}

#[derive(Clone)]
pub struct XrefSim {
    state: Arc<Mutex<XrefState>>,
    api_key: Arc<str>,
    callback_secret: Arc<str>,
    http: reqwest::Client,
}

impl XrefSim {
    /// `callback_secret` is a Standard Webhooks secret, `whsec_<base64>`.
    pub fn new(api_key: &str, callback_secret: &str) -> Self {
        XrefSim {
            state: Arc::default(),
            api_key: api_key.into(),
            callback_secret: callback_secret.into(),
            http: reqwest::Client::new(),
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/reference-checks", post(create_order))
            .with_state(self.clone())
    }

    /// The next `n` requests answer `status` (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().faults.arm(n, status);
    }

    pub fn orders(&self) -> Vec<XrefOrder> {
        self.lock().orders.clone()
    }

    /// Sets the order's status and posts the signed callback to its `callback_url`.
    pub async fn post_status(
        &self,
        xref_id: &str,
        status: &str,
        report_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        let (url, body) = {
            let mut state = self.lock();
            let order = state
                .orders
                .iter_mut()
                .find(|order| order.id == xref_id)
                .ok_or_else(|| SimError::not_found("Xref order", xref_id))?;
            order.status = status.to_owned();
            let mut body = json!({
                "id": order.id,
                "client_reference": order.client_reference,
                "status": status,
            });
            if let Some(report_url) = report_url {
                body["report_url"] = json!(report_url);
            }
            (order.callback_url.clone(), body.to_string())
        };
        self.deliver(url, format!("msg_{}", Uuid::new_v4()), body)
            .await
    }

    /// Posts the same callback again: same `webhook-id` and body, fresh timestamp and
    /// signature, as a vendor's retry does.
    pub async fn resend(&self, sent: &SentCallback) -> Result<SentCallback, SimError> {
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
            Webhook::new(&self.callback_secret)?.sign(&webhook_id, timestamp, body.as_bytes())?;
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

    fn lock(&self) -> MutexGuard<'_, XrefState> {
        lock(&self.state)
    }
}

fn order_summary(status: StatusCode, order: &XrefOrder) -> Response {
    (
        status,
        Json(json!({ "id": order.id, "status": order.status })),
    )
        .into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn create_order(
    State(sim): State<XrefSim>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut state = sim.lock();
    if let Some(fault) = state.faults.take() {
        return Ok(fault);
    }
    if header_str(&headers, "x-api-key") != Some(&*sim.api_key) {
        let message = "missing or wrong X-Api-Key";
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            message,
        ));
    }
    let request: CreateRequest = parse_json(&body, StatusCode::UNPROCESSABLE_ENTITY)?;
    let required = [
        ("client_reference", &request.client_reference),
        ("candidate.name", &request.candidate.name),
        ("candidate.email", &request.candidate.email),
        ("callback_url", &request.callback_url),
    ];
    if let Some((field, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
        let message = format!("{field} must not be empty");
        return Err(json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "InvalidRequest",
            message,
        ));
    }

    let idempotency_key = header_str(&headers, "idempotency-key");
    if let Some(order) = state.find(idempotency_key, &request.client_reference) {
        return Ok(order_summary(StatusCode::OK, order));
    }
    let order = XrefOrder {
        id: format!("xref_{}", state.orders.len() + 1),
        client_reference: request.client_reference,
        candidate: request.candidate,
        role: request.role,
        callback_url: request.callback_url,
        status: FIRST_STATUS.to_owned(),
    };
    if let Some(key) = idempotency_key {
        state
            .idempotency_keys
            .insert(key.to_owned(), order.id.clone());
    }
    let response = order_summary(StatusCode::CREATED, &order);
    state.orders.push(order);
    Ok(response)
}
