//! Justifacts simulator, speaking this product's Justifacts contract (docs/vendor-apis.md, "Common"
//! and "Justifacts"): background check invitations by `POST /invitations`, read back by
//! `GET /invitations/{id}`, cancelled by `POST /invitations/{id}/cancel`, status callbacks
//! signed with Standard Webhooks.

use crate::contract::{
    cancellable_router, set_optional, vendor_controls, Cancel, Contract, Credential, Field, Rule,
    VendorCore, VendorOrder,
};
use crate::{ApiError, SentCallback, SimError};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

/// Justifacts emails the applicant the invitation as soon as the request is made.
const FIRST_STATUS: &str = "InProgressCandidate";

/// A background check request, and the invitation email Justifacts would have sent the
/// applicant for it; nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JustifactsInvitation {
    /// `jf_<n>`.
    pub request_id: String,
    pub client_reference: String,
    pub package_code: String,
    pub package_id: String,
    pub first_name: String,
    pub last_name: String,
    /// Where the invitation went.
    pub email: String,
    pub callback_url: String,
    /// InProgressCandidate until a status is posted; "Cancelled" once cancelled.
    pub status: String,
    /// The result of the last status posted: Clear, Review or Adverse.
    pub result_status: Option<String>,
    /// The report URL of the last status posted.
    pub result_url: Option<String>,
}

impl VendorOrder for JustifactsInvitation {
    const WHAT: &'static str = "background check request";

    fn id(&self) -> &str {
        &self.request_id
    }
    fn client_reference(&self) -> &str {
        &self.client_reference
    }
    fn callback_url(&self) -> &str {
        &self.callback_url
    }
    fn body(&self) -> Value {
        let mut body = json!({
            "request_id": self.request_id,
            "client_reference": self.client_reference,
            "status": self.status,
        });
        set_optional(&mut body, "result_status", self.result_status.as_deref());
        set_optional(&mut body, "result_url", self.result_url.as_deref());
        body
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateRequest {
    client_reference: String,
    package: Package,
    applicant: Applicant,
    /// Not in the create body of docs/vendor-apis.md; this product sends it so the callbacks reach
    /// `/callbacks/justifacts/{tenant}`.
    callback_url: String,
}

#[derive(Deserialize)]
struct Package {
    code: String,
    id: String,
}

#[derive(Deserialize)]
struct Applicant {
    first_name: String,
    last_name: String,
    email: String,
}

#[derive(Clone)]
pub struct JustifactsSim {
    core: VendorCore<JustifactsInvitation>,
}

impl JustifactsSim {
    /// `username` and `password` are the client's JWeb integration credentials;
    /// `callback_secret` is a Standard Webhooks secret, `whsec_<base64>`.
    pub fn new(username: &str, password: &str, callback_secret: &str) -> Self {
        JustifactsSim {
            core: VendorCore::new(Credential::basic(username, password), callback_secret),
        }
    }

    pub fn router(&self) -> Router {
        cancellable_router(self)
    }

    vendor_controls!(cancel);

    /// Every request made, each with the invitation emailed to its applicant.
    pub fn invitations(&self) -> Vec<JustifactsInvitation> {
        self.core.orders()
    }

    /// Sets the request's status and results and posts the signed callback to its
    /// `callback_url`. `status` is InProgressCandidate, InProgressJustifacts or Complete;
    /// `result_status` Clear, Review or Adverse.
    pub async fn post_status(
        &self,
        request_id: &str,
        status: &str,
        result_status: Option<&str>,
        result_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post(request_id, |invitation| {
                invitation.status = status.to_owned();
                invitation.result_status = result_status.map(str::to_owned);
                invitation.result_url = result_url.map(str::to_owned);
            })
            .await
    }
}

impl Contract for JustifactsSim {
    type Request = CreateRequest;
    type Order = JustifactsInvitation;
    const PATH: &'static str = "/invitations";
    const ID_PREFIX: &'static str = "jf";

    fn core(&self) -> &VendorCore<JustifactsInvitation> {
        &self.core
    }

    fn client_reference(request: &CreateRequest) -> &str {
        &request.client_reference
    }

    fn fields(request: &CreateRequest) -> Vec<Field<'_>> {
        let (package, applicant) = (&request.package, &request.applicant);
        vec![
            Field::new(
                "client_reference",
                &request.client_reference,
                Rule::Required,
            ),
            Field::new("package.code", &package.code, Rule::Required),
            Field::new("package.id", &package.id, Rule::Required),
            Field::new(
                "applicant.first_name",
                &applicant.first_name,
                Rule::Required,
            ),
            Field::new("applicant.last_name", &applicant.last_name, Rule::Required),
            Field::new("applicant.email", &applicant.email, Rule::Email),
            Field::new("callback_url", &request.callback_url, Rule::Url),
        ]
    }

    fn open(&self, id: String, request: CreateRequest) -> Result<JustifactsInvitation, ApiError> {
        let CreateRequest {
            client_reference,
            package,
            applicant,
            callback_url,
        } = request;
        Ok(JustifactsInvitation {
            request_id: id,
            client_reference,
            package_code: package.code,
            package_id: package.id,
            first_name: applicant.first_name,
            last_name: applicant.last_name,
            email: applicant.email,
            callback_url,
            status: FIRST_STATUS.to_owned(),
            result_status: None,
            result_url: None,
        })
    }

    fn summary(invitation: &JustifactsInvitation) -> Value {
        json!({ "request_id": invitation.request_id })
    }
}

impl Cancel for JustifactsSim {
    /// Not one of Justifacts' callback statuses: the simulator's word for a request
    /// withdrawn before it completed.
    const CANCELLED: &'static str = "Cancelled";
    const ENDED: &'static [&'static str] = &["Complete", "Cancelled"];

    fn status(invitation: &mut JustifactsInvitation) -> &mut String {
        &mut invitation.status
    }
}
