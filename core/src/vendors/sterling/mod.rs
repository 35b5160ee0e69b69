//! Sterling Backcheck background checks, ordered on a move into the tenant's trigger stage
//! with a package from a tag or the tenant's default. Lever shows them in the candidate's
//! Notes, with the labels Lever's Sterling Backcheck integration uses: one note per order
//! status, the Completed note with Results Score, Results Report and Completed Date, and one
//! "screening services" note per case kept up to date in place.
//!
//! Wire: Sterling's public API v2 — OAuth2 client credentials (`POST /v2/oauth`), a
//! candidate (unique by email and by `clientReferenceId`), then a screening with a callback
//! URI and an email invite. Sterling documents no callback signature and no idempotency
//! key: the callback URL carries the tenant's secret and a callback is only a hint to re-read
//! the screening; a re-order for the same candidate reuses the Sterling candidate its last
//! order created (by id: v2 has no candidate search); a screening create whose outcome is unknown is settled by
//! reading the candidate's screenings before creating again. Sterling's v2 API documents no
//! cancellation. The reference number Lever shows is the screening's `id`, the only order
//! reference v2 defines.

mod auth;

use super::description::{
    CallbackAuth, CredentialField, LeverAccess, LeverDisplay, Outcome, PackageRule, ServicesNote,
    Status, StatusNotes, Trigger, VendorDescription, MOVE_AGAIN,
};
use super::{
    Cancellation, CandidateOrder, Placement, StatusUpdate, VendorAccount, VendorApi, VendorError,
    VendorId,
};
use crate::order::{ServiceResult, VendorResults};
use crate::retry::Resend;
use async_trait::async_trait;
use auth::{Client, TokenCache};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// This vendor in the registry.
pub const MODULE: super::Module = super::Module {
    description: &DESCRIPTION,
    adapter: || std::sync::Arc::new(Sterling::new()),
};

/// Sterling Backcheck as data: notes per status and for the services, a package,
/// unsigned callbacks authenticated by a URL secret, no cancellation.
pub const DESCRIPTION: VendorDescription = VendorDescription {
    id: VendorId::Sterling,
    name: "Sterling Backcheck",
    service: "Sterling Backcheck background check",
    kind: crate::vendors::ScreeningKind::BackgroundCheck,
    trigger: Trigger::StageChange,
    package: PackageRule::Required,
    package_tag: None,
    callback_auth: CallbackAuth::UrlSecret,
    lever_access: LeverAccess::ApiKey,
    callback_setup: None,
    credentials: &[
        CredentialField {
            name: "client_id",
            label: "API client id",
            help: "Sterling's API client credentials, from your Sterling Account Manager.",
        },
        CredentialField {
            name: "client_secret",
            label: "API client secret",
            help: "Goes with the client id.",
        },
        CredentialField {
            name: "callback_secret",
            label: "Callback URL secret",
            help: "At least 16 of A-Z a-z 0-9 - _: it ends the callback URL you give Sterling.",
        },
    ],
    // Backcheck's order statuses and what Lever shows for each; Completed, Canceled and
    // Error all end a case.
    statuses: &[
        Status::step(INITIATED, 1).shown_as("New"),
        Status::step(IN_PROGRESS, 2),
        Status::last(COMPLETED, 3),
        Status::last(CANCELED, 3).ending(Outcome::Canceled),
        Status::last(ERROR, 3).ending(Outcome::Failed),
    ],
    first_status: INITIATED,
    lever: LeverDisplay {
        status_notes: Some(StatusNotes {
            reference_label: "Reference number",
            result_fields: true,
        }),
        flag_notes: false,
        services_note: Some(ServicesNote {
            in_progress: "In Production",
            done: "Fulfilled",
            fields: [
                "ScreeningName",
                "ScreeningStatus",
                "ScreeningScore",
                "ScreeningCompleteDate",
                "Results Report",
            ],
        }),
        report_note: None,
    },
    archive_cancels: true,
    not_ordered: "Sterling Backcheck background check was not ordered",
    reorder_hint: MOVE_AGAIN,
};

const INITIATED: &str = "Initiated";
const IN_PROGRESS: &str = "In Progress";
const COMPLETED: &str = "Completed";
const CANCELED: &str = "Canceled";
const ERROR: &str = "Error";

