//! Lever OAuth for integrations connected as an authorized app (Lever's developer
//! documentation, *OAuth*): the authorize link, the code exchange, and access tokens that
//! refresh themselves. Access tokens last an hour; every refresh also replaces the refresh
//! token and spends the old one.
//!
//! Refresh tokens rotate on every refresh, so two Lambdas refreshing at once would leave
//! one of them holding a dead token. One invocation per credential refreshes, under a lease
//! in the store that outlives the longest refresh call; the others wait for the new tokens
//! to appear in the tenant's secret. A refresh is never re-sent after a timeout (it may have
//! rotated the token): the waiting and the re-read settle it. Lever refusing the refresh
//! token (`invalid_grant`) means the authorization was revoked, unless another invocation
//! refreshed meanwhile, which a re-read of the secret tells apart.

use super::api::LeverError;
use super::client::AccessTokens;
use crate::clock::{millis, now_millis, Deadline, EpochMillis};
use crate::ids::VendorId;
use crate::retry::{Outbound, Resend, RetryPolicy};
use crate::secrets::cache::CachedSecrets;
use crate::secrets::{CredentialPath, OAuthTokens};
use crate::store::ClaimStore;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the integrations need: read and tag opportunities, read and write notes (a note
/// whose POST timed out is looked for before it is posted again), read postings and stages,
/// manage the webhooks they need; `offline_access` for a refresh token;
/// `confidential:access:admin`, without which Lever refuses the opportunities of
/// confidential postings (a background check for a confidential hire would not be ordered).
pub const SCOPES: [&str; 10] = [
    "offline_access",
    "confidential:access:admin",
    "opportunities:read:admin",
    "opportunities:write:admin",
    "notes:read:admin",
    "notes:write:admin",
    "postings:read:admin",
    "stages:read:admin",
    "webhooks:read:admin",
    "webhooks:write:admin",
];

/// A token is renewed this long before it expires, so no call starts with a dying one.
const EXPIRY_MARGIN_MS: EpochMillis = 60_000;
/// How a waiting invocation polls for another's refresh.
const WAIT_STEP: Duration = Duration::from_millis(200);

/// The token endpoint's calls: two attempts at most, and only a failure known not to have
/// been applied (a 429 or 503, a refused connection) is retried.
fn token_policy(retry: &RetryPolicy) -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        ..retry.clone()
    }
}

/// Longer than the longest refresh call can take (every attempt at its timeout, and the
/// waits between them), so the lease never lapses while its holder may still be refreshing.
fn lease_duration(policy: &RetryPolicy) -> Duration {
    let attempts = policy.max_attempts;
    policy.timeout * attempts
        + policy.max_retry_after.max(policy.max_delay) * attempts
        + Duration::from_secs(10)
}

/// This deployment's Lever OAuth app: a deployment-wide secret document.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthApp {
    /// The app's client id, as Lever issued it.
    pub client_id: String,
    /// The app's client secret, sent in the token requests' form body.
    pub client_secret: SecretString,
    /// This deployment's `…/lever/oauth/callback` URL, as registered with Lever.
    pub redirect_uri: String,
    /// Default `https://auth.lever.co/authorize`; Lever's sandbox has its own auth host.
    #[serde(default = "production_authorize_url")]
    pub authorize_url: String,
    /// Default `https://auth.lever.co/oauth/token`.
    #[serde(default = "production_token_url")]
    pub token_url: String,
    /// The API the tokens are for; default `https://api.lever.co/v1/` (the sandbox's is
    /// `https://api.sandbox.lever.co/v1/`).
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

/// How a call to Lever's OAuth token endpoint, or reading the app's secret, failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The code or refresh token is no longer valid (revoked, expired, used): Lever's
    /// `invalid_grant`.
    #[error("Lever refused the grant")]
    InvalidGrant,
    /// Any other error status (e.g. 401 `invalid_client` for a wrong client secret).
    #[error("Lever's token endpoint refused the request (HTTP {status})")]
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// No answer within the retries; the outcome of the request may be unknown.
    #[error("Lever's token endpoint is unavailable: {0}")]
    Unavailable(String),
    /// A success whose body is not a token response.
    #[error("unexpected token response: {0}")]
    Decode(String),
    /// The app's secret document, or a URL in it, is unusable.
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

