//! Lever's REST API under `/v1` (docs/lever.md): opportunities with their
//! tags, notes and stage, postings and stages. Single objects come as `{"data": {...}}`,
//! lists as one [`page`].

use super::{
    application_id, bad_request, contact_id, not_found, LeverSim, LeverState, Opportunity, SimNote,
    SIM_USER_ID,
};
use crate::{now_millis, parse_json, ApiError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub(super) fn routes() -> Router<LeverSim> {
    Router::new()
        .route("/opportunities", get(list_opportunities))
        .route("/opportunities/{id}", get(get_opportunity))
        .route("/opportunities/{id}/addTags", post(add_tags))
        .route("/opportunities/{id}/removeTags", post(remove_tags))
        .route("/opportunities/{id}/stage", put(change_stage))
        .route(
            "/opportunities/{id}/notes",
            get(list_notes).post(create_note),
        )
        .route("/opportunities/{id}/notes/{note_id}", put(update_note))
        .route("/postings/{id}", get(get_posting))
        .route("/stages", get(list_stages))
}

pub(super) type Params = Query<Vec<(String, String)>>;

fn param<'a>(params: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
    params
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Who a write is attributed to: `perform_as`, else the simulator's admin.
fn performer(params: &[(String, String)]) -> String {
    param(params, "perform_as")
        .next()
        .unwrap_or(SIM_USER_ID)
        .to_owned()
}

/// One page of a list: `{"data": [...], "hasNext": bool, "next"?: "<offset>"}`, where
/// `limit` is 1–100 (default 100) and `offset` is the `next` of the previous page.
pub(super) fn page(
    items: Vec<Value>,
    params: &[(String, String)],
) -> Result<Json<Value>, ApiError> {
    let number = |key: &str, default: usize| match param(params, key).next() {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad_request(format!("{key} must be a number"))),
    };
    let limit = number("limit", 100)?;
    if !(1..=100).contains(&limit) {
        return Err(bad_request("limit must be between 1 and 100"));
    }
    let offset = number("offset", 0)?;
    let end = offset.saturating_add(limit);
    let has_next = end < items.len();
    let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let mut body = json!({ "data": data, "hasNext": has_next });
    if has_next {
        body["next"] = json!(end.to_string());
    }
    Ok(Json(body))
}

fn find<'a>(state: &'a LeverState, id: &str) -> Result<&'a Opportunity, ApiError> {
    state
        .opportunities
        .get(id)
        .ok_or_else(|| not_found("opportunity", id))
}

fn find_mut<'a>(state: &'a mut LeverState, id: &str) -> Result<&'a mut Opportunity, ApiError> {
    state
        .opportunities
        .get_mut(id)
        .ok_or_else(|| not_found("opportunity", id))
}

/// `{"data": <the opportunity>}`.
fn opportunity_response(
    state: &LeverState,
    id: &str,
    expand: &Expand,
) -> Result<Json<Value>, ApiError> {
    let data = opportunity_json(state, find(state, id)?, expand);
    Ok(Json(json!({ "data": data })))
}

/// The `?expand=` values this simulator inlines.
#[derive(Default)]
struct Expand {
    applications: bool,
    stage: bool,
}

impl Expand {
    fn parse(params: &[(String, String)]) -> Self {
        let mut expand = Expand::default();
        for value in param(params, "expand") {
            match value {
                "applications" => expand.applications = true,
                "stage" => expand.stage = true,
                _ => {}
            }
        }
        expand
    }
}

/// `GET /opportunities/:id`'s `data`: the seeded fields, `stageChanges` oldest first, the
/// application ids (objects with `expand=applications`), and `archived`/`archivedAt` only
/// when archived.
fn opportunity_json(state: &LeverState, opportunity: &Opportunity, expand: &Expand) -> Value {
    let record = &opportunity.record;
    let applications: Vec<Value> = record
        .posting_id
        .iter()
        .map(|posting| {
            let id = application_id(&record.id);
            if expand.applications {
                json!({
                    "id": id,
                    "type": "posting",
                    "opportunityId": record.id,
                    "candidateId": record.id,
                    "posting": posting,
                    "createdAt": opportunity.created_at,
                })
            } else {
                json!(id)
            }
        })
        .collect();
    let phones: Vec<Value> = record
        .phones
        .iter()
        .map(|value| json!({ "type": "mobile", "value": value }))
        .collect();
    let stage_changes: Vec<Value> = opportunity
        .stage_changes
        .iter()
        .map(|change| {
            json!({
                "toStageId": change.to_stage_id,
                "toStageIndex": state.stage_index(&change.to_stage_id),
                "updatedAt": change.updated_at,
                "userId": change.user_id,
            })
        })
        .collect();
    let stage = match state.stage_text(&record.stage) {
        Some(text) if expand.stage => json!({ "id": record.stage, "text": text }),
        _ => json!(record.stage),
    };
    let mut data = json!({
        "id": record.id,
        "name": record.name,
        "contact": contact_id(&record.id),
        "emails": record.emails,
        "phones": phones,
        "tags": record.tags,
        "stage": stage,
        "stageChanges": stage_changes,
        "confidentiality": if state.confidential.contains(&record.id) {
            "confidential"
        } else {
            "non-confidential"
        },
        "location": record.location,
        "applications": applications,
        "createdAt": opportunity.created_at,
        "updatedAt": opportunity.updated_at,
        "lastAdvancedAt": opportunity.stage_changes.last().map(|change| change.updated_at),
    });
    if let Some(archived) = &opportunity.archived {
        data["archived"] = json!({ "archivedAt": archived.archived_at, "reason": archived.reason });
        data["archivedAt"] = json!(archived.archived_at);
    }
    data
}

