//! Who may use the console: single-use invitation links an operator prints, the sessions they
//! start, the CSRF token bound to each session, and the limit on invitation attempts.
//!
//! Only hashes of tokens are stored (as [`ClaimStore`] entries, which expire): an invitation
//! is `console-invite:{sha256(token)}` → tenant, taken once; a session is
//! `console-session:{tenant}:{sha256(token)}`, whose presence is the session. The browser
//! holds `{tenant}.{token}` in an HttpOnly, SameSite=Strict cookie. A form's CSRF token is an
//! HMAC of a fixed label under the session token: it is bound to the session, and a page of
//! another origin can neither read it nor derive it.

use crate::clock::EpochMillis;
use crate::error::AppError;
use crate::ids::TenantId;
use crate::store::{ClaimStore, RateLimiter, StoreError, TenantStore};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 24 * 3600 * 1000;
/// How long a session lasts from sign-in (hours, not days).
pub const SESSION_TTL_MS: i64 = 8 * 3600 * 1000;
/// Invitation attempts (views and sign-ins, refused or not) one source may make per minute.
/// A link works once, so a person needs two; more are guesses.
pub const INVITATION_ATTEMPTS_PER_MINUTE: u32 = 10;

/// A token: 64 hex digits (256 random bits).
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invitation_key(token: &str) -> String {
    format!("console-invite:{}", digest(token))
}

fn session_key(tenant: &TenantId, token: &str) -> String {
    format!("console-session:{tenant}:{}", digest(token))
}

/// A printed invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// `{base}/console/invite/{token}`: works once, until `expires_at`.
    pub link: String,
    /// When it stops working, ms since the epoch.
    pub expires_at: EpochMillis,
}

/// A new single-use invitation to `tenant`'s console, valid for [`INVITATION_TTL_MS`].
/// `base` is the deployment's public base URL.
pub async fn invite(
    tenants: &dyn TenantStore,
    claims: &dyn ClaimStore,
    tenant: &TenantId,
    base: &str,
    now: EpochMillis,
) -> Result<Invitation, AppError> {
    tenants
        .get_tenant(tenant)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let token = new_token();
    let expires_at = now + INVITATION_TTL_MS;
    if !claims
        .claim(&invitation_key(&token), tenant.as_str(), now, expires_at)
        .await?
    {
        // 256 random bits collided: nothing sensible to do but refuse.
        return Err(AppError::Store(StoreError::Conflict));
    }
    tracing::info!(%tenant, "console invitation issued");
    Ok(Invitation {
        link: format!("{}/console/invite/{token}", base.trim_end_matches('/')),
        expires_at,
    })
}

/// Whether the invitation `token` can still be used (without using it).
pub async fn invitation_is_open(
    claims: &dyn ClaimStore,
    token: &str,
    now: EpochMillis,
) -> Result<bool, StoreError> {
    if !is_token(token) {
        return Ok(false);
    }
    held(claims, &invitation_key(token), now).await
}

/// Uses the invitation `token` (once) and starts a session for its tenant; `None` for a
/// link that is unknown, used or expired.
pub async fn redeem(
    claims: &dyn ClaimStore,
    token: &str,
    now: EpochMillis,
) -> Result<Option<Session>, StoreError> {
    if !is_token(token) {
        return Ok(None);
    }
    let Some(tenant) = claims.take(&invitation_key(token), now).await? else {
        return Ok(None);
    };
    let Ok(tenant) = TenantId::parse(tenant) else {
        return Ok(None);
    };
    let session = Session {
        tenant,
        token: new_token(),
    };
    let key = session_key(&session.tenant, &session.token);
    if !claims
        .claim(&key, session.tenant.as_str(), now, now + SESSION_TTL_MS)
        .await?
    {
        return Err(StoreError::Conflict);
    }
    tracing::info!(tenant = %session.tenant, "console session started");
    Ok(Some(session))
}

/// Whether `key` holds an entry that has not expired, asked without reading it: a claim
/// that succeeds found nothing (and is released at once); one that fails found the entry.
async fn held(claims: &dyn ClaimStore, key: &str, now: EpochMillis) -> Result<bool, StoreError> {
    let probe = format!("probe:{}", uuid::Uuid::new_v4().simple());
    if claims.claim(key, &probe, now, now + 1).await? {
        claims.release(key, &probe).await?;
        Ok(false)
    } else {
        Ok(true)
    }
}

