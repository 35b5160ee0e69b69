//! Checkr's API v1 over HTTP: Basic auth with the API key, the rate limit and its headers,
//! idempotency keys on POST, form or JSON bodies, `{"error": …}` answers.

use super::{
    candidate_json, invitation_json, report_json, CheckrCandidate, CheckrInvitation, CheckrSim,
    IdempotentAnswer, WorkLocation, DUPLICATE_CANDIDATES_PER_DAY, IDEMPOTENCY_KEY_LIFETIME_MS,
};
use crate::{gate, is_email, now_millis};
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Seven days, after which an unanswered invitation expires.
const INVITATION_LIFETIME_MS: i64 = 7 * 24 * 3_600_000;
const DAY_MS: i64 = 24 * 3_600_000;

pub(super) fn router(sim: &CheckrSim) -> Router {
    let v1 = Router::new()
        .route("/candidates", get(list_candidates).post(create_candidate))
        .route("/candidates/{id}", get(get_candidate))
        .route("/packages", get(list_packages))
        .route("/invitations", post(create_invitation))
        .route(
            "/invitations/{id}",
            get(get_invitation).delete(cancel_invitation),
        )
        .route("/reports/{id}", get(get_report))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            sim.clone(),
            gate::<CheckrSim>,
        ))
        .layer(middleware::from_fn_with_state(sim.clone(), require_api_key))
        .layer(middleware::from_fn_with_state(sim.clone(), rate_limit));
    Router::new()
        .nest("/v1", v1)
        .fallback(no_route)
        .with_state(sim.clone())
}

/// An answer in Checkr's error shape, `{"error": "<message>"}`.
struct CheckrError {
    status: StatusCode,
    message: String,
}

impl CheckrError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        CheckrError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        CheckrError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: &str) -> Self {
        CheckrError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for CheckrError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

type Answer = Result<(StatusCode, Value), CheckrError>;

fn json_answer(answer: Answer) -> Response {
    match answer {
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn no_route() -> Response {
    CheckrError::not_found("Not Found").into_response()
}

/// Counts every request against the minute's budget and says where it stands in the
/// `X-Ratelimit-*` headers; beyond the budget, 429.
async fn rate_limit(State(sim): State<CheckrSim>, request: Request, next: Next) -> Response {
    let now = now_millis();
    let minute = now.div_euclid(60_000);
    let (limit, remaining, over) = {
        let mut state = sim.lock();
        if state.window.0 != minute {
            state.window = (minute, 0);
        }
        state.window.1 += 1;
        let limit = state.requests_per_minute;
        let taken = state.window.1;
        (limit, limit.saturating_sub(taken), taken > limit)
    };
    let mut response = if over {
        CheckrError::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response()
    } else {
        next.run(request).await
    };
    let reset = (minute + 1) * 60;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// HTTP Basic with the API key as the user name and an empty password.
async fn require_api_key(State(sim): State<CheckrSim>, request: Request, next: Next) -> Response {
    let expected = format!("{}:", sim.api_key);
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    if presented.as_deref() == Some(expected.as_bytes()) {
        next.run(request).await
    } else {
        CheckrError::new(StatusCode::UNAUTHORIZED, "Bad authentication error").into_response()
    }
}

/// A request body as a JSON object: JSON with `Content-Type: application/json`, else
/// form-urlencoded (Checkr's default), where `work_locations[][state]=CA` and `tags[]=x`
/// build arrays.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, CheckrError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json {
        return match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(CheckrError::bad_request("Invalid JSON in request body")),
        };
    }
    let mut map = Map::new();
    let mut location: Option<Map<String, Value>> = None;
    for (key, value) in form_urlencoded::parse(body) {
        if let Some(field) = key
            .strip_prefix("work_locations[][")
            .and_then(|k| k.strip_suffix(']'))
        {
            let current = location.get_or_insert_with(Map::new);
            if current.contains_key(field) {
                push(
                    &mut map,
                    "work_locations",
                    Value::Object(location.take().unwrap_or_default()),
                );
                location = Some(Map::new());
            }
            if let Some(current) = location.as_mut() {
                current.insert(field.to_owned(), json!(value));
            }
        } else if let Some(field) = key.strip_suffix("[]") {
            push(&mut map, field, json!(value));
        } else {
            map.insert(key.into_owned(), json!(value));
        }
    }
    if let Some(last) = location {
        push(&mut map, "work_locations", Value::Object(last));
    }
    Ok(map)
}

fn push(map: &mut Map<String, Value>, key: &str, value: Value) {
    match map.entry(key.to_owned()).or_insert_with(|| json!([])) {
        Value::Array(items) => items.push(value),
        other => *other = json!([value]),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Runs a create under the request's `Idempotency-Key`, if any: the first 2xx answer for a
/// key is saved for 24 hours and replayed for the same key, as Checkr documents.
fn idempotent(sim: &CheckrSim, headers: &HeaderMap, create: impl FnOnce() -> Answer) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let now = now_millis();
    if let Some(key) = &key {
        let state = sim.lock();
        if let Some(saved) = state
            .idempotency
            .get(key)
            .filter(|saved| now - saved.saved_at < IDEMPOTENCY_KEY_LIFETIME_MS)
        {
            let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
            let mut response = (status, saved.body.clone()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return response;
        }
    }
    let answer = create();
    if let (Some(key), Ok((status, body))) = (key, &answer) {
        sim.lock().idempotency.insert(
            key,
            IdempotentAnswer {
                status: status.as_u16(),
                body: body.to_string(),
                saved_at: now,
            },
        );
    }
    if answer.is_ok() {
        if let Some(fault) = sim.lock().faults.take_after() {
            return fault;
        }
    }
    json_answer(answer)
}

/// Letters (Latin-1 letters included), digits, spaces, hyphens, apostrophes, periods and
/// commas: Checkr's "supported characters" for names.
fn is_name(value: &str) -> bool {
    value.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, ' ' | '-' | '\'' | '.' | ',' | 'ª' | 'µ' | 'º')
            || ('À'..='Ö').contains(&c)
            || ('Ø'..='ö').contains(&c)
            || ('ø'..='ÿ').contains(&c)
    })
}

