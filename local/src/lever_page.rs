//! `/_local/lever/{tenant}`: a page to act as a recruiter in a local tenant's simulated Lever
//! account — add a candidate, move it to a stage, archive or restore it, tag it, delete it —
//! each action sending the signed webhooks Lever would send. The page shows each candidate
//! as Lever would, with the notes the product wrote. Local only: it is never deployed.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lever_screening_simulators::{DriveError, Driven, LeverSim, NewCandidate};
use serde::Deserialize;
use std::sync::Arc;

/// Where the pages are served.
pub const PATH: &str = "/_local/lever";

/// One local tenant's Lever account.
#[derive(Clone)]
pub struct Account {
    pub tenant: String,
    pub lever: LeverSim,
}

type Accounts = Arc<Vec<Account>>;

/// The pages of every local tenant's Lever account.
pub fn router(accounts: Vec<Account>) -> Router {
    Router::new()
        .route(PATH, get(index))
        .route(&format!("{PATH}/{{tenant}}"), get(page))
        .route(
            &format!("{PATH}/{{tenant}}/candidates"),
            post(create_candidate),
        )
        .route(
            &format!("{PATH}/{{tenant}}/candidates/{{id}}/{{action}}"),
            post(act),
        )
        .with_state(Arc::new(accounts))
}

#[derive(Template)]
#[template(path = "lever.html")]
struct LeverPage<'a> {
    tenant: &'a str,
    /// Every local tenant, and whether it is this page's.
    tenants: Vec<(&'a str, bool)>,
    notice: Option<String>,
    action: String,
    stages: Vec<(String, String)>,
    postings: Vec<(String, String)>,
    candidates: Vec<CandidateCard>,
}

/// A candidate as the page shows it.
struct CandidateCard {
    id: String,
    name: String,
    contact: String,
    stage_id: String,
    stage: String,
    archived: bool,
    tags: Vec<String>,
    notes: Vec<String>,
    action: String,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn index(State(accounts): State<Accounts>) -> Response {
    match accounts.first() {
        Some(account) => Redirect::to(&format!("{PATH}/{}", account.tenant)).into_response(),
        None => refusal(
            StatusCode::NOT_FOUND,
            "No local tenant has a Lever account.",
        ),
    }
}

async fn page(
    State(accounts): State<Accounts>,
    Path(tenant): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let Some(account) = find(&accounts, &tenant) else {
        return unknown_tenant(&tenant).into_response();
    };
    let lever = &account.lever;
    let stages = lever.stages();
    let stage_text = |id: &str| {
        stages
            .iter()
            .find(|(stage_id, _)| stage_id == id)
            .map_or_else(|| id.to_owned(), |(_, text)| text.clone())
    };
    let base = format!("{PATH}/{tenant}");
    let candidates = lever
        .opportunities()
        .into_iter()
        .map(|o| CandidateCard {
            contact: o
                .emails
                .iter()
                .chain(&o.phones)
                .cloned()
                .collect::<Vec<_>>()
                .join(" · "),
            stage: stage_text(&o.stage),
            stage_id: o.stage.clone(),
            archived: lever.archived(&o.id).is_some(),
            notes: lever.notes(&o.id).into_iter().map(|n| n.value).collect(),
            action: format!("{base}/candidates/{}", o.id),
            id: o.id,
            name: o.name,
            tags: o.tags,
        })
        .collect();
    let page = LeverPage {
        tenant: &account.tenant,
        tenants: accounts
            .iter()
            .map(|a| (a.tenant.as_str(), a.tenant == tenant))
            .collect(),
        notice: query.notice,
        action: format!("{base}/candidates"),
        postings: lever
            .postings()
            .into_iter()
            .map(|p| (p.id, p.text))
            .collect(),
        stages,
        candidates,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "the local Lever page did not render");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page did not render.",
            )
        }
    }
}

#[derive(Deserialize)]
struct CandidateForm {
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    posting: String,
    #[serde(default)]
    stage: String,
}

