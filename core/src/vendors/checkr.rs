//! Checkr background checks, ordered on a move into the tenant's trigger stage with a
//! package (Checkr's package slug) from a tag or the tenant's default. Lever shows one tag at
//! a time, as Lever's own Checkr integration does: `Invitation Pending`, then `Invitation
//! Completed`, then `Report Clear` or `Report Consider`, and a secret note with the link to
//! the report in Checkr's Dashboard.
//!
//! Wire: Checkr's public API (docs/vendor-apis.md cites each fact) — HTTP Basic with the API
//! key as the user and no password; a candidate (`POST /v1/candidates`, only the email is
//! required with invitations), kept for the Lever candidate's later orders as Checkr
//! recommends; then an invitation (`POST /v1/invitations`: package slug, work location, and
//! our order id as a tag, which Checkr copies onto the report); both POSTs carry an
//! `Idempotency-Key`. The vendor order is the invitation; its report is read through the
//! invitation's `report_id`. Webhooks are signed (`X-Checkr-Signature`, hex HMAC-SHA256 of
//! the body keyed with the API key) but may come out of order or twice, so each is a hint to
//! re-read the invitation and its report. Archiving cancels a pending invitation (`DELETE
//! /v1/invitations/{id}`); a report once started cannot be cancelled through the API.

use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, Outcome, PackageRule, ReportNote,
    Status, Trigger, VendorDescription, MOVE_AGAIN,
};
use super::wire::{required, Credentials};
use super::{
    Cancellation, CandidateOrder, Placement, StatusUpdate, VendorAccount, VendorApi, VendorError,
    VendorId,
};
use crate::order::VendorResults;
use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(Checkr),
};

/// Checkr as data: one tag per status, a package slug, signed webhooks that are re-read,
/// cancelled on archive while the invitation is pending.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::Checkr,
    name: "Checkr",
    service: "Checkr background check",
    kind: super::ScreeningKind::BackgroundCheck,
    trigger: Trigger::StageChange,
    package: PackageRule::Required,
    package_tag: None,
    callback_auth: CallbackAuth::ApiKeyHmac {
        header: SIGNATURE_HEADER,
    },
    lever_access: LeverAccess::ApiKey,
    callback_setup: Some("Add this URL as a webhook in Checkr's Dashboard (Account Settings › Developer Settings), with “Include object” on."),
    credentials: &[CredentialField {
        name: "api_key",
        label: "Checkr secret API key",
        help: "The live secret API key, from Checkr's Dashboard: Account Settings › Developer Settings. Checkr also signs its webhooks with it.",
    }],
    // The four tags of Lever's own integration, in order; a report's result replaces the
    // invitation's tags. An invitation that expired or a check that was cancelled ends the
    // order with a tag in the same words (Lever's article names none for these).
    statuses: &[
        Status::step(INVITATION_PENDING, 1).tagged(INVITATION_PENDING),
        Status::step(INVITATION_COMPLETED, 2).tagged(INVITATION_COMPLETED),
        Status::last(REPORT_CLEAR, 3).tagged(REPORT_CLEAR),
        Status::last(REPORT_CONSIDER, 3).tagged(REPORT_CONSIDER),
        Status::last(INVITATION_EXPIRED, 3)
            .ending(Outcome::Failed)
            .tagged(INVITATION_EXPIRED),
        Status::last(CANCELED, 3)
            .ending(Outcome::Canceled)
            .tagged(CANCELED),
    ],
    first_status: INVITATION_PENDING,
    lever: LeverDisplay {
        // "A gated link to the completed results": a secret note, once the report is done.
        report_note: Some(ReportNote {
            secret: true,
            when_completed: true,
            link_label: "Checkr report",
        }),
        ..LeverDisplay::TAGS_ONLY
    },
    archive_cancels: true,
    not_ordered: "Checkr background check was not ordered",
    reorder_hint: MOVE_AGAIN,
};