/// The deployment's Lever OAuth apps, from one secret document. In Lever each vendor's
/// integration is its own authorized app (Settings › Integrations and API › Authorized
/// Apps), which a Super Admin revokes on its own; so each OAuth vendor may have its own
/// client under `vendors.<vendor>`, which inherits what it omits (`redirect_uri`, the URLs)
/// from the top level. A top-level `client_id` and `client_secret` is the shared app: the
/// one of the vendors without their own, and of the tenant-wide credential. Revoking a
/// shared app stops every integration that uses it.
///
/// ```json
/// { "redirect_uri": "https://…/lever/oauth/callback",
///   "client_id": "shared (optional)", "client_secret": "…",
///   "vendors": { "justifacts": { "client_id": "…", "client_secret": "…" } } }
/// ```
#[derive(Debug, Clone)]
pub struct OAuthApps {
    shared: Option<OAuthApp>,
    vendors: std::collections::BTreeMap<VendorId, OAuthApp>,
}

/// One app's fields as the document gives them, each optional until merged.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
struct AppFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorize_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<String>,
}

impl AppFields {
    /// `self`, with what it omits taken from `base`.
    fn over(self, base: &AppFields) -> AppFields {
        AppFields {
            client_id: self.client_id.or_else(|| base.client_id.clone()),
            client_secret: self.client_secret.or_else(|| base.client_secret.clone()),
            redirect_uri: self.redirect_uri.or_else(|| base.redirect_uri.clone()),
            authorize_url: self.authorize_url.or_else(|| base.authorize_url.clone()),
            token_url: self.token_url.or_else(|| base.token_url.clone()),
            audience: self.audience.or_else(|| base.audience.clone()),
        }
    }

    fn app(self, whose: &str) -> Result<OAuthApp, OAuthError> {
        let value =
            serde_json::to_value(self).map_err(|e| OAuthError::Misconfigured(e.to_string()))?;
        serde_json::from_value(value)
            .map_err(|e| OAuthError::Misconfigured(format!("{whose}: {e}")))
    }
}

#[derive(Deserialize)]
struct AppsDocument {
    #[serde(flatten)]
    base: AppFields,
    #[serde(default)]
    vendors: std::collections::BTreeMap<String, AppFields>,
}

impl OAuthApps {
    /// The apps from their secret document; [`OAuthError::Misconfigured`] naming what is
    /// wrong if it does not parse, names an unknown vendor, or holds no app at all.
    pub fn parse(json: &str) -> Result<Self, OAuthError> {
        let document: AppsDocument =
            serde_json::from_str(json).map_err(|e| OAuthError::Misconfigured(e.to_string()))?;
        let shared = match (&document.base.client_id, &document.base.client_secret) {
            (None, None) => None,
            _ => Some(document.base.clone().app("the shared app")?),
        };
        let mut vendors = std::collections::BTreeMap::new();
        for (name, fields) in document.vendors {
            let vendor = VendorId::parse(&name).ok_or_else(|| {
                OAuthError::Misconfigured(format!("vendors.{name}: no such vendor"))
            })?;
            let whose = format!("vendors.{name}");
            vendors.insert(vendor, fields.over(&document.base).app(&whose)?);
        }
        if shared.is_none() && vendors.is_empty() {
            return Err(OAuthError::Misconfigured(
                "no app: give a client_id and client_secret, at the top level or under vendors.<vendor>".into(),
            ));
        }
        Ok(OAuthApps { shared, vendors })
    }

    /// The app that issues (and refreshes) the grant stored at `path`: the vendor's own,
    /// else the shared one.
    pub fn for_credential(&self, path: CredentialPath) -> Result<&OAuthApp, OAuthError> {
        let own = match path {
            CredentialPath::Vendor(vendor) => self.vendors.get(&vendor),
            CredentialPath::Tenant => None,
        };
        own.or(self.shared.as_ref()).ok_or_else(|| {
            let whose = match path {
                CredentialPath::Vendor(vendor) => format!("{vendor} (vendors.{vendor})"),
                CredentialPath::Tenant => "the tenant-wide credential".to_owned(),
            };
            OAuthError::Misconfigured(format!(
                "the Lever OAuth app secret has no app for {whose}, nor a shared one"
            ))
        })
    }

    /// Whether the grant at `path` comes from the shared app, so that revoking it in Lever
    /// stops every integration that shares it.
    pub fn is_shared(&self, path: CredentialPath) -> bool {
        match path {
            CredentialPath::Vendor(vendor) => !self.vendors.contains_key(&vendor),
            CredentialPath::Tenant => true,
        }
    }
}

impl OAuthApp {
    /// The link a tenant's Lever Super Admin opens to connect the app: `authorize_url` with
    /// `client_id`, `redirect_uri`, `response_type=code`, `state`, `audience` and the
    /// space-separated [`SCOPES`].
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

