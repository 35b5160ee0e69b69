//! Vendor callback authentication. The Standard Webhooks scheme (standardwebhooks.com):
//! `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}`, five minutes' tolerance, several signatures for rotation. The
//! reference `standardwebhooks` crate does the cryptography; this module adds secret rotation
//! (current and previous secret), a typed error, and the check that a configured secret is
//! one that can be used at all ([`check_secret`]). Vendors whose callbacks are unsigned
//! (Sterling) are authenticated by a secret in the callback URL instead.
//!
//! Accepted secrets: for Standard Webhooks, `whsec_` followed by standard base64 (padding
//! optional) of at least 16 bytes, nothing else (no whitespace, no pasted `v1,` signature
//! prefix); for a URL secret, at least 16 of `A-Z a-z 0-9 - _`.

use crate::secrets::{RotatingSecret, TenantSecrets};
use crate::vendors::{CallbackAuth, Vendors};
use base64::Engine;
use http::HeaderMap;
use secrecy::ExposeSecret;
use standardwebhooks::{Webhook, WebhookError};

/// Shortest secret, in bytes, that callbacks may be authenticated with.
pub const MIN_SECRET_BYTES: usize = 16;

/// The Standard Webhooks message-id header (`webhook-id`): unique per message, the same on
/// every redelivery of it.
pub const HEADER_ID: &str = standardwebhooks::HEADER_WEBHOOK_ID;

/// The Standard Webhooks timestamp header (`webhook-timestamp`): seconds since the epoch.
pub const HEADER_TIMESTAMP: &str = standardwebhooks::HEADER_WEBHOOK_TIMESTAMP;

/// The Standard Webhooks signature header (`webhook-signature`): `v1,<base64>`, several
/// separated by spaces.
pub const HEADER_SIGNATURE: &str = standardwebhooks::HEADER_WEBHOOK_SIGNATURE;

/// Why a vendor callback was not accepted as authentic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallbackAuthError {
    /// A `webhook-*` header is absent, empty or unparseable (or the `webhook-id` is longer
    /// than 256 bytes); for URL-secret vendors, a callback URL without its secret segment.
    #[error("missing or malformed webhook headers")]
    MissingHeaders,
    /// `webhook-timestamp` is more than five minutes from now, either way.
    #[error("webhook timestamp outside the 5-minute tolerance")]
    Stale,
    /// No secret (current or previous) produces the signature, or the URL secret differs.
    #[error("webhook signature does not match")]
    Mismatch,
    /// The tenant's secret for this vendor is missing or unusable: the tenant's fault, not
    /// the sender's.
    #[error("the callback secret for this vendor is not configured or malformed")]
    NotConfigured,
}

impl CallbackAuthError {
    /// The tenant's configuration is at fault, not the sender.
    pub fn is_configuration(self) -> bool {
        self == CallbackAuthError::NotConfigured
    }
}

/// Why `secret` cannot authenticate callbacks of `scheme`, if it cannot; never quotes it.
pub fn check_secret(scheme: CallbackAuth, secret: &str) -> Result<(), String> {
    if secret.chars().any(char::is_whitespace) {
        return Err("contains whitespace".into());
    }
    match scheme {
        CallbackAuth::StandardWebhooks => {
            if secret.starts_with("v1,") {
                return Err("starts with `v1,`, a signature's prefix: paste the secret".into());
            }
            let encoded = secret
                .strip_prefix("whsec_")
                .ok_or("does not start with `whsec_`")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
                .map_err(|_| "is not standard base64 after `whsec_`".to_owned())?;
            if bytes.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "decodes to {} bytes; at least {MIN_SECRET_BYTES} are needed",
                    bytes.len()
                ));
            }
        }
        // The account's API key, which the vendor issued: only its presence matters here.
        CallbackAuth::ApiKeyHmac { .. } => {
            if secret.is_empty() {
                return Err("is empty".into());
            }
        }
        CallbackAuth::UrlSecret => {
            let url_safe = secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !url_safe || secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "must be at least {MIN_SECRET_BYTES} of A-Z a-z 0-9 - _"
                ));
            }
        }
    }
    Ok(())
}

/// [`check_secret`] on the current and previous values, each problem naming its field
/// (`{field}.current: …`).
pub fn check_rotating(scheme: CallbackAuth, field: &str, secret: &RotatingSecret) -> Vec<String> {
    let values = std::iter::once(("current", Some(&secret.current)))
        .chain(std::iter::once(("previous", secret.previous.as_ref())));
    values
        .filter_map(|(name, value)| {
            let problem = check_secret(scheme, value?.expose_secret()).err()?;
            Some(format!("{field}.{name}: {problem}"))
        })
        .collect()
}

