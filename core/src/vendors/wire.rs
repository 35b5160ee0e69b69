//! What the wire adapters share: a tenant's account with a vendor, its credentials, and the
//! requests of this product's vendor contract (the JSON-over-HTTPS API this product defines
//! for the vendors that publish none: Xref, Justifacts, HRLogics, ESR): create with an
//! idempotency key, read, cancel, and how their answers become [`VendorError`]s. Errors are
//! `{"code", "message"}`, or Sterling's `{"errors": [{"code", "message"}]}`.

use super::{Cancellation, VendorError};
use crate::retry::{Outbound, Resend, SendError};
use crate::secrets::VendorSecrets;
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Longest part of a vendor's error message kept in [`VendorError::Rejected`].
const MAX_MESSAGE_CHARS: usize = 200;

/// One tenant's account with a vendor, for the calls of one invocation.
pub struct VendorAccount<'a> {
    /// The shared HTTP client.
    pub http: &'a reqwest::Client,
    /// Retries and deadline of this invocation's calls (unpaced: Lever's budget does not
    /// apply to vendors).
    pub outbound: Outbound,
    /// The vendor's API base URL for this tenant's account.
    pub base_url: &'a str,
    /// The tenant's credentials with the vendor.
    pub secrets: &'a VendorSecrets,
}

/// How a vendor's API authenticates us.
pub(crate) enum Credentials<'a> {
    Basic {
        user: &'a SecretString,
        password: &'a SecretString,
    },
    /// HTTP Basic with the key as the user name and no password (Checkr).
    User(&'a SecretString),
    Bearer(&'a SecretString),
    Header {
        name: &'static str,
        key: &'a SecretString,
    },
}

impl Credentials<'_> {
    pub(crate) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credentials::Basic { user, password } => {
                request.basic_auth(user.expose_secret(), Some(password.expose_secret()))
            }
            Credentials::User(key) => request.basic_auth(key.expose_secret(), None::<&str>),
            Credentials::Bearer(token) => request.bearer_auth(token.expose_secret()),
            Credentials::Header { name, key } => request.header(*name, key.expose_secret()),
        }
    }
}

/// A request body as JSON.
pub(crate) fn to_json(body: &impl serde::Serialize) -> Result<serde_json::Value, VendorError> {
    serde_json::to_value(body).map_err(|e| VendorError::Decode(e.to_string()))
}

/// A credential from the tenant's vendor secrets, or an error naming the missing field.
pub(crate) fn required<'a>(
    value: &'a Option<SecretString>,
    name: &'static str,
) -> Result<&'a SecretString, VendorError> {
    value.as_ref().ok_or(VendorError::MissingCredential(name))
}

/// The contract's answer to a create that repeats an earlier one without its idempotency
/// key: `409 {"code": "duplicate_reference", "id": "<the order made the first time>"}`.
#[derive(Deserialize)]
struct Duplicate {
    code: String,
    id: Option<String>,
}

impl VendorAccount<'_> {
    /// `{base}/{segments…}`, each segment percent-encoded into one path segment (vendor ids
    /// are opaque).
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, VendorError> {
        let mut url = Url::parse(self.base_url)
            .map_err(|e| VendorError::Decode(format!("vendor base URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| VendorError::Decode("vendor base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// POSTs `body` to `{base}/{resource…}` with our order id as the idempotency key (so a
    /// retried create returns the same vendor order) and decodes the answer. A 409
    /// `duplicate_reference` naming the order made the first time is that order: `Ok(Err(id))`.
    pub(crate) async fn create<T: DeserializeOwned>(
        &self,
        resource: &[&str],
        credentials: &Credentials<'_>,
        idempotency_key: &str,
        body: &(impl serde::Serialize + Sync),
    ) -> Result<Result<T, String>, VendorError> {
        let response = self
            .send_idempotent(resource, credentials, idempotency_key, body)
            .await?;
        if response.status() == StatusCode::CONFLICT {
            let body = response.bytes().await.unwrap_or_default();
            return match serde_json::from_slice::<Duplicate>(&body) {
                Ok(Duplicate { code, id: Some(id) }) if code == "duplicate_reference" => {
                    Ok(Err(id))
                }
                _ => Err(rejection(StatusCode::CONFLICT, &body)),
            };
        }
        decode(response).await.map(Ok)
    }

    /// `POST {base}/{resource}/{id}/cancel`, the contract's cancel: idempotent, 200 with the
    /// cancelled order, or 409 `order_ended` when the order had already ended.
    pub(crate) async fn cancel(
        &self,
        resource: &[&str],
        vendor_order_id: &str,
        credentials: &Credentials<'_>,
    ) -> Result<Cancellation, VendorError> {
        let path: Vec<&str> = resource
            .iter()
            .copied()
            .chain([vendor_order_id, "cancel"])
            .collect();
        let answer = self
            .call::<serde::de::IgnoredAny>(Method::POST, &path, credentials)
            .await;
        match answer {
            Ok(_) => Ok(Cancellation::Cancelled),
            Err(VendorError::Rejected { status: 409, .. }) => Ok(Cancellation::AlreadyEnded),
            Err(error) => Err(error),
        }
    }

    /// POSTs `body` as JSON to `{base}/{resource…}` with `idempotency_key`, so that a
    /// resend is answered as the first request was (the vendor's own duplicate answers are
    /// the caller's to read).
    async fn send_idempotent(
        &self,
        resource: &[&str],
        credentials: &Credentials<'_>,
        idempotency_key: &str,
        body: &(impl serde::Serialize + Sync),
    ) -> Result<reqwest::Response, VendorError> {
        let url = self.url(resource)?;
        let sent = self
            .outbound
            .send(Resend::Safe, || {
                credentials
                    .apply(self.http.post(url.clone()))
                    .header("Idempotency-Key", idempotency_key)
                    .json(body)
            })
            .await;
        sent.map_err(unavailable)
    }

    /// [`VendorAccount::create`] for a vendor whose idempotency key alone makes a resend
    /// safe (Checkr replays its first answer to a key): the answer decoded, a 409 refused.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        resource: &[&str],
        credentials: &Credentials<'_>,
        idempotency_key: &str,
        body: &(impl serde::Serialize + Sync),
    ) -> Result<T, VendorError> {
        let response = self
            .send_idempotent(resource, credentials, idempotency_key, body)
            .await?;
        decode(response).await
    }

    /// A request without a body (`GET` a resource, `POST …/cancel`), decoded.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        credentials: &Credentials<'_>,
    ) -> Result<T, VendorError> {
        self.call_with(method, segments, &[], credentials).await
    }

    /// [`VendorAccount::call`] with a query string.
    pub(crate) async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        credentials: &Credentials<'_>,
    ) -> Result<T, VendorError> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let sent = self
            .outbound
            .send(Resend::Safe, || {
                credentials.apply(self.http.request(method.clone(), url.clone()))
            })
            .await;
        decode(sent.map_err(unavailable)?).await
    }
}