    /// Exchanges the authorization code Lever redirected back with for the first tokens
    /// (`grant_type=authorization_code`). Codes are single use: never re-sent after an
    /// ambiguous failure.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        code: &str,
    ) -> Result<OAuthTokens, OAuthError> {
        self.token_request(
            http,
            &token_policy(retry),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
            ],
        )
        .await
    }

    /// New tokens for `refresh_token` (`grant_type=refresh_token`), which Lever then
    /// spends: the caller must store the returned refresh token. [`OAuthError::InvalidGrant`]
    /// if Lever no longer accepts it. Prefer [`IntegrationTokens`], which serialises this.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
        refresh_token: &SecretString,
    ) -> Result<OAuthTokens, OAuthError> {
        self.token_request(
            http,
            &token_policy(retry),
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
        // Codes are single use and refresh tokens rotate: never re-sent after a timeout.
        let outbound = Outbound::new(
            "lever",
            retry.clone(),
            Deadline::after(lease_duration(retry)),
        );
        let response = outbound
            .send(Resend::Never, || http.post(&self.token_url).form(&form))
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

/// One integration's access token for the Lever client: current until it nears expiry,
/// then refreshed by exactly one invocation per credential.
pub struct IntegrationTokens {
    tenant: String,
    path: CredentialPath,
    app: Arc<OAuthApp>,
    claims: Arc<dyn ClaimStore>,
    secrets: Arc<CachedSecrets>,
    http: reqwest::Client,
    retry: RetryPolicy,
    current: Mutex<OAuthTokens>,
}

/// What a refresh needs besides the tokens: the deployment's app, the store for the lease,
/// the secrets to write back to, the HTTP client and the retry policy.
pub struct TokenRefresh {
    /// The deployment's OAuth app.
    pub app: Arc<OAuthApp>,
    /// Where the per-credential refresh lease is taken.
    pub claims: Arc<dyn ClaimStore>,
    /// Where the tokens are re-read and the refreshed ones written.
    pub secrets: Arc<CachedSecrets>,
    /// The HTTP client for the token endpoint.
    pub http: reqwest::Client,
    /// Base policy of the token calls (limited to two attempts).
    pub retry: RetryPolicy,
}

impl IntegrationTokens {
    /// The tokens stored at `path` in `tenant`'s secret.
    pub fn new(
        tenant: &str,
        path: CredentialPath,
        tokens: OAuthTokens,
        refresh: TokenRefresh,
    ) -> Self {
        IntegrationTokens {
            tenant: tenant.to_owned(),
            path,
            app: refresh.app,
            claims: refresh.claims,
            secrets: refresh.secrets,
            http: refresh.http,
            retry: refresh.retry,
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
        // One lease per tenant, not per credential: every refresh rewrites the tenant's one
        // secret document, and two concurrent rewrites would lose one rotated refresh token.
        let lease_key = format!("lever-token-refresh:{}", self.tenant);
        let holder = uuid::Uuid::new_v4().to_string();
        let lease = lease_duration(&token_policy(&self.retry));
        let waited_out = now_millis() + millis(lease) + millis(WAIT_STEP);
        while now_millis() < waited_out {
            let stored = self.stored_tokens().await?;
            if let Some(fresh) = fresher(&stored, stale) {
                return Ok(self.adopt(fresh));
            }
            let now = now_millis();
            let claimed = self
                .claims
                .claim(&lease_key, &holder, now, now + millis(lease))
                .await
                .map_err(|e| LeverError::Unavailable(e.to_string()))?;
            if claimed {
                let refreshed = self.refresh(&stored, stale).await;
                // Free the lease whatever happened; the next waiter re-reads the secret.
                let _ = self.claims.release(&lease_key, &holder).await;
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
            .load(&self.tenant)
            .await
            .map_err(|e| LeverError::Unavailable(e.to_string()))?;
        secrets
            .credential_at(self.path)
            .and_then(|credential| credential.oauth.clone())
            .ok_or(LeverError::Disconnected)
    }

    async fn refresh(
        &self,
        stored: &OAuthTokens,
        stale: &SecretString,
    ) -> Result<OAuthTokens, LeverError> {
        let tokens = match self
            .app
            .refresh(&self.http, &self.retry, &stored.refresh_token)
            .await
        {
            Ok(tokens) => tokens,
            Err(OAuthError::InvalidGrant) => {
                // Another invocation may have refreshed (rotating the refresh token) between
                // our read and our request: its tokens are then in the secret.
                if let Some(fresh) = fresher(&self.stored_tokens().await?, stale) {
                    return Ok(fresh);
                }
                tracing::error!(tenant = %self.tenant, credential = %self.path.name(),
                    "Lever refused the refresh token: the authorization was revoked or expired");
                return Err(LeverError::Disconnected);
            }
            Err(e) => return Err(LeverError::Unavailable(e.to_string())),
        };
        let mut keys = self.path.keys();
        keys.push("oauth");
        self.secrets
            .source()
            .set_field(&self.tenant, &keys, tokens.to_document())
            .await
            .map_err(|e| LeverError::Unavailable(e.to_string()))?;
        self.secrets.invalidate(&self.tenant);
        tracing::info!(tenant = %self.tenant, credential = %self.path.name(), "Lever access token refreshed");
        Ok(tokens)
    }
}

/// The stored tokens, if they are not `stale` and not about to expire.
fn fresher(stored: &OAuthTokens, stale: &SecretString) -> Option<OAuthTokens> {
    let replaced = stored.access_token.expose_secret() != stale.expose_secret();
    (replaced && stored.expires_at - EXPIRY_MARGIN_MS > now_millis()).then(|| stored.clone())
}

#[async_trait]
impl AccessTokens for IntegrationTokens {
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
        let apps = OAuthApps::parse(
            r#"{"client_id":"cid","client_secret":"s","redirect_uri":"https://x.example/lever/oauth/callback"}"#,
        )
        .unwrap();
        let app = apps.for_credential(CredentialPath::Tenant).unwrap();
        let link = reqwest::Url::parse(&app.authorize_link("st&te").unwrap()).unwrap();
        assert_eq!(link.host_str(), Some("auth.lever.co"));
        let query: std::collections::HashMap<_, _> = link.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], "cid");
        assert_eq!(query["state"], "st&te");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["audience"], "https://api.lever.co/v1/");
        for scope in ["offline_access", "confidential:access:admin"] {
            assert!(query["scope"].split(' ').any(|s| s == scope), "{scope}");
        }
        assert_eq!(
            query["redirect_uri"],
            "https://x.example/lever/oauth/callback"
        );
    }

    const REDIRECT: &str = "https://x.example/lever/oauth/callback";

    fn apps(json: serde_json::Value) -> Result<OAuthApps, OAuthError> {
        OAuthApps::parse(&json.to_string())
    }

    #[test]
    fn each_vendor_may_have_its_own_app_and_the_others_share_one() {
        let apps = apps(serde_json::json!({
            "redirect_uri": REDIRECT, "client_id": "shared", "client_secret": "s0",
            "vendors": {
                "justifacts": {"client_id": "jf", "client_secret": "s1"},
                "esr": {"client_id": "esr", "client_secret": "s2", "token_url": "https://t.example/token"},
            }
        }))
        .unwrap();
        let of = |path| apps.for_credential(path).unwrap();
        assert_eq!(
            of(CredentialPath::Vendor(VendorId::Justifacts)).client_id,
            "jf"
        );
        assert_eq!(
            of(CredentialPath::Vendor(VendorId::Justifacts)).redirect_uri,
            REDIRECT
        );
        assert_eq!(
            of(CredentialPath::Vendor(VendorId::Esr)).token_url,
            "https://t.example/token"
        );
        assert_eq!(
            of(CredentialPath::Vendor(VendorId::HrLogics)).client_id,
            "shared"
        );
        assert_eq!(of(CredentialPath::Tenant).client_id, "shared");
        assert!(!apps.is_shared(CredentialPath::Vendor(VendorId::Justifacts)));
        assert!(apps.is_shared(CredentialPath::Vendor(VendorId::HrLogics)));
        let link = of(CredentialPath::Vendor(VendorId::Justifacts))
            .authorize_link("s")
            .unwrap();
        assert!(link.contains("client_id=jf"), "{link}");
    }

    #[test]
    fn a_vendor_without_its_own_app_and_no_shared_one_is_told_what_is_missing() {
        let apps = apps(serde_json::json!({
            "redirect_uri": REDIRECT,
            "vendors": {"justifacts": {"client_id": "jf", "client_secret": "s1"}}
        }))
        .unwrap();
        let missing = apps
            .for_credential(CredentialPath::Vendor(VendorId::HrLogics))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("vendors.hrlogics"), "{missing}");
        assert!(apps.for_credential(CredentialPath::Tenant).is_err());
    }

    #[test]
    fn a_document_without_an_app_or_with_an_unknown_vendor_is_refused() {
        for (document, says) in [
            (serde_json::json!({"redirect_uri": REDIRECT}), "no app"),
            (
                serde_json::json!({"redirect_uri": REDIRECT, "vendors": {"acme": {"client_id": "a", "client_secret": "b"}}}),
                "vendors.acme",
            ),
            (
                serde_json::json!({"vendors": {"esr": {"client_id": "a", "client_secret": "b"}}}),
                "redirect_uri",
            ),
            (
                serde_json::json!({"redirect_uri": REDIRECT, "client_id": "only-an-id"}),
                "client_secret",
            ),
        ] {
            let refused = apps(document).unwrap_err().to_string();
            assert!(refused.contains(says), "{refused} should say {says}");
        }
    }
}