/// A signed-in console user: one tenant, until the session expires ([`SESSION_TTL_MS`]
/// after sign-in, enforced by the store) or they sign out.
#[derive(Clone)]
pub struct Session {
    /// The only tenant this session sees and changes.
    pub tenant: TenantId,
    token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The cookie's value: `{tenant}.{token}`.
    pub fn cookie_value(&self) -> String {
        format!("{}.{}", self.tenant, self.token)
    }

    /// The session a cookie value names, if it is still open.
    pub async fn from_cookie(
        claims: &dyn ClaimStore,
        value: &str,
        now: EpochMillis,
    ) -> Result<Option<Session>, StoreError> {
        let Some((tenant, token)) = value.split_once('.') else {
            return Ok(None);
        };
        let (Ok(tenant), true) = (TenantId::parse(tenant), is_token(token)) else {
            return Ok(None);
        };
        if !held(claims, &session_key(&tenant, token), now).await? {
            return Ok(None);
        }
        Ok(Some(Session {
            tenant,
            token: token.to_owned(),
        }))
    }

    /// Ends the session (sign-out).
    pub async fn end(&self, claims: &dyn ClaimStore, now: EpochMillis) -> Result<(), StoreError> {
        claims
            .take(&session_key(&self.tenant, &self.token), now)
            .await?;
        tracing::info!(tenant = %self.tenant, "console session ended");
        Ok(())
    }

    /// The CSRF token every form of this session carries.
    pub fn csrf_token(&self) -> String {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.token.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"lever-screening console csrf");
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether a form's `csrf` field is this session's token (constant time).
    pub fn csrf_matches(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|submitted| {
            bool::from(submitted.as_bytes().ct_eq(self.csrf_token().as_bytes()))
        })
    }
}

/// Takes one invitation attempt from `source`'s budget for the current minute (a fixed
/// window, named by its first second); false when the budget is spent. `source` is hashed:
/// no address is stored.
pub async fn take_invitation_attempt(
    limiter: &dyn RateLimiter,
    source: &str,
    now: EpochMillis,
) -> Result<bool, StoreError> {
    let window = now - now.rem_euclid(60_000);
    let key = format!("console-invite:{}", &digest(source)[..16]);
    limiter
        .try_take(&key, window, INVITATION_ATTEMPTS_PER_MINUTE)
        .await
}