async fn create_candidate(
    State(accounts): State<Accounts>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CandidateForm>,
) -> Response {
    let account = match form_account(&accounts, &tenant, &headers) {
        Ok(account) => account,
        Err(refused) => return refused.into_response(),
    };
    let name = form.name.trim().to_owned();
    let candidate = NewCandidate {
        name: form.name,
        email: Some(form.email),
        phone: Some(form.phone),
        posting: Some(form.posting),
        stage: Some(form.stage),
    };
    let result = account.lever.create_candidate(candidate).await;
    done(&tenant, result, format!("Added {name}."))
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    tag: String,
}

/// `stage`, `archive`, `unarchive`, `tag` or `delete` on one candidate.
async fn act(
    State(accounts): State<Accounts>,
    Path((tenant, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let account = match form_account(&accounts, &tenant, &headers) {
        Ok(account) => account,
        Err(refused) => return refused.into_response(),
    };
    let lever = &account.lever;
    let name = lever
        .opportunity(&id)
        .map_or_else(|| id.clone(), |o| o.name);
    match action.as_str() {
        "stage" => {
            let stage = lever
                .stages()
                .into_iter()
                .find(|(stage_id, _)| *stage_id == form.stage)
                .map_or_else(|| form.stage.clone(), |(_, text)| text);
            let result = lever.advance_candidate(&id, &form.stage).await;
            done(&tenant, result, format!("Moved {name} to {stage}."))
        }
        "archive" => {
            let result = lever.archive_candidate(&id, Some(form.reason)).await;
            done(&tenant, result, format!("Archived {name}."))
        }
        "unarchive" => {
            let result = lever.restore_candidate(&id).await;
            done(&tenant, result, format!("Restored {name}."))
        }
        "delete" => {
            let result = lever.delete_candidate(&id).await;
            done(&tenant, result, format!("Deleted {name}."))
        }
        "tag" => {
            let result = lever.tag_candidate(&id, &form.tag).map(|()| Driven {
                opportunity_id: id.clone(),
                deliveries: Vec::new(),
            });
            let tag = form.tag.trim().to_owned();
            done(
                &tenant,
                result,
                format!("Tagged {name} \u{201c}{tag}\u{201d}."),
            )
        }
        _ => refusal(StatusCode::NOT_FOUND, "No such action."),
    }
}

/// Back to the page (POST/redirect/GET), with a notice saying what happened and where each
/// webhook went.
fn done(tenant: &str, result: Result<Driven, DriveError>, what: String) -> Response {
    let notice = match result {
        Ok(driven) => {
            let mut notice = what;
            for delivery in &driven.deliveries {
                let answer = match delivery.status {
                    Some(status) if delivery.delivered() => format!("answered {status}"),
                    Some(status) => format!("answered {status}; Lever will retry"),
                    None => "not reachable; Lever will retry".to_owned(),
                };
                notice.push_str(&format!(" Lever sent {}: {answer}.", delivery.event));
            }
            notice
        }
        Err(error) => format!("Lever refused: {error}."),
    };
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", &notice)
        .finish();
    Redirect::to(&format!("{PATH}/{tenant}?{query}")).into_response()
}

fn find<'a>(accounts: &'a Accounts, tenant: &str) -> Option<&'a Account> {
    accounts.iter().find(|account| account.tenant == tenant)
}

/// The tenant's account a form acts on; refused when the tenant is unknown or the form was
/// posted from another site (the page is for the person at this machine only).
fn form_account<'a>(
    accounts: &'a Accounts,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<&'a Account, (StatusCode, String)> {
    let account = find(accounts, tenant).ok_or_else(|| unknown_tenant(tenant))?;
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(account);
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) if origin == format!("http://{host}") => Ok(account),
        _ => Err((
            StatusCode::FORBIDDEN,
            "Forms from other sites are refused.".to_owned(),
        )),
    }
}

fn unknown_tenant(tenant: &str) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("No local tenant {tenant:?} has a Lever account."),
    )
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}
