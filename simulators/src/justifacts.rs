//! Justifacts simulator, speaking this product's Justifacts contract (vendors.md, "Common"
//! and "Justifacts"): background check invitations by `POST /invitations`, status
//! callbacks signed with Standard Webhooks.

use super::{
    contract_router, set_optional, ApiError, Contract, Credential, SentCallback, SimError,
    VendorCore, VendorOrder,
};
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
    pub status: String,
}

impl VendorOrder for JustifactsInvitation {
    fn id(&self) -> &str {
        &self.request_id
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
    package: Package,
    applicant: Applicant,
    /// Not in vendors.md's create body; this product sends it so the callbacks reach
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
        contract_router(self)
    }

    /// The next `n` requests answer `status` (429 with `Retry-After: 1`).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.core.fail_next(n, status);
    }

    /// Every request made, each with the invitation emailed to its applicant.
    pub fn invitations(&self) -> Vec<JustifactsInvitation> {
        self.core.orders()
    }

    /// Sets the request's status and posts the signed callback to its `callback_url`.
    /// `status` is InProgressCandidate, InProgressJustifacts or Complete; `result_status`
    /// Clear, Review or Adverse.
    pub async fn post_status(
        &self,
        request_id: &str,
        status: &str,
        result_status: Option<&str>,
        result_url: Option<&str>,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post("Justifacts request", request_id, |invitation| {
                invitation.status = status.to_owned();
                let mut body = json!({
                    "request_id": invitation.request_id,
                    "client_reference": invitation.client_reference,
                    "status": status,
                });
                set_optional(&mut body, "result_status", result_status);
                set_optional(&mut body, "result_url", result_url);
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

    fn required(request: &CreateRequest) -> Vec<(&'static str, &str)> {
        vec![
            ("client_reference", &request.client_reference),
            ("package.code", &request.package.code),
            ("package.id", &request.package.id),
            ("applicant.first_name", &request.applicant.first_name),
            ("applicant.last_name", &request.applicant.last_name),
            ("applicant.email", &request.applicant.email),
            ("callback_url", &request.callback_url),
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
        })
    }

    fn summary(invitation: &JustifactsInvitation) -> Value {
        json!({ "request_id": invitation.request_id })
    }
}