/// Why a Lever webhook's signature token cannot be trusted, if it cannot: blank, a pasted
/// placeholder (`<…>`), whitespace, or shorter than [`MIN_SECRET_BYTES`] (Lever's tokens
/// are far longer; a short key is guessable). Never quotes it.
pub fn check_signature_token(token: &str) -> Result<(), String> {
    if token.contains(['<', '>']) {
        return Err("is a placeholder: paste the token Lever shows".into());
    }
    if token.chars().any(char::is_whitespace) {
        return Err("contains whitespace".into());
    }
    if token.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "has {} characters; Lever's have far more than {MIN_SECRET_BYTES}",
            token.len()
        ));
    }
    Ok(())
}

/// The problems of one webhook's rotating signature token, each naming its field.
pub fn signature_token_problems(event: &str, token: &RotatingSecret) -> Vec<String> {
    let values = std::iter::once(("current", Some(&token.current)))
        .chain(std::iter::once(("previous", token.previous.as_ref())));
    values
        .filter_map(|(name, value)| {
            let problem = check_signature_token(value?.expose_secret()).err()?;
            Some(format!("webhooks.{event}.{name}: {problem}"))
        })
        .collect()
}

/// Every callback secret and webhook signature token of a tenant that cannot be used, each
/// naming its field.
pub fn problems(secrets: &TenantSecrets, vendors: &Vendors) -> Vec<String> {
    let mut problems: Vec<String> = secrets
        .webhooks
        .iter()
        .flat_map(|(event, token)| signature_token_problems(event, token))
        .collect();
    for (vendor, vendor_secrets) in &secrets.vendors {
        let (Some(secret), Some(known)) = (&vendor_secrets.callback_secret, vendors.get(*vendor))
        else {
            continue;
        };
        let field = format!("vendors.{vendor}.callback_secret");
        problems.extend(check_rotating(
            known.description.callback_auth,
            &field,
            secret,
        ));
    }
    problems
}

/// Verifies a callback against the current and the previous secret. Returns the
/// `webhook-id`, which the caller uses to drop redeliveries. A secret that is not a valid
/// `whsec_` key gives [`CallbackAuthError::NotConfigured`].
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
    check_timestamp(headers)?;
    let headers = &with_signatures_as_sent(headers);
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

/// `headers` with every `v1,<signature>` pair that arrived in `webhook-signature`, written
/// as the `standardwebhooks` crate reads them (separated by spaces). A sender may send
/// several (during its own key rotation) in one header, separated by spaces, or in repeated
/// headers, which API Gateway joins with a comma: `v1,<a>,v1,<b>`. Base64 has neither
/// spaces nor commas, so the pairs are a version token followed by its signature.
fn with_signatures_as_sent(headers: &HeaderMap) -> HeaderMap {
    let mut tokens = headers
        .get_all(HEADER_SIGNATURE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([' ', ',']))
        .filter(|token| !token.is_empty());
    let mut pairs = Vec::new();
    while let Some(token) = tokens.next() {
        let is_version = token.len() <= 4
            && token.starts_with('v')
            && token[1..].bytes().all(|b| b.is_ascii_alphanumeric());
        if is_version {
            if let Some(signature) = tokens.next() {
                pairs.push(format!("{token},{signature}"));
            }
        }
    }
    let mut normalized = headers.clone();
    if let Ok(value) = pairs.join(" ").parse() {
        if !pairs.is_empty() {
            normalized.insert(HEADER_SIGNATURE, value);
        }
    }
    normalized
}

/// Standard Webhooks' five-minute tolerance, checked here first with arithmetic that cannot
/// overflow (the `standardwebhooks` crate subtracts a hostile `i64::MIN` timestamp from now).
fn check_timestamp(headers: &HeaderMap) -> Result<(), CallbackAuthError> {
    const TOLERANCE_SECS: i64 = 5 * 60;
    let timestamp: i64 = headers
        .get(HEADER_TIMESTAMP)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or(CallbackAuthError::MissingHeaders)?;
    let now = crate::clock::now_millis() / 1000;
    if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(CallbackAuthError::Stale);
    }
    Ok(())
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

/// The HMAC-SHA256 keyed with the vendor account's API key, as vendors that sign with it
/// (Checkr) compute it. HMAC takes a key of any length, so only an impossible key fails.
fn api_key_hmac(
    api_key: &secrecy::SecretString,
) -> Result<hmac::Hmac<sha2::Sha256>, CallbackAuthError> {
    use hmac::Mac;
    hmac::Hmac::new_from_slice(api_key.expose_secret().as_bytes())
        .map_err(|_| CallbackAuthError::NotConfigured)
}

