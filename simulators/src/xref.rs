//! Xref simulator, speaking this product's Xref contract (docs/vendor-apis.md, "Common" and "Xref"):
//! orders by `POST /reference-checks`, read back by `GET /reference-checks/{id}`, cancelled
//! by `POST /reference-checks/{id}/cancel`, status callbacks signed with Standard Webhooks.

use crate::contract::{
    cancellable_router, set_optional, vendor_controls, Cancel, Contract, Credential, Field, Rule,
    VendorCore, VendorOrder,
};
use crate::{ApiError, SimError};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

pub use crate::SentCallback;

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
    /// "Candidate submitted" until a status is posted; "Cancelled" once cancelled.
    pub status: String,
    /// The report URL of the last status posted.
    pub report_url: Option<String>,
}

impl VendorOrder for XrefOrder {
    const WHAT: &'static str = "reference check";

    fn id(&self) -> &str {
        &self.id
    }
    fn client_reference(&self) -> &str {
        &self.client_reference
    }
    fn callback_url(&self) -> &str {
        &self.callback_url
    }
    fn body(&self) -> Value {
        let mut body = json!({
            "id": self.id,
            "client_reference": self.client_reference,
            "status": self.status,
        });
        set_optional(&mut body, "report_url", self.report_url.as_deref());
        body
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateRequest {
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
        cancellable_router(self)
    }

    vendor_controls!(cancel);

    pub fn orders(&self) -> Vec<XrefOrder> {
        self.core.orders()
    }

    /// Sets the order's status without posting its callback: the vendor moved on and its
    /// callback was lost in transit (its API still says so).
    pub fn set_status_silently(&self, xref_id: &str, status: &str) -> Result<(), SimError> {
        self.core
            .change(xref_id, |order| order.status = status.to_owned())
    }

    /// Sets the order's status and report URL and posts the signed callback to its
    /// `callback_url`.
    pub async fn post_status(
        &self,
        xref_id: &str,
        status: &str,
        report_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post(xref_id, |order| {
                order.status = status.to_owned();
                order.report_url = report_url.map(str::to_owned);
            })
            .await
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

    fn fields(request: &CreateRequest) -> Vec<Field<'_>> {
        let candidate = &request.candidate;
        vec![
            Field::new(
                "client_reference",
                &request.client_reference,
                Rule::Required,
            ),
            Field::new("candidate.name", &candidate.name, Rule::Required),
            Field::new("candidate.email", &candidate.email, Rule::Email),
            Field::optional("candidate.phone", candidate.phone.as_deref(), Rule::Phone),
            Field::new("callback_url", &request.callback_url, Rule::Url),
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
            report_url: None,
        })
    }

    fn summary(order: &XrefOrder) -> Value {
        json!({ "id": order.id, "status": order.status })
    }
}

impl Cancel for XrefSim {
    const CANCELLED: &'static str = "Cancelled";
    const ENDED: &'static [&'static str] = &["Completed", "Cancelled"];

    fn status(order: &mut XrefOrder) -> &mut String {
        &mut order.status
    }
}
