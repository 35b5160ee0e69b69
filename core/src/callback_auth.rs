//! Vendor callback authentication with the Standard Webhooks scheme (vendors.md, "Common"):
//! `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}`, five minutes' tolerance, several signatures for rotation.
//! The reference `standardwebhooks` crate does the cryptography; this module adds secret
//! rotation (current and previous secret) and a typed error.

use crate::secrets::RotatingSecret;
use http::HeaderMap;
use secrecy::ExposeSecret;
use standardwebhooks::{Webhook, WebhookError};

pub const HEADER_ID: &str = standardwebhooks::HEADER_WEBHOOK_ID;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallbackAuthError {
    #[error("missing or malformed webhook headers")]
    MissingHeaders,
    #[error("webhook timestamp outside the 5-minute tolerance")]
    Stale,
    #[error("webhook signature does not match")]
    Mismatch,
    #[error("the callback secret for this vendor is not configured or malformed")]
    NotConfigured,
}

/// Verifies a callback against the current and the previous secret. Returns the
/// `webhook-id`, which the caller uses to drop redeliveries.
pub fn verify(
    secret: &RotatingSecret,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, CallbackAuthError> {
    let id = headers
        .get(HEADER_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .ok_or(CallbackAuthError::MissingHeaders)?
        .to_owned();
    let mut outcome = Err(CallbackAuthError::NotConfigured);
    for candidate in secret.candidates() {
        let webhook = Webhook::new(candidate.expose_secret())
            .map_err(|_| CallbackAuthError::NotConfigured)?;
        outcome = match webhook.verify(body, headers) {
            Ok(()) => return Ok(id),
            Err(WebhookError::InvalidSignature) => Err(CallbackAuthError::Mismatch),
            Err(WebhookError::TimestampTooOldError | WebhookError::FutureTimestampError) => {
                Err(CallbackAuthError::Stale)
            }
            Err(_) => Err(CallbackAuthError::MissingHeaders),
        };
        // Headers or timestamp are wrong whatever the secret: no point trying the next.
        if outcome != Err(CallbackAuthError::Mismatch) {
            break;
        }
    }
    outcome.map(|()| id)
}

/// For vendors whose callbacks are unsigned: the callback URL carries the tenant's callback
/// secret (current or previous), compared in constant time.
pub fn verify_url_secret(secret: &RotatingSecret, given: &str) -> Result<(), CallbackAuthError> {
    use subtle::ConstantTimeEq;
    let matches = secret
        .candidates()
        .any(|candidate| bool::from(candidate.expose_secret().as_bytes().ct_eq(given.as_bytes())));
    if matches {
        Ok(())
    } else {
        Err(CallbackAuthError::Mismatch)
    }
}

/// Signs a callback the way a vendor does (simulators, tests and `resign-event`).
pub fn sign_headers(
    secret: &str,
    webhook_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Result<HeaderMap, CallbackAuthError> {
    let signature = Webhook::new(secret)
        .and_then(|w| w.sign(webhook_id, timestamp_secs, body))
        .map_err(|_| CallbackAuthError::NotConfigured)?;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (HEADER_ID, webhook_id.to_owned()),
        (
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            timestamp_secs.to_string(),
        ),
        (standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature),
    ] {
        let value = value
            .parse()
            .map_err(|_| CallbackAuthError::MissingHeaders)?;
        headers.insert(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    const CURRENT: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const PREVIOUS: &str = "whsec_c2VjcmV0LXByZXZpb3VzLXByZXZpb3Vz";

    fn now() -> i64 {
        crate::model::now_millis() / 1000
    }

    fn rotating(current: &str, previous: Option<&str>) -> RotatingSecret {
        RotatingSecret {
            current: SecretString::from(current.to_owned()),
            previous: previous.map(|p| SecretString::from(p.to_owned())),
            previous_expires_at: None,
        }
    }

    #[test]
    fn signed_callback_verifies_and_yields_its_id() {
        let body = br#"{"id":"xref_1","status":"Completed"}"#;
        let headers = sign_headers(CURRENT, "msg_1", now(), body).unwrap();
        assert_eq!(
            verify(&rotating(CURRENT, None), &headers, body),
            Ok("msg_1".into())
        );
    }

    #[test]
    fn previous_secret_is_accepted_during_rotation() {
        let body = b"{}";
        let headers = sign_headers(PREVIOUS, "msg_2", now(), body).unwrap();
        assert_eq!(
            verify(&rotating(CURRENT, Some(PREVIOUS)), &headers, body),
            Ok("msg_2".into())
        );
        assert_eq!(
            verify(&rotating(CURRENT, None), &headers, body),
            Err(CallbackAuthError::Mismatch)
        );
    }

    #[test]
    fn altered_body_stale_timestamp_and_missing_headers_are_rejected() {
        let secret = rotating(CURRENT, None);
        let body = br#"{"status":"Completed"}"#;
        let headers = sign_headers(CURRENT, "msg_3", now(), body).unwrap();
        assert_eq!(
            verify(&secret, &headers, br#"{"status":"Cancelled"}"#),
            Err(CallbackAuthError::Mismatch)
        );
        let old = sign_headers(CURRENT, "msg_4", now() - 301, body).unwrap();
        assert_eq!(verify(&secret, &old, body), Err(CallbackAuthError::Stale));
        assert_eq!(
            verify(&secret, &HeaderMap::new(), body),
            Err(CallbackAuthError::MissingHeaders)
        );
    }

    #[test]
    fn url_secret_accepts_current_or_previous_only() {
        let secret = rotating("url-secret-new", Some("url-secret-old"));
        assert_eq!(verify_url_secret(&secret, "url-secret-new"), Ok(()));
        assert_eq!(verify_url_secret(&secret, "url-secret-old"), Ok(()));
        for wrong in ["url-secret-ne", "url-secret-newx", "", "URL-SECRET-NEW"] {
            assert_eq!(
                verify_url_secret(&secret, wrong),
                Err(CallbackAuthError::Mismatch),
                "{wrong}"
            );
        }
    }

    #[test]
    fn a_malformed_secret_is_reported_as_configuration() {
        let body = b"{}";
        let headers = sign_headers(CURRENT, "msg_5", now(), body).unwrap();
        assert_eq!(
            verify(&rotating("whsec_%%%not-base64", None), &headers, body),
            Err(CallbackAuthError::NotConfigured)
        );
    }
}
