//! Screening vendors behind one interface. Each vendor's wire format lives in its own
//! module; adding a vendor means one module here and one arm in [`adapter`].

pub mod esr;
pub mod hrlogics;
pub mod justifacts;
pub mod packages;
pub mod sterling;
pub mod xref;

use crate::model::{Order, Package, VendorId, VendorResults};
use crate::retry::send_with_retry;
use crate::retry::RetryPolicy;
use crate::secrets::VendorSecrets;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("vendor credential `{0}` is not configured for this tenant")]
    MissingCredential(&'static str),
    /// The vendor refused the request (4xx): retrying the same request will not help.
    #[error("vendor refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// Timeouts, 429 or 5xx that outlasted the retry bound.
    #[error("vendor unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected vendor payload: {0}")]
    Decode(String),
}

impl VendorError {
    /// Worth retrying later from the outbox (as opposed to a request that is wrong).
    pub fn is_transient(&self) -> bool {
        matches!(self, VendorError::Unavailable(_))
    }
}

/// What the vendor needs to start a screening. Borrowed from the Lever opportunity at
/// order time; never stored.
#[derive(Debug, Clone)]
pub struct CandidateOrder<'a> {
    /// Our order id: the client reference and idempotency key.
    pub order_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    /// The posting's title.
    pub role: Option<&'a str>,
    /// The posting's location, else the opportunity's.
    pub location: Option<&'a str>,
    /// The screening package, for vendors that sell packages.
    pub package: Option<&'a Package>,
    /// Where the vendor posts status updates for this tenant.
    pub callback_url: &'a str,
}

/// The vendor's answer to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub vendor_order_id: String,
    pub status: String,
    pub results: VendorResults,
}

/// What a callback (or a re-read of the vendor's API) says about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub vendor_order_id: String,
    /// Our order id, echoed by vendors that take a client reference.
    pub client_reference: Option<String>,
    pub status: String,
    pub results: VendorResults,
}

/// Where a status sits in the vendor's order of statuses. Orders never move to a lower
/// rank; a terminal status closes the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    pub rank: u32,
    pub terminal: bool,
    /// Another status of the same rank replaces this one (a result the vendor may
    /// re-evaluate, like WOTC eligibility) instead of being refused as a repeat.
    pub replaceable: bool,
}

impl StatusInfo {
    /// A status the order moves on from.
    pub const fn step(rank: u32) -> Self {
        StatusInfo {
            rank,
            terminal: false,
            replaceable: false,
        }
    }

    /// A status that ends the order.
    pub const fn last(rank: u32) -> Self {
        StatusInfo {
            rank,
            terminal: true,
            replaceable: false,
        }
    }
}

/// Which Lever webhook orders from a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A move into the tenant's trigger stage for the vendor.
    StageChange,
    /// Every new application (HRLogics' WOTC screening).
    ApplicationCreated,
}

/// One thing an order shows in Lever. [`crate::flows::lever_sync`] writes each once, by
/// `key()`, and rewrites it only when its content changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeverWrite {
    /// The vendor's one status tag: its other status tags are removed, then this is added.
    Tag { add: String, remove: Vec<String> },
    /// A note. A new `key` adds a note; the same key with new text updates that note in
    /// place (Lever lets an integration update the notes it created).
    Note {
        key: String,
        text: String,
        secret: bool,
    },
}

impl LeverWrite {
    /// Tags share one key per vendor: a new status tag replaces the last one.
    pub fn key(&self) -> &str {
        match self {
            LeverWrite::Tag { .. } => "tag",
            LeverWrite::Note { key, .. } => key,
        }
    }

    /// What identifies the content written: the tag or the note text.
    pub fn content(&self) -> &str {
        match self {
            LeverWrite::Tag { add, .. } => add,
            LeverWrite::Note { text, .. } => text,
        }
    }
}

/// How a vendor's callbacks prove where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAuth {
    /// Standard Webhooks signature headers with the tenant's callback secret.
    StandardWebhooks,
    /// Unsigned: the callback URL carries the tenant's callback secret, and the callback
    /// is only a hint to re-read the order from the vendor's API.
    UrlSecret,
}

impl CandidateOrder<'_> {
    /// The package, for vendors that need one (the flow has chosen it already).
    pub fn required_package(&self) -> Result<&Package, VendorError> {
        self.package
            .ok_or(VendorError::MissingCredential("package"))
    }
}

/// A credential from the tenant's vendor secrets, or an error naming the missing field.
pub(crate) fn required<'a>(
    value: &'a Option<secrecy::SecretString>,
    name: &'static str,
) -> Result<&'a secrecy::SecretString, VendorError> {
    value.as_ref().ok_or(VendorError::MissingCredential(name))
}

