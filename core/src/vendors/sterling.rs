//! Sterling Backcheck background checks (seeds/sterling-backcheck.txt; transport: Sterling's
//! public API v2, vendors.md). Lever shows them in the candidate's Notes: one note per order
//! status, and one "screening services" note per case kept up to date in place.
//!
//! Sterling documents no callback signature, so its callback URL carries the tenant's
//! callback secret, and a callback is only a hint: the screening is re-read from the API
//! and that is what gets applied.

use super::{
    decode_response, CallbackAuth, CandidateOrder, LeverWrite, PlacedOrder, StatusInfo,
    StatusUpdate, VendorAccount, VendorAdapter, VendorError,
};
use crate::model::{utc_date, Order, ServiceResult, VendorId, VendorResults};
use crate::retry::send_with_retry;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Sterling;

/// Sterling's status words, Backcheck's and API v2's, with the label Lever shows (the
/// seed's table) and their order. Completed, Canceled and Error all end a case.
const STATUSES: [(&str, &str, StatusInfo); 10] = [
    ("Initiated", "New", OPEN_1),
    ("new", "New", OPEN_1),
    ("In Progress", "In Progress", OPEN_2),
    ("pending", "In Progress", OPEN_2),
    ("Completed", "Completed", DONE),
    ("complete", "Completed", DONE),
    ("Canceled", "Canceled", DONE),
    ("canceled", "Canceled", DONE),
    ("Error", "Error", DONE),
    ("expired", "Error", DONE),
];
const OPEN_1: StatusInfo = StatusInfo::step(1);
const OPEN_2: StatusInfo = StatusInfo::step(2);
const DONE: StatusInfo = StatusInfo::last(3);

/// What Lever shows for a Sterling status word.
pub fn lever_label(status: &str) -> Option<&'static str> {
    STATUSES
        .iter()
        .find(|(word, _, _)| *word == status)
        .map(|(_, label, _)| *label)
}

/// Sterling's case scores on the HR-XML result list (vendors.md).
fn result_code(score: &str) -> Option<&'static str> {
    match score {
        "Green" => Some("Clear"),
        "Amber" => Some("Review"),
        "Red" => Some("Fail"),
        _ => None,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewCandidate<'a> {
    client_reference_id: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewScreening<'a> {
    package_id: &'a str,
    candidate_id: &'a str,
    callback: Callback<'a>,
    invite: Invite,
}

#[derive(Serialize)]
struct Callback<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
struct Invite {
    /// Sterling emails the candidate the portal link.
    method: &'static str,
}

/// The screening object, in the Backcheck vocabulary vendors.md describes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Screening {
    id: String,
    status: String,
    #[serde(default)]
    order_number: Option<String>,
    #[serde(default)]
    score: Option<String>,
    #[serde(default)]
    report_url: Option<String>,
    #[serde(default)]
    completed_at: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    report_items: Vec<ReportItem>,
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
    completed_at: Option<String>,
    #[serde(default)]
    report_url: Option<String>,
}

