//! Justifacts background checks (seeds/justifacts.txt; wire contract in vendors.md). The
//! package comes from a posting tag like "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"; Lever
//! shows one status tag at a time, and a secret note with the result URL on completion.

use super::{
    required, CandidateOrder, Credentials, LeverWrite, PlacedOrder, StatusInfo, StatusUpdate,
    VendorAccount, VendorAdapter, VendorError,
};
use crate::model::{Order, VendorId, VendorResults};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub struct Justifacts;

/// Justifacts' statuses, the exact tag Lever shows for each (odd spacing included, as the
/// seed has it), and their order.
const STATUSES: [(&str, &str, StatusInfo); 3] = [
    (
        "InProgressCandidate",
        "(Justifacts)In-Progress : Candidate",
        StatusInfo::step(1),
    ),
    (
        "InProgressJustifacts",
        "(Justifacts)In-Progress: Justifacts",
        StatusInfo::step(2),
    ),
    ("Complete", "(Justifacts)Complete", StatusInfo::last(3)),
];

/// The status of a freshly sent invitation: the request is with the applicant.
const INVITED: &str = "InProgressCandidate";

fn tag(status: &str) -> Option<&'static str> {
    STATUSES
        .iter()
        .find(|(word, _, _)| *word == status)
        .map(|(_, tag, _)| *tag)
}

/// Justifacts' result words on the HR-XML result list (vendors.md).
fn result_code(result: &str) -> Option<&'static str> {
    match result {
        "Clear" => Some("Clear"),
        "Review" => Some("Review"),
        "Adverse" => Some("Fail"),
        _ => None,
    }
}

#[derive(Serialize)]
struct Invitation<'a> {
    client_reference: &'a str,
    package: Package<'a>,
    applicant: Applicant<'a>,
    callback_url: &'a str,
}

#[derive(Serialize)]
struct Package<'a> {
    code: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
struct Applicant<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
}

#[derive(Deserialize)]
struct Invited {
    request_id: String,
}

#[derive(Deserialize)]
struct Callback {
    request_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    status: String,
    #[serde(default)]
    result_status: Option<String>,
    #[serde(default)]
    result_url: Option<String>,
}

#[async_trait]
impl VendorAdapter for Justifacts {
    fn vendor(&self) -> VendorId {
        VendorId::Justifacts
    }

    fn needs_package(&self) -> bool {
        true
    }

    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError> {
        let credentials = Credentials::Basic {
            user: required(&account.secrets.username, "username")?,
            password: required(&account.secrets.password, "password")?,
        };
        let package = order.required_package()?;
        let (first_name, last_name) = super::split_name(order.name);
        let invitation = Invitation {
            client_reference: order.order_id,
            package: Package {
                code: package.name.as_deref().unwrap_or_default(),
                id: &package.id,
            },
            applicant: Applicant {
                first_name,
                last_name,
                email: order.email,
            },
            callback_url: order.callback_url,
        };
        let invited: Invited = account
            .create("invitations", credentials, order.order_id, &invitation)
            .await?;
        Ok(PlacedOrder {
            vendor_order_id: invited.request_id,
            status: INVITED.into(),
            results: VendorResults::default(),
        })
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let callback: Callback =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        Ok(StatusUpdate {
            vendor_order_id: callback.request_id,
            client_reference: callback.client_reference,
            status: callback.status,
            results: VendorResults {
                result_code: callback
                    .result_status
                    .as_deref()
                    .and_then(result_code)
                    .map(str::to_owned),
                score: callback.result_status,
                report_url: callback.result_url,
                ..VendorResults::default()
            },
        })
    }

    fn status_info(&self, status: &str) -> Option<StatusInfo> {
        STATUSES
            .iter()
            .find(|(word, _, _)| *word == status)
            .map(|(_, _, info)| *info)
    }

    fn lever_view(&self, order: &Order) -> Vec<LeverWrite> {
        let Some(current) = order.status.as_deref().and_then(tag) else {
            return Vec::new();
        };
        let mut writes = vec![LeverWrite::Tag {
            add: current.to_owned(),
            remove: STATUSES
                .iter()
                .map(|(_, tag, _)| *tag)
                .filter(|tag| *tag != current)
                .map(str::to_owned)
                .collect(),
        }];
        // The result URL goes in a secret note: only those allowed to see secret notes
        // (the hiring team Lever permits) can open the report.
        if let (true, Some(url)) = (
            order.phase == crate::model::OrderPhase::Closed,
            &order.results.report_url,
        ) {
            let result = order.results.score.as_deref().unwrap_or("see the report");
            writes.push(LeverWrite::Note {
                key: "result".into(),
                text: format!(
                    "Justifacts background check complete.\nResult: {result}\nResult URL: {url}"
                ),
                secret: true,
            });
        }
        writes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderPhase;

    fn order(status: &str) -> Order {
        let mut order = Order::new_intent("t", VendorId::Justifacts, "o");
        let info = Justifacts.status_info(status).unwrap();
        order.status = Some(status.into());
        order.phase = if info.terminal {
            OrderPhase::Closed
        } else {
            OrderPhase::Open
        };
        order
    }

    fn tag_of(view: &[LeverWrite]) -> (&str, &[String]) {
        match view.first() {
            Some(LeverWrite::Tag { add, remove }) => (add, remove),
            other => panic!("a tag first: {other:?}"),
        }
    }

    #[test]
    fn each_status_shows_the_seeds_exact_tag_and_removes_the_others() {
        for (status, expected) in [
            ("InProgressCandidate", "(Justifacts)In-Progress : Candidate"),
            (
                "InProgressJustifacts",
                "(Justifacts)In-Progress: Justifacts",
            ),
            ("Complete", "(Justifacts)Complete"),
        ] {
            let view = Justifacts.lever_view(&order(status));
            let (add, remove) = tag_of(&view);
            assert_eq!(add, expected);
            assert_eq!(remove.len(), 2);
            assert!(!remove.iter().any(|t| t == expected));
        }
    }

    #[test]
    fn completion_adds_a_secret_note_with_the_result_url() {
        let mut done = order("Complete");
        done.results.report_url = Some("https://jweb.example/r/1".into());
        done.results.score = Some("Clear".into());
        let view = Justifacts.lever_view(&done);
        let Some(LeverWrite::Note { text, secret, .. }) = view.get(1) else {
            panic!("a note after the tag: {view:?}");
        };
        assert!(*secret);
        assert!(text.contains("https://jweb.example/r/1"), "{text}");
        assert!(text.contains("Result: Clear"));
        assert_eq!(
            Justifacts.lever_view(&order("InProgressJustifacts")).len(),
            1
        );
    }

    #[test]
    fn results_map_onto_hr_xml_codes() {
        let update = Justifacts
            .parse_callback(br#"{"request_id":"jf_1","status":"Complete","result_status":"Adverse","result_url":"https://r"}"#)
            .unwrap();
        assert_eq!(update.results.result_code.as_deref(), Some("Fail"));
        assert_eq!(update.results.score.as_deref(), Some("Adverse"));
        assert!(Justifacts.status_info("Completed").is_none());
    }
}