/// How a vendor's API authenticates us.
pub(crate) enum Credentials<'a> {
    Basic {
        user: &'a secrecy::SecretString,
        password: &'a secrecy::SecretString,
    },
    Bearer(&'a secrecy::SecretString),
    Header {
        name: &'static str,
        key: &'a secrecy::SecretString,
    },
}

impl Credentials<'_> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        use secrecy::ExposeSecret;
        match self {
            Credentials::Basic { user, password } => {
                request.basic_auth(user.expose_secret(), Some(password.expose_secret()))
            }
            Credentials::Bearer(token) => request.bearer_auth(token.expose_secret()),
            Credentials::Header { name, key } => request.header(*name, key.expose_secret()),
        }
    }
}

/// Connection details for one tenant's account with a vendor.
pub struct VendorAccount<'a> {
    pub http: &'a reqwest::Client,
    pub retry: &'a RetryPolicy,
    pub base_url: &'a str,
    pub secrets: &'a VendorSecrets,
}

#[async_trait]
pub trait VendorAdapter: Send + Sync {
    fn vendor(&self) -> VendorId;

    /// Vendors that sell packages need one per order (from a tag, or the tenant default).
    fn needs_package(&self) -> bool {
        false
    }

    fn trigger(&self) -> Trigger {
        Trigger::StageChange
    }

    /// The Lever note when an order cannot be placed: what is wrong and how a recruiter
    /// gets it placed once they fixed it.
    fn not_ordered_note(&self, problem: &str) -> String {
        format!(
            "{} was not ordered: {problem}. Fix this in Lever, then move the candidate into \
             the trigger stage again to order it.",
            self.vendor().service_name()
        )
    }

    /// Places the order; a retry with the same `order_id` returns the same vendor order.
    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError>;

    fn callback_auth(&self) -> CallbackAuth {
        CallbackAuth::StandardWebhooks
    }

    /// Reads a callback body (already authenticated).
    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError>;

    /// What to apply for a callback. Vendors whose callbacks cannot be authenticated
    /// re-read the order from their API here; the rest trust the authenticated callback.
    async fn confirm(
        &self,
        _account: &VendorAccount<'_>,
        update: StatusUpdate,
    ) -> Result<StatusUpdate, VendorError> {
        Ok(update)
    }

    /// `None` for a status word this vendor does not use.
    fn status_info(&self, status: &str) -> Option<StatusInfo>;

    /// Everything the order should show in Lever now, from its stored state.
    fn lever_view(&self, order: &Order) -> Vec<LeverWrite>;
}

/// The adapter for a vendor.
pub fn adapter(vendor: VendorId) -> &'static dyn VendorAdapter {
    match vendor {
        VendorId::Xref => &xref::Xref,
        VendorId::Sterling => &sterling::Sterling,
        VendorId::Justifacts => &justifacts::Justifacts,
        VendorId::HrLogics => &hrlogics::HrLogics,
        VendorId::Esr => &esr::Esr,
    }
}

impl VendorAccount<'_> {
    /// POSTs `body` to `{base}/{path}` with our order id as the idempotency key (so a
    /// retried create returns the same vendor order), within the retry bounds, and decodes
    /// the vendor's answer.
    pub(crate) async fn create<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        credentials: Credentials<'_>,
        idempotency_key: &str,
        body: &(impl serde::Serialize + Sync),
    ) -> Result<T, VendorError> {
        let url = format!("{}/{path}", self.base_url.trim_end_matches('/'));
        let sent = send_with_retry(self.retry, || {
            credentials
                .apply(self.http.post(&url))
                .header("Idempotency-Key", idempotency_key)
                .json(body)
        })
        .await;
        decode_response(sent).await
    }
}

/// Vendors want given and family names; Lever has one name field.
pub(crate) fn split_name(name: &str) -> (&str, &str) {
    match name.trim().rsplit_once(char::is_whitespace) {
        Some((given, family)) => (given.trim(), family.trim()),
        None => (name.trim(), name.trim()),
    }
}

/// Turns an outbound response into the vendor's JSON, or a [`VendorError`].
pub(crate) async fn decode_response<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, crate::retry::SendError>,
) -> Result<T, VendorError> {
    let response = sent.map_err(|e| VendorError::Unavailable(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let message: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        return Err(VendorError::Rejected {
            status: status.as_u16(),
            message,
        });
    }
    response
        .json()
        .await
        .map_err(|e| VendorError::Decode(e.to_string()))
}
