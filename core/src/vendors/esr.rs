//! ESR (Employment Screening Resources) background checks (seeds/esr.txt; wire contract in
//! vendors.md). Lever shows notes: one per status, one that stands out per flagged item,
//! and the link to the report.
//!
//! Lever deprecated ESR in May 2023 in favour of ClearStar, whose profile lifecycle is the
//! same (Draft → In-Progress → Completed): a ClearStar adapter is one more module like this.

use super::{
    required, CandidateOrder, Credentials, LeverWrite, PlacedOrder, StatusInfo, StatusUpdate,
    VendorAccount, VendorAdapter, VendorError,
};
use crate::model::{Flag, Order, VendorId, VendorResults};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub struct Esr;

const STATUSES: [(&str, StatusInfo); 4] = [
    ("Draft", StatusInfo::step(1)),
    ("In-Progress", StatusInfo::step(2)),
    ("Completed", StatusInfo::last(3)),
    ("Canceled", StatusInfo::last(3)),
];

const TITLE: &str = "ESR background check";

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

#[derive(Deserialize)]
struct Created {
    order_id: String,
    status: String,
}

#[derive(Deserialize)]
struct Callback {
    order_id: String,
    #[serde(default)]
    client_reference: Option<String>,
    status: String,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    report_url: Option<String>,
}

#[async_trait]
impl VendorAdapter for Esr {
    fn vendor(&self) -> VendorId {
        VendorId::Esr
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
            user: required(&account.secrets.username, "username (ESR account id)")?,
            password: required(&account.secrets.api_key, "api_key")?,
        };
        let package = order.required_package()?;
        let (first_name, last_name) = super::split_name(order.name);
        let body = NewOrder {
            client_reference: order.order_id,
            package_id: &package.id,
            candidate: Candidate {
                first_name,
                last_name,
                email: order.email,
                phone: order.phone,
            },
            callback_url: order.callback_url,
        };
        let created: Created = account
            .create("orders", credentials, order.order_id, &body)
            .await?;
        Ok(PlacedOrder {
            vendor_order_id: created.order_id,
            status: created.status,
            results: VendorResults::default(),
        })
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let callback: Callback =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        Ok(StatusUpdate {
            vendor_order_id: callback.order_id,
            client_reference: callback.client_reference,
            status: callback.status,
            results: VendorResults {
                report_url: callback.report_url,
                flags: callback.flags,
                ..VendorResults::default()
            },
        })
    }

    fn status_info(&self, status: &str) -> Option<StatusInfo> {
        STATUSES
            .iter()
            .find(|(word, _)| *word == status)
            .map(|(_, info)| *info)
    }

    fn lever_view(&self, order: &Order) -> Vec<LeverWrite> {
        let reference = order.vendor_order_id.as_deref().unwrap_or("-");
        let mut writes: Vec<LeverWrite> = Vec::new();
        for change in &order.history {
            let key = format!("status:{}", change.status);
            if writes.iter().any(|w| w.key() == key) {
                continue;
            }
            writes.push(LeverWrite::Note {
                key,
                text: format!(
                    "{TITLE}\nStatus: {}\nESR order: {reference}\nDate: {}",
                    change.status,
                    crate::model::utc_date(change.at)
                ),
                secret: false,
            });
        }
        // Flags are only ever appended, so their position is a stable key.
        for (n, flag) in order.results.flags.iter().enumerate() {
            writes.push(LeverWrite::Note {
                key: format!("flag:{n}"),
                text: format!(
                    "⚠ FLAG — {TITLE} needs review\nFlagged: {}: {}\nReview the report before \
                     moving this candidate on.",
                    flag.category, flag.description
                ),
                secret: false,
            });
        }
        if let Some(url) = &order.results.report_url {
            writes.push(LeverWrite::Note {
                key: "report".into(),
                text: format!("{TITLE} report (ESR order {reference}): {url}"),
                secret: false,
            });
        }
        writes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatusChange;

    fn order_with(statuses: &[&str], results: VendorResults) -> Order {
        let mut order = Order::new_intent("t", VendorId::Esr, "o");
        order.vendor_order_id = Some("esr_1".into());
        order.history = statuses
            .iter()
            .map(|s| StatusChange {
                status: (*s).into(),
                at: 1_795_585_372_000,
            })
            .collect();
        order.results = results;
        order
    }

    fn texts(order: &Order) -> Vec<String> {
        Esr.lever_view(order)
            .into_iter()
            .map(|w| w.content().to_owned())
            .collect()
    }

    #[test]
    fn each_status_is_a_note_naming_the_esr_order() {
        let notes = texts(&order_with(
            &["Draft", "In-Progress", "Completed"],
            VendorResults::default(),
        ));
        assert_eq!(notes.len(), 3);
        assert!(notes[0].contains("Status: Draft") && notes[0].contains("ESR order: esr_1"));
        assert!(notes[2].contains("Status: Completed"));
        assert!(notes[2].contains("Date: 2026-11-25"));
    }

    #[test]
    fn a_flag_stands_out_and_says_the_report_needs_review() {
        let results = VendorResults {
            flags: vec![Flag {
                category: "Criminal".into(),
                description: "Record found in Alameda County".into(),
            }],
            report_url: Some("https://esr.example/r/1".into()),
            ..VendorResults::default()
        };
        let notes = texts(&order_with(&["In-Progress"], results));
        assert!(notes[1].starts_with("⚠ FLAG"), "{}", notes[1]);
        assert!(notes[1].contains("Criminal: Record found in Alameda County"));
        assert!(notes[1].contains("Review the report"));
        assert!(notes[2].contains("https://esr.example/r/1"));
    }
}
