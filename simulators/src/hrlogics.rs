//! HRLogics simulator, speaking this product's HRLogics contract (docs/vendor-apis.md, "Common" and
//! "HRLogics"): WOTC applicants by `POST /wotc/applicants`, read back by
//! `GET /wotc/applicants/{id}`, eligibility callbacks signed with Standard Webhooks. There
//! is nothing to cancel: `POST /wotc/applicants/{id}/cancel` is 404.

use crate::contract::{
    contract_router, set_optional, vendor_controls, Contract, Credential, Field, Rule, VendorCore,
    VendorOrder,
};
use crate::{ApiError, SentCallback, SimError};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

/// Where the applicants' personal surveys live; HRLogics' to assign.
const SURVEY_URL: &str = "https://wotc.hrlogics.example/survey";

/// A WOTC applicant, and the survey email HRLogics would have sent them; nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrLogicsApplicant {
    /// `hrl_<n>`.
    pub applicant_id: String,
    pub client_reference: String,
    pub first_name: String,
    pub last_name: String,
    /// Where the survey link went.
    pub email: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub location: Option<String>,
    pub callback_url: String,
    /// The applicant's personal WOTC survey.
    pub survey_url: String,
    /// The last eligibility posted, none until the survey is evaluated.
    pub eligibility: Option<String>,
}

impl VendorOrder for HrLogicsApplicant {
    const WHAT: &'static str = "WOTC applicant";

    fn id(&self) -> &str {
        &self.applicant_id
    }
    fn client_reference(&self) -> &str {
        &self.client_reference
    }
    fn callback_url(&self) -> &str {
        &self.callback_url
    }
    /// Without `eligibility` until the survey is evaluated.
    fn body(&self) -> Value {
        let mut body = json!({
            "applicant_id": self.applicant_id,
            "client_reference": self.client_reference,
        });
        set_optional(&mut body, "eligibility", self.eligibility.as_deref());
        body
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateRequest {
    client_reference: String,
    first_name: String,
    last_name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    job_title: Option<String>,
    #[serde(default)]
    location: Option<String>,
    callback_url: String,
}

#[derive(Clone)]
pub struct HrLogicsSim {
    core: VendorCore<HrLogicsApplicant>,
}

impl HrLogicsSim {
    /// `api_key` is the Bearer token; `callback_secret` is a Standard Webhooks secret,
    /// `whsec_<base64>`.
    pub fn new(api_key: &str, callback_secret: &str) -> Self {
        HrLogicsSim {
            core: VendorCore::new(Credential::Bearer(api_key.to_owned()), callback_secret),
        }
    }

    pub fn router(&self) -> Router {
        contract_router(self)
    }

    vendor_controls!();

    /// Every applicant received, each with the survey emailed to them.
    pub fn applicants(&self) -> Vec<HrLogicsApplicant> {
        self.core.orders()
    }

    /// Records the applicant's eligibility ("Pre Qualified" or "Not Qualified") and posts
    /// the signed callback to their `callback_url`.
    pub async fn post_eligibility(
        &self,
        applicant_id: &str,
        eligibility: &str,
    ) -> Result<SentCallback, SimError> {
        self.core
            .post(applicant_id, |applicant| {
                applicant.eligibility = Some(eligibility.to_owned());
            })
            .await
    }
}

impl Contract for HrLogicsSim {
    type Request = CreateRequest;
    type Order = HrLogicsApplicant;
    const PATH: &'static str = "/wotc/applicants";
    const ID_PREFIX: &'static str = "hrl";

    fn core(&self) -> &VendorCore<HrLogicsApplicant> {
        &self.core
    }

    fn client_reference(request: &CreateRequest) -> &str {
        &request.client_reference
    }

    fn fields(request: &CreateRequest) -> Vec<Field<'_>> {
        vec![
            Field::new(
                "client_reference",
                &request.client_reference,
                Rule::Required,
            ),
            Field::new("first_name", &request.first_name, Rule::Required),
            Field::new("last_name", &request.last_name, Rule::Required),
            Field::new("email", &request.email, Rule::Email),
            Field::optional("phone", request.phone.as_deref(), Rule::Phone),
            Field::new("callback_url", &request.callback_url, Rule::Url),
        ]
    }

    fn open(&self, id: String, request: CreateRequest) -> Result<HrLogicsApplicant, ApiError> {
        Ok(HrLogicsApplicant {
            survey_url: format!("{SURVEY_URL}/{id}"),
            applicant_id: id,
            client_reference: request.client_reference,
            first_name: request.first_name,
            last_name: request.last_name,
            email: request.email,
            phone: request.phone,
            job_title: request.job_title,
            location: request.location,
            callback_url: request.callback_url,
            eligibility: None,
        })
    }

    fn summary(applicant: &HrLogicsApplicant) -> Value {
        json!({ "applicant_id": applicant.applicant_id, "survey_url": applicant.survey_url })
    }
}