async fn create_candidate(
    State(sim): State<CheckrSim>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    idempotent(&sim, &headers, || {
        let map = parse_body(&headers, &body)?;
        let email =
            text(&map, "email").ok_or_else(|| CheckrError::bad_request("Email is required"))?;
        if email.len() > 255 || !is_email(&email) {
            return Err(CheckrError::bad_request(
                "Email is not a valid email address",
            ));
        }
        for (field, label) in [
            ("first_name", "First name"),
            ("middle_name", "Middle name"),
            ("last_name", "Last name"),
        ] {
            if text(&map, field).is_some_and(|name| !is_name(&name)) {
                return Err(CheckrError::bad_request(format!(
                    "{label} must only contain letters, numbers, spaces, hyphens, apostrophes, periods, and commas"
                )));
            }
        }
        let now = now_millis();
        let mut state = sim.lock();
        let same_email = state
            .candidates
            .iter()
            .filter(|c| c.email.eq_ignore_ascii_case(&email) && now - c.created_at < DAY_MS)
            .count();
        if same_email > DUPLICATE_CANDIDATES_PER_DAY {
            return Err(CheckrError::new(
                StatusCode::CONFLICT,
                "Duplicate candidate detected. No more than 2 duplicate candidates can be created within a 24 hour period",
            ));
        }
        let candidate = CheckrCandidate {
            id: state.new_id("candidate"),
            email,
            first_name: text(&map, "first_name"),
            last_name: text(&map, "last_name"),
            phone: text(&map, "phone"),
            custom_id: text(&map, "custom_id"),
            created_at: now,
        };
        state.candidates.push(candidate.clone());
        Ok((StatusCode::CREATED, candidate_json(&candidate)))
    })
}

async fn get_candidate(State(sim): State<CheckrSim>, Path(id): Path<String>) -> Response {
    match sim.lock().candidate(&id) {
        Some(candidate) => axum::Json(candidate_json(candidate)).into_response(),
        None => CheckrError::not_found("Candidate not found").into_response(),
    }
}

#[derive(Deserialize)]
struct Page {
    page: Option<String>,
    per_page: Option<String>,
    email: Option<String>,
    custom_id: Option<String>,
}

impl Page {
    /// `page` ≥ 1 and `per_page` 0–100 (default 25), or a 400.
    fn bounds(&self) -> Result<(usize, usize), CheckrError> {
        let number = |value: &Option<String>, default: usize| {
            value.as_deref().map_or(Ok(default), |v| {
                v.parse::<usize>()
                    .map_err(|_| CheckrError::bad_request("Invalid pagination parameters"))
            })
        };
        let page = number(&self.page, 1)?;
        let per_page = number(&self.per_page, 25)?;
        if page == 0 || per_page > 100 {
            return Err(CheckrError::bad_request("Invalid pagination parameters"));
        }
        Ok((page, per_page))
    }
}

/// Checkr's list envelope over `items`, one page of them.
fn list(path: &str, items: Vec<Value>, page: &Page) -> Answer {
    let (number, per_page) = page.bounds()?;
    let count = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * per_page)
        .take(per_page)
        .collect();
    let href =
        |n: usize| format!("https://api.checkr.example/v1/{path}?page={n}&per_page={per_page}");
    let next = (number * per_page < count).then(|| href(number + 1));
    let previous = (number > 1).then(|| href(number - 1));
    Ok((
        StatusCode::OK,
        json!({ "object": "list", "data": data, "count": count, "next_href": next, "previous_href": previous }),
    ))
}

async fn list_candidates(State(sim): State<CheckrSim>, Query(page): Query<Page>) -> Response {
    let items = sim
        .lock()
        .candidates
        .iter()
        .filter(|c| {
            page.email
                .as_ref()
                .is_none_or(|e| c.email.eq_ignore_ascii_case(e))
        })
        .filter(|c| page.custom_id.is_none() || c.custom_id == page.custom_id)
        .map(candidate_json)
        .collect();
    json_answer(list("candidates", items, &page))
}

