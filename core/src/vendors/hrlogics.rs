//! HRLogics WOTC (Work Opportunity Tax Credit) screening: every new application is sent to
//! HRLogics, which emails the applicant the WOTC survey; once evaluated, its eligibility shows
//! in Lever as one tag, "HRLogics-WOTC:Pre Qualified" or "HRLogics-WOTC:Not Qualified", and
//! a re-evaluation replaces it. Wire: this product's vendor contract (HRLogics publishes no
//! API): a Bearer API key; `POST /wotc/applicants`, `GET /wotc/applicants/{id}`, no cancel;
//! callbacks signed with Standard Webhooks.

use super::description::{
    CallbackAuth, LeverDisplay, Outcome, PackageRule, Status, Trigger, VendorDescription,
};
use super::wire::{required, Credentials};
use super::{
    Cancellation, CandidateOrder, PlacedOrder, Placement, StatusUpdate, VendorAccount, VendorApi,
    VendorError, VendorId,
};
use crate::order::VendorResults;
use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The applicant was sent the survey; Lever shows nothing until HRLogics evaluates it.
const SURVEY_SENT: &str = "Survey sent";

/// HRLogics as data: ordered on Application Created, a replaceable eligibility tag, never
/// cancelled on archive.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::HrLogics,
    name: "HRLogics",
    service: "HRLogics WOTC survey",
    trigger: Trigger::ApplicationCreated,
    package: PackageRule::None,
    callback_auth: CallbackAuth::StandardWebhooks,
    statuses: &[
        Status::step(SURVEY_SENT, 1),
        // A result completes the order (so it leaves reconciliation and frees the
        // opportunity), yet HRLogics may re-evaluate eligibility: a later, different result
        // replaces it.
        Status::replaceable("Pre Qualified", 2)
            .ending(Outcome::Completed)
            .tagged("HRLogics-WOTC:Pre Qualified"),
        Status::replaceable("Not Qualified", 2)
            .ending(Outcome::Completed)
            .tagged("HRLogics-WOTC:Not Qualified"),
    ],
    first_status: SURVEY_SENT,
    lever: LeverDisplay::TAGS_ONLY,
    // Eligibility concerns the hire, not the application: archiving does not cancel it.
    archive_cancels: false,
    not_ordered: "The HRLogics WOTC survey could not be sent",
    reorder_hint: "Once that is fixed in Lever, an operator sends it with \
                   `lever-screening-admin order <tenant> hrlogics <opportunity>`.",
};

const RESOURCE: [&str; 2] = ["wotc", "applicants"];

/// HRLogics' API: `Authorization: Bearer <key>`.
pub struct HrLogics;

#[derive(Serialize)]
struct NewApplicant<'a> {
    client_reference: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    callback_url: &'a str,
}

/// An applicant as create, read and callbacks carry it; no eligibility until evaluated.
#[derive(Deserialize)]
struct Applicant {
    applicant_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    #[serde(default)]
    eligibility: Option<String>,
}

impl From<Applicant> for StatusUpdate {
    fn from(applicant: Applicant) -> Self {
        StatusUpdate {
            vendor_order_id: applicant.applicant_id,
            client_reference: applicant.client_reference,
            status: applicant
                .eligibility
                .unwrap_or_else(|| SURVEY_SENT.to_owned()),
            results: VendorResults::default(),
        }
    }
}

fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
    Ok(Credentials::Bearer(required(
        &account.secrets.api_key,
        "api_key",
    )?))
}

#[async_trait]
impl VendorApi for HrLogics {
    async fn place(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        _steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError> {
        let (first_name, last_name) = super::split_name(order.name);
        let applicant = NewApplicant {
            client_reference: order.order_id,
            first_name,
            last_name,
            email: order.email,
            phone: order.phone,
            job_title: order.role,
            location: order.location,
            callback_url: order.callback_url,
        };
        let created = account
            .create::<Applicant>(
                &RESOURCE,
                &credentials(account)?,
                order.order_id,
                &applicant,
            )
            .await?;
        let vendor_order_id = match created {
            Ok(applicant) => applicant.applicant_id,
            Err(existing) => existing,
        };
        Ok(Placement::Placed(PlacedOrder {
            vendor_order_id,
            status: None,
            results: VendorResults::default(),
        }))
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let applicant: Applicant =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        if applicant.eligibility.is_none() {
            return Err(VendorError::Decode("missing field `eligibility`".into()));
        }
        Ok(applicant.into())
    }

    async fn read_order(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError> {
        let [wotc, applicants] = RESOURCE;
        let applicant: Applicant = account
            .call(
                Method::GET,
                &[wotc, applicants, vendor_order_id],
                &credentials(account)?,
            )
            .await?;
        Ok(applicant.into())
    }

    async fn cancel(
        &self,
        _account: &VendorAccount<'_>,
        _vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError> {
        Ok(Cancellation::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OpportunityId, OrderId, TenantId};
    use crate::order::Order;
    use crate::vendors::{lever_view, LeverWrite};

    fn order(status: &str) -> Order {
        let mut order = Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::HrLogics,
            OpportunityId::parse("opp").unwrap(),
        );
        order.status = Some(status.into());
        order
    }

    #[test]
    fn each_result_is_lever_articles_exact_tag_and_replaces_the_other() {
        let view = lever_view(&DESCRIPTION, &order("Pre Qualified"));
        assert_eq!(
            view,
            [LeverWrite::Tag {
                add: "HRLogics-WOTC:Pre Qualified".into(),
                remove: vec!["HRLogics-WOTC:Not Qualified".into()],
            }]
        );
        let view = lever_view(&DESCRIPTION, &order("Not Qualified"));
        assert!(
            matches!(&view[0], LeverWrite::Tag { add, .. } if add == "HRLogics-WOTC:Not Qualified")
        );
        assert!(lever_view(&DESCRIPTION, &order(SURVEY_SENT)).is_empty());
    }

    #[test]
    fn a_callback_must_carry_an_eligibility() {
        assert!(HrLogics
            .parse_callback(br#"{"applicant_id":"hrl_1"}"#)
            .is_err());
        let update = HrLogics
            .parse_callback(br#"{"applicant_id":"hrl_1","eligibility":"Pre Qualified"}"#)
            .unwrap();
        assert_eq!(update.status, "Pre Qualified");
    }
}
