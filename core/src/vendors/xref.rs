//! Xref reference checks (seeds/xref.txt; wire contract in vendors.md). Lever shows one
//! tag at a time, "Xref - {status}", starting with "Xref - Candidate submitted".

use super::{
    required, CandidateOrder, Credentials, LeverWrite, PlacedOrder, StatusInfo, StatusUpdate,
    VendorAccount, VendorAdapter, VendorError,
};
use crate::model::{Order, VendorId, VendorResults};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub struct Xref;

/// Xref's statuses in the order a reference check moves through them. Completed and
/// Cancelled both end it, so they share the last rank: neither can follow the other.
const STATUSES: [(&str, StatusInfo); 5] = [
    ("Candidate submitted", StatusInfo::step(1)),
    ("Referees nominated", StatusInfo::step(2)),
    ("References in progress", StatusInfo::step(3)),
    ("Completed", StatusInfo::last(4)),
    ("Cancelled", StatusInfo::last(4)),
];

pub const TAG_PREFIX: &str = "Xref - ";

fn tag(status: &str) -> String {
    format!("{TAG_PREFIX}{status}")
}

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

#[derive(Deserialize)]
struct CreateResponse {
    id: String,
    status: String,
}

#[derive(Deserialize)]
struct Callback {
    id: String,
    #[serde(default)]
    client_reference: Option<String>,
    status: String,
    #[serde(default)]
    report_url: Option<String>,
}

#[async_trait]
impl VendorAdapter for Xref {
    fn vendor(&self) -> VendorId {
        VendorId::Xref
    }

    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError> {
        let key = required(&account.secrets.api_key, "api_key")?;
        let body = CreateRequest {
            client_reference: order.order_id,
            candidate: Candidate {
                name: order.name,
                email: order.email,
                phone: order.phone,
            },
            role: order.role,
            callback_url: order.callback_url,
        };
        let credentials = Credentials::Header {
            name: "X-Api-Key",
            key,
        };
        let created: CreateResponse = account
            .create("reference-checks", credentials, order.order_id, &body)
            .await?;
        Ok(PlacedOrder {
            vendor_order_id: created.id,
            status: created.status,
            results: VendorResults::default(),
        })
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let callback: Callback =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        Ok(StatusUpdate {
            vendor_order_id: callback.id,
            client_reference: callback.client_reference,
            status: callback.status,
            results: VendorResults {
                report_url: callback.report_url,
                ..VendorResults::default()
            },
        })
    }

    fn status_info(&self, status: &str) -> Option<StatusInfo> {
        STATUSES
            .iter()
            .find(|(name, _)| *name == status)
            .map(|(_, info)| *info)
    }

    fn lever_view(&self, order: &Order) -> Vec<LeverWrite> {
        let Some(status) = order.status.as_deref() else {
            return Vec::new();
        };
        vec![LeverWrite::Tag {
            add: tag(status),
            remove: STATUSES
                .iter()
                .filter(|(name, _)| *name != status)
                .map(|(name, _)| tag(name))
                .collect(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_with_status(status: Option<&str>) -> Order {
        let mut order = Order::new_intent("t", VendorId::Xref, "o");
        order.status = status.map(str::to_owned);
        order
    }

    #[test]
    fn an_order_without_a_status_shows_nothing() {
        assert!(Xref.lever_view(&order_with_status(None)).is_empty());
    }

    #[test]
    fn submitted_is_the_seed_tag_and_replaces_every_other_xref_tag() {
        let view = Xref.lever_view(&order_with_status(Some("Candidate submitted")));
        let [LeverWrite::Tag { add, remove }] = view.as_slice() else {
            panic!("one tag write: {view:?}");
        };
        assert_eq!(add, "Xref - Candidate submitted");
        assert_eq!(remove.len(), 4);
        assert!(!remove.contains(add));
        assert!(remove.contains(&"Xref - Completed".to_owned()));
    }

    #[test]
    fn statuses_only_move_forward_and_end_at_completed_or_cancelled() {
        let rank = |s| Xref.status_info(s).map(|i| i.rank);
        assert!(rank("Candidate submitted") < rank("Referees nominated"));
        assert!(rank("Referees nominated") < rank("References in progress"));
        assert!(rank("References in progress") < rank("Completed"));
        assert_eq!(rank("Completed"), rank("Cancelled"));
        assert!(Xref.status_info("Completed").is_some_and(|i| i.terminal));
        assert!(Xref
            .status_info("Referees nominated")
            .is_some_and(|i| !i.terminal));
        assert_eq!(Xref.status_info("completed"), None);
    }

    #[test]
    fn callback_parses_status_and_report_url() {
        let update = Xref
            .parse_callback(br#"{"id":"x1","client_reference":"o1","status":"Completed","report_url":"https://r"}"#)
            .unwrap();
        assert_eq!(update.vendor_order_id, "x1");
        assert_eq!(update.status, "Completed");
        assert_eq!(update.results.report_url.as_deref(), Some("https://r"));
        assert!(Xref.parse_callback(br#"{"status":"Completed"}"#).is_err());
    }
}