async fn list_packages(State(sim): State<CheckrSim>, Query(page): Query<Page>) -> Response {
    let items = sim
        .lock()
        .packages
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "object": "package",
                "uri": format!("/v1/packages/{}", p.id),
                "name": p.name,
                "slug": p.slug,
                "screenings": [],
            })
        })
        .collect();
    json_answer(list("packages", items, &page))
}

fn work_locations(map: &Map<String, Value>) -> Result<Vec<WorkLocation>, CheckrError> {
    let Some(Value::Array(items)) = map.get("work_locations") else {
        return Err(CheckrError::bad_request("work_locations is required"));
    };
    if items.is_empty() {
        return Err(CheckrError::bad_request("work_locations is required"));
    }
    items
        .iter()
        .map(|item| {
            let Value::Object(location) = item else {
                return Err(CheckrError::bad_request("work_locations is invalid"));
            };
            let country = text(location, "country").unwrap_or_else(|| "US".to_owned());
            let valid_country =
                country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase());
            if !valid_country {
                return Err(CheckrError::bad_request(
                    "work_locations country must be an ISO 3166 alpha-2 code",
                ));
            }
            let state = text(location, "state");
            if country == "US" && state.is_none() {
                return Err(CheckrError::bad_request(
                    "work_locations state is required for US candidates",
                ));
            }
            Ok(WorkLocation {
                country,
                state,
                city: text(location, "city"),
            })
        })
        .collect()
}

async fn create_invitation(
    State(sim): State<CheckrSim>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut created = None;
    let response = idempotent(&sim, &headers, || {
        let map = parse_body(&headers, &body)?;
        let package =
            text(&map, "package").ok_or_else(|| CheckrError::bad_request("package is required"))?;
        let candidate_id = text(&map, "candidate_id")
            .ok_or_else(|| CheckrError::bad_request("candidate_id is required"))?;
        let work_locations = work_locations(&map)?;
        let tags = match map.get("tags") {
            Some(Value::Array(tags)) => tags
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let mut state = sim.lock();
        if !state.packages.iter().any(|p| p.slug == package) {
            return Err(CheckrError::not_found("Package not found"));
        }
        if state.candidate(&candidate_id).is_none() {
            return Err(CheckrError::not_found("Candidate not found"));
        }
        let now = now_millis();
        let invitation = CheckrInvitation {
            id: state.new_id("invitation"),
            candidate_id,
            package,
            work_locations,
            tags,
            status: "pending".to_owned(),
            created_at: now,
            expires_at: now + INVITATION_LIFETIME_MS,
            completed_at: None,
            deleted_at: None,
            report_id: None,
        };
        state.invitations.push(invitation.clone());
        let body = invitation_json(&invitation);
        created = Some(body.clone());
        Ok((StatusCode::CREATED, body))
    });
    if let Some(invitation) = created {
        // Checkr sends its webhooks after answering, not within the request.
        let sim = sim.clone();
        tokio::spawn(async move { sim.notify("invitation.created", invitation).await });
    }
    response
}

#[derive(Deserialize)]
struct IncludeDeleted {
    include_deleted: Option<String>,
}

async fn get_invitation(
    State(sim): State<CheckrSim>,
    Path(id): Path<String>,
    Query(query): Query<IncludeDeleted>,
) -> Response {
    let include_deleted = query.include_deleted.as_deref() == Some("true");
    let state = sim.lock();
    match state
        .invitations
        .iter()
        .find(|i| i.id == id && (include_deleted || i.deleted_at.is_none()))
    {
        Some(invitation) => axum::Json(invitation_json(invitation)).into_response(),
        None => CheckrError::not_found("Not Found").into_response(),
    }
}

/// "Cancels an existing Invitation": only one still pending; 400 otherwise.
async fn cancel_invitation(State(sim): State<CheckrSim>, Path(id): Path<String>) -> Response {
    let cancelled = {
        let mut state = sim.lock();
        let Some(invitation) = state.invitation_mut(&id).filter(|i| i.deleted_at.is_none()) else {
            return CheckrError::not_found("Not Found").into_response();
        };
        if invitation.status != "pending" {
            return CheckrError::bad_request(format!(
                "Invitation cannot be canceled: it is {}",
                invitation.status
            ))
            .into_response();
        }
        invitation.deleted_at = Some(now_millis());
        invitation_json(invitation)
    };
    let sim_for_webhook = sim.clone();
    let event = cancelled.clone();
    tokio::spawn(async move { sim_for_webhook.notify("invitation.deleted", event).await });
    axum::Json(cancelled).into_response()
}

async fn get_report(State(sim): State<CheckrSim>, Path(id): Path<String>) -> Response {
    match sim.lock().reports.iter().find(|r| r.id == id) {
        Some(report) => axum::Json(report_json(report)).into_response(),
        None => CheckrError::not_found("Not Found").into_response(),
    }
}
