//! The one error type the flows return. It owns its mapping: the HTTP status and code a
//! sender is answered with ([`AppError::status`], [`AppError::code`],
//! [`AppError::public_message`]) and what the worker does with a message that failed with it
//! ([`AppError::retry`]), so neither the HTTP layer nor the worker matches inner variants.
//! The `Display` text is safe to log: no secrets, no candidate PII.

use crate::callback_auth::CallbackAuthError;
use crate::lever::webhook::SignatureError;
use crate::lever::LeverError;
use crate::queue::QueueError;
use crate::secrets::SecretsError;
use crate::store::StoreError;
use crate::vendors::VendorError;
use crate::work::Retry;
use http::StatusCode;

/// Everything a flow can fail with; each variant's status, code and retry are decided in
/// the methods below.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed JSON, missing fields, a bad path parameter. 400, never retried.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The route exists but not for this method. 405, with an `Allow` header.
    #[error("method not allowed (allowed: {allowed})")]
    MethodNotAllowed {
        /// The methods the route takes, as the `Allow` header lists them (`GET, POST`).
        allowed: &'static str,
    },
    /// A body whose `Content-Type` is not what the endpoint takes. 415.
    #[error("unsupported content type: expected {expected}")]
    UnsupportedMediaType {
        /// The content type the endpoint takes (`application/json`, a form).
        expected: &'static str,
    },
    /// A body over [`Settings::max_body_bytes`](crate::config::Settings::max_body_bytes). 413.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Unknown tenant or vendor, or an order this tenant does not have; names the kind. 404.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A Lever webhook whose signature or `triggeredAt` was refused. 401.
    #[error("lever signature rejected: {0}")]
    LeverSignature(#[from] SignatureError),
    /// A vendor callback that failed authentication: 401, or 500 (and retried later) when
    /// the tenant's own secret is missing or unusable.
    #[error("callback authentication failed: {0}")]
    CallbackAuth(#[from] CallbackAuthError),
    /// Well-formed, but a value we cannot act on (e.g. a status word the vendor never uses).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// The same delivery (or the same order's Lever sync) is being processed by another
    /// invocation; the sender or the queue retries. 409.
    #[error("this delivery is already being processed")]
    InProgress,
    /// The tenant's configuration or secret lacks what this request needs, or holds a value
    /// that cannot be used; the message names the field. An operator has to fix it.
    #[error("tenant misconfigured: {0}")]
    Misconfigured(String),
    /// The store failed: 503 and retried when unavailable or in conflict, else 500.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The secrets backend failed: 503 and retried when unavailable, else 500.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The work queue failed: 503, retried.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A Lever API call failed; [`LeverError::retry`] decides.
    #[error(transparent)]
    Lever(#[from] LeverError),
    /// A vendor API call failed; [`VendorError::retry`] decides.
    #[error(transparent)]
    Vendor(#[from] VendorError),
}

impl AppError {
    /// The HTTP status a sender is answered with: 4xx for the request's own faults, 503 for
    /// whatever [`retry`](Self::retry) says may pass, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_)
            | AppError::Store(StoreError::Invalid(_))
            | AppError::Secrets(SecretsError::TooLarge { .. }) => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::LeverSignature(_) => StatusCode::UNAUTHORIZED,
            AppError::CallbackAuth(e) if e.is_configuration() => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::CallbackAuth(_) => StatusCode::UNAUTHORIZED,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::InProgress => StatusCode::CONFLICT,
            AppError::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ if self.retry() == Retry::Later => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable `error.code` of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) | AppError::Store(StoreError::Invalid(_)) => "bad_request",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::UnsupportedMediaType { .. } => "unsupported_media_type",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::NotFound(_) => "not_found",
            AppError::Unprocessable(_) => "unprocessable",
            AppError::InProgress => "in_progress",
            AppError::Misconfigured(_) => "tenant_misconfigured",
            AppError::CallbackAuth(e) if e.is_configuration() => "tenant_misconfigured",
            AppError::LeverSignature(_) | AppError::CallbackAuth(_) => "unauthorized",
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        }
    }

    /// What the sender is told. Authentication failures say no more than that (no hint
    /// which check failed); server errors stay generic; client errors explain themselves.
    pub fn public_message(&self) -> String {
        match self {
            AppError::LeverSignature(SignatureError::Stale | SignatureError::Future) => {
                "triggeredAt is outside the accepted window".into()
            }
            _ if self.status() == StatusCode::UNAUTHORIZED => "authentication failed".into(),
            _ if self.code() == "tenant_misconfigured" => {
                "this tenant is not fully configured".into()
            }
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                "temporarily unavailable; retry later".into()
            }
            _ if self.status().is_server_error() => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// The `Allow` header a 405 carries (RFC 9110 §15.5.6): the methods the route takes.
    pub fn allow(&self) -> Option<&'static str> {
        match self {
            AppError::MethodNotAllowed { allowed } => Some(allowed),
            _ => None,
        }
    }

    /// Adds to `headers` the `Allow` header this error's answer must carry, if any.
    pub fn add_allow(&self, headers: &mut http::HeaderMap) {
        if let Some(allowed) = self.allow() {
            headers.insert(http::header::ALLOW, http::HeaderValue::from_static(allowed));
        }
    }

    /// What the worker does with a message that failed with this error: outages,
    /// conflicts and misconfiguration are retried later, a revoked credential disables the
    /// integration, anything else is dead-lettered at once.
    pub fn retry(&self) -> Retry {
        match self {
            AppError::Store(StoreError::Unavailable(_) | StoreError::Conflict)
            | AppError::Secrets(SecretsError::Unavailable(_))
            | AppError::Queue(_)
            | AppError::InProgress
            | AppError::Misconfigured(_) => Retry::Later,
            AppError::Lever(e) => e.retry(),
            AppError::Vendor(e) => e.retry(),
            AppError::CallbackAuth(e) if e.is_configuration() => Retry::Later,
            _ => Retry::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_503_and_retried_later() {
        for error in [
            AppError::Store(StoreError::Unavailable("x".into())),
            AppError::Secrets(SecretsError::Unavailable("x".into())),
            AppError::Lever(LeverError::Unavailable("x".into())),
            AppError::Vendor(VendorError::Unavailable("x".into())),
        ] {
            assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE, "{error}");
            assert_eq!(error.code(), "unavailable");
            assert_eq!(error.retry(), Retry::Later);
            assert_eq!(
                error.public_message(),
                "temporarily unavailable; retry later"
            );
        }
    }

    #[test]
    fn a_revoked_credential_disables_instead_of_retrying() {
        let revoked = AppError::Lever(LeverError::Unauthorized { status: 401 });
        assert_eq!(revoked.retry(), Retry::Disabled);
        assert_eq!(
            AppError::Lever(LeverError::Disconnected).retry(),
            Retry::Disabled
        );
    }

    #[test]
    fn configuration_problems_are_500_and_name_no_field_to_the_sender() {
        let error = AppError::Misconfigured("vendors.xref.callback_secret.current: …".into());
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.code(), "tenant_misconfigured");
        assert_eq!(
            error.public_message(),
            "this tenant is not fully configured"
        );
        let weak = AppError::CallbackAuth(CallbackAuthError::NotConfigured);
        assert_eq!(weak.code(), "tenant_misconfigured");
    }

    #[test]
    fn authentication_failures_do_not_say_which_check_failed() {
        for error in [
            AppError::LeverSignature(SignatureError::Mismatch),
            AppError::LeverSignature(SignatureError::Missing),
            AppError::CallbackAuth(CallbackAuthError::Mismatch),
        ] {
            assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(error.public_message(), "authentication failed");
        }
        let stale = AppError::LeverSignature(SignatureError::Stale);
        assert_eq!(
            stale.public_message(),
            "triggeredAt is outside the accepted window"
        );
    }

    #[test]
    fn client_errors_explain_themselves_and_are_never_retried() {
        let error = AppError::BadRequest("malformed webhook JSON".into());
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            error.public_message(),
            "bad request: malformed webhook JSON"
        );
        assert_eq!(error.retry(), Retry::Never);
    }
}