/// Seconds until a source's spent invitation budget is renewed (the next minute's window),
/// for the 429's `Retry-After`; at least 1.
pub fn invitation_retry_after_secs(now: EpochMillis) -> i64 {
    (60_000 - now.rem_euclid(60_000) + 999) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::tenant::TenantConfig;

    async fn store_with(tenant: &str) -> (MemoryStore, TenantId) {
        let store = MemoryStore::new();
        let id = TenantId::parse(tenant).unwrap();
        store
            .put_tenant(&TenantConfig {
                tenant_id: id.clone(),
                lever_api_base: TenantConfig::LEVER_PRODUCTION.into(),
                vendors: Default::default(),
                phone_region: None,
            })
            .await
            .unwrap();
        (store, id)
    }

    fn token_of(link: &str) -> &str {
        link.rsplit('/').next().unwrap()
    }

    #[tokio::test]
    async fn an_invitation_works_once_and_stores_no_token() {
        let (store, acme) = store_with("acme").await;
        let now = 1_000_000;
        let invitation = invite(&store, &store, &acme, "https://x.example/", now)
            .await
            .unwrap();
        assert!(invitation
            .link
            .starts_with("https://x.example/console/invite/"));
        let token = token_of(&invitation.link).to_owned();
        assert!(
            store
                .take(&format!("console-invite:{token}"), now)
                .await
                .unwrap()
                .is_none(),
            "the token itself is no key"
        );
        assert!(invitation_is_open(&store, &token, now).await.unwrap());
        assert!(
            invitation_is_open(&store, &token, now).await.unwrap(),
            "looking is not using"
        );
        let session = redeem(&store, &token, now).await.unwrap().unwrap();
        assert_eq!(session.tenant, acme);
        assert!(
            redeem(&store, &token, now).await.unwrap().is_none(),
            "single use"
        );
        assert!(!invitation_is_open(&store, &token, now).await.unwrap());
    }

    #[tokio::test]
    async fn an_expired_invitation_is_refused() {
        let (store, acme) = store_with("acme").await;
        let invitation = invite(&store, &store, &acme, "https://x", 0).await.unwrap();
        let token = token_of(&invitation.link);
        let later = INVITATION_TTL_MS + 1;
        assert!(!invitation_is_open(&store, token, later).await.unwrap());
        assert!(redeem(&store, token, later).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_unknown_tenant_gets_no_invitation() {
        let store = MemoryStore::new();
        let nobody = TenantId::parse("nobody").unwrap();
        let refused = invite(&store, &store, &nobody, "https://x", 0).await;
        assert!(matches!(refused, Err(AppError::NotFound("tenant"))));
    }

    #[tokio::test]
    async fn a_session_is_its_cookie_until_it_expires_or_ends() {
        let (store, acme) = store_with("acme").await;
        let invitation = invite(&store, &store, &acme, "https://x", 0).await.unwrap();
        let session = redeem(&store, token_of(&invitation.link), 0)
            .await
            .unwrap()
            .unwrap();
        let cookie = session.cookie_value();
        let found = Session::from_cookie(&store, &cookie, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.tenant, acme);
        assert_eq!(found.csrf_token(), session.csrf_token());

        // Another tenant's name on the same token is no session.
        let forged = cookie.replacen("acme", "other", 1);
        assert!(Session::from_cookie(&store, &forged, 1)
            .await
            .unwrap()
            .is_none());
        for junk in ["", "acme", "acme.", "acme.zz", "../x.y"] {
            assert!(
                Session::from_cookie(&store, junk, 1)
                    .await
                    .unwrap()
                    .is_none(),
                "{junk}"
            );
        }
        assert!(Session::from_cookie(&store, &cookie, SESSION_TTL_MS + 1)
            .await
            .unwrap()
            .is_none());

        found.end(&store, 2).await.unwrap();
        assert!(Session::from_cookie(&store, &cookie, 3)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn the_csrf_token_is_bound_to_its_session() {
        let (store, acme) = store_with("acme").await;
        let mut sessions = Vec::new();
        for _ in 0..2 {
            let invitation = invite(&store, &store, &acme, "https://x", 0).await.unwrap();
            sessions.push(
                redeem(&store, token_of(&invitation.link), 0)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        let (a, b) = (&sessions[0], &sessions[1]);
        assert!(a.csrf_matches(Some(&a.csrf_token())));
        assert!(!a.csrf_matches(Some(&b.csrf_token())));
        assert!(!a.csrf_matches(None));
        assert!(!a.csrf_matches(Some("")));
        assert!(!format!("{a:?}").contains(&a.token), "Debug shows no token");
    }

    #[tokio::test]
    async fn invitation_attempts_are_limited_per_source_and_minute() {
        let store = MemoryStore::new();
        let minute = 60_000 * 1000;
        for _ in 0..INVITATION_ATTEMPTS_PER_MINUTE {
            assert!(take_invitation_attempt(&store, "198.51.100.7", minute + 5)
                .await
                .unwrap());
        }
        assert!(
            !take_invitation_attempt(&store, "198.51.100.7", minute + 59_000)
                .await
                .unwrap()
        );
        assert!(
            take_invitation_attempt(&store, "203.0.113.9", minute + 59_000)
                .await
                .unwrap()
        );
        assert!(
            take_invitation_attempt(&store, "198.51.100.7", minute + 60_000)
                .await
                .unwrap()
        );
    }

    #[test]
    fn a_throttled_source_is_told_when_its_window_ends() {
        let minute = 60_000 * 1000;
        assert_eq!(invitation_retry_after_secs(minute), 60);
        assert_eq!(invitation_retry_after_secs(minute + 5), 60);
        assert_eq!(invitation_retry_after_secs(minute + 59_000), 1);
        assert_eq!(invitation_retry_after_secs(minute + 59_999), 1);
    }
}