/// Sterling's status word (Backcheck's, or API v2's in any case) as the description's.
/// An unknown word is kept, and refused as such where it is applied.
fn order_status(word: &str) -> String {
    let canonical = match word.trim().to_ascii_lowercase().as_str() {
        "initiated" | "new" | "predraft" | "draft" => INITIATED,
        "in progress" | "in_progress" | "pending" => IN_PROGRESS,
        "completed" | "complete" => COMPLETED,
        "canceled" | "cancelled" => CANCELED,
        "error" | "expired" => ERROR,
        _ => return word.to_owned(),
    };
    canonical.to_owned()
}

/// A service's status as Lever's Sterling integration shows it: Complete, or Not Started
/// until then.
fn service_status(word: &str) -> (&'static str, bool) {
    match word.trim().to_ascii_lowercase().as_str() {
        "complete" | "completed" => ("Complete", true),
        _ => ("Not Started", false),
    }
}

/// The case score as Lever's Sterling Backcheck integration shows it ("Results Score":
/// Green, Amber or Red), from Backcheck's score or API v2's `result` (the table in
/// docs/vendor-apis.md). `None`: a word with no such score.
fn results_score(word: &str) -> Option<&'static str> {
    match word.trim().to_ascii_lowercase().as_str() {
        "green" | "clear" => Some("Green"),
        "amber" | "consider" | "alert" | "client criteria" => Some("Amber"),
        "red" | "adverse" => Some("Red"),
        _ => None,
    }
}

/// A Results Score on the HR-XML result list.
fn result_code(score: &str) -> Option<&'static str> {
    match score {
        "Green" => Some("Clear"),
        "Amber" => Some("Review"),
        "Red" => Some("Fail"),
        _ => None,
    }
}

/// The Results Score for Sterling's `word`: the seed's Green, Amber or Red, else (logged)
/// Sterling's own word, so that the recruiter still sees what Sterling said.
fn score_shown(word: String) -> String {
    match results_score(&word) {
        Some(score) => score.to_owned(),
        None => {
            tracing::warn!(result = %word, "Sterling result with no Results Score: shown as Sterling wrote it");
            word
        }
    }
}

/// Sterling's API v2 (`{base}/v2/…`).
#[derive(Default)]
pub struct Sterling {
    tokens: TokenCache,
}