/// Checkr's webhook signature header.
pub const SIGNATURE_HEADER: &str = "X-Checkr-Signature";
/// The prefix of the tag carrying our order id on the invitation and so on its report.
pub const ORDER_TAG_PREFIX: &str = "lever-screening:";
/// Where recruiters open a report: Checkr's Dashboard.
const DASHBOARD_REPORTS: &str = "https://dashboard.checkr.com/reports/";

const INVITATION_PENDING: &str = "Invitation Pending";
const INVITATION_COMPLETED: &str = "Invitation Completed";
const REPORT_CLEAR: &str = "Report Clear";
const REPORT_CONSIDER: &str = "Report Consider";
const INVITATION_EXPIRED: &str = "Invitation Expired";
const CANCELED: &str = "Canceled";

/// The step of [`VendorApi::place`] that records the Checkr candidate.
const CANDIDATE: &str = "candidate";

/// Checkr's API (`{base}/v1/…`).
pub struct Checkr;

#[derive(Serialize)]
struct NewCandidate<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Serialize)]
struct NewInvitation<'a> {
    package: &'a str,
    candidate_id: &'a str,
    work_locations: [WorkLocation<'a>; 1],
    tags: [String; 1],
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct WorkLocation<'a> {
    country: &'static str,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
}

/// An invitation as Checkr returns it (`GET /v1/invitations/{id}`).
#[derive(Debug, Deserialize)]
struct Invitation {
    id: String,
    status: String,
    #[serde(default)]
    deleted_at: Option<String>,
    #[serde(default)]
    report_id: Option<String>,
}

/// A report as Checkr returns it (`GET /v1/reports/{id}`).
#[derive(Debug, Deserialize)]
struct Report {
    id: String,
    status: String,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// A webhook: `{id, object: "event", type, data: {object}}`.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: EventObject,
}

/// The event's object: the whole object, or `{id, object, uri}` when the account's webhook
/// does not include objects.
#[derive(Deserialize)]
struct EventObject {
    id: String,
    object: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// What the order's invitation and report say, in the description's words.
fn status_update(invitation: Invitation, report: Option<Report>) -> StatusUpdate {
    let client_reference = report.as_ref().and_then(|r| order_tag(&r.tags));
    let mut results = VendorResults::default();
    let status = if invitation.deleted_at.is_some() {
        CANCELED
    } else {
        match (invitation.status.as_str(), report) {
            ("expired", _) => INVITATION_EXPIRED,
            ("completed", Some(report)) => {
                results.report_url = Some(format!("{DASHBOARD_REPORTS}{}", report.id));
                match (report.status.as_str(), report.result.as_deref()) {
                    ("canceled", _) => CANCELED,
                    ("complete", Some(result @ ("clear" | "consider"))) => {
                        let (word, score, code) = if result == "clear" {
                            (REPORT_CLEAR, "Clear", "Clear")
                        } else {
                            (REPORT_CONSIDER, "Consider", "Review")
                        };
                        results.score = Some(score.to_owned());
                        results.result_code = Some(code.to_owned());
                        results.completed_at = report.completed_at.map(|at| date_of(&at));
                        word
                    }
                    // pending, suspended, paused, dispute: Checkr is still at work.
                    _ => INVITATION_COMPLETED,
                }
            }
            ("completed", None) => INVITATION_COMPLETED,
            _ => INVITATION_PENDING,
        }
    };
    StatusUpdate {
        vendor_order_id: invitation.id,
        client_reference,
        status: status.to_owned(),
        results,
    }
}

/// The date part of Checkr's ISO 8601 timestamp.
fn date_of(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_owned()
}

/// Our order id, from the tag the invitation carried.
fn order_tag(tags: &[String]) -> Option<String> {
    tags.iter()
        .find_map(|tag| tag.strip_prefix(ORDER_TAG_PREFIX))
        .map(str::to_owned)
}

/// The US states (and DC) by their postal codes: a work location in the US needs one.
const US_STATES: [&str; 51] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

/// The work location of Lever's posting location, written as Lever shows US locations:
/// `City, ST` (optionally followed by `US`, `USA` or `United States`). Checkr requires a state
/// for a US work location.
fn work_location(location: Option<&str>) -> Result<WorkLocation<'_>, VendorError> {
    let unusable = || {
        VendorError::Unorderable(format!(
            "Checkr needs the job's US state as its work location, and the posting's location ({}) names none: write it as `City, ST` (e.g. `Boston, MA`)",
            location.unwrap_or("not set")
        ))
    };
    let mut parts: Vec<&str> = location
        .ok_or_else(unusable)?
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    if parts.len() > 1
        && matches!(
            parts.last().map(|p| p.to_ascii_uppercase()).as_deref(),
            Some("US" | "USA" | "UNITED STATES")
        )
    {
        parts.pop();
    }
    let state = parts.pop().ok_or_else(unusable)?;
    if !US_STATES.contains(&state) {
        return Err(unusable());
    }
    Ok(WorkLocation {
        country: "US",
        state,
        city: parts.first().copied(),
    })
}

