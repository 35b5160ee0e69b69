//! Driving the account as a recruiter clicks in Lever's UI: create a candidate, move it to
//! a stage, archive and restore it, delete it, tag it. Each change is made whether or not
//! anyone listens, then delivered, signed, to every webhook subscribed to its event; a
//! delivery that is not answered with a 2xx is retried five times with growing gaps, as
//! Lever does (docs/lever.md). Served under `/_sim` for curl, and called directly by the
//! local server's page.

use super::webhooks::{
    application_data, APPLICATION_CREATED, ARCHIVE_CHANGE, DELETED, STAGE_CHANGE,
};
use super::{
    bad_request, not_found, LeverSim, LeverState, Opportunity, SimArchived, SimOpportunity,
    SimPosting, ARCHIVE_REASON_ID,
};
use crate::{is_email, now_millis, parse_json, ApiError, SimError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

/// The gaps before Lever's five retries of a failed delivery. Lever publishes only that
/// they grow; these double.
const RETRY_GAPS: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
];

pub(super) fn routes() -> Router<LeverSim> {
    Router::new()
        .route("/_sim/opportunities", post(create))
        .route("/_sim/opportunities/{id}", delete(remove))
        .route("/_sim/opportunities/{id}/stage", post(stage))
        .route("/_sim/opportunities/{id}/archive", post(archive))
        .route("/_sim/opportunities/{id}/unarchive", post(unarchive))
        .route("/_sim/opportunities/{id}/tags", post(tag))
}

/// A candidate as a recruiter enters it in Lever.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCandidate {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The posting the candidate applies to; without one, no application is created.
    #[serde(default)]
    pub posting: Option<String>,
    /// A stage id or name; the pipeline's first stage when absent.
    #[serde(default)]
    pub stage: Option<String>,
}

/// Why a recruiter's action was refused.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sim(#[from] SimError),
}

impl From<DriveError> for ApiError {
    fn from(error: DriveError) -> Self {
        match error {
            DriveError::Sim(SimError::NotFound { what, id }) => not_found(what, &id),
            other => bad_request(other.to_string()),
        }
    }
}

/// One webhook delivery of a recruiter's action: where it went and what the first attempt
/// got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: String,
    pub url: String,
    /// The receiver's status; `None` when it could not be reached.
    pub status: Option<u16>,
}

impl Delivery {
    /// Whether Lever counts it delivered: any 2xx.
    pub fn delivered(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    fn to_json(&self) -> Value {
        json!({
            "event": self.event,
            "url": self.url,
            "status": self.status,
            "retrying": !self.delivered(),
        })
    }
}

/// What a recruiter's action changed and the deliveries it caused.
#[derive(Debug, Clone)]
pub struct Driven {
    pub opportunity_id: String,
    pub deliveries: Vec<Delivery>,
}

impl Driven {
    fn to_json(&self) -> Value {
        let deliveries: Vec<Value> = self.deliveries.iter().map(Delivery::to_json).collect();
        json!({
            "data": { "opportunityId": self.opportunity_id },
            "deliveries": deliveries,
        })
    }
}

impl LeverState {
    /// A stage given by id or by its name in the pipeline.
    fn stage_id(&self, id_or_name: &str) -> Result<String, DriveError> {
        self.stages
            .iter()
            .find(|(id, text)| id == id_or_name || text == id_or_name)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| SimError::not_found("stage", id_or_name).into())
    }
}

impl LeverSim {
    /// A recruiter adds a candidate: with a posting, Lever creates its application and
    /// delivers `applicationCreated`.
    pub async fn create_candidate(&self, candidate: NewCandidate) -> Result<Driven, DriveError> {
        let name = candidate.name.trim();
        if name.is_empty() {
            return Err(DriveError::Invalid("a candidate needs a name".into()));
        }
        let email = blank_to_none(candidate.email);
        if let Some(email) = email.as_deref().filter(|email| !is_email(email)) {
            return Err(DriveError::Invalid(format!(
                "{email:?} is not an email address"
            )));
        }
        let id = Uuid::new_v4().to_string();
        let posting_id = blank_to_none(candidate.posting);
        let targets = {
            let mut state = self.lock();
            let stage = match blank_to_none(candidate.stage) {
                Some(stage) => state.stage_id(&stage)?,
                None => state
                    .stages
                    .first()
                    .map(|(id, _)| id.clone())
                    .ok_or_else(|| DriveError::Invalid("the pipeline has no stages".into()))?,
            };
            let posting = match &posting_id {
                Some(posting) => Some(
                    state
                        .postings
                        .get(posting)
                        .ok_or_else(|| SimError::not_found("posting", posting))?
                        .clone(),
                ),
                None => None,
            };
            let record = SimOpportunity {
                id: id.clone(),
                name: name.to_owned(),
                emails: email.into_iter().collect(),
                phones: blank_to_none(candidate.phone).into_iter().collect(),
                // Lever copies the posting's tags onto its candidates' opportunities.
                tags: posting.iter().flat_map(|p| p.tags.clone()).collect(),
                stage,
                posting_id: posting.as_ref().map(|p| p.id.clone()),
                location: posting.and_then(|p| p.location),
            };
            state
                .opportunities
                .insert(id.clone(), Opportunity::new(record));
            match posting_id {
                Some(_) => signed(&state, APPLICATION_CREATED, &application_data(&id)),
                None => Vec::new(),
            }
        };
        Ok(self.deliver_all(id, targets).await)
    }

