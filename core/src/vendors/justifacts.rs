//! Justifacts background checks, ordered on a move into 'Background Check'. The package comes
//! from a posting tag like "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"; Lever shows one status
//! tag at a time (odd spacing included, as Justifacts writes them) and, once complete, a
//! secret note with the result URL. Wire: this product's vendor contract (Justifacts
//! publishes no API): Basic auth; `POST /invitations`, `GET /invitations/{id}`,
//! `POST /invitations/{id}/cancel`; callbacks signed with Standard Webhooks.

use super::contract::Contract;
use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, PackageRule, ReportNote, Status,
    Trigger, VendorDescription, MOVE_AGAIN,
};
use super::wire::{required, to_json, Credentials};
use super::{CandidateOrder, PlacedOrder, StatusUpdate, VendorAccount, VendorError, VendorId};
use crate::order::VendorResults;
use serde::{Deserialize, Serialize};

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(Justifacts),
};

/// Justifacts as data: one tag per status, a package, a secret result note once complete.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::Justifacts,
    name: "Justifacts",
    service: "Justifacts background check",
    kind: super::ScreeningKind::BackgroundCheck,
    trigger: Trigger::StageChange,
    package: PackageRule::Required,
    // Lever's Justifacts article fixes the posting tag: "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]".
    package_tag: Some("JUSTIFACTS BGC PKG:"),
    callback_auth: CallbackAuth::StandardWebhooks,
    lever_access: LeverAccess::AuthorizedApp,
    callback_setup: None,
    credentials: &[
        CredentialField {
            name: "username",
            label: "JWeb user name",
            help: "Your Justifacts JWeb account.",
        },
        CredentialField {
            name: "password",
            label: "JWeb password",
            help: "Goes with the user name.",
        },
        CredentialField::CALLBACK_WHSEC,
    ],
    statuses: &[
        // The request was sent to the applicant.
        Status::step("InProgressCandidate", 1).tagged("(Justifacts)In-Progress : Candidate"),
        // The applicant completed it.
        Status::step("InProgressJustifacts", 2).tagged("(Justifacts)In-Progress: Justifacts"),
        // Justifacts completed the order.
        Status::last("Complete", 3).tagged("(Justifacts)Complete"),
    ],
    first_status: "InProgressCandidate",
    lever: LeverDisplay {
        // Secret: only those Lever lets see secret notes (the hiring team) open the report.
        report_note: Some(ReportNote {
            secret: true,
            when_completed: true,
            link_label: "Result URL",
        }),
        ..LeverDisplay::TAGS_ONLY
    },
    archive_cancels: true,
    not_ordered: "Justifacts background check was not ordered",
    reorder_hint: MOVE_AGAIN,
};

/// Justifacts' API: Basic auth with the client's JWeb integration credentials.
pub struct Justifacts;

/// Justifacts' result words on the HR-XML result list.
fn result_code(result: &str) -> Option<&'static str> {
    match result {
        "Clear" => Some("Clear"),
        "Review" => Some("Review"),
        "Adverse" => Some("Fail"),
        _ => None,
    }
}

#[derive(Serialize)]
struct NewInvitation<'a> {
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

/// An invitation as create, read and callbacks carry it.
#[derive(Deserialize)]
pub(crate) struct Invitation {
    request_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    result_status: Option<String>,
    #[serde(default)]
    result_url: Option<String>,
}

impl Contract for Justifacts {
    const RESOURCE: &'static [&'static str] = &["invitations"];
    const CANCELS: bool = true;
    type Order = Invitation;

    fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
        Ok(Credentials::Basic {
            user: required(&account.secrets.username, "username")?,
            password: required(&account.secrets.password, "password")?,
        })
    }

    fn new_order(order: &CandidateOrder<'_>) -> Result<serde_json::Value, VendorError> {
        let package = order.required_package()?;
        let (first_name, last_name) = super::split_name(order.name);
        to_json(&NewInvitation {
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
        })
    }

    /// The create answer names the invitation only; its first status is the description's.
    fn placed(invited: Invitation) -> PlacedOrder {
        PlacedOrder {
            vendor_order_id: invited.request_id,
            status: None,
            results: VendorResults::default(),
        }
    }

    fn update(invitation: Invitation) -> Result<StatusUpdate, VendorError> {
        let status = invitation
            .status
            .ok_or_else(|| VendorError::Decode("missing field `status`".into()))?;
        Ok(StatusUpdate {
            vendor_order_id: invitation.request_id,
            client_reference: invitation.client_reference,
            status,
            results: VendorResults {
                result_code: invitation
                    .result_status
                    .as_deref()
                    .and_then(result_code)
                    .map(str::to_owned),
                score: invitation.result_status,
                report_url: invitation.result_url,
                ..VendorResults::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OpportunityId, OrderId, TenantId};
    use crate::order::Order;
    use crate::vendors::VendorApi;
    use crate::vendors::{lever_view, LeverWrite, NoteWrite};

    fn order(status: &str) -> Order {
        let mut order = Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::Justifacts,
            OpportunityId::parse("opp").unwrap(),
        );
        let info = DESCRIPTION.status(status).unwrap();
        order.advance(info, VendorResults::default());
        order
    }

    #[test]
    fn each_status_shows_lever_articles_exact_tag_and_removes_the_others() {
        for (status, expected) in [
            ("InProgressCandidate", "(Justifacts)In-Progress : Candidate"),
            (
                "InProgressJustifacts",
                "(Justifacts)In-Progress: Justifacts",
            ),
            ("Complete", "(Justifacts)Complete"),
        ] {
            let view = lever_view(&DESCRIPTION, &order(status));
            let Some(LeverWrite::Tag { add, remove }) = view.first() else {
                panic!("a tag first: {view:?}");
            };
            assert_eq!(add, expected);
            assert_eq!(remove.len(), 2);
            assert!(!remove.iter().any(|t| t == expected));
        }
    }

    #[test]
    fn completion_adds_a_secret_note_with_the_result_url() {
        let mut done = order("Complete");
        done.results_mut().report_url = Some("https://jweb.example/r/1".into());
        done.results_mut().score = Some("Clear".into());
        let view = lever_view(&DESCRIPTION, &done);
        let Some(LeverWrite::Note(NoteWrite { text, secret, .. })) = view.get(1) else {
            panic!("a note after the tag: {view:?}");
        };
        assert!(*secret);
        assert!(
            text.contains("Result URL: https://jweb.example/r/1"),
            "{text}"
        );
        assert!(text.contains("Result: Clear"), "{text}");
        let mut in_progress = order("InProgressJustifacts");
        in_progress.results_mut().report_url = Some("https://jweb.example/r/1".into());
        assert_eq!(
            lever_view(&DESCRIPTION, &in_progress).len(),
            1,
            "not before completion"
        );
    }

    #[test]
    fn results_map_onto_hr_xml_codes() {
        let update = Justifacts
            .parse_callback(br#"{"request_id":"jf_1","status":"Complete","result_status":"Adverse","result_url":"https://r"}"#)
            .unwrap().unwrap();
        assert_eq!(update.results.result_code.as_deref(), Some("Fail"));
        assert_eq!(update.results.score.as_deref(), Some("Adverse"));
        assert!(DESCRIPTION.status("Completed").is_none());
    }
}