impl Screening {
    fn into_update(self) -> StatusUpdate {
        let services = self
            .report_items
            .into_iter()
            .map(|item| ServiceResult {
                complete: item.status.eq_ignore_ascii_case("complete"),
                name: item.name,
                status: item.status,
                score: item.score,
                completed_at: item.completed_at,
                report_url: item.report_url,
            })
            .collect();
        StatusUpdate {
            vendor_order_id: self.id,
            client_reference: None,
            results: VendorResults {
                result_code: self
                    .score
                    .as_deref()
                    .and_then(result_code)
                    .map(str::to_owned),
                score: self.score,
                report_url: self.report_url,
                completed_at: self.completed_at,
                error_message: self.error_message,
                reference: self.order_number,
                services,
                flags: Vec::new(),
            },
            status: self.status,
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

#[derive(Deserialize)]
struct Token {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Access tokens per API host and client, reused until shortly before they expire
/// (Sterling's last 10 hours), so a warm function asks for one once.
fn tokens() -> &'static Mutex<HashMap<String, (SecretString, Instant)>> {
    static TOKENS: OnceLock<Mutex<HashMap<String, (SecretString, Instant)>>> = OnceLock::new();
    TOKENS.get_or_init(Default::default)
}

struct Client<'a> {
    account: &'a VendorAccount<'a>,
    base: &'a str,
    client_id: &'a SecretString,
    client_secret: &'a SecretString,
}

impl<'a> Client<'a> {
    fn new(account: &'a VendorAccount<'a>) -> Result<Self, VendorError> {
        let secrets = account.secrets;
        Ok(Client {
            account,
            base: account.base_url.trim_end_matches('/'),
            client_id: secrets
                .client_id
                .as_ref()
                .ok_or(VendorError::MissingCredential("client_id"))?,
            client_secret: secrets
                .client_secret
                .as_ref()
                .ok_or(VendorError::MissingCredential("client_secret"))?,
        })
    }

    fn cache_key(&self) -> String {
        format!("{}|{}", self.base, self.client_id.expose_secret())
    }

    async fn token(&self) -> Result<SecretString, VendorError> {
        let key = self.cache_key();
        {
            let cache = tokens().lock().unwrap_or_else(|p| p.into_inner());
            if let Some((token, until)) = cache.get(&key) {
                if Instant::now() < *until {
                    return Ok(token.clone());
                }
            }
        }
        let url = format!("{}/v2/oauth", self.base);
        let sent = send_with_retry(self.account.retry, || {
            self.account
                .http
                .post(&url)
                .basic_auth(
                    self.client_id.expose_secret(),
                    Some(self.client_secret.expose_secret()),
                )
                .form(&[("grant_type", "client_credentials")])
        })
        .await;
        let token: Token = decode_response(sent).await?;
        // Renew a minute early so no call starts with a token about to expire.
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600).saturating_sub(60));
        let token = SecretString::from(token.access_token);
        tokens()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    fn forget_token(&self) {
        tokens()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.cache_key());
    }

