//! Lever's webhooks: the Webhooks Subscription API under `/v1/webhooks` and
//! the deliveries an admin's actions in Lever trigger, signed the way Lever signs them
//! (docs/lever.md).

use super::api::{page, Params};
use super::{
    application_id, bad_request, contact_id, not_found, random_hex, LeverSim, LeverState,
    Opportunity, SentWebhook, SimArchived, SimWebhook, ARCHIVE_REASON_ID, SIM_USER_ID,
};
use crate::{now_millis, parse_json, ApiError, SimError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

pub(super) const STAGE_CHANGE: &str = "candidateStageChange";
pub(super) const APPLICATION_CREATED: &str = "applicationCreated";
pub(super) const ARCHIVE_CHANGE: &str = "candidateArchiveChange";
const HIRED: &str = "candidateHired";
pub(super) const DELETED: &str = "candidateDeleted";

/// The events `POST /v1/webhooks` accepts (docs/lever.md).
const EVENTS: [&str; 10] = [
    APPLICATION_CREATED,
    HIRED,
    STAGE_CHANGE,
    ARCHIVE_CHANGE,
    DELETED,
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
];

/// The origins a webhook's `configuration.conditions` may name (docs/lever.md).
const ORIGINS: [&str; 6] = [
    "applied",
    "sourced",
    "referred",
    "university",
    "agency",
    "internal",
];

pub(super) fn routes() -> Router<LeverSim> {
    Router::new()
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", delete(delete_webhook))
}

impl SimWebhook {
    fn new(event: String, url: String, signature_token: String, origins: Vec<String>) -> Self {
        SimWebhook {
            id: Uuid::new_v4().to_string(),
            event,
            url,
            signature_token,
            origins,
        }
    }

    fn to_json(&self) -> Value {
        let mut configuration = json!({ "signatureToken": self.signature_token });
        if !self.origins.is_empty() {
            configuration["conditions"] = json!({ "origins": self.origins });
        }
        json!({
            "id": self.id,
            "event": self.event,
            "url": self.url,
            "configuration": configuration,
        })
    }

    /// A delivery body of `event` signed with this webhook's token.
    pub(super) fn delivery(&self, event: &str, data: Value) -> Value {
        let triggered_at = now_millis();
        let token = random_hex(48);
        json!({
            "id": Uuid::new_v4().to_string(),
            "event": event,
            "triggeredAt": triggered_at,
            "signature": sign(&self.signature_token, &token, triggered_at),
            "token": token,
            "data": data,
        })
    }
}

/// Hex HMAC-SHA256 of `token + triggeredAt`, keyed by the webhook's signature token.
/// Written here rather than borrowed from the product, so the simulator checks the
/// product's verifier instead of mirroring it.
pub fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("{token}{triggered_at}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Deserialize)]
struct WebhookBody {
    event: String,
    url: String,
    #[serde(default)]
    configuration: Configuration,
}

#[derive(Deserialize, Default)]
struct Configuration {
    #[serde(default)]
    conditions: Conditions,
}

#[derive(Deserialize, Default)]
struct Conditions {
    #[serde(default)]
    origins: Vec<String>,
}

async fn create_webhook(
    State(sim): State<LeverSim>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let WebhookBody {
        event,
        url,
        configuration,
    } = parse_json(&body, StatusCode::BAD_REQUEST)?;
    if !EVENTS.contains(&event.as_str()) {
        return Err(bad_request(format!("unknown event {event:?}")));
    }
    // Lever insists on HTTPS; plain http passes so that local receivers can subscribe.
    if !Url::parse(&url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
        return Err(bad_request("url must be an absolute http(s) URL"));
    }
    let origins = configuration.conditions.origins;
    if let Some(origin) = origins.iter().find(|o| !ORIGINS.contains(&o.as_str())) {
        return Err(bad_request(format!("unknown origin {origin:?}")));
    }
    let webhook = SimWebhook::new(event, url, random_hex(32), origins);
    let body = json!({ "data": webhook.to_json() });
    sim.lock().webhooks.push(webhook);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_webhooks(
    State(sim): State<LeverSim>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let webhooks = sim
        .lock()
        .webhooks
        .iter()
        .map(SimWebhook::to_json)
        .collect();
    page(webhooks, &params)
}

async fn delete_webhook(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut state = sim.lock();
    let index = state
        .webhooks
        .iter()
        .position(|webhook| webhook.id == id)
        .ok_or_else(|| not_found("webhook", &id))?;
    state.webhooks.remove(index);
    Ok(StatusCode::NO_CONTENT)
}

impl LeverState {
    /// The webhook deliveries of `event` go to: the newest one.
    fn subscription(&self, event: &str) -> Result<&SimWebhook, SimError> {
        self.webhooks
            .iter()
            .rev()
            .find(|webhook| webhook.event == event)
            .ok_or_else(|| SimError::NotSubscribed(event.to_owned()))
    }

    pub(super) fn opportunity_mut(&mut self, id: &str) -> Result<&mut Opportunity, SimError> {
        self.opportunities
            .get_mut(id)
            .ok_or_else(|| SimError::not_found("opportunity", id))
    }

    /// Sets the archive state and answers `candidateArchiveChange`'s `data`.
    pub(super) fn set_archived(
        &mut self,
        opportunity_id: &str,
        to: Option<SimArchived>,
    ) -> Result<Value, SimError> {
        let opportunity = self.opportunity_mut(opportunity_id)?;
        opportunity.updated_at = now_millis();
        let from = std::mem::replace(&mut opportunity.archived, to.clone());
        let json = |archived: Option<SimArchived>| {
            archived.map(|a| json!({ "archivedAt": a.archived_at, "reason": a.reason }))
        };
        let mut data = event_data(opportunity_id);
        data["fromArchived"] = json!(json(from));
        data["toArchived"] = json!(json(to));
        Ok(data)
    }
}

impl LeverState {
    /// An admin moves the opportunity to a known stage; answers `candidateStageChange`'s
    /// `data`.
    pub(super) fn change_stage(
        &mut self,
        opportunity_id: &str,
        to_stage_id: &str,
    ) -> Result<Value, SimError> {
        if self.stage_index(to_stage_id).is_none() {
            return Err(SimError::not_found("stage", to_stage_id));
        }
        let from_stage_id = self
            .opportunity_mut(opportunity_id)?
            .advance(to_stage_id, SIM_USER_ID);
        let mut data = event_data(opportunity_id);
        data["candidateId"] = json!(opportunity_id);
        data["toStageId"] = json!(to_stage_id);
        data["fromStageId"] = json!(from_stage_id);
        Ok(data)
    }
}

impl LeverState {
    /// An admin deletes the opportunity and its notes; answers `candidateDeleted`'s `data`.
    pub(super) fn delete(&mut self, opportunity_id: &str) -> Result<Value, SimError> {
        self.opportunities
            .remove(opportunity_id)
            .ok_or_else(|| SimError::not_found("opportunity", opportunity_id))?;
        self.notes.remove(opportunity_id);
        Ok(event_data(opportunity_id))
    }
}

/// `applicationCreated`'s `data`, with the fields docs/lever.md says.
pub(super) fn application_data(opportunity_id: &str) -> Value {
    let mut data = event_data(opportunity_id);
    data["applicationId"] = json!(application_id(opportunity_id));
    data
}

/// The delivery `data` fields every opportunity event carries.
fn event_data(opportunity_id: &str) -> Value {
    json!({
        "opportunityId": opportunity_id,
        "contactId": contact_id(opportunity_id),
    })
}

impl LeverSim {
    /// Where `event` is delivered, and the webhook's signature token, as an admin sets it up
    /// in Settings. Replaces every webhook of that event, however it was created.
    pub fn subscribe(&self, event: &str, url: String, signature_token: String) {
        let mut state = self.lock();
        state.webhooks.retain(|webhook| webhook.event != event);
        let webhook = SimWebhook::new(event.to_owned(), url, signature_token, Vec::new());
        state.webhooks.push(webhook);
    }

    /// An admin deletes every webhook of `event` in Settings; false when there was none.
    pub fn remove_webhook(&self, event: &str) -> bool {
        let webhooks = &mut self.lock().webhooks;
        let before = webhooks.len();
        webhooks.retain(|webhook| webhook.event != event);
        webhooks.len() < before
    }

    /// The webhooks subscribed so far, through `subscribe` or `POST /v1/webhooks`, oldest
    /// first.
    pub fn webhooks(&self) -> Vec<SimWebhook> {
        self.lock().webhooks.clone()
    }

    /// An admin moves the opportunity to a known stage: records the stage change and
    /// delivers `candidateStageChange` (if a webhook is subscribed). Nothing changes when
    /// the ids are unknown.
    pub async fn move_to_stage(
        &self,
        opportunity_id: &str,
        to_stage_id: &str,
    ) -> Result<SentWebhook, SimError> {
        self.notify(STAGE_CHANGE, |state| {
            state.change_stage(opportunity_id, to_stage_id)
        })
        .await
    }

    /// Delivers `applicationCreated` for the opportunity's application, with the fields
    /// docs/lever.md says (no `postingId`: the product reads it from the opportunity).
    pub async fn application_created(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        self.notify(APPLICATION_CREATED, |state| {
            state.opportunity_mut(opportunity_id)?;
            Ok(application_data(opportunity_id))
        })
        .await
    }

    /// An admin archives the opportunity (reason [`ARCHIVE_REASON_ID`]): delivers
    /// `candidateArchiveChange` with `toArchived: {archivedAt, reason}`.
    pub async fn archive(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        let archived = SimArchived {
            archived_at: now_millis(),
            reason: ARCHIVE_REASON_ID.to_owned(),
        };
        self.notify(ARCHIVE_CHANGE, |state| {
            state.set_archived(opportunity_id, Some(archived))
        })
        .await
    }

    /// An admin restores the opportunity: delivers `candidateArchiveChange` with
    /// `toArchived: null`.
    pub async fn unarchive(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        self.notify(ARCHIVE_CHANGE, |state| {
            state.set_archived(opportunity_id, None)
        })
        .await
    }

    /// An admin deletes the opportunity and its notes: delivers `candidateDeleted`.
    pub async fn delete_opportunity(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        self.notify(DELETED, |state| state.delete(opportunity_id))
            .await
    }

    /// An admin marks the candidate hired: delivers `candidateHired`. The archive that
    /// comes with a hire in Lever is not modelled.
    pub async fn hire(&self, opportunity_id: &str) -> Result<SentWebhook, SimError> {
        self.notify(HIRED, |state| {
            state.opportunity_mut(opportunity_id)?;
            let mut data = event_data(opportunity_id);
            data["candidateId"] = json!(opportunity_id);
            Ok(data)
        })
        .await
    }

    /// An admin clicks "Verify connection" on the webhook of `url_event`: a correctly signed
    /// body with `"data": {}` whose `event` is `named_event` (Lever's test request may name
    /// another event than the webhook's) goes to that webhook's URL.
    pub async fn send_test_delivery(
        &self,
        url_event: &str,
        named_event: &str,
    ) -> Result<SentWebhook, SimError> {
        let (url, body) = self.prepare(url_event, named_event, |_| Ok(json!({})))?;
        self.send_raw(&url, &body).await
    }

    /// A correctly signed delivery of `event` carrying `data`, for the webhook of `event`,
    /// built but not sent: tests tamper with it and post it with [`LeverSim::send_raw`].
    pub fn signed_delivery(&self, event: &str, data: Value) -> Result<Value, SimError> {
        let (_, body) = self.prepare(event, event, |_| Ok(data))?;
        Ok(body)
    }

    /// Posts a delivery unchanged, as Lever's retries and an admin's "Rerun" do.
    pub async fn send_raw(&self, url: &str, body: &Value) -> Result<SentWebhook, SimError> {
        let response = self
            .http
            .post(url)
            .header(header::USER_AGENT, "Lever-Webhooks")
            .json(body)
            .send()
            .await?;
        Ok(SentWebhook {
            status: response.status().as_u16(),
            body: body.clone(),
            response: response.text().await?,
        })
    }

    /// Applies `change`, whose answer is the `data`, and delivers `event`. As in Lever, the
    /// change happens whether or not a webhook is subscribed (a deleted webhook delivers
    /// nothing: [`SimError::NotSubscribed`]); nothing changes when `change` fails.
    async fn notify(
        &self,
        event: &str,
        change: impl FnOnce(&mut LeverState) -> Result<Value, SimError>,
    ) -> Result<SentWebhook, SimError> {
        let (url, body) = self.prepare(event, event, change)?;
        self.send_raw(&url, &body).await
    }

    /// The URL of `url_event`'s webhook and a body of `named_event` signed for it, whose
    /// `data` `change` answers.
    fn prepare(
        &self,
        url_event: &str,
        named_event: &str,
        change: impl FnOnce(&mut LeverState) -> Result<Value, SimError>,
    ) -> Result<(String, Value), SimError> {
        let mut state = self.lock();
        let webhook = state.subscription(url_event).cloned();
        let data = change(&mut state)?;
        let webhook = webhook?;
        Ok((webhook.url.clone(), webhook.delivery(named_event, data)))
    }
}
