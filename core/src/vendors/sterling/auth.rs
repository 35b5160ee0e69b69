//! Sterling's OAuth2 client credentials (`POST /v2/oauth`, Basic auth with the client id and
//! secret): access tokens cached per API host and client until shortly before they expire,
//! by the adapter instance (so a warm function asks for one once), and renewed once when
//! Sterling answers 401.

use crate::retry::Resend;
use crate::vendors::wire::{decode, unavailable};
use crate::vendors::{VendorAccount, VendorError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A token is renewed this long before it expires, so no call starts with a dying one.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Sterling documents `expires_in: 36000` (10 h) as a number; its sandbox has been seen
/// answering `"3600"`, a string. Both are read; absent means an hour.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    #[serde(default)]
    expires_in: Option<Seconds>,
}

impl Token {
    fn lifetime(&self) -> Duration {
        let seconds = match &self.expires_in {
            Some(Seconds::Number(n)) => Some(*n),
            Some(Seconds::Text(text)) => text.trim().parse().ok(),
            None => None,
        };
        Duration::from_secs(seconds.unwrap_or(3600)).saturating_sub(EXPIRY_MARGIN)
    }
}

/// Tokens by `{host}|{client id}`.
#[derive(Default)]
pub(super) struct TokenCache {
    tokens: Mutex<HashMap<String, (SecretString, Instant)>>,
}

/// One tenant's Sterling client credentials.
pub(super) struct Client<'a> {
    pub(super) account: &'a VendorAccount<'a>,
    cache: &'a TokenCache,
    client_id: &'a SecretString,
    client_secret: &'a SecretString,
}

impl TokenCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (SecretString, Instant)>> {
        // Entries are replaced whole: a poisoned map holds nothing half-written.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<'a> Client<'a> {
    pub(super) fn new(
        account: &'a VendorAccount<'a>,
        cache: &'a TokenCache,
    ) -> Result<Self, VendorError> {
        let secrets = account.secrets;
        Ok(Client {
            account,
            cache,
            client_id: secrets
                .client_id
                .as_ref()
                .ok_or(VendorError::MissingCredential("client_id"))?,
            client_secret: secrets
                .client_secret
                .as_ref()
                .ok_or(VendorError::MissingCredential("client_secret"))?,
        })
    }

    fn cache_key(&self) -> String {
        format!(
            "{}|{}",
            self.account.base_url,
            self.client_id.expose_secret()
        )
    }

    async fn token(&self) -> Result<SecretString, VendorError> {
        let key = self.cache_key();
        if let Some((token, until)) = self.cache.lock().get(&key) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        self.fresh_token().await
    }

    /// A new token from `POST /v2/oauth`, whatever is cached: also the check that Sterling
    /// accepts the client credentials.
    pub(super) async fn fresh_token(&self) -> Result<SecretString, VendorError> {
        let key = self.cache_key();
        let url = self.account.url(&["v2", "oauth"])?;
        let sent = self
            .account
            .outbound
            .send(Resend::Safe, || {
                self.account
                    .http
                    .post(url.clone())
                    .basic_auth(
                        self.client_id.expose_secret(),
                        Some(self.client_secret.expose_secret()),
                    )
                    .form(&[("grant_type", "client_credentials")])
            })
            .await;
        let token: Token = decode(sent.map_err(unavailable)?).await?;
        let until = Instant::now() + token.lifetime();
        let token = SecretString::from(token.access_token);
        self.cache.lock().insert(key, (token.clone(), until));
        Ok(token)
    }

    /// One API call with the cached token; a 401 (token revoked or expired early) gets one
    /// fresh token and one more try. `resend` as for [`crate::retry::Outbound::send`].
    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        resend: Resend,
        request: impl Fn(&SecretString) -> reqwest::RequestBuilder,
    ) -> Result<T, VendorError> {
        for first in [true, false] {
            let token = self.token().await?;
            let sent = self.account.outbound.send(resend, || request(&token)).await;
            match decode(sent.map_err(unavailable)?).await {
                Err(VendorError::Rejected { status: 401, .. }) if first => {
                    self.cache.lock().remove(&self.cache_key());
                }
                other => return other,
            }
        }
        Err(VendorError::Unavailable(
            "Sterling refused a fresh token".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_lifetime_is_read_as_a_number_or_a_string() {
        let parse = |json: &str| serde_json::from_str::<Token>(json).unwrap().lifetime();
        assert_eq!(
            parse(r#"{"access_token":"t","expires_in":36000}"#),
            Duration::from_secs(36000 - 60)
        );
        assert_eq!(
            parse(r#"{"access_token":"t","expires_in":"3600"}"#),
            Duration::from_secs(3600 - 60)
        );
        assert_eq!(parse(r#"{"access_token":"t"}"#), Duration::from_secs(3540));
    }
}
