//! Lever's OAuth authorization server for partner apps (docs/lever.md), one or more apps
//! each authorized and revoked on its own: the consent
//! screen at `/oauth/authorize` (and Lever's own `/authorize`), and `POST /oauth/token`
//! with single-use codes and rotating refresh tokens.

use super::{random_hex, LeverSim};
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Lever's access-token lifetime (docs/lever.md).
const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;

/// Lever issues a refresh token only when this scope was granted (docs/lever.md).
const OFFLINE_ACCESS: &str = "offline_access";

pub(super) fn routes() -> Router<LeverSim> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        // Lever's own path on its auth host, so that a client given the simulator's base
        // URL as the auth host builds the same URLs as against https://auth.lever.co.
        .route("/authorize", get(authorize))
        .route("/oauth/token", post(issue_oauth_token))
}

#[derive(Debug)]
struct OAuthApp {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

/// What a code or token was granted: by which app (each integration is its own authorized
/// app in Lever, revoked on its own), and the space-separated scopes.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    scope: String,
}

/// Lever's authorization server, for the registered apps. Codes and refresh tokens map
/// to the app and scope they were granted, which the tokens they buy carry on.
#[derive(Debug, Default)]
pub(super) struct OAuthState {
    apps: Vec<OAuthApp>,
    deny_next: bool,
    granted_scopes: Vec<String>,
    codes: HashMap<String, Grant>,
    /// Access token → its grant.
    access_tokens: HashMap<String, Grant>,
    refresh_tokens: HashMap<String, Grant>,
    refresh_count: usize,
    token_delay: Duration,
}

impl OAuthState {
    /// Whether `token` is an access token issued and still valid.
    pub(super) fn accepts(&self, token: &str) -> bool {
        self.access_tokens.contains_key(token)
    }

    /// Whether the access token `token` was granted `scope`.
    pub(super) fn has_scope(&self, token: &str, scope: &str) -> bool {
        self.access_tokens
            .get(token)
            .is_some_and(|granted| granted.scope.split(' ').any(|s| s == scope))
    }

    /// Answers `POST /oauth/token`; the client authenticates with its id and secret in the form.
    fn exchange(&mut self, form: TokenForm) -> Result<Value, OAuthError> {
        let app = self
            .apps
            .iter()
            .find(|app| {
                form.client_id.as_deref() == Some(app.client_id.as_str())
                    && form.client_secret.as_deref() == Some(app.client_secret.as_str())
            })
            .ok_or_else(|| {
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "unknown client_id or wrong client_secret",
                )
            })?;
        let client_id = app.client_id.clone();
        // A code or refresh token works only for the app it was granted to.
        let ours = |grant: &Grant| grant.client_id == client_id;
        let grant = match form.grant_type.as_str() {
            "authorization_code" => {
                if form.redirect_uri.as_deref() != Some(app.redirect_uri.as_str()) {
                    return Err(invalid_grant(
                        "redirect_uri differs from the authorization request's",
                    ));
                }
                // Removing the code is what makes it single-use.
                form.code
                    .and_then(|code| self.codes.remove(&code))
                    .filter(ours)
                    .ok_or_else(|| invalid_grant("unknown, used or revoked authorization code"))?
            }
            "refresh_token" => {
                // Rotation: the presented refresh token is spent by this exchange.
                let grant = form
                    .refresh_token
                    .and_then(|token| self.refresh_tokens.remove(&token))
                    .filter(ours)
                    .ok_or_else(|| invalid_grant("unknown, rotated or revoked refresh token"))?;
                self.refresh_count += 1;
                grant
            }
            other => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported"),
                ))
            }
        };
        Ok(self.issue(grant))
    }

    fn issue(&mut self, grant: Grant) -> Value {
        let access_token = random_hex(48);
        self.access_tokens
            .insert(access_token.clone(), grant.clone());
        let mut body = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "scope": grant.scope,
            "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        });
        if grant.scope.split(' ').any(|s| s == OFFLINE_ACCESS) {
            let refresh_token = random_hex(48);
            body["refresh_token"] = json!(refresh_token);
            self.refresh_tokens.insert(refresh_token, grant);
        }
        body
    }
}

