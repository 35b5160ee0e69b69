//! `/_local/lever-auth`: Lever's one authorization server, for the local stack, where each
//! tenant has its own simulated Lever account. As in Lever, where the admin who signs in
//! belongs to one account, a connection link opens the authorization page of the account of
//! the tenant that issued it, and a code or refresh token is exchanged with the account that
//! issued it. Local only: it is never deployed.

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lever_screening::flows::oauth;
use lever_screening::App;
use serde::Deserialize;
use std::sync::Arc;

/// Where the authorization server is served.
pub const PATH: &str = "/_local/lever-auth";

/// Each tenant's Lever account: tenant id and the simulator's base URL.
#[derive(Clone)]
struct Accounts {
    app: Arc<App>,
    accounts: Arc<Vec<(String, String)>>,
    http: reqwest::Client,
}

/// `GET {PATH}/authorize` and `POST {PATH}/token`.
pub fn router(app: Arc<App>, accounts: Vec<(String, String)>) -> Router {
    Router::new()
        .route(&format!("{PATH}/authorize"), get(authorize))
        .route(&format!("{PATH}/token"), post(token))
        .with_state(Accounts {
            app,
            accounts: Arc::new(accounts),
            http: reqwest::Client::new(),
        })
}

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

/// On to the authorization page of the account of the tenant the link's `state` names.
async fn authorize(
    State(accounts): State<Accounts>,
    Query(query): Query<StateQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let state = query.state.unwrap_or_default();
    let tenant = match oauth::pending_tenant(accounts.app.store().as_ref(), &state).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            return (
                StatusCode::BAD_REQUEST,
                "This connection link is unknown, used or expired.",
            )
                .into_response()
        }
        Err(error) => return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    };
    match accounts
        .accounts
        .iter()
        .find(|(id, _)| id == tenant.as_str())
    {
        Some((_, lever)) => Redirect::to(&format!(
            "{lever}/oauth/authorize?{}",
            raw.unwrap_or_default()
        ))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("Tenant {tenant} has no local Lever account."),
        )
            .into_response(),
    }
}

/// The token request, to each account in turn until one knows the code or refresh token
/// (the others answer `invalid_grant` and change nothing).
async fn token(State(accounts): State<Accounts>, body: Bytes) -> Response {
    let mut last = (StatusCode::BAD_REQUEST, String::new());
    for (_, lever) in accounts.accounts.iter() {
        let sent = accounts
            .http
            .post(format!("{lever}/oauth/token"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await;
        let Ok(response) = sent else { continue };
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let text = response.text().await.unwrap_or_default();
        if !text.contains("\"invalid_grant\"") {
            return json(status, text);
        }
        last = (status, text);
    }
    json(last.0, last.1)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