pub(crate) fn unavailable(error: SendError) -> VendorError {
    if error.is_ambiguous() {
        VendorError::Ambiguous(error.to_string())
    } else {
        VendorError::Unavailable(error.to_string())
    }
}

/// A vendor's answer: its JSON on success, else a [`VendorError`] with its message.
pub(crate) async fn decode<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, VendorError> {
    let status = response.status();
    // Read the bytes ourselves: reqwest's errors carry the URL.
    let body = response
        .bytes()
        .await
        .map_err(|e| VendorError::Unavailable(e.without_url().to_string()))?;
    if !status.is_success() {
        return Err(rejection(status, &body));
    }
    serde_json::from_slice(&body).map_err(|e| VendorError::Decode(e.to_string()))
}

/// A 4xx/5xx as a [`VendorError`]: the vendor's message (`message`, else `code`, else the
/// first of `errors[]`, as Sterling answers), shortened, never more than that of the body.
/// A 5xx is [`VendorError::Unavailable`].
fn rejection(status: StatusCode, body: &[u8]) -> VendorError {
    if status.is_server_error() {
        return VendorError::Unavailable(format!("HTTP {}", status.as_u16()));
    }
    #[derive(Deserialize)]
    struct Message {
        message: Option<String>,
        code: Option<String>,
    }
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<Message>,
    }
    let first = serde_json::from_slice::<Message>(body)
        .ok()
        .filter(|m| m.message.is_some() || m.code.is_some())
        .or_else(|| {
            serde_json::from_slice::<Errors>(body)
                .ok()
                .and_then(|e| e.errors.into_iter().next())
        });
    let message = first
        .and_then(|m| m.message.or(m.code))
        .unwrap_or_else(|| "no message".to_owned())
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect();
    VendorError::Rejected {
        status: status.as_u16(),
        message,
    }
}

/// Vendors want given and family names; Lever has one name field. Split at the last
/// whitespace (`Mary Ann Evans` → `Mary Ann`, `Evans`); a single word is both.
pub fn split_name(name: &str) -> (&str, &str) {
    match name.trim().rsplit_once(char::is_whitespace) {
        Some((given, family)) => (given.trim(), family.trim()),
        None => (name.trim(), name.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_given_and_family() {
        assert_eq!(split_name("Ada Lovelace"), ("Ada", "Lovelace"));
        assert_eq!(split_name("Mary Ann Evans"), ("Mary Ann", "Evans"));
        assert_eq!(split_name("Cher"), ("Cher", "Cher"));
    }

    #[test]
    fn a_refusal_carries_the_vendors_message_in_either_shape() {
        let lever_shape = rejection(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"code":"InvalidRequest","message":"candidate.email must not be empty"}"#,
        );
        assert_eq!(
            lever_shape.refusal(),
            Some("candidate.email must not be empty")
        );
        let sterling_shape = rejection(
            StatusCode::BAD_REQUEST,
            br#"{"errors":[{"code":"400#dob?format","message":"dob is not a date"}]}"#,
        );
        assert_eq!(sterling_shape.refusal(), Some("dob is not a date"));
        let outage = rejection(StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(outage.refusal(), None);
        let credential = rejection(StatusCode::UNAUTHORIZED, b"{}");
        assert_eq!(credential.refusal(), None, "our credential, not the order");
    }
}