impl Sterling {
    /// The adapter, with an empty token cache (tokens are cached per host and client id).
    pub fn new() -> Self {
        Sterling::default()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewCandidate<'a> {
    client_reference_id: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    email: &'a str,
    /// E.164, as Sterling requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    id: String,
    #[serde(default)]
    screening_ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewScreening<'a> {
    package_id: &'a str,
    candidate_id: &'a str,
    callback: CallbackUri<'a>,
    invite: Invite,
}

#[derive(Serialize)]
struct CallbackUri<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
struct Invite {
    /// Sterling emails the candidate the portal link.
    method: &'static str,
}

/// The screening object; Backcheck's fields (`score`, `reportUrl`, `completedAt`,
/// `errorMessage`) where Sterling gives them, API v2's (`result`, `links`) otherwise.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Screening {
    id: String,
    status: String,
    #[serde(default)]
    score: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    report_url: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    report_items: Vec<ReportItem>,
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportItem {
    #[serde(rename = "type")]
    name: String,
    status: String,
    #[serde(default)]
    score: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    report_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Links {
    admin: Option<WebLink>,
}

#[derive(Debug, Deserialize)]
struct WebLink {
    web: Option<String>,
}

/// A score worth showing: not v2's placeholders for "none yet".
fn meaningful(value: Option<String>) -> Option<String> {
    value.filter(|v| !matches!(v.to_ascii_lowercase().as_str(), "" | "n/a" | "pending"))
}

impl Screening {
    fn into_update(self) -> StatusUpdate {
        let status = order_status(&self.status);
        let services = self
            .report_items
            .into_iter()
            .map(|item| {
                let (label, complete) = service_status(&item.status);
                ServiceResult {
                    name: item.name,
                    status: label.to_owned(),
                    complete,
                    score: meaningful(item.score.or(item.result)),
                    completed_at: item.completed_at,
                    report_url: item.report_url,
                }
            })
            .collect();
        let score = meaningful(self.score.or(self.result)).map(score_shown);
        // v2 has no report URL on the screening: its admin link opens it in Sterling.
        let admin = self.links.and_then(|l| l.admin).and_then(|a| a.web);
        let report_url = self
            .report_url
            .or_else(|| admin.filter(|_| status == COMPLETED));
        StatusUpdate {
            vendor_order_id: self.id,
            client_reference: None,
            results: VendorResults {
                result_code: score.as_deref().and_then(result_code).map(str::to_owned),
                score,
                report_url,
                completed_at: self.completed_at,
                error_message: self.error_message,
                reference: None,
                services,
                flags: Vec::new(),
            },
            status,
        }
    }
}

/// `{"type": "screening", "payload": <screening>}`.
#[derive(Deserialize)]
struct CallbackBody {
    #[serde(rename = "type")]
    kind: String,
    payload: Screening,
}

impl Client<'_> {
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, VendorError> {
        let mut url = self.account.url(segments)?;
        url.query_pairs_mut().extend_pairs(query);
        self.call(Resend::Safe, |token| {
            self.account
                .http
                .get(url.clone())
                .bearer_auth(token.expose_secret())
        })
        .await
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        resend: Resend,
        idempotency_key: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<T, VendorError> {
        let url = self.account.url(&["v2", resource])?;
        self.call(resend, |token| {
            self.account
                .http
                .post(url.clone())
                .bearer_auth(token.expose_secret())
                .header("Idempotency-Key", idempotency_key)
                .json(body)
        })
        .await
    }

    /// Sterling's new candidate for this order. A retry of the create (same
    /// `clientReferenceId`, same idempotency key) returns the one it made. A 409 (the email
    /// is Sterling's already, from an order this product did not record) is a refusal: v2
    /// finds a candidate only by its id (`GET /v2/candidates/{id}`), and a re-order starts
    /// from the candidate id its last order kept ([`VendorApi::carried_steps`]).
    async fn candidate(&self, order: &CandidateOrder<'_>) -> Result<Candidate, VendorError> {
        let (given_name, family_name) = super::split_name(order.name);
        let new = NewCandidate {
            client_reference_id: order.order_id,
            given_name,
            family_name,
            email: order.email,
            phone: order.phone,
        };
        self.post("candidates", Resend::Safe, order.order_id, &new)
            .await
    }

    async fn screening(&self, id: &str) -> Result<Screening, VendorError> {
        self.get(&["v2", "screenings", id], &[]).await
    }
}

const CANDIDATE: &str = "candidate";
/// The candidate's screening ids before this order created one, comma-separated.
const SCREENINGS_BEFORE: &str = "screenings-before";

#[async_trait]
impl VendorApi for Sterling {
    /// Sterling's token endpoint (`POST /v2/oauth`) with the client credentials: read-only
    /// for the account.
    async fn verify_credentials(&self, account: &VendorAccount<'_>) -> Result<(), VendorError> {
        Client::new(account, &self.tokens)?
            .fresh_token()
            .await
            .map(drop)
    }

    async fn place(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError> {
        let client = Client::new(account, &self.tokens)?;
        let package = order.required_package()?;
        let Some(candidate_id) = steps.get(CANDIDATE) else {
            let candidate = client.candidate(order).await?;
            return Ok(Placement::Steps(vec![
                (CANDIDATE, candidate.id),
                (SCREENINGS_BEFORE, candidate.screening_ids.join(",")),
            ]));
        };
        let Some(before) = steps.get(SCREENINGS_BEFORE) else {
            // The candidate of an earlier order: her screenings so far are not this one's.
            let candidate: Candidate = client.get(&["v2", "candidates", candidate_id], &[]).await?;
            return Ok(Placement::Steps(vec![(
                SCREENINGS_BEFORE,
                candidate.screening_ids.join(","),
            )]));
        };
        // A screening create whose answer was lost may have been applied: adopt it.
        let before: Vec<&str> = before.split(',').collect();
        let candidate: Candidate = client.get(&["v2", "candidates", candidate_id], &[]).await?;
        let made = candidate
            .screening_ids
            .iter()
            .find(|id| !before.contains(&id.as_str()));
        let screening = match made {
            Some(id) => client.screening(id).await?,
            None => {
                let new = NewScreening {
                    package_id: &package.id,
                    candidate_id,
                    callback: CallbackUri {
                        uri: order.callback_url,
                    },
                    invite: Invite { method: "email" },
                };
                client
                    .post("screenings", Resend::Never, order.order_id, &new)
                    .await?
            }
        };
        Ok(Placement::Placed(screening.into_update().into()))
    }

    fn parse_callback(&self, body: &[u8]) -> Result<Option<StatusUpdate>, VendorError> {
        let callback: CallbackBody =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        if callback.kind != "screening" {
            return Err(VendorError::Decode(format!(
                "callback type `{}` is not a screening",
                callback.kind
            )));
        }
        Ok(Some(callback.payload.into_update()))
    }

    async fn read_order(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError> {
        let client = Client::new(account, &self.tokens)?;
        Ok(client.screening(vendor_order_id).await?.into_update())
    }

    async fn cancel(
        &self,
        _account: &VendorAccount<'_>,
        _vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError> {
        Ok(Cancellation::Unsupported)
    }

    fn carried_steps(&self) -> &'static [&'static str] {
        &[CANDIDATE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OpportunityId, OrderId, TenantId};
    use crate::order::Order;
    use crate::vendors::{lever_view, LeverWrite};

    fn order(history: &[&str], results: VendorResults) -> Order {
        Order::new_intent(
            OrderId::parse("o").unwrap(),
            TenantId::parse("t").unwrap(),
            VendorId::Sterling,
            OpportunityId::parse("opp").unwrap(),
        )
        .placed_with("1806030372", results)
        .with_history(history, 1_795_585_372_000)
    }

    fn note_texts(order: &Order) -> Vec<(String, String)> {
        lever_view(&DESCRIPTION, order)
            .into_iter()
            .map(|write| match write {
                LeverWrite::Note(note) => (note.key, note.text),
                other => panic!("Sterling writes notes only: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn backcheck_and_v2_words_map_to_lever_articles_statuses() {
        for (word, label) in [
            ("Initiated", "New"),
            ("In Progress", "In Progress"),
            ("Canceled", "Canceled"),
            ("Error", "Error"),
            ("Completed", "Completed"),
            ("new", "New"),
            ("PreDraft", "New"),
            ("pending", "In Progress"),
            ("Pending", "In Progress"),
            ("complete", "Completed"),
            ("Complete", "Completed"),
            ("cancelled", "Canceled"),
            ("expired", "Error"),
        ] {
            let status = DESCRIPTION.status(&order_status(word));
            assert_eq!(status.map(|s| s.label), Some(label), "{word}");
        }
        assert_eq!(DESCRIPTION.status(&order_status("Fulfilled")), None);
    }

    #[test]
    fn service_statuses_show_as_not_started_or_complete() {
        for (word, shown) in [
            ("pending", ("Not Started", false)),
            ("in_progress", ("Not Started", false)),
            ("Not Started", ("Not Started", false)),
            ("complete", ("Complete", true)),
            ("Complete", ("Complete", true)),
        ] {
            assert_eq!(service_status(word), shown, "{word}");
        }
    }

    #[test]
    fn each_status_note_names_integration_status_screening_and_date() {
        let notes = note_texts(&order(&[INITIATED, IN_PROGRESS], VendorResults::default()));
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].0, "status:New");
        assert_eq!(
            notes[0].1,
            "Sterling Backcheck background check\nStatus: New\nReference number: 1806030372\nDate: 2026-11-25"
        );
        assert!(notes[1].1.contains("Status: In Progress"));
    }

    #[test]
    fn the_error_note_carries_sterlings_error_text() {
        let results = VendorResults {
            error_message: Some("Candidate portal link expired".into()),
            ..VendorResults::default()
        };
        let notes = note_texts(&order(&[INITIATED, ERROR], results));
        assert!(notes[1].1.contains("Status: Error"));
        assert!(notes[1].1.contains("Error: Candidate portal link expired"));
    }

    #[test]
    fn the_completed_note_uses_lever_articles_result_field_names() {
        for score in ["Green", "Amber", "Red"] {
            let results = VendorResults {
                score: Some(score.into()),
                report_url: Some("https://sterling.example/r/1".into()),
                completed_at: Some("2026-11-24".into()),
                ..VendorResults::default()
            };
            let notes = note_texts(&order(&[INITIATED, COMPLETED], results));
            let completed = &notes[1].1;
            assert!(completed.contains("Status: Completed"), "{completed}");
            assert!(
                completed.contains(&format!("Results Score: {score}")),
                "{completed}"
            );
            assert!(completed.contains("Results Report: https://sterling.example/r/1"));
            assert!(completed.contains("Completed Date: 2026-11-24"));
        }
    }

    #[test]
    fn the_services_note_lists_each_service_with_lever_articles_column_names() {
        let service = |name: &str, complete: bool| ServiceResult {
            name: name.into(),
            status: if complete { "Complete" } else { "Not Started" }.into(),
            complete,
            score: complete.then(|| "Clear".into()),
            completed_at: complete.then(|| "2026-11-25".into()),
            report_url: complete.then(|| format!("https://sterling.example/{name}")),
        };
        let results = |services| VendorResults {
            services,
            ..VendorResults::default()
        };
        let partial = order(
            &[INITIATED, IN_PROGRESS],
            results(vec![
                service("Criminal", true),
                service("Employment", false),
            ]),
        );
        let (key, text) = note_texts(&partial).pop().unwrap();
        assert_eq!(key, "services");
        assert!(text.contains("Status: In Production"), "{text}");
        assert!(text.contains("Reference number: 1806030372"), "{text}");
        assert!(
            text.contains(
                "ScreeningName: Criminal\nScreeningStatus: Complete\nScreeningScore: Clear\n\
             ScreeningCompleteDate: 2026-11-25\nResults Report: https://sterling.example/Criminal"
            ),
            "{text}"
        );
        assert!(text.contains(
            "ScreeningName: Employment\nScreeningStatus: Not Started\nScreeningScore: -"
        ));
        let done = order(
            &[INITIATED, IN_PROGRESS],
            results(vec![service("Criminal", true), service("Employment", true)]),
        );
        assert!(note_texts(&done)
            .pop()
            .unwrap()
            .1
            .contains("Status: Fulfilled"));
        let errored = order(
            &[INITIATED, ERROR],
            results(vec![service("Criminal", false)]),
        );
        assert!(
            !note_texts(&errored)
                .iter()
                .any(|(key, _)| key == "services"),
            "no services before the candidate consented"
        );
    }

    #[test]
    fn callbacks_are_screening_envelopes_in_either_vocabulary() {
        let backcheck = Sterling::new()
            .parse_callback(br#"{"type":"screening","payload":{"id":"scr_1","status":"In Progress","reportItems":[{"type":"Criminal","status":"Complete","score":"Clear"}]}}"#)
            .unwrap().unwrap();
        assert_eq!(backcheck.vendor_order_id, "scr_1");
        assert_eq!(backcheck.status, IN_PROGRESS);
        assert!(backcheck.results.services[0].complete);
        let v2 = Sterling::new()
            .parse_callback(br#"{"type":"screening","payload":{"id":"1806030372","status":"Complete","result":"Consider","links":{"admin":{"web":"https://int.sterlingcheck.app/s/1"}},"reportItems":[{"id":"1","type":"SSN Trace","status":"complete","result":"clear"}]}}"#)
            .unwrap().unwrap();
        assert_eq!(v2.status, COMPLETED);
        assert_eq!(
            v2.results.score.as_deref(),
            Some("Amber"),
            "the seed's word"
        );
        assert_eq!(v2.results.result_code.as_deref(), Some("Review"));
        assert_eq!(
            v2.results.report_url.as_deref(),
            Some("https://int.sterlingcheck.app/s/1")
        );
        assert_eq!(v2.results.services[0].score.as_deref(), Some("clear"));
        let pending = Sterling::new()
            .parse_callback(
                br#"{"type":"screening","payload":{"id":"1","status":"new","result":"n/a"}}"#,
            )
            .unwrap()
            .unwrap();
        assert_eq!(pending.results.score, None, "n/a is no score");
        for (result, score, code) in [
            ("clear", "Green", Some("Clear")),
            ("Client Criteria", "Amber", Some("Review")),
            ("Alert", "Amber", Some("Review")),
            ("adverse", "Red", Some("Fail")),
            ("Green", "Green", Some("Clear")),
            ("Suspended", "Suspended", None),
        ] {
            let body = format!(
                r#"{{"type":"screening","payload":{{"id":"1","status":"complete","result":"{result}"}}}}"#
            );
            let update = Sterling::new()
                .parse_callback(body.as_bytes())
                .unwrap()
                .unwrap();
            assert_eq!(update.results.score.as_deref(), Some(score), "{result}");
            assert_eq!(update.results.result_code.as_deref(), code, "{result}");
        }
        assert!(Sterling::new()
            .parse_callback(br#"{"type":"candidate","payload":{"id":"c","status":"x"}}"#)
            .is_err());
    }
}