async fn get_opportunity(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    opportunity_response(&sim.lock(), &id, &Expand::parse(&params))
}

/// `GET /opportunities`: every opportunity matching all the filters given, oldest first,
/// one [`page`] at a time. The filters this simulator knows, as Lever documents them:
/// `stage_id` (repeatable: any of them), `archived` (`true`/`false`), `updated_at_start`/
/// `_end`, `archived_at_start`/`_end` (ms since the epoch; an archived-at filter lists
/// archived opportunities only) and `expand`. A malformed value is a 400; a parameter
/// this simulator does not model is refused as a 400 too, rather than silently ignored.
async fn list_opportunities(
    State(sim): State<LeverSim>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    const KNOWN: [&str; 9] = [
        "stage_id",
        "archived",
        "updated_at_start",
        "updated_at_end",
        "archived_at_start",
        "archived_at_end",
        "expand",
        "limit",
        "offset",
    ];
    if let Some((key, _)) = params.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        return Err(bad_request(format!(
            "{key} is not modelled by the simulator"
        )));
    }
    let time = |key: &str| match param(&params, key).next() {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad_request(format!("{key} must be a timestamp in milliseconds"))),
    };
    let archived = match param(&params, "archived").next() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(bad_request("archived must be true or false")),
    };
    let (updated_start, updated_end) = (time("updated_at_start")?, time("updated_at_end")?);
    let (archived_start, archived_end) = (time("archived_at_start")?, time("archived_at_end")?);
    let within = |at: Option<i64>, start: Option<i64>, end: Option<i64>| {
        (start.is_none() && end.is_none())
            || at.is_some_and(|at| start.is_none_or(|s| at >= s) && end.is_none_or(|e| at <= e))
    };
    let stages: Vec<&str> = param(&params, "stage_id").collect();
    let expand = Expand::parse(&params);
    let state = sim.lock();
    let mut found: Vec<&Opportunity> = state
        .opportunities
        .values()
        .filter(|o| stages.is_empty() || stages.contains(&o.record.stage.as_str()))
        .filter(|o| archived.is_none_or(|a| a == o.archived.is_some()))
        .filter(|o| within(Some(o.updated_at), updated_start, updated_end))
        .filter(|o| {
            let archived_at = o.archived.as_ref().map(|a| a.archived_at);
            within(archived_at, archived_start, archived_end)
        })
        .collect();
    found.sort_by(|a, b| (a.created_at, &a.record.id).cmp(&(b.created_at, &b.record.id)));
    let items = found
        .into_iter()
        .map(|o| opportunity_json(&state, o, &expand))
        .collect();
    page(items, &params)
}

async fn get_posting(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = sim.lock();
    let posting = state
        .postings
        .get(&id)
        .ok_or_else(|| not_found("posting", &id))?;
    Ok(Json(json!({ "data": {
        "id": posting.id,
        "text": posting.text,
        "tags": posting.tags,
        "categories": { "location": posting.location, "team": null },
    }})))
}

async fn list_stages(
    State(sim): State<LeverSim>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let stages = sim
        .lock()
        .stages
        .iter()
        .map(|(id, text)| json!({ "id": id, "text": text }))
        .collect();
    page(stages, &params)
}

#[derive(Deserialize)]
struct StageBody {
    stage: String,
}

/// `PUT /opportunities/:id/stage`: moves the opportunity to a known stage. No webhook is
/// delivered: an integration's own moves are not what the product listens for.
async fn change_stage(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let StageBody { stage } = parse_json(&body, StatusCode::BAD_REQUEST)?;
    let mut state = sim.lock();
    find(&state, &id)?;
    if state.stage_index(&stage).is_none() {
        return Err(bad_request(format!("unknown stage {stage:?}")));
    }
    find_mut(&mut state, &id)?.advance(&stage, &performer(&params));
    opportunity_response(&state, &id, &Expand::default())
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
}

