//! ESR simulator, speaking this product's ESR contract (vendors.md, "Common" and "ESR"):
//! orders by `POST /orders` for packages ESR's representative gave out, status callbacks
//! signed with Standard Webhooks.

use super::{
    contract_router, json_error, lock, set_optional, ApiError, Contract, Credential, SentCallback,
    SimError, VendorCore, VendorOrder,
};
use axum::http::StatusCode;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// ClearStar's profile lifecycle starts as a draft.
const FIRST_STATUS: &str = "Draft";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EsrCandidate {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsrOrder {
    /// `esr_<n>`.
    pub order_id: String,
    pub client_reference: String,
    pub package_id: String,
    pub candidate: EsrCandidate,
    pub callback_url: String,
    pub status: String,
}

impl VendorOrder for EsrOrder {
    fn id(&self) -> &str {
        &self.order_id
    }
    fn client_reference(&self) -> &str {
        &self.client_reference
    }
    fn callback_url(&self) -> &str {
        &self.callback_url
    }
}

#[derive(Deserialize)]
pub(super) struct CreateRequest {
    client_reference: String,
    package_id: String,
    candidate: EsrCandidate,
    callback_url: String,
}

#[derive(Clone)]
pub struct EsrSim {
    core: VendorCore<EsrOrder>,
    /// Package id → name.
    packages: Arc<Mutex<HashMap<String, String>>>,
}

impl EsrSim {
    /// `account_id` and `api_key` are the Basic auth pair; `callback_secret` is a Standard
    /// Webhooks secret, `whsec_<base64>`.
    pub fn new(account_id: &str, api_key: &str, callback_secret: &str) -> Self {
        EsrSim {
            core: VendorCore::new(Credential::basic(account_id, api_key), callback_secret),
            packages: Arc::default(),
        }
    }

    pub fn router(&self) -> Router {
        contract_router(self)
    }

    /// Makes package `id` orderable; orders for any other package are refused with 422.
    pub fn add_package(&self, id: &str, name: &str) {
        lock(&self.packages).insert(id.to_owned(), name.to_owned());
    }

    /// The next `n` requests answer `status` (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.core.fail_next(n, status);
    }

    pub fn orders(&self) -> Vec<EsrOrder> {
        self.core.orders()
    }

    /// Sets the order's status and posts the signed callback to its `callback_url`;
    /// `flags` are `(category, description)` pairs, items to review.
    pub async fn post_status(
        &self,
        order_id: &str,
        status: &str,
        flags: &[(&str, &str)],
        report_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post("ESR order", order_id, |order| {
                order.status = status.to_owned();
                let mut body = json!({
                    "order_id": order.order_id,
                    "client_reference": order.client_reference,
                    "status": status,
                });
                if !flags.is_empty() {
                    let flags: Vec<Value> = flags
                        .iter()
                        .map(|(category, description)| {
                            json!({ "category": category, "description": description })
                        })
                        .collect();
                    body["flags"] = Value::Array(flags);
                }
                set_optional(&mut body, "report_url", report_url);
                body
            })
            .await
    }

    /// Posts the same callback again: same `webhook-id` and body, fresh timestamp and
    /// signature, as a vendor's retry does.
    pub async fn resend(&self, sent: &SentCallback) -> Result<SentCallback, SimError> {
        self.core.resend(sent).await
    }
}

impl Contract for EsrSim {
    type Request = CreateRequest;
    type Order = EsrOrder;
    const PATH: &'static str = "/orders";
    const ID_PREFIX: &'static str = "esr";

    fn core(&self) -> &VendorCore<EsrOrder> {
        &self.core
    }

    fn client_reference(request: &CreateRequest) -> &str {
        &request.client_reference
    }

    fn required(request: &CreateRequest) -> Vec<(&'static str, &str)> {
        vec![
            ("client_reference", &request.client_reference),
            ("package_id", &request.package_id),
            ("candidate.first_name", &request.candidate.first_name),
            ("candidate.last_name", &request.candidate.last_name),
            ("candidate.email", &request.candidate.email),
            ("callback_url", &request.callback_url),
        ]
    }

    fn open(&self, id: String, request: CreateRequest) -> Result<EsrOrder, ApiError> {
        if !lock(&self.packages).contains_key(&request.package_id) {
            let message = format!("no package {:?} on this account", request.package_id);
            return Err(json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UnknownPackage",
                message,
            ));
        }
        Ok(EsrOrder {
            order_id: id,
            client_reference: request.client_reference,
            package_id: request.package_id,
            candidate: request.candidate,
            callback_url: request.callback_url,
            status: FIRST_STATUS.to_owned(),
        })
    }

    fn summary(order: &EsrOrder) -> Value {
        json!({ "order_id": order.order_id, "status": order.status })
    }
}