    /// A recruiter moves the candidate to a stage (id or name): delivers
    /// `candidateStageChange`.
    pub async fn advance_candidate(
        &self,
        opportunity_id: &str,
        stage: &str,
    ) -> Result<Driven, DriveError> {
        self.drive(opportunity_id, STAGE_CHANGE, |state| {
            let stage = state.stage_id(stage)?;
            Ok(state.change_stage(opportunity_id, &stage)?)
        })
        .await
    }

    /// A recruiter archives the candidate with an archive reason (the simulator's own when
    /// `None`): delivers `candidateArchiveChange` with `toArchived: {archivedAt, reason}`.
    pub async fn archive_candidate(
        &self,
        opportunity_id: &str,
        reason: Option<String>,
    ) -> Result<Driven, DriveError> {
        let archived = SimArchived {
            archived_at: now_millis(),
            reason: blank_to_none(reason).unwrap_or_else(|| ARCHIVE_REASON_ID.to_owned()),
        };
        self.drive(opportunity_id, ARCHIVE_CHANGE, |state| {
            if state.opportunity_mut(opportunity_id)?.archived.is_some() {
                return Err(DriveError::Invalid(
                    "the candidate is already archived".into(),
                ));
            }
            Ok(state.set_archived(opportunity_id, Some(archived))?)
        })
        .await
    }

    /// A recruiter restores an archived candidate: delivers `candidateArchiveChange` with
    /// `toArchived: null`.
    pub async fn restore_candidate(&self, opportunity_id: &str) -> Result<Driven, DriveError> {
        self.drive(opportunity_id, ARCHIVE_CHANGE, |state| {
            if state.opportunity_mut(opportunity_id)?.archived.is_none() {
                return Err(DriveError::Invalid("the candidate is not archived".into()));
            }
            Ok(state.set_archived(opportunity_id, None)?)
        })
        .await
    }

    /// A recruiter deletes the candidate: delivers `candidateDeleted`.
    pub async fn delete_candidate(&self, opportunity_id: &str) -> Result<Driven, DriveError> {
        self.drive(opportunity_id, DELETED, |state| {
            Ok(state.delete(opportunity_id)?)
        })
        .await
    }

    /// A recruiter adds a tag. Lever has no webhook for tags: nothing is delivered.
    pub fn tag_candidate(&self, opportunity_id: &str, tag: &str) -> Result<(), DriveError> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(DriveError::Invalid("a tag must not be blank".into()));
        }
        let mut state = self.lock();
        let tags = &mut state.opportunity_mut(opportunity_id)?.record.tags;
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
        Ok(())
    }

    /// Every opportunity, oldest first, as the candidates list shows them.
    pub fn opportunities(&self) -> Vec<SimOpportunity> {
        let state = self.lock();
        let mut all: Vec<&Opportunity> = state.opportunities.values().collect();
        all.sort_by_key(|o| (o.created_at, o.record.id.clone()));
        all.into_iter().map(|o| o.record.clone()).collect()
    }

    /// The pipeline: (stage id, name), in order.
    pub fn stages(&self) -> Vec<(String, String)> {
        self.lock().stages.clone()
    }

    /// Every posting, by title.
    pub fn postings(&self) -> Vec<SimPosting> {
        let mut postings: Vec<SimPosting> = self.lock().postings.values().cloned().collect();
        postings.sort_by(|a, b| (&a.text, &a.id).cmp(&(&b.text, &b.id)));
        postings
    }

    /// Applies `change` to the opportunity, whose answer is the `data`, then delivers
    /// `event` to every webhook subscribed to it.
    async fn drive(
        &self,
        opportunity_id: &str,
        event: &str,
        change: impl FnOnce(&mut LeverState) -> Result<Value, DriveError>,
    ) -> Result<Driven, DriveError> {
        let targets = {
            let mut state = self.lock();
            let data = change(&mut state)?;
            signed(&state, event, &data)
        };
        Ok(self.deliver_all(opportunity_id.to_owned(), targets).await)
    }

    async fn deliver_all(&self, opportunity_id: String, targets: Vec<(String, Value)>) -> Driven {
        let mut deliveries = Vec::with_capacity(targets.len());
        for (url, body) in targets {
            deliveries.push(self.deliver(url, body).await);
        }
        Driven {
            opportunity_id,
            deliveries,
        }
    }

    /// Posts the delivery; when it is not answered with a 2xx, retries the same body in
    /// the background after each of [`RETRY_GAPS`] until one is.
    async fn deliver(&self, url: String, body: Value) -> Delivery {
        let status = self
            .send_raw(&url, &body)
            .await
            .ok()
            .map(|sent| sent.status);
        let delivery = Delivery {
            event: body["event"].as_str().unwrap_or_default().to_owned(),
            url,
            status,
        };
        if !delivery.delivered() {
            let sim = self.clone();
            let url = delivery.url.clone();
            tokio::spawn(async move {
                for gap in RETRY_GAPS {
                    tokio::time::sleep(gap).await;
                    if let Ok(sent) = sim.send_raw(&url, &body).await {
                        if (200..300).contains(&sent.status) {
                            return;
                        }
                    }
                }
            });
        }
        delivery
    }
}