    /// One API call with the cached token; a 401 (token revoked or expired early) gets
    /// one fresh token and one more try.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: impl Fn(&SecretString) -> reqwest::RequestBuilder,
    ) -> Result<T, VendorError> {
        for first in [true, false] {
            let token = self.token().await?;
            let sent = send_with_retry(self.account.retry, || request(&token)).await;
            match decode_response(sent).await {
                Err(VendorError::Rejected { status: 401, .. }) if first => self.forget_token(),
                other => return other,
            }
        }
        Err(VendorError::Unavailable(
            "Sterling refused a fresh token".into(),
        ))
    }

    async fn screening(&self, id: &str) -> Result<Screening, VendorError> {
        // Sterling's ids are opaque: the url crate encodes one into a single segment.
        let mut url = reqwest::Url::parse(self.base)
            .map_err(|e| VendorError::Decode(format!("Sterling base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| VendorError::Decode("Sterling base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(["v2", "screenings", id]);
        self.call(|token| {
            self.account
                .http
                .get(url.clone())
                .bearer_auth(token.expose_secret())
        })
        .await
    }
}

#[async_trait]
impl VendorAdapter for Sterling {
    fn vendor(&self) -> VendorId {
        VendorId::Sterling
    }

    fn needs_package(&self) -> bool {
        true
    }

    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError> {
        let client = Client::new(account)?;
        let package = order.required_package()?;
        let (given_name, family_name) = super::split_name(order.name);
        let candidate = NewCandidate {
            client_reference_id: order.order_id,
            given_name,
            family_name,
            email: order.email,
            phone: order.phone,
        };
        let url = format!("{}/v2/candidates", client.base);
        let created: Created = client
            .call(|token| {
                account
                    .http
                    .post(&url)
                    .bearer_auth(token.expose_secret())
                    .header("Idempotency-Key", format!("{}-candidate", order.order_id))
                    .json(&candidate)
            })
            .await?;
        let screening = NewScreening {
            package_id: &package.id,
            candidate_id: &created.id,
            callback: Callback {
                uri: order.callback_url,
            },
            invite: Invite { method: "email" },
        };
        let url = format!("{}/v2/screenings", client.base);
        let screening: Screening = client
            .call(|token| {
                account
                    .http
                    .post(&url)
                    .bearer_auth(token.expose_secret())
                    .header("Idempotency-Key", order.order_id)
                    .json(&screening)
            })
            .await?;
        let update = screening.into_update();
        Ok(PlacedOrder {
            vendor_order_id: update.vendor_order_id,
            status: update.status,
            results: update.results,
        })
    }

    fn callback_auth(&self) -> CallbackAuth {
        CallbackAuth::UrlSecret
    }

    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError> {
        let callback: CallbackBody =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        if callback.kind != "screening" {
            return Err(VendorError::Decode(format!(
                "callback type `{}` is not a screening",
                callback.kind
            )));
        }
        Ok(callback.payload.into_update())
    }

    /// Applies what Sterling's API says, not what the unsigned callback claimed.
    async fn confirm(
        &self,
        account: &VendorAccount<'_>,
        update: StatusUpdate,
    ) -> Result<StatusUpdate, VendorError> {
        let client = Client::new(account)?;
        Ok(client
            .screening(&update.vendor_order_id)
            .await?
            .into_update())
    }

    fn status_info(&self, status: &str) -> Option<StatusInfo> {
        STATUSES
            .iter()
            .find(|(word, _, _)| *word == status)
            .map(|(_, _, info)| *info)
    }

    fn lever_view(&self, order: &Order) -> Vec<LeverWrite> {
        let mut writes = Vec::new();
        let mut shown = Vec::new();
        for change in &order.history {
            let Some(label) = lever_label(&change.status) else {
                continue;
            };
            if shown.contains(&label) {
                continue;
            }
            shown.push(label);
            writes.push(LeverWrite::Note {
                key: format!("status:{label}"),
                text: status_note(order, label, &utc_date(change.at)),
                secret: false,
            });
        }
        // Services are "in production" once the candidate has consented: from In Progress
        // (or straight to Completed) on; a case that errors or is canceled before never
        // had results to show.
        let in_production = shown
            .iter()
            .any(|l| matches!(*l, "In Progress" | "Completed"));
        if in_production && !order.results.services.is_empty() {
            writes.push(LeverWrite::Note {
                key: "services".into(),
                text: services_note(order),
                secret: false,
            });
        }
        writes
    }
}

const TITLE: &str = "Sterling Backcheck background check";

fn status_note(order: &Order, label: &str, date: &str) -> String {
    let results = &order.results;
    let mut note = format!("{TITLE}\nStatus: {label}\n");
    if let Some(reference) = &results.reference {
        let _ = writeln!(note, "Reference number: {reference}");
    }
    let _ = writeln!(note, "Date: {date}");
    match label {
        "Error" => {
            let message = results
                .error_message
                .as_deref()
                .unwrap_or("no detail given");
            let _ = writeln!(note, "Error: {message}");
        }
        "Completed" => {
            // The score shows only once every element of the case is complete.
            if let Some(score) = &results.score {
                let _ = writeln!(note, "Score: {score}");
            }
            if let Some(url) = &results.report_url {
                let _ = writeln!(note, "Report: {url}");
            }
            let completed = results.completed_at.as_deref().unwrap_or(date);
            let _ = writeln!(note, "Completed date: {completed}");
        }
        _ => {}
    }
    note.trim_end().to_owned()
}

fn services_note(order: &Order) -> String {
    let results = &order.results;
    let all_complete = results.services.iter().all(|s| s.complete);
    let overall = if all_complete {
        "Fulfilled"
    } else {
        "In Production"
    };
    let mut note = format!("{TITLE}: screening services\nStatus: {overall}\n");
    if let Some(reference) = &results.reference {
        let _ = writeln!(note, "Reference number: {reference}");
    }
    note.push_str(
        "ScreeningName | ScreeningStatus | ScreeningScore | ScreeningCompleteDate | Results Report\n",
    );
    let dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    for service in &results.services {
        let _ = writeln!(
            note,
            "{} | {} | {} | {} | {}",
            service.name,
            service.status,
            dash(&service.score),
            dash(&service.completed_at),
            dash(&service.report_url)
        );
    }
    note.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderPhase, StatusChange};

    fn order(history: &[&str], results: VendorResults) -> Order {
        let mut order = Order::new_intent("t", VendorId::Sterling, "o");
        order.phase = OrderPhase::Open;
        order.history = history
            .iter()
            .map(|status| StatusChange {
                status: (*status).into(),
                at: 1_795_585_372_000,
            })
            .collect();
        order.status = history.last().map(|s| (*s).to_owned());
        order.results = results;
        order
    }

    fn note_texts(order: &Order) -> Vec<(String, String)> {
        Sterling
            .lever_view(order)
            .into_iter()
            .map(|write| match write {
                LeverWrite::Note { key, text, .. } => (key, text),
                other => panic!("Sterling writes notes only: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_order_status_maps_to_the_seeds_lever_label() {
        for (word, label) in [
            ("Initiated", "New"),
            ("In Progress", "In Progress"),
            ("Canceled", "Canceled"),
            ("Error", "Error"),
            ("Completed", "Completed"),
            ("new", "New"),
            ("pending", "In Progress"),
            ("complete", "Completed"),
            ("canceled", "Canceled"),
            ("expired", "Error"),
        ] {
            assert_eq!(lever_label(word), Some(label), "{word}");
            assert!(Sterling.status_info(word).is_some());
        }
        assert_eq!(lever_label("Fulfilled"), None);
    }

    #[test]
    fn each_status_note_names_integration_status_reference_and_date() {
        let results = VendorResults {
            reference: Some("BC-100001".into()),
            ..VendorResults::default()
        };
        let notes = note_texts(&order(&["Initiated", "In Progress"], results));
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].0, "status:New");
        assert_eq!(
            notes[0].1,
            "Sterling Backcheck background check\nStatus: New\nReference number: BC-100001\nDate: 2026-11-25"
        );
        assert!(notes[1].1.contains("Status: In Progress"));
    }

    #[test]
    fn the_error_note_carries_the_error_text() {
        let results = VendorResults {
            error_message: Some("Candidate portal link expired".into()),
            ..VendorResults::default()
        };
        let notes = note_texts(&order(&["Initiated", "Error"], results));
        assert!(notes[1].1.contains("Status: Error"));
        assert!(notes[1].1.contains("Error: Candidate portal link expired"));
    }

    #[test]
    fn the_completed_note_carries_score_report_and_completed_date() {
        for score in ["Green", "Amber", "Red"] {
            let results = VendorResults {
                score: Some(score.into()),
                report_url: Some("https://sterling.example/r/1".into()),
                completed_at: Some("2026-11-24".into()),
                reference: Some("BC-100001".into()),
                ..VendorResults::default()
            };
            let notes = note_texts(&order(&["Initiated", "Completed"], results));
            let completed = &notes[1].1;
            assert!(completed.contains("Status: Completed"), "{completed}");
            assert!(
                completed.contains(&format!("Score: {score}")),
                "{completed}"
            );
            assert!(completed.contains("Report: https://sterling.example/r/1"));
            assert!(completed.contains("Completed date: 2026-11-24"));
        }
    }

    #[test]
    fn scores_map_onto_the_hr_xml_result_codes() {
        assert_eq!(result_code("Green"), Some("Clear"));
        assert_eq!(result_code("Amber"), Some("Review"));
        assert_eq!(result_code("Red"), Some("Fail"));
        assert_eq!(result_code("n/a"), None);
    }

    #[test]
    fn the_services_note_lists_each_service_and_the_overall_status() {
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
            &["Initiated", "In Progress"],
            results(vec![
                service("Criminal", true),
                service("Employment", false),
            ]),
        );
        let (key, text) = note_texts(&partial).pop().unwrap();
        assert_eq!(key, "services");
        assert!(text.contains("Status: In Production"), "{text}");
        assert!(text.contains(
            "Criminal | Complete | Clear | 2026-11-25 | https://sterling.example/Criminal"
        ));
        assert!(text.contains("Employment | Not Started | - | - | -"));
        let done = order(
            &["Initiated", "In Progress"],
            results(vec![service("Criminal", true), service("Employment", true)]),
        );
        assert!(note_texts(&done)
            .pop()
            .unwrap()
            .1
            .contains("Status: Fulfilled"));
    }

    #[test]
    fn callbacks_are_screening_envelopes() {
        let update = Sterling
            .parse_callback(br#"{"type":"screening","payload":{"id":"scr_1","status":"In Progress","orderNumber":"BC-1","reportItems":[{"type":"Criminal","status":"Complete","score":"Clear"}]}}"#)
            .unwrap();
        assert_eq!(update.vendor_order_id, "scr_1");
        assert_eq!(update.results.reference.as_deref(), Some("BC-1"));
        assert!(update.results.services[0].complete);
        assert!(Sterling
            .parse_callback(br#"{"type":"candidate","payload":{"id":"c","status":"x"}}"#)
            .is_err());
    }

    #[test]
    fn names_split_into_given_and_family() {
        use crate::vendors::split_name;
        assert_eq!(split_name("Ada Lovelace"), ("Ada", "Lovelace"));
        assert_eq!(split_name("Mary Ann Evans"), ("Mary Ann", "Evans"));
        assert_eq!(split_name("Cher"), ("Cher", "Cher"));
    }
}
