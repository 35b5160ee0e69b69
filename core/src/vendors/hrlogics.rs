//! HRLogics WOTC screening (seeds/hrlogics.txt; wire contract in vendors.md). Every new
//! application is sent to HRLogics, which emails the applicant the WOTC survey; its
//! eligibility result shows in Lever as one tag, "HRLogics-WOTC:{eligibility}".

use super::{
    required, CandidateOrder, Credentials, LeverWrite, PlacedOrder, StatusInfo, StatusUpdate,
    Trigger, VendorAccount, VendorAdapter, VendorError,
};
use crate::model::{Order, VendorId, VendorResults};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub struct HrLogics;

/// The applicant was sent the survey; Lever shows nothing until HRLogics evaluates it.
const SURVEY_SENT: &str = "Survey sent";
/// HRLogics re-evaluates eligibility: a later result replaces an earlier one.
const ELIGIBILITY: [&str; 2] = ["Pre Qualified", "Not Qualified"];
const RESULT: StatusInfo = StatusInfo {
    rank: 2,
    terminal: false,
    replaceable: true,
};

fn tag(eligibility: &str) -> String {
    format!("HRLogics-WOTC:{eligibility}")
}

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

#[derive(Deserialize)]
struct Created {
    applicant_id: String,
}

#[derive(Deserialize)]
struct Callback {
    applicant_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    eligibility: String,
}

#[async_trait]
impl VendorAdapter for HrLogics {
    fn vendor(&self) -> VendorId {
        VendorId::HrLogics
    }

    fn trigger(&self) -> Trigger {
        Trigger::ApplicationCreated
    }

    fn not_ordered_note(&self, problem: &str) -> String {
        format!(
            "The HRLogics WOTC survey could not be sent: {problem}. Once that is fixed in \
             Lever, an operator sends it with `lever-screening-local order <tenant> \
             hrlogics <opportunity>`."
        )
    }

    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError> {
        let api_key = required(&account.secrets.api_key, "api_key")?;
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
        let created: Created = account
            .create(
                "wotc/applicants",
                Credentials::Bearer(api_key),
                order.order_id,
                &applicant,
            )
            .await?;
        Ok(PlacedOrder {
            vendor_order_id: created.applicant_id,
            status: SURVEY_SENT.into(),
            results: VendorResults::default(),
        })
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let callback: Callback =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        Ok(StatusUpdate {
            vendor_order_id: callback.applicant_id,
            client_reference: callback.client_reference,
            status: callback.eligibility,
            results: VendorResults::default(),
        })
    }

    fn status_info(&self, status: &str) -> Option<StatusInfo> {
        if status == SURVEY_SENT {
            Some(StatusInfo::step(1))
        } else {
            ELIGIBILITY.contains(&status).then_some(RESULT)
        }
    }

    fn lever_view(&self, order: &Order) -> Vec<LeverWrite> {
        let Some(eligibility) = order.status.as_deref().filter(|s| ELIGIBILITY.contains(s)) else {
            return Vec::new();
        };
        vec![LeverWrite::Tag {
            add: tag(eligibility),
            remove: ELIGIBILITY
                .iter()
                .filter(|other| **other != eligibility)
                .map(|other| tag(other))
                .collect(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str) -> Order {
        let mut order = Order::new_intent("t", VendorId::HrLogics, "o");
        order.status = Some(status.into());
        order
    }

    #[test]
    fn each_result_is_the_seeds_exact_tag_and_replaces_the_other() {
        let view = HrLogics.lever_view(&order("Pre Qualified"));
        assert_eq!(
            view,
            [LeverWrite::Tag {
                add: "HRLogics-WOTC:Pre Qualified".into(),
                remove: vec!["HRLogics-WOTC:Not Qualified".into()],
            }]
        );
        let view = HrLogics.lever_view(&order("Not Qualified"));
        assert!(
            matches!(&view[0], LeverWrite::Tag { add, .. } if add == "HRLogics-WOTC:Not Qualified")
        );
        assert!(HrLogics.lever_view(&order(SURVEY_SENT)).is_empty());
    }

    #[test]
    fn a_later_result_replaces_an_earlier_one() {
        let mut order = order(SURVEY_SENT);
        order.status_rank = 1;
        let pre = HrLogics.status_info("Pre Qualified").unwrap();
        assert!(order.advance_or_replace(
            "Pre Qualified",
            pre.rank,
            pre.terminal,
            pre.replaceable,
            VendorResults::default()
        ));
        let not = HrLogics.status_info("Not Qualified").unwrap();
        assert!(order.advance_or_replace(
            "Not Qualified",
            not.rank,
            not.terminal,
            not.replaceable,
            VendorResults::default()
        ));
        assert!(
            !order.advance_or_replace(
                "Not Qualified",
                not.rank,
                not.terminal,
                not.replaceable,
                VendorResults::default()
            ),
            "a repeat"
        );
        let sent = HrLogics.status_info(SURVEY_SENT).unwrap();
        assert!(
            !order.advance_or_replace(
                SURVEY_SENT,
                sent.rank,
                sent.terminal,
                sent.replaceable,
                VendorResults::default()
            ),
            "never back"
        );
        assert_eq!(order.status.as_deref(), Some("Not Qualified"));
    }
}