/// For vendors that sign with their API key (Checkr): `signature` is the lowercase hex
/// HMAC-SHA256 of `body` keyed with `api_key`, compared in constant time.
pub fn verify_hex_hmac(
    api_key: &secrecy::SecretString,
    signature: Option<&http::HeaderValue>,
    body: &[u8],
) -> Result<(), CallbackAuthError> {
    use hmac::Mac;
    let signature = signature
        .and_then(|v| v.to_str().ok())
        .and_then(|v| hex::decode(v.trim()).ok())
        .ok_or(CallbackAuthError::MissingHeaders)?;
    let mut mac = api_key_hmac(api_key)?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| CallbackAuthError::Mismatch)
}

/// Signs a body the way a vendor that signs with its API key does (Checkr's
/// `X-Checkr-Signature`): the lowercase hex HMAC-SHA256 (`events/`, the drills, tests).
pub fn sign_hex_hmac(
    api_key: &secrecy::SecretString,
    body: &[u8],
) -> Result<String, CallbackAuthError> {
    use hmac::Mac;
    let mut mac = api_key_hmac(api_key)?;
    mac.update(body);
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Signs a callback the way a vendor does (simulators, tests and `resign-event`):
/// the three `webhook-*` headers for `body`, `timestamp_secs` in seconds since the epoch.
/// [`CallbackAuthError::NotConfigured`] if `secret` is not a usable `whsec_` key.
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
        crate::clock::now_millis() / 1000
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
    fn an_extreme_timestamp_is_stale_not_a_panic() {
        let secret = rotating(CURRENT, None);
        let body = b"{}";
        for extreme in [i64::MIN, i64::MAX] {
            let mut headers = sign_headers(CURRENT, "msg_5", now(), body).unwrap();
            headers.insert(HEADER_TIMESTAMP, extreme.to_string().parse().unwrap());
            assert_eq!(
                verify(&secret, &headers, body),
                Err(CallbackAuthError::Stale)
            );
        }
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
    fn unusable_secrets_are_named_and_explained() {
        let scheme = CallbackAuth::StandardWebhooks;
        assert_eq!(check_secret(scheme, CURRENT), Ok(()));
        let reason = |secret: &str| check_secret(scheme, secret).unwrap_err();
        assert!(reason("whsec_%%%").contains("base64"));
        assert!(reason("whsec_c2hvcnQ=").contains("decodes to 5 bytes"));
        assert!(reason(&format!("v1,{CURRENT}")).contains("v1,"));
        assert!(reason(&format!("{CURRENT} ")).contains("whitespace"));
        assert!(reason("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").contains("whsec_"));
        let rotating = rotating(CURRENT, Some("whsec_c2hvcnQ="));
        assert_eq!(
            check_rotating(scheme, "vendors.xref.callback_secret", &rotating),
            ["vendors.xref.callback_secret.previous: decodes to 5 bytes; at least 16 are needed"]
        );
        assert!(check_secret(CallbackAuth::UrlSecret, "short").is_err());
        assert!(check_secret(CallbackAuth::UrlSecret, "a-long-enough-url-secret").is_ok());
    }

    /// The signature of a callback signed with `secret`, as its `webhook-signature` reads.
    fn signature(secret: &str, id: &str, body: &[u8]) -> String {
        let headers = sign_headers(secret, id, now(), body).unwrap();
        headers[HEADER_SIGNATURE].to_str().unwrap().to_owned()
    }

    #[test]
    fn any_valid_signature_among_several_verifies_however_they_were_joined() {
        let body = br#"{"id":"xref_1","status":"Completed"}"#;
        let valid = signature(CURRENT, "msg_6", body);
        let stale = signature(PREVIOUS, "msg_6", body);
        let mut headers = sign_headers(CURRENT, "msg_6", now(), body).unwrap();
        let secret = rotating(CURRENT, None);
        for (how, joined) in [
            ("API Gateway's comma", format!("{stale},{valid}")),
            ("the valid one first", format!("{valid},{stale}")),
            ("Standard Webhooks' space", format!("{stale} {valid}")),
            ("both, and spaces after commas", format!("{stale}, {valid}")),
        ] {
            headers.insert(HEADER_SIGNATURE, joined.parse().unwrap());
            assert_eq!(verify(&secret, &headers, body), Ok("msg_6".into()), "{how}");
        }
        // Two headers, as a server that does not join them hands them over.
        headers.insert(HEADER_SIGNATURE, stale.parse().unwrap());
        headers.append(HEADER_SIGNATURE, valid.parse().unwrap());
        assert_eq!(verify(&secret, &headers, body), Ok("msg_6".into()));
        // No valid one among them is still a mismatch, however joined.
        for joined in [
            format!("{stale},{stale}"),
            format!("{stale} {stale}"),
            "v1,".into(),
        ] {
            headers.insert(HEADER_SIGNATURE, joined.parse().unwrap());
            assert_eq!(
                verify(&secret, &headers, body),
                Err(CallbackAuthError::Mismatch),
                "{joined}"
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
