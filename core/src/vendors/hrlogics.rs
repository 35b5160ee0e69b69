//! HRLogics WOTC (Work Opportunity Tax Credit) screening: every new application is sent to
//! HRLogics, which emails the applicant the WOTC survey; once evaluated, its eligibility shows
//! in Lever as one tag, "HRLogics-WOTC:Pre Qualified" or "HRLogics-WOTC:Not Qualified", and
//! a re-evaluation replaces it. Wire: this product's vendor contract (HRLogics publishes no
//! API): a Bearer API key; `POST /wotc/applicants`, `GET /wotc/applicants/{id}`, no cancel;
//! callbacks signed with Standard Webhooks.

use super::contract::Contract;
use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, Outcome, PackageRule, Status,
    Trigger, VendorDescription,
};
use super::wire::{required, to_json, Credentials};
use super::{CandidateOrder, PlacedOrder, StatusUpdate, VendorAccount, VendorError, VendorId};
use crate::order::VendorResults;
use serde::{Deserialize, Serialize};

/// The applicant was sent the survey; Lever shows nothing until HRLogics evaluates it.
const SURVEY_SENT: &str = "Survey sent";

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(HrLogics),
};

/// HRLogics as data: ordered on Application Created, a replaceable eligibility tag, never
/// cancelled on archive.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::HrLogics,
    name: "HRLogics",
    service: "HRLogics WOTC survey",
    kind: super::ScreeningKind::Wotc,
    trigger: Trigger::ApplicationCreated,
    package: PackageRule::None,
    package_tag: None,
    callback_auth: CallbackAuth::StandardWebhooks,
    lever_access: LeverAccess::AuthorizedApp,
    callback_setup: None,
    credentials: &[
        CredentialField {
            name: "api_key",
            label: "HRLogics API key",
            help: "From your HRLogics Company Admin.",
        },
        CredentialField::CALLBACK_WHSEC,
    ],
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
    // No stage to move into again: the admin re-sends it (the admin command `order`).
    reorder_hint: "Once that is fixed in Lever, ask your Lever admin to send it again.",
};

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
pub(crate) struct Applicant {
    applicant_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    #[serde(default)]
    eligibility: Option<String>,
}

impl Contract for HrLogics {
    const RESOURCE: &'static [&'static str] = &["wotc", "applicants"];
    /// Eligibility concerns the hire, not the application: HRLogics has nothing to cancel.
    const CANCELS: bool = false;
    type Order = Applicant;

    fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
        Ok(Credentials::Bearer(required(
            &account.secrets.api_key,
            "api_key",
        )?))
    }

    fn new_order(order: &CandidateOrder<'_>) -> Result<serde_json::Value, VendorError> {
        let (first_name, last_name) = super::split_name(order.name);
        to_json(&NewApplicant {
            client_reference: order.order_id,
            first_name,
            last_name,
            email: order.email,
            phone: order.phone,
            job_title: order.role,
            location: order.location,
            callback_url: order.callback_url,
        })
    }

    fn placed(applicant: Applicant) -> PlacedOrder {
        PlacedOrder {
            vendor_order_id: applicant.applicant_id,
            status: None,
            results: VendorResults::default(),
        }
    }

    /// No eligibility yet: the survey is out.
    fn update(applicant: Applicant) -> Result<StatusUpdate, VendorError> {
        Ok(StatusUpdate {
            vendor_order_id: applicant.applicant_id,
            client_reference: applicant.client_reference,
            status: applicant
                .eligibility
                .unwrap_or_else(|| SURVEY_SENT.to_owned()),
            results: VendorResults::default(),
        })
    }

    /// HRLogics calls back only with an evaluation.
    fn callback(applicant: Applicant) -> Result<StatusUpdate, VendorError> {
        if applicant.eligibility.is_none() {
            return Err(VendorError::Decode("missing field `eligibility`".into()));
        }
        Self::update(applicant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OpportunityId, OrderId, TenantId};
    use crate::order::Order;
    use crate::vendors::VendorApi;
    use crate::vendors::{lever_view, LeverWrite};

    fn order(status: &str) -> Order {
        let order = Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::HrLogics,
            OpportunityId::parse("opp").unwrap(),
        );
        order.with_history(&[status], 0)
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
            .unwrap()
            .unwrap();
        assert_eq!(update.status, "Pre Qualified");
    }
}
