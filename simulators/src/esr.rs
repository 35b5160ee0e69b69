//! ESR simulator, speaking this product's ESR contract (docs/vendor-apis.md, "Common" and "ESR"):
//! orders by `POST /orders` for packages ESR's representative gave out, read back by
//! `GET /orders/{id}`, cancelled by `POST /orders/{id}/cancel`, status callbacks signed with
//! Standard Webhooks.

use crate::contract::{
    cancellable_router, set_optional, vendor_controls, Cancel, Contract, Credential, Field, Rule,
    VendorCore, VendorOrder,
};
use crate::{json_error, lock, ApiError, SentCallback, SimError};
use axum::http::StatusCode;
use axum::Router;
use serde::{Deserialize, Serialize};
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

/// An item to review in an ESR report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EsrFlag {
    pub category: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsrOrder {
    /// `esr_<n>`.
    pub order_id: String,
    pub client_reference: String,
    pub package_id: String,
    pub candidate: EsrCandidate,
    pub callback_url: String,
    /// "Draft" until a status is posted; "Canceled" once cancelled.
    pub status: String,
    /// The flags of the last status posted.
    pub flags: Vec<EsrFlag>,
    /// The report URL of the last status posted.
    pub report_url: Option<String>,
}

impl VendorOrder for EsrOrder {
    const WHAT: &'static str = "ESR order";

    fn id(&self) -> &str {
        &self.order_id
    }
    fn client_reference(&self) -> &str {
        &self.client_reference
    }
    fn callback_url(&self) -> &str {
        &self.callback_url
    }
    /// `flags` always, empty when there is nothing to review.
    fn body(&self) -> Value {
        let mut body = json!({
            "order_id": self.order_id,
            "client_reference": self.client_reference,
            "status": self.status,
            "flags": self.flags,
        });
        set_optional(&mut body, "report_url", self.report_url.as_deref());
        body
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateRequest {
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
        cancellable_router(self)
    }

    /// Makes package `id` orderable; orders for any other package are refused with 422.
    pub fn add_package(&self, id: &str, name: &str) {
        lock(&self.packages).insert(id.to_owned(), name.to_owned());
    }

    vendor_controls!(cancel);

    pub fn orders(&self) -> Vec<EsrOrder> {
        self.core.orders()
    }

    /// Sets the order's status and results and posts the signed callback to its
    /// `callback_url`; `flags` are `(category, description)` pairs, items to review.
    pub async fn post_status(
        &self,
        order_id: &str,
        status: &str,
        flags: &[(&str, &str)],
        report_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post(order_id, |order| {
                order.status = status.to_owned();
                order.flags = flags
                    .iter()
                    .map(|(category, description)| EsrFlag {
                        category: (*category).to_owned(),
                        description: (*description).to_owned(),
                    })
                    .collect();
                order.report_url = report_url.map(str::to_owned);
            })
            .await
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

    fn fields(request: &CreateRequest) -> Vec<Field<'_>> {
        let candidate = &request.candidate;
        vec![
            Field::new(
                "client_reference",
                &request.client_reference,
                Rule::Required,
            ),
            Field::new("package_id", &request.package_id, Rule::Required),
            Field::new(
                "candidate.first_name",
                &candidate.first_name,
                Rule::Required,
            ),
            Field::new("candidate.last_name", &candidate.last_name, Rule::Required),
            Field::new("candidate.email", &candidate.email, Rule::Email),
            Field::optional("candidate.phone", candidate.phone.as_deref(), Rule::Phone),
            Field::new("callback_url", &request.callback_url, Rule::Url),
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
            flags: Vec::new(),
            report_url: None,
        })
    }

    fn summary(order: &EsrOrder) -> Value {
        json!({ "order_id": order.order_id, "status": order.status })
    }
}

impl Cancel for EsrSim {
    const CANCELLED: &'static str = "Canceled";
    /// ClearStar archives completed profiles.
    const ENDED: &'static [&'static str] = &["Completed", "Canceled", "Archived"];

    fn status(order: &mut EsrOrder) -> &mut String {
        &mut order.status
    }
}
