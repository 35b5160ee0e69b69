//! Connecting a tenant's Lever account as an authorized app (Justifacts, HRLogics, ESR).
//!
//! An operator makes the authorize link (admin command); a Lever Super Admin opens it and
//! accepts; Lever redirects to `lever-oauth-callback` with a code and our `state`. The state
//! names the tenant, expires, and is single use, so a callback nobody asked for (CSRF, or
//! someone else's Lever account) cannot attach tokens to a tenant. The link is never made
//! from a public URL for the same reason.

use super::outbox;
use crate::app::App;
use crate::error::AppError;
use crate::model::now_millis;

/// How long an authorize link works.
pub const STATE_TTL_MS: i64 = 15 * 60 * 1000;

fn state_key(state: &str) -> String {
    format!("lever-oauth-state:{state}")
}

/// The link for the tenant's Lever Super Admin, with a fresh single-use state.
pub async fn authorize_link(app: &App, tenant_id: &str) -> Result<String, AppError> {
    app.store
        .get_tenant(tenant_id)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let oauth = app.oauth_app().await?;
    let state = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let now = now_millis();
    app.store
        .claim(&state_key(&state), tenant_id, now, now + STATE_TTL_MS)
        .await?;
    oauth
        .authorize_link(&state)
        .map_err(|e| AppError::Misconfigured(e.to_string()))
}

/// Lever's redirect back: checks the state, exchanges the code, stores the tokens in the
/// tenant's secret, clears a disconnection and replays the work parked meanwhile.
/// Returns the tenant connected.
pub async fn complete(
    app: &App,
    code: Option<&str>,
    state: Option<&str>,
    error: Option<&str>,
) -> Result<String, AppError> {
    let state = state.ok_or_else(|| AppError::BadRequest("the callback has no state".into()))?;
    // Taken first, even when Lever reports an error: every state works once.
    let tenant_id = app
        .store
        .take(&state_key(state), now_millis())
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(
                "this connection link is unknown, already used or expired; ask for a new one"
                    .into(),
            )
        })?;
    if let Some(error) = error {
        return Err(AppError::BadRequest(format!(
            "Lever did not authorize the app ({error})"
        )));
    }
    let code = code.ok_or_else(|| AppError::BadRequest("the callback has no code".into()))?;
    let oauth = app.oauth_app().await?;
    let tokens = oauth
        .exchange_code(&app.http, &app.settings.retry, code)
        .await
        .map_err(|e| AppError::BadRequest(format!("Lever refused the authorization: {e}")))?;
    app.secrets
        .source()
        .store_lever_tokens(&tenant_id, &tokens)
        .await?;
    app.secrets.invalidate(&tenant_id);
    if let Some(mut tenant) = app.store.get_tenant(&tenant_id).await? {
        if tenant.lever_disconnected.take().is_some() {
            app.store.put_tenant(&tenant).await?;
        }
    }
    let unparked = outbox::unpark_tenant(app, &tenant_id).await?;
    tracing::info!(tenant = %tenant_id, unparked, "Lever connected by OAuth");
    Ok(tenant_id)
}