impl LeverSim {
    /// Registers a partner app that `/oauth` authorizes, replacing the one with this
    /// `client_id`. Each is its own entry under Authorized Apps, authorized and revoked on
    /// its own.
    pub fn register_oauth_app(&self, client_id: &str, client_secret: &str, redirect_uri: &str) {
        let apps = &mut self.lock().oauth.apps;
        apps.retain(|app| app.client_id != client_id);
        apps.push(OAuthApp {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        });
    }

    /// The admin clicks "Decline" on the next authorization instead of "Accept".
    pub fn deny_next_authorization(&self) {
        self.lock().oauth.deny_next = true;
    }

    /// The scopes of the last accepted authorization.
    pub fn granted_scopes(&self) -> Vec<String> {
        self.lock().oauth.granted_scopes.clone()
    }

    /// How many refresh-token exchanges have succeeded.
    pub fn refresh_count(&self) -> usize {
        self.lock().oauth.refresh_count
    }

    /// Every access token issued so far stops working, as at the end of its hour; refresh
    /// tokens stay valid.
    pub fn expire_access_tokens(&self) {
        self.lock().oauth.access_tokens.clear();
    }

    /// A Super Admin clicks "Revoke Access" on one app in Authorized Apps: every code,
    /// access token and refresh token of that app (and only that app) stops working. The app
    /// can be authorized again.
    pub fn revoke_app(&self, client_id: &str) {
        let oauth = &mut self.lock().oauth;
        let others = |grant: &Grant| grant.client_id != client_id;
        oauth.codes.retain(|_, grant| others(grant));
        oauth.access_tokens.retain(|_, grant| others(grant));
        oauth.refresh_tokens.retain(|_, grant| others(grant));
    }

    /// `POST /oauth/token` waits this long before answering, so tests can race refreshes.
    pub fn set_token_delay(&self, delay: Duration) {
        self.lock().oauth.token_delay = delay;
    }
}

/// An OAuth error answer, `{"error","error_description"}`, as Lever's auth host sends.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        (self.status, Json(body)).into_response()
    }
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_grant(description: &str) -> OAuthError {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// `GET /oauth/authorize`; `audience` is accepted and ignored, as production and sandbox
/// differ in it.
#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    scope: Option<String>,
}

/// The admin answers the consent screen at once: Accept (a one-time code) unless
/// `deny_next_authorization` armed a Decline.
async fn authorize(
    State(sim): State<LeverSim>,
    Query(query): Query<AuthorizeQuery>,
) -> Result<Response, OAuthError> {
    let mut state = sim.lock();
    let oauth = &mut state.oauth;
    let app = oauth
        .apps
        .iter()
        .find(|app| query.client_id.as_deref() == Some(app.client_id.as_str()))
        .ok_or_else(|| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "unknown client_id",
            )
        })?;
    if query.redirect_uri.as_deref() != Some(app.redirect_uri.as_str()) {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not the app's callback URL",
        ));
    }
    if query.response_type.as_deref() != Some("code") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let mut location = Url::parse(&app.redirect_uri).map_err(|e| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("redirect_uri: {e}"),
        )
    })?;
    {
        let mut pairs = location.query_pairs_mut();
        if std::mem::take(&mut oauth.deny_next) {
            pairs.append_pair("error", "access_denied");
        } else {
            let scopes: Vec<String> = query
                .scope
                .iter()
                .flat_map(|scope| scope.split_whitespace())
                .map(str::to_owned)
                .collect();
            let code = random_hex(32);
            let grant = Grant {
                client_id: app.client_id.clone(),
                scope: scopes.join(" "),
            };
            oauth.codes.insert(code.clone(), grant);
            oauth.granted_scopes = scopes;
            pairs.append_pair("code", &code);
        }
        if let Some(state) = &query.state {
            pairs.append_pair("state", state);
        }
    }
    Ok((
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response())
}

/// `POST /oauth/token`, form-urlencoded, the client authenticating in the body.
#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

async fn issue_oauth_token(
    State(sim): State<LeverSim>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Json<Value>, OAuthError> {
    let delay = sim.lock().oauth.token_delay;
    tokio::time::sleep(delay).await;
    let Form(form) = form.map_err(|rejection| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            rejection.body_text(),
        )
    })?;
    sim.lock().oauth.exchange(form).map(Json)
}