/// A name Checkr accepts as it is (its documented characters), else none: Checkr's form asks
/// the candidate instead of refusing the order.
fn checkr_name(name: &str) -> Option<&str> {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || "-'., ªµº".contains(c)
            || ('\u{C0}'..='\u{FF}').contains(&c) && c != '\u{D7}' && c != '\u{F7}'
    };
    (!name.is_empty() && name.chars().all(allowed)).then_some(name)
}

fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError> {
    Ok(Credentials::User(required(
        &account.secrets.api_key,
        "api_key",
    )?))
}

/// `POST {base}/v1/{resource}` as JSON with an idempotency key: Checkr replays the first
/// answer for the same key for 24 hours, so a retry never makes a second one.
async fn post<T: DeserializeOwned>(
    account: &VendorAccount<'_>,
    resource: &str,
    idempotency_key: &str,
    body: &(impl Serialize + Sync),
) -> Result<T, VendorError> {
    let credentials = credentials(account)?;
    account
        .post(&["v1", resource], &credentials, idempotency_key, body)
        .await
}

async fn get<T: DeserializeOwned>(
    account: &VendorAccount<'_>,
    segments: &[&str],
    query: &[(&str, &str)],
) -> Result<T, VendorError> {
    let credentials = credentials(account)?;
    account
        .call_with(Method::GET, segments, query, &credentials)
        .await
}