async fn add_tags(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    edit_tags(&sim, &id, &body, |tags, new| {
        for tag in new {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    })
}

async fn remove_tags(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    edit_tags(&sim, &id, &body, |tags, gone| {
        tags.retain(|t| !gone.contains(t))
    })
}

fn edit_tags(
    sim: &LeverSim,
    id: &str,
    body: &[u8],
    edit: impl FnOnce(&mut Vec<String>, Vec<String>),
) -> Result<Json<Value>, ApiError> {
    let TagsBody { tags } = parse_json(body, StatusCode::BAD_REQUEST)?;
    let mut state = sim.lock();
    let opportunity = find_mut(&mut state, id)?;
    edit(&mut opportunity.record.tags, tags);
    opportunity.updated_at = now_millis();
    opportunity_response(&state, id, &Expand::default())
}

/// The body of `POST` and `PUT` on notes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteBody {
    value: String,
    secret: Option<bool>,
    notify_followers: Option<bool>,
    score: Option<i64>,
    /// On create: the note's time (ms); Lever takes any time not in the future.
    created_at: Option<i64>,
}

impl NoteBody {
    /// 400 unless the body is a note with a non-blank `value` and a `score`, if any, of 1–4.
    fn parse(body: &[u8]) -> Result<(Self, Option<u8>), ApiError> {
        let note: NoteBody = parse_json(body, StatusCode::BAD_REQUEST)?;
        if note.value.trim().is_empty() {
            return Err(bad_request("value must not be empty"));
        }
        let score = match note.score {
            None => None,
            Some(score @ 1..=4) => Some(score as u8),
            Some(_) => return Err(bad_request("score must be an integer from 1 to 4")),
        };
        Ok((note, score))
    }
}

/// A note as `GET /opportunities/:id/notes` lists it: the body is the `value` of its one
/// field of type `note`.
fn note_json(note: &SimNote) -> Value {
    json!({
        "id": note.id,
        "text": "Note",
        "fields": [{
            "type": "note",
            "text": "Comment",
            "value": note.value,
            "createdAt": note.created_at,
            "score": note.score,
            "user": note.user,
        }],
        "user": note.user,
        "secret": note.secret,
        "createdAt": note.created_at,
        "completedAt": note.created_at,
        "deletedAt": null,
    })
}

async fn list_notes(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, ApiError> {
    let state = sim.lock();
    find(&state, &id)?;
    let notes = state
        .notes
        .get(&id)
        .into_iter()
        .flatten()
        .map(note_json)
        .collect();
    page(notes, &params)
}

async fn create_note(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (note, score) = NoteBody::parse(&body)?;
    let now = now_millis();
    let created_at = note.created_at.unwrap_or(now);
    if created_at > now {
        return Err(bad_request("createdAt must not be in the future"));
    }
    let mut state = sim.lock();
    find(&state, &id)?;
    let note_id = Uuid::new_v4().to_string();
    state.notes.entry(id).or_default().push(SimNote {
        id: note_id.clone(),
        value: note.value,
        secret: note.secret.unwrap_or(false),
        score,
        notify_followers: note.notify_followers.unwrap_or(false),
        user: performer(&params),
        created_at,
        updated_at: None,
    });
    let body = json!({ "data": { "noteId": note_id } });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn update_note(
    State(sim): State<LeverSim>,
    Path((id, note_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (update, score) = NoteBody::parse(&body)?;
    let mut state = sim.lock();
    find(&state, &id)?;
    let note = state
        .notes
        .get_mut(&id)
        .and_then(|notes| notes.iter_mut().find(|n| n.id == note_id))
        .ok_or_else(|| not_found("note", &note_id))?;
    note.value = update.value;
    note.secret = update.secret.unwrap_or(note.secret);
    note.score = score.or(note.score);
    note.updated_at = Some(now_millis());
    Ok(Json(json!({ "data": { "noteId": note_id } })))
}

/// `GET /_sim/opportunities/:id`, for humans: the opportunity's stage, tags and notes.
pub(super) async fn inspect_opportunity(
    State(sim): State<LeverSim>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = sim.lock();
    let opportunity = &find(&state, &id)?.record;
    let notes: Vec<Value> = state
        .notes
        .get(&id)
        .into_iter()
        .flatten()
        .map(|n| {
            json!({
                "id": n.id,
                "value": n.value,
                "secret": n.secret,
                "createdAt": n.created_at,
                "updatedAt": n.updated_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": opportunity.id,
        "stage": opportunity.stage,
        "stageText": state.stage_text(&opportunity.stage),
        "tags": opportunity.tags,
        "notes": notes,
    })))
}
