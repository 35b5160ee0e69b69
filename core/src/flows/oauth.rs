//! Connecting an integration to a tenant's Lever account as an authorized app (Justifacts,
//! HRLogics, ESR): each integration gets its own grant, as each vendor's app does in Lever.
//!
//! An operator (or the console) makes the authorize link; a Lever Super Admin opens it and
//! accepts; Lever redirects to `lever-oauth-callback` with a code and our `state`. The state
//! names the tenant and the integration, expires, and is single use, so a callback nobody
//! asked for (CSRF, or someone else's Lever account) cannot attach tokens to a tenant.
//! Connecting again after a revocation starts afresh: nothing that arrived meanwhile is
//! replayed.

use crate::clock::now_millis;
use crate::error::AppError;
use crate::ids::TenantId;
use crate::lever::oauth::OAuthApps;
use crate::retry::RetryPolicy;
use crate::secrets::cache::CachedSecrets;
use crate::secrets::CredentialPath;
use crate::store::{ClaimStore, TenantStore};
use crate::vendors::VendorId;

/// How long an authorize link works.
pub const STATE_TTL_MS: i64 = 15 * 60 * 1000;

fn state_key(state: &str) -> String {
    format!("lever-oauth-state:{state}")
}

/// What a completed connection connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The tenant the state named.
    pub tenant: TenantId,
    /// The integrations now using the new grant.
    pub integrations: Vec<VendorId>,
}

/// The link for the tenant's Lever Super Admin, with a fresh single-use state, to connect
/// `vendor`'s integration (or, with `None`, the tenant-wide credential).
pub async fn authorize_link(
    tenants: &dyn TenantStore,
    claims: &dyn ClaimStore,
    apps: &OAuthApps,
    tenant: &TenantId,
    vendor: Option<VendorId>,
) -> Result<String, AppError> {
    let config = tenants
        .get_tenant(tenant)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    if let Some(vendor) = vendor.filter(|v| config.integration(*v).is_none()) {
        return Err(AppError::Misconfigured(format!(
            "{vendor} is not configured for this tenant"
        )));
    }
    let state = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let target = vendor.map_or("tenant".to_owned(), |v| v.to_string());
    let now = now_millis();
    claims
        .claim(
            &state_key(&state),
            &format!("{tenant}|{target}"),
            now,
            now + STATE_TTL_MS,
        )
        .await?;
    let path = vendor.map_or(CredentialPath::Tenant, CredentialPath::Vendor);
    apps.for_credential(path)
        .and_then(|app| app.authorize_link(&state))
        .map_err(|e| AppError::Misconfigured(e.to_string()))
}

/// The tenant a connection link's `state` was issued for, the link left usable (its 15
/// minutes start again); `None` when unknown, used or expired. The local stack's Lever
/// sign-in uses it to send each tenant's admin to that tenant's own simulated Lever account.
pub async fn pending_tenant(
    claims: &dyn ClaimStore,
    state: &str,
) -> Result<Option<TenantId>, AppError> {
    let key = state_key(state);
    let now = now_millis();
    let Some(target) = claims.take(&key, now).await? else {
        return Ok(None);
    };
    claims.claim(&key, &target, now, now + STATE_TTL_MS).await?;
    Ok(parse_target(&target).map(|(tenant, _)| tenant))
}

/// What Lever's redirect brings back.
pub struct Redirect<'a> {
    /// The authorization code (`code`), on success.
    pub code: Option<&'a str>,
    /// Our `state`, echoed.
    pub state: Option<&'a str>,
    /// Lever's `error` (e.g. `access_denied`) when the admin did not authorize.
    pub error: Option<&'a str>,
}

/// Lever's redirect back: checks the state, exchanges the code, stores the tokens where the
/// link said, and clears a revocation of the integrations using them.
#[allow(clippy::too_many_arguments)]
pub async fn complete(
    tenants: &dyn TenantStore,
    claims: &dyn ClaimStore,
    secrets: &CachedSecrets,
    apps: &OAuthApps,
    http: &reqwest::Client,
    retry: &RetryPolicy,
    redirect: Redirect<'_>,
) -> Result<Connected, AppError> {
    let state = redirect
        .state
        .ok_or_else(|| AppError::BadRequest("the callback has no state".into()))?;
    // Taken first, even when Lever reports an error: every state works once.
    let unknown = || {
        AppError::BadRequest(
            "this connection link is unknown, already used or expired; ask for a new one".into(),
        )
    };
    // Ours are 64 hex characters: anything much longer was never issued.
    if state.len() > 128 {
        return Err(unknown());
    }
    let target = claims
        .take(&state_key(state), now_millis())
        .await?
        .ok_or_else(unknown)?;
    let (tenant, path) = parse_target(&target).ok_or_else(unknown)?;
    if let Some(error) = redirect.error {
        return Err(AppError::BadRequest(format!(
            "Lever did not authorize the app ({error})"
        )));
    }
    let code = redirect
        .code
        .ok_or_else(|| AppError::BadRequest("the callback has no code".into()))?;
    // The app the link was made for: the grant is that app's, and so is its refresh.
    let app = apps
        .for_credential(path)
        .map_err(|e| AppError::Misconfigured(e.to_string()))?;
    let tokens = app
        .exchange_code(http, retry, code)
        .await
        .map_err(|e| match e {
            // The code may or may not be spent at Lever: only a new link is sure to work.
            crate::lever::oauth::OAuthError::Unavailable(_) => {
                AppError::Lever(crate::lever::LeverError::Unavailable(
                    "Lever did not answer in time; ask for a new connection link and try again"
                        .into(),
                ))
            }
            refused => AppError::BadRequest(format!("Lever refused the authorization: {refused}")),
        })?;
    let mut keys = path.keys();
    keys.push("oauth");
    secrets
        .source()
        .set_field_creating(tenant.as_str(), &keys, tokens.to_document())
        .await?;
    secrets.invalidate(tenant.as_str());
    let stored = secrets.source().load(tenant.as_str()).await?;
    let config = tenants
        .get_tenant(&tenant)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let integrations = stored.sharing(path, config.vendors.keys().copied());
    tenants
        .set_lever_access(&tenant, &integrations, None)
        .await?;
    tracing::info!(%tenant, credential = %path.name(), ?integrations, "Lever connected by OAuth");
    Ok(Connected {
        tenant,
        integrations,
    })
}

/// `"{tenant}|tenant"` or `"{tenant}|{vendor}"`.
fn parse_target(target: &str) -> Option<(TenantId, CredentialPath)> {
    let (tenant, credential) = target.split_once('|')?;
    let tenant = TenantId::parse(tenant).ok()?;
    let path = match credential {
        "tenant" => CredentialPath::Tenant,
        vendor => CredentialPath::Vendor(VendorId::parse(vendor)?),
    };
    Some((tenant, path))
}
