//! Sterling API v2 over HTTP. Errors are Sterling's documented shape,
//! `{"errors":[{"code":"<status>#<object>?<reason>","message":"..."}]}`.

use super::model::{INITIATED, IN_PRODUCTION, NOT_STARTED};
use super::{
    InviteMethod, SentEmail, SterlingCandidate, SterlingInvite, SterlingReportItem,
    SterlingScreening, SterlingSim,
};
use crate::{gate, is_e164, is_email, is_http_url, now_millis, timestamp};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;
use uuid::Uuid;

/// Screening ids are numeric strings counting up from here, as Sterling's look.
const FIRST_SCREENING_ID: u64 = 1_806_030_372;
const PORTAL_URL: &str = "https://candidate.sterling.example/portal";
const ADMIN_URL: &str = "https://app.sterling.example/screenings";

pub(super) fn router(sim: &SterlingSim) -> Router {
    let v2 = Router::new()
        .route("/packages", get(list_packages))
        .route("/candidates", post(create_candidate))
        .route("/candidates/{id}", get(get_candidate))
        .route("/screenings", post(create_screening))
        .route("/screenings/{id}", get(get_screening))
        .route_layer(middleware::from_fn_with_state(sim.clone(), require_bearer))
        .route("/oauth", post(issue_token))
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(
            sim.clone(),
            gate::<SterlingSim>,
        ));
    Router::new()
        .nest("/v2", v2)
        .fallback(no_route)
        .with_state(sim.clone())
}

/// An error answer: a status and its `errors`, each `(code, message)`.
#[derive(Debug)]
struct SterlingError {
    status: StatusCode,
    errors: Vec<(String, String)>,
}

impl SterlingError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        SterlingError {
            status,
            errors: vec![(code.to_owned(), message.into())],
        }
    }

    /// 400 with one error per problem found, if any.
    fn bad_request(errors: Vec<(String, String)>) -> Result<(), Self> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(SterlingError {
            status: StatusCode::BAD_REQUEST,
            errors,
        })
    }

    fn not_found(what: &str, id: &str) -> Self {
        SterlingError::new(
            StatusCode::NOT_FOUND,
            "404#not-found",
            format!("no {what} {id}"),
        )
    }
}

impl IntoResponse for SterlingError {
    fn into_response(self) -> Response {
        let errors: Vec<Value> = self
            .errors
            .into_iter()
            .map(|(code, message)| json!({ "code": code, "message": message }))
            .collect();
        (self.status, Json(json!({ "errors": errors }))).into_response()
    }
}

/// A JSON body; 400 `400#body?format` when it is not JSON or of the wrong shape.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, SterlingError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = format!("the body is not the JSON expected: {e}");
        SterlingError::new(StatusCode::BAD_REQUEST, "400#body?format", message)
    })
}

/// `400#required-field` for each field missing or blank.
fn missing(fields: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(_, value)| value.is_none_or(|v| v.trim().is_empty()))
        .map(|(name, _)| {
            (
                "400#required-field".to_owned(),
                format!("{name} is required"),
            )
        })
        .collect()
}

/// `400#{field}?format` when `ok` is false.
fn format_error(field: &str, ok: bool, expected: &str) -> Option<(String, String)> {
    (!ok).then(|| {
        (
            format!("400#{field}?format"),
            format!("{field} must be {expected}"),
        )
    })
}

async fn no_route(method: Method, OriginalUri(uri): OriginalUri) -> SterlingError {
    SterlingError::not_found("route", &format!("{method} {}", uri.path()))
}

async fn require_bearer(
    State(sim): State<SterlingSim>,
    request: Request,
    next: Next,
) -> Result<Response, SterlingError> {
    let expiry = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| sim.lock().tokens.get(token).copied());
    match expiry {
        None => Err(SterlingError::new(
            StatusCode::UNAUTHORIZED,
            "401#unauthorized",
            "a Bearer token from POST /v2/oauth is required",
        )),
        Some(expiry) if Instant::now() >= expiry => Err(SterlingError::new(
            StatusCode::UNAUTHORIZED,
            "401#token?expired",
            "the access token has expired",
        )),
        Some(_) => Ok(next.run(request).await),
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
}

