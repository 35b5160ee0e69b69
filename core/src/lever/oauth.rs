//! Lever OAuth for tenants connected as an authorized app (lever-api.md §3): the authorize
//! link, the code exchange, and access tokens that refresh themselves.
//!
//! Refresh tokens rotate on every refresh, so two Lambdas refreshing at once would leave
//! one of them holding a dead token. One invocation per tenant refreshes, under a short
//! lease in the store; the others wait for the new tokens to appear in the tenant's secret.
//! A refresh Lever refuses (`invalid_grant`: the app was revoked in Lever's 'Authorized
//! Apps', or the refresh token expired) disconnects the tenant until it is reconnected.

use super::client::{AccessTokens, LeverError};
use crate::model::{now_millis, Disconnected, EpochMillis};
use crate::retry::{send_with_retry, RetryPolicy};
use crate::secrets::cache::CachedSecrets;
use crate::secrets::OAuthTokens;
use crate::store::Store;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the integrations need: read and tag opportunities, write notes, read postings and
/// stages, manage the Application Created webhook; `offline_access` for a refresh token.
pub const SCOPES: [&str; 8] = [
    "offline_access",
    "opportunities:read:admin",
    "opportunities:write:admin",
    "notes:write:admin",
    "postings:read:admin",
    "stages:read:admin",
    "webhooks:read:admin",
    "webhooks:write:admin",
];

/// A token is renewed this long before it expires, so no call starts with a dying one.
const EXPIRY_MARGIN_MS: EpochMillis = 60_000;
/// How long one refresh may hold the lease.
const LEASE_MS: EpochMillis = 30_000;
/// How long a waiting invocation polls for another's refresh.
const WAIT_STEP: Duration = Duration::from_millis(200);
const WAIT_STEPS: u32 = 75;

/// This deployment's Lever OAuth app: a deployment-wide secret document.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
    /// This deployment's `…/lever/oauth/callback` URL, as registered with Lever.
    pub redirect_uri: String,
    #[serde(default = "production_authorize_url")]
    pub authorize_url: String,
    #[serde(default = "production_token_url")]
    pub token_url: String,
    #[serde(default = "production_audience")]
    pub audience: String,
}

