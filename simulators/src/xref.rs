//! Xref simulator, speaking this product's Xref contract (vendors.md, "Common" and "Xref"):
//! orders by `POST /reference-checks`, status callbacks signed with Standard Webhooks.

use super::{
    contract_router, set_optional, ApiError, Contract, Credential, SimError, VendorCore,
    VendorOrder,
};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

pub use super::SentCallback;

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

impl VendorOrder for XrefOrder {
    fn id(&self) -> &str {
        &self.id
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
    candidate: XrefCandidate,
    #[serde(default)]
    role: Option<String>,
    callback_url: String,
}

#[derive(Clone)]
pub struct XrefSim {
    core: VendorCore<XrefOrder>,
}

impl XrefSim {
    /// `callback_secret` is a Standard Webhooks secret, `whsec_<base64>`.
    pub fn new(api_key: &str, callback_secret: &str) -> Self {
        let credential = Credential::Header {
            name: "X-Api-Key",
            key: api_key.to_owned(),
        };
        XrefSim {
            core: VendorCore::new(credential, callback_secret),
        }
    }

    pub fn router(&self) -> Router {
        contract_router(self)
    }

    /// The next `n` requests answer `status` (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.core.fail_next(n, status);
    }

    pub fn orders(&self) -> Vec<XrefOrder> {
        self.core.orders()
    }

    /// Sets the order's status and posts the signed callback to its `callback_url`.
    pub async fn post_status(
        &self,
        xref_id: &str,
        status: &str,
        report_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post("Xref order", xref_id, |order| {
                order.status = status.to_owned();
                let mut body = json!({
                    "id": order.id,
                    "client_reference": order.client_reference,
                    "status": status,
                });
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

impl Contract for XrefSim {
    type Request = CreateRequest;
    type Order = XrefOrder;
    const PATH: &'static str = "/reference-checks";
    const ID_PREFIX: &'static str = "xref";

    fn core(&self) -> &VendorCore<XrefOrder> {
        &self.core
    }

    fn client_reference(request: &CreateRequest) -> &str {
        &request.client_reference
    }

    fn required(request: &CreateRequest) -> Vec<(&'static str, &str)> {
        vec![
            ("client_reference", &request.client_reference),
            ("candidate.name", &request.candidate.name),
            ("candidate.email", &request.candidate.email),
            ("callback_url", &request.callback_url),
        ]
    }

    fn open(&self, id: String, request: CreateRequest) -> Result<XrefOrder, ApiError> {
        Ok(XrefOrder {
            id,
            client_reference: request.client_reference,
            candidate: request.candidate,
            role: request.role,
            callback_url: request.callback_url,
            status: FIRST_STATUS.to_owned(),
        })
    }

    fn summary(order: &XrefOrder) -> Value {
        json!({ "id": order.id, "status": order.status })
    }
}