/// One signed body per webhook subscribed to `event`, each with the webhook's URL.
fn signed(state: &LeverState, event: &str, data: &Value) -> Vec<(String, Value)> {
    state
        .webhooks
        .iter()
        .filter(|webhook| webhook.event == event)
        .map(|webhook| (webhook.url.clone(), webhook.delivery(event, data.clone())))
        .collect()
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

fn answer(status: StatusCode, driven: Result<Driven, DriveError>) -> Answer {
    Ok((status, Json(driven?.to_json())))
}

async fn create(State(sim): State<LeverSim>, body: Bytes) -> Answer {
    let candidate: NewCandidate = parse_json(&body, StatusCode::BAD_REQUEST)?;
    answer(StatusCode::CREATED, sim.create_candidate(candidate).await)
}

#[derive(Deserialize)]
struct StageBody {
    stage: String,
}

async fn stage(State(sim): State<LeverSim>, Path(id): Path<String>, body: Bytes) -> Answer {
    let StageBody { stage } = parse_json(&body, StatusCode::BAD_REQUEST)?;
    answer(StatusCode::OK, sim.advance_candidate(&id, &stage).await)
}

#[derive(Deserialize, Default)]
struct ArchiveBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn archive(State(sim): State<LeverSim>, Path(id): Path<String>, body: Bytes) -> Answer {
    // The body is optional: no reason picks the simulator's own.
    let ArchiveBody { reason } = if body.is_empty() {
        ArchiveBody::default()
    } else {
        parse_json(&body, StatusCode::BAD_REQUEST)?
    };
    answer(StatusCode::OK, sim.archive_candidate(&id, reason).await)
}

async fn unarchive(State(sim): State<LeverSim>, Path(id): Path<String>) -> Answer {
    answer(StatusCode::OK, sim.restore_candidate(&id).await)
}

async fn remove(State(sim): State<LeverSim>, Path(id): Path<String>) -> Answer {
    answer(StatusCode::OK, sim.delete_candidate(&id).await)
}

#[derive(Deserialize)]
struct TagBody {
    tag: String,
}

async fn tag(State(sim): State<LeverSim>, Path(id): Path<String>, body: Bytes) -> Answer {
    let TagBody { tag } = parse_json(&body, StatusCode::BAD_REQUEST)?;
    sim.tag_candidate(&id, &tag)?;
    answer(
        StatusCode::OK,
        Ok(Driven {
            opportunity_id: id,
            deliveries: Vec::new(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lever::sign;
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};

    /// A receiver that answers 500 to its first `failures` deliveries, then 200, and keeps
    /// each delivery's User-Agent and body.
    async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
        let received: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let kept = Arc::clone(&received);
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let kept = Arc::clone(&kept);
                async move {
                    let agent = headers[axum::http::header::USER_AGENT]
                        .to_str()
                        .unwrap_or_default()
                        .to_owned();
                    let mut kept = crate::lock(&kept);
                    kept.push((agent, body));
                    if kept.len() <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, received)
    }

    fn account() -> LeverSim {
        let sim = LeverSim::new("key");
        sim.add_stage("s1", "Phone Screen");
        sim.add_stage("s2", "Reference Check");
        sim.add_posting(SimPosting {
            id: "p1".into(),
            text: "Engineer".into(),
            tags: vec!["PKG: 1".into()],
            location: None,
        });
        sim
    }

    #[tokio::test]
    async fn each_action_is_delivered_signed_to_every_webhook_of_its_event() {
        let sim = account();
        let (url, received) = receiver(0).await;
        let (other, other_received) = receiver(0).await;
        sim.subscribe(STAGE_CHANGE, url.clone(), "token-1".into());
        // A second webhook of the same event, created through the API, gets its own copy.
        sim.lock().webhooks.push(crate::lever::SimWebhook {
            id: "w2".into(),
            event: STAGE_CHANGE.into(),
            url: other,
            signature_token: "token-2".into(),
            origins: Vec::new(),
        });
        sim.subscribe(APPLICATION_CREATED, url.clone(), "token-3".into());
        let created = sim
            .create_candidate(NewCandidate {
                name: " Ann Example ".into(),
                email: Some("ann@example.com".into()),
                posting: Some("p1".into()),
                ..NewCandidate::default()
            })
            .await
            .unwrap();
        let id = created.opportunity_id.clone();
        assert_eq!(created.deliveries.len(), 1);
        let ann = sim.opportunity(&id).unwrap();
        assert_eq!(ann.name, "Ann Example");
        assert_eq!(ann.stage, "s1");
        assert_eq!(ann.tags, vec!["PKG: 1".to_owned()], "the posting's tags");

        let moved = sim.advance_candidate(&id, "Reference Check").await.unwrap();
        assert_eq!(moved.deliveries.len(), 2, "{moved:?}");
        assert!(moved.deliveries.iter().all(Delivery::delivered));

        let bodies = crate::lock(&received).clone();
        assert_eq!(bodies.len(), 2);
        let (agent, body) = &bodies[1];
        assert_eq!(agent, "Lever-Webhooks");
        assert_eq!(body["event"], STAGE_CHANGE);
        assert_eq!(body["data"]["opportunityId"], id.as_str());
        assert_eq!(body["data"]["fromStageId"], "s1");
        assert_eq!(body["data"]["toStageId"], "s2");
        let token = body["token"].as_str().unwrap();
        assert_eq!(token.len(), 48);
        let triggered_at = body["triggeredAt"].as_i64().unwrap();
        assert_eq!(body["signature"], sign("token-1", token, triggered_at));
        let (_, other_body) = &crate::lock(&other_received)[0];
        assert_eq!(
            other_body["signature"],
            sign(
                "token-2",
                other_body["token"].as_str().unwrap(),
                other_body["triggeredAt"].as_i64().unwrap()
            )
        );
        assert_eq!(bodies[0].1["event"], APPLICATION_CREATED);
    }

    #[tokio::test]
    async fn a_failed_delivery_is_retried_unchanged_until_answered_with_a_2xx() {
        let sim = account();
        let (url, received) = receiver(1).await;
        sim.subscribe(ARCHIVE_CHANGE, url, "token".into());
        let id = sim
            .create_candidate(NewCandidate {
                name: "Ann".into(),
                ..NewCandidate::default()
            })
            .await
            .unwrap()
            .opportunity_id;
        let archived = sim
            .archive_candidate(&id, Some("reason-9".into()))
            .await
            .unwrap();
        assert_eq!(archived.deliveries[0].status, Some(500));
        assert!(!archived.deliveries[0].delivered());
        tokio::time::sleep(RETRY_GAPS[0] + Duration::from_millis(500)).await;
        let bodies = crate::lock(&received).clone();
        assert_eq!(bodies.len(), 2, "one retry, then no more once answered 200");
        assert_eq!(
            bodies[0].1, bodies[1].1,
            "the same delivery, signature included"
        );
        assert_eq!(bodies[1].1["data"]["toArchived"]["reason"], "reason-9");
        assert!(bodies[1].1["data"]["toArchived"]["archivedAt"].is_i64());
        assert_eq!(bodies[1].1["data"]["fromArchived"], Value::Null);
    }

    #[tokio::test]
    async fn changes_are_made_even_when_no_webhook_listens() {
        let sim = account();
        let id = sim
            .create_candidate(NewCandidate {
                name: "Ann".into(),
                stage: Some("s2".into()),
                ..NewCandidate::default()
            })
            .await
            .unwrap()
            .opportunity_id;
        let moved = sim.advance_candidate(&id, "s1").await.unwrap();
        assert!(moved.deliveries.is_empty());
        assert_eq!(sim.opportunity(&id).unwrap().stage, "s1");
        sim.delete_candidate(&id).await.unwrap();
        assert_eq!(sim.opportunity(&id), None);
    }
}