#[async_trait]
impl VendorApi for Checkr {
    async fn place(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError> {
        let package = order.required_package()?;
        let location = work_location(order.location)?;
        let Some(candidate_id) = steps.get(CANDIDATE) else {
            let (given, family) = super::split_name(order.name);
            let new = NewCandidate {
                email: order.email,
                first_name: checkr_name(given),
                last_name: checkr_name(family).filter(|_| given != family),
            };
            let key = format!("{}:candidate", order.order_id);
            let created: Created = post(account, "candidates", &key, &new).await?;
            return Ok(Placement::Steps(vec![(CANDIDATE, created.id)]));
        };
        let new = NewInvitation {
            package: &package.id,
            candidate_id,
            work_locations: [location],
            tags: [format!("{ORDER_TAG_PREFIX}{}", order.order_id)],
        };
        let invitation: Invitation = post(account, "invitations", order.order_id, &new).await?;
        Ok(Placement::Placed(status_update(invitation, None).into()))
    }

    /// An invitation's or a report's event names its order: the invitation by its id, the
    /// report by the order tag it carries. Other events (candidates, packages…), and
    /// `invitation.created` and `report.created`, change no order. What the object says is
    /// not applied: the worker re-reads the invitation.
    fn parse_callback(&self, body: &[u8]) -> Result<Option<StatusUpdate>, VendorError> {
        let event: Event =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        let object = event.data.object;
        let (vendor_order_id, client_reference) = match object.object.as_str() {
            // Sent as Checkr answers the create, often before the worker has stored the
            // invitation's id; it says no more than that answer did.
            // Likewise a report's creation, sent with `invitation.completed`, which is re-read.
            "invitation" if event.kind == "invitation.created" => return Ok(None),
            "report" if event.kind == "report.created" => return Ok(None),
            "invitation" if event.kind.starts_with("invitation.") => (object.id, None),
            "report" if event.kind.starts_with("report.") => {
                let Some(order) = order_tag(&object.tags) else {
                    return Err(VendorError::Decode(
                        "a report event without the order's tag: turn on \"Include object\" \
                         for this webhook in Checkr's Developer Settings"
                            .into(),
                    ));
                };
                (object.id, Some(order))
            }
            _ => return Ok(None),
        };
        Ok(Some(StatusUpdate {
            vendor_order_id,
            client_reference,
            status: INVITATION_PENDING.to_owned(),
            results: VendorResults::default(),
        }))
    }

    async fn read_order(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError> {
        let invitation: Invitation = get(
            account,
            &["v1", "invitations", vendor_order_id],
            &[("include_deleted", "true")],
        )
        .await?;
        let report = match invitation.report_id.as_deref() {
            Some(report_id) => Some(get(account, &["v1", "reports", report_id], &[]).await?),
            None => None,
        };
        Ok(status_update(invitation, report))
    }

    /// `DELETE /v1/invitations/{id}`: only a pending invitation can be cancelled (Checkr
    /// answers 400 otherwise; 404 once it is deleted).
    async fn cancel(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError> {
        let credentials = credentials(account)?;
        let deleted = account
            .call::<serde::de::IgnoredAny>(
                Method::DELETE,
                &["v1", "invitations", vendor_order_id],
                &credentials,
            )
            .await;
        match deleted {
            Ok(_) => Ok(Cancellation::Cancelled),
            Err(VendorError::Rejected {
                status: 400 | 404, ..
            }) => Ok(Cancellation::AlreadyEnded),
            Err(error) => Err(error),
        }
    }

    /// `GET /v1/packages` (one): read-only, and refused with 401 for a wrong key.
    async fn verify_credentials(&self, account: &VendorAccount<'_>) -> Result<(), VendorError> {
        let _: serde_json::Value = get(account, &["v1", "packages"], &[("per_page", "1")]).await?;
        Ok(())
    }

    /// The Checkr candidate outlives the order: Checkr recommends re-using it.
    fn carried_steps(&self) -> &'static [&'static str] {
        &[CANDIDATE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(status: &str, report_id: Option<&str>) -> Invitation {
        Invitation {
            id: "inv1".into(),
            status: status.into(),
            deleted_at: None,
            report_id: report_id.map(str::to_owned),
        }
    }

    fn report(status: &str, result: Option<&str>) -> Report {
        Report {
            id: "rpt1".into(),
            status: status.into(),
            result: result.map(str::to_owned),
            completed_at: Some("2026-12-01T10:00:00Z".into()),
            tags: vec![format!("{ORDER_TAG_PREFIX}o1")],
        }
    }

    #[test]
    fn lever_sees_the_tags_of_lever_s_checkr_integration_in_order() {
        let word = |i, r| status_update(i, r).status;
        assert_eq!(
            word(invitation("pending", None), None),
            "Invitation Pending"
        );
        assert_eq!(
            word(
                invitation("completed", Some("rpt1")),
                Some(report("pending", None))
            ),
            "Invitation Completed"
        );
        let clear = status_update(
            invitation("completed", Some("rpt1")),
            Some(report("complete", Some("clear"))),
        );
        assert_eq!(clear.status, "Report Clear");
        assert_eq!(
            clear.results.report_url.as_deref(),
            Some("https://dashboard.checkr.com/reports/rpt1")
        );
        assert_eq!(clear.results.result_code.as_deref(), Some("Clear"));
        assert_eq!(clear.results.completed_at.as_deref(), Some("2026-12-01"));
        assert_eq!(clear.client_reference.as_deref(), Some("o1"));
        assert_eq!(
            word(
                invitation("completed", Some("rpt1")),
                Some(report("complete", Some("consider")))
            ),
            "Report Consider"
        );
        assert_eq!(
            word(invitation("expired", None), None),
            "Invitation Expired"
        );
        let mut deleted = invitation("pending", None);
        deleted.deleted_at = Some("2026-12-02T00:00:00Z".into());
        assert_eq!(word(deleted, None), "Canceled");
        for status in DESCRIPTION.statuses {
            assert_eq!(
                status.tag,
                Some(status.word),
                "one tag per status, its word"
            );
        }
    }

    #[test]
    fn the_work_location_is_the_us_state_of_the_posting_location() {
        assert_eq!(
            work_location(Some("San Francisco, CA")).unwrap(),
            WorkLocation {
                country: "US",
                state: "CA",
                city: Some("San Francisco")
            }
        );
        assert_eq!(work_location(Some("Austin, TX, USA")).unwrap().state, "TX");
        for unusable in [
            None,
            Some("Remote"),
            Some("London, UK"),
            Some("Toronto, ON"),
        ] {
            let error = work_location(unusable).unwrap_err();
            assert!(
                matches!(&error, VendorError::Unorderable(why) if why.contains("City, ST")),
                "{unusable:?}"
            );
        }
    }

    #[test]
    fn names_checkr_would_refuse_are_left_to_its_form() {
        assert_eq!(checkr_name("Zoë"), Some("Zoë"));
        assert_eq!(checkr_name("O'Brien-Smith"), Some("O'Brien-Smith"));
        assert_eq!(checkr_name("李"), None);
    }

    #[test]
    fn events_name_the_invitation_or_the_report_s_order() {
        let invitation = br#"{"id":"e1","object":"event","type":"invitation.completed","data":{"object":{"id":"inv1","object":"invitation","status":"completed"}}}"#;
        let update = Checkr.parse_callback(invitation).unwrap().unwrap();
        assert_eq!(
            (update.vendor_order_id.as_str(), update.client_reference),
            ("inv1", None)
        );
        let report = br#"{"id":"e2","object":"event","type":"report.completed","data":{"object":{"id":"rpt1","object":"report","tags":["x","lever-screening:o1"]}}}"#;
        let update = Checkr.parse_callback(report).unwrap().unwrap();
        assert_eq!(update.client_reference.as_deref(), Some("o1"));
        let candidate = br#"{"id":"e3","object":"event","type":"candidate.created","data":{"object":{"id":"c1","object":"candidate"}}}"#;
        assert!(Checkr.parse_callback(candidate).unwrap().is_none());
        let created = br#"{"id":"e5","object":"event","type":"invitation.created","data":{"object":{"id":"inv1","object":"invitation","status":"pending"}}}"#;
        assert!(Checkr.parse_callback(created).unwrap().is_none());
        let report_created = br#"{"id":"e6","object":"event","type":"report.created","data":{"object":{"id":"rpt1","object":"report","tags":["lever-screening:o1"]}}}"#;
        assert!(Checkr.parse_callback(report_created).unwrap().is_none());
        let bare_report = br#"{"id":"e4","object":"event","type":"report.completed","data":{"object":{"id":"rpt1","object":"report","uri":"/v1/reports/rpt1"}}}"#;
        assert!(Checkr.parse_callback(bare_report).is_err());
    }

    #[test]
    fn the_signature_is_checkrs_published_test_vector() {
        let key = secrecy::SecretString::from("test-secret");
        assert_eq!(
            crate::callback_auth::sign_hex_hmac(&key, br#"{"monday":"75F","tuesday":"80F"}"#)
                .unwrap(),
            "b7412f05e981a473b5ecbdb5393afaea02a679db6d7c8e56803512ec4ba98151"
        );
    }
}
