//! `events/` are API Gateway events whose signatures expire (Lever's `triggeredAt` window,
//! Standard Webhooks' five minutes). `resign` refreshes one with the demo tenant's secrets
//! so `cargo lambda invoke` and `sam local invoke` see a current, valid request.

use crate::demo_tenant as demo;
use lever_screening::callback_auth;
use lever_screening::clock::now_millis;
use lever_screening::lever::webhook::{self, WebhookKind};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the event has no {0}")]
    Missing(&'static str),
    #[error("no signing scheme for path {0}")]
    UnknownRoute(String),
    #[error("cannot sign: {0}")]
    Signing(#[from] callback_auth::CallbackAuthError),
    #[error("only the demo tenant's events can be signed (its secrets are the demo ones), not tenant `{0}`'s")]
    OtherTenant(String),
}

/// Returns the event with a fresh timestamp and a valid signature for its route.
/// Events that are no signed HTTP request (an SQS batch, a schedule, the OAuth redirect,
/// a console page) come back unchanged: there is nothing to sign. Only the demo tenant's
/// events can be signed (its secrets are the documented demo ones).
pub fn resign(event_json: &str) -> Result<Value, EventError> {
    let mut event: Value = serde_json::from_str(event_json)?;
    let Some(path) = event["rawPath"].as_str().map(str::to_owned) else {
        return Ok(event);
    };
    if path.starts_with("/lever/oauth/") || path.starts_with("/console/") || event["body"].is_null()
    {
        // The OAuth redirect's check is its single-use state; the console's, its session.
        return Ok(event);
    }
    let tenant = event["pathParameters"]["tenant"]
        .as_str()
        .unwrap_or_default();
    if tenant != demo::TENANT {
        return Err(EventError::OtherTenant(tenant.to_owned()));
    }
    let body = event["body"]
        .as_str()
        .ok_or(EventError::Missing("body"))?
        .to_owned();
    let now = now_millis();
    if let Some(signature_token) = lever_token(&path) {
        let mut delivery: Value = serde_json::from_str(&body)?;
        let token = fresh_token();
        delivery["signature"] = webhook::sign(signature_token, &token, now).into();
        delivery["triggeredAt"] = now.into();
        delivery["token"] = token.into();
        event["body"] = delivery.to_string().into();
    } else if path.starts_with("/callbacks/sterling/") {
        // Unsigned: the secret in the URL is what authenticates it, and it does not expire.
        return Ok(event);
    } else if path.starts_with("/callbacks/checkr/") {
        // Checkr signs the body alone, with the account's API key.
        let key = secrecy::SecretString::from(demo::CHECKR_API_KEY);
        event["headers"]["x-checkr-signature"] =
            callback_auth::sign_hex_hmac(&key, body.as_bytes())?.into();
    } else if let Some(secret) = standard_webhooks_secret(&path) {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let signed = callback_auth::sign_headers(secret, &id, now / 1000, body.as_bytes())?;
        for (name, value) in &signed {
            event["headers"][name.as_str()] = value.to_str().unwrap_or_default().into();
        }
    } else {
        return Err(EventError::UnknownRoute(path));
    }
    event["requestContext"]["timeEpoch"] = now.into();
    Ok(event)
}

/// The demo tenant's signature token for a Lever webhook route.
fn lever_token(path: &str) -> Option<&'static str> {
    WebhookKind::ALL
        .into_iter()
        .zip(demo::WEBHOOK_TOKENS)
        .find(|(kind, _)| path.starts_with("/lever/") && path.ends_with(kind.path()))
        .map(|(_, token)| token)
}

/// The demo secret a vendor signs its (Standard Webhooks) callbacks with.
fn standard_webhooks_secret(path: &str) -> Option<&'static str> {
    [
        ("/callbacks/xref/", demo::XREF_CALLBACK_SECRET),
        ("/callbacks/justifacts/", demo::JUSTIFACTS_CALLBACK_SECRET),
        ("/callbacks/hrlogics/", demo::HRLOGICS_CALLBACK_SECRET),
        ("/callbacks/esr/", demo::ESR_CALLBACK_SECRET),
    ]
    .into_iter()
    .find(|(prefix, _)| path.starts_with(prefix))
    .map(|(_, secret)| secret)
}

/// 48 characters, like Lever's delivery tokens.
fn fresh_token() -> String {
    let uuid = || uuid::Uuid::new_v4().simple().to_string();
    format!("{}{}", uuid(), uuid())[..48].to_owned()
}
