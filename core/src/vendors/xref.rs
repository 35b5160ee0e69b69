//! Xref reference checks, ordered on a move into the tenant's trigger stage (e.g. 'Reference
//! Check'). Lever shows one tag at a time, "Xref - {status}", starting with "Xref -
//! Candidate submitted". Wire: this product's vendor contract (Xref publishes no API):
//! `X-Api-Key`; `POST /reference-checks`, `GET /reference-checks/{id}`,
//! `POST /reference-checks/{id}/cancel`; callbacks signed with Standard Webhooks.

use super::contract::Contract;
use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, Outcome, PackageRule, Status,
    Trigger, VendorDescription, MOVE_AGAIN,
};
use super::wire::{required, to_json, Credentials};
use super::{CandidateOrder, PlacedOrder, StatusUpdate, VendorAccount, VendorError, VendorId};
use crate::order::VendorResults;
use serde::{Deserialize, Serialize};

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(Xref),
};

/// Xref as data: one tag per status, no package, cancelled on archive.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::Xref,
    name: "Xref",
    service: "Xref reference check",
    kind: super::ScreeningKind::ReferenceCheck,
    trigger: Trigger::StageChange,
    package: PackageRule::None,
    package_tag: None,
    callback_auth: CallbackAuth::StandardWebhooks,
    lever_access: LeverAccess::ApiKey,
    callback_setup: None,
    credentials: &[
        CredentialField {
            name: "api_key",
            label: "Xref API key",
            help: "From your Xref Customer Success Manager.",
        },
        CredentialField::CALLBACK_WHSEC,
    ],
    // Completed and Cancelled both end a check, so they share the last rank: neither can
    // follow the other.
    statuses: &[
        Status::step("Candidate submitted", 1).tagged("Xref - Candidate submitted"),
        Status::step("Referees nominated", 2).tagged("Xref - Referees nominated"),
        Status::step("References in progress", 3).tagged("Xref - References in progress"),
        Status::last("Completed", 4).tagged("Xref - Completed"),
        Status::last("Cancelled", 4)
            .ending(Outcome::Canceled)
            .tagged("Xref - Cancelled"),
    ],
    first_status: "Candidate submitted",
    lever: LeverDisplay::TAGS_ONLY,
    archive_cancels: true,
    not_ordered: "Xref reference check was not ordered",
    reorder_hint: MOVE_AGAIN,
};

/// Xref's API: `X-Api-Key`.
pub struct Xref;

#[derive(Serialize)]
struct CreateRequest<'a> {
    client_reference: &'a str,
    candidate: Candidate<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    callback_url: &'a str,
}

#[derive(Serialize)]
struct Candidate<'a> {
    name: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
}

/// A reference check as create, read and callbacks carry it.
#[derive(Deserialize)]
pub(crate) struct Check {
    id: String,
    #[serde(default)]
    client_reference: Option<String>,
    status: String,
    #[serde(default)]
    report_url: Option<String>,
}

impl Contract for Xref {
    const RESOURCE: &'static [&'static str] = &["reference-checks"];
    const CANCELS: bool = true;
    type Order = Check;

    fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
        Ok(Credentials::Header {
            name: "X-Api-Key",
            key: required(&account.secrets.api_key, "api_key")?,
        })
    }

    fn new_order(order: &CandidateOrder<'_>) -> Result<serde_json::Value, VendorError> {
        to_json(&CreateRequest {
            client_reference: order.order_id,
            candidate: Candidate {
                name: order.name,
                email: order.email,
                phone: order.phone,
            },
            role: order.role,
            callback_url: order.callback_url,
        })
    }

    fn placed(check: Check) -> PlacedOrder {
        PlacedOrder {
            vendor_order_id: check.id,
            status: Some(check.status),
            results: VendorResults::default(),
        }
    }

    fn update(check: Check) -> Result<StatusUpdate, VendorError> {
        Ok(StatusUpdate {
            vendor_order_id: check.id,
            client_reference: check.client_reference,
            status: check.status,
            results: VendorResults {
                report_url: check.report_url,
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
    use crate::vendors::{lever_view, LeverWrite};

    fn order_with_status(status: Option<&str>) -> Order {
        Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::Xref,
            OpportunityId::parse("opp").unwrap(),
        )
        .with_history(status.as_slice(), 0)
    }

    #[test]
    fn an_order_without_a_status_shows_nothing() {
        assert!(lever_view(&DESCRIPTION, &order_with_status(None)).is_empty());
    }

    #[test]
    fn each_status_is_lever_articles_tag_and_replaces_every_other_xref_tag() {
        for status in DESCRIPTION.statuses {
            let view = lever_view(&DESCRIPTION, &order_with_status(Some(status.word)));
            let [LeverWrite::Tag { add, remove }] = view.as_slice() else {
                panic!("one tag write: {view:?}");
            };
            assert_eq!(add, &format!("Xref - {}", status.word));
            assert_eq!(remove.len(), 4);
            assert!(!remove.contains(add));
        }
    }

    #[test]
    fn statuses_only_move_forward_and_end_at_completed_or_cancelled() {
        let rank = |s| DESCRIPTION.status(s).map(|i| i.rank);
        assert!(rank("Candidate submitted") < rank("Referees nominated"));
        assert!(rank("Referees nominated") < rank("References in progress"));
        assert!(rank("References in progress") < rank("Completed"));
        assert_eq!(rank("Completed"), rank("Cancelled"));
        assert!(DESCRIPTION
            .status("Cancelled")
            .is_some_and(|s| s.terminal()));
        assert_eq!(DESCRIPTION.status("completed"), None, "words are exact");
    }

    #[test]
    fn callback_parses_status_and_report_url() {
        let update = Xref
            .parse_callback(br#"{"id":"x1","client_reference":"o1","status":"Completed","report_url":"https://r"}"#)
            .unwrap().unwrap();
        assert_eq!(update.vendor_order_id, "x1");
        assert_eq!(update.status, "Completed");
        assert_eq!(update.results.report_url.as_deref(), Some("https://r"));
        assert!(Xref.parse_callback(br#"{"status":"Completed"}"#).is_err());
    }
}