async fn issue_token(
    State(sim): State<SterlingSim>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Json<Value>, SterlingError> {
    let authenticated = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|pair| pair == sim.credentials.as_bytes());
    if !authenticated {
        return Err(SterlingError::new(
            StatusCode::UNAUTHORIZED,
            "401#client?invalid",
            "Basic auth with the client id and secret is required",
        ));
    }
    if !form.is_ok_and(|Form(form)| form.grant_type == "client_credentials") {
        return Err(SterlingError::new(
            StatusCode::BAD_REQUEST,
            "400#grant_type?unsupported",
            "grant_type must be client_credentials",
        ));
    }
    let token = Uuid::new_v4().simple().to_string();
    let mut state = sim.lock();
    let lifetime = state.token_lifetime;
    state
        .tokens
        .insert(token.clone(), Instant::now() + lifetime);
    state.tokens_issued += 1;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": lifetime.as_millis().div_ceil(1000),
    })))
}

async fn list_packages(State(sim): State<SterlingSim>) -> Json<Value> {
    Json(json!(sim.lock().packages))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CandidateRequest {
    client_reference_id: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

/// 400 for fields missing, blank or malformed; 409 for an email or a `clientReferenceId`
/// another candidate has (the body names no candidate); else the new candidate, 201.
async fn create_candidate(
    State(sim): State<SterlingSim>,
    body: Bytes,
) -> Result<Response, SterlingError> {
    let request: CandidateRequest = parse(&body)?;
    SterlingError::bad_request(missing(&[
        ("clientReferenceId", request.client_reference_id.as_deref()),
        ("givenName", request.given_name.as_deref()),
        ("familyName", request.family_name.as_deref()),
        ("email", request.email.as_deref()),
    ]))?;
    let email = request.email.unwrap_or_default();
    let phone_ok = request.phone.as_deref().is_none_or(is_e164);
    SterlingError::bad_request(
        [
            format_error("email", is_email(&email), "a valid email"),
            format_error("phone", phone_ok, "an E.164 string, such as +15555551234"),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )?;

    let reference = request.client_reference_id.unwrap_or_default();
    let mut state = sim.lock();
    let in_use = |taken: bool, field: &str| {
        taken.then(|| {
            let code = format!("409#{field}?already-in-use");
            (code, format!("{field} already in use"))
        })
    };
    let conflicts: Vec<(String, String)> = [
        in_use(
            state
                .candidates
                .iter()
                .any(|c| c.email.eq_ignore_ascii_case(&email)),
            "email",
        ),
        in_use(
            state
                .candidates
                .iter()
                .any(|c| c.client_reference_id == reference),
            "clientReferenceId",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !conflicts.is_empty() {
        return Err(SterlingError {
            status: StatusCode::CONFLICT,
            errors: conflicts,
        });
    }

    let candidate = SterlingCandidate {
        id: Uuid::new_v4().to_string(),
        client_reference_id: reference,
        given_name: request.given_name.unwrap_or_default(),
        family_name: request.family_name.unwrap_or_default(),
        email,
        phone: request.phone,
        screening_ids: Vec::new(),
    };
    let body = json!(candidate);
    state.candidates.push(candidate);
    let fault = state.faults.take_after();
    Ok(created(fault, body))
}

/// 201 with `body`, unless `fault`, armed to follow an applied create, replaces it.
fn created(fault: Option<Response>, body: Value) -> Response {
    fault.unwrap_or_else(|| (StatusCode::CREATED, Json(body)).into_response())
}

async fn get_candidate(
    State(sim): State<SterlingSim>,
    Path(id): Path<String>,
) -> Result<Json<SterlingCandidate>, SterlingError> {
    let state = sim.lock();
    let candidate = state.candidates.iter().find(|c| c.id == id);
    candidate
        .cloned()
        .map(Json)
        .ok_or_else(|| SterlingError::not_found("candidate", &id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScreeningRequest {
    package_id: Option<String>,
    candidate_id: Option<String>,
    callback: Option<CallbackRequest>,
    invite: Option<InviteRequest>,
}

#[derive(Deserialize)]
struct CallbackRequest {
    uri: Option<String>,
}

#[derive(Deserialize)]
struct InviteRequest {
    method: Option<String>,
}

/// 400 for fields missing, blank or malformed, or an unknown package or candidate; else a
/// new screening, 201, every time: v2 documents no idempotency key.
async fn create_screening(
    State(sim): State<SterlingSim>,
    body: Bytes,
) -> Result<Response, SterlingError> {
    let request: ScreeningRequest = parse(&body)?;
    let uri = request.callback.and_then(|c| c.uri).unwrap_or_default();
    let method = request.invite.and_then(|i| i.method).unwrap_or_default();
    SterlingError::bad_request(missing(&[
        ("packageId", request.package_id.as_deref()),
        ("candidateId", request.candidate_id.as_deref()),
        ("callback.uri", Some(&uri)),
        ("invite.method", Some(&method)),
    ]))?;
    let invite_method = InviteMethod::parse(&method);
    SterlingError::bad_request(
        [
            format_error("callback.uri", is_http_url(&uri), "an absolute http(s) URL"),
            format_error("invite.method", invite_method.is_some(), "email or link"),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )?;
    let (package_id, candidate_id) = (
        request.package_id.unwrap_or_default(),
        request.candidate_id.unwrap_or_default(),
    );

    let mut state = sim.lock();
    let unknown = |field: &str, id: &str| {
        let message = format!("{field} {id} is unknown to this account");
        SterlingError::new(
            StatusCode::BAD_REQUEST,
            &format!("400#{field}?unknown"),
            message,
        )
    };
    let services = state
        .packages
        .iter()
        .find(|p| p.id == package_id && p.active)
        .map(|p| p.components.clone())
        .ok_or_else(|| unknown("packageId", &package_id))?;
    let candidate = state
        .candidates
        .iter()
        .position(|c| c.id == candidate_id)
        .ok_or_else(|| unknown("candidateId", &candidate_id))?;

    let id = (FIRST_SCREENING_ID + state.screenings.len() as u64).to_string();
    let now = timestamp(now_millis());
    let report_items = services
        .into_iter()
        .enumerate()
        .map(|(i, service)| SterlingReportItem {
            id: format!("{id}-{}", i + 1),
            service_type: service,
            status: NOT_STARTED.to_owned(),
            score: None,
            completed_at: None,
            report_url: None,
            updated_at: now.clone(),
        })
        .collect();
    let screening = SterlingScreening {
        id: id.clone(),
        package_id,
        candidate_id,
        status: INITIATED.to_owned(),
        score: None,
        overall_service_status: IN_PRODUCTION.to_owned(),
        report_url: None,
        completed_at: None,
        error_message: None,
        report_items,
        invite: SterlingInvite {
            method: invite_method.unwrap_or(InviteMethod::Link),
            link: format!("{PORTAL_URL}/{}", Uuid::new_v4().simple()),
        },
        admin_url: format!("{ADMIN_URL}/{id}"),
        callback_uri: uri,
        submitted_at: now.clone(),
        updated_at: now,
    };

    let candidate = &mut state.candidates[candidate];
    candidate.screening_ids.push(id);
    let to = candidate.email.clone();
    if screening.invite.method == InviteMethod::Email {
        let portal_url = screening.invite.link.clone();
        state.emails.push(SentEmail { to, portal_url });
    }
    let body = screening.to_json_in(state.vocabulary);
    state.screenings.push(screening);
    let fault = state
        .screening_faults
        .fire()
        .or_else(|| state.faults.take_after());
    Ok(created(fault, body))
}

async fn get_screening(
    State(sim): State<SterlingSim>,
    Path(id): Path<String>,
) -> Result<Json<Value>, SterlingError> {
    let state = sim.lock();
    state
        .screening(&id)
        .map(|screening| Json(screening.to_json_in(state.vocabulary)))
        .ok_or_else(|| SterlingError::not_found("screening", &id))
}
