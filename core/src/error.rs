//! The one error type the flows return. [`crate::http`] turns it into a status code and a
//! JSON body in one place; the `Display` text is safe to log (no secrets, no PII).

use crate::callback_auth::CallbackAuthError;
use crate::lever::webhook::SignatureError;
use crate::lever::LeverError;
use crate::secrets::SecretsError;
use crate::store::StoreError;
use crate::vendors::VendorError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed JSON, missing fields, a bad path parameter.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("unsupported content type: expected application/json")]
    UnsupportedMediaType,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Unknown tenant or vendor, or an order this tenant does not have.
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("lever signature rejected: {0}")]
    LeverSignature(#[from] SignatureError),
    #[error("callback authentication failed: {0}")]
    CallbackAuth(#[from] CallbackAuthError),
    /// Well-formed, but a value we cannot act on (e.g. a status word the vendor never uses).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// The same delivery is being processed by another invocation; the sender retries.
    #[error("this delivery is already being processed")]
    InProgress,
    /// The tenant's secret lacks what this request needs: an operator has to fix it.
    #[error("tenant misconfigured: {0}")]
    Misconfigured(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Lever(#[from] LeverError),
    #[error(transparent)]
    Vendor(#[from] VendorError),
}