fn production_authorize_url() -> String {
    "https://auth.lever.co/authorize".into()
}
fn production_token_url() -> String {
    "https://auth.lever.co/oauth/token".into()
}
fn production_audience() -> String {
    "https://api.lever.co/v1/".into()
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The code or refresh token is no longer valid (revoked, expired, used).
    #[error("Lever refused the grant")]
    InvalidGrant,
    #[error("Lever's token endpoint refused the request (HTTP {status})")]
    Rejected { status: u16 },
    #[error("Lever's token endpoint is unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected token response: {0}")]
    Decode(String),
    #[error("the OAuth app is misconfigured: {0}")]
    Misconfigured(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
}

impl OAuthApp {
    pub fn parse(json: &str) -> Result<Self, OAuthError> {
        serde_json::from_str(json).map_err(|e| OAuthError::Misconfigured(e.to_string()))
    }

    /// The link a tenant's Lever Super Admin opens to connect the app.
    pub fn authorize_link(&self, state: &str) -> Result<String, OAuthError> {
        let mut url = reqwest::Url::parse(&self.authorize_url)
            .map_err(|e| OAuthError::Misconfigured(format!("authorize_url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", state)
            .append_pair("audience", &self.audience)
            .append_pair("scope", &SCOPES.join(" "));
        Ok(url.into())
    }

    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        code: &str,
    ) -> Result<OAuthTokens, OAuthError> {
        self.token_request(
            http,
            retry,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
            ],
        )
        .await
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        refresh_token: &SecretString,
    ) -> Result<OAuthTokens, OAuthError> {
        self.token_request(
            http,
            retry,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )
        .await
    }

    async fn token_request(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        grant: &[(&str, &str)],
    ) -> Result<OAuthTokens, OAuthError> {
        let mut form = grant.to_vec();
        form.push(("client_id", &self.client_id));
        form.push(("client_secret", self.client_secret.expose_secret()));
        let response = send_with_retry(retry, || http.post(&self.token_url).form(&form))
            .await
            .map_err(|e| OAuthError::Unavailable(e.to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| OAuthError::Unavailable(e.without_url().to_string()))?;
        if !status.is_success() {
            let error = serde_json::from_slice::<TokenError>(&body)
                .map(|e| e.error)
                .unwrap_or_default();
            return Err(if error == "invalid_grant" {
                OAuthError::InvalidGrant
            } else {
                OAuthError::Rejected {
                    status: status.as_u16(),
                }
            });
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| OAuthError::Decode(e.to_string()))?;
        Ok(OAuthTokens {
            access_token: SecretString::from(tokens.access_token),
            refresh_token: SecretString::from(tokens.refresh_token),
            expires_at: now_millis() + tokens.expires_in.unwrap_or(3600) * 1000,
        })
    }
}

/// A tenant's access token for the Lever client: current until it nears expiry, then
/// refreshed by exactly one invocation.
pub struct TenantTokens {
    tenant_id: String,
    app: Arc<OAuthApp>,
    store: Arc<dyn Store>,
    secrets: Arc<CachedSecrets>,
    http: reqwest::Client,
    retry: RetryPolicy,
    current: Mutex<OAuthTokens>,
}

impl TenantTokens {
    pub fn new(
        tenant_id: &str,
        tokens: OAuthTokens,
        app: Arc<OAuthApp>,
        store: Arc<dyn Store>,
        secrets: Arc<CachedSecrets>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        TenantTokens {
            tenant_id: tenant_id.to_owned(),
            app,
            store,
            secrets,
            http,
            retry,
            current: Mutex::new(tokens),
        }
    }

    fn held(&self) -> OAuthTokens {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn adopt(&self, tokens: OAuthTokens) -> SecretString {
        let access = tokens.access_token.clone();
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = tokens;
        access
    }

    /// Replaces `stale`: adopts tokens another invocation stored meanwhile, else refreshes
    /// under the lease, else waits for the lease holder's tokens.
    async fn replace(&self, stale: &SecretString) -> Result<SecretString, LeverError> {
        let lease = format!("lever-token-refresh:{}", self.tenant_id);
        let holder = uuid::Uuid::new_v4().to_string();
        for _ in 0..WAIT_STEPS {
            let stored = self.stored_tokens().await?;
            let replaced = stored.access_token.expose_secret() != stale.expose_secret();
            if replaced && stored.expires_at - EXPIRY_MARGIN_MS > now_millis() {
                return Ok(self.adopt(stored));
            }
            let now = now_millis();
            let claimed = self
                .store
                .claim(&lease, &holder, now, now + LEASE_MS)
                .await
                .map_err(|e| LeverError::Unavailable(e.to_string()))?;
            if claimed {
                let refreshed = self.refresh(&stored).await;
                // Free the lease whatever happened; the next waiter re-reads the secret.
                let _ = self.store.take(&lease, now_millis()).await;
                return refreshed.map(|tokens| self.adopt(tokens));
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
        Err(LeverError::Unavailable(
            "another invocation is still refreshing the Lever token".into(),
        ))
    }

    async fn stored_tokens(&self) -> Result<OAuthTokens, LeverError> {
        let secrets = self
            .secrets
            .source()
            .load(&self.tenant_id)
            .await
            .map_err(|e| LeverError::Unavailable(e.to_string()))?;
        secrets.lever.oauth.ok_or(LeverError::Disconnected)
    }

    async fn refresh(&self, stored: &OAuthTokens) -> Result<OAuthTokens, LeverError> {
        let tokens = match self
            .app
            .refresh(&self.http, &self.retry, &stored.refresh_token)
            .await
        {
            Ok(tokens) => tokens,
            Err(OAuthError::InvalidGrant) => {
                self.disconnect().await;
                return Err(LeverError::Disconnected);
            }
            Err(e) => return Err(LeverError::Unavailable(e.to_string())),
        };
        self.secrets
            .source()
            .store_lever_tokens(&self.tenant_id, &tokens)
            .await
            .map_err(|e| LeverError::Unavailable(e.to_string()))?;
        self.secrets.invalidate(&self.tenant_id);
        tracing::info!(tenant = %self.tenant_id, "Lever access token refreshed");
        Ok(tokens)
    }

    /// Marks the tenant disconnected, so nothing retries against a revoked app.
    async fn disconnect(&self) {
        tracing::error!(tenant = %self.tenant_id,
            "Lever refused the refresh token (app revoked in Lever or token expired): \
             tenant disconnected until it is reconnected");
        match self.store.get_tenant(&self.tenant_id).await {
            Ok(Some(mut tenant)) => {
                tenant.lever_disconnected = Some(Disconnected {
                    reason: "Lever refused the refresh token; reconnect the app".into(),
                    at: now_millis(),
                });
                if let Err(error) = self.store.put_tenant(&tenant).await {
                    tracing::error!(tenant = %self.tenant_id, %error, "could not record the disconnection");
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(tenant = %self.tenant_id, %error, "could not record the disconnection")
            }
        }
    }
}

#[async_trait]
impl AccessTokens for TenantTokens {
    async fn current(&self) -> Result<SecretString, LeverError> {
        let held = self.held();
        if held.expires_at - EXPIRY_MARGIN_MS > now_millis() {
            return Ok(held.access_token);
        }
        self.replace(&held.access_token).await
    }

    async fn after_rejection(&self, rejected: &SecretString) -> Result<SecretString, LeverError> {
        self.replace(rejected).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_link_carries_state_scopes_and_audience() {
        let app = OAuthApp::parse(
            r#"{"client_id":"cid","client_secret":"s","redirect_uri":"https://x.example/lever/oauth/callback"}"#,
        )
        .unwrap();
        let link = reqwest::Url::parse(&app.authorize_link("st&te").unwrap()).unwrap();
        assert_eq!(link.host_str(), Some("auth.lever.co"));
        let query: std::collections::HashMap<_, _> = link.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], "cid");
        assert_eq!(query["state"], "st&te");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["audience"], "https://api.lever.co/v1/");
        assert!(query["scope"].split(' ').any(|s| s == "offline_access"));
        assert_eq!(
            query["redirect_uri"],
            "https://x.example/lever/oauth/callback"
        );
    }
}
