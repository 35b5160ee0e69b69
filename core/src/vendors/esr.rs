//! ESR (Employment Screening Resources) background checks, ordered on a move into the
//! tenant's trigger stage with a package from ESR's catalog. Lever shows notes: one per
//! status, one per flagged item (sent to the candidate's followers, as ESR's "flag
//! notifications"), and the link to the report. Wire: this product's vendor contract (ESR
//! publishes no API): Basic auth (account id and API key); `POST /orders`,
//! `GET /orders/{id}`, `POST /orders/{id}/cancel`; callbacks signed with Standard Webhooks.
//!
//! Lever deprecated ESR in May 2023 in favour of ClearStar, whose profile lifecycle is the
//! same (Draft → In-Progress → Completed): a ClearStar adapter is one more module like this.

use super::contract::Contract;
use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, Outcome, PackageRule, ReportNote,
    Status, StatusNotes, Trigger, VendorDescription, MOVE_AGAIN,
};
use super::wire::{required, to_json, Credentials};
use super::{CandidateOrder, PlacedOrder, StatusUpdate, VendorAccount, VendorError, VendorId};
use crate::order::{Flag, VendorResults};
use serde::{Deserialize, Serialize};

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(Esr),
};

/// ESR as data: notes per status, per flag and for the report; a package from the
/// catalog; cancelled on archive.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::Esr,
    name: "ESR",
    service: "ESR background check",
    kind: super::ScreeningKind::BackgroundCheck,
    trigger: Trigger::StageChange,
    package: PackageRule::Required,
    package_tag: None,
    callback_auth: CallbackAuth::StandardWebhooks,
    lever_access: LeverAccess::AuthorizedApp,
    callback_setup: None,
    credentials: &[
        CredentialField {
            name: "username",
            label: "ESR account id",
            help: "From your ESR client services representative.",
        },
        CredentialField {
            name: "api_key",
            label: "ESR API key",
            help: "Goes with the account id.",
        },
        CredentialField::CALLBACK_WHSEC,
    ],
    statuses: &[
        Status::step("Draft", 1),
        Status::step("In-Progress", 2),
        Status::last("Completed", 3),
        Status::last("Canceled", 3).ending(Outcome::Canceled),
    ],
    first_status: "Draft",
    lever: LeverDisplay {
        status_notes: Some(StatusNotes {
            reference_label: "ESR order",
            result_fields: false,
        }),
        flag_notes: true,
        services_note: None,
        report_note: Some(ReportNote {
            secret: false,
            when_completed: false,
            link_label: "Report",
        }),
    },
    archive_cancels: true,
    not_ordered: "ESR background check was not ordered",
    reorder_hint: MOVE_AGAIN,
};

/// ESR's API: Basic auth with the account id and the API key.
pub struct Esr;

#[derive(Serialize)]
struct NewOrder<'a> {
    client_reference: &'a str,
    package_id: &'a str,
    candidate: Candidate<'a>,
    callback_url: &'a str,
}

#[derive(Serialize)]
struct Candidate<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
}

/// An order as create, read and callbacks carry it.
#[derive(Deserialize)]
pub(crate) struct EsrOrder {
    order_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    status: String,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    report_url: Option<String>,
}

impl Contract for Esr {
    const RESOURCE: &'static [&'static str] = &["orders"];
    const CANCELS: bool = true;
    type Order = EsrOrder;

    fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
        Ok(Credentials::Basic {
            user: required(&account.secrets.username, "username (ESR account id)")?,
            password: required(&account.secrets.api_key, "api_key")?,
        })
    }

    fn new_order(order: &CandidateOrder<'_>) -> Result<serde_json::Value, VendorError> {
        let package = order.required_package()?;
        let (first_name, last_name) = super::split_name(order.name);
        to_json(&NewOrder {
            client_reference: order.order_id,
            package_id: &package.id,
            candidate: Candidate {
                first_name,
                last_name,
                email: order.email,
                phone: order.phone,
            },
            callback_url: order.callback_url,
        })
    }

    fn placed(created: EsrOrder) -> PlacedOrder {
        PlacedOrder {
            vendor_order_id: created.order_id,
            status: Some(created.status),
            results: VendorResults::default(),
        }
    }

    fn update(order: EsrOrder) -> Result<StatusUpdate, VendorError> {
        Ok(StatusUpdate {
            vendor_order_id: order.order_id,
            client_reference: order.client_reference,
            status: order.status,
            results: VendorResults {
                report_url: order.report_url,
                flags: order.flags,
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
    use crate::vendors::{lever_view, LeverWrite};

    fn order_with(statuses: &[&str], results: VendorResults) -> Order {
        Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::Esr,
            OpportunityId::parse("opp").unwrap(),
        )
        .placed_with("esr_1", results)
        .with_history(statuses, 1_795_585_372_000)
    }

    fn notes(order: &Order) -> Vec<(String, bool)> {
        lever_view(&DESCRIPTION, order)
            .into_iter()
            .map(|write| match write {
                LeverWrite::Note(note) => (note.text, note.notify_followers),
                other => panic!("ESR shows notes only: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_status_is_a_note_naming_the_esr_order() {
        let notes = notes(&order_with(
            &["Draft", "In-Progress", "Completed"],
            VendorResults::default(),
        ));
        assert_eq!(notes.len(), 3);
        assert_eq!(
            notes[0].0,
            "ESR background check\nStatus: Draft\nESR order: esr_1\nDate: 2026-11-25"
        );
        assert!(notes[2].0.contains("Status: Completed"));
    }

    #[test]
    fn a_flag_stands_out_notifies_followers_and_the_report_is_linked() {
        let results = VendorResults {
            flags: vec![Flag {
                category: "Criminal".into(),
                description: "Record found in Alameda County".into(),
            }],
            report_url: Some("https://esr.example/r/1".into()),
            ..VendorResults::default()
        };
        let notes = notes(&order_with(&["In-Progress"], results));
        let (flag, notify) = &notes[1];
        assert!(flag.starts_with("⚠ FLAG"), "{flag}");
        assert!(flag.contains("Criminal: Record found in Alameda County"));
        assert!(
            *notify,
            "flag notifications reach the candidate's followers"
        );
        assert!(!notes[0].1, "status notes notify no one");
        assert!(
            notes[2].0.contains("Report: https://esr.example/r/1"),
            "{}",
            notes[2].0
        );
    }
}
